#!/bin/bash
# An agent's turns, tool calls and metrics (recorded by wr-run in
# heartbeats, attempt.stuck and attempt.finished, cumulative): the state
# takes the latest, show prints them, stats sums them per workflow; the
# snapshot keeps them and the new policy fields.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"
BENCH="$WR_BUILD/tests/bench/wr-bench"

r() { echo "0190ffff-0000-7000-8000-0000ffff00c$1"; }
D=2026-11-01T10
FAR=2099-01-01T00:00:00.000Z

test_expect_success 'agent runs: counts in heartbeats, stuck and finish' '
	ev $D:00:00.000Z run.created "{run: \"$(r 1)\", workflow: \"agent\", argv: [\"h\"], cwd: \"/srv\",
		policy: {max_attempts: 3, max_turns: 40, stuck: {repeat_tool: 3, no_progress_turns: 8,
		action: \"notify\"}}}" &&
	started $(r 1) 1 $D:00:01.000Z elsewhere 1 0 $FAR &&
	ev $D:00:02.000Z attempt.heartbeat "{run: \"$(r 1)\", attempt: 1, lease_until: \"$FAR\",
		turns: 2, tool_calls: 3, metrics: {tokens: 100}}" &&
	ev $D:00:03.000Z attempt.stuck "{run: \"$(r 1)\", attempt: 1, reason: \"repeated_tool_call\",
		action: \"notify\", detail: \"the same tool call 3 times in a row\", turns: 3, tool_calls: 6,
		metrics: {tokens: 150}}" &&
	ev $D:00:04.000Z attempt.finished "{run: \"$(r 1)\", attempt: 1, outcome: \"timeout\",
		duration_ms: 3000, exit_code: null, reason: \"reached turn 40 of --max-turns 40\",
		reason_code: \"max_turns\", turns: 40, tool_calls: 55, metrics: {tokens: 900, cost_mc: 12}}" &&

	created $(r 2) agent $D:01:00.000Z &&
	started $(r 2) 1 $D:01:01.000Z elsewhere 1 0 $FAR &&
	ev $D:01:02.000Z attempt.heartbeat "{run: \"$(r 2)\", attempt: 1, lease_until: \"$FAR\",
		turns: 5, tool_calls: 1, metrics: {tokens: 50}}" &&

	created $(r 3) agent $D:02:00.000Z &&
	started $(r 3) 1 $D:02:01.000Z elsewhere 1 0 $FAR &&
	finished $(r 3) 1 $D:02:02.000Z success 1000 0 &&
	wr-ledger verify >out &&
	test_grep " 0 problems" out
'

# A file can hold a line no tool wrote: verify finds it; a stream is
# written through the tools only, and import refuses the same lines.
test_expect_success FILE_LEDGER 'bad counts in the file are found by line and field' '
	cp "$(test_ledger)" keep.jsonl &&
	ev $D:03:00.000Z attempt.heartbeat "{run: \"$(r 2)\", attempt: 1, lease_until: \"$FAR\",
		metrics: {tokens: 1.5}}" &&
	test_expect_code 1 wr-ledger verify >out 2>&1 &&
	test_grep ":12:1: field .metrics" out &&
	cp keep.jsonl "$(test_ledger)" &&
	ev $D:03:00.000Z attempt.heartbeat "{run: \"$(r 2)\", attempt: 1, lease_until: \"$FAR\", turns: -1}" &&
	test_expect_code 1 wr-ledger verify >out 2>&1 &&
	test_grep ":12:1: field .turns" out &&
	cp keep.jsonl "$(test_ledger)" &&
	ev $D:03:00.000Z attempt.stuck "{run: \"$(r 2)\", attempt: 1, reason: \"bored\", action: \"notify\"}" &&
	test_expect_code 1 wr-ledger verify >out 2>&1 &&
	test_grep ":12:1: field .reason" out &&
	cp keep.jsonl "$(test_ledger)"
'

test_expect_success 'bad counts are refused at import by file, line and field; nothing is added' '
	n=$(jq -s length "$(test_ledger)") &&
	for bad in "metrics: {tokens: 1.5}/metrics" "turns: -1/turns"; do
		cp "$(test_ledger)" bad.jsonl &&
		ev_to bad.jsonl $D:03:00.000Z attempt.heartbeat "{run: \"$(r 2)\", attempt: 1, lease_until: \"$FAR\",
			${bad%/*}}" &&
		test_expect_code 1 wr-ledger import bad.jsonl >out 2>&1 &&
		test_grep "bad.jsonl:12:1: field .${bad#*/}" out || return 1
	done &&
	cp "$(test_ledger)" bad.jsonl &&
	ev_to bad.jsonl $D:03:00.000Z attempt.stuck "{run: \"$(r 2)\", attempt: 1, reason: \"bored\", action: \"notify\"}" &&
	test_expect_code 1 wr-ledger import bad.jsonl >out 2>&1 &&
	test_grep "bad.jsonl:12:1: field .reason" out &&
	test "$(jq -s length "$(test_ledger)")" = "$n"
'

