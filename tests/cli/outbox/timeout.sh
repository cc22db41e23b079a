#!/bin/bash
# wr-outbox deliver: a notifier that hangs is timed out and its whole
# process group killed (TERM, then KILL after --kill-after).
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/outbox/lib-outbox.sh"

# A notifier that leaves a grandchild in its group and waits for it.
cat >hang.sh <<'SH'
#!/bin/sh
cat >/dev/null
sleep 1000 &
echo $! >grandchild.pid
echo $$ >leader.pid
wait
SH
# The same, deaf to SIGTERM (the grandchild inherits the ignored signal).
cat >deaf.sh <<'SH'
#!/bin/sh
trap '' TERM
cat >/dev/null
sleep 1000 &
echo $! >grandchild.pid
echo $$ >leader.pid
wait
SH
chmod +x hang.sh deaf.sh

test_expect_success 'a hanging notifier is timed out and its group killed' '
	wr-outbox add --kind timeout --message hangs >id &&
	test_expect_code 1 wr-outbox deliver --timeout 300ms -- ./hang.sh >out &&
	test_grep "^failed +[0-9a-f]{8} attempt 1: timed out after 300ms; process group killed" out &&
	entry_json "$(cat id)" &&
	jq -e ".state == \"pending\" and .attempts == 1 and (.error | test(\"timed out\"))" entry.json &&
	proc_gone "$(cat leader.pid)" &&
	wait_for proc_gone "$(cat grandchild.pid)"
'

test_expect_success 'a notifier deaf to SIGTERM gets SIGKILL after the grace' '
	rm -f leader.pid grandchild.pid &&
	wr-outbox add --kind timeout --message deaf >id2 &&
	test_expect_code 1 wr-outbox deliver --timeout 200ms --kill-after 200ms --backoff 1h -- ./deaf.sh >out &&
	entry_json "$(cat id2)" &&
	jq -e ".state == \"pending\" and (.error | test(\"timed out after 200ms\"))" entry.json &&
	proc_gone "$(cat leader.pid)" &&
	wait_for proc_gone "$(cat grandchild.pid)"
'

test_expect_success 'SIGTERM to the deliverer stops the notifier and records the attempt' '
	rm -f leader.pid grandchild.pid &&
	wr-outbox ack "$(cat id)" && wr-outbox ack "$(cat id2)" &&
	wr-outbox add --kind custom --message interrupted >id3 &&
	{ wr-outbox deliver --timeout 1h -- ./hang.sh >out 2>err & } &&
	pid=$! &&
	wait_for test -s grandchild.pid &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc -eq 143 &&
	entry_json "$(cat id3)" &&
	jq -e ".state == \"pending\" and .attempts == 1 and (.error | test(\"interrupted by signal 15\"))" entry.json &&
	wait_for proc_gone "$(cat grandchild.pid)"
'

test_expect_success 'the ledger is clean' '
	ledger_clean
'

test_done
