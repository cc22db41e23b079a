#!/usr/bin/env bash
# deep.sh - wr-ledger verify --deep (issue 12, item 14): the state that the
# snapshot gives is compared with a full replay, so an in-place edit of a
# covered line that none of the snapshot's sampled hashes hits is found,
# and what differs is named. Plain verify cannot see it: the edited line
# is a valid event.
. "$(dirname "$0")/lib.sh"

BENCH="$WR_BUILD/tests/bench/wr-bench"

# poke OFFSET CHAR: overwrites one byte of the ledger in place.
poke() {
	printf "%s" "$2" | dd of="$WR_LEDGER" bs=1 seek="$1" conv=notrunc status=none
}

# missed: the snapshot is still taken as matching, and the state it gives
# is not the state of a full replay.
missed() {
	"$BENCH" dump "$WR_LEDGER" >with.dump &&
	"$BENCH" dump "$WR_LEDGER" --no-snapshot >without.dump &&
	! cmp -s with.dump without.dump
}

test_expect_success 'a ledger with a snapshot verifies clean, also --deep' '
	"$BENCH" gen "$WR_LEDGER" 20000 1000 7 &&
	WR_SNAPSHOT_BYTES=1 wr-watch --all >/dev/null &&
	test -s "$WR_LEDGER.snapshot" &&
	wr-ledger verify --deep >deep.out 2>deep.err &&
	test_grep "0 problems" deep.out &&
	test_must_be_empty deep.err
'

test_expect_success 'an edit no sample hits: verify is clean, verify --deep names the entry' '
	grep -b -o "\"message\":\"[a-z]" "$WR_LEDGER" | sed "s/:.*//" >offsets &&
	test $(wc -l <offsets) -gt 20 &&
	found= &&
	for off in $(cat offsets); do
		at=$((off + 11)) &&
		old=$(dd if="$WR_LEDGER" bs=1 skip=$at count=1 status=none) &&
		if [ "$old" = q ]; then new=z; else new=q; fi &&
		poke $at $new &&
		if missed; then found=$at; break; fi &&
		poke $at "$old" || return 1
	done &&
	test -n "$found" &&
	wr-ledger verify >plain.out &&
	test_grep "0 problems" plain.out &&
	test_expect_code 1 wr-ledger verify --deep >deep.out &&
	test_grep "^$WR_LEDGER.snapshot: the state from the snapshot differs from a full replay in 1 place" deep.out &&
	test_grep "^outbox id=\"[0-9a-f-]+\": the snapshot has message=\"[a-z].*, the replay has message=\"q" deep.out &&
	test_expect_code 1 wr-ledger --json verify --deep >deep.json &&
	jq -e -s "map(select(.kind == \"deep\")) | length == 1 and .[0].file == \"$WR_LEDGER.snapshot\"" deep.json >/dev/null
'

test_expect_success '--deep goes with verify only' '
	test_expect_code 2 wr-ledger --deep stats 2>err &&
	test_grep "deep goes with verify only" err
'

test_done
