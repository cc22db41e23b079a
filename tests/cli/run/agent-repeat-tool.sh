#!/bin/bash
# --stuck-repeat-tool N: stuck (repeated_tool_call) when the same tool call,
# name and arguments, comes N times in a row on the progress fd; abort and
# notify, one outbox entry per stuck event, workrail's token in the export.
# The session is share/examples/agent-harness.sh; an aborted one lingers
# until killed, so only the detector can end it (--timeout bounds a bug).
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"
H="$WR_SRC/share/examples/agent-harness.sh"

test_expect_success 'abort: 123, attempt.stuck, outcome stuck, one outbox entry' '
	test_expect_code 123 wr-run --timeout 60s --stuck-repeat-tool 3 -- \
		"$H" --turns 8 --loop-from 3 --linger >out 2>err &&
	test_grep "stuck \(repeated_tool_call\): the same tool call 3 times in a row: read_file\(notes.txt\)" err &&
	test "$(count attempt.stuck)" = 1 &&
	last attempt.stuck stk &&
	jq -e ".reason == \"repeated_tool_call\" and .action == \"abort\" and .turns == 4 and .tool_calls == 5
		and (.detail | test(\"^the same tool call 3 times in a row: read_file\\\\(notes.txt\\\\) \\\\(hash [0-9a-f]{16}\\\\)$\"))" stk &&
	last attempt.finished fin &&
	jq -e ".outcome == \"stuck\" and .reason_code == \"repeated_tool_call\" and .signal == 15
		and (.reason | startswith(\"repeated_tool_call: \")) and .turns >= 5 and .metrics.tokens >= 500" fin &&
	test "$(count outbox.enqueued)" = 1 &&
	last outbox.enqueued ob &&
	jq -e ".kind == \"stuck\" and .details.reason == \"repeated_tool_call\"" ob
'

test_expect_success 'the workrail export carries the token in reason, the sentence in message' '
	wr-outbox list --format workrail >wk &&
	jq -e ".kind == \"stuck\" and .reason == \"repeated_tool_call\" and (.message | test(\"stuck and aborted\"))" wk
'

test_expect_success 'notify: the session goes on, one attempt.stuck, one outbox entry' '
	test_ledger_fresh &&
	wr-run --stuck-repeat-tool 3 --stuck-action notify -- "$H" --turns 8 --loop-from 3 >out 2>err &&
	test "$(grep -c "^turn " out)" = 8 &&
	test "$(count attempt.stuck)" = 1 &&
	last attempt.stuck stk && jq -e ".reason == \"repeated_tool_call\" and .action == \"notify\"" stk &&
	test "$(count outbox.enqueued)" = 1 &&
	last outbox.enqueued ob &&
	jq -e ".kind == \"stuck\" and .reason == \"repeated_tool_call\" and .details.reason == \"repeated_tool_call\"
		and (.message | test(\"goes on running\"))" ob &&
	last attempt.finished fin &&
	jq -e ".outcome == \"success\" and .reason_code == null and .turns == 8 and .tool_calls == 8" fin &&
	wr-outbox list --format workrail >wk &&
	jq -e ".reason == \"repeated_tool_call\"" wk
'

test_expect_success 'notify: a call that breaks the loop re-arms it: two stuck events, two entries' '
	test_ledger_fresh &&
	wr-run --stuck-repeat-tool 3 --stuck-action notify -- \
		"$H" --turns 10 --loop-from 2 --break-at 6 >out 2>err &&
	test "$(count attempt.stuck)" = 2 &&
	test "$(count outbox.enqueued)" = 2 &&
	jq -s -e "map(select(.type == \"attempt.stuck\") | .turns) == [3, 8]" "$(test_ledger)"
'

test_expect_success 'below the threshold, or different arguments: no stuck' '
	test_ledger_fresh &&
	wr-run --stuck-repeat-tool 4 -- "$H" --turns 5 --loop-from 3 >out &&
	wr-run --stuck-repeat-tool 2 -- "$H" --turns 5 --calls 3 >out &&
	test "$(count attempt.stuck)" = 0 &&
	test "$(count outbox.enqueued)" = 0
'

test_expect_success 'arguments as JSON: the same object with its keys in another order is the same call' '
	test_ledger_fresh &&
	test_expect_code 123 wr-run --timeout 60s --stuck-repeat-tool 2 -- sh -c "
		echo \"{\\\"tool\\\":\\\"grep\\\",\\\"args\\\":{\\\"q\\\":\\\"x\\\",\\\"path\\\":\\\".\\\"}}\" >&3
		echo \"{\\\"tool\\\":\\\"grep\\\",\\\"args\\\":{\\\"path\\\":\\\".\\\",\\\"q\\\":\\\"x\\\"}}\" >&3
		exec sleep 1000" 2>err &&
	last attempt.stuck stk &&
	jq -e ".reason == \"repeated_tool_call\" and (.detail | test(\"grep\\\\(\\\\{\\\"path\\\":\\\".\\\",\\\"q\\\":\\\"x\\\"\\\\}\\\\)\"))" stk
'

test_expect_success 'only a hash and a short summary of the arguments are kept (the arguments come in the environment, which is not recorded)' '
	test_ledger_fresh &&
	secret=$(printf "%0200d" 7) &&
	ARGS="BEGIN\\n$secret" test_expect_code 123 wr-run --timeout 60s --stuck-repeat-tool 2 -- sh -c "
		for i in 1 2; do printf \"{\\\"tool\\\":\\\"write\\\",\\\"args\\\":\\\"%s\\\"}\\n\" \"\$ARGS\" >&3; done
		exec sleep 1000" 2>err &&
	! grep -q "$secret" "$(test_ledger)" &&
	last attempt.stuck stk &&
	jq -e ".detail | test(\"write\\\\(BEGIN\\\\?0{34}\\\\.\\\\.\\\\.\\\\)\")" stk
'

test_expect_success 'a control character in a tool name does not reach the terminal' '
	test_ledger_fresh &&
	printf "{\"tool\":\"\\\\u001b[2Jx\",\"args\":\"a\\\\tb\"}\n" >line &&
	cat line line >lines &&
	test_expect_code 123 wr-run --timeout 60s --stuck-repeat-tool 2 -- sh -c "cat lines >&3; exec sleep 1000" 2>err &&
	test_must_fail grep -q "$(printf "\033")" err &&
	test_grep "the same tool call 2 times in a row: \?\[2Jx\(a\?b\)" err &&
	last attempt.stuck stk && jq -e ".detail | test(\"^the same tool call 2 times in a row: [?][[]2Jx[(]a[?]b[)]\")" stk
'

test_expect_success '--stuck-repeat-tool is recorded in the policy; --run keeps it and refuses it' '
	test_ledger_fresh &&
	wr-run --stuck-repeat-tool 5 -- true &&
	last run.created rc && jq -e ".policy.stuck.repeat_tool == 5" rc &&
	test_expect_code 125 wr-run --stuck-repeat-tool 3 --run "$(run_of 1)" 2>err &&
	test_grep "stuck-repeat-tool cannot be used with --run" err &&
	test_expect_code 125 wr-run --stuck-repeat-tool 1 -- true 2>err &&
	test_grep "stuck-repeat-tool.*from 2" err
'

test_done
