#!/bin/bash
# dry-run.sh - --dry-run prints the decisions a pass or a verb would take
# and leaves the ledger byte-identical: nothing appended, nothing launched.
# One workflow per run, so that five failures do not open a breaker.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/recover/lib-recover.sh"

test_expect_success 'setup: lost, failed, final, due and blocked runs' '
	created lost w1 "$(policy 3)" &&
	started lost 1 elsewhere 4242 1 "$PAST" &&
	failed_run failed w2 "$(policy 3 "backoff: {initial_ms: 3600000}")" &&
	failed_run final w3 "$(policy 1)" &&
	failed_run due w4 "$(policy 3)" &&
	ev recovery.decided "{run: \"due\", attempt: 1, action: \"retry\", recoveries: 1, not_before: \"$PAST\"}" &&
	failed_run blocked w5 "$(policy 1)" &&
	ev recovery.decided "{run: \"blocked\", attempt: 1, action: \"escalate\", recoveries: 0}" &&
	ev run.blocked "{run: \"blocked\", reason: \"max attempts used\"}" &&
	cp "$(test_ledger)" before
'

test_expect_success 'a dry pass prints every decision and exits 1 (it would block one)' '
	test_expect_code 1 wr-recover --dry-run --json >out &&
	jq -c "[.run, .action, .reason, .recoveries, .launched, .dry_run]" out >got &&
	cat >expect <<-\EOF &&
	["lost","lost","lease expired (no heartbeat)",0,false,true]
	["lost","retry","lost",1,false,true]
	["failed","retry","error",1,false,true]
	["final","escalate","max_attempts",0,false,true]
	["due","launch","due",1,false,true]
	EOF
	test_cmp expect got
'

test_expect_success '... and leaves the ledger byte-identical, launching nothing' '
	cmp before "$(test_ledger)" &&
	! test -e "$(test_ledger_local).logs" &&
	! test -e "$(test_ledger_local).launch" &&
	! test -e "$WR_LEDGER.lock"
'

test_expect_success 'human output says dry run' '
	test_expect_code 1 wr-recover --dry-run >out &&
	test $(grep -c "(dry run)$" out) -eq 5 &&
	test_grep "would launch attempt 2" out &&
	cmp before "$(test_ledger)"
'

test_expect_success 'verbs in a dry run record nothing either' '
	wr-recover --dry-run unblock blocked --note fixed >out &&
	test_grep "^unblock +blocked" out &&
	wr-recover --dry-run retry --force blocked >out &&
	test_grep "would launch attempt 2" out &&
	wr-recover --dry-run retry failed >out &&
	test_grep "^retry +failed .*manual" out &&
	wr-recover --dry-run cancel due --reason "not needed" >out &&
	test_grep "^cancel +due" out &&
	cmp before "$(test_ledger)" &&
	! test -e "$(test_ledger_local).logs"
'

test_expect_success 'the same pass for real records what the dry run said' '
	test_expect_code 1 wr-recover --json >out &&
	wait_launched &&
	jq -c "[.run, .action, .reason, .recoveries]" out >got &&
	cat >expect <<-\EOF &&
	["lost","lost","lease expired (no heartbeat)",0]
	["lost","retry","lost",1]
	["failed","retry","error",1]
	["final","escalate","max_attempts",0]
	["due","launch","due",1]
	EOF
	test_cmp expect got &&
	! cmp -s before "$(test_ledger)"
'

test_expect_success 'a dry run over a missing ledger creates nothing' '
	test_expect_code 74 wr-recover --dry-run --ledger "$TRASH/none/ledger.jsonl" >out 2>err &&
	test_must_be_empty out &&
	test_grep "no ledger at $TRASH/none/ledger.jsonl" err &&
	! test -e "$TRASH/none"
'

test_done
