#!/bin/bash
# Heartbeats extend the lease; they are single events (no batch).
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

test_expect_success 'heartbeats every --heartbeat extend lease_until' '
	wr-run --heartbeat 200ms --lease 1s -- "$WR_SRC/tests/cli/run/hb-child.sh" 3 &&
	jq -s "map(select(.type==\"attempt.heartbeat\")) | length >= 3" "$WR_LEDGER" >ok &&
	echo true >expect && test_cmp expect ok &&
	jq -s "map(select(.type==\"attempt.started\" or .type==\"attempt.heartbeat\") | .lease_until) | . == (sort) and (unique|length) == length" "$WR_LEDGER" >ok &&
	test_cmp expect ok &&
	jq -s "map(select(.type==\"attempt.heartbeat\") | (.batch==null and .attempt==1)) | all" "$WR_LEDGER" >ok &&
	test_cmp expect ok &&
	last attempt.heartbeat hb &&
	jq -e "(.lease_until|sub(\"\\\\.[0-9]+Z\$\";\"Z\")|fromdate) > (.ts|sub(\"\\\\.[0-9]+Z\$\";\"Z\")|fromdate)" hb
'

test_expect_success 'the lease must be longer than the heartbeat' '
	test_expect_code 125 wr-run --heartbeat 1s --lease 1s -- true 2>err &&
	test_grep "try --lease 4s" err
'

test_expect_success 'an attempt ended by another process (lost): wr-run stops the command, records its end stale, 143' '
	rm -f pid &&
	{ wr-run --heartbeat 100ms --lease 10s -- sh -c "echo \$\$ >pid; exec sleep 1000" 2>err & } &&
	wr=$! &&
	wait_for pid &&
	run=$(run_of -1) &&
	append_locked "{\"type\":\"attempt.finished\",\"run\":\"$run\",\"workflow\":\"sh\",\"attempt\":1,\"outcome\":\"lost\",\"reason\":\"test: declared lost\"}" &&
	{ wait $wr; rc=$?; } &&
	test $rc = 143 &&
	test_grep "was ended in the ledger by another process; stopping the command" err &&
	test_grep "is recorded as stale: it was recorded as lost: test: declared lost" err &&
	must_be_dead $(cat pid) &&
	test "$(count attempt.finished)" = 3 &&
	last attempt.finished fin && jq -e ".outcome == \"cancelled\" and .signal == 15 and (.stale | test(\"lost\"))" fin
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
