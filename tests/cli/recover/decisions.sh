#!/bin/bash
# decisions.sh - a pass's decisions on hand-built ledgers: backoff
# min(initial*factor^n, max) within its +-20% jitter, one decision per
# attempt over repeated passes, --limit and --workflow, exit statuses.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/recover/lib-recover.sh"

# delay RUN ATTEMPT: not_before - ts of the run's decision, in ms.
delay() {
	jq -s --arg run "$1" --argjson a "$2" '
		def ms: (sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000 + (capture("\\.(?<f>[0-9]+)Z$").f | tonumber);
		.[] | select(.type == "recovery.decided" and .run == $run and .attempt == $a) |
		(.not_before | ms) - (.ts | ms)' "$(test_ledger)"
}

# between V LO HI
between() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || { echo "$1 not in [$2, $3]" >&2; return 1; }
}

BO='backoff: {initial_ms: 100000, factor: 2.0, max_ms: 110000}'

test_expect_success 'first retry: initial delay, +-20%' '
	failed_run first w1 "$(policy 5 "$BO")" &&
	wr-recover >out &&
	between $(delay first 1) 80000 120000
'

test_expect_success 'second retry: initial*factor, capped at max, +-20%' '
	failed_run second w2 "$(policy 5 "$BO")" &&
	ev recovery.decided "{run: \"second\", attempt: 1, action: \"retry\", recoveries: 1, not_before: \"$T0\"}" &&
	started second 2 elsewhere 4243 1 "$PAST" &&
	finished second 2 error 1 &&
	wr-recover >out &&
	between $(delay second 2) 88000 132000 &&
	jq -c "select(.type == \"recovery.decided\" and .run == \"second\") | .recoveries" "$(test_ledger)" >got &&
	printf "1\n2\n" >expect &&
	test_cmp expect got
'

test_expect_success 'the jitter spreads runs that failed together' '
	for i in $(seq 10); do failed_run "j$i" "wj$i" "$(policy 5 "$BO")" || return 1; done &&
	wr-recover >out &&
	for i in $(seq 10); do between $(delay "j$i" 1) 80000 120000 || return 1; delay "j$i" 1; done >delays &&
	test $(sort -u delays | wc -l) -gt 1
'

test_expect_success 'repeated passes never decide twice about an attempt' '
	cp "$(test_ledger)" before &&
	wr-recover >out && wr-recover >>out && wr-recover --json >>out &&
	test_must_be_empty out &&
	cmp before "$(test_ledger)" &&
	jq -s "[.[] | select(.type == \"recovery.decided\")] | group_by([.run, .attempt]) | map(length) | max" \
		"$(test_ledger)" >max &&
	echo 1 >expect &&
	test_cmp expect max
'

test_expect_success '--limit N acts on at most N runs per pass' '
	for i in 1 2 3; do failed_run "l$i" wl "$(policy 5 "$BO")" || return 1; done &&
	wr-recover --limit 2 --json >out &&
	test $(wc -l <out) -eq 2 &&
	wr-recover --limit 2 --json >out &&
	jq -r .run out >got &&
	echo l3 >expect &&
	test_cmp expect got
'

test_expect_success '--workflow W decides only about runs of W' '
	failed_run wa1 wa "$(policy 5 "$BO")" &&
	failed_run wb1 wb "$(policy 5 "$BO")" &&
	wr-recover --workflow wb --json >out &&
	jq -r .run out >got &&
	echo wb1 >expect &&
	test_cmp expect got &&
	test $(count ".type == \"recovery.decided\" and .run == \"wa1\"") -eq 0
'

test_expect_success 'the decision is the one recorded: JSON fields' '
	wr-recover --json >out &&
	jq -c "[.run, .workflow, .attempt, .action, .reason, .recoveries, .launched]" out >got &&
	echo "[\"wa1\",\"wa\",1,\"retry\",\"error\",1,false]" >expect &&
	test_cmp expect got &&
	test "$(jq -r .not_before out)" = "$(jq -r "select(.type == \"recovery.decided\" and .run == \"wa1\") | .not_before" "$(test_ledger)")"
'

test_expect_success 'a missing ledger: the pass fails (74: a wrong path, not nothing to do) and creates nothing' '
	test_expect_code 74 wr-recover --ledger "$TRASH/none/l.jsonl" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^wr-recover: no ledger at $TRASH/none/l.jsonl" err &&
	test_expect_code 74 wr-recover --ledger "$TRASH/none/l.jsonl" cancel x 2>err &&
	test_grep "no ledger at" err &&
	! test -e "$TRASH/none"
'

test_expect_success 'lock wait timed out: 75, nothing recorded' '
	failed_run lk wk "$(policy 5 "$BO")" &&
	cp "$(test_ledger)" before &&
	{ flock "$WR_LEDGER.lock" sh -c "touch held; while ! test -e release; do sleep 0.02; done" & } &&
	holder=$! &&
	while ! test -e held; do sleep 0.01; done &&
	{ WR_LOCK_TIMEOUT=100ms test_expect_code 75 wr-recover 2>err; rc=$?; touch release; wait $holder; test $rc -eq 0; } &&
	test_grep "timed out" err &&
	cmp before "$(test_ledger)"
'

test_expect_success 'a ledger others may write is refused: 74' '
	chmod 666 "$WR_LEDGER" &&
	test_expect_code 74 wr-recover 2>err &&
	test_grep "refusing ledger" err &&
	chmod 600 "$WR_LEDGER"
'

test_expect_success 'the ledger verifies clean' '
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_done
