#!/usr/bin/env bash
# launch.sh - a retry is launched once, and never early:
#   - a launch is a decision in the ledger (run.launched, with the launched
#     wr-run's pid): passes running at once launch a due retry once, and a
#     pass after the launch lock's holder was killed sees the live launch;
#   - a launch whose wr-run died before recording its start is launched
#     again exactly once; the next pass blocks the run (launch_lost);
#   - a late `wr-run --run` before the retry's not_before exits 75 and
#     starts nothing; `wr-recover retry` (a forced launch) starts it at once;
#   - `wr-run --run --attempt N` when N is not the next attempt starts nothing.
# The launched wr-runs are held before their start by a concurrency limit:
# a live attempt of the same workflow holds the only slot.
. "$(dirname "$0")/lib.sh"

run_of() {
	jq -r --arg wf "$1" 'select(.type == "run.created" and .workflow == $wf) | .run' "$WR_LEDGER"
}

# count 'JQ-SELECT': number of ledger events the filter selects.
count() {
	jq -s "[.[] | select($1)] | length" "$WR_LEDGER"
}

# has 'JQ-SELECT': some ledger event is selected.
has() {
	test "$(count "$1")" -gt 0
}

# launched_pid RUN: the pid of the run's latest launch.
launched_pid() {
	jq -r --arg r "$1" 'select(.type == "run.launched" and .run == $r) | .pid' "$WR_LEDGER" | tail -n 1
}

# waiting RUN N: N wr-run processes for the run live (the command each
# holds before its start is a fork of it, with the same arguments: not
# counted).
waiting() {
	local n
	n=$(ps -eo pid=,ppid=,stat=,args= | awk -v pat="--run $1 " '
		$4 ~ /(^|\/)wr-run$/ && index($0, pat) && $3 !~ /^Z/ { pid[$1] = $2 }
		END { n = 0; for (p in pid) if (!(pid[p] in pid)) n++; print n }') &&
	test "$n" = "$2"
}

# passes N: N wr-recover passes at once; their statuses in passes.rc.
passes() {
	local i pids=""
	: >passes.rc
	for i in $(seq "$1"); do
		{ wr-recover >>passes.out 2>>passes.err; echo $? >>passes.rc; } &
		pids="$pids $!"
	done
	for i in $pids; do
		test_wait_pid $i || return 1
	done
	! grep -v -x -e 0 -e 1 passes.rc
}

test_expect_success 'setup: a failed run of a workflow whose only slot is held' '
	test_expect_code 1 wr-run --workflow gate --concurrency 1 --backoff 0 --max-attempts 5 -- false &&
	{ wr-run --workflow gate --concurrency 1 -- sh -c "touch held; while [ ! -e release ]; do sleep 0.05; done" & } &&
	echo $! >holder &&
	test_wait_until test -e held &&
	run=$(run_of gate | head -n 1) &&
	echo $run >run
'

test_expect_success 'passes at once launch the due retry once' '
	run=$(cat run) &&
	passes 4 &&
	test "$(count "select(.type == \"run.launched\")")" = 1 &&
	test_wait_until waiting $run 1 &&
	test "$(count "select(.type == \"attempt.started\" and .run == \"$run\" and .attempt == 2)")" = 0
'

test_expect_success 'its launch lock holder killed, later passes still see the live launch' '
	run=$(cat run) &&
	pid=$(launched_pid $run) &&
	alive $pid &&
	sitter=$(ps -o ppid= -p $pid | tr -d " ") &&
	test "$sitter" != 1 &&
	test_kill_here -KILL $sitter &&
	test_wait_until dead $sitter &&
	passes 3 &&
	test "$(count "select(.type == \"run.launched\")")" = 1 &&
	waiting $run 1 &&
	alive $pid &&
	wr-recover --dry-run >dry.out &&
	test_grep "a launch of this run is under way \(wr-run pid $pid\)" dry.out
'

test_expect_success 'its wr-run killed before its start: launched again, exactly once' '
	run=$(cat run) &&
	pid=$(launched_pid $run) &&
	test_kill_here -KILL $pid &&
	test_wait_until dead $pid &&
	passes 3 &&
	test "$(count "select(.type == \"run.launched\")")" = 2 &&
	test_wait_until waiting $run 1 &&
	pid2=$(launched_pid $run) &&
	test $pid2 != $pid &&
	alive $pid2 &&
	passes 2 &&
	test "$(count "select(.type == \"run.launched\")")" = 2
'

test_expect_success 'the launch survives compaction and the snapshot; verify --deep agrees' '
	run=$(cat run) &&
	wr-run --workflow done -- true &&
	wr-ledger compact --keep 0s >compact.out &&
	test -e "$WR_LEDGER.snapshot" &&
	wr-watch status --json --all >status.json &&
	jq -e -s --arg r $run "map(select(.run == \$r))[0] | .launch.launches == 2 and .launch.pid == $(launched_pid $run)" status.json &&
	wr-ledger verify --deep >verify.out
'

test_expect_success 'the second launch lost too: the run is blocked (launch_lost), not launched again' '
	run=$(cat run) &&
	pid=$(launched_pid $run) &&
	test_kill_here -KILL $pid &&
	test_wait_until dead $pid &&
	test_expect_code 1 wr-recover --json >pass.out 2>pass.err &&
	test "$(jq -s "map(select(.action == \"escalate\" and .reason == \"launch_lost\")) | length" pass.out)" = 1 &&
	passes 3 &&
	test "$(count "select(.type == \"run.launched\")")" = 2 &&
	test "$(count "select(.type == \"run.blocked\" and .run == \"$run\")")" = 1 &&
	test "$(count "select(.type == \"outbox.enqueued\" and .reason == \"launch_lost\")")" = 1 &&
	test "$(count "select(.type == \"attempt.started\" and .run == \"$run\" and .attempt == 2)")" = 0 &&
	test_wait_until waiting $run 0 &&
	wr-ledger verify >verify.out
'

test_expect_success 'the slot is free again' '
	touch release &&
	test_wait_until dead $(cat holder)
'

test_expect_success 'a late wr-run --run before not_before exits 75 and starts nothing' '
	test_expect_code 1 wr-run --workflow late --backoff 1h --max-attempts 3 -- sh -c "echo \$WR_ATTEMPT >>ran; exit 1" &&
	wr-recover >pass.out &&
	run=$(run_of late) &&
	test "$(count "select(.type == \"recovery.decided\" and .run == \"$run\")")" = 1 &&
	cp "$WR_LEDGER" before &&
	test_expect_code 75 wr-run --run $run 2>err &&
	test_grep "waits for its retry until .*(in [0-9hm]*s*)" err &&
	test_grep "wr-recover retry" err &&
	test_cmp before "$WR_LEDGER" &&
	echo 1 >want &&
	test_cmp want ran
'

test_expect_success '... and so does a launch of an attempt that is not the next' '
	run=$(run_of late) &&
	test_expect_code 75 wr-run --run $run --attempt 3 2>err &&
	test_grep "not its next one" err &&
	test_cmp before "$WR_LEDGER"
'

test_expect_success 'wr-recover retry forces it: the launch is recorded forced and starts at once' '
	run=$(run_of late) &&
	wr-recover retry $run >retry.out &&
	test_grep "launched$" retry.out &&
	test_wait_until has "select(.type == \"attempt.finished\" and .run == \"$run\" and .attempt == 2)" &&
	has "select(.type == \"run.launched\" and .run == \"$run\" and .mode == \"forced\" and .attempt == 2)" &&
	printf "1\n2\n" >want &&
	test_cmp want ran
'

test_done
