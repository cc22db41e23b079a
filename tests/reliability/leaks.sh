#!/usr/bin/env bash
# leaks.sh - what killed compactions and snapshot writes leave behind
# (issue 12, item 10):
#   - temp files of dead writers (FINAL.tmp.PID@HOST) are removed when the
#     next writer opens the ledger; a live writer's are kept;
#   - an archive segment no marker reaches is reported by verify and
#     removed by repair;
#   - compaction appends to the newest segment while it is under its size
#     limit, so the chain stays short.
# WR_LEAK_KILLS (default 20) compactions and readers are SIGKILLed (or
# have ended by then: a compaction of 20,000 events takes ~0.2 s); each
# starts from the same ledger without segments, for a compaction that ended
# leaves one the reset ledger no longer reaches (orphans: the last tests).
. "$(dirname "$0")/lib.sh"

BENCH="$WR_BUILD/tests/bench/wr-bench"
kills=${WR_LEAK_KILLS:-20}
host=$(uname -n)

temps() {
	ls -a | grep -F "$(basename "$WR_LEDGER")" | grep -F ".tmp." || :
}

# dead_pid: a pid no process has: pid_max itself (pids run from 1 to
# pid_max - 1), which the pid of a process that exited is not on a busy
# machine, where it may be handed out again before the check.
dead_pid() {
	cat /proc/sys/kernel/pid_max
}

test_expect_success 'a crash loop of SIGKILLed compactions leaves no temp file after the next writer opens' '
	"$BENCH" gen orig.jsonl 20000 1000 7 &&
	for i in $(seq "$kills"); do
		cp orig.jsonl "$WR_LEDGER" && rm -f "$WR_LEDGER.snapshot" "$WR_LEDGER".archive.[0-9] &&
		{ wr-ledger compact --keep 1d >/dev/null 2>&1 & } &&
		pid=$! && rand_sleep 150000 && test_kill_here -KILL $pid &&
		{ wait $pid; :; } &&
		{ WR_SNAPSHOT_BYTES=1 wr-watch --all >/dev/null 2>&1 & } &&
		pid=$! && rand_sleep 100000 && test_kill_here -KILL $pid &&
		{ wait $pid 2>/dev/null; :; } || return 1
	done &&
	cp orig.jsonl "$WR_LEDGER" && rm -f "$WR_LEDGER".archive.[0-9] &&
	d=$(dead_pid) &&
	: >"$WR_LEDGER.tmp.$d@$host" && : >"$WR_LEDGER.snapshot.tmp.$d@$host" &&
	: >"$WR_LEDGER.archive.9.tmp.$d@$host" && : >"$WR_LEDGER.compact.tmp.$d" &&
	{ sleep 60 & } && live=$! &&
	: >"$WR_LEDGER.tmp.$live@$host" && : >"$WR_LEDGER.tmp.$d@other-host" &&
	temps >before && cat before &&
	test $(wc -l <before) -ge 6 &&
	wr-outbox add --kind custom --message after >/dev/null &&
	temps >after &&
	kill $live && printf "%s\n" "$(basename "$WR_LEDGER").tmp.$d@other-host" "$(basename "$WR_LEDGER").tmp.$live@$host" | sort >want &&
	sort after >after.sorted && test_cmp want after.sorted &&
	wr-ledger verify >/dev/null
'

# runs_archived: the runs in the state of the whole history (archives and
# the live ledger).
all_runs() {
	"$BENCH" dump "$WR_LEDGER" --no-snapshot --archives | grep -c "^run "
}

segments() {
	ls "$WR_LEDGER".archive.* 2>/dev/null | grep -E "\.archive\.[0-9]+$" || :
}

test_expect_success '50 compactions leave a short chain, and nothing is lost' '
	rm -f "$WR_LEDGER"* &&
	for i in $(seq 50); do
		wr-run --workflow c -- true >/dev/null &&
		wr-outbox add --kind custom --message "n$i" >/dev/null &&
		wr-outbox ack "$(wr-outbox --json list | jq -r .id | head -1)" >/dev/null &&
		wr-ledger compact --keep 0 >/dev/null || return 1
	done &&
	segments >segs && cat segs &&
	test $(wc -l <segs) -eq 1 &&
	test "$(all_runs)" -eq 50 &&
	wr-ledger verify >v.out && test_grep "0 problems" v.out
'

test_expect_success 'with a small segment limit the chain grows one segment per limit' '
	for i in $(seq 20); do
		wr-run --workflow c -- true >/dev/null &&
		WR_ARCHIVE_SEGMENT_BYTES=4000 wr-ledger compact --keep 0 >/dev/null || return 1
	done &&
	segments >segs &&
	test $(wc -l <segs) -gt 2 &&
	test "$(all_runs)" -eq 70 &&
	wr-ledger verify >v.out && test_grep "0 problems" v.out
'

test_expect_success 'an orphan archive segment is reported by verify and removed by repair' '
	n=$(segments | sed "s/.*\.//" | sort -n | tail -1) &&
	head -3 "$WR_LEDGER" | tail -2 >"$WR_LEDGER.archive.$((n + 5))" &&
	test_expect_code 1 wr-ledger verify >v.out &&
	test_grep "^$WR_LEDGER.archive.$((n + 5)): orphan archive segment: no compaction marker reaches it" v.out &&
	wr-ledger repair >r.out &&
	test_grep "removed orphan archive segment $WR_LEDGER.archive.$((n + 5))" r.out &&
	test ! -e "$WR_LEDGER.archive.$((n + 5))" &&
	wr-ledger verify >v.out && test_grep "0 problems" v.out &&
	test "$(all_runs)" -eq 70
'

test_expect_success 'with a segment of the chain missing, nothing is called an orphan' '
	segments >segs && test $(wc -l <segs) -gt 2 &&
	mid=$(sed -n 2p segs) && mv "$mid" missing.seg &&
	test_expect_code 1 wr-ledger verify >v.out &&
	test_grep "the archive chain is broken: .* names $(basename "$mid"), which is missing" v.out &&
	wr-ledger repair >r.out &&
	! grep -q "removed orphan" r.out &&
	test $(segments | wc -l) -eq $(($(wc -l <segs) - 1)) &&
	mv missing.seg "$mid" &&
	wr-ledger verify >/dev/null
'

test_done
