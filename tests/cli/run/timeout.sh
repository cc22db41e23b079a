#!/bin/bash
# wr-run --timeout: SIGTERM to the whole group, SIGKILL after the grace;
# no grandchild survives; leftovers of a finished command are killed too.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

test_expect_success 'timeout: 124, the grandchild dies with the group' '
	test_expect_code 124 wr-run --timeout 1s -- sh -c "echo \$\$ >pid; sleep 1000 & echo \$! >gpid; wait" 2>err &&
	test_grep "timed out" err &&
	must_be_dead $(cat pid) $(cat gpid) &&
	last attempt.finished fin &&
	jq -e ".outcome==\"timeout\" and .signal==15 and .reason==\"timed out after 1s\"" fin &&
	last outbox.enqueued ob &&
	jq -e ".kind==\"timeout\"" ob
'

test_expect_success 'a group that ignores SIGTERM gets SIGKILL after --kill-after: exit 137, as timeout(1)' '
	test_expect_code 137 wr-run --timeout 500ms --kill-after 500ms -- \
		sh -c "trap \"\" TERM; echo \$\$ >pid; sleep 1000 & echo \$! >gpid; wait; wait" 2>err &&
	test_grep "SIGKILL" err &&
	must_be_dead $(cat pid) $(cat gpid) &&
	last attempt.finished fin &&
	jq -e ".outcome==\"timeout\" and .signal==9 and (.reason | test(\"killed with SIGKILL after the grace of 500ms\"))" fin
'

test_expect_success 'what a finished command leaves in its group is killed' '
	rm -f gpid &&
	wr-run -- sh -c "sleep 1000 & echo \$! >gpid" &&
	must_be_dead $(cat gpid) &&
	last attempt.finished fin &&
	jq -e ".outcome==\"success\"" fin
'

test_expect_success 'a process that left the group does not keep wr-run waiting' '
	rm -f gpid &&
	timeout 60 wr-run -- sh -c "setsid sh -c \"echo \\\$\\\$ >gpid; exec sleep 1000\" & sleep 0.2; echo done" >out &&
	echo done >expect && test_cmp expect out &&
	wait_for gpid && kill $(cat gpid)
'

test_expect_success 'the timeout is absolute: heartbeats do not extend it' '
	test_expect_code 124 wr-run --timeout 1s --heartbeat 100ms --lease 1s -- sleep 1000 &&
	last attempt.finished fin &&
	jq -e ".outcome==\"timeout\"" fin
'

test_expect_success 'the run deadline caps the attempt; a run past it cannot continue' '
	test_expect_code 124 wr-run --deadline 500ms --timeout 1h -- sleep 1000 2>err &&
	test_grep "reached the run.s deadline" err &&
	last attempt.finished fin &&
	jq -e ".outcome==\"timeout\" and (.reason|startswith(\"reached the run\"))" fin &&
	run=$(jq -r .run fin) &&
	test_expect_code 125 wr-run --run "$run" 2>err &&
	test_grep "passed its deadline" err
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
