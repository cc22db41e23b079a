#!/bin/bash
# --no-progress-turns N: stuck (no_progress) when N turns end without a
# stage line (a step advance); abort and notify, one outbox entry per stuck
# event. share/examples/agent-harness.sh plays the session; an aborted one
# lingers until killed, so only the detector can end it.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"
H="$WR_SRC/share/examples/agent-harness.sh"

test_expect_success 'abort: 123 at the Nth turn without a stage line' '
	test_expect_code 123 wr-run --timeout 60s --no-progress-turns 4 -- \
		"$H" --turns 9 --stage-every 0 --linger >out 2>err &&
	test_grep "stuck \(no_progress\): no stage line in 4 turns \(turns 1 to 4\)" err &&
	test "$(count attempt.stuck)" = 1 &&
	last attempt.stuck stk &&
	jq -e ".reason == \"no_progress\" and .action == \"abort\" and .turns == 4" stk &&
	last attempt.finished fin &&
	jq -e ".outcome == \"stuck\" and .reason_code == \"no_progress\"" fin &&
	test "$(count outbox.enqueued)" = 1 &&
	last outbox.enqueued ob && jq -e ".kind == \"stuck\" and .details.reason == \"no_progress\"" ob &&
	wr-outbox list --format workrail >wk && jq -e ".reason == \"no_progress\"" wk
'

test_expect_success 'stage lines are step advances: turns count from the last one' '
	test_ledger_fresh &&
	wr-run --no-progress-turns 3 -- "$H" --turns 12 --stage-every 3 >out &&
	test "$(count attempt.stuck)" = 0 &&
	wr-run --no-progress-turns 4 -- "$H" --turns 12 --stage-every 4 >out &&
	test "$(count attempt.stuck)" = 0 &&
	test_expect_code 123 wr-run --timeout 60s --no-progress-turns 4 -- "$H" --turns 12 --stage-every 5 --linger >out &&
	last attempt.stuck stk && jq -e ".turns == 4 and (.detail | test(\"turns 1 to 4\"))" stk
'

test_expect_success 'notify: the session goes on, one attempt.stuck, one outbox entry' '
	test_ledger_fresh &&
	wr-run --no-progress-turns 3 --stuck-action notify -- "$H" --turns 8 --stage-every 0 >out 2>err &&
	test "$(grep -c "^turn " out)" = 8 &&
	test "$(count attempt.stuck)" = 1 &&
	last attempt.stuck stk && jq -e ".reason == \"no_progress\" and .action == \"notify\" and .turns == 3" stk &&
	test "$(count outbox.enqueued)" = 1 &&
	last outbox.enqueued ob &&
	jq -e ".kind == \"stuck\" and .reason == \"no_progress\" and (.message | test(\"goes on running\"))" ob &&
	last attempt.finished fin && jq -e ".outcome == \"success\" and .turns == 8" fin
'

test_expect_success 'notify: a stage line re-arms it: stuck again after N more turns' '
	test_ledger_fresh &&
	wr-run --no-progress-turns 3 --stuck-action notify -- "$H" --turns 12 --stage-every 5 >out 2>err &&
	jq -s -e "map(select(.type == \"attempt.stuck\") | [.turns, .detail]) == [[3, \"no stage line in 3 turns (turns 1 to 3)\"], [8, \"no stage line in 3 turns (turns 6 to 8)\"]]" "$(test_ledger)" &&
	test "$(count outbox.enqueued)" = 2
'

test_expect_success 'the wall-clock --no-progress and the turn detector are apart' '
	test_ledger_fresh &&
	wr-run --no-progress 1h --no-progress-turns 2 --stuck-action notify -- "$H" --turns 3 --stage-every 0 >out &&
	last run.created rc &&
	jq -e ".policy.stuck.no_progress_turns == 2 and .policy.stuck.no_progress_ms == 3600000" rc &&
	test "$(count attempt.stuck)" = 1
'

test_done
