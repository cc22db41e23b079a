#!/bin/bash
# wr-ledger verify: clean ledger exit 0; each class of bad input named by
# its line (and field) with exit 1; invariants; torn tail; --json; a
# missing or unsafe ledger is an error (74).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-ledger.sh"

L=$WR_LEDGER

test_expect_success 'a good ledger verifies clean' '
	good_ledger >"$L" &&
	wr-ledger verify >out 2>err &&
	test_grep "^$L: 9 events, last seq 9, 0 stale, 0 problems$" out &&
	test_must_fail test -s err
'

test_expect_success 'clean with --json: one summary object, ok true' '
	wr-ledger --json verify >out &&
	jq -e -s "length == 1 and .[0].ok == true and .[0].events == 9 and .[0].problems == 0 and .[0].last_seq == 9" out
'

# The crafted ledger: each line below is one class of bad input.
craft() {
	created 1 "$R1"                                                   # 1
	started 2 "$R1" 1                                                 # 2
	printf '{"v":1,"seq":3,"ts":\n'                                   # 3 invalid JSON
	printf '{"v":1,"seq":3,"ts":"%s","type":"x","by":"a/1","run":"r\377"}\n' "$TS" # 4 invalid UTF-8
	printf '{"v":1,"seq":3,"seq":3,"ts":"%s","type":"x","by":"a/1"}\n' "$TS"        # 5 duplicate key
	ev '"3"' attempt.heartbeat "\"run\":\"$R1\",\"attempt\":1,\"lease_until\":\"$TS2\""  # 6 seq a string
	ev 3 attempt.heartbeat "\"run\":\"$R1\",\"attempt\":-1,\"lease_until\":\"$TS2\""     # 7 negative attempt
	EVTS=yesterday heartbeat 3 "$R1" 1                                # 8 ts not RFC 3339
	ev 3 run.created "\"run\":\"$R2\",\"workflow\":\"w\",\"argv\":[\"make\",1],\"cwd\":\"/\",\"policy\":{}" # 9 argv
	finished 3 "$R1" 1 boom                                           # 10 bad enum
	ev 99999999999999999999 attempt.heartbeat "\"run\":\"$R1\""       # 11 beyond int64
	ev 3 x.deep "\"d\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]"     # 12 nesting 21
	ev 3 x.nul "\"s\":\"a\\u0000b\""                                  # 13 \u0000
	printf '\n'                                                       # 14 empty line
	heartbeat 3 "$R1" 1 | sed "s/\$/$(printf '\r')/"                   # 15 CRLF
	printf '{"v":1,"seq":3,"big":"%s\n' "$(letters 2097152)"          # 16 2 MB, unterminated
	heartbeat 3 "$R1" 1                                               # 17 fine
	ev 4 x.big "\"big\":\"$(letters 2097152)\""                       # 18 2 MB, valid
	heartbeat 6 "$R1" 1                                               # 19 seq gap
	heartbeat 6 "$R1" 1                                               # 20 seq repeat
	started 7 "$R1" 1                                                 # 21 started twice
	finished 8 "$R1" 3 error                                          # 22 finish without start
	created 9 "$R3"                                                   # 23
	started 10 "$R3" 2                                                # 24 attempt skips 1
	ev 11 run.unblocked "\"run\":\"$R1\""                             # 25 unblock, not blocked
	ev 12 run.blocked "\"run\":\"$R1\",\"batch\":[1,2]"               # 26 batch cut short
	heartbeat 13 "$R1" 1                                              # 27
}

test_expect_success 'a crafted ledger: exit 1' '
	craft >"$L" &&
	test_expect_code 1 wr-ledger verify >out 2>err
'

# expect LINE FIELD-OR-- TEXT: the human output names the line, the JSON
# output the line and the field.
expect() {
	test_grep "^$L:$1:[0-9]+: .*$3" out &&
	if [ "$2" = - ]; then
		jq -e -s --argjson l "$1" "map(select(.line == \$l)) | length >= 1" json >/dev/null
	else
		jq -e -s --argjson l "$1" --arg f "$2" "map(select(.line == \$l and .field == \$f)) | length >= 1" json >/dev/null ||
		{ echo "no JSON problem on line $1 naming field $2" >&2; return 1; }
	fi
}

test_expect_success 'verify --json of the crafted ledger parses, exit 1' '
	test_expect_code 1 wr-ledger --json verify >json &&
	jq -e -s "length > 1" json >/dev/null &&
	jq -e -s "last | .ok == false and .problems >= 20" json >/dev/null &&
	jq -e -s "map(select(.line)) | all(.file and .column >= 1 and .message and .kind)" json >/dev/null
'

test_expect_success 'invalid JSON: line 3' 'expect 3 - "invalid JSON"'
test_expect_success 'invalid UTF-8: line 4, its column' '
	expect 4 - "invalid JSON" && test_grep "^$L:4:7[0-9]: " out
