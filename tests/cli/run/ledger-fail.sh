#!/bin/bash
# Work that is not recorded must not happen: when the start cannot be
# written the command never runs (125). When the end cannot be written
# wr-run says so and exits 125; the attempt stays live in the ledger.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

test_expect_success 'ledger path is a directory: 125, command not run' '
	mkdir dirledger &&
	test_expect_code 125 wr-run --ledger dirledger -- touch ran 2>err &&
	test_grep "^wr-run: unable to open ledger .*dirledger" err &&
	test_must_fail test -e ran
'

test_expect_success 'ledger under a file: 125, command not run' '
	echo x >afile &&
	test_expect_code 125 wr-run --ledger afile/ledger.jsonl -- touch ran 2>err &&
	test_grep "^wr-run: " err &&
	test_must_fail test -e ran
'

test_expect_success 'ledger writable by others is refused: 125, command not run' '
	: >shared.jsonl && chmod 666 shared.jsonl &&
	test_expect_code 125 wr-run --ledger shared.jsonl -- touch ran 2>err &&
	test_grep "writable by group or others" err &&
	test_must_fail test -e ran
'

test_expect_success 'lock held too long by another process: 125, command not run' '
	wr-run -- true &&
	{ flock "$WR_LEDGER.lock" sh -c "echo x >locked; while ! test -e unlock; do sleep 0.05; done" & } &&
	locker=$! &&
	wait_for locked &&
	test_expect_code 125 env WR_LOCK_TIMEOUT=300ms wr-run -- touch ran 2>err &&
	test_grep "timed out after 300ms waiting for the lock" err &&
	test_grep "the command was not run" err &&
	test_must_fail test -e ran &&
	touch unlock && wait $locker &&
	test "$(count attempt.started)" = 1
'

test_expect_success 'the end cannot be recorded: 125, said on stderr, the attempt stays live' '
	test_expect_code 125 wr-run -- sh -c "mv \"\$WR_LEDGER\" moved.jsonl && mkdir \"\$WR_LEDGER\"; exit 0" 2>err &&
	test_grep "unable to record the end of attempt 1 of run .* \(success, exit 0\)" err &&
	test_grep "stays live in the ledger until .wr-watch check." err &&
	rmdir "$WR_LEDGER" && mv moved.jsonl "$WR_LEDGER" &&
	run=$(run_of -1) &&
	test "$(jq -s "map(select(.run==\"$run\" and .type==\"attempt.finished\")) | length" "$(test_ledger)")" = 0 &&
	last attempt.started st && jq -e ".run==\"$run\"" st &&
	wr-ledger verify
'

test_done
