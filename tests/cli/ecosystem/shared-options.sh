#!/bin/bash
# What the tools share is parsed once (core/cli.c): --backoff means the same
# to wr-run and wr-outbox deliver, and a RUN that names no run, or several,
# is a usage-level error in every tool (2; 125 for wr-run, as timeout(1)).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

test_expect_success 'setup: two runs whose ids start alike' '
	wr-run --workflow a -- true &&
	wr-run --workflow b -- true &&
	jq -r "select(.type == \"run.created\") | .run" "$(test_ledger)" >ids &&
	test $(wc -l <ids) -eq 2
'

test_expect_success '--backoff: factor from 1 to 1000 in both tools' '
	test_expect_code 125 wr-run --backoff 1s,1001 -- true 2>err &&
	test_grep "factor must be a number from 1 to 1000" err &&
	test_expect_code 2 wr-outbox deliver --backoff 1s,1001 -- true 2>err &&
	test_grep "factor must be a number from 1 to 1000" err &&
	wr-run --workflow f --backoff 1s,1000,1h -- true &&
	jq -e -s "map(select(.type == \"run.created\" and .workflow == \"f\"))[0].policy.backoff.factor == 1000" \
		"$(test_ledger)"
'

test_expect_success '--backoff: an explicit MAX below INITIAL is refused by both' '
	test_expect_code 125 wr-run --backoff 2h,2,1h -- true 2>err &&
	test_grep "MAX must not be less than INITIAL" err &&
	test_expect_code 2 wr-outbox deliver --backoff 2h,2,1h -- true 2>err &&
	test_grep "MAX must not be less than INITIAL" err
'

test_expect_success '--backoff: without MAX, the maximum is at least INITIAL' '
	wr-run --workflow g --backoff 2h -- true &&
	jq -e -s "map(select(.type == \"run.created\" and .workflow == \"g\"))[0].policy.backoff |
		.initial_ms == 7200000 and .max_ms == 7200000" "$(test_ledger)"
'

test_expect_success 'a RUN that names no run: 2 in wr-watch and wr-recover, 125 in wr-run' '
	test_expect_code 2 wr-watch show nosuchrun 2>err &&
	test_grep "no run .nosuchrun. in the ledger" err &&
	test_expect_code 2 wr-recover cancel nosuchrun 2>err &&
	test_grep "no run .nosuchrun. in the ledger" err &&
	test_expect_code 125 wr-run --run nosuchrun 2>err &&
	test_grep "no run .nosuchrun. in the ledger" err
'

test_expect_success 'a RUN that names several runs: the same statuses, the candidates listed' '
	p=$(cut -c1-4 ids | sort -u) &&
	test $(echo "$p" | wc -l) -eq 1 &&
	test_expect_code 2 wr-watch show "$p" 2>err &&
	test_grep "ambiguous" err &&
	test_expect_code 2 wr-recover cancel "$p" 2>err &&
	test_grep "$(head -n 1 ids)" err &&
	test_expect_code 125 wr-run --run "$p" 2>err &&
	test_grep "$(tail -n 1 ids)" err
'

test_done
