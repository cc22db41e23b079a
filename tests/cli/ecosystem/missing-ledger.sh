#!/bin/bash
# A ledger that does not exist: every tool that only reads it (or must not
# start one: repair, compact, deliver, a recovery pass, check) exits 74 with
# "no ledger at PATH" and where the path came from; the writers (wr-run,
# wr-outbox add and import) create it as before.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

L="$TRASH/typo/ledger.jsonl"

# must_refuse TOOL ARGS...: exit 74, the message on stderr, nothing created.
must_refuse() {
	test_expect_code 74 "$1" --ledger "$L" "${@:2}" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^$1: no ledger at $L \(path from --ledger\); check --ledger, WR_LEDGER and XDG_STATE_HOME" err &&
	test ! -e "$TRASH/typo"
}

test_expect_success 'the reading tools refuse a missing ledger' '
	must_refuse wr-watch &&
	must_refuse wr-watch status --json &&
	must_refuse wr-watch show abc &&
	must_refuse wr-watch stats &&
	must_refuse wr-watch check &&
	must_refuse wr-watch check --dry-run &&
	must_refuse wr-outbox list &&
	must_refuse wr-ledger verify &&
	must_refuse wr-ledger stats &&
	must_refuse wr-recover --dry-run
'

test_expect_success 'tools that must not start a ledger refuse it too' '
	must_refuse wr-ledger repair &&
	must_refuse wr-ledger compact &&
	must_refuse wr-recover &&
	must_refuse wr-recover unblock abc &&
	must_refuse wr-outbox deliver -- true &&
	must_refuse wr-outbox ack abc
'

test_expect_success 'the message names WR_LEDGER, XDG_STATE_HOME or HOME as the origin' '
	WR_LEDGER=$L test_expect_code 74 wr-watch 2>err &&
	test_grep "no ledger at $L \(path from WR_LEDGER\)" err &&
	(unset WR_LEDGER && test_expect_code 74 wr-ledger verify 2>err) &&
	test_grep "no ledger at $XDG_STATE_HOME/wr/ledger.jsonl \(path from XDG_STATE_HOME\)" err
'

test_expect_success 'the writers create it, and then the readers read it' '
	wr-run --ledger "$L" -- true &&
	test -f "$L" &&
	wr-watch --ledger "$L" --all --json >out &&
	test $(wc -l <out) = 1 &&
	rm -rf "$TRASH/typo" &&
	wr-outbox --ledger "$L" add --kind custom --message hi >/dev/null &&
	wr-outbox --ledger "$L" list --json >out &&
	test $(wc -l <out) = 1 &&
	wr-ledger --ledger "$L" repair >out &&
	test_grep "nothing to repair" out
'

test_done
