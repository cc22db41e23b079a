#!/bin/bash
# --max-turns N: at turn N the attempt ends, outcome timeout, reason_code
# max_turns (the wall-clock timeout records timeout), exit 124; a timeout
# outbox entry whose workrail export says max_turns. --stuck-action does not
# apply: a limit is not a stuck detector. The session lingers after its
# turns, so only the limit can end it (--timeout bounds a bug).
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"
H="$WR_SRC/share/examples/agent-harness.sh"

test_expect_success 'at turn N: 124, outcome timeout, reason_code max_turns' '
	test_expect_code 124 wr-run --timeout 60s --max-turns 4 -- "$H" --turns 9 --linger >out 2>err &&
	test_grep "reached turn 4 of --max-turns 4; sending SIGTERM" err &&
	test "$(count attempt.stuck)" = 0 &&
	last attempt.finished fin &&
	jq -e ".outcome == \"timeout\" and .reason_code == \"max_turns\" and .signal == 15
		and .reason == \"reached turn 4 of --max-turns 4\" and .turns >= 4" fin &&
	test "$(count outbox.enqueued)" = 1 &&
	last outbox.enqueued ob &&
	jq -e ".kind == \"timeout\" and .details.reason == \"max_turns\" and (.message | test(\"reached its turn limit\"))" ob &&
	wr-outbox list --format workrail >wk &&
	jq -e ".kind == \"timeout\" and .reason == \"max_turns\"" wk
'

test_expect_success 'the wall-clock timeout has its own reason_code' '
	test_ledger_fresh &&
	test_expect_code 124 wr-run --timeout 300ms --max-turns 50 -- "$H" --turns 2 --linger >out 2>err &&
	last attempt.finished fin &&
	jq -e ".outcome == \"timeout\" and .reason_code == \"timeout\" and (.reason | startswith(\"timed out\"))" fin &&
	wr-outbox list --format workrail >wk &&
	jq -e ".reason == \"timeout\"" wk
'

test_expect_success 'with --stuck-action notify the limit still ends the attempt' '
	test_ledger_fresh &&
	test_expect_code 124 wr-run --timeout 60s --max-turns 3 --stuck-action notify -- "$H" --turns 5 --linger >out 2>err &&
	last attempt.finished fin && jq -e ".reason_code == \"max_turns\"" fin
'

test_expect_success 'fewer turns than the limit: the command ends as it ends' '
	test_ledger_fresh &&
	wr-run --max-turns 6 -- "$H" --turns 5 >out &&
	test_expect_code 3 wr-run --max-turns 6 -- "$H" --turns 5 --exit 3 >out &&
	jq -s -e "map(select(.type == \"attempt.finished\") | [.outcome, .reason_code, .turns])
		== [[\"success\", null, 5], [\"error\", null, 5]]" "$(test_ledger)"
'

test_expect_success 'a retry keeps the limit: wr-run --run counts turns again from 1' '
	test_ledger_fresh &&
	test_expect_code 124 wr-run --timeout 60s --max-turns 2 -- "$H" --turns 3 --linger >out &&
	test_expect_code 124 wr-run --run "$(run_of 1)" >out &&
	jq -s -e "map(select(.type == \"attempt.finished\") | [.attempt, .reason_code])
		== [[1, \"max_turns\"], [2, \"max_turns\"]]" "$(test_ledger)" &&
	last run.created rc && jq -e ".policy.max_turns == 2" rc &&
	test_expect_code 125 wr-run --max-turns 5 --run "$(run_of 1)" 2>err &&
	test_grep "max-turns cannot be used with --run" err
'

test_expect_success 'stats and show count the turns' '
	wr-watch stats --json >st &&
	jq -e ".agent.attempts == 2 and .agent.turns >= 4 and .outcomes.timeout == 2" st &&
	wr-watch show "$(run_of 1)" >sh &&
	test_grep "^agent     attempt 2, [0-9]+ turns" sh &&
	test_grep "attempt 2 timeout, signal 15 after .* \(max_turns\): reached turn 2 of --max-turns 2" sh
'

test_expect_success '--max-turns must be a whole number from 1' '
	test_expect_code 125 wr-run --max-turns 0 -- true 2>err &&
	test_grep "max-turns.*from 1" err &&
	test_expect_code 125 wr-run --max-turns many -- true 2>err
'

test_done
