#!/usr/bin/env bash
# crash-commit.sh - SIGKILL committers at random moments (issue 7, crash
# injection): every printed seq stays in the ledger, no reader ever applies
# part of a decision, verify is clean after the next writer's repair.
#
# WR_CRASH_KILLS (default 200) sets the number of kills; the long run is
# WR_CRASH_KILLS=5000.
. "$(dirname "$0")/lib.sh"

KILLS=${WR_CRASH_KILLS:-200}

# One round: two committers racing for the lock, each killed at a random
# moment (start-up, replay, lock wait, repair, mid-commit, printing); in a
# fault build every fourth round adds a committer that tears its write at a
# random byte and dies (exit 99), so the next writers must repair, and
# every other fourth one a committer that dies after a whole write, before
# its fdatasync: its decision stays whole, unpromised.
crash_round() {
	local i=$1 pa pb rc
	"$C" commit --count 0 >"printed.$i.a" 2>"err.$i.a" &
	pa=$!
	"$C" commit --count 0 >"printed.$i.b" 2>"err.$i.b" &
	pb=$!
	if fault_build && [ $((i % 4)) -eq 0 ]; then
		WR_FAULT_SKIP=$((RANDOM % 3)) WR_FAULT_TEAR_AT=$((RANDOM % 600)) \
			"$C" commit --count 5 >"printed.$i.t" 2>"err.$i.t"
		rc=$?
		[ $rc -eq 99 ] || [ $rc -eq 0 ] || { echo "torn committer: exit $rc" >&2; cat "err.$i.t" >&2; return 1; }
	elif fault_build && [ $((i % 4)) -eq 2 ]; then
		WR_FAULT_SKIP=$((RANDOM % 3)) WR_FAULT_SYNC=exit "$C" commit --count 5 >"printed.$i.s" 2>"err.$i.s"
		rc=$?
		[ $rc -eq 99 ] || { echo "committer dying before its sync: exit $rc" >&2; cat "err.$i.s" >&2; return 1; }
	fi
	rand_sleep 30000
	kill -KILL $pa
	rand_sleep 5000
	kill -KILL $pb
	wait $pa
	rc=$?
	[ $rc -eq 137 ] || { echo "committer a: exit $rc" >&2; cat "err.$i.a" >&2; return 1; }
	wait $pb
	rc=$?
	[ $rc -eq 137 ] || { echo "committer b: exit $rc" >&2; cat "err.$i.b" >&2; return 1; }
	not_crashed 0 "err.$i.a" && not_crashed 0 "err.$i.b"
}

# A reader replaying the ledger over and over while the writers work.
reader_loop() {
	while [ ! -e stop ]; do
		"$C" check >reader.out 2>reader.err || { cp reader.out reader.fail; return 1; }
	done
}

test_expect_success "SIGKILL committers at $KILLS random moments; readers never apply half a decision" '
	{ reader_loop & } && reader=$! &&
	i=0 && while [ $((i * 2)) -lt $KILLS ]; do
		i=$((i + 1)) &&
		crash_round $i &&
		"$C" check >step.out || { cat step.out; false; } || break
	done &&
	[ $((i * 2)) -ge $KILLS ] &&
	touch stop && test_wait_pid $reader &&
	{ test ! -e reader.fail || { cat reader.fail; false; }; } &&
	cat printed.* | wc -l >printed.count && echo "promises: $(cat printed.count)" &&
	test "$(cat printed.count)" -gt 0
'
echo "# promises printed: $(cat printed.count 2>/dev/null); quarantined bytes: $(stat -c %s "$WR_LEDGER.quarantine" 2>/dev/null || echo 0)"

test_expect_success 'every printed seq is in the ledger, as the decision that printed it' '
	{ "$C" check $(for f in printed.*; do [ -f "$f" ] && [ "$f" != printed.count ] && printf -- "--printed %s " "$f"; done) >check.out ||
	{ cat check.out; false; }; }
'

test_expect_success 'the next writer repairs what the crashes left; verify is clean' '
	"$C" commit --count 1 >next.out 2>next.err &&
	{ wr-ledger verify >verify.out 2>verify.err || { cat verify.out verify.err; false; }; }
'

if fault_build; then
	test_expect_success 'torn writes were quarantined, not lost' '
		test -s "$WR_LEDGER.quarantine" &&
		wr-ledger --json stats >stats.json &&
		jq -e ".repairs > 0" stats.json
	'
fi

test_done
