#!/usr/bin/env bash
# hostile.sh - every tool over a ledger full of bad lines (issue 7, hostile
# input). The corpus (tests/reliability/corpus/NNN-name.CLASS, one line each,
# without its '\n') is interleaved with valid events; @SEQ@ becomes the next
# seq, @REPEAT@ the last one, @GAP@ a jump. Classes:
#   .bad    not a valid event: every tool names its line number
#   .named  a valid line that breaks an order or invariant: verify names it
#   .ok     valid (unknown types and fields are kept): nobody complains
# A 10 MB line and a line beyond the 16 MiB limit are made here. Every tool
# must not crash (no 126/127/129+, no sanitizer report), must name the bad
# lines, and may only append to the file.
. "$(dirname "$0")/lib.sh"

CORPUS=$WR_SRC/tests/reliability/corpus
TS=2026-11-20T22:31:05.123Z

# Builds $WR_LEDGER and bad.lines ("LINE NAME" of .bad lines) and
# named.lines (.bad and .named).
build_ledger() {
	local seq=1 line=1 f name cls out=$WR_LEDGER
	: >bad.lines
	: >named.lines
	printf '{"v":1,"seq":1,"ts":"%s","type":"run.created","by":"t/1","run":"rr","workflow":"wf","argv":["true"],"cwd":"/","policy":{"max_attempts":1}}\n' "$TS" >"$out"
	for f in "$CORPUS"/*.*; do
		name=$(basename "$f")
		cls=${name##*.}
		seq=$((seq + 1))
		line=$((line + 1))
		printf '{"v":1,"seq":%d,"ts":"%s","type":"outbox.enqueued","by":"t/1","id":"ok-%d","kind":"custom","message":"valid"}\n' $seq "$TS" $seq >>"$out"
		line=$((line + 1))
		case $cls in
		bad) LC_ALL=C sed -e "s/@SEQ@/$((seq + 1))/g" "$f" >>"$out"
			echo "$line $name" >>bad.lines
			echo "$line $name" >>named.lines ;;
		named|ok)
			case $(cat "$f") in
			*@REPEAT@*) LC_ALL=C sed -e "s/@REPEAT@/$seq/g" "$f" >>"$out" ;;
			*@GAP@*) seq=$((seq + 6)); LC_ALL=C sed -e "s/@GAP@/$seq/g" "$f" >>"$out" ;;
			*@SEQ@*) seq=$((seq + 1)); LC_ALL=C sed -e "s/@SEQ@/$seq/g" "$f" >>"$out" ;;
			*) cat "$f" >>"$out" ;;
			esac
			[ "$cls" = ok ] || echo "$line $name" >>named.lines ;;
		esac
		printf '\n' >>"$out"
	done
	# A 10 MB line (a string never closed) and one beyond WR_LINE_MAX.
	line=$((line + 1))
	{ printf '{"v":1,"seq":%d,"message":"' $((seq + 1)); head -c 10485760 /dev/zero | tr '\0' 'A'; printf '\n'; } >>"$out"
	echo "$line 10MB-line" >>bad.lines
	echo "$line 10MB-line" >>named.lines
	line=$((line + 1))
	{ printf '{"v":1,"seq":%d,"message":"' $((seq + 1)); head -c 17825792 /dev/zero | tr '\0' 'B'; printf '"}\n'; } >>"$out"
	echo "$line 17MB-line" >>bad.lines
	echo "$line 17MB-line" >>named.lines
	seq=$((seq + 1))
	printf '{"v":1,"seq":%d,"ts":"%s","type":"outbox.enqueued","by":"t/1","id":"ok-last","kind":"custom","message":"valid"}\n' $seq "$TS" >>"$out"
	cp "$out" orig.jsonl
}

# names_lines LIST FILE...: every line number of LIST is named in one of
# the files, as "PATH:LINE:COLUMN" or as "line":LINE in JSON.
names_lines() {
	local l name missing=0 list=$1
	shift
	while read -r l name; do
		cat "$@" | grep -E -q ":$l:|\"line\":$l[,}]" || { echo "line $l ($name) not named by the tool" >&2; missing=1; }
	done <"$list"
	return $missing
}

# only_appended: the ledger still begins with every byte of orig.jsonl.
only_appended() {
	cmp -n "$(stat -c %s orig.jsonl)" orig.jsonl "$WR_LEDGER" || { echo "the ledger's prefix changed" >&2; return 1; }
}

# run_tool NAMES-LIST CMD...: runs a tool over the hostile ledger (without
# the snapshot an earlier tool left, so that it reads every line).
run_tool() {
	local list=$1 rc
	shift
	[ -n "${KEEP_SNAPSHOT:-}" ] || rm -f "$WR_LEDGER.snapshot"
	timeout -s KILL 60 "$@" >tool.out 2>tool.err </dev/null
	rc=$?
	echo "exit $rc: $*"
	not_crashed $rc tool.err &&
	{ [ "$list" = - ] || names_lines "$list" tool.err tool.out; } &&
	only_appended
}

test_expect_success "a ledger of $(ls "$CORPUS" | wc -l) corpus lines and two huge ones" '
	build_ledger &&
	test "$(wc -l <bad.lines)" -ge 60
'

test_expect_success 'wr-ledger verify names every bad line and every broken order' '
	test_expect_code 1 wr-ledger verify >verify.out 2>verify.err &&
	not_crashed 1 verify.err &&
	names_lines named.lines verify.out &&
	only_appended
'

test_expect_success 'forward-compatible lines are not reported' '
	sed -n "s/^\([0-9]*\) .*/\1/p" named.lines >named.nums &&
	grep -o ":[0-9]*:" verify.out | tr -d : | sort -un >reported.nums &&
	for f in "$CORPUS"/*.ok; do
		n=$(basename "$f") &&
		l=$(( $(ls "$CORPUS" | grep -n -x "$n" | cut -d: -f1) * 2 + 1 )) &&
		{ ! grep -x -q "$l" reported.nums || { echo "$n (line $l) reported" >&2; false; }; } || return 1
	done
'

test_expect_success 'wr-ledger verify --json, stats, repair' '
	run_tool named.lines wr-ledger --json verify &&
	run_tool - wr-ledger stats &&
	run_tool - wr-ledger --json stats &&
	jq -e ".bad_lines >= 60" tool.out &&
	run_tool - wr-ledger repair
'

test_expect_success 'wr-watch status, show, stats, check' '
	run_tool bad.lines wr-watch &&
	run_tool bad.lines wr-watch --all &&
	run_tool bad.lines wr-watch --json status --all &&
	run_tool bad.lines wr-watch show rr &&
	run_tool bad.lines wr-watch stats &&
	run_tool bad.lines wr-watch check
'

test_expect_success 'wr-outbox list, add, deliver' '
	run_tool bad.lines wr-outbox list --all &&
	run_tool bad.lines wr-outbox --json list --all &&
	run_tool bad.lines wr-outbox add --kind custom --message hostile &&
	run_tool bad.lines wr-outbox deliver -- true
'

test_expect_success 'wr-recover --dry-run and a pass' '
	run_tool bad.lines wr-recover --dry-run &&
	run_tool bad.lines wr-recover
'

test_expect_success 'wr-run records a new run after the hostile lines' '
	run_tool bad.lines wr-run -- true &&
	run_tool bad.lines wr-run --run rr -- true
'

test_expect_success 'with the snapshot the tools left: no crash, only appends' '
	KEEP_SNAPSHOT=1 run_tool - wr-ledger stats &&
	KEEP_SNAPSHOT=1 run_tool named.lines wr-ledger verify &&
	KEEP_SNAPSHOT=1 run_tool - wr-watch --all &&
	KEEP_SNAPSHOT=1 run_tool - wr-outbox list --all
'

test_expect_success 'after every tool: the prefix is intact, nothing was quarantined' '
	only_appended &&
	test ! -e "$WR_LEDGER.quarantine"
'

test_done
