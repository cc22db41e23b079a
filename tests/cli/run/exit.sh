#!/bin/bash
# wr-run exit statuses and what attempt.finished records for each.
. "$(dirname "$0")/../lib.sh"

last() { jq -c "select(.type==\"$1\")" "$(test_ledger)" | tail -n 1 >"$2"; }

test_expect_success 'success: exit 0, run.created and attempt.started in one batch' '
	wr-run --label team=ops --label "k=v w" -- echo hello >out 2>err &&
	echo hello >expect && test_cmp expect out &&
	test_must_fail test -s err &&
	jq -s "length" "$(test_ledger)" >n && echo 3 >expect && test_cmp expect n &&
	jq -c "select(.type==\"run.created\") | [.workflow, .argv, .cwd==\"$TRASH\", .labels, .batch]" "$(test_ledger)" >got &&
	echo "[\"echo\",[\"echo\",\"hello\"],true,{\"team\":\"ops\",\"k\":\"v w\"},[1,2]]" >expect && test_cmp expect got &&
	last attempt.started st &&
	jq -e ".batch==[2,2] and .attempt==1 and .pid>0 and .pgid>0 and .pgid_start>0 and .pid_start>0 and .resume==[] and (.host|length)>0" st &&
	last attempt.finished fin &&
	jq -e ".outcome==\"success\" and .exit_code==0 and .signal==null and .output_bytes==6 and (.cpu_ms|type)==\"number\" and .max_rss_kb>0 and .duration_ms>=0" fin &&
	wr-ledger verify
'

test_expect_success 'the environment is never recorded' '
	SECRET_TOKEN=hunter2 wr-run -- true &&
	! grep -q hunter2 "$(test_ledger)"
'

test_expect_success 'child exit status passes through: 3, outcome error' '
	test_expect_code 3 wr-run -- sh -c "exit 3" &&
	last attempt.finished fin &&
	jq -e ".outcome==\"error\" and .exit_code==3" fin
'

test_expect_success 'child killed by a signal: 128+N, signal recorded' '
	test_expect_code 137 wr-run -- sh -c "kill -KILL \$\$" &&
	last attempt.finished fin &&
	jq -e ".outcome==\"error\" and .exit_code==null and .signal==9" fin
'

test_expect_success 'command not found: 127, recorded as an error' '
	test_expect_code 127 wr-run -- ./no-such-command 2>err &&
	test_grep "^wr-run: unable to run ./no-such-command: No such file or directory" err &&
	last attempt.finished fin &&
	jq -e ".outcome==\"error\" and .exit_code==127 and (.reason|test(\"not found\"))" fin
'

test_expect_success 'not executable: 126' '
	printf "#!/bin/sh\necho no\n" >script.sh && chmod 644 script.sh &&
	test_expect_code 126 wr-run -- ./script.sh 2>err &&
	test_grep "Permission denied" err &&
	last attempt.finished fin &&
	jq -e ".exit_code==126" fin
'

test_expect_success 'PATH lookup, never a shell' '
	mkdir bin && printf "#!/bin/sh\necho from-path \"\$@\"\n" >bin/mytool && chmod 755 bin/mytool &&
	PATH="$TRASH/bin:$PATH" wr-run -- mytool "a b" "\$HOME" ";" >out &&
	echo "from-path a b \$HOME ;" >expect && test_cmp expect out &&
	jq -r "select(.type==\"run.created\") | .workflow" "$(test_ledger)" | tail -n 1 >wf &&
	echo mytool >expect && test_cmp expect wf
'

test_expect_success 'unknown option: 125, names the option, nothing recorded, nothing run' '
	before=$(wc -l <"$(test_ledger)") &&
	test_expect_code 125 wr-run --frobnicate -- touch ran 2>err &&
	test_grep "unknown option .--frobnicate." err &&
	test_must_fail test -e ran &&
	test "$(wc -l <"$(test_ledger)")" = "$before"
'

test_expect_success 'bad values: 125 with what to type' '
	test_expect_code 125 wr-run --timeout soon -- true 2>err &&
	test_grep "invalid duration .soon." err &&
	test_expect_code 125 wr-run --stuck-action maybe -- true 2>err &&
	test_grep "abort or notify" err &&
	test_expect_code 125 wr-run --heartbeat 5m -- true 2>err &&
	test_grep "lease" err &&
	test_expect_code 125 wr-run 2>err &&
	test_grep "missing COMMAND" err
'

test_expect_success 'the child gets the WR_ variables; policy recorded' '
	wr-run --workflow envtest --timeout 1m --max-attempts 5 --backoff 10s,3,20m --no-retry-on 2,64 \
		--deadline 2h --concurrency 4 --stuck-repeat 9 --stuck-action notify --no-progress 5m \
		-- sh -c "echo \$WR_LEDGER \$WR_WORKFLOW \$WR_ATTEMPT [\$WR_STAGES_DONE] \$WR_RUN; test -n \"\$WR_PROGRESS_FD\"" >out &&
	run=$(jq -r "select(.type==\"run.created\") | .run" "$(test_ledger)" | tail -n 1) &&
	echo "$WR_LEDGER envtest 1 [] $run" >expect && test_cmp expect out &&
	jq -c "select(.type==\"run.created\") | .policy" "$(test_ledger)" | tail -n 1 >pol &&
	jq -e ".timeout_ms==60000 and .max_attempts==5 and .backoff=={\"initial_ms\":10000,\"factor\":3.0,\"max_ms\":1200000} and .no_retry_on==[2,64] and .deadline_ms==7200000 and .concurrency==4 and .stuck=={\"repeat\":9,\"no_progress_ms\":300000,\"action\":\"notify\"}" pol
'

test_expect_success 'help lists the exit statuses' '
	wr-run --help >help &&
	test_grep "^  124 +timed out" help &&
	test_grep "^  123 +stuck" help &&
	test_grep "^  75 +rejected" help
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
