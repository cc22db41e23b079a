# lib.sh - helpers for the CLI tests, in the manner of git's t/test-lib.sh.
#
# Each script (tests/cli/TOOL/NAME.sh) sources this file, then runs test_expect_success blocks: a
# title and a body of commands joined with &&. Every script runs in its own
# scratch directory with its own ledger; the binaries come from the build
# directory ($WR_BUILD, set by meson) and nothing of the user's is touched.
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
export HOME="$TRASH/home" XDG_STATE_HOME="$TRASH/state"
mkdir -p "$HOME"
export WR_LEDGER="$TRASH/ledger.jsonl"
cd "$TRASH" || exit 1

test_count=0
test_failures=0

test_expect_success() {
	test_count=$((test_count + 1))
	if (eval "$2") >"$TRASH/.out.$test_count" 2>&1; then
		echo "ok $test_count - $1"
	else
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$TRASH/.out.$test_count"
		test_failures=$((test_failures + 1))
	fi
}

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

test_done() {
	echo "1..$test_count"
	if [ "${WR_TEST_KEEP:-}" = "" ]; then
		cd / && rm -rf "$TRASH"
	fi
	[ $test_failures -eq 0 ]
}
