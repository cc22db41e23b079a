#!/bin/bash
# A deliverer SIGKILLed mid-delivery: its claim holds until the lease runs
# out, then another deliverer delivers the entry (at least once).
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/outbox/lib-outbox.sh"

# Hangs the first time it is given an entry (recording its pid, the leader
# of its process group), delivers normally afterwards.
cat >slow-once.sh <<'SH'
#!/bin/sh
if mkdir "hung-$WR_OUTBOX_ID" 2>/dev/null; then
	echo $$ >"hung-$WR_OUTBOX_ID/pid"
	exec sleep 1000
fi
cat >>delivered.jsonl
printf '%s\n' "$WR_OUTBOX_ID" >>ids
SH
chmod +x slow-once.sh

# crash ID LEASE: starts a deliverer, SIGKILLs it while the notifier hangs
# on entry ID, then kills the orphaned notifier.
crash() {
	wr-outbox deliver --lease "$2" -- ./slow-once.sh >/dev/null 2>crash.err &
	local pid=$!
	wait_for test -s "hung-$1/pid" || return 1
	kill -KILL $pid
	wait $pid
	kill -KILL -- "-$(cat "hung-$1/pid")"
	return 0
}

test_expect_success 'a claim whose lease has not run out is not taken' '
	wr-outbox add --kind lost --message "held" >held &&
	crash "$(cat held)" 1h &&
	entry_json "$(cat held)" &&
	jq -e ".state == \"claimed\" and .attempts == 1 and .lease_until != null" entry.json &&
	wr-outbox deliver -- ./slow-once.sh >out &&
	test ! -s out &&
	test "$(entry_get "$(cat held)" state)" = claimed &&
	wr-outbox ack "$(cat held)"
'

test_expect_success 'after the lease another deliverer delivers it' '
	wr-outbox add --kind lost --message "crashed" >id &&
	crash "$(cat id)" 500ms &&
	test_grep "lease is shorter" crash.err &&
	test "$(entry_get "$(cat id)" state)" = claimed &&
	deliver_until "$(cat id)" delivered -- ./slow-once.sh &&
	entry_json "$(cat id)" &&
	jq -e ".state == \"delivered\" and .attempts == 2" entry.json &&
	grep -c "^$(cat id)\$" ids >n &&
	test "$(cat n)" = 1 &&
	jq -e ".attempt == 2" delivered.jsonl
'

test_expect_success 'a vanished claim on the last attempt goes dead' '
	wr-outbox add --kind lost --message "last chance" >id3 &&
	crash "$(cat id3)" 200ms &&
	deliver_until "$(cat id3)" dead --max-attempts 1 -- ./slow-once.sh &&
	entry_json "$(cat id3)" &&
	jq -e ".state == \"dead\" and .attempts == 1 and (.error | test(\"vanished\"))" entry.json &&
	test_grep "went dead: the deliverer of its last attempt vanished" deliver.err
'

test_expect_success 'the ledger is clean' '
	ledger_clean
'

test_done
