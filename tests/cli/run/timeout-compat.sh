#!/bin/bash
# timeout-compat.sh - the cases of coreutils' tests/timeout/*.sh that apply
# to wr-run, adapted: timeout(1)'s positional DURATION is --timeout here,
# and "timeout" in messages is "wr-run". Each test names the coreutils case
# it adapts (coreutils commit aa0c0de, tests/timeout/). Not adapted:
# timeout-group.sh's PR_SET_PDEATHSIG case (the command when its supervisor
# is SIGKILLed: the reliability work covers it); messages and timings that
# are timeout's own.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

# One workflow per test: the failures of one case must not open the
# circuit breaker for the next.
wrt() {
	wr-run --workflow "case$test_count" "$@"
}

# timeout.sh: "no timeout", "no timeout (suffix check)", "disabled timeout"
test_expect_success 'timeout.sh: no timeout, a suffix, 0 disables it' '
	wrt --timeout 10 -- true &&
	wrt --timeout 1d -- true &&
	wrt --timeout 0 -- true &&
	last run.created rc && jq -e ".policy.timeout_ms == null" rc
'

# timeout.sh: "exit status propagation"
test_expect_success 'timeout.sh: the exit status is passed on' '
	test_expect_code 2 wrt --timeout 10 -- sh -c "exit 2"
'

# timeout.sh: "timeout"
test_expect_success 'timeout.sh: a timeout exits 124' '
	test_expect_code 124 wrt --timeout .1 -- sleep 10
'

# timeout.sh: "exit status propagation even on timeout" (128+TERM)
test_expect_success 'timeout.sh: --preserve-status: 128+TERM, the ledger still says timeout' '
	test_expect_code 143 wrt --preserve-status --timeout .1 -- sleep 10 &&
	last attempt.finished fin && jq -e ".outcome == \"timeout\" and .signal == 15" fin
'

# timeout.sh: "kill delay" -s0 -k1: the status is 128+KILL, not 124
test_expect_success 'timeout.sh: -s0 -k1: nothing sent, SIGKILL after the grace: 137' '
	test_expect_code 137 wrt -s0 -k1 --timeout .1 -- sleep 10 &&
	last attempt.finished fin && jq -e ".outcome == \"timeout\" and .signal == 9" fin &&
	last run.created rc && jq -e ".policy.signal == 0 and .policy.kill_after_ms == 1000" rc
'

# timeout.sh: "Ensure a consistent exit status with --foreground"
test_expect_success 'timeout.sh: --foreground -s0 -k1: 137 too' '
	test_expect_code 137 wrt --foreground -s0 -k1 --timeout .1 -- sleep 10 &&
	last attempt.started st && jq -e "has(\"pgid\") | not" st
'

# timeout.sh: "Ensure 'timeout' is immune to parent's SIGCHLD handler"
test_expect_success 'timeout.sh: an ignored SIGCHLD at the start does not matter' '
	(trap "" CHLD && exec wr-run --timeout 10 -- true) &&
	test_expect_code 3 sh -c "trap \"\" CHLD; exec wr-run --timeout 10 -- sh -c \"exit 3\""
'

# timeout.sh: "Don't be confused when starting off with a child (Bug#9098)"
test_expect_success 'timeout.sh: started with a child of its own already' '
	{ out=$(setsid sleep .1 & exec wr-run --timeout .5 -- sh -c "sleep 2; echo foo"); status=$?; } &&
	test "$out" = "" && test $status = 124
'

# timeout.sh: "Verify --verbose output" (timeout: prefix -> wr-run:)
for opt in -v --verbose; do
	test_expect_success "timeout.sh: $opt says each signal sent" '
		test_expect_code 137 wrt '"$opt"' -s0 -k .1 --timeout .1 -- sleep 10 2>errt &&
		grep "to command" errt >err &&
		printf "%s\n" "wr-run: sending signal 0 to command '"'sleep'"'" \
			"wr-run: sending signal KILL to command '"'sleep'"'" >exp &&
		test_cmp exp err
	'
done

# timeout.sh: "Ensure we propagate all terminating signals": wr-run is not
# killed by SIGPIPE when its stderr reader is gone
test_expect_success 'timeout.sh: a closed stderr pipe does not kill wr-run: 124' '
	{ { wrt -v --timeout .1 -- sleep 10 2>&1; echo $? >timeout.status; } | :; } &&
	echo 124 >timeout.exp &&
	test_cmp timeout.exp timeout.status
'

# timeout.sh: "Ensure we don't catch/propagate ignored signals"
test_expect_success 'timeout.sh: under an ignored SIGPIPE, yes sees EPIPE' '
	{ (trap "" PIPE && wrt --timeout 10 -- yes | :) 2>err; } &&
	test_grep "Broken pipe" err
'

# timeout-parameters.sh: "invalid timeouts", "invalid kill delay",
# "invalid timeout suffix", "invalid signal spec": 125
for bad in "--timeout invalid" "--timeout= -0.1" "--timeout= -1e-10000" "--timeout 1 --kill-after=invalid" \
	"--timeout 42D" "--timeout 1 --signal=invalid"; do
	test_expect_success "timeout-parameters.sh: $bad is refused, 125" '
		test_expect_code 125 wrt '"$bad"' -- sleep 0 2>err &&
		test_grep "option .--(timeout|kill-after|signal)." err &&
		test_must_fail test -s "$WR_LEDGER.never"
	'
