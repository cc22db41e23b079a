#!/bin/bash
# --concurrency N per workflow: --no-wait rejects at the limit (75), --wait
# queues until a slot frees, bounded by --timeout.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

# The holder waits for 'release', at most 60 s: a failing test must not
# leave it behind for ever.
hold() {
	{ wr-run --workflow lim --concurrency 1 -- sh -c "echo x >held; i=0; while ! test -e release && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done" & }
	holder=$!
}

test_expect_success '--no-wait at the limit: 75, attempt.rejected concurrency_limit, not run' '
	rm -f held release && hold &&
	wait_for held &&
	test_expect_code 75 wr-run --workflow lim --concurrency 1 --no-wait -- touch ran 2>err &&
	test_grep "1 of at most 1 attempts of workflow lim are running" err &&
	test_must_fail test -e ran &&
	tail -n 2 "$(test_ledger)" | jq -c "[.type, .reason]" >got &&
	printf "%s\n" "[\"run.created\",null]" "[\"attempt.rejected\",\"concurrency_limit\"]" >expect &&
	test_cmp expect got &&
	touch release && wait $holder
'

test_expect_success '--wait bounded by --timeout: 75 after waiting, rejection recorded' '
	rm -f held release && hold &&
	wait_for held &&
	test_expect_code 75 wr-run --workflow lim --concurrency 1 --wait --timeout 500ms -- touch ran 2>err &&
	test_grep "waiting for a slot" err &&
	test_grep "the wait reached --timeout" err &&
	test_must_fail test -e ran &&
	last attempt.rejected rj && jq -e ".reason==\"concurrency_limit\"" rj &&
	touch release && wait $holder
'

test_expect_success '--wait queues: it starts once the slot frees' '
	rm -f held release && hold &&
	wait_for held &&
	{ wr-run --workflow lim --concurrency 1 -- sh -c "echo x >ran" 2>err & } &&
	queued=$! &&
	sleep 0.5 &&
	test_must_fail test -e ran &&
	touch release && wait $holder &&
	wait $queued && test -e ran
'

test_expect_success '10 at once with --concurrency 2: never more than 2 running, all 10 finish' '
	: >marks &&
	pids= &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		{ wr-run --workflow ten --concurrency 2 -- sh -c "echo start >>marks; sleep 0.2; echo end >>marks" 2>/dev/null & }
		pids="$pids $!"
	done &&
	for p in $pids; do wait $p || return 1; done &&
	awk "/start/ { n++; if (n > max) max = n } /end/ { n-- } END { print max }" marks >max &&
	test "$(cat max)" -le 2 &&
	test "$(grep -c start marks)" = 10 && test "$(grep -c end marks)" = 10 &&
	jq -s "map(select(.workflow==\"ten\" and (.type==\"attempt.started\" or .type==\"attempt.finished\"))) |
		reduce .[] as \$e ({n:0,max:0}; if \$e.type==\"attempt.started\" then .n+=1 | .max=([.max,.n]|max) else .n-=1 end) | .max" \
		"$(test_ledger)" >lmax &&
	test "$(cat lmax)" -le 2 &&
	jq -s "map(select(.workflow==\"ten\" and .type==\"attempt.finished\" and .outcome==\"success\")) | length" "$(test_ledger)" >n &&
	echo 10 >expect && test_cmp expect n &&
	test "$(jq -s "map(select(.type==\"attempt.rejected\" and .workflow==\"ten\")) | length" "$(test_ledger)")" = 0
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
