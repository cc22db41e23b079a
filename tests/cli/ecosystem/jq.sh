#!/bin/bash
# The jq filters of share/jq against a hand-built ledger whose answers are
# worked out below, and against the tools that compute the same figures.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

J=$WR_SRC/share/jq
r() { printf '0190bbbb-0000-7000-8000-%012d\n' "$1"; }
NOW=2026-11-02T12:00:00.000Z

test_expect_success 'a ledger: alpha with 20 successes of 1..20s, failures around the last day' '
	for i in $(seq 1 20); do
		one_run $(r $i) alpha 2026-11-01T0$((i % 10)):00:00.000Z success $((i * 1000)) || return 1
	done &&
	: "run 21: error 26h before NOW (out), then timeout 11h before (in)" &&
	created $(r 21) beta 2026-11-01T09:00:00.000Z &&
	started $(r 21) 1 2026-11-01T09:00:01.000Z &&
	finished $(r 21) 1 2026-11-01T10:00:00.000Z error 100 1 &&
	ev 2026-11-01T10:00:01.000Z recovery.decided "{run: \"$(r 21)\", attempt: 1, action: \"retry\", recoveries: 1}" &&
	started $(r 21) 2 2026-11-02T00:59:00.000Z &&
	finished $(r 21) 2 2026-11-02T01:00:00.000Z timeout 60000 &&
	: "run 22: lost an hour before NOW (in); run 23: cancelled (never a failure)" &&
	created $(r 22) beta 2026-11-02T10:00:00.000Z &&
	started $(r 22) 1 2026-11-02T10:00:01.000Z &&
	finished $(r 22) 1 2026-11-02T11:00:00.000Z lost 3599000 &&
	created $(r 23) gamma 2026-11-02T11:00:00.000Z &&
	started $(r 23) 1 2026-11-02T11:00:01.000Z &&
	finished $(r 23) 1 2026-11-02T11:30:00.000Z cancelled 10 &&
	: "run 24: blocked; run 25: blocked, then unblocked (not blocked now)" &&
	created $(r 24) gamma 2026-11-02T06:00:00.000Z 1 &&
	started $(r 24) 1 2026-11-02T06:00:01.000Z &&
	finished $(r 24) 1 2026-11-02T06:00:02.000Z error 1000 2 &&
	ev 2026-11-02T06:00:03.000Z recovery.decided "{run: \"$(r 24)\", attempt: 1, action: \"escalate\", recoveries: 1}" &&
	ev 2026-11-02T06:00:03.000Z run.blocked "{run: \"$(r 24)\", reason: \"max attempts\"}" &&
	created $(r 25) gamma 2026-11-02T07:00:00.000Z 1 &&
	started $(r 25) 1 2026-11-02T07:00:01.000Z &&
	finished $(r 25) 1 2026-11-02T07:00:02.000Z error 1000 2 &&
	ev 2026-11-02T07:00:03.000Z recovery.decided "{run: \"$(r 25)\", attempt: 1, action: \"escalate\", recoveries: 1}" &&
	ev 2026-11-02T07:00:03.000Z run.blocked "{run: \"$(r 25)\", reason: \"max attempts\"}" &&
	ev 2026-11-02T08:00:00.000Z run.unblocked "{run: \"$(r 25)\", note: \"fixed\"}" &&
	wr-ledger verify >verify.out &&
	wr-watch --json --all >runs.json &&
	test $(wc -l <runs.json) -eq 25
'

test_expect_success 'failures-last-day: the timeout, the lost attempt and the blocked error' '
	jq -c --arg now $NOW -f $J/failures-last-day.jq runs.json >got &&
	jq -r "\"\(.run[-2:]) \(.attempt) \(.outcome) \(.finished)\"" got | sort >got.short &&
	cat >expect <<-\EOF_ &&
	21 2 timeout 2026-11-02T01:00:00.000Z
	22 1 lost 2026-11-02T11:00:00.000Z
	24 1 error 2026-11-02T06:00:02.000Z
	25 1 error 2026-11-02T07:00:02.000Z
	EOF_
	test_cmp expect got.short
'

