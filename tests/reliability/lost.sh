#!/usr/bin/env bash
# lost.sh - what is left of a lost attempt stops (issue 12 items 2 and 6,
# issue 16 item 5):
#   - when wr-run is SIGKILLed its command gets SIGTERM at once (the parent
#     death signal, as under timeout(1)), it does not run on unsupervised;
#   - the pass that records the attempt lost kills every live member of
#     its process group on this host at once, the leader gone or not, and
#     not only once the backoff has passed;
#   - a successor never starts beside a leftover of its predecessor;
#   - slots of a concurrency limit held by SIGKILLed wr-runs are recorded
#     lost by the next start decision, which then starts at once.
. "$(dirname "$0")/lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

# run_id WORKFLOW: the id of the workflow's (only) run.
run_id() {
	jq -r --arg wf "$1" 'select(.type == "run.created" and .workflow == $wf) | .run' "$WR_LEDGER"
}

# pid_of_wr_run_for FILE: waits for FILE (a pid written by the command),
# then prints it.
await_pid() {
	wait_for "$1" && cat "$1"
}

test_expect_success 'SIGKILL wr-run: its command gets SIGTERM and dies promptly' '
	{ wr-run --workflow pdeath --max-attempts 2 --backoff 1h -- sh -c "echo \$\$ >leader; exec sleep 1000" 2>/dev/null & } &&
	wr=$! &&
	leader=$(await_pid leader) &&
	alive $leader &&
	kill -9 $wr && test_expect_code 137 test_wait_pid $wr &&
	test_wait_until dead $leader
'

test_expect_success 'the pass that records it lost kills what the leader left in its group, at once' '
	cat >bg.sh <<-\EOF &&
	sleep 1000 &
	echo $! >bg
	echo $$ >leader2
	wait
	EOF
	{ wr-run --workflow bg --max-attempts 2 --backoff 1h -- sh bg.sh 2>/dev/null & } &&
	wr=$! &&
	bg=$(await_pid bg) && leader=$(await_pid leader2) &&
	test "$(ps -o pgid= $bg | tr -d " ")" = $leader &&
	kill -9 $wr && test_expect_code 137 test_wait_pid $wr &&
	test_wait_until dead $leader &&
	alive $bg &&
	wr-recover >pass.out 2>pass.err &&
	test_grep "^lost .*killed process group $leader of the lost attempt" pass.out &&
	dead $bg &&
	test "$(jq -r "select(.type == \"recovery.decided\" and .workflow == \"bg\") | .action" "$WR_LEDGER")" = retry &&
	test "$(jq -s "map(select(.type == \"attempt.started\" and .run == \"$(run_id bg)\")) | length" "$WR_LEDGER")" = 1
'

test_expect_success 'a lost attempt recorded by wr-watch check: its leftovers are killed there' '
	cat >bg3.sh <<-\EOF &&
	sleep 1000 &
	echo $! >bg3
	echo $$ >leader3
	wait
	EOF
	{ wr-run --workflow bg3 --max-attempts 1 -- sh bg3.sh 2>/dev/null & } &&
	wr=$! &&
	bg=$(await_pid bg3) && leader=$(await_pid leader3) &&
	kill -9 $wr && test_expect_code 137 test_wait_pid $wr &&
	test_wait_until dead $leader &&
	alive $bg &&
	test_expect_code 1 wr-watch check >check.out 2>check.err &&
	test_grep "killed what was left of process group $leader" check.out &&
	dead $bg
'

# The successor records whether the predecessor's leftover still ran when
# it started: it must not. The first attempt's leader ends by itself once
# its wr-run is gone; its background child ignores TERM and stays.
test_expect_success 'after the lost attempt and its retry, the leftover is gone and the retry never saw it' '
	cat >job.sh <<-\EOF &&
	if [ -e first-done ]; then
		if kill -0 "$(cat bg4)" 2>/dev/null && [ "$(sed "s/.*) //" /proc/$(cat bg4)/stat | cut -d" " -f1)" != Z ]
		then echo alive >at-start; else echo gone >at-start; fi
		exit 0
	fi
	trap "" TERM
	sleep 1000 &
	echo $! >bg4
	touch first-done
	while kill -0 $PPID 2>/dev/null; do sleep 0.05; done
	EOF
	{ wr-run --workflow retry4 --backoff 10ms,1,10ms --kill-after 200ms -- sh job.sh 2>/dev/null & } &&
	wr=$! &&
	bg=$(await_pid bg4) &&
	kill -9 $wr && test_expect_code 137 test_wait_pid $wr &&
	alive $bg &&
	test_wait_until sh -c "wr-recover >>passes.out 2>>passes.err; test -s at-start" &&
	echo gone >expect &&
	test_cmp expect at-start &&
	dead $bg
'

# Holders of the two slots ignore TERM, so they outlive their SIGKILLed
# wr-runs: the start decision records both lost, kills what is left of
# them, and starts in the same decision. Each test has its workflow: lost
# attempts are failures for the breaker.
hold_slot() {
	rm -f held$1
	{ wr-run --workflow $lim --concurrency 2 --kill-after 200ms -- sh -c "trap \"\" TERM; echo \$\$ >held$1; sleep 1000" 2>/dev/null & }
	eval "wr$1=\$!"
}

lim=lim
test_expect_success 'slots held by SIGKILLed wr-runs: the next start records them lost and starts at once' '
	hold_slot 1 && hold_slot 2 &&
	h1=$(await_pid held1) && h2=$(await_pid held2) &&
	test_expect_code 75 wr-run --workflow lim --concurrency 2 --no-wait -- true 2>busy.err &&
	kill -9 $wr1 $wr2 && test_expect_code 137 test_wait_pid $wr1 && test_expect_code 137 test_wait_pid $wr2 &&
	wr-run --workflow lim --concurrency 2 --no-wait -- touch ran 2>start.err &&
	test -e ran &&
	test_grep "recorded 2 attempts of workflow lim lost" start.err &&
	dead $h1 && dead $h2 &&
	jq -c "select(.workflow == \"lim\" and (.type == \"attempt.finished\" or .type == \"attempt.started\")) |
		[.type, .outcome, .batch[1]]" "$WR_LEDGER" | tail -n 4 | head -n 3 >got &&
	grep -c "\"attempt.finished\",\"lost\"" got >nlost &&
	echo 2 >expect && test_cmp expect nlost &&
	test_grep "\"attempt.started\"" got &&
	jq -c ".[2]" got | sort -u >nbatch &&
	test "$(wc -l <nbatch)" = 1 && test "$(cat nbatch)" != null
'

lim=lim2
test_expect_success 'with --wait too: no waiting for a check, it starts at once' '
	hold_slot 1 && hold_slot 2 &&
	h1=$(await_pid held1) && h2=$(await_pid held2) &&
	rm -f ran && kill -9 $wr1 $wr2 && test_expect_code 137 test_wait_pid $wr1 && test_expect_code 137 test_wait_pid $wr2 &&
	wr-run --workflow lim2 --concurrency 2 --wait --timeout 20s -- touch ran 2>start.err &&
	test -e ran &&
	test_must_fail test_grep "waiting for a slot" start.err &&
	dead $h1 && dead $h2
'

test_expect_success 'the ledger verifies' '
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

# A failing test may leave its processes behind: none may outlive us.
for p in /proc/[0-9]*; do
	[ "${p#/proc/}" != $$ ] && [ "$(readlink "$p/cwd" 2>/dev/null)" = "$TRASH" ] && kill -9 "${p#/proc/}" 2>/dev/null
done

test_done
