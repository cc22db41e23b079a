#!/bin/bash
# verbs.sh - the manual verbs: retry (--force), unblock, cancel, breaker
# reset; RUN by prefix or short id; refusals and usage errors.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/recover/lib-recover.sh"

attempts_of() {
	count ".type == \"attempt.started\" and .run == \"$1\""
}

test_expect_success 'setup' '
	failed_run blocked-run w1 "$(policy 1)" &&
	ev recovery.decided "{run: \"blocked-run\", attempt: 1, action: \"escalate\", recoveries: 0}" &&
	ev run.blocked "{run: \"blocked-run\", reason: \"max attempts used\"}" &&
	failed_run final-run w2 "$(policy 1)" &&
	failed_run waiting-run w3 "$(policy 3)" &&
	ev recovery.decided "{run: \"waiting-run\", attempt: 1, action: \"retry\", recoveries: 1, not_before: \"$FUTURE\"}" &&
	failed_run plain-run w4 "$(policy 3 "backoff: {initial_ms: 3600000}")" &&
	created done-run w5 "$(policy 3)" &&
	started done-run 1 elsewhere 4242 1 "$FUTURE" &&
	finished done-run 1 success 0 &&
	created live-run w6 "$(policy 3)" &&
	started live-run 1 elsewhere 4242 1 "$FUTURE"
'

test_expect_success 'retry of a blocked run is refused without --force' '
	cp "$(test_ledger)" before &&
	test_expect_code 1 wr-recover retry blocked-run 2>err &&
	test_grep "is blocked.*retry --force" err &&
	cmp before "$(test_ledger)"
'

test_expect_success 'retry --force unblocks it (with the note) and launches it now' '
	wr-recover retry --force --note "tried by hand" blocked-run >out &&
	wait_launched &&
	test_grep "^unblock +blocked-run" out &&
	test_grep "^launch +blocked-run.*launched$" out &&
	test $(count ".type == \"run.unblocked\" and .run == \"blocked-run\" and .note == \"tried by hand\"") -eq 1 &&
	test $(attempts_of blocked-run) -eq 2 &&
	test "$(status_of blocked-run)" = succeeded
'

test_expect_success 'retry of a failure that is final needs --force, then starts a new budget' '
	cp "$(test_ledger)" before &&
	test_expect_code 1 wr-recover retry final-run 2>err &&
	test_grep "no retry may follow attempt 1 \(max_attempts\)" err &&
	cmp before "$(test_ledger)" &&
	wr-recover --json retry --force final-run >out &&
	wait_launched &&
	jq -c "[.action, .reason, .recoveries, .launched]" out >got &&
	echo "[\"retry\",\"manual_forced\",0,true]" >expect &&
	test_cmp expect got &&
	test $(count ".type == \"recovery.decided\" and .run == \"final-run\" and .reason == \"manual_forced\"") -eq 1 &&
	test $(attempts_of final-run) -eq 2
'

test_expect_success 'retry ignores the backoff of a waiting run, recording nothing more' '
	wr-recover --json retry waiting-run >out &&
	wait_launched &&
	jq -c "[.action, .launched]" out >got &&
	echo "[\"launch\",true]" >expect &&
	test_cmp expect got &&
	test $(count ".type == \"recovery.decided\" and .run == \"waiting-run\"") -eq 1 &&
	test $(attempts_of waiting-run) -eq 2
'

test_expect_success 'retry of an undecided failure records a manual decision' '
	wr-recover --json retry plain-run >out &&
	wait_launched &&
	jq -c "[.action, .reason, .recoveries, .launched]" out >got &&
	echo "[\"retry\",\"manual\",1,true]" >expect &&
	test_cmp expect got &&
	test $(attempts_of plain-run) -eq 2
'

test_expect_success 'retry of a succeeded or running run is refused' '
	cp "$(test_ledger)" before &&
	test_expect_code 1 wr-recover retry done-run 2>err &&
	test_grep "has ended \(succeeded\)" err &&
	test_expect_code 1 wr-recover retry live-run 2>err &&
	test_grep "is running" err &&
	cmp before "$(test_ledger)"
'

test_expect_success 'RUN by unambiguous prefix or short id; ambiguity refused' '
	failed_run abc-11111111 w7 "$(policy 3 "backoff: {initial_ms: 3600000}")" &&
	failed_run abc-22222222 w8 "$(policy 3 "backoff: {initial_ms: 3600000}")" &&
	cp "$(test_ledger)" before &&
	test_expect_code 2 wr-recover cancel abc 2>err &&
	test_grep "ambiguous" err &&
	test_expect_code 2 wr-recover cancel nosuchrun 2>err &&
	test_grep "no run .nosuchrun." err &&
	cmp before "$(test_ledger)" &&
	wr-recover cancel 22222222 --reason "not needed" >out &&
	test_grep "^cancel +abc-22222222" out
'

test_expect_success 'cancel of a run without a live attempt: run.cancelled and one outbox entry' '
	test "$(status_of abc-22222222)" = cancelled &&
	test $(count ".type == \"run.cancelled\" and .run == \"abc-22222222\" and .reason == \"not needed\"") -eq 1 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"cancelled\" and .run == \"abc-22222222\"") -eq 1 &&
	cp "$(test_ledger)" before &&
	test_expect_code 1 wr-recover cancel abc-22222222 2>err &&
	test_grep "has ended \(cancelled\)" err &&
	cmp before "$(test_ledger)"
