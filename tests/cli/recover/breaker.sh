#!/bin/bash
# breaker.sh - after enough failures of a workflow its breaker opens and
# retries wait, recording nothing; after the cooldown one trial runs, and
# its success lets the others through.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/recover/lib-recover.sh"

attempts2() {
	count '.type == "attempt.started" and .attempt == 2'
}

# One pass (not waiting for what it launches: the gated trial would hold
# it), then: N attempts 2 started?
pass_and_attempts2_is() {
	wr-recover >>passes.out 2>>passes.err
	test "$(attempts2)" -eq "$1"
}

# The command of workflow flaky: fails until the file ok exists, then
# waits (at most 60 s) for the file go, so a test can look at the breaker
# while a trial is in flight.
GATED='test -e ok || exit 1; i=0; while [ ! -e go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done'

test_expect_success 'five failures of workflow flaky open its breaker' '
	for i in 1 2 3 4 5; do
		test_expect_code 1 wr-run --workflow flaky --backoff 10ms,1,10ms -- sh -c "$GATED" || return 1
	done &&
	test $(count ".type == \"breaker.changed\" and .to == \"open\"") -eq 1
'

test_expect_success 'while it is open, passes wait and record nothing' '
	cp "$(test_ledger)" before &&
	wr-recover --json >out &&
	wr-recover --json >>out &&
	jq -r "[.action, .reason] | join(\" \")" out | sort -u >got &&
	echo "wait breaker_open" >expect &&
	test_cmp expect got &&
	test $(wc -l <out) -eq 10 &&
	cmp before "$(test_ledger)"
'

test_expect_success 'a dry run says the same' '
	wr-recover --dry-run --json >out &&
	jq -r .action out | sort -u >got &&
	echo wait >expect &&
	test_cmp expect got
'

test_expect_success 'after the cooldown exactly one trial runs' '
	ev breaker.changed "{workflow: \"flaky\", from: \"open\", to: \"open\", open_until: \"$PAST\"}" "$(ts_at "-1 second")" &&
	touch ok &&
	: "passes until one launches the trial (its retry may not be due at the first)" &&
	test_wait_until pass_and_attempts2_is 1 &&
	test $(count ".type == \"recovery.decided\" and .action == \"retry\"") -eq 5 &&
	test $(count ".type == \"breaker.changed\" and .to == \"half_open\"") -eq 1 &&
	: "while the trial runs, another pass launches nothing" &&
	wr-recover >>passes.out 2>>passes.err &&
	test $(attempts2) -eq 1 &&
	touch go &&
	wait_launched &&
	test $(attempts2) -eq 1 &&
	test $(count ".type == \"breaker.changed\" and .from == \"half_open\" and .to == \"closed\"") -eq 1
'

test_expect_success 'its success closed the breaker: the others follow' '
	pass_until "test \$(attempts2) -eq 5" &&
	for r in $(jq -r "select(.type == \"run.created\") | .run" "$(test_ledger)"); do
		test "$(status_of $r)" = succeeded || return 1
	done &&
	test $(count ".type == \"attempt.rejected\"") -eq 0
'

test_expect_success 'a trial that fails re-opens the breaker; the rest keep waiting' '
	rm ok &&
	for i in 1 2 3 4 5; do
		test_expect_code 1 wr-run --workflow shaky --backoff 10ms,1,10ms -- sh -c "test -e ok" || return 1
	done &&
	ev breaker.changed "{workflow: \"shaky\", from: \"open\", to: \"open\", open_until: \"$PAST\"}" "$(ts_at "-1 second")" &&
	pass_until "test \$(count \".type == \\\"attempt.started\\\" and .workflow == \\\"shaky\\\" and .attempt == 2\") -ge 1" &&
	test $(count ".type == \"attempt.started\" and .workflow == \"shaky\" and .attempt == 2") -eq 1 &&
	test $(count ".type == \"breaker.changed\" and .workflow == \"shaky\" and .from == \"half_open\" and .to == \"open\"") -eq 1 &&
	cp "$(test_ledger)" before &&
	wr-recover --json >out &&
	jq -r .action out | sort -u >got &&
	echo wait >expect &&
	test_cmp expect got
'

test_expect_success 'breaker reset closes it; the waiting runs go on' '
	wr-recover breaker shaky reset >out &&
	test_grep "^breaker .*shaky.*: was (open|half open), now closed; starts are admitted again" out &&
	test $(count ".type == \"breaker.changed\" and .workflow == \"shaky\" and .to == \"closed\"") -eq 1 &&
	wr-recover breaker shaky reset >out &&
	test_grep "already closed" out &&
	test $(count ".type == \"breaker.changed\" and .workflow == \"shaky\" and .to == \"closed\"") -eq 1 &&
	touch ok &&
	pass_until "test \$(count \".type == \\\"attempt.finished\\\" and .workflow == \\\"shaky\\\" and .outcome == \\\"success\\\"\") -eq 5"
'

test_expect_success 'the ledger verifies clean' '
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_done
