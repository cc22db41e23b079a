#!/bin/bash
# harness.sh - the test library itself: a broken &&-chain fails its test
# without running it, test_when_finished cleans up after pass and failure,
# skips are TAP skips, and under CI a skip is a failure.
. "$(dirname "$0")/../lib.sh"

# sub NAME BODY: a test script of one test with BODY, run like meson runs
# one; its TAP in NAME.tap, its exit status in NAME.rc.
sub() {
	cat >"$1.sh" <<-EOF
	. "\$WR_SRC/tests/cli/lib.sh"
	$2
	test_done
	EOF
	{ bash "$1.sh" >"$1.tap" 2>&1; echo $? >"$1.rc"; }
}

test_expect_success 'a body whose chain is broken fails, and is never run' '
	sub broken "test_expect_success \"t\" \"
		true
		touch \$TRASH/ran &&
		true
	\"" &&
	test "$(cat broken.rc)" = 1 &&
	test_grep "^not ok 1 - t$" broken.tap &&
	test_grep "broken &&-chain" broken.tap &&
	test ! -e ran
'

test_expect_success 'a whole chain runs; a failing command in it fails the test' '
	sub whole "test_expect_success \"t\" \"true && touch $TRASH/whole-ran\"
	test_expect_success \"u\" \"true && false && touch $TRASH/never\"" &&
	test "$(cat whole.rc)" = 1 &&
	test_grep "^ok 1 - t$" whole.tap &&
	test_grep "^not ok 2 - u$" whole.tap &&
	test -e whole-ran && test ! -e never
'

test_expect_success 'test_when_finished runs after a pass and after a failure; a failing cleanup fails' '
	sub clean "test_expect_success \"p\" \"test_when_finished \\\"touch $TRASH/c1\\\" && true\"
	test_expect_success \"f\" \"test_when_finished \\\"touch $TRASH/c2\\\" && false\"
	test_expect_success \"c\" \"test_when_finished false && true\"" &&
	test_grep "^ok 1 - p$" clean.tap &&
	test_grep "^not ok 2 - f$" clean.tap &&
	test_grep "^not ok 3 - c$" clean.tap &&
	test -e c1 && test -e c2
'

test_expect_success 'a missing prerequisite is a TAP skip, and a failure under CI' '
	CI=false sub skip "test_lazy_prereq NEVER false
	test_expect_success NEVER \"t\" \"touch $TRASH/skipped-ran\"" &&
	test "$(cat skip.rc)" = 0 &&
	test_grep "^ok 1 - t # SKIP missing prerequisite NEVER$" skip.tap &&
	test ! -e skipped-ran &&
	CI=true sub ciskip "test_lazy_prereq NEVER false
	test_expect_success NEVER \"t\" \"true\"" &&
	test "$(cat ciskip.rc)" = 1 &&
	test_grep "^not ok 1 - t # missing prerequisite NEVER" ciskip.tap
'

test_expect_success 'FILE_LEDGER: run on a file; on a stream a skip, also under CI' '
	CI=true sub file "test_expect_success FILE_LEDGER \"t\" \"touch $TRASH/file-ran\"" &&
	test "$(cat file.rc)" = 0 &&
	test_grep "^ok 1 - t$" file.tap &&
	test -e file-ran &&
	CI=true sub stream "WR_LEDGER=nats://127.0.0.1:1/S
	test_expect_success FILE_LEDGER \"t\" \"touch $TRASH/stream-ran\"" &&
	test "$(cat stream.rc)" = 0 &&
	test_grep "^ok 1 - t # SKIP a file ledger.s test, on a stream$" stream.tap &&
	test ! -e stream-ran
'

test_expect_success 'test_wait_pid returns the status, and gives up on a process that stays' '
	{ sh -c "exit 3" & } && p=$! &&
	test_expect_code 3 test_wait_pid $p &&
	{ sleep 1000 & } && p=$! &&
	test_must_fail test_wait_pid $p 1 2>err &&
	test_grep "still running after 1s; killed" err &&
	! kill -0 $p 2>/dev/null
'

test_done