'

test_expect_success 'a pass leaves a cancelled run alone' '
	wr-recover --workflow w8 >out &&
	test_must_be_empty out
'

test_expect_success 'cancel of a live attempt on this host kills its group; one decision' '
	{ wr-run --workflow long --kill-after 200ms -- sleep 1000 >/dev/null 2>wr-run.err & } &&
	wr=$! &&
	while ! grep -q "\"attempt.started\".*\"workflow\":\"long\"" "$(test_ledger)"; do sleep 0.01; done &&
	run=$(jq -r "select(.type == \"run.created\" and .workflow == \"long\") | .run" "$(test_ledger)") &&
	wr-recover cancel "$run" --reason "no longer needed" >out &&
	test_grep "killed process group" out &&
	{ wait $wr; rc=$?; } &&
	test $rc = 143 &&
	test_grep "was cancelled" wr-run.err &&
	test "$(status_of $run)" = cancelled &&
	test $(count ".type == \"attempt.finished\" and .run == \"$run\" and .outcome == \"cancelled\" and (.by | startswith(\"wr-recover/\"))") -eq 1 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"cancelled\" and .run == \"$run\"") -eq 1 &&
	test $(count ".type == \"run.cancelled\" and .run == \"$run\"") -eq 1 &&
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_expect_success 'cancel of a live attempt on another host records it, kills nothing' '
	wr-recover cancel live-run >out &&
	test_grep "runs on host elsewhere, not on this host" out &&
	test "$(status_of live-run)" = cancelled
'

test_expect_success 'an open breaker: status and show name it, unblock says it holds the retry back' '
	failed_run held-run w7 "$(policy 1)" &&
	ev recovery.decided "{run: \"held-run\", attempt: 1, action: \"escalate\", recoveries: 0}" &&
	ev run.blocked "{run: \"held-run\", reason: \"max attempts used\"}" &&
	ev breaker.changed "{workflow: \"w7\", from: \"closed\", to: \"open\", open_until: \"$FUTURE\"}" "$(ts_at now)" &&
	wr-watch --workflow w7 >out &&
	test_grep "^breaker: w7 open until $FUTURE \(in [0-9].*\): starts are refused until then; .wr-recover breaker w7 reset. closes it$" out &&
	wr-watch show held-run >out &&
	test_grep "^breaker   open until $FUTURE \(in " out &&
	wr-recover unblock held-run >out &&
	test_grep "^unblock +held-run \(w7\).*breaker is open until $FUTURE \(in .*\): starts are refused until then; the retry waits for it \(.wr-recover breaker w7 reset. closes it now\)$" out &&
	wr-recover breaker w7 reset >out &&
	test_grep "^breaker +- \(w7\): was open, now closed; starts are admitted again$" out &&
	wr-watch --workflow w7 >out &&
	test_must_fail grep -q "^breaker" out &&
	wr-watch show held-run >out &&
	test_must_fail grep -q "^breaker" out
'

test_expect_success 'a half-open breaker: the next start is a trial' '
	ev breaker.changed "{workflow: \"w7\", from: \"closed\", to: \"open\", open_until: \"$(ts_at now)\"}" "$(ts_at now)" &&
	ev breaker.changed "{workflow: \"w7\", from: \"open\", to: \"half_open\"}" "$(ts_at now)" &&
	wr-watch --workflow w7 >out &&
	test_grep "^breaker: w7 half open: the next start is a trial" out &&
	wr-recover breaker w7 reset >out &&
	test_grep ": was half open, now closed" out
'

test_expect_success 'breaker reset: unknown workflow refused, closed one says so' '
	test_expect_code 1 wr-recover breaker nosuchwf reset 2>err &&
	test_grep "no workflow nosuchwf" err &&
	wr-recover breaker w1 reset >out &&
	test_grep "already closed" out &&
	ev breaker.changed "{workflow: \"w1\", from: \"closed\", to: \"open\", open_until: \"$FUTURE\"}" "$(ts_at now)" &&
	wr-recover --json breaker w1 reset >out &&
	jq -r .reason out >got &&
	echo "was open, now closed" >expect &&
	test_cmp expect got &&
	test $(count ".type == \"breaker.changed\" and .workflow == \"w1\" and .from == \"open\" and .to == \"closed\"") -eq 1
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 wr-recover frobnicate 2>err &&
	test_grep "unknown command" err &&
	test_expect_code 2 wr-recover retry 2>err &&
	test_expect_code 2 wr-recover retry a b 2>err &&
	test_expect_code 2 wr-recover unblock x --force 2>err &&
	test_expect_code 2 wr-recover --limit many 2>err &&
	test_expect_code 2 wr-recover --bogus 2>err &&
	test_expect_code 2 wr-recover breaker w1 open 2>err &&
	test_expect_code 2 wr-recover cancel x --workflow w1 2>err &&
	wr-recover --help >out &&
	test_grep "^Exit status" out
'

test_expect_success 'the ledger verifies clean' '
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_done
