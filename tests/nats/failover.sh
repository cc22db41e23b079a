#!/bin/bash
# failover.sh - a server of the cluster killed in the middle of commits,
# then another: the writers reconnect to the others and go on; every
# decision a writer reported is in the stream, none is there in part or
# twice, and a run that was going on when its server went records its end.
. "$(dirname "$0")/../cli/lib.sh"
. "$WR_SRC/tests/nats/lib-nats.sh"

nats_setup
export WR_COMMITTER_PAUSE_MS=5 # the stream stays small enough to check quickly

# lines FILE N: FILE has at least N lines.
lines() {
	[ -f "$1" ] && [ $(wc -l <"$1") -ge $2 ]
}

# grown FILE N PID: waits until FILE has N lines, while the writer PID
# lives; bounded (120 s: a loaded machine, a leader being elected), and
# says which writer stalled or died.
grown() {
	local until=$((SECONDS + 120))
	until lines "$1" "$2"; do
		if ! kill -0 "$3" 2>/dev/null || [ $SECONDS -ge $until ]; then
			echo "grown: $1 has $(wc -l <"$1") lines, not $2; writer $3 $(kill -0 "$3" 2>/dev/null && echo stalled || echo ended)" >&2
			cat "err.${1#printed.}" >&2
			return 1
		fi
		sleep 0.1
	done
}

test_expect_success 'two writers and a run go on while server 1 is killed and restarted, then server 2' '
	{ "$C" commit --count 0 --mark a >printed.a 2>err.a & } &&
	a=$! &&
	{ "$C" commit --count 0 --mark b >printed.b 2>err.b & } &&
	b=$! &&
	{ wr-run --workflow long -- sh -c "while [ ! -f go ]; do sleep 0.05; done" >run.out 2>run.err & } &&
	r=$! &&
	test_when_finished "touch go; test_kill_here $a $b" &&
	grown printed.a 20 $a &&
	nats_node_stop 1 &&
	n=$(wc -l <printed.a) &&
	grown printed.a $((n + 20)) $a &&
	nats_node_start 1 &&
	test_wait_until nats_node_ready 1 &&
	n=$(wc -l <printed.b) &&
	nats_node_stop 2 &&
	grown printed.b $((n + 20)) $b &&
	nats_node_start 2 &&
	test_wait_until nats_node_ready 2 &&
	n=$(wc -l <printed.a) &&
	grown printed.a $((n + 20)) $a &&
	touch go &&
	test_wait_pid $r 120 &&
	kill -TERM $a $b &&
	{ test_wait_pid $a 60; test $? = 143; } &&
	{ test_wait_pid $b 60; test $? = 143; } &&
	test_must_be_empty err.a &&
	test_must_be_empty err.b
'

test_expect_success 'every reported decision is in the stream, whole and once; seqs continuous' '
	"$C" check --printed printed.a --printed printed.b &&
	wr-ledger export >e.jsonl &&
	jq -s -e "(map(.seq) == [range(1; length + 1)])" e.jsonl &&
	wr-ledger verify
'

test_expect_success 'the run going on meanwhile recorded its end' '
	test $(jq -s "[.[] | select(.type == \"attempt.finished\" and .workflow == \"long\" and .outcome == \"success\")] | length" e.jsonl) -eq 1
'

test_expect_success 'with every server gone, a decision is not acknowledged: exit 75 naming the URL' '
	nats_cluster_stop &&
	test_expect_code 75 env WR_NATS_TIMEOUT=200ms wr-outbox add --kind custom --message lost 2>err &&
	test_grep "NATS" err &&
	test_grep "$NATS_URL" err
'

nats_done
