#!/bin/bash
# final.sh - failures no retry may follow escalate at once: an exit code
# in --no-retry-on, a passed deadline, a command that could not be run
# (126, 127); others are retried.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/recover/lib-recover.sh"

test_expect_success '--no-retry-on 2: exit 2 escalates at the first pass' '
	test_expect_code 2 wr-run --workflow nr --max-attempts 5 --no-retry-on 2 --backoff 10ms,1,10ms -- \
		sh -c "exit 2" &&
	jq -r "select(.type == \"run.created\") | .run" "$(test_ledger)" >run &&
	test_expect_code 1 wr-recover --json >out &&
	jq -c "[.action, .reason, .attempt, .recoveries, .launched]" out >got &&
	echo "[\"escalate\",\"no_retry_on\",1,0,false]" >expect &&
	test_cmp expect got &&
	test "$(status_of $(cat run))" = blocked &&
	test $(count ".type == \"attempt.started\"") -eq 1 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\" and .reason == \"no_retry_on\"") -eq 1 &&
	test_grep "exit code 2 is in no_retry_on" "$(test_ledger)"
'

test_expect_success '--no-retry-on 2: exit 3 is retried' '
	test_expect_code 3 wr-run --workflow nr3 --max-attempts 5 --no-retry-on 2 --backoff 1h -- sh -c "exit 3" &&
	wr-recover --workflow nr3 --json >out &&
	jq -r .action out >got &&
	echo retry >expect &&
	test_cmp expect got
'

test_expect_success 'deadline passed: escalates instead of retrying' '
	created dl wf "$(policy 5 "deadline_ms: 60000")" &&
	started dl 1 elsewhere 4242 1 "$PAST" &&
	finished dl 1 error 1 &&
	test_expect_code 1 wr-recover --json >out &&
	jq -c "[.run, .action, .reason]" out >got &&
	echo "[\"dl\",\"escalate\",\"deadline\"]" >expect &&
	test_cmp expect got &&
	test "$(status_of dl)" = blocked &&
	test_grep "deadline passed" "$(test_ledger)"
'

test_expect_success 'deadline not yet passed: retried' '
	created dl2 wf "$(policy 5 "deadline_ms: 86400000, backoff: {initial_ms: 3600000}")" &&
	started dl2 1 elsewhere 4242 1 "$PAST" &&
	finished dl2 1 timeout &&
	wr-recover --json >out &&
	jq -c "[.run, .action, .reason]" out >got &&
	echo "[\"dl2\",\"retry\",\"timeout\"]" >expect &&
	test_cmp expect got
'

test_expect_success 'a lost attempt on its last attempt escalates' '
	created last wf "$(policy 1)" &&
	started last 1 elsewhere 4242 1 "$PAST" &&
	test_expect_code 1 wr-recover --json >out &&
	jq -c "[.run, .action, .reason]" out >got &&
	printf "%s\n" "[\"last\",\"lost\",\"lease expired (no heartbeat)\"]" \
		"[\"last\",\"escalate\",\"max_attempts\"]" >expect &&
	test_cmp expect got
'

test_expect_success 'exit 127 (not found) is never retried: the run escalates at the first pass' '
	test_expect_code 127 wr-run --workflow typo --max-attempts 5 --backoff 10ms,1,10ms -- nosuchcmd-wr 2>err &&
	test_grep "nosuchcmd-wr" err &&
	run=$(jq -r "select(.type == \"run.created\" and .workflow == \"typo\") | .run" "$(test_ledger)") &&
	test_expect_code 1 wr-recover --workflow typo --json >out &&
	jq -c "[.action, .reason, .attempt, .launched]" out >got &&
	echo "[\"escalate\",\"cannot_run\",1,false]" >expect &&
	test_cmp expect got &&
	test "$(status_of $run)" = blocked &&
	test $(count ".type == \"attempt.started\" and .run == \"$run\"") -eq 1 &&
	jq -r "select(.type == \"run.blocked\" and .run == \"$run\") | .reason" "$(test_ledger)" >reason &&
	test_grep "could not run the command \(exit code 127: command not found" reason &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"failed\" and .run == \"$run\" and (.message | test(\"could not run\"))") -eq 1 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\" and .run == \"$run\" and .reason == \"cannot_run\"") -eq 1
'

test_expect_success 'exit 126 (cannot execute) is never retried either' '
	: >notexec && chmod 644 notexec &&
	test_expect_code 126 wr-run --workflow noexec --max-attempts 5 -- ./notexec 2>err &&
	test_expect_code 1 wr-recover --workflow noexec --json >out &&
	jq -c "[.action, .reason]" out >got &&
	echo "[\"escalate\",\"cannot_run\"]" >expect &&
	test_cmp expect got
'

test_expect_success 'a script that exits 127 is final too, and a human can still force a retry' '
	test_expect_code 127 wr-run --workflow s127 --max-attempts 5 -- sh -c "exit 127" &&
	run=$(jq -r "select(.type == \"run.created\" and .workflow == \"s127\") | .run" "$(test_ledger)") &&
	test_expect_code 1 wr-recover --workflow s127 --json >out &&
	test "$(jq -r .reason out)" = cannot_run &&
	test "$(status_of $run)" = blocked &&
	wr-recover retry --force "$run" >out 2>&1 &&
	test "$(status_of $run)" != blocked
'

test_expect_success 'the ledger verifies clean' '
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_expect_success 'a run whose directory is gone: failed attempts, then escalated' '
	mkdir gone &&
	(cd gone && test_expect_code 1 wr-run --workflow gone --max-attempts 3 --backoff 10ms,1,10ms -- sh -c "exit 1") &&
	run=$(jq -r "select(.type == \"run.created\" and .workflow == \"gone\") | .run" "$(test_ledger)") &&
	rmdir gone &&
	pass_until "test \"\$(status_of $run)\" = blocked" &&
	test $(count ".type == \"attempt.started\" and .run == \"$run\"") -eq 3 &&
	test $(count ".type == \"attempt.finished\" and .run == \"$run\" and (.reason // \"\" | startswith(\"cannot change to the run\"))") -eq 2 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\" and .run == \"$run\"") -eq 1 &&
	test_expect_code 125 wr-run --run "$run" 2>err &&
	test_grep "blocked" err
'

test_done
