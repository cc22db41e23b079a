#!/bin/bash
# wr-run --print-id and what wr-run says on a terminal: the run's id as the
# attempt starts ("wr-run: running as run ID, attempt N", always on a
# terminal, as systemd-run says "Running as unit"), and after a failed
# attempt when wr-recover would retry it and how to stop that. Piped, it
# says nothing of the kind unless told to.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

# on_tty CMD: runs the shell command CMD with a pseudo-terminal as its
# stdin, stdout and stderr; what it wrote there goes to stdout.
on_tty() {
	script -qec "$1" /dev/null </dev/null | tr -d "\r"
}

run_n() {
	jq -r 'select(.type == "run.created") | .run' "$(test_ledger)" | sed -n "$1p"
}

test_expect_success TTY 'on a terminal the run id is said as the attempt starts' '
	on_tty "wr-run -- echo hello" >tty &&
	id=$(run_n 1) &&
	printf "wr-run: running as run %s, attempt 1\nhello\n" $id >expect &&
	test_cmp expect tty
'

test_expect_success TTY 'a failed attempt on a terminal: when wr-recover retries it, and how to stop that' '
	on_tty "wr-run --backoff 10m -- sh -c \"exit 3\"" >tty &&
	id=$(run_n 2) &&
	test_grep "^wr-run: running as run $id, attempt 1$" tty &&
	test_grep "^wr-run: wr-recover will retry run $id \(attempt 2 of 3\) not before [0-9-]+ [0-9:]+ .* \(in [0-9]+m[0-9s]*\); to stop that: wr-recover cancel ${id: -8}$" tty &&
	test $(wc -l <tty) = 2
'

test_expect_success TTY 'a final failure says nothing of a retry' '
	on_tty "wr-run --max-attempts 1 -- false" >tty &&
	test $(wc -l <tty) = 1 &&
	on_tty "wr-run -- nosuchcommand-wr" >tty &&
	test_grep "unable to run nosuchcommand-wr" tty &&
	test_must_fail grep "will retry" tty
'

test_expect_success TTY 'a --run on a terminal: its attempt, the next retry, none after the last' '
	test_expect_code 1 wr-run --workflow again --backoff 0 -- false 2>/dev/null &&
	id=$(jq -r "select(.type == \"run.created\" and .workflow == \"again\") | .run" "$(test_ledger)") &&
	on_tty "wr-run --run $id" >tty &&
	test_grep "^wr-run: running as run $id, attempt 2$" tty &&
	test_grep "^wr-run: wr-recover will retry run $id \(attempt 3 of 3\) not before .*\(in [0-9]+ms\)|\(now\)" tty &&
	on_tty "wr-run --run $id" >tty &&
	test_grep "^wr-run: running as run $id, attempt 3$" tty &&
	test $(wc -l <tty) = 1
'

test_expect_success TTY 'with --quiet-on-success a success prints nothing at all' '
	on_tty "wr-run --quiet-on-success -- echo hidden" >tty &&
	test_must_be_empty tty
'

test_expect_success 'piped, nothing is said: neither the id nor a retry' '
	wr-run -- echo hello >out 2>err &&
	test_must_be_empty err &&
	test_expect_code 1 wr-run --backoff 10m -- false >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'piped with --print-id: the id alone, on stderr' '
	wr-run --print-id -- echo hello >out 2>err &&
	id=$(jq -r "select(.type == \"run.created\") | .run" "$(test_ledger)" | tail -n 1) &&
	echo "wr-run: running as run $id, attempt 1" >expect &&
	test_cmp expect err &&
	echo hello >expect && test_cmp expect out
'

test_expect_success '--print-id with --run names the attempt' '
	test_expect_code 1 wr-run --workflow later --backoff 0 -- false 2>/dev/null &&
	id=$(jq -r "select(.type == \"run.created\") | .run" "$(test_ledger)" | tail -n 1) &&
	wr-recover --workflow later >/dev/null &&
	test_wait_until test_ledger_jq -s "map(select(.type == \"attempt.finished\" and .run == \"$id\")) | length == 2" &&
	flock "$(test_ledger_local).launch/$id.lock" true &&
	test_expect_code 1 wr-run --print-id --run $id 2>err &&
	echo "wr-run: running as run $id, attempt 3" >expect &&
	test_cmp expect err
'

test_done
