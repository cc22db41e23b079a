#!/bin/bash
# The progress protocol, version 2: turn, tool and metric lines are counted,
# not recorded one by one; the totals go into heartbeats and the finish;
# bad lines are reported and ignored; WR_PROGRESS_VERSION tells a harness.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"
H="$WR_SRC/share/examples/agent-harness.sh"

test_expect_success 'the command learns the protocol version' '
	wr-run -- sh -c "echo \$WR_PROGRESS_VERSION \$WR_PROGRESS_FD" >out &&
	echo "2 3" >expect && test_cmp expect out
'

test_expect_success 'counts in the finish, no event per line' '
	test_ledger_fresh &&
	wr-run -- "$H" --turns 6 --calls 2 --tokens 250 --stage-every 0 >out &&
	last attempt.finished fin &&
	jq -e ".outcome == \"success\" and .turns == 6 and .tool_calls == 12 and .metrics == {tokens: 1500}" fin &&
	test "$(count attempt.progress)" = 0 &&
	test "$(jq -s length "$(test_ledger)")" = 3
'

test_expect_success 'heartbeats carry the totals so far' '
	test_ledger_fresh &&
	wr-run --timeout 60s --heartbeat 100ms --lease 2s -- sh -c "
		echo {\\\"turn\\\":1} >&3; echo {\\\"turn\\\":2} >&3
		echo {\\\"tool\\\":\\\"ls\\\"} >&3
		echo {\\\"metric\\\":\\\"tokens\\\",\\\"value\\\":40} >&3
		echo {\\\"metric\\\":\\\"tokens\\\",\\\"value\\\":2} >&3
		until wr-ledger export | grep -q \"heartbeat.*\\\"turns\\\":2,\\\"tool_calls\\\":1,\\\"metrics\\\":{\\\"tokens\\\":42}\"; do
			sleep 0.05
		done" &&
	last attempt.heartbeat hb &&
	jq -e ".turns == 2 and .tool_calls == 1 and .metrics == {tokens: 42}" hb &&
	last attempt.finished fin &&
	jq -e ".outcome == \"success\" and .turns == 2 and .tool_calls == 1 and .metrics == {tokens: 42}" fin
'

test_expect_success 'a plain command: no counts anywhere' '
	test_ledger_fresh &&
	wr-run -- true &&
	last attempt.finished fin &&
	jq -e "has(\"turns\") or has(\"tool_calls\") or has(\"metrics\") | not" fin
'

test_expect_success 'bad lines are reported and ignored; the good ones count' '
	test_ledger_fresh &&
	cat >lines <<-\EOF &&
	{"turn":1}
	{"turn":1}
	{"turn":0}
	{"turn":"2"}
	{"turn":2,"tool":"x"}
	{"tool":""}
	{"tool":"ok","args":[1,2]}
	{"metric":"tokens","value":1.5}
	{"metric":"","value":1}
	{"metric":"tokens","value":7}
	{"metric":"tokens","value":-2}
	{"stage":"s","status":"done","turn":3}
	{"turn":3}
	EOF
	wr-run -- sh -c "cat lines >&3" 2>err &&
	test_grep "bad progress line.*turn 1 after turn 1: turn numbers increase" err &&
	test_grep "bad progress line.*\"turn\" must be a whole number" err &&
	test_grep "bad progress line.*one of stage, turn, tool or metric" err &&
	test_grep "bad progress line.*\"tool\" must be a tool.s name" err &&
	test_grep "bad progress line.*\"value\" of a metric must be a whole number" err &&
	test_grep "bad progress line.*\"metric\" must be a name" err &&
	test_grep "bad progress line.*not negative" err &&
	test "$(grep -c "bad progress line" err)" = 9 &&
	last attempt.finished fin &&
	jq -e ".outcome == \"success\" and .turns == 3 and .tool_calls == 1 and .metrics == {tokens: 7}" fin &&
	wr-ledger verify >v && test_grep " 0 problems" v
'

test_expect_success 'at most 32 metric names an attempt' '
	test_ledger_fresh &&
	wr-run -- sh -c "for i in \$(seq 1 40); do echo {\\\"metric\\\":\\\"m\$i\\\",\\\"value\\\":1} >&3; done" 2>err &&
	test_grep "more than 32 metric names" err &&
	last attempt.finished fin && jq -e ".metrics | length == 32" fin
'

test_expect_success 'the example harness without wr-run: it says so and runs' '
	env -u WR_PROGRESS_VERSION "$H" --turns 2 >out 2>err &&
	test_grep "no progress protocol 2" err &&
	test "$(grep -c "^turn " out)" = 2 &&
	test_expect_code 2 "$H" --bogus 2>err &&
	test_grep "unknown option" err &&
	"$H" --help >out && test_grep "^agent-harness.sh - " out
'

test_done
