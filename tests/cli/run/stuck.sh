#!/bin/bash
# Stuck detection: repeated output (N identical lines in a row on stdout,
# or on stderr, each stream on its own), no progress and no output; abort
# and notify. The outbox entry's reason is the detector's token.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

test_expect_success 'repeated output on stdout, abort: 123, outcome stuck' '
	test_expect_code 123 wr-run --stuck-repeat 5 -- sh -c "echo start; while :; do echo same; done" >out 2>err &&
	test_grep "stuck \(repeated_output\)" err &&
	head -n 6 out >got && printf "start\nsame\nsame\nsame\nsame\nsame\n" >expect && test_cmp expect got &&
	last attempt.stuck stk &&
	jq -e ".reason==\"repeated_output\" and .action==\"abort\" and (.detail|test(\"5 times in a row on stdout: same\$\"))" stk &&
	last attempt.finished fin &&
	jq -e ".outcome==\"stuck\" and (.reason|startswith(\"repeated_output\"))" fin &&
	test "$(count outbox.enqueued)" = 1 &&
	last outbox.enqueued ob && jq -e ".kind==\"stuck\"" ob
'

test_expect_success 'repeated output on stderr counts on its own' '
	test_expect_code 123 wr-run --stuck-repeat 4 -- sh -c "i=0; while :; do i=\$((i+1)); echo \$i; echo err >&2; done" >out 2>err &&
	last attempt.stuck stk &&
	jq -e "(.detail|test(\"on stderr: err\$\"))" stk
'

test_expect_success 'different lines, a line cut across writes: no stuck' '
	n=$(count attempt.stuck) &&
	wr-run --stuck-repeat 3 -- sh -c "for i in 1 2 3 4 5 6; do echo a; echo b; done; printf x; printf \"x\\n\"; printf \"xx\\n\"" >out &&
	test "$(count attempt.stuck)" = $n &&
	tail -n 2 out >got && printf "xx\nxx\n" >expect && test_cmp expect got
'

test_expect_success 'a line split across writes is one line' '
	test_expect_code 123 wr-run --stuck-repeat 3 -- bash -c "for i in 1 2 3; do printf sa; sleep 0.05; printf \"me\\n\"; done; sleep 1000" >out &&
	last attempt.stuck stk &&
	jq -e "(.detail|test(\"on stdout: same\$\"))" stk
'

test_expect_success 'notify: one attempt.stuck and one outbox entry, the command goes on' '
	before_stuck=$(count attempt.stuck) && before_ob=$(count outbox.enqueued) &&
	wr-run --stuck-repeat 3 --stuck-action notify -- sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do echo same; done; echo end" >out 2>err &&
	test "$(wc -l <out)" = 11 &&
	test "$(count attempt.stuck)" = $((before_stuck + 1)) &&
	test "$(count outbox.enqueued)" = $((before_ob + 1)) &&
	last attempt.stuck stk && jq -e ".action==\"notify\"" stk &&
	last outbox.enqueued ob && jq -e ".kind==\"stuck\" and .reason==\"repeated_output\" and (.message|test(\"goes on\"))" ob &&
	last attempt.finished fin && jq -e ".outcome==\"success\"" fin
'

test_expect_success 'no progress, abort: 123' '
	test_expect_code 123 wr-run --no-progress 300ms -- sleep 1000 2>err &&
	test_grep "no_progress" err &&
	last attempt.stuck stk &&
	jq -e ".reason==\"no_progress\" and .action==\"abort\"" stk &&
	last attempt.finished fin && jq -e ".outcome==\"stuck\"" fin
'

test_expect_success 'no progress, notify: recorded once, the command finishes' '
	wr-run --no-progress 200ms --stuck-action notify -- \
		sh -c "until wr-ledger export | grep -q \"\\\"reason\\\":\\\"no_progress\\\",.*\\\"action\\\":\\\"notify\\\"\"; do sleep 0.05; done; sleep 0.5; exit 0" &&
	jq -s "map(select(.type==\"attempt.stuck\" and .action==\"notify\" and .reason==\"no_progress\")) | length" "$(test_ledger)" >n &&
	echo 1 >expect && test_cmp expect n &&
	last attempt.finished fin && jq -e ".outcome==\"success\"" fin
'

test_expect_success 'progress lines keep no-progress quiet' '
	n=$(count attempt.stuck) &&
	wr-run --no-progress 10s -- bash -c "for i in 1 2 3; do echo \"{\\\"stage\\\":\\\"s\$i\\\",\\\"status\\\":\\\"done\\\"}\" >&\$WR_PROGRESS_FD; done" &&
	test "$(count attempt.stuck)" = $n
'

test_expect_success 'no output on either stream, abort: 123, reason no_output' '
	test_expect_code 123 wr-run --workflow noout --no-output 300ms -- sh -c "echo hello; echo oops >&2; exec sleep 1000" >out 2>err &&
	echo hello >expect && test_cmp expect out &&
	test_grep "stuck \(no_output\): no output on stdout or stderr for" err &&
	last attempt.stuck stk &&
	jq -e ".reason==\"no_output\" and .action==\"abort\"" stk &&
	last attempt.finished fin &&
	jq -e ".outcome==\"stuck\" and (.reason|startswith(\"no_output: \"))" fin &&
	last outbox.enqueued ob &&
	jq -e ".kind==\"stuck\" and .details.reason==\"no_output\" and (.message|test(\"was stuck and aborted\")) and (.reason|startswith(\"no_output: \"))" ob &&
	last run.created rc && jq -e ".policy.stuck.no_output_ms==300" rc
'

test_expect_success 'workrail export: the token in reason, the sentence in message' '
	wr-outbox list --format workrail >wr.jsonl &&
	jq -r "select(.kind == \"stuck\") | .reason" wr.jsonl | sort -u >got &&
	printf "no_output\nno_progress\nrepeated_output\n" >expect &&
	test_cmp expect got &&
	jq -s -e "map(select(.kind == \"stuck\") | .message | test(\"stuck\")) | all" wr.jsonl
'

test_expect_success 'no output, notify: recorded once, the command goes on and finishes' '
	wr-run --workflow nonotify --no-output 200ms --stuck-action notify -- \
		sh -c "until wr-ledger export | grep -q \"\\\"reason\\\":\\\"no_output\\\",.*\\\"action\\\":\\\"notify\\\"\"; do sleep 0.05; done; sleep 0.5; exit 0" &&
	jq -s "map(select(.type==\"attempt.stuck\" and .action==\"notify\" and .reason==\"no_output\")) | length" "$(test_ledger)" >n &&
	echo 1 >expect && test_cmp expect n &&
	last outbox.enqueued ob && jq -e ".kind==\"stuck\" and .details.reason==\"no_output\"" ob &&
	last attempt.finished fin && jq -e ".outcome==\"success\"" fin
'

test_expect_success 'output on stderr alone keeps --no-output quiet; 0 is off' '
	n=$(count attempt.stuck) &&
	wr-run --workflow noquiet --no-output 10s -- sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do echo \$i >&2; sleep 0.05; done" 2>err &&
	wr-run --workflow nooff --no-output 0 -- sh -c "sleep 0.3" &&
	test "$(count attempt.stuck)" = $n
'

test_expect_success 'a bad --no-output says what was wrong' '
	test_expect_code 125 wr-run --no-output 10x -- true 2>err &&
	test_grep "invalid duration .10x.: unknown unit" err
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