test_expect_success 'status --json: the latest counts of each attempt, and the policy' '
	wr-watch status --all --json >out &&
	jq -e -s "map(select(.run == \"$(r 1)\"))[0]
		| .attempts[0].turns == 40 and .attempts[0].tool_calls == 55
		and .attempts[0].metrics == {tokens: 900, cost_mc: 12}
		and .policy.max_turns == 40 and .policy.stuck.repeat_tool == 3
		and .policy.stuck.no_progress_turns == 8" out &&
	jq -e -s "map(select(.run == \"$(r 2)\"))[0].attempts[0]
		| .turns == 5 and .tool_calls == 1 and .metrics == {tokens: 50}" out &&
	jq -e -s "map(select(.run == \"$(r 3)\"))[0].attempts[0]
		| .turns == 0 and .tool_calls == 0 and .metrics == {}" out &&
	jq -e -s "map(select(.run == \"$(r 3)\"))[0].policy | has(\"max_turns\") | not" out
'

test_expect_success 'show: an agent line per attempt, counts in the timeline' '
	wr-watch show $(r 1) >out &&
	test_grep "^agent     attempt 1, 40 turns, 55 tool calls, tokens 900, cost_mc 12$" out &&
	test_grep "attempt.heartbeat .*, 2 turns, 3 tool calls, tokens 100" out &&
	test_grep "attempt.stuck .*stuck .repeated_tool_call., action notify, 3 turns, 6 tool calls, tokens 150" out &&
	test_grep "attempt.finished .*attempt 1 timeout after 3s, 40 turns, 55 tool calls, tokens 900, cost_mc 12 .max_turns.: reached turn 40" out &&
	wr-watch show $(r 3) >out &&
	! grep -q "^agent" out
'

test_expect_success 'stats: sums per workflow, live attempts too' '
	wr-watch stats --json --workflow agent >out &&
	jq -e ".agent == {attempts: 2, turns: 45, tool_calls: 56, metrics: {tokens: 950, cost_mc: 12}}" out &&
	wr-watch stats --workflow agent >out &&
	test_grep "^  agent       2 attempts, 45 turns, 56 tool calls, tokens 950, cost_mc 12$" out
'

test_expect_success 'the snapshot keeps counts and limits' '
	"$BENCH" dump "$(test_ledger)" --no-snapshot >cold &&
	"$BENCH" snapshot "$(test_ledger)" >/dev/null &&
	"$BENCH" dump "$(test_ledger)" >warm &&
	test_grep "snapshot=1" warm &&
	test_grep "turns=40 tool_calls=55 metrics={\"tokens\":900,\"cost_mc\":12}" warm &&
	test_grep "policy{.* max_turns=40 stuck_repeat_tool=3 no_progress_turns=8 no_retry_on=\[" warm &&
	grep -v "^scan" cold >cold.s && grep -v "^scan" warm >warm.s &&
	test_cmp cold.s warm.s
'

test_expect_success 'prometheus: counters of finished attempts per workflow' '
	: "R4: a failed attempt with counts; the run waits for a retry, so a compaction keeps it" &&
	created $(r 4) agent $D:04:00.000Z &&
	started $(r 4) 1 $D:04:01.000Z elsewhere 1 0 $FAR &&
	ev $D:04:02.000Z attempt.finished "{run: \"$(r 4)\", attempt: 1, outcome: \"error\", duration_ms: 1000,
		exit_code: 1, turns: 7, tool_calls: 3, metrics: {tokens: 70}}" &&
	wr-watch stats --format prometheus >out.prom &&
	promtool check metrics <out.prom >lint 2>&1 &&
	test_must_be_empty lint &&
	grep "^wr_agent_" out.prom >got &&
	cat >want <<-\EOF &&
	wr_agent_attempts_total{workflow="agent"} 2
	wr_agent_turns_total{workflow="agent"} 47
	wr_agent_tool_calls_total{workflow="agent"} 58
	wr_agent_metric_total{workflow="agent",metric="tokens"} 970
	wr_agent_metric_total{workflow="agent",metric="cost_mc"} 12
	EOF
	test_cmp want got
'

test_expect_success FILE_LEDGER 'a compaction keeps the agent counters; the state replays the same with a snapshot' '
	wr-ledger compact --keep 1s >/dev/null &&
	head -n 1 "$(test_ledger)" | jq -e ".type == \"ledger.compacted\" and
		(.state.workflows[] | select(.workflow == \"agent\") | .agent.turns == 47)" &&
	jq -e -s "map(select(.run == \"$(r 4)\")) | length == 3" "$(test_ledger)" &&
	wr-watch stats --format prometheus >after.prom &&
	grep "^wr_agent_" after.prom >after &&
	test_cmp want after &&
	"$BENCH" dump "$(test_ledger)" --no-snapshot >cold &&
	"$BENCH" snapshot "$(test_ledger)" >/dev/null &&
	"$BENCH" dump "$(test_ledger)" >warm &&
	test_grep "snapshot=1" warm &&
	test_grep "agent_attempts=2 agent_turns=47 agent_tool_calls=58" warm &&
	grep -v "^scan" cold >cold.s && grep -v "^scan" warm >warm.s &&
	test_cmp cold.s warm.s
'

test_done