done

test_expect_success 'timeout-parameters.sh: the error says what was wrong' '
	test_expect_code 125 wrt --timeout 42D -- sleep 0 2>err &&
	test_grep "invalid duration .42D.: unknown unit" err &&
	test_expect_code 125 wrt "--timeout= -0.1" -- sleep 0 2>err &&
	test_grep "invalid duration" err &&
	test_expect_code 125 wrt --timeout -1 -- sleep 0 2>err &&
	test_grep "cannot be negative" err
'

# timeout-parameters.sh: "floating point notation", "nanoseconds
# potentially supported", "round underflow up to 1 ns" (1 ms here)
test_expect_success 'timeout-parameters.sh: fractions, and underflow rounds up' '
	wrt --timeout 10.34 -- sleep 0 &&
	wrt --timeout 9.999999999 -- sleep 0 &&
	test_expect_code 124 wrt --timeout 1e-10000 -- sleep 10 &&
	last run.created rc && jq -e ".policy.timeout_ms == 1" rc
'

# timeout-parameters.sh: "invalid command", "no such command"
test_expect_success 'timeout-parameters.sh: 126 cannot execute, 127 not found' '
	test_expect_code 126 wrt --timeout 10 -- . &&
	test_expect_code 127 wrt --timeout 10 -- no_such
'

# timeout-large-parameters.sh: TIME_T_OFLOW does not fire at once;
# "timeout overflow" (UINT_OFLOW, TIME_T_OFLOW d), "floating point
# notation" (2.34e+5d), "floating point overflow" (LDBL_MAX): for ever
TIME_T_OFLOW=9223372036854775808
UINT_OFLOW=4294967296
LDBL_MAX=1.18973149535723176502e+4932
test_expect_success 'timeout-large-parameters.sh: too large is for ever, not an error' '
	wrt --timeout $TIME_T_OFLOW -- sleep 0.2 &&
	wrt --timeout $UINT_OFLOW -- sleep 0 &&
	wrt --timeout ${TIME_T_OFLOW}d -- sleep 0 &&
	wrt --timeout 2.34e+5d -- sleep 0 &&
	wrt --timeout $LDBL_MAX -- sleep 0 &&
	wrt --kill-after $LDBL_MAX --timeout 10 -- sleep 0 &&
	test_expect_code 125 wrt --timeout -$LDBL_MAX -- sleep 0
'

# timeout-blocked.pl: "block-alrm": a signal blocked at the start (there
# SIGALRM, timeout's timer; here the signals wr-run waits for) does not
# keep the timeout from working
test_expect_success 'timeout-blocked.pl: signals blocked at the start: still 124' '
	test_expect_code 124 perl -MPOSIX -e \
		"sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGALRM, SIGCHLD, SIGTERM)) or die; exec @ARGV" \
		wr-run --timeout .1 -- sleep 10
'

# init-parent.sh: the supervisor is pid 1 of a new pid namespace
test_expect_success 'init-parent.sh: as pid 1 of a pid namespace: 124' '
	test_expect_code 124 unshare --pid --fork --map-root-user wr-run --timeout .1 -- sleep 10
'

# timeout-group.sh: timeout.cmd, which waits for a signal (USR1 there; ALRM
# too here, for the nested case below)
cat >timeout.cmd <<\CMD
#!/bin/sh
trap 'touch sig.received; exit' USR1 ALRM
touch timeout.running
count=$1
until test -e sig.received || test $count = 0; do
  sleep 1
  count=$(expr $count - 1)
done
CMD
chmod +x timeout.cmd

# timeout-group.sh, first case: with --foreground, a signal sent to the
# whole group reaches the command, which shares the group
test_expect_success 'timeout-group.sh: --foreground, a signal to the group reaches the command' '
	rm -f sig.received timeout.running &&
	printf "%s\n" "#!/bin/sh" "trap \"\" USR1" \
		"env --default-signal=USR1 wr-run -v --foreground --timeout 25 -- ./timeout.cmd 20 &" \
		"wait" >group.sh &&
	chmod +x group.sh &&
	{ setsid ./group.sh & } &&
	pid=$! &&
	test_wait_until test -e timeout.running &&
	kill -USR1 -- -$pid &&
	wait $pid &&
	test -e sig.received
'

# timeout-group.sh, last case: an outer timeout's signal (ALRM) stops the
# inner supervisor's command, which does not go on for 20 s: the inner
# wr-run passes it on and records a cancel, the outer one exits 124
test_expect_success 'timeout-group.sh: nested, the outer timeout stops the inner command' '
	rm -f sig.received timeout.running &&
	test_expect_code 124 wr-run --workflow outer -s ALRM --timeout 1 -- \
		wr-run --workflow inner -s USR1 --timeout 25 -- ./timeout.cmd 20 &&
	test -e sig.received &&
	jq -r "select(.type == \"attempt.finished\" and (.workflow == \"inner\" or .workflow == \"outer\")) | [.workflow, .outcome] | @tsv" \
		"$(test_ledger)" >got &&
	printf "inner\tcancelled\nouter\ttimeout\n" >expect &&
	test_cmp expect got
'

test_expect_success 'the ledger verifies' '
	wr-ledger verify
'

test_done
