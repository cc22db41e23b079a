#!/bin/bash
# wr-ledger compact: ended runs move to an archive, the state of what stays
# is unchanged, --archives replays everything, concurrent writers lose
# nothing.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BENCH="$WR_BUILD/tests/bench/wr-bench"

# Lines of a state dump about workflows, runs and entries, sorted.
entities() { grep -E '^(workflow|run|outbox) ' "$1" | sort; }
# The counters of the state line, without last_seq and compacted_through.
counters() { sed -n 's/^state last_seq=[0-9]* \(.*\) compacted_through=[0-9]* \(.*\)/\1 \2/p' "$1"; }

test_expect_success 'a realistic ledger (runs of 2026-01-01)' '
	"$BENCH" gen "$WR_LEDGER" 20000 1000 7 &&
	wr-ledger verify >verify.out &&
	"$BENCH" dump "$WR_LEDGER" --no-snapshot >before.dump &&
	grep -c "^run " before.dump >runs.before
'

test_expect_success 'nothing ended in the last 100000 days: nothing moves' '
	wr-ledger compact --keep 100000d >out &&
	test_grep "nothing moved" out &&
	! ls "$WR_LEDGER".archive.* 2>/dev/null
'

test_expect_success 'compact --keep 7d moves ended runs to PATH.archive.1' '
	wr-ledger --json compact --keep 7d >out &&
	test_grep "\"compacted\": *true" out &&
	test -s "$WR_LEDGER.archive.1" &&
	test "$(stat -c %a "$WR_LEDGER.archive.1")" = 600 &&
	test $(wc -l <"$WR_LEDGER") -lt 20000 &&
	head -1 "$WR_LEDGER" >marker &&
	test_grep "\"type\":\"ledger.compacted\"" marker &&
	test_grep "\"seq\":20001,.*\"through\":20000" marker
'

test_expect_success 'nothing is lost: archive + live hold every original line' '
	cat "$WR_LEDGER.archive.1" "$WR_LEDGER" | grep -v ledger.compacted | sort >all.now &&
	"$BENCH" gen orig.jsonl 20000 1000 7 && sort orig.jsonl >all.orig &&
	test_cmp all.orig all.now
'

test_expect_success 'the compacted ledger verifies clean (gaps covered by the marker)' '
	wr-ledger verify >out &&
	test_grep "0 problems" out
'

test_expect_success 'every kept run, workflow and entry is identical; so are the counters' '
	"$BENCH" dump "$WR_LEDGER" --no-snapshot >after.dump &&
	entities after.dump >e.after && entities before.dump >e.before &&
	comm -23 e.after e.before >changed &&
	test_cmp /dev/null changed &&
	grep "^workflow " before.dump >w.before && grep "^workflow " after.dump >w.after &&
	test_cmp w.before w.after &&
	counters before.dump >c.before && counters after.dump >c.after &&
	test -s c.before && test_cmp c.before c.after &&
	test $(grep -c "^run " after.dump) -lt $(cat runs.before)
'

test_expect_success 'runs not ended (running, failed, retry_wait) all stay' '
	grep "^run " before.dump | grep -v " status=1 " | grep -v " status=5 " | sort >live.before &&
	grep "^run " after.dump | grep -v " status=1 " | grep -v " status=5 " | sort >live.after &&
	test_cmp live.before live.after
'

test_expect_success 'the snapshot written by compact is used and matches' '
	"$BENCH" dump "$WR_LEDGER" >snap.dump &&
	test_grep "snapshot=1" snap.dump &&
	grep -v "^scan" snap.dump >a && grep -v "^scan" after.dump >b && test_cmp b a
'

test_expect_success '--archives replays to the uncompacted state' '
	"$BENCH" dump "$WR_LEDGER" --archives >all.dump &&
	entities all.dump >e.all && test_cmp e.before e.all &&
	counters all.dump >c.all && test_cmp c.before c.all
'

test_expect_success 'appends continue after the marker; a second compaction extends the segment' '
	"$BENCH" commit "$WR_LEDGER" 20 --ended >/dev/null &&
	wr-ledger verify >out && test_grep "0 problems" out &&
	tail -1 "$WR_LEDGER" | grep -q "\"seq\":200[0-9][0-9]" &&
	head -1 "$WR_LEDGER.archive.1" >first1 &&
	: "the generated runs are of 2026-01-01, the new ones of today: more than a segment spans" &&
	WR_ARCHIVE_SEGMENT_SPAN=1000d wr-ledger compact --keep 0 >out &&
	test -s "$WR_LEDGER.archive.2" && test ! -e "$WR_LEDGER.archive.1" &&
	head -1 "$WR_LEDGER.archive.2" >first2 && test_cmp first1 first2 &&
	! grep -q ledger.compacted "$WR_LEDGER.archive.2" &&
	head -1 "$WR_LEDGER" | grep -q "\"archive\":\"ledger.jsonl.archive.2\"" &&
	wr-ledger verify >out && test_grep "0 problems" out &&
	"$BENCH" dump "$WR_LEDGER" --archives >all2.dump &&
	test $(grep -c "^run " all2.dump) -eq $(( $(cat runs.before) + 20 ))
'

test_expect_success 'a segment no marker names (a crash before the rename) is ignored' '
	cp "$WR_LEDGER.archive.2" "$WR_LEDGER.archive.3" &&
	"$BENCH" dump "$WR_LEDGER" --archives >all3.dump &&
	test_cmp all2.dump all3.dump &&
	rm "$WR_LEDGER.archive.3"
'

test_expect_success 'concurrent writers during compaction lose nothing' '
	rm -f "$WR_LEDGER"* &&
	"$BENCH" commit "$WR_LEDGER" 50 --ended >/dev/null &&
	for i in 1 2 3 4; do
		("$BENCH" commit "$WR_LEDGER" 150 --ended >w$i.out 2>&1; echo $? >w$i.rc) &
	done &&
	for i in $(seq 1 15); do wr-ledger compact --keep 0 >>compact.out 2>&1 || exit 1; done &&
	wait &&
	for i in 1 2 3 4; do test "$(cat w$i.rc)" = 0 || { cat w$i.out; exit 1; }; done &&
	wr-ledger verify >out && test_grep "0 problems" out &&
	"$BENCH" dump "$WR_LEDGER" --archives >conc.dump &&
	test $(grep -c "^run " conc.dump) -eq 650 &&
	test $(grep -c " status=1 " conc.dump) -eq 650 &&
	ls "$WR_LEDGER".archive.* >archives && test $(wc -l <archives) -eq 1 &&
	cat "$WR_LEDGER".archive.* "$WR_LEDGER" | grep -c "\"type\":\"run.created\"" >n &&
	test "$(cat n)" = 650
'

test_expect_success 'usage errors' '
	test_expect_code 2 wr-ledger compact --keep soon &&
	test_expect_code 2 wr-ledger verify --keep 1d
'

test_done
