#!/bin/bash
# wr-outbox follow: new entries and state changes as they happen, through a
# replaced ledger file, quiet on a closed pipe.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/outbox/lib-outbox.sh"

# probe_until FILE PATTERN: adds probe entries until FILE shows PATTERN
# (follow only prints what comes after it started).
probe_until() {
	local i=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 200 ] || { echo "probe_until: no '$2' in $1" >&2; return 1; }
		wr-outbox add --kind custom --message probe >/dev/null || return 1
		sleep 0.1
	done
}

has_line() { grep -q -- "$2" "$1" 2>/dev/null; }

test_expect_success 'setup: an entry from before' '
	wr-outbox add --kind stuck --message "from before" >old
'

test_expect_success 'follow --json prints new entries and their state changes' '
	{ wr-outbox follow --json >f.json 2>f.err & } &&
	echo $! >follow.pid &&
	probe_until f.json "\"message\":\"probe\"" &&
	wr-outbox add --kind timeout --message "watched" >id &&
	wait_for has_line f.json "$(cat id)" &&
	wr-outbox deliver --max-attempts 3 -- true >/dev/null &&
	wait_for has_line f.json "\"event\":\"outbox.delivered\",.*\"seq\":$(jq -s "map(.seq) | max" "$(test_ledger)")" &&
	jq -c --arg id "$(cat id)" "select(.id == \$id) | [.event, .state]" f.json >events &&
	printf "%s\n" "[\"outbox.enqueued\",\"pending\"]" "[\"outbox.claimed\",\"claimed\"]" \
		"[\"outbox.delivered\",\"delivered\"]" >expect &&
	test_cmp expect events &&
	jq -c --arg id "$(cat old)" "select(.id == \$id) | .event" f.json >old.events &&
	printf "%s\n" "\"outbox.claimed\"" "\"outbox.delivered\"" >expect &&
	test_cmp expect old.events &&
	test ! -s f.err
'

test_expect_success 'follow goes on after the ledger file is replaced' '
	cp -p "$(test_ledger)" new.jsonl &&
	mv new.jsonl ledger.jsonl &&
	wr-outbox add --kind lost --message "after the move" >id2 &&
	wait_for has_line f.json "$(cat id2)" &&
	jq -c --arg id "$(cat id)" "select(.id == \$id and .event == \"outbox.enqueued\")" f.json >again &&
	test $(wc -l <again) -eq 1 &&
	kill "$(cat follow.pid)"
'

test_expect_success 'follow prints human lines and --format workrail' '
	{ wr-outbox follow >f.txt & } && echo $! >h.pid &&
	{ wr-outbox follow --format workrail >f.wr & } && echo $! >w.pid &&
	probe_until f.txt "enqueued" &&
	probe_until f.wr "probe" &&
	wr-outbox add --kind escalated --workflow deploy --message "$(printf "two\nlines")" >id3 &&
	wait_for has_line f.txt "escalated deploy: two?lines" &&
	wait_for has_line f.wr "$(cat id3)" &&
	jq -c --arg id "$(cat id3)" "select(.id == \$id)" f.wr >sel &&
	jq -e ".kind == \"escalated\" and .workflowId == \"deploy\" and .message == \"two\nlines\" and (.timestamp | test(\"Z$\"))" sel &&
	kill "$(cat h.pid)" "$(cat w.pid)"
'

test_expect_success 'SIGINT and SIGTERM end follow with 0, as they end wr-watch follow' '
	{ wr-outbox follow >fi.txt 2>fi.err & } && pid=$! &&
	probe_until fi.txt "enqueued" &&
	kill -INT $pid &&
	test_expect_code 0 test_wait_pid $pid &&
	{ wr-outbox follow --json >ft.json 2>ft.err & } && pid=$! &&
	probe_until ft.json "probe" &&
	kill -TERM $pid &&
	test_expect_code 0 test_wait_pid $pid &&
	test ! -s fi.err && test ! -s ft.err
'

test_expect_success 'follow dies quietly when its reader goes away' '
	{ { wr-outbox follow 2>fp.err; echo $? >fp.rc; } | head -n 1 >head.out & } &&
	i=0 && while [ ! -s fp.rc ]; do
		i=$((i + 1)) && test $i -le 200 &&
		wr-outbox add --kind custom --message probe >/dev/null && sleep 0.1 || exit 1
	done &&
	test_grep probe head.out &&
	test "$(cat fp.rc)" = 141 &&
	test ! -s fp.err
'

# (A missing file; a stream not made yet is tests/nats's.)
test_expect_success 'a missing ledger is waited for, as wr-watch follow waits' '
	{ wr-outbox follow --json --ledger sub/later.jsonl >later 2>later.err & } &&
	pid=$! && echo $pid >later.pid &&
	test_wait_until eval "ls -l /proc/$pid/fd 2>/dev/null | grep -q inotify" &&
	kill -0 $pid &&
	mkdir -p sub &&
	wr-outbox add --ledger sub/later.jsonl --kind custom --message "first" >id4 &&
	wait_for has_line later "$(cat id4)" &&
	kill $pid &&
	test_expect_code 0 test_wait_pid $pid &&
	test $(wc -l <later) -eq 1 &&
	test_grep "^wr-outbox: no ledger at $TRASH/sub/later.jsonl .*; waiting for it$" later.err &&
	test $(wc -l <later.err) -eq 1
'

test_expect_success 'the ledger is clean' '
	ledger_clean
'

for p in follow.pid h.pid w.pid later.pid; do
	[ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null
done
test_done
