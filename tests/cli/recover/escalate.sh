#!/bin/bash
# escalate.sh - a command that always fails is blocked after its 3
# attempts with exactly one escalated outbox entry; unblock lets it retry.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/recover/lib-recover.sh"

test_expect_success 'attempt 1 fails' '
	test_expect_code 3 wr-run --workflow always --max-attempts 3 --backoff 10ms,1,10ms -- \
		sh -c "test -e fixed || exit 3" &&
	jq -r "select(.type == \"run.created\") | .run" "$(test_ledger)" >run
'

test_expect_success 'passes retry it twice, then block it' '
	pass_until "test \"\$(status_of $(cat run))\" = blocked" &&
	test $(count ".type == \"attempt.started\"") -eq 3 &&
	jq -c "select(.type == \"recovery.decided\") | [.attempt, .action, .reason, .recoveries]" "$(test_ledger)" >decided &&
	printf "%s\n" "[1,\"retry\",\"error\",1]" "[2,\"retry\",\"error\",2]" \
		"[3,\"escalate\",\"max_attempts\",2]" >expect &&
	test_cmp expect decided
'

test_expect_success 'exactly one escalated outbox entry, naming the run' '
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\"") -eq 1 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\" and .run == \"$(cat run)\"") -eq 1 &&
	test $(count ".type == \"run.blocked\"") -eq 1
'

test_expect_success 'the pass that blocked it exited 1, the others 0' '
	test $(grep -c "^1$" passes.rc) -eq 1 &&
	test $(grep -vc "^[01]$" passes.rc) -eq 0 &&
	test_grep "^escalate +$(cat run) \(always\) attempt 3: max_attempts" passes.out
'

test_expect_success 'more passes over the blocked run record nothing' '
	cp "$(test_ledger)" before &&
	wr-recover >out && wr-recover >>out &&
	test_must_be_empty out &&
	cmp before "$(test_ledger)" &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\"") -eq 1
'

test_expect_success 'unblock records the note and makes it due' '
	wr-recover unblock "$(cat run)" --note "fixed the disk" >out &&
	test_grep "^unblock +$(cat run)" out &&
	test $(count ".type == \"run.unblocked\" and .note == \"fixed the disk\"") -eq 1 &&
	test "$(status_of $(cat run))" = retry_wait
'

test_expect_success 'after unblock a pass retries it, and it succeeds' '
	touch fixed &&
	pass_until "test \"\$(status_of $(cat run))\" = succeeded" &&
	test $(count ".type == \"attempt.started\"") -eq 4 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\"") -eq 1
'

test_expect_success 'unblock of a run that is not blocked is refused' '
	cp "$(test_ledger)" before &&
	test_expect_code 1 wr-recover unblock "$(cat run)" --note again 2>err &&
	test_grep "not blocked" err &&
	cmp before "$(test_ledger)"
'

test_expect_success 'a run blocked again after an unblock escalates again, once' '
	test_expect_code 3 wr-run --workflow again --max-attempts 2 --backoff 10ms,1,10ms -- sh -c "exit 3" &&
	jq -r "select(.type == \"run.created\" and .workflow == \"again\") | .run" "$(test_ledger)" >run2 &&
	pass_until "test \"\$(status_of $(cat run2))\" = blocked" &&
	wr-recover unblock "$(cat run2)" >out &&
	pass_until "test \"\$(status_of $(cat run2))\" = blocked" &&
	test $(count ".type == \"attempt.started\" and .run == \"$(cat run2)\"") -eq 3 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\" and .run == \"$(cat run2)\"") -eq 2 &&
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_done
