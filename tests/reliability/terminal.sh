#!/usr/bin/env bash
# terminal.sh - data from the ledger never drives the terminal (issue 12,
# item 8). A ledger whose workflow, reason, note, labels, argv, host, stage,
# outbox message and error hold C1 control characters (U+0080..U+009F; U+009B
# is a CSI), as JSON escapes and as raw UTF-8, plus C0 characters and a bad
# line with raw escape bytes: the human output of every tool, on a pipe and
# on a terminal (script(1)), holds no raw C0 (but newline), DEL or C1 byte.
# The one rule (core/sanitize.h) shows each such character as '?'.
. "$(dirname "$0")/lib.sh"

T=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
J='\u009b31m\u0085\u0090x\u009f\u001b[2J\u007f'   # JSON escapes: CSI, NEL, DCS, APC, ESC, DEL
R=$(printf '\302\233\302\200\302\237')           # raw UTF-8 of U+009B U+0080 U+009F
RUN=run-aaaa0001 RUN2=run-bbbb0002

# raw_control FILE: FILE holds a C1 character (bytes C2 80..C2 9F), a C0
# control other than newline and carriage return (script(1) adds those), or DEL.
raw_control() {
	LC_ALL=C grep -q -P '\xc2[\x80-\x9f]|[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]' "$1"
}

# clean FILE...: fails, showing the line, when any FILE holds a raw control.
clean() {
	local f
	for f in "$@"; do
		if raw_control "$f"; then
			echo "raw control character in $f:" >&2
			cat -v "$f" >&2
			return 1
		fi
	done
}

build_ledger() {
	cat >"$WR_LEDGER" <<LEDGER
{"v":1,"seq":1,"ts":"$T","type":"run.created","by":"t/1","run":"$RUN","workflow":"wf$J$R","argv":["job$J","--x$R"],"cwd":"/tmp/$J","labels":{"team$J":"ops$R"},"policy":{"max_attempts":2}}
{"v":1,"seq":2,"ts":"$T","type":"attempt.started","by":"t/1","run":"$RUN","attempt":1,"host":"h$J$R","pid":999999,"lease_until":"$T"}
{"v":1,"seq":3,"ts":"$T","type":"attempt.progress","by":"t/1","run":"$RUN","attempt":1,"stage":"st$J","status":"done","detail":"d$R"}
{"v":1,"seq":4,"ts":"$T","type":"attempt.finished","by":"t/1","run":"$RUN","attempt":1,"outcome":"error","exit_code":3,"duration_ms":5,"reason":"why$J$R"}
{"v":1,"seq":5,"ts":"$T","type":"run.blocked","by":"t/1","run":"$RUN","reason":"blocked$J$R","note":"note$J"}
{"v":1,"seq":6,"ts":"$T","type":"outbox.enqueued","by":"t/1","workflow":"wf$J$R","id":"ob-0001","kind":"custom","message":"msg$J$R","reason":"r$J"}
{"v":1,"seq":7,"ts":"$T","type":"outbox.claimed","by":"t/1","id":"ob-0001","delivery":"d-1","lease_until":"$T"}
{"v":1,"seq":8,"ts":"$T","type":"outbox.failed","by":"t/1","id":"ob-0001","delivery":"d-1","error":"err$J$R","next_at":"$T"}
{"v":1,"seq":9,"ts":"$T","type":"x.unknown$J$R","by":"t/1"}
{"v":1,"seq":10,"ts":"$T","type":"run.created","by":"t/1","run":"$RUN2","workflow":"wf2$J","argv":["job"],"cwd":"/","policy":{"max_attempts":3}}
{"v":1,"seq":11,"ts":"$T","type":"attempt.started","by":"t/1","run":"$RUN2","attempt":1,"host":"h","pid":999999,"lease_until":"$T"}
{"v":1,"seq":12,"ts":"$T","type":"attempt.finished","by":"t/1","run":"$RUN2","attempt":1,"outcome":"error","exit_code":3,"duration_ms":5,"reason":"why2$J$R"}
LEDGER
	printf '{"v":1,"seq":13,"type":\033[2J\302\233""}\n' >>"$WR_LEDGER"
	chmod 0600 "$WR_LEDGER"
}