test_expect_success 'failures-last-day: --arg hours widens the window' '
	jq -c --arg now $NOW --arg hours 48 -f $J/failures-last-day.jq runs.json >got &&
	test $(wc -l <got) -eq 5 &&
	jq -s -e "map(select((.run | endswith(\"21\")) and .attempt == 1)) | length == 1 and .[0].outcome == \"error\"" got
'

test_expect_success 'failures-last-day: without --arg now, the real clock (nothing so old)' '
	jq -c -f $J/failures-last-day.jq runs.json >got &&
	test_must_fail test -s got
'

test_expect_success 'blocked-now: run 24 only (25 was unblocked)' '
	jq -c -f $J/blocked-now.jq runs.json >got &&
	test $(wc -l <got) -eq 1 &&
	jq -e ".run == \"$(r 24)\" and .workflow == \"gamma\" and .command == \"job --flag\" and .last_outcome == \"error\"" got &&
	jq -r --arg format text -f $J/blocked-now.jq runs.json >text &&
	test_grep "^$(r 24 | cut -c29-)  gamma  since " text
'

test_expect_success 'blocked-now agrees with wr-watch --status blocked' '
	wr-watch --json --status blocked | jq -r .run >expect &&
	jq -r -f $J/blocked-now.jq runs.json | jq -r .run >got &&
	test_cmp expect got
'

test_expect_success 'p95-by-workflow: alpha p95 is the 19th of 20 (19s), p50 the 10th' '
	jq -s -c -f $J/p95-by-workflow.jq runs.json >got &&
	cat >expect <<-\EOF_ &&
	{"workflow":"alpha","count":20,"p50_ms":10000,"p95_ms":19000,"max_ms":20000}
	EOF_
	test_cmp expect got
'

test_expect_success 'p95-by-workflow agrees with wr-watch stats' '
	wr-watch stats --json | jq -c "select(.duration_ms.count > 0) | {workflow, p50: .duration_ms.p50, p95: .duration_ms.p95}" >expect &&
	jq -s -c -f $J/p95-by-workflow.jq runs.json | jq -c "{workflow, p50: .p50_ms, p95: .p95_ms}" >got &&
	test_cmp expect got
'

test_expect_success 'workrail-outbox: the same lines as wr-outbox list --format workrail' '
	wr-outbox add --kind failed --message "it broke" --workflow beta --reason exit_1 >/dev/null &&
	wr-outbox add --kind timeout --message "turn limit" --reason "reached turn 9 of --max-turns 9" \
		--field reason=max_turns >/dev/null &&
	wr-outbox add --kind custom --message "odd" --reason "the sentence" --field "reason=Not a token" >/dev/null &&
	cat >workrail.jsonl <<-\EOF_ &&
	{"id":"wk-1","kind":"session_stuck","message":"stuck for 20m","timestamp":"2026-11-02T09:00:00.000Z","workflowId":"agent","reason":"no_progress","issueSummaries":["a","b"]}
	{"id":"wk-2","kind":"failed","message":"plain","timestamp":"2026-11-02T09:30:00.000Z","workflowId":null,"reason":null}
	EOF_
	wr-outbox import workrail.jsonl >/dev/null &&
	wr-outbox list --all --format workrail >expect &&
	test $(wc -l <expect) -eq 5 &&
	wr-outbox list --all --json | jq -c -f $J/workrail-outbox.jq >got &&
	test_cmp expect got &&
	jq -s -e "map(select(.message == \"turn limit\"))[0].reason == \"max_turns\"" got &&
	jq -s -e "map(select(.message == \"odd\"))[0].reason == \"the sentence\"" got
'

test_expect_success 'workrail-outbox: from the ledger itself, same lines' '
	jq -c -f $J/workrail-outbox.jq "$(test_ledger)" >got &&
	test_cmp expect got
'

test_expect_success 'workrail-outbox: an imported entry keeps its kind, time and summaries' '
	jq -s -e "map(select(.id == \"wk-1\"))[0] | .kind == \"session_stuck\" and .timestamp == \"2026-11-02T09:00:00.000Z\" and .issueSummaries == [\"a\",\"b\"]" got
'

test_done
