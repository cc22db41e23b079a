#!/bin/bash
# race.sh - 20 concurrent passes over 50 lost runs: exactly one lost
# record and one decision per attempt, one successor per run, recoveries
# never above the max, a ledger that verifies clean. One workflow per run:
# 50 failures of one workflow would open its breaker, and all would wait.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/recover/lib-recover.sh"

test_expect_success 'setup: 50 runs whose attempts on host elsewhere lost their lease' '
	for i in $(seq -w 50); do
		created "run-$i" "wf-$i" "$(policy 3)" &&
		started "run-$i" 1 elsewhere $((1000 + 10#$i)) 1 "$PAST" || return 1
	done &&
	test $(wc -l <"$(test_ledger)") -eq 100
'

test_expect_success '20 concurrent passes' '
	pids= &&
	for i in $(seq 20); do
		wr-recover --json >out.$i 2>err.$i &
		pids="$pids $!"
	done &&
	for p in $pids; do
		wait $p || { echo "a pass exited $?" >&2; return 1; }
	done &&
	wait_launched &&
	cat err.* >err &&
	test_must_be_empty err
'

test_expect_success 'every lost attempt recorded once, whoever found it' '
	test $(count ".type == \"attempt.finished\" and .attempt == 1 and .outcome == \"lost\"") -eq 50 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"lost\"") -eq 50 &&
	cat out.* | jq -r "select(.action == \"lost\") | .run" | sort >lost &&
	test $(wc -l <lost) -eq 50 &&
	test $(sort -u lost | wc -l) -eq 50
'

test_expect_success 'exactly one decision per attempt' '
	jq -s "[.[] | select(.type == \"recovery.decided\")] | group_by([.run, .attempt]) | map(length) | max" \
		"$(test_ledger)" >max &&
	echo 1 >expect &&
	test_cmp expect max &&
	test $(count ".type == \"recovery.decided\" and .attempt == 1 and .action == \"retry\" and .recoveries == 1") -eq 50 &&
	cat out.* | jq -r "select(.action == \"retry\") | .run" | sort >decided &&
	test $(sort -u decided | wc -l) -eq 50 &&
	test $(wc -l <decided) -eq 50
'

test_expect_success 'the remaining retries are launched; each run gets exactly one successor' '
	pass_until "test \$(count \".type == \\\"attempt.finished\\\" and .outcome == \\\"success\\\"\") -eq 50" &&
	jq -s "[.[] | select(.type == \"attempt.started\")] | group_by([.run, .attempt]) | map(length) | max" \
		"$(test_ledger)" >max &&
	test_cmp expect max &&
	test $(count ".type == \"attempt.started\" and .attempt == 2") -eq 50 &&
	test $(count ".type == \"attempt.started\" and .attempt > 2") -eq 0
'

test_expect_success 'recoveries never above the max' '
	test $(count ".type == \"recovery.decided\" and .recoveries > 2") -eq 0
'

test_expect_success 'the ledger verifies clean, without stale events' '
	wr-ledger verify >verify &&
	test_grep " 0 stale, 0 problems" verify
'

test_expect_success 'again: 20 concurrent passes over 50 runs failed at once' '
	test_ledger_fresh &&
	rm -f passes.rc &&
	for i in $(seq -w 50); do
		failed_run "f-$i" "ff-$i" "$(policy 3)" "[\"sh\", \"-c\", \"exit 1\"]" || return 1
	done &&
	pids= &&
	for i in $(seq 20); do
		wr-recover >/dev/null 2>err.$i &
		pids="$pids $!"
	done &&
	for p in $pids; do
		wait $p; rc=$?
		test $rc -le 1 || { echo "a pass exited $rc" >&2; return 1; }
	done &&
	wait_launched &&
	pass_until "test \$(count \".type == \\\"run.blocked\\\"\") -eq 50" 40 &&
	jq -s "[.[] | select(.type == \"recovery.decided\")] | group_by([.run, .attempt]) | map(length) | max" \
		"$(test_ledger)" >max &&
	test_cmp expect max &&
	test $(count ".type == \"recovery.decided\"") -eq 150 &&
	test $(count ".type == \"attempt.started\"") -eq 150 &&
	test $(count ".type == \"recovery.decided\" and .recoveries > 2") -eq 0 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\"") -eq 50 &&
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_done
