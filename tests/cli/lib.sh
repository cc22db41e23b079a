# lib.sh - helpers for the CLI tests, in the manner of git's t/test-lib.sh.
#
# Each script (tests/cli/TOOL/NAME.sh) sources this file, then runs test_expect_success blocks: a
# title and a body of commands joined with &&. Every script runs in its own
# scratch directory with its own ledger; the binaries come from the build
# directory ($WR_BUILD, set by meson) and nothing of the user's is touched.
#
# The ledger's backend is WR_TEST_BACKEND: file (the default,
# $TRASH/ledger.jsonl) or nats (the suite cli-nats): a JetStream stream of
# the script's own, R3 on a 3-node nats-server cluster the script starts
# on loopback and stops (tests/nats/lib-nats.sh), or, with
# WR_TEST_NATS_URL=nats://HOST:PORT[,...], on that cluster (a stream named
# after the script and its pid, left there). A test reads the ledger as
# JSONL through test_ledger (the file, or the stream's export) and writes
# events only through the tools or lib-events.sh's fixtures.
#
#   test_expect_success 'title' '
#       wr-run -- true &&
#       test_must_fail wr-ledger verify
#   '
#   test_done

set -u
: "${WR_BUILD:?WR_BUILD must name the build directory}"
WR_SRC=${WR_SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
PATH="$WR_BUILD/cmd:$PATH"
export PATH WR_SRC WR_BUILD
unset WR_RUN WR_WORKFLOW WR_ATTEMPT WR_STAGES_DONE WR_PROGRESS_FD NO_COLOR

test_name=$(basename "$0" .sh)
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/wr-test-$test_name.XXXXXX")
export HOME="$TRASH/home" XDG_STATE_HOME="$TRASH/state" XDG_CACHE_HOME="$TRASH/cache"
mkdir -p "$HOME"
export WR_LEDGER="$TRASH/ledger.jsonl"
cd "$TRASH" || exit 1

TRASH_REAL=$(pwd -P)

test_count=0
test_failures=0

LF='
'

# test_expect_success [PREREQ] TITLE BODY: runs BODY (commands joined with
# &&) in a subshell of its own; "ok" when it exits 0. PREREQ names one or
# more comma-separated prerequisites (test_lazy_prereq); a test whose
# prerequisite is missing is reported as a TAP skip, and under CI (CI set
# and not "false") as a failure, since CI installs everything the suite
# needs; FILE_LEDGER (below) is a skip under CI too.
#
# Before it runs, BODY is checked as git's test-lib.sh does: evaluated
# behind "(exit 117) &&", a whole chain never runs and the status stays
# 117; any other status means a command is not joined with && (or a here
# document runs away), and the test fails without being run.
# WR_TEST_CHAIN_LINT_ONLY=1 checks every body of a script and runs none.
test_expect_success() {
	local prereq=
	if [ $# -eq 3 ]; then
		prereq=$1
		shift
	fi
	test_count=$((test_count + 1))
	if [ -n "$prereq" ] && ! test_have_prereq "$prereq"; then
		if [ "$test_missing_prereq" = FILE_LEDGER ]; then # the suite cli runs it
			echo "ok $test_count - $1 # SKIP a file ledger's test, on a stream"
			return
		fi
		test_skip_ "$1" "missing prerequisite $test_missing_prereq"
		return
	fi
	if ! test_chain_lint_ "$2" >"$TRASH/.out.$test_count" 2>&1; then
		echo "not ok $test_count - $1"
		echo "#   broken &&-chain or run-away here-document in the test body:"
		printf '%s\n' "$2" | sed 's/^/#   | /'
		test_failures=$((test_failures + 1))
		return
	fi
	if [ -n "${WR_TEST_CHAIN_LINT_ONLY:-}" ]; then
		echo "ok $test_count - $1 # chain checked, not run"
		return
	fi
	if (test_run_ "$2") >"$TRASH/.out.$test_count" 2>&1; then
		echo "ok $test_count - $1"
	else
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$TRASH/.out.$test_count"
		test_failures=$((test_failures + 1))
	fi
	if [ -s "$TRASH/.ledger-fresh" ]; then # test_ledger_fresh's stream, for the tests after
		WR_LEDGER=$(cat "$TRASH/.ledger-fresh")
		rm -f "$TRASH/.ledger-fresh"
	fi
}

# Only stdout is read: "bash -x" traces (on stderr) change nothing.
test_chain_lint_() {
	local out
	out=$( (eval "(exit 117) && $1${LF}${LF}echo OK-\$?") 2>/dev/null)
	[ "$out" = OK-117 ]
}

# The body, then what test_when_finished queued (last queued runs first);
# a cleanup that fails fails the test.
test_run_() {
	test_cleanup=: test_cleanup_rc=0
	eval "$1${LF}"
	local rc=$?
	eval "$test_cleanup"
	if [ $test_cleanup_rc -ne 0 ]; then
		echo "test_when_finished: a cleanup command failed" >&2
		[ $rc -ne 0 ] || rc=1
	fi
	return $rc
}

# test_when_finished CMD...: runs CMD after the current test body, whether
# it passed or failed (a killed helper process, a chmod undone). Use it
# inside the body's &&-chain.
test_when_finished() {
	test_cleanup="{ $*${LF}} || test_cleanup_rc=1; $test_cleanup"
}

# test_skip TITLE REASON: reports the next test as a TAP skip ("# SKIP"),
# which meson counts as skipped, never as passed.
test_skip() {
	test_count=$((test_count + 1))
	test_skip_ "$1" "$2"
}

test_skip_() {
	if [ -n "${CI:-}" ] && [ "${CI:-}" != false ]; then
		echo "not ok $test_count - $1 # $2 (under CI nothing may be skipped: scripts/test.sh installs what the suite needs)"
		test_failures=$((test_failures + 1))
	else
		echo "ok $test_count - $1 # SKIP $2"
	fi
}

# test_skip_build TITLE REASON: a TAP skip of a test that runs in the
# suite's other build (the fault hooks exist only with -Dfault_injection);
# a skip even under CI, where that other build runs it.
test_skip_build() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

# test_lazy_prereq NAME SCRIPT: NAME holds when SCRIPT exits 0; evaluated
# once, on first use.
test_lazy_prereq() {
	eval "test_prereq_script_$1=\$2"
}

# test_have_prereq A[,B...]: all the named prerequisites hold.
# Sets test_missing_prereq to the first that does not.
test_have_prereq() {
	local p v IFS=,
	for p in $1; do
		eval "v=\${test_prereq_$p:-}"
		if [ -z "$v" ]; then
			eval "v=\${test_prereq_script_$p:-}"
			if [ -z "$v" ]; then
				echo "test_have_prereq: unknown prerequisite $p" >&2
				v=no
			elif (eval "$v") >/dev/null 2>&1; then
				v=yes
			else
				v=no
			fi
			eval "test_prereq_$p=\$v"
		fi
		if [ "$v" != yes ]; then
			test_missing_prereq=$p
			return 1
		fi
	done
	return 0
}

test_lazy_prereq ROOT 'test "$(id -u)" = 0'
test_lazy_prereq TTY 'script -qec true /dev/null </dev/null >/dev/null'
test_lazy_prereq DEVFULL 'test -w /dev/full'
# FILE_LEDGER: the ledger is a file (WR_TEST_BACKEND=file), for a test of
# what only a file can have: a torn or unparsable line, compaction and its
# archive, the file's mode, its lock; a stream stores whole messages and is
# never compacted. Missing on a stream, it is a skip there even under CI:
# the suite cli runs the same script with a file.
test_lazy_prereq FILE_LEDGER 'case $WR_LEDGER in nats://*) false ;; esac'

# Runs a command that must fail normally: a non-zero status that is not a
# crash (126/127: not runnable; 129-192: killed by a signal, ASan aborts).
test_must_fail() {
	"$@"
	local rc=$?
	if [ $rc -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	fi
	if [ $rc -ge 129 ] && [ $rc -le 192 ]; then
		echo "test_must_fail: command died of signal $((rc - 128)): $*" >&2
		return 1
	fi
	if [ $rc -eq 126 ] || [ $rc -eq 127 ]; then
		echo "test_must_fail: command could not run ($rc): $*" >&2
		return 1
	fi
	return 0
}

# test_expect_code N cmd...: the command must exit with status N.
test_expect_code() {
	local want=$1
	shift
	"$@"
	local rc=$?
	if [ $rc -ne "$want" ]; then
		echo "test_expect_code: want $want, got $rc: $*" >&2
		return 1
	fi
	return 0
}

# test_cmp expected actual: compare files, show a diff when they differ.
test_cmp() {
	diff -u "$1" "$2"
}

# Fails (with the file shown) unless the file contains the extended regex.
test_grep() {
	if ! grep -E -q -- "$1" "$2"; then
		echo "test_grep: /$1/ not found in $2:" >&2
		sed 's/^/| /' "$2" >&2
		return 1
	fi
}

# Fails (showing it) unless the file is empty.
test_must_be_empty() {
	if [ -s "$1" ]; then
		echo "test_must_be_empty: $1 is not empty:" >&2
		sed 's/^/| /' "$1" >&2
		return 1
	fi
}

# test_wait_until CMD...: runs CMD until it succeeds, at most ~30s (600
# tries, 50 ms apart). Only for waiting on another process; never an
# assertion about how long something takes.
test_wait_until() {
	local i=0
	while ! "$@"; do
		i=$((i + 1))
		if [ $i -ge 600 ]; then
			echo "test_wait_until: gave up: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# test_wait_pid PID [SECONDS]: waits for a child of this shell to exit, at
# most SECONDS (default 60), and returns its status. A child still alive
# then is killed (its process group too) and the wait fails.
test_wait_pid() {
	local pid=$1 limit=$(( ${2:-60} * 20 )) i=0 st
	while kill -0 "$pid" 2>/dev/null; do
		st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
		[ "$st" = Z ] && break
		i=$((i + 1))
		if [ $i -ge $limit ]; then
			echo "test_wait_pid: $pid still running after ${2:-60}s; killed" >&2
			kill -KILL -- "-$pid" 2>/dev/null
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
	wait "$pid"
}

# test_kill_here [-SIG] PID...: signals (default TERM) each PID that is
# still a process of this test, one whose working directory is inside
# $TRASH. A pid that ended may have been reused by a process of another
# test (pids wrap around at pid_max, 32768 here): that one is left alone.
# Use it wherever the process may have ended already (cleanups, races).
test_kill_here() {
	local sig=TERM p cwd
	case ${1:-} in -*) sig=${1#-}; shift ;; esac
	for p in "$@"; do
		cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
		case $cwd/ in "$TRASH_REAL"/*) kill -s "$sig" "$p" 2>/dev/null ;; esac
	done
	return 0
}

# test_ledger: prints the path of the ledger as JSONL lines: the file
# itself, or the stream exported into $TRASH/.ledger.jsonl.
test_ledger() {
	case $WR_LEDGER in
	nats://*) wr-ledger export >"$TRASH/.ledger.jsonl" && echo "$TRASH/.ledger.jsonl" ;;
	*) echo "$WR_LEDGER" ;;
	esac
}

# test_ledger_jq JQ-ARGS...: jq -e over the ledger as it is now (exported
# anew on a stream at each call), for test_wait_until, whose arguments a
# "$(test_ledger)" would fix at one export.
test_ledger_jq() {
	local f
	f=$(test_ledger) && jq -e "$@" "$f"
}

# test_ledger_local: the local name of the ledger's files on this host
# (output logs PATH.logs, launch locks PATH.launch): the file itself, or
# $XDG_STATE_HOME/wr/nats/STREAM for a stream.
test_ledger_local() {
	case $WR_LEDGER in
	nats://*) echo "$XDG_STATE_HOME/wr/nats/${WR_LEDGER##*/}" ;;
	*) echo "$WR_LEDGER" ;;
	esac
}

# test_ledger_none: the ledger holds no event: the file was never created,
# or the stream is empty.
test_ledger_none() {
	case $WR_LEDGER in
	nats://*) test_must_be_empty "$(test_ledger)" ;;
	*) test ! -e "$WR_LEDGER" ;;
	esac
}

# test_ledger_remove: no ledger for the rest of the script but what the
# tools start: the file removed, or (a stream exists once wr-ledger init
# made it) a new empty stream, as test_ledger_fresh.
test_ledger_remove() {
	case $WR_LEDGER in
	nats://*) test_ledger_fresh ;;
	*) rm -f "$WR_LEDGER" ;;
	esac
}

