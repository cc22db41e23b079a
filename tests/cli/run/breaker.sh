#!/bin/bash
# The circuit breaker gate: it opens after failures and rejects (exit 75,
# attempt.rejected, the command not run); after the cooldown one trial runs
# (half open): its success closes the breaker, its failure re-opens it.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

test_expect_success '5 failures in a row open the breaker, with one outbox entry' '
	for i in 1 2 3 4 5; do test_expect_code 1 wr-run --workflow flaky -- false || return 1; done &&
	jq -c "select(.type==\"breaker.changed\") | [.workflow, .from, .to, .failure_rate]" "$(test_ledger)" >got &&
	echo "[\"flaky\",\"closed\",\"open\",1]" >expect && test_cmp expect got &&
	jq -s "map(select(.type==\"outbox.enqueued\" and .kind==\"breaker_open\")) | length" "$(test_ledger)" >n &&
	echo 1 >expect && test_cmp expect n
'

test_expect_success 'open: exit 75, run.created + attempt.rejected in one batch, command not run' '
	test_expect_code 75 wr-run --workflow flaky -- touch ran 2>err &&
	test_must_fail test -e ran &&
	test_grep "circuit breaker of workflow flaky is open until" err &&
	tail -n 2 "$(test_ledger)" | jq -c "[.type, .batch, .reason]" >got &&
	printf "%s\n" "[\"run.created\",[1,2],null]" "[\"attempt.rejected\",[2,2],\"breaker_open\"]" >expect &&
	test_cmp expect got &&
	test "$(jq -s "map(select(.type==\"outbox.enqueued\" and .kind==\"breaker_open\")) | length" "$(test_ledger)")" = 1
'

test_expect_success 'open: --run is rejected too, the run stays failed' '
	run=$(run_of 1) &&
	test_expect_code 75 wr-run --run "$run" &&
	last attempt.rejected rj && jq -e ".run==\"$run\" and .reason==\"breaker_open\"" rj &&
	test "$(jq -s "map(select(.type==\"attempt.started\" and .run==\"$run\")) | length" "$(test_ledger)")" = 1
'

test_expect_success 'after the cooldown, a successful trial closes it' '
	append_event "{\"type\":\"breaker.changed\",\"workflow\":\"wf2\",\"from\":\"closed\",\"to\":\"open\",\"failure_rate\":1.0,\"open_until\":\"2020-01-01T00:00:00.000Z\"}" &&
	wr-run --workflow wf2 -- true &&
	jq -c "select(.type==\"breaker.changed\" and .workflow==\"wf2\") | [.from, .to]" "$(test_ledger)" >got &&
	printf "%s\n" "[\"closed\",\"open\"]" "[\"open\",\"half_open\"]" "[\"half_open\",\"closed\"]" >expect &&
	test_cmp expect got &&
	wr-run --workflow wf2 -- true
'

test_expect_success 'a failed trial re-opens it with a longer cooldown' '
	append_event "{\"type\":\"breaker.changed\",\"workflow\":\"wf3\",\"from\":\"closed\",\"to\":\"open\",\"failure_rate\":1.0,\"open_until\":\"2020-01-01T00:00:00.000Z\"}" &&
	test_expect_code 1 wr-run --workflow wf3 -- false &&
	jq -c "select(.type==\"breaker.changed\" and .workflow==\"wf3\") | [.from, .to]" "$(test_ledger)" >got &&
	printf "%s\n" "[\"closed\",\"open\"]" "[\"open\",\"half_open\"]" "[\"half_open\",\"open\"]" >expect &&
	test_cmp expect got &&
	last outbox.enqueued ob && jq -e ".kind==\"breaker_open\" and .reason==\"trial_failed\" and (.message|test(\"10m\"))" ob &&
	test_expect_code 75 wr-run --workflow wf3 -- true
'

test_expect_success 'half open: one trial at a time' '
	append_event "{\"type\":\"breaker.changed\",\"workflow\":\"wf4\",\"from\":\"closed\",\"to\":\"open\",\"failure_rate\":1.0,\"open_until\":\"2020-01-01T00:00:00.000Z\"}" &&
	{ wr-run --workflow wf4 -- sh -c "echo x >held; while ! test -e release; do sleep 0.05; done" & } &&
	wr=$! &&
	wait_for held &&
	test_expect_code 75 wr-run --workflow wf4 -- touch ran2 2>err &&
	test_grep "a trial attempt is running" err &&
	test_must_fail test -e ran2 &&
	touch release && wait $wr &&
	wr-run --workflow wf4 -- true
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