test_expect_success 'the ledger holds raw C1 bytes (the test is not vacuous)' '
	build_ledger &&
	LC_ALL=C grep -q -P "\\xc2\\x9b" "$WR_LEDGER" &&
	wr-watch --all --json >all.json &&
	jq -e ".workflow | test(\"\\u009b\")" all.json
'

test_expect_success 'pipes: wr-watch status, show, stats, check; wr-outbox list; wr-recover; wr-ledger' '
	wr-watch --all >status.out 2>status.err &&
	wr-watch show $RUN >show.out 2>show.err &&
	wr-watch stats >stats.out 2>stats.err &&
	wr-watch check --dry-run >check.out 2>check.err &&
	wr-outbox list --all >list.out 2>list.err &&
	wr-recover --dry-run >recover.out 2>recover.err &&
	test_expect_code 1 wr-ledger verify >verify.out 2>verify.err &&
	wr-ledger stats >lstats.out 2>lstats.err &&
	clean status.out status.err show.out show.err stats.out stats.err check.out check.err \
		list.out list.err recover.out recover.err verify.out verify.err lstats.out lstats.err &&
	test_grep "wf[?]31m" status.out &&
	test_grep "blocked[?]31m" show.out &&
	test_grep "h[?]31m" show.out &&
	test_grep "wf[?]31m" stats.out &&
	test_grep "msg[?]31m" list.out &&
	test_grep "wf2[?]31m" recover.out &&
	test_grep ":13:" verify.out
'

# probe_until OUT PATTERN: adds outbox entries until OUT shows PATTERN
# (wr-outbox follow prints only what comes after it started).
probe_until() {
	local i=0
	while ! grep -q -- "$2" "$1"; do
		i=$((i + 1))
		[ $i -le 300 ] || { echo "probe_until: no '$2' in $1" >&2; return 1; }
		wr-outbox add --kind custom --message probe >/dev/null || return 1
		sleep 0.1
	done
}

test_expect_success 'follow: wr-watch follow and wr-outbox follow' '
	{ wr-watch follow --from-start >wfollow.out 2>wfollow.err & echo $! >wfollow.pid; } &&
	{ wr-outbox follow >ofollow.out 2>ofollow.err & echo $! >ofollow.pid; } &&
	{ probe_until ofollow.out "probe" &&
	  wr-outbox add --kind custom --message "late$R" --workflow "wf$R" --reason "r$R" >/dev/null &&
	  test_wait_until grep -q "late" ofollow.out &&
	  test_wait_until grep -q "late" wfollow.out; rc=$?; } &&
	kill $(cat wfollow.pid) $(cat ofollow.pid) && [ $rc -eq 0 ] &&
	clean wfollow.out wfollow.err ofollow.out ofollow.err &&
	test_grep "x.unknown[?]31m" wfollow.out &&
	test_grep "late[?]" wfollow.out &&
	test_grep "wf[?][?][?]: late[?][?][?]" ofollow.out
'

# on_tty STATUS CMD: CMD on a terminal of 60 columns exits STATUS; its
# output is in tty.out.
on_tty() {
	local want=$1
	shift
	NO_COLOR=1 COLUMNS=60 test_expect_code "$want" script -qec "$*" /dev/null >tty.out 2>&1 </dev/null &&
	clean tty.out
}

test_expect_success 'a terminal (script(1)): the same tools, their tables cut to width' '
	on_tty 0 wr-watch --all &&
	on_tty 0 wr-watch show $RUN &&
	on_tty 0 wr-watch stats &&
	on_tty 0 wr-outbox list --all &&
	test_grep "msg[?]" tty.out &&
	on_tty 0 wr-recover --dry-run &&
	on_tty 1 wr-ledger verify &&
	on_tty 0 wr-ledger stats
'

test_expect_success 'a message on stderr keeps its lines, each made safe' '
	test_expect_code 2 wr-watch show "$(printf "x\302\233y")" 2>err &&
	clean err &&
	test_grep "x[?]y" err
'

test_done
