#!/usr/bin/env bash
# finish.sh - the end of an attempt is never dropped (issue 12 items 5
# and 11):
#   - when the lock is held as the command finishes, wr-run keeps trying
#     (a warning on stderr while it waits) and records the end once the
#     lock is free: a success is not declared lost and run again;
#   - a late finish of an attempt another process already ended is
#     recorded, marked stale (it counts as stale and changes nothing), and
#     wr-run exits with the command's own status, not 125.
. "$(dirname "$0")/lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

test_expect_success 'the lock held across the finish: wr-run waits, records success, nothing is retried' '
	{ WR_LOCK_TIMEOUT=200ms wr-run --workflow held -- sh -c "touch started; while ! test -e finish; do sleep 0.05; done" \
		2>run.err & } &&
	wr=$! &&
	test_wait_until test -e started &&
	{ flock "$WR_LEDGER.lock" sh -c "touch finish; i=0; while ! grep -q \"still trying\" run.err && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i + 1)); done; sleep 0.5" & } &&
	holder=$! &&
	wait $holder &&
	wait $wr &&
	test_grep "still trying to record the end of attempt 1" run.err &&
	test_grep "recorded the end of attempt 1" run.err &&
	jq -r "select(.type == \"attempt.finished\" and .workflow == \"held\") | .outcome" "$WR_LEDGER" >outcome &&
	echo success >expect && test_cmp expect outcome &&
	wr-recover >pass.out 2>pass.err &&
	test_must_be_empty pass.out &&
	test "$(jq -s "map(select(.workflow == \"held\" and .type == \"attempt.started\")) | length" "$WR_LEDGER")" = 1
'

# Another process (a check by lease on another host, say) records the
# attempt lost while wr-run still supervises it; no heartbeat comes in
# between (--heartbeat 1h), so wr-run learns it only at the finish.
test_expect_success 'a late finish after the attempt was recorded lost: recorded stale, the command status kept' '
	{ wr-run --workflow late --heartbeat 1h --lease 2h -- sh -c "touch started2; while ! test -e go; do sleep 0.05; done; exit 3" \
		2>late.err & } &&
	wr=$! &&
	test_wait_until test -e started2 &&
	run=$(run_of -1) &&
	append_locked "{\"type\": \"attempt.finished\", \"run\": \"$run\", \"workflow\": \"late\", \"attempt\": 1,
		\"outcome\": \"lost\", \"exit_code\": null, \"duration_ms\": 1, \"reason\": \"lease expired (no heartbeat)\"}" &&
	touch go &&
	{ wait $wr; rc=$?; } &&
	test $rc -eq 3 &&
	test_grep "is recorded as stale: it was recorded as lost" late.err &&
	jq -c "select(.type == \"attempt.finished\" and .workflow == \"late\") | [.outcome, .exit_code, .stale != null]" \
		"$WR_LEDGER" >ends &&
	printf "%s\n" "[\"lost\",null,false]" "[\"error\",3,true]" >expect &&
	test_cmp expect ends &&
	wr-ledger verify >verify &&
	test_grep " 1 stale, 0 problems" verify
'

test_expect_success 'the stale finish changes nothing: one retry decision, about the lost attempt' '
	wr-recover >pass2.out 2>pass2.err &&
	test "$(jq -s "map(select(.workflow == \"late\" and .type == \"recovery.decided\")) | length" "$WR_LEDGER")" = 1 &&
	test_grep "late\) attempt 1: lost" pass2.out
'

test_done
