#!/bin/bash
# Progress lines on WR_PROGRESS_FD become attempt.progress; --run continues
# a run as its next attempt with WR_STAGES_DONE, and is refused clearly
# when the run cannot continue.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

cat >job.sh <<'JOB'
#!/bin/bash
# Does the stages not done yet; fails in attempt 1 after two stages.
echo "attempt $WR_ATTEMPT stages-done [$WR_STAGES_DONE]" >>"$TRASH/job.log"
for s in fetch build test; do
	case ",$WR_STAGES_DONE," in *",$s,"*) continue ;; esac
	echo "{\"stage\":\"$s\",\"status\":\"started\"}" >&"$WR_PROGRESS_FD"
	if [ "$WR_ATTEMPT" = 1 ] && [ $s = test ]; then exit 1; fi
	echo "{\"stage\":\"$s\",\"status\":\"done\",\"detail\":\"$s ok\"}" >&"$WR_PROGRESS_FD"
done
JOB
chmod +x job.sh
export TRASH

test_expect_success 'WR_PROGRESS_FD is 3, so that /bin/sh (dash: one digit) can write to it' '
	WR_LEDGER=$TRASH/dash.jsonl wr-run --workflow dash -- /bin/sh -c "echo \"{\\\"stage\\\":\\\"s\\\",\\\"status\\\":\\\"done\\\"}\" >&\$WR_PROGRESS_FD; echo \$WR_PROGRESS_FD" >out 2>err &&
	echo 3 >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test "$(jq -c "select(.type==\"attempt.progress\") | [.stage, .status]" "$TRASH/dash.jsonl")" = "[\"s\",\"done\"]"
'

test_expect_success 'progress lines become attempt.progress' '
	test_expect_code 1 wr-run -- ./job.sh &&
	jq -c "select(.type==\"attempt.progress\") | [.attempt, .stage, .status, .detail]" "$(test_ledger)" >got &&
	cat >expect <<-\EOT &&
	[1,"fetch","started",null]
	[1,"fetch","done","fetch ok"]
	[1,"build","started",null]
	[1,"build","done","build ok"]
	[1,"test","started",null]
	EOT
	test_cmp expect got
'

test_expect_success '--run: attempt 2 resumes with WR_STAGES_DONE, same command and directory' '
	run=$(run_of 1) &&
	mkdir elsewhere && (cd elsewhere && wr-run --run "$run") &&
	printf "attempt 1 stages-done []\nattempt 2 stages-done [fetch,build]\n" >expect && test_cmp expect job.log &&
	last attempt.started st &&
	jq -e ".attempt==2 and .resume==[\"fetch\",\"build\"] and .run==\"$run\"" st &&
	last attempt.finished fin &&
	jq -e ".attempt==2 and .outcome==\"success\"" fin &&
	last outbox.enqueued ob && jq -e ".kind==\"recovered\"" ob &&
	test "$(count run.created)" = 1
'

test_expect_success '--run of a succeeded run is refused: 125, says why' '
	run=$(run_of 1) &&
	test_expect_code 125 wr-run --run "$run" 2>err &&
	test_grep "has already succeeded; start a new run without --run" err &&
	test "$(wc -l <job.log)" = 2
'

test_expect_success '--run by a unique prefix or the short id; unknown run refused' '
	run=$(run_of 1) &&
	test_expect_code 125 wr-run --run "${run:0:13}" 2>err &&
	test_grep "run $run has already succeeded" err &&
	test_expect_code 125 wr-run --run "${run: -8}" 2>err &&
	test_grep "run $run has already succeeded" err &&
	test_expect_code 125 wr-run --run no-such-run 2>err &&
	test_grep "no run .no-such-run." err
'

test_expect_success '--run refuses policy options and another command' '
	test_must_fail wr-run -- sh -c "exit 4" &&
	run=$(run_of -1) &&
	test_expect_code 125 wr-run --run "$run" --timeout 5m 2>err &&
	test_grep "^wr-run: --timeout cannot be used with --run" err &&
	test_expect_code 125 wr-run --run "$run" -- sh -c "exit 0" 2>err &&
	test_grep "another command" err &&
	test_expect_code 4 wr-run --run "$run" -- sh -c "exit 4" &&
	last attempt.started st && jq -e ".attempt==2" st
'

test_expect_success '--run keeps the policy recorded at creation' '
	test_expect_code 1 wr-run --stuck-repeat 3 --workflow pol -- bash -c "[ \$WR_ATTEMPT = 1 ] && exit 1; yes same" &&
	run=$(run_of -1) &&
	test_expect_code 123 wr-run --run "$run" >/dev/null &&
	last attempt.finished fin && jq -e ".attempt==2 and .outcome==\"stuck\"" fin
'

test_expect_success '--run of a running run is refused' '
	{ wr-run --workflow hold -- sh -c "echo x >held; while ! test -e release; do sleep 0.05; done; exit 1" & } &&
	wr=$! &&
	wait_for held &&
	run=$(run_of -1) &&
	test_expect_code 125 wr-run --run "$run" 2>err &&
	test_grep "is running \(attempt 1" err &&
	touch release && { wait $wr; test $? = 1; }
'

test_expect_success '--run of a cancelled or blocked run is refused' '
	run=$(run_of -1) &&
	append_event "{\"type\":\"run.blocked\",\"run\":\"$run\",\"reason\":\"needs a human\"}" &&
	test_expect_code 125 wr-run --run "$run" 2>err &&
	test_grep "is blocked: needs a human; unblock it first with .wr-recover unblock" err &&
	append_event "{\"type\":\"run.cancelled\",\"run\":\"$run\",\"reason\":\"not wanted\"}" &&
	test_expect_code 125 wr-run --run "$run" 2>err &&
	test_grep "was cancelled: not wanted" err
'

test_expect_success 'bad progress lines: a warning each, never a crash' '
	wr-run -- bash -c "
		echo not json >&\$WR_PROGRESS_FD
		echo \"[1,2]\" >&\$WR_PROGRESS_FD
		echo \"{\\\"stage\\\":\\\"x\\\"}\" >&\$WR_PROGRESS_FD
		echo \"{\\\"stage\\\":\\\"a,b\\\",\\\"status\\\":\\\"done\\\"}\" >&\$WR_PROGRESS_FD
		printf \"\\377\\376\\n\" >&\$WR_PROGRESS_FD
		head -c 100000 /dev/zero | tr \"\\0\" x >&\$WR_PROGRESS_FD; echo >&\$WR_PROGRESS_FD
		echo \"{\\\"stage\\\":\\\"good\\\",\\\"status\\\":\\\"done\\\"}\" >&\$WR_PROGRESS_FD
		echo fine" >out 2>err &&
	echo fine >expect && test_cmp expect out &&
	test "$(grep -c "ignoring a bad progress line" err)" = 6 &&
	last attempt.progress p && jq -e ".stage==\"good\"" p &&
	last attempt.finished fin && jq -e ".outcome==\"success\"" fin
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