# test_ledger_fresh: an empty ledger for the rest of the script (until the
# next test_ledger_fresh): the file emptied, or a new stream (named after
# the test's number) on the cluster, which the tests after this one use
# too (test_expect_success takes it from $TRASH/.ledger-fresh).
test_ledger_fresh() {
	case $WR_LEDGER in
	nats://*)
		local fresh="${NATS_LEDGER}_$test_count"
		nats_ledger_init "$fresh" && export WR_LEDGER="$fresh" && echo "$fresh" >"$TRASH/.ledger-fresh"
		;;
	*) : >"$WR_LEDGER" ;;
	esac
}

test_done() {
	[ -z "${NATS_URL:-}" ] || [ -n "${WR_TEST_NATS_URL:-}" ] || nats_cluster_stop
	echo "1..$test_count"
	if [ "${WR_TEST_KEEP:-}" = "" ]; then
		cd / && rm -rf "$TRASH"
	fi
	[ $test_failures -eq 0 ]
}

# The backend (see the top): a stream of this script's own for nats.
test_backend_nats() {
	. "$WR_SRC/tests/nats/lib-nats.sh" || exit 1
	if [ -z "${WR_TEST_NATS_URL:-}" ]; then
		nats_setup
		return
	fi
	NATS_URL=$WR_TEST_NATS_URL
	NATS_LEDGER="$NATS_URL/T_$(printf %s "$test_name" | tr -c 'A-Za-z0-9_-' _)_$$"
	export NATS_URL NATS_LEDGER
	nats_ledger_init || {
		echo "Bail out! the stream $NATS_LEDGER could not be created"
		exit 1
	}
	export WR_LEDGER="$NATS_LEDGER"
}

case ${WR_TEST_BACKEND:-file} in
file) ;;
nats) test_backend_nats ;;
*)
	echo "Bail out! WR_TEST_BACKEND=$WR_TEST_BACKEND: file or nats"
	exit 1
	;;
esac
