#!/bin/bash
# wr-ledger repair: a torn tail moves to PATH.quarantine, ledger.repaired is
# recorded, verify is clean after; nothing to do on a clean ledger.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-ledger.sh"

L=$WR_LEDGER

test_expect_success 'setup: a ledger torn in the middle of a decision' '
	good_ledger >"$L" &&
	cp "$L" good &&
	{ ev 10 run.blocked "\"run\":\"$R2\",\"batch\":[1,3]" &&
	  ev 11 outbox.enqueued "\"id\":\"$OB2\",\"kind\":\"escalated\",\"message\":\"blocked\",\"batch\":[2,3]" &&
	  ev 12 run.unblocked "\"run\":\"$R2\",\"batch\":[3,3]"; } >batch &&
	head -c 200 batch >torn &&
	cat torn >>"$L" &&
	test_expect_code 1 wr-ledger verify >out
'

test_expect_success 'repair moves the torn tail to PATH.quarantine' '
	wr-ledger repair >out 2>err &&
	test_grep "^$L: torn tail moved to $L.quarantine; recorded as ledger.repaired$" out &&
	cmp torn "$L.quarantine"
'

test_expect_success 'the ledger keeps every whole line and records ledger.repaired' '
	head -c "$(stat -c %s good)" "$L" >kept &&
	cmp good kept &&
	tail -n 1 "$L" >last &&
	jq -e ".type == \"ledger.repaired\" and .seq == 10 and .quarantine == \"$L.quarantine\" and .offset == 0 and .bytes == 200" last >/dev/null
'

test_expect_success 'the quarantine file is private' '
	test "$(stat -c %a "$L.quarantine")" = 600
'

test_expect_success 'verify is clean after repair' '
	wr-ledger verify >out &&
	test_grep "^$L: 10 events, last seq 10, 0 stale, 0 problems$" out
'

test_expect_success 'repair again: nothing to do' '
	cp "$L" before &&
	wr-ledger repair >out &&
	test_grep "^$L: nothing to repair$" out &&
	cmp before "$L"
'

test_expect_success 'repair --json' '
	wr-ledger --json repair >json &&
	jq -e ".repaired == false and .bytes == 0 and .quarantine == null" json >/dev/null &&
	printf "{\"v\":1,\"seq\":11" >>"$L" &&
	wr-ledger --json repair >json &&
	jq -e ".repaired == true and .bytes == 15 and .quarantine == \"$L.quarantine\"" json >/dev/null &&
	test "$(stat -c %s "$L.quarantine")" = 215 &&
	tail -n 1 "$L" | jq -e ".offset == 200 and .bytes == 15 and .seq == 11" >/dev/null &&
	wr-ledger verify >/dev/null
'

test_expect_success 'a reader (stats) treats a torn tail as not yet written' '
	printf "{\"v\":1,\"seq\":12" >>"$L" &&
	wr-ledger --json stats >json &&
	jq -e ".torn_tail == true and .events == 11 and .bad_lines == 0" json >/dev/null &&
	wr-ledger repair >/dev/null
'

test_expect_success 'a group-writable ledger is not repaired: 74' '
	printf "{\"v\":1" >>"$L" && chmod 664 "$L" &&
	cp "$L" before &&
	test_expect_code 74 wr-ledger repair >out 2>err &&
	test_grep "chmod go-w" err &&
	cmp before "$L" &&
	chmod 600 "$L"
'

test_done
