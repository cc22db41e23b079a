#!/bin/bash
# kill-lost.sh - a lost attempt whose process group still runs on this
# host is killed before its successor starts; the old attempt's late
# attempt.finished is stale and changes nothing. A group that is not
# provably the attempt's (another start time, another host) is left alone.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/recover/lib-recover.sh"

HOST=$(uname -n)

# A process in a new session and group, like a command wr-run started;
# prints its pid once it is the command itself.
# Usage: spawn_group CMD... (sets $sp)
spawn_group() {
	setsid "$@" &
	sp=$!
	test_wait_until not_setsid $sp
}

not_setsid() {
	test "$(cat /proc/$1/comm 2>/dev/null)" != setsid
}

# A pid that was just used and is gone now.
gone_pid() {
	sh -c "exit 0" &
	local p=$!
	wait $p
	echo $p
}

# 1 when pid is gone or a zombie.
dead() {
	local s
	s=$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -d" " -f1)
	[ -z "$s" ] || [ "$s" = Z ]
}

# The successor records what it saw of the old process when it started.
probe() {
	echo "[\"sh\", \"-c\", \"s=\$(sed \\\"s/.*) //\\\" /proc/$1/stat 2>/dev/null | cut -d\\\" \\\" -f1); echo \${s:-gone} >at-start\"]"
}

test_expect_success 'the lost attempt group is killed (TERM) before the successor starts' '
	spawn_group sleep 1000 && old=$sp &&
	test "$(ps -o pgid= $old | tr -d " ")" = $old &&
	start=$(sed "s/.*) //" /proc/$old/stat | cut -d" " -f20) &&
	gone=$(gone_pid) &&
	created lost wf "$(policy 3)" "$(probe $old)" &&
	started lost 1 "$HOST" $gone 1 "$FUTURE" $old $start &&
	pass_until "test -e at-start" &&
	dead $old &&
	{ wait $old; rc=$?; } &&
	test $rc -eq 143 &&
	test_grep "^lost +lost .*supervisor process is gone" passes.out &&
	test_grep "killed process group $old of the lost attempt" passes.out &&
	echo "Z" >expect_z && echo gone >expect_gone &&
	{ test_cmp expect_gone at-start || test_cmp expect_z at-start; } &&
	test "$(status_of lost)" = succeeded
'

test_expect_success 'the old attempt finishing late is stale and changes nothing' '
	ev attempt.finished "{run: \"lost\", attempt: 1, outcome: \"error\", exit_code: 1, duration_ms: 5}" \
		"$(ts_at "now")" &&
	wr-ledger verify >verify &&
	test_grep " 1 stale, 0 problems" verify &&
	wr-recover --dry-run >out &&
	test_must_be_empty out &&
	test "$(status_of lost)" = succeeded
'

test_expect_success 'a group that ignores TERM gets KILL after the run'"'"'s kill_after' '
	spawn_group sh -c "trap \"\" TERM; sleep 1000 & wait" && old=$sp &&
	start=$(sed "s/.*) //" /proc/$old/stat | cut -d" " -f20) &&
	gone=$(gone_pid) &&
	created stubborn wf2 "$(policy 3 "kill_after_ms: 100")" "$(probe $old)" &&
	started stubborn 1 "$HOST" $gone 1 "$FUTURE" $old $start &&
	rm at-start &&
	pass_until "test -e at-start" &&
	dead $old &&
	{ wait $old; rc=$?; } &&
	test $rc -eq 137 &&
	{ test_cmp expect_gone at-start || test_cmp expect_z at-start; }
'

test_expect_success 'a group whose start time differs (pid reused) is not killed' '
	spawn_group sleep 1000 && other=$sp &&
	gone=$(gone_pid) &&
	created reused wf3 "$(policy 3)" &&
	started reused 1 "$HOST" $gone 1 "$FUTURE" $other 12345 &&
	pass_until "test \"\$(status_of reused)\" = succeeded" &&
	! dead $other &&
	kill $other && test_expect_code 143 test_wait_pid $other
'

test_expect_success 'a group on another host is not killed' '
	spawn_group sleep 1000 && other=$sp &&
	start=$(sed "s/.*) //" /proc/$other/stat | cut -d" " -f20) &&
	created far wf4 "$(policy 3)" &&
	started far 1 elsewhere 4242 1 "$PAST" $other $start &&
	pass_until "test \"\$(status_of far)\" = succeeded" &&
	! dead $other &&
	kill $other && test_expect_code 143 test_wait_pid $other
'

# The command ignores TERM, so the death signal wr-run gives it (TERM, as
# timeout(1)) leaves it running: the pass that records the attempt lost
# must kill it (KILL after kill_after).
test_expect_success 'with wr-run: a command that outlives its killed wr-run is killed before the retry' '
	rm at-start &&
	cat >job.sh <<-\JOB &&
	if [ -e started ]; then
		s=$(sed "s/.*) //" /proc/$(cat oldpid)/stat 2>/dev/null | cut -d" " -f1)
		echo ${s:-gone} >at-start
		exit 0
	fi
	trap "" TERM
	echo $$ >oldpid
	touch started
	exec sleep 1000
	JOB
	{ wr-run --workflow real --backoff 10ms,1,10ms --kill-after 200ms -- sh job.sh & } &&
	wr=$! &&
	test_wait_until test -s oldpid &&
	kill -9 $wr && test_expect_code 137 test_wait_pid $wr &&
	! dead $(cat oldpid) &&
	run=$(jq -r "select(.type == \"run.created\" and .workflow == \"real\") | .run" "$(test_ledger)") &&
	pass_until "test \"\$(status_of $run)\" = succeeded" &&
	dead $(cat oldpid) &&
	{ test_cmp expect_gone at-start || test_cmp expect_z at-start; } &&
	test_grep "killed process group $(cat oldpid) of the lost attempt" passes.out
'

test_expect_success 'the ledger verifies clean' '
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_done
