#!/bin/bash
# follow.sh - wr-watch follow on a stream reads what is appended through a
# JetStream consumer (ordered, from the sequence after the last it
# printed), not by asking the stream again and again; every event is
# printed once, in seq order, while several writers commit, and across a
# lost connection (the whole cluster stopped and started again: a new
# consumer from the message after the last it has), nothing printed
# twice, nothing skipped; a stream created after the follower started is
# waited for (said once), then followed from its first event.
# WR_NATS_TRACE=1 makes its end say how many messages came from the
# consumer.
. "$(dirname "$0")/../cli/lib.sh"
. "$WR_SRC/tests/nats/lib-nats.sh"

nats_setup

# The writers are another host: their decisions reach the follower
# through the stream, never through a copy on this host's disk.
W="env XDG_CACHE_HOME=$TRASH/writers"

# slow_wait CMD...: what waits on the cluster, for 120 s at most; what
# the follower said when it gives up.
slow_wait() {
	nats_wait 120 "$@" || {
		sed "s/^/follow: /" follow.err >&2
		return 1
	}
}

# subscribed N: the follower started its consumer N times.
subscribed() {
	[ $(grep -c "following from message" follow.err) -ge $1 ]
}

# The events of the stream, as seqs, one a line (read without a cache).
stream_seqs() {
	WR_NATS_CACHE=off wr-ledger export | jq .seq
}

# add_two: one decision, tried until the cluster takes it (bounded).
add_two() {
	local n=0
	until $W WR_NATS_TIMEOUT=2s wr-outbox add --kind custom --message two >/dev/null 2>add.err; do
		n=$((n + 1))
		if [ $n -ge 30 ]; then
			cat add.err >&2
			return 1
		fi
		sleep 0.5
	done
}

test_expect_success 'follow prints each event once, in order, as three writers commit' '
	wr-run -- true &&
	: >follow.err &&
	{ WR_NATS_TRACE=1 wr-watch follow --from-start --json >follow.out 2>follow.err & } &&
	f=$! &&
	test_when_finished "test_kill_here $f" &&
	slow_wait grep -q "following from message" follow.err &&
	for i in 1 2 3; do
		{ $W "$C" commit --count 20 --mark w$i >printed.$i 2>err.$i & } &&
		echo $! >pid.$i || return 1
	done &&
	for i in 1 2 3; do
		test_wait_pid $(cat pid.$i) 120 || { cat err.$i >&2; return 1; }
	done &&
	total=$(stream_seqs | wc -l) &&
	slow_wait seen $total &&
	stream_seqs >want &&
	jq .seq follow.out >got &&
	test_cmp want got &&
	kill -TERM $f &&
	test_wait_pid $f 30 &&
	test_grep ": [1-9][0-9]* messages from the consumer" follow.err
'

test_expect_success 'a lost connection: follow goes on from the last event it printed, none twice, none skipped' '
	start=$(stream_seqs | tail -n 1) &&
	: >follow.err &&
	{ WR_NATS_TRACE=1 wr-watch follow --json >follow.out 2>follow.err & } &&
	f=$! &&
	test_when_finished "test_kill_here $f" &&
	slow_wait grep -q "following from message" follow.err &&
	$W wr-outbox add --kind custom --message one >/dev/null &&
	slow_wait seen 1 &&
	nats_cluster_stop &&
	for i in 1 2 3; do
		nats_node_start $i || return 1
	done &&
	for i in 1 2 3; do
		test_wait_until nats_node_ready $i || return 1
	done &&
	add_two &&
	slow_wait subscribed 2 &&
	$W "$C" commit --count 10 --mark after >printed.after &&
	last=$(stream_seqs | tail -n 1) &&
	slow_wait seen $((last - start)) &&
	seq $((start + 1)) $last >want &&
	jq .seq follow.out >got &&
	test_cmp want got &&
	kill -TERM $f &&
	test_wait_pid $f 30 &&
	pushed=$(sed -n "s/.*: \([0-9]*\) messages from the consumer.*/\1/p" follow.err) &&
	test "$pushed" -ge 2
'

test_expect_success 'follow of a stream not created yet says so once, waits, and prints each of its events once it is' '
	later=$NATS_URL/LATER &&
	{ WR_LEDGER=$later wr-watch follow --json >follow.out 2>follow.err & } &&
	f=$! &&
	test_when_finished "test_kill_here $f" &&
	slow_wait grep -q "waiting for it" follow.err &&
	test_grep "the stream LATER does not exist" follow.err &&
	nats_ledger_init "$later" &&
	$W WR_LEDGER=$later wr-outbox add --kind custom --message first >/dev/null &&
	slow_wait seen 1 &&
	$W WR_LEDGER=$later wr-outbox add --kind custom --message second >/dev/null &&
	slow_wait seen 2 &&
	WR_LEDGER=$later WR_NATS_CACHE=off wr-ledger export | jq .seq >want &&
	jq .seq follow.out >got &&
	test_cmp want got &&
	test $(wc -l <follow.err) = 1 &&
	kill -TERM $f &&
	test_wait_pid $f 30
'

nats_done
