# lib.sh - helpers for the reliability tests, on top of tests/cli/lib.sh.
#
# Scripts run from meson with WR_BUILD, WR_SRC, WR_COMMITTER (the test
# committer) and WR_FAULT_BUILD (1 when the core has the WR_FAULT_* hooks).
. "${WR_SRC:?}/tests/cli/lib.sh"

C=${WR_COMMITTER:-$WR_BUILD/tests/reliability/committer}
export WR_LOCK_TIMEOUT=${WR_LOCK_TIMEOUT:-60s}

# not_crashed RC [STDERR-FILE]: fails on 126/127 (not runnable), 129 and
# up (a signal, an ASan abort) and on a sanitizer report in the file.
not_crashed() {
	local rc=$1
	if [ "$rc" -eq 126 ] || [ "$rc" -eq 127 ] || [ "$rc" -ge 129 ]; then
		echo "not_crashed: exit status $rc" >&2
		return 1
	fi
	if [ $# -ge 2 ] && grep -E -q 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$2"; then
		echo "not_crashed: sanitizer report in $2:" >&2
		sed 's/^/| /' "$2" >&2
		return 1
	fi
	return 0
}

# rand_sleep MAX_US: sleeps a random time of up to MAX_US microseconds.
rand_sleep() {
	local us=$(( (RANDOM * 32768 + RANDOM) % $1 ))
	sleep "$(printf '0.%06d' "$us")"
}

# fault_build: the core was built with -Dfault_injection=true.
fault_build() {
	[ "${WR_FAULT_BUILD:-0}" = 1 ]
}

# fresh_ledger: removes the ledger and its sidecars.
fresh_ledger() {
	rm -f "$WR_LEDGER" "$WR_LEDGER.lock" "$WR_LEDGER.quarantine"
}

# alive PID: the process exists and is not a zombie.
alive() {
	local s
	s=$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -d" " -f1)
	[ -n "$s" ] && [ "$s" != Z ]
}

dead() {
	! alive "$1"
}
