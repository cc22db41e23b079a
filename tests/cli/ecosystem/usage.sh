#!/bin/bash
# Every tool: -h/--help (usage, 2+ examples, on stdout, exit 0), --version,
# and an unknown option as a usage error that names it and points at
# --help (exit 2; 125 for wr-run, as timeout(1)).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

usage_status() {
	[ "$1" = wr-run ] && echo 125 || echo 2
}

for t in $WR_TOOLS; do
	test_expect_success "$t --help: usage and examples on stdout, exit 0" '
		'$t' --help >out 2>err &&
		test_grep "^Usage: '$t' " out &&
		test_must_fail test -s err &&
		sed -n "/^Examples:/,\$p" out >examples &&
		test $(grep -c "^  .*'$t'" examples) -ge 2
	'
	test_expect_success "$t -h is --help" '
		'$t' --help >out &&
		'$t' -h >out2 &&
		test_cmp out out2
	'
	test_expect_success "$t --help: the exit status is documented" '
		'$t' --help >out &&
		test_grep "^Exit status" out &&
		for code in $(if [ '$t' = wr-run ]; then echo 123 124 125 126 127 75; else echo 2 74 75; fi); do
			test_grep "(^| )$code( |,|\$)" out || return 1
		done
	'
	test_expect_success "$t --version" '
		'$t' --version >out 2>err &&
		test_grep "^'$t' \(wr\) [0-9]+\.[0-9]+\.[0-9]+$" out &&
		test $(wc -l <out) -eq 1 &&
		test_must_fail test -s err
	'
	test_expect_success "$t: an unknown option is a usage error naming it" '
		test_expect_code $(usage_status '$t') '$t' --no-such-option >out 2>err &&
		test_grep "^'$t': .*--no-such-option" err &&
		test_grep "'$t' --help" err &&
		test_must_fail test -s out
	'
	test_expect_success "$t: a mistyped option suggests the nearest one" '
		if [ '$t' = wr-run ]; then typo=--timout right=--timeout; else typo=--jsno right=--json; fi &&
		test_expect_code $(usage_status '$t') '$t' $typo >out 2>err &&
		test_grep "^'$t': unknown option .$typo.; did you mean .$right..$" err &&
		test_expect_code $(usage_status '$t') '$t' --ledgr=x >out 2>err &&
		test_grep "^'$t': unknown option .--ledgr=x.; did you mean .--ledger..$" err &&
		test_expect_code $(usage_status '$t') '$t' --hepl >out 2>err &&
		test_grep "did you mean .--help..$" err &&
		test_expect_code $(usage_status '$t') '$t' --zzzzzz >out 2>err &&
		test_must_fail test_grep "did you mean" err &&
		test_must_fail test -s out
	'
	test_expect_success "$t: an unknown short option too" '
		test_expect_code $(usage_status '$t') '$t' -Z >out 2>err &&
		test_grep "^'$t': .*-Z" err &&
		test_grep "'$t' --help" err
	'
done

test_expect_success 'a mistyped command suggests the nearest' '
	test_expect_code 2 wr-watch stat 2>err &&
	test_grep "^wr-watch: unknown command .stat.; did you mean .stats..$" err &&
	test_expect_code 2 wr-ledger verfy 2>err &&
	test_grep "did you mean .verify..$" err &&
	test_expect_code 2 wr-outbox delvier 2>err &&
	test_grep "did you mean .deliver..$" err &&
	test_expect_code 2 wr-recover unblok x 2>err &&
	test_grep "did you mean .unblock..$" err &&
	test_expect_code 2 wr-watch frobnicate 2>err &&
	test_grep "unknown command .frobnicate. \(status, show, logs, follow, check, expect, stats, plot or report\)" err
'

test_done
