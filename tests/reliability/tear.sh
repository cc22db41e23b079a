#!/usr/bin/env bash
# tear.sh - a crash at every byte of a 3-event decision (issue 7, crash
# injection, deterministic). Needs the fault build: WR_FAULT_TEAR_AT=N makes
# the append write only the first N bytes of the batch, then _exit(99).
# For each N (committer tear): the prefix is untouched, a reader applies
# none of the decision (all of it when N is its whole length), wr-ledger
# verify reports the torn tail, the next writer moves exactly those N bytes
# to the quarantine file and records ledger.repaired, and verify is clean.
. "$(dirname "$0")/lib.sh"

if ! fault_build; then
	echo "1..0 # SKIP the core was built without -Dfault_injection=true"
	exit 0
fi

test_expect_success 'a base ledger of whole decisions' '
	"$C" commit --count 3 --batch 2 --mark base >/dev/null &&
	"$C" commit --count 1 --batch 1 --mark single >/dev/null &&
	wr-ledger verify
'

# wr-ledger verify runs at every 8th offset and at each line end; the
# in-process reader and repair checks run at every offset.
test_expect_success 'a crash at each offset of a 3-event decision' '
	{ "$C" tear --every ${WR_TEAR_VERIFY_EVERY:-8} >tear.out 2>tear.err || { cat tear.out; tail tear.err; false; }; }
'
sed 's/^#* */# /' tear.out

test_expect_success 'the ledger after all the crashes is the base again, and clean' '
	wr-ledger verify
'

test_done