'
test_expect_success 'duplicate key: line 5, names the key' 'expect 5 - "duplicate.*seq"'
test_expect_success 'seq a string: line 6, field seq' 'expect 6 seq "field \"seq\": expected an integer"'
test_expect_success 'negative attempt: line 7, field attempt' 'expect 7 attempt "field \"attempt\": must be 1 or more"'
test_expect_success 'ts not RFC 3339: line 8, field ts' 'expect 8 ts "field \"ts\": expected an RFC 3339 timestamp"'
test_expect_success 'argv not strings: line 9, field argv' 'expect 9 argv "field \"argv\": expected an array of strings"'
test_expect_success 'bad enum value: line 10, field outcome' 'expect 10 outcome "field \"outcome\": unknown value"'
test_expect_success 'integer beyond int64: line 11, field seq' 'expect 11 seq "field \"seq\": expected an integer"'
test_expect_success 'nesting deeper than 16: line 12' 'expect 12 - "nesting deeper than 16"'
test_expect_success '\u0000: line 13' 'expect 13 - "invalid JSON"'
test_expect_success 'empty line: line 14' 'expect 14 - "empty line"'
test_expect_success 'CRLF: line 15' 'expect 15 - "CRLF"'
test_expect_success 'a 2 MB invalid line: line 16' 'expect 16 - "invalid JSON"'
test_expect_success 'good lines after it are read: 17 and the 2 MB line 18 are not problems' '
	test_must_fail grep -E "^$L:1[78]:" out
'
test_expect_success 'seq gap: line 19' 'expect 19 seq "seq gap: expected 5, found 6"'
test_expect_success 'seq repeat: line 20' 'expect 20 seq "seq 6 repeats"'
test_expect_success 'attempt started twice: line 21' 'expect 21 - "attempt started twice"'
test_expect_success 'finish without start: line 22' 'expect 22 - "never started"'
test_expect_success 'attempt numbers increase by one: line 24' 'expect 24 - "increase by one"'
test_expect_success 'invalid status transition: line 25' 'expect 25 - "not blocked"'
test_expect_success 'incomplete decision: line 26' 'expect 26 batch "incomplete decision"'
test_expect_success 'no other line is a problem' '
	{ sed -n "s|^$L:\([0-9]*\):.*|\1|p" out | sort -n | uniq | tr "\n" " "; echo; } >lines &&
	echo "3 4 5 6 7 8 9 10 11 12 13 14 15 16 19 20 21 22 24 25 26 " >expect.lines &&
	test_cmp expect.lines lines
'
test_expect_success 'the summary counts what was read' '
	test_grep "^$L: [0-9]+ events, last seq 13, 0 stale, 21 problems$" out
'
test_expect_success 'verify writes nothing' '
	cp "$L" before &&
	test_expect_code 1 wr-ledger verify >/dev/null &&
	cmp before "$L" &&
	test_must_fail test -e "$L.quarantine"
'

test_expect_success 'a torn tail is reported with its line, exit 1' '
	good_ledger >"$L" &&
	heartbeat 10 "$R2" 1 | head -c 40 >>"$L" &&
	test_expect_code 1 wr-ledger verify >out &&
	test_grep "^$L:10:1: torn tail: 40 bytes at offset [0-9]+ .*wr-ledger repair" out &&
	test_expect_code 1 wr-ledger --json verify >json &&
	jq -e -s "map(select(.kind == \"torn\" and .line == 10)) | length == 1" json >/dev/null
'

test_expect_success 'a decision missing its last event is a torn tail too' '
	good_ledger >"$L" &&
	ev 10 run.blocked "\"run\":\"$R2\",\"batch\":[1,2]" >>"$L" &&
	test_expect_code 1 wr-ledger verify >out &&
	test_grep "^$L:10:1: torn tail" out
'

test_expect_success 'a missing ledger is an error: 74, naming the file' '
	test_expect_code 74 wr-ledger --ledger "$TRASH/none.jsonl" verify >out 2>err &&
	test_grep "^wr-ledger: no ledger at $TRASH/none.jsonl \(path from --ledger\); check --ledger, WR_LEDGER and XDG_STATE_HOME" err
'

test_expect_success 'WR_LEDGER and --ledger choose the file' '
	good_ledger >other.jsonl &&
	WR_LEDGER="$TRASH/none.jsonl" wr-ledger --ledger other.jsonl verify >out &&
	test_grep "^$TRASH/other.jsonl: 9 events" out &&
	WR_LEDGER=other.jsonl wr-ledger verify >out &&
	test_grep "^$TRASH/other.jsonl: 9 events" out
'

test_expect_success 'the default is under XDG_STATE_HOME' '
	mkdir -p "$XDG_STATE_HOME/wr" &&
	good_ledger >"$XDG_STATE_HOME/wr/ledger.jsonl" &&
	(unset WR_LEDGER && wr-ledger verify >out) &&
	test_grep "^$XDG_STATE_HOME/wr/ledger.jsonl: 9 events" out
'

test_expect_success 'a group-writable ledger is refused: 74, saying how to fix it' '
	good_ledger >"$L" && chmod 664 "$L" &&
	test_expect_code 74 wr-ledger verify >out 2>err &&
	test_grep "^wr-ledger: refusing ledger $L: writable by group or others \(mode 0664\); fix it with: chmod go-w $L$" err &&
	chmod 600 "$L"
'

test_expect_success ROOT 'root verifies a ledger of another user; repairing it is refused' '
	good_ledger >"$L" && chown 65534 "$L" &&
	wr-ledger verify >out 2>err &&
	test_grep " 0 problems" out &&
	test_expect_code 74 wr-ledger repair >out 2>err &&
	test_grep "refusing ledger $L: owned by uid 65534" err &&
	chown 0 "$L"
'

test_done
