#!/bin/bash
# A run whose only start was refused (breaker open, concurrency limit with
# --no-wait) ends in its own status, rejected: like flock -n it leaves
# nothing to do behind. It is not "failed 0/3" for ever, not retried, not
# escalated, not in the default "needs eyes" view (a terminal footer counts
# it), and compaction moves it as an ended run.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

open_breaker() {
	append_event "{\"type\":\"breaker.changed\",\"workflow\":\"$1\",\"from\":\"closed\",\"to\":\"open\",\"failure_rate\":1.0,\"open_until\":\"2099-01-01T00:00:00.000Z\"}"
}

test_expect_success 'breaker open: the new run is rejected, an ended status' '
	open_breaker br &&
	test_expect_code 75 wr-run --workflow br -- touch ran 2>err &&
	test_must_fail test -e ran &&
	run=$(run_of -1) &&
	wr-watch --json --all >all &&
	jq -r "select(.run == \"$run\") | [.status, .attempt, .reason] | @tsv" all >got &&
	printf "rejected\t0\tbreaker_open\n" >expect &&
	test_cmp expect got
'

test_expect_success 'concurrency limit with --no-wait: rejected too' '
	{ wr-run --workflow lim --concurrency 1 -- sh -c "echo x >held; i=0; while ! test -e release && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done" & } &&
	holder=$! &&
	wait_for held &&
	test_expect_code 75 wr-run --workflow lim --concurrency 1 --no-wait -- true &&
	touch release && wait $holder &&
	wr-watch --json --status rejected >rej &&
	jq -r "[.workflow, .status, .reason] | @tsv" rej >got &&
	printf "br\trejected\tbreaker_open\nlim\trejected\tconcurrency_limit\n" >expect &&
	test_cmp expect got
'

test_expect_success 'not in the default view; a terminal footer counts them' '
	wr-watch --json >default &&
	test_must_be_empty default &&
	script -qec "wr-watch" /dev/null </dev/null | tr -d "\r" >tty &&
	test_grep "2 runs were rejected .*--status rejected shows them" tty &&
	wr-watch >pipe &&
	test_must_fail grep rejected pipe
'

test_expect_success 'never retried or escalated by a recovery pass' '
	wr-recover --json >out &&
	test_must_be_empty out &&
	test "$(count recovery.decided)" = 0 &&
	test "$(count run.blocked)" = 0 &&
	test "$(jq -s "map(select(.type == \"outbox.enqueued\" and .kind == \"escalated\")) | length" "$(test_ledger)")" = 0
'

test_expect_success 'an ended run: --run, retry and cancel refuse it' '
	run=$(run_of 1) &&
	test_expect_code 125 wr-run --run "$run" 2>err &&
	test_grep "was rejected \(breaker_open\) and has ended" err &&
	test_must_fail wr-recover retry "$run" 2>err &&
	test_grep "has ended \(rejected\)" err &&
	test_must_fail wr-recover cancel "$run" 2>err &&
	test_grep "has ended \(rejected\)" err
'

test_expect_success FILE_LEDGER 'compaction moves rejected runs with the other ended ones' '
	jq -r "select(.type == \"attempt.rejected\") | .run" "$(test_ledger)" >ids &&
	test $(wc -l <ids) -eq 2 &&
	wr-ledger compact --keep 0 >out &&
	wr-watch --json --all >all &&
	test "$(jq -r .run all | grep -c -F -f ids)" = 0 &&
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_done
