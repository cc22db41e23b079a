#!/usr/bin/env bash
# ledger-paths.sh - what a ledger path may name, and forward-compatible
# input (issue 12, item 13):
#   - an integer beyond 2^63 in an unknown field is kept and ignored; in a
#     known field it is named;
#   - a line of NUL bytes is reported as NUL bytes, with file:line:column;
#   - wr-ledger repair never creates a ledger from a mistyped path;
#   - a ledger path that is (or became, under a running writer) a symbolic
#     link to another file is refused, and that file is not appended to.
. "$(dirname "$0")/lib.sh"

TS=2026-11-20T22:31:05.123Z

enq() { # enq SEQ ID [EXTRA-JSON-MEMBERS]
	printf '{"v":1,"seq":%d,"ts":"%s","type":"outbox.enqueued","by":"t/1","id":"%s","kind":"custom","message":"m"%s}\n' \
		"$1" "$TS" "$2" "${3:+,$3}"
}

test_expect_success 'an integer beyond 2^63 in an unknown field is kept and ignored' '
	{
		enq 1 one &&
		enq 2 big "\"future\":18446744073709551616,\"deeper\":{\"n\":-99999999999999999999,\"r\":1e999}" &&
		enq 3 three
	} >"$WR_LEDGER" && chmod 0600 "$WR_LEDGER" && cp "$WR_LEDGER" before &&
	wr-ledger verify >verify.out &&
	test_grep ": 3 events, last seq 3, 0 stale, 0 problems" verify.out &&
	wr-outbox --json list --all >list.json &&
	jq -r .id list.json | sort >ids && printf "big\none\nthree\n" >ids.want && test_cmp ids.want ids &&
	wr-outbox add --kind custom --message after >/dev/null &&
	head -c "$(wc -c <before)" "$WR_LEDGER" | cmp - before
'

test_expect_success 'the same integer in a known field names the field' '
	{ enq 1 one && enq 2 two "\"attempt\":18446744073709551616"; } >"$WR_LEDGER" &&
	test_expect_code 1 wr-ledger verify >verify.out &&
	test_grep "^$WR_LEDGER:2:[0-9]+: field \"attempt\": expected" verify.out
'

test_expect_success 'a line of NUL bytes is reported as NUL bytes, file:line:column' '
	{ enq 1 one && head -c 300 /dev/zero && echo && enq 3 three && printf "{\"v\":1\000}\n"; } >"$WR_LEDGER" &&
	test_expect_code 1 wr-ledger verify >verify.out &&
	test_grep "^$WR_LEDGER:2:1: a line of 300 NUL bytes" verify.out &&
	test_grep "^$WR_LEDGER:4:7: NUL byte in the line" verify.out &&
	! grep -q "JSON" verify.out &&
	wr-watch stats >/dev/null 2>stats.err &&
	test_grep "^wr-watch: $WR_LEDGER:2:1: a line of 300 NUL bytes" stats.err
'

test_expect_success 'repair never creates a ledger from a mistyped path' '
	test_expect_code 74 wr-ledger --ledger "$TRASH/ledgr.jsonl" repair 2>repair.err &&
	test_grep "no ledger at $TRASH/ledgr.jsonl" repair.err &&
	test ! -e ledgr.jsonl && test ! -e ledgr.jsonl.lock &&
	mkdir -m 0700 sub &&
	test_expect_code 74 wr-ledger --ledger "$TRASH/sub/nope/l.jsonl" repair 2>repair.err &&
	test ! -e sub/nope
'

test_expect_success 'a ledger path that is a symlink to another file is refused' '
	rm -f "$WR_LEDGER" && enq 1 one >real.jsonl && chmod 0600 real.jsonl && cp real.jsonl real.before &&
	ln -s real.jsonl "$WR_LEDGER" &&
	for cmd in "wr-outbox add --kind custom --message x" "wr-ledger repair" "wr-ledger verify" "wr-watch --all"; do
		test_must_fail $cmd >out 2>err &&
		test_grep "refusing ledger $WR_LEDGER: it is a symbolic link" err || return 1
	done &&
	test_must_fail wr-run -- touch started 2>err && test ! -e started &&
	cmp real.before real.jsonl
'

run_refused() {
	grep -q "refusing ledger $WR_LEDGER: it is a symbolic link" run.err
}

test_expect_success 'a ledger that becomes a symlink under a running writer is not appended to' '
	rm -f "$WR_LEDGER" "$WR_LEDGER.lock" &&
	{
		wr-run --heartbeat 20ms --lease 10s --timeout 120s -- \
			sh -c "until [ -e stop ]; do sleep 0.02; done" >run.out 2>run.err &
	} &&
	pid=$! &&
	test_wait_until grep -q attempt.heartbeat "$WR_LEDGER" &&
	flock "$WR_LEDGER.lock" sh -c "
		ln -s moved.jsonl new.link && mv \"$WR_LEDGER\" moved.jsonl && mv -T new.link \"$WR_LEDGER\" &&
		cp moved.jsonl moved.before" &&
	test_wait_until run_refused &&
	touch stop &&
	{ test_wait_pid $pid; rc=$?; } &&
	not_crashed $rc run.err &&
	cmp moved.before moved.jsonl
'

test_done
