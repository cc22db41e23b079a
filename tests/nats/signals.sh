#!/bin/bash
# signals.sh - a tool waiting on a cluster that is gone ends promptly on a
# signal, as it would on a file ledger: wr-run passes it to its command's
# process group, stops waiting on the servers, says whether its last
# decision is in the stream or not known, and exits 128+N; wr-outbox
# deliver ends by the signal; the followers (follow, logs --follow) end
# with 0, as documented.
# Each test waits until the tool says (WR_NATS_TRACE) that it is trying the
# servers again, sends the signal, and gives the tool 30 s to end, while
# WR_NATS_TIMEOUT=30s would have it wait on the servers for minutes.
. "$(dirname "$0")/../cli/lib.sh"
. "$WR_SRC/tests/nats/lib-nats.sh"

nats_setup
export WR_NATS_TRACE=1

# has FILE TEXT: FILE exists and has TEXT.
has() {
	[ -f "$1" ] && grep -q -e "$2" "$1"
}

# up: the job is running.
up() {
	[ -f up ]
}

# The cluster again, after a test stopped it, every node ready (a node
# still up is left as it is).
cluster_back() {
	local i
	for i in 1 2 3; do
		[ -s "$TRASH/nats/n$i.pid" ] || nats_node_start $i
	done
	for i in 1 2 3; do
		nats_wait 60 nats_node_ready $i || return 1
	done &&
	nats_wait 120 readable
}

# readable: the stream answers a read (its leader elected again).
readable() {
	WR_NATS_CACHE=off WR_NATS_TRACE= wr-ledger export >/dev/null 2>&1
}

# slow_wait CMD...: what waits on the cluster (a tool's first requests on
# a loaded machine), for 120 s at most.
slow_wait() {
	nats_wait 120 "$@"
}

# term_retrying PID ERR STATUS: once PID says in ERR that it is trying the
# servers again, SIGTERM; PID must end within 30 s, with STATUS.
term_retrying() {
	local st
	test_wait_until has "$2" "trying again" || return 1
	kill -TERM "$1" || return 1
	test_wait_pid "$1" 30
	st=$?
	if [ "$st" != "$3" ]; then
		echo "term_retrying: $1 ended with $st, not $3" >&2
		return 1
	fi
}

# A job that says it is up, then runs until go is there; on SIGTERM it
# says so (in got) and exits 1.
job='trap "echo term >got; exit 1" TERM; : >up; while [ ! -f go ]; do sleep 0.05; done'

test_expect_success 'wr-run waiting on a heartbeat when SIGTERM comes: the command gets it, exit 143, the end not in the ledger' '
	{ WR_NATS_TIMEOUT=30s wr-run --heartbeat 1s -- sh -c "$job" >run.out 2>run.err & } &&
	r=$! &&
	test_when_finished "touch go; test_kill_here -KILL $r" &&
	slow_wait up &&
	nats_cluster_stop &&
	term_retrying $r run.err 143 &&
	test_grep term got &&
	test_grep "got signal Terminated; passing it to the command" run.err &&
	test_grep "wr-run: got signal SIGTERM: the end of attempt 1 of run .* \\(cancelled, exit 143\\) is not in the ledger: " run.err &&
	test_grep "wr-watch check" run.err
'

test_expect_success 'the cluster back: that attempt is still running in the ledger' '
	cluster_back &&
	wr-ledger export >e.jsonl &&
	test $(jq -s "[.[] | select(.type == \"attempt.finished\")] | length" e.jsonl) = 0 &&
	test $(jq -s "[.[] | select(.type == \"attempt.started\")] | length" e.jsonl) = 1
'

test_expect_success 'wr-run whose command ended as the cluster went ends on SIGTERM with 143 instead of trying forever' '
	rm -f up go got &&
	{ WR_NATS_TIMEOUT=30s wr-run -- sh -c "$job" >run.out 2>run.err & } &&
	r=$! &&
	test_when_finished "touch go; test_kill_here -KILL $r" &&
	slow_wait up &&
	nats_cluster_stop &&
	touch go &&
	term_retrying $r run.err 143 &&
	! test -f got &&
	test_grep "wr-run: got signal SIGTERM: the end of attempt 1 of run .* \\(success, exit 0\\) is not in the ledger: " run.err
'

# The fault hooks exist only in builds with -Dfault_injection (the
# suite's ASan build).
if [ "${WR_FAULT_BUILD:-0}" = 1 ]; then
	test_expect_success 'wr-run whose start was sent and never answered: on SIGTERM it says that whether the start is in the ledger is not known, and it is there' '
		cluster_back &&
		before=$(wr-ledger export | jq -s "[.[] | select(.type == \"run.created\")] | length") &&
		{ WR_FAULT_NATS_NOACK=100000 WR_NATS_TIMEOUT=30s wr-run -- touch ran >noack.out 2>noack.err & } &&
		r=$! &&
		test_when_finished "test_kill_here -KILL $r" &&
		term_retrying $r noack.err 143 &&
		! test -f ran &&
		test_grep "wr-run: got signal SIGTERM: whether the start of the run is in the ledger is not known: lost NATS .* while appending a decision \\(Timeout\\): whether it is in the stream \\(as message [0-9]+, Nats-Msg-Id wr-[0-9a-f]+\\) is not known" noack.err &&
		after=$(wr-ledger export | jq -s "[.[] | select(.type == \"run.created\")] | length") &&
		test $after = $((before + 1))
	'
fi

test_expect_success 'wr-outbox deliver recording a delivery when SIGTERM comes: ends by the signal, saying what it could not record' '
	cluster_back &&
	slow_wait wr-outbox add --kind custom --message hello >/dev/null &&
	rm -f up go got &&
	{ WR_NATS_TIMEOUT=30s wr-outbox deliver -- sh -c "$job" >deliver.out 2>deliver.err & } &&
	d=$! &&
	test_when_finished "touch go; test_kill_here -KILL $d" &&
	slow_wait up &&
	nats_cluster_stop &&
	touch go &&
	term_retrying $d deliver.err 143 &&
	test_grep "wr-outbox: unable to record the delivery: " deliver.err
'

test_expect_success 'wr-watch follow waiting on the servers ends on SIGTERM with 0' '
	cluster_back &&
	{ WR_NATS_TIMEOUT=30s wr-watch follow --json >follow.out 2>follow.err & } &&
	f=$! &&
	test_when_finished "test_kill_here -KILL $f" &&
	slow_wait has follow.err "following from message" &&
	nats_cluster_stop &&
	slow_wait has follow.err "trying again" &&
	kill -TERM $f &&
	test_wait_pid $f 30 &&
	sed "/^wr-watch: nats:\/\/[^ ]*: /d" follow.err >warned &&
	test_must_be_empty warned
'

test_expect_success 'wr-watch logs --follow waiting on the servers ends on SIGTERM with 0' '
	cluster_back &&
	rm -f up go got &&
	{ wr-run --print-id -- sh -c "$job" >run.out 2>run.err & } &&
	r=$! &&
	test_when_finished "touch go; test_kill_here -KILL $r" &&
	slow_wait up &&
	run=$(sed -n "s/^wr-run: running as run \([^,]*\),.*/\1/p" run.err) &&
	test -n "$run" &&
	{ WR_NATS_TIMEOUT=30s wr-watch logs "$run" --follow >logs.out 2>logs.err & } &&
	w=$! &&
	test_when_finished "test_kill_here -KILL $w" &&
	slow_wait has logs.err " fetched" &&
	nats_cluster_stop &&
	slow_wait has logs.err "trying again" &&
	kill -TERM $w &&
	test_wait_pid $w 30
'

nats_done
