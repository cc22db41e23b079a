#!/bin/bash
# wr-run --quiet-on-success, as chronic(1): a successful attempt prints
# nothing; any other outcome prints the command's whole output afterwards,
# stdout to stdout and stderr to stderr, byte for byte (beyond the memory
# bound of 1 MiB a stream is kept in a temporary file in the ledger's
# directory that has no name); --log gets everything as it comes.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

test_expect_success 'setup: binary data, one stream beyond the memory bound' '
	head -c 3000000 /dev/urandom >big &&
	head -c 70000 /dev/urandom >bin &&
	printf "no newline at the end\000\001\377" >>bin
'

test_expect_success 'a success prints nothing, and is recorded as it is' '
	wr-run --workflow q2 --quiet-on-success -- sh -c "cat big; cat bin >&2" >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	last attempt.finished fin &&
	jq -e ".outcome == \"success\" and .output_bytes == $(( $(wc -c <big) + $(wc -c <bin) ))" fin
'

test_expect_success 'a failure prints both streams afterwards, byte for byte' '
	test_expect_code 3 wr-run --workflow q3 --quiet-on-success -- sh -c "cat big; cat bin >&2; exit 3" >out 2>err &&
	cmp big out &&
	cmp bin err
'

test_expect_success 'so does a timeout (stdout beyond the bound, stderr in memory)' '
	test_expect_code 124 wr-run --workflow q4 --quiet-on-success --timeout 2s -- sh -c "cat bin; cat big >&2; exec sleep 1000" >out 2>err &&
	cmp bin out &&
	{ echo "wr-run: command timed out after 2s; sending SIGTERM to its process group" && cat big; } >expect &&
	cmp expect err
'

test_expect_success 'the kept output is in a file of the ledger directory without a name' '
	ls -A "$TRASH" >files.before &&
	{ wr-run --workflow q5 --quiet-on-success -- sh -c "cat big; touch written; while [ ! -e go ]; do sleep 0.05; done; exit 1" >out 2>err & } &&
	pid=$! &&
	test_wait_until test -e written &&
	ls -l /proc/$pid/fd >fds &&
	test_grep "$TRASH_REAL/.* \(deleted\)" fds &&
	ls -A "$TRASH" | grep -v -x -e written -e out -e err -e fds -e files.during >files.during &&
	grep -v -x -e out -e err -e fds files.before >files.expect &&
	test_cmp files.expect files.during &&
	test_must_be_empty out &&
	touch go &&
	test_expect_code 1 test_wait_pid $pid &&
	cmp big out &&
	test_must_be_empty err
'

test_expect_success '--log gets the output as it comes; the terminal gets it at the end' '
	{ wr-run --workflow q6 --quiet-on-success --log log -- sh -c "echo first; touch one; while [ ! -e go2 ]; do sleep 0.05; done; echo second >&2; exit 1" >out 2>err & } &&
	pid=$! &&
	test_wait_until grep -q first log &&
	test_must_be_empty out &&
	touch go2 &&
	test_expect_code 1 test_wait_pid $pid &&
	printf "first\nsecond\n" >expect && test_cmp expect log &&
	echo first >expect && test_cmp expect out &&
	echo second >expect && test_cmp expect err
'

test_expect_success 'a success with --log: the log has it all, the terminal nothing' '
	wr-run --workflow q7 --quiet-on-success --log log2 -- sh -c "cat bin; cat big" >out 2>err &&
	test_must_be_empty out &&
	cat bin big >expect && cmp expect log2
'

test_expect_success 'stdout and stderr one file (2>&1): one stream, in order' '
	test_expect_code 1 wr-run --workflow q8 --quiet-on-success -- sh -c "echo a; echo b >&2; echo c; exit 1" >both 2>&1 &&
	printf "a\nb\nc\n" >expect && test_cmp expect both
'

test_expect_success 'a cancelled attempt (TERM to wr-run) prints what it had' '
	{ wr-run --workflow q9 --quiet-on-success -- sh -c "echo before; touch up; exec sleep 1000" >out 2>err & } &&
	pid=$! &&
	test_wait_until test -e up &&
	kill -TERM $pid &&
	test_expect_code 143 test_wait_pid $pid &&
	echo before >expect && test_cmp expect out
'

test_done
