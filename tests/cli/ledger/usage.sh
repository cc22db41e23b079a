#!/bin/bash
# wr-ledger usage: --help, --version, and usage errors (exit 2, pointing
# at --help).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

test_expect_success '--help and -h print the usage on stdout, exit 0' '
	wr-ledger --help >out 2>err &&
	test_grep "^Usage: wr-ledger " out &&
	test_grep "verify" out && test_grep "repair" out && test_grep "stats" out &&
	test_must_fail test -s err &&
	wr-ledger -h >out2 &&
	cmp out out2
'

test_expect_success '--version' '
	wr-ledger --version >out &&
	test_grep "^wr-ledger \(wr\) [0-9]+\.[0-9]+\.[0-9]+$" out
'

# usage_error TEXT ARGS...: exit 2, the message, then the pointer to --help.
usage_error() {
	local want=$1
	shift
	test_expect_code 2 wr-ledger "$@" >out 2>err &&
	test_grep "^wr-ledger: $want" err &&
	test_grep "^Try .wr-ledger --help. for more information\.$" err &&
	test_must_fail test -s out
}

test_expect_success 'no command' 'usage_error "missing command"'
test_expect_success 'an unknown command' 'usage_error "unknown command .frobnicate." frobnicate'
test_expect_success 'an unknown option' 'usage_error "unknown option .--frob." --frob verify'
test_expect_success 'an unknown short option' 'usage_error "unknown option" -x verify'
test_expect_success '--ledger without its value' 'usage_error "option .--ledger. needs a value" --ledger'
test_expect_success 'an extra argument' 'usage_error "unexpected argument .extra." verify extra'

test_expect_success 'the jq example of --help says something on a clean ledger and on a bad one' '
	wr-ledger --help >help &&
	sed -n "/^  wr-ledger --json verify |$/{n;s/^ *//p}" help >filter.sh &&
	test -s filter.sh &&
	wr-run -- true &&
	wr-ledger --json verify >verify.json &&
	sh -c "$(cat filter.sh) verify.json" >out &&
	echo "0 problems" >want &&
	test_cmp want out &&
	bad=$(test_ledger) &&
	echo "{\"bad" >>"$bad" &&
	test_expect_code 1 wr-ledger --ledger "$bad" --json verify >verify.json &&
	sh -c "$(cat filter.sh) verify.json" >out &&
	test_grep "^4: invalid JSON" out &&
	test_grep "^1 problems$" out
'

test_expect_success FILE_LEDGER 'output cut short by a closed pipe: no error message' '
	seq 1 20000 | sed "s/.*/oops/" >"$WR_LEDGER" &&
	{ wr-ledger --json verify 2>err; echo $? >rc; } | head -c1 >/dev/null &&
	test "$(cat rc)" = 141 &&
	test_must_fail test -s err
'

test_expect_success DEVFULL 'a full disk is an error (stdout to /dev/full)' '
	test_must_fail wr-ledger --help >/dev/full 2>err &&
	test_grep "unable to write standard output" err
'

test_done
