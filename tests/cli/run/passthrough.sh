#!/bin/bash
# The command's stdout and stderr pass through byte for byte (binary, no
# final newline, 100 MB), also to --log; wr-run writes nothing on stdout.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

test_expect_success 'setup: 100 MB of random bytes' '
	head -c 104857600 /dev/urandom >big &&
	printf "no newline at the end" >partial
'

# Random bytes hold "\n\n\n\n" (three empty lines in a row) in about one
# file in ten: a repeat of 3 would rightly call it stuck. 50 empty lines
# in a row do not happen by chance.
test_expect_success '100 MB binary stream on stdout, byte for byte, with stuck detection on' '
	wr-run --stuck-repeat 50 -- cat big >out 2>err &&
	cmp big out &&
	last attempt.finished fin &&
	jq -e ".outcome==\"success\" and .output_bytes==104857600" fin
'

test_expect_success '100 MB binary stream through a pipe to a slow reader' '
	wr-run -- cat big | { sleep 1; cat; } >out &&
	cmp big out
'

test_expect_success 'stdout and stderr stay apart; partial lines untouched' '
	wr-run -- sh -c "cat partial; printf \"to err\" >&2; printf \"\\000\\001x\"" >out 2>err &&
	{ cat partial; printf "\000\001x"; } >expect && cmp expect out &&
	printf "to err" >expect && cmp expect err
'

test_expect_success '--log gets everything too, appended, mode 0600' '
	echo "earlier" >log &&
	chmod 600 log &&
	wr-run --log newlog -- cat big >out &&
	cmp big newlog &&
	cmp big out &&
	test "$(stat -c %a newlog)" = 600 &&
	wr-run --log log -- sh -c "echo one; echo two >&2" >out 2>err &&
	printf "earlier\none\ntwo\n" >expect && test_cmp expect log
'

test_expect_success 'a reader that goes away: the command meets EPIPE as without wr-run' '
	wr-run -- yes | head -n 2 >out &&
	printf "y\ny\n" >expect && test_cmp expect out &&
	last attempt.finished fin &&
	jq -e ".signal==13" fin
'

test_expect_success 'wr-run never writes to stdout, even when it fails' '
	test_expect_code 3 wr-run --timeout 10s -- sh -c "exit 3" >out 2>err &&
	test_must_fail test -s out &&
	test_expect_code 127 wr-run -- no-such-cmd >out 2>err &&
	test_must_fail test -s out
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
