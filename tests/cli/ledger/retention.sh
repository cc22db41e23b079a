#!/bin/bash
# Retention: wr-ledger compact --archives-keep DUR deletes the archive
# segments whose newest event is older than DUR, never the newest one; the
# chain stays whole (the oldest kept segment's marker no longer names the
# deleted one), verify is clean, and the stats that come from the totals
# (wr-watch stats, also --format prometheus, wr-ledger stats) are unchanged; a
# segment spans at most 30 days, so that old history can go.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$WR_SRC/tests/cli/lib-events.sh"

# A new segment at each compaction, so that there are several.
export WR_ARCHIVE_SEGMENT_BYTES=1

# runs TAG TS-PREFIX: three ended runs of nightly (two successes, a cancel).
runs() {
	created "$1-0001-0000-7000-8000-000000000001" nightly "$2:00.000Z" &&
	started "$1-0001-0000-7000-8000-000000000001" 1 "$2:01.000Z" &&
	finished "$1-0001-0000-7000-8000-000000000001" 1 "$2:03.000Z" success 2000 0 &&
	created "$1-0002-0000-7000-8000-000000000002" nightly "$2:10.000Z" &&
	started "$1-0002-0000-7000-8000-000000000002" 1 "$2:11.000Z" &&
	finished "$1-0002-0000-7000-8000-000000000002" 1 "$2:12.000Z" error 1000 1 &&
	started "$1-0002-0000-7000-8000-000000000002" 2 "$2:13.000Z" &&
	finished "$1-0002-0000-7000-8000-000000000002" 2 "$2:14.000Z" success 1000 0 &&
	created "$1-0003-0000-7000-8000-000000000003" backup "$2:20.000Z" &&
	ev "$2:21.000Z" run.cancelled "{run: \"$1-0003-0000-7000-8000-000000000003\", reason: \"not needed\"}"
}

# figures: what must not change, from the totals.
figures() {
	wr-watch stats --format prometheus >"$1.prom" &&
	grep -E "^wr_(runs|attempts|breaker_opens)_total" "$1.prom" >"$1" &&
	wr-ledger --json stats >"$1.json" &&
	jq -c "{events, workflows}" "$1.json" >>"$1" &&
	wr-watch --json stats >>"$1" &&
	wr-watch stats >>"$1"
}

test_expect_success 'three compactions of old runs: three segments' '
	runs aaaa0001 2026-01-10T10:00 &&
	wr-ledger compact --keep 1d >out &&
	runs bbbb0001 2026-02-10T10:00 &&
	wr-ledger compact --keep 1d >out &&
	recent=$(date -u -d "-2 hours" +%Y-%m-%dT%H:%M) &&
	runs cccc0001 "$recent" &&
	wr-ledger compact --keep 1h >out &&
	ls "$WR_LEDGER".archive.* >segs &&
	test $(wc -l <segs) = 3 &&
	wr-ledger verify >out &&
	test_grep " 0 problems" out &&
	figures before
'

test_expect_success 'usage: --archives-keep needs a duration, and goes with compact' '
	test_expect_code 2 wr-ledger compact --archives-keep soon 2>err &&
	test_grep "option .--archives-keep.: invalid duration .soon." err &&
	test_expect_code 2 wr-ledger verify --archives-keep 1d 2>err &&
	test_grep "goes with compact only" err &&
	test $(ls "$WR_LEDGER".archive.* | wc -l) = 3
'

test_expect_success 'nothing older than 10000 days: nothing deleted' '
	wr-ledger compact --archives-keep 10000d >out &&
	test_grep "none deleted" out &&
	test $(ls "$WR_LEDGER".archive.* | wc -l) = 3
'

test_expect_success '--archives-keep 30d deletes the two old segments, keeps the newest' '
	oldest=$(sed -n 1p segs) && middle=$(sed -n 2p segs) && newest=$(sed -n 3p segs) &&
	wr-ledger --json compact --keep 1h --archives-keep 30d >out.json &&
	jq -e --arg a "$oldest" --arg b "$middle" ".archives_deleted == [\$a, \$b] and .archives_deleted_bytes > 0" out.json &&
	test ! -e "$oldest" && test ! -e "$middle" && test -s "$newest" &&
	head -n 1 "$newest" >marker &&
	jq -e --arg a "$(basename "$middle")" "has(\"archive\") | not" marker &&
	jq -e --arg a "$(basename "$oldest")" --arg b "$(basename "$middle")" \
		".type == \"ledger.compacted\" and .pruned.archives == [\$a, \$b] and (.pruned.older_than | type) == \"string\"" marker
'

test_expect_success 'the chain is whole: verify is clean, no orphan, repair has nothing to do' '
	wr-ledger verify >out &&
	test_grep " 0 problems" out &&
	! test_grep -i "orphan\|broken" out &&
	wr-ledger repair >out &&
	test $(ls "$WR_LEDGER".archive.* | wc -l) = 1
'

test_expect_success 'the stats from the totals are unchanged' '
	figures after &&
	test_cmp before after &&
	promtool check metrics <after.prom
'

test_expect_success 'the newest segment is never deleted, even when old enough' '
	newest=$(sed -n 3p segs) &&
	wr-ledger compact --archives-keep 0s >out &&
	test_grep "none deleted" out &&
	test -s "$newest"
'

test_expect_success 'a segment spans at most 30 days: older history gets a segment of its own' '
	export WR_LEDGER="$TRASH/span.jsonl" WR_ARCHIVE_SEGMENT_BYTES= &&
	runs dddd0001 2026-01-10T10:00 &&
	wr-ledger compact --keep 1d >out &&
	runs eeee0001 2026-01-12T10:00 &&
	wr-ledger compact --keep 1d >out &&
	ls "$WR_LEDGER".archive.* >segs &&
	test $(wc -l <segs) = 1 &&
	runs ffff0001 2026-03-10T10:00 &&
	wr-ledger compact --keep 1d >out &&
	ls "$WR_LEDGER".archive.* >segs &&
	test $(wc -l <segs) = 2 &&
	wr-ledger verify >out &&
	test_grep " 0 problems" out &&
	figures span.before &&
	wr-ledger --json compact --archives-keep 60d >out.json &&
	jq -e ".archives_deleted | length == 1" out.json &&
	wr-ledger verify >out &&
	test_grep " 0 problems" out &&
	figures span.after &&
	test_cmp span.before span.after
'

test_done
