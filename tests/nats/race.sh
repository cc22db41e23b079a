#!/bin/bash
# race.sh - writers racing on one stream: every publish expects the last
# sequence, so a conflict makes a writer catch up and decide again. No
# decision is lost, none is stored in part or twice, seqs stay continuous,
# and limits hold across writers (one recovery decision per failed attempt
# with several wr-recover at once).
. "$(dirname "$0")/../cli/lib.sh"
. "$WR_SRC/tests/nats/lib-nats.sh"

nats_setup

test_expect_success 'three writers, 40 decisions each: every promise kept, seqs 1..N, verify clean' '
	for i in 1 2 3; do
		{ "$C" commit --count 40 --mark w$i >printed.$i 2>err.$i & } &&
		echo $! >pid.$i || return 1
	done &&
	for i in 1 2 3; do
		test_wait_pid $(cat pid.$i) 120 || { cat err.$i >&2; return 1; }
	done &&
	test $(cat printed.1 printed.2 printed.3 | wc -l) -eq 120 &&
	"$C" check --printed printed.1 --printed printed.2 --printed printed.3 &&
	wr-ledger export >e.jsonl &&
	jq -s -e "(map(.seq) == [range(1; length + 1)])" e.jsonl &&
	wr-ledger verify
'

test_expect_success 'wr-recover on four processes at once: one retry decision for the failed attempt' '
	test_expect_code 1 wr-run --workflow once --max-attempts 3 --backoff 10ms,1,10ms -- false &&
	for i in 1 2 3 4; do
		{ wr-recover >rec.$i 2>rec.err.$i & } &&
		echo $! >rpid.$i || return 1
	done &&
	for i in 1 2 3 4; do
		{ test_wait_pid $(cat rpid.$i) 60 || test $? = 1; } || return 1
	done &&
	wr-ledger export >e.jsonl &&
	test $(jq -s "[.[] | select(.type == \"recovery.decided\" and .workflow == \"once\" and .attempt == 1)] | length" e.jsonl) -eq 1 &&
	wr-ledger verify
'

test_expect_success 'a writer committing back to back and five others at once: every writer finishes' '
	{ "$C" commit --count 400 --mark hot >printed.hot 2>err.hot & } &&
	hot=$! &&
	test_when_finished "test_kill_here $hot" &&
	test_wait_until test -s printed.hot &&
	for i in 1 2 3 4 5; do
		{ "$C" commit --count 20 --mark f$i >printed.f$i 2>err.f$i & } &&
		echo $! >pid.f$i || return 1
	done &&
	for i in 1 2 3 4 5; do
		{ test_wait_pid $(cat pid.f$i) 300 || { cat err.f$i >&2; return 1; }; } &&
		test $(wc -l <printed.f$i) -eq 20 || return 1
	done &&
	test_wait_pid $hot 300 &&
	"$C" check --printed printed.hot --printed printed.f1 --printed printed.f2 --printed printed.f3 \
		--printed printed.f4 --printed printed.f5 &&
	wr-ledger verify
'

nats_done
