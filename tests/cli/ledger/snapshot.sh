#!/bin/bash
# PATH.snapshot: written by writers past the threshold, used by readers,
# ignored when it does not match the ledger; the state is always the one
# of a full replay.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BENCH="$WR_BUILD/tests/bench/wr-bench"
SNAP="$WR_LEDGER.snapshot"

same_state() { grep -v '^scan' "$1" >"$1.s" && grep -v '^scan' "$2" >"$2.s" && test_cmp "$1.s" "$2.s"; }

test_expect_success 'a writer past WR_SNAPSHOT_BYTES leaves a snapshot' '
	"$BENCH" gen "$WR_LEDGER" 5000 300 3 &&
	WR_SNAPSHOT_BYTES=off "$BENCH" commit "$WR_LEDGER" 1 >/dev/null &&
	! test -e "$SNAP" &&
	WR_SNAPSHOT_BYTES=4096 "$BENCH" commit "$WR_LEDGER" 1 >/dev/null &&
	test -s "$SNAP" && test "$(stat -c %a "$SNAP")" = 600
'

test_expect_success 'with and without the snapshot: the same state' '
	"$BENCH" dump "$WR_LEDGER" --no-snapshot >cold &&
	"$BENCH" dump "$WR_LEDGER" >warm &&
	test_grep "snapshot=1" warm && same_state cold warm
'

test_expect_success 'after 100 more events, still the same' '
	"$BENCH" append "$WR_LEDGER" 100 &&
	"$BENCH" dump "$WR_LEDGER" --no-snapshot >cold &&
	"$BENCH" dump "$WR_LEDGER" >warm &&
	test_grep "snapshot=1" warm && same_state cold warm
'

test_expect_success 'an edited line before the offset: ignored' '
	cp "$WR_LEDGER" keep.jsonl &&
	sed -i "5s/\"attempt\":1/\"attempt\":2/" "$WR_LEDGER" &&
	"$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=0" warm &&
	cp keep.jsonl "$WR_LEDGER" && printf "x" | dd of="$WR_LEDGER" bs=1 seek=100 conv=notrunc 2>/dev/null &&
	"$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=0" warm
'

test_expect_success 'a truncated or replaced ledger: ignored' '
	cp keep.jsonl "$WR_LEDGER" && "$BENCH" snapshot "$WR_LEDGER" >/dev/null &&
	"$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=1" warm &&
	head -n 100 keep.jsonl >short && cat short >"$WR_LEDGER" &&
	"$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=0" warm &&
	"$BENCH" dump "$WR_LEDGER" --no-snapshot >cold && same_state cold warm &&
	cp keep.jsonl "$WR_LEDGER" && "$BENCH" snapshot "$WR_LEDGER" >/dev/null &&
	cp keep.jsonl new && mv new "$WR_LEDGER" &&
	"$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=0" warm
'

test_expect_success 'a corrupt snapshot or another version: ignored' '
	"$BENCH" snapshot "$WR_LEDGER" >/dev/null && cp "$SNAP" snap.good &&
	printf "\377" | dd of="$SNAP" bs=1 seek=5000 conv=notrunc 2>/dev/null &&
	"$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=0" warm &&
	: "the version (a u32 at byte 8) made another one: its low byte flipped" &&
	cp snap.good "$SNAP" && v=$(od -An -tu1 -j8 -N1 "$SNAP") &&
	printf "\\$(printf %03o $((v ^ 64)))" | dd of="$SNAP" bs=1 seek=8 conv=notrunc 2>/dev/null &&
	"$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=0" warm &&
	"$BENCH" dump "$WR_LEDGER" --no-snapshot >cold && same_state cold warm
'

test_expect_success 'deleting the snapshot is safe' '
	rm -f "$SNAP" && "$BENCH" dump "$WR_LEDGER" >warm &&
	test_grep "snapshot=0" warm && same_state cold warm
'

# Ended runs live in segment files beside the ledger (PATH.cold.HEX) that
# the snapshot names; a writer keeps both current after each commit.
test_expect_success 'ended runs in segment files; a commit leaves nothing to replay' '
	rm -f "$SNAP" "$WR_LEDGER".cold.* &&
	"$BENCH" commit "$WR_LEDGER" 3 --ended >/dev/null &&
	ls "$WR_LEDGER".cold.* >segs && test -s segs &&
	"$BENCH" dump "$WR_LEDGER" --no-snapshot >cold &&
	"$BENCH" dump "$WR_LEDGER" >warm &&
	test_grep "snapshot=1" warm && same_state cold warm &&
	wr-ledger verify --deep >out && test_grep " 0 problems" out
'

# (The dumps below write no snapshot of their own: the files stay these.)
test_expect_success 'a damaged, truncated or missing segment: ignored, the same state' '
	seg=$(head -n 1 segs) && cp "$seg" seg.good && cp "$SNAP" snap.seg &&
	size=$(stat -c %s "$seg") &&
	printf "\377" | dd of="$seg" bs=1 seek=$((size - 5)) conv=notrunc 2>/dev/null &&
	WR_SNAPSHOT_BYTES=off "$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=0" warm && same_state cold warm &&
	cp seg.good "$seg" && cp snap.seg "$SNAP" && truncate -s $((size - 8)) "$seg" &&
	WR_SNAPSHOT_BYTES=off "$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=0" warm && same_state cold warm &&
	rm "$seg" && WR_SNAPSHOT_BYTES=off "$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=0" warm && same_state cold warm &&
	cp seg.good "$seg" && WR_SNAPSHOT_BYTES=off "$BENCH" dump "$WR_LEDGER" >warm && test_grep "snapshot=1" warm
'

test_expect_success 'a damaged record: verify --deep says so' '
	seg=$(head -n 1 segs) &&
	printf "\377" | dd of="$seg" bs=1 seek=200 conv=notrunc 2>/dev/null &&
	test_expect_code 1 env WR_SNAPSHOT_BYTES=off wr-ledger verify --deep >out &&
	test_grep "fails its hash" out &&
	cp seg.good "$seg"
'

# Past 256 entries the outbox waits in a file of its own, read only when a
# tool asks for an entry (wr-run never does).
test_expect_success 'many outbox entries: in a file read when asked for, the same state' '
	"$BENCH" gen big.jsonl 80000 2600 5 &&
	"$BENCH" commit big.jsonl 1 --ended >/dev/null &&
	grep -l "^WROBOX" big.jsonl.cold.* >obfile && test "$(wc -l <obfile)" = 1 &&
	"$BENCH" dump big.jsonl --no-snapshot >cold &&
	WR_SNAPSHOT_BYTES=off "$BENCH" dump big.jsonl >warm &&
	test_grep "snapshot=1" warm && same_state cold warm &&
	wr-outbox --ledger big.jsonl list --all >warm.list &&
	rm big.jsonl.snapshot && wr-outbox --ledger big.jsonl list --all >cold.list &&
	test_cmp cold.list warm.list
'

test_expect_success 'verify never trusts a snapshot' '
	cp snap.good "$SNAP" &&
	sed -i "7s/^{/[/" "$WR_LEDGER" &&
	test_expect_code 1 wr-ledger verify >out && test_grep ":7:" out
'

test_done
