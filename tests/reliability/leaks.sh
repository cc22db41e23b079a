#!/usr/bin/env bash
# leaks.sh - what killed compactions and snapshot writes leave behind
# (issue 12, item 10):
#   - temp files of dead writers (FINAL.tmp.PID@HOST) are removed when the
#     next writer opens the ledger; a live writer's are kept;
#   - an archive segment no marker reaches is reported by verify and
#     removed by repair;
#   - compaction appends to the newest segment while it is under its size
#     limit, so the chain stays short.
# WR_LEAK_KILLS (default 20) compactions and readers are SIGKILLed.
. "$(dirname "$0")/lib.sh"

BENCH="$WR_BUILD/tests/bench/wr-bench"
kills=${WR_LEAK_KILLS:-20}
host=$(uname -n)

temps() {
	ls -a | grep -F "$(basename "$WR_LEDGER")" | grep -F ".tmp." || :
}

# dead_pid: the pid of a process that has exited.
dead_pid() {
	sh -c 'echo $$'
}

test_expect_success 'a crash loop of SIGKILLed compactions leaves no temp file after the next writer opens' '
	"$BENCH" gen orig.jsonl 20000 1000 7 &&
	for i in $(seq "$kills"); do
		cp orig.jsonl "$WR_LEDGER" && rm -f "$WR_LEDGER.snapshot" &&
		{ wr-ledger compact --keep 1d >/dev/null 2>&1 & } &&
		pid=$! && rand_sleep 150000 && kill -KILL $pid &&
		{ wait $pid; :; } &&
		{ WR_SNAPSHOT_BYTES=1 wr-watch --all >/dev/null 2>&1 & } &&
		pid=$! && rand_sleep 100000 &&
		{ kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null; :; } || return 1
	done &&
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

test_done
