#!/bin/bash
# wr-watch stats: per-workflow figures checked against a hand-built ledger
# whose answers are worked out below.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"

a() { echo "0190ffff-0000-7000-8000-0000ffff00a$1"; }
b() { echo "0190ffff-0000-7000-8000-0000ffff00b$1"; }
D=2026-11-01T10
FAR=2099-01-01T00:00:00.000Z
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)

test_expect_success 'workflow alpha: 5 runs, old; beta: 1 old run, 2 new ones' '
	: "A1: success in 1s, then a stale heartbeat" &&
	created $(a 1) alpha $D:00:00.000Z &&
	started $(a 1) 1 $D:00:01.000Z elsewhere 1 0 $FAR &&
	finished $(a 1) 1 $D:00:02.000Z success 1000 0 &&
	ev $D:00:03.000Z attempt.heartbeat "{run: \"$(a 1)\", attempt: 1, lease_until: \"$FAR\"}" &&

	: "A2: error, retry, success in 3s; recovered 60s after the failure" &&
	created $(a 2) alpha $D:01:00.000Z &&
	started $(a 2) 1 $D:01:01.000Z elsewhere 1 0 $FAR &&
	finished $(a 2) 1 $D:01:10.000Z error 9000 1 &&
	decided $(a 2) 1 $D:01:11.000Z retry 1 &&
	started $(a 2) 2 $D:02:00.000Z elsewhere 1 0 $FAR &&
	finished $(a 2) 2 $D:02:10.000Z success 3000 0 &&

	: "A3: timeout, retry, lost, escalate, blocked" &&
	created $(a 3) alpha $D:03:00.000Z &&
	started $(a 3) 1 $D:03:00.000Z elsewhere 1 0 $FAR &&
	finished $(a 3) 1 $D:03:10.000Z timeout 10000 &&
	decided $(a 3) 1 $D:03:11.000Z retry 1 &&
	started $(a 3) 2 $D:03:30.000Z elsewhere 1 0 $FAR &&
	finished $(a 3) 2 $D:04:00.000Z lost 30000 &&
	decided $(a 3) 2 $D:04:01.000Z escalate 2 &&
	ev $D:04:02.000Z run.blocked "{run: \"$(a 3)\", reason: \"max attempts\"}" &&

	: "A4: success in 2s" &&
	created $(a 4) alpha $D:05:00.000Z &&
	started $(a 4) 1 $D:05:01.000Z elsewhere 1 0 $FAR &&
	finished $(a 4) 1 $D:05:05.000Z success 2000 0 &&

	: "A5: stuck, retry, success in 5s; recovered 120s after the failure" &&
	created $(a 5) alpha $D:06:00.000Z &&
	started $(a 5) 1 $D:06:01.000Z elsewhere 1 0 $FAR &&
	finished $(a 5) 1 $D:06:10.000Z stuck 9000 &&
	decided $(a 5) 1 $D:06:11.000Z retry 1 &&
	started $(a 5) 2 $D:07:00.000Z elsewhere 1 0 $FAR &&
	finished $(a 5) 2 $D:08:10.000Z success 5000 0 &&

	: "alpha breaker: opened once, then closed again" &&
	ev $D:09:00.000Z breaker.changed "{workflow: \"alpha\", from: \"closed\", to: \"open\", open_until: \"$D:10:00.000Z\"}" &&
	ev $D:10:00.000Z breaker.changed "{workflow: \"alpha\", from: \"open\", to: \"half_open\"}" &&
	ev $D:11:00.000Z breaker.changed "{workflow: \"alpha\", from: \"half_open\", to: \"closed\"}" &&

	: "beta: an old success in 4s, a new running run, a new cancelled one" &&
	created $(b 1) beta 2020-01-01T00:00:00.000Z &&
	started $(b 1) 1 2020-01-01T00:00:01.000Z elsewhere 1 0 $FAR &&
	finished $(b 1) 1 2020-01-01T00:00:05.000Z success 4000 0 &&
	created $(b 2) beta $NOW &&
	started $(b 2) 1 $NOW elsewhere 1 0 $FAR &&
	created $(b 3) beta $NOW &&
	ev $NOW run.cancelled "{run: \"$(b 3)\", reason: \"no longer needed\"}" &&
	wr-ledger verify >out &&
	test_grep " 1 stale, 0 problems" out
'

test_expect_success 'alpha: every figure' '
	wr-watch stats --json --workflow alpha >out &&
	test $(wc -l <out) -eq 1 &&
	cat >expect <<-\EOF &&
	{
	  "workflow": "alpha",
	  "since": null,
	  "runs": 5,
	  "status": {"running": 0, "succeeded": 4, "failed": 0, "retry_wait": 0, "blocked": 1, "cancelled": 0, "rejected": 0},
	  "success_rate": 0.8,
	  "attempts": 8,
	  "attempts_per_run": 1.6,
	  "outcomes": {"success": 4, "error": 1, "timeout": 1, "stuck": 1, "cancelled": 0, "lost": 1},
	  "duration_ms": {"count": 4, "p50": 2000, "p95": 5000},
	  "mttr_ms": 90000,
	  "recovered": 2,
	  "recoveries": {
	    "retry": {"decisions": 3, "succeeded": 2, "success_rate": 0.6666666667},
	    "escalate": {"decisions": 1, "succeeded": 0, "success_rate": 0},
	    "none": {"decisions": 0, "succeeded": 0, "success_rate": null}
	  },
	  "stuck": 1,
	  "timeout": 1,
	  "lost": 1,
	  "stale_events": 1,
	  "breaker_opens": 1,
	  "breaker": "closed",
	  "agent": {"attempts": 0, "turns": 0, "tool_calls": 0, "metrics": {}}
	}
	EOF
	jq -S . expect >want &&
	jq -S . out >got &&
	test_cmp want got
'

test_expect_success 'beta over all time: success rate of ended runs only' '
	wr-watch stats --json >out &&
	test $(wc -l <out) -eq 2 &&
	jq -e -s "map(.workflow) == [\"alpha\", \"beta\"]" out &&
	jq -e -s ".[1] | .runs == 3 and .success_rate == 0.5 and .attempts == 2 and .attempts_per_run == 1
		and .duration_ms == {count: 1, p50: 4000, p95: 4000} and .mttr_ms == null and .stale_events == 0
		and .breaker_opens == 0 and .status.running == 1 and .status.cancelled == 1" out
'

test_expect_success '--since counts only runs created in the window' '
	wr-watch stats --json --since 1d >out &&
	test $(wc -l <out) -eq 1 &&
	jq -e ".workflow == \"beta\" and .runs == 2 and .success_rate == 0 and .attempts == 1
		and .duration_ms.count == 0 and .duration_ms.p50 == null and (.since | type) == \"string\"" out &&
	wr-watch stats --json --since 1d --workflow alpha >out &&
	test_must_be_empty out
'

test_expect_success 'the human report' '
	wr-watch stats --workflow alpha >out &&
	test_grep "^alpha  \(breaker closed\)$" out &&
	test_grep "^  runs        5: 4 succeeded, 1 blocked; success 80.0% of ended runs$" out &&
	test_grep "^  attempts    8, 1.60 per run; success 4, error 1, timeout 1, stuck 1, lost 1$" out &&
	test_grep "^  duration    p50 2s, p95 5s of 4 successful attempts$" out &&
	test_grep "^  recovery    MTTR 1m30s over 2 recovered runs; retry 3 \(2 ok, 66.7%\); escalate 1 \(0 ok, 0.0%\)$" out &&
	test_grep "^  trouble     stuck 1, timeout 1, lost 1, stale events 1, breaker opens 1$" out
'

test_expect_success 'an empty ledger: no figures, exit 0; a missing one: 74; bad --since is refused' '
	: >empty.jsonl &&
	wr-watch stats --ledger empty.jsonl >out &&
	test_must_be_empty out &&
	test_expect_code 74 wr-watch stats --ledger missing.jsonl >out 2>err &&
	test_must_be_empty out &&
	test_grep "no ledger at $TRASH/missing.jsonl" err &&
	test_expect_code 2 wr-watch stats --since soon 2>err &&
	test_grep "option .--since.: invalid duration .soon." err
'

test_expect_success FILE_LEDGER 'compaction changes no figure: stats cover the archived runs' '
	wr-watch stats --json >before.json &&
	wr-watch stats >before.txt &&
	wr-ledger compact --keep 1d >out &&
	test -f "$WR_LEDGER.archive.1" &&
	head -n 1 "$(test_ledger)" >marker &&
	jq -e ".type == \"ledger.compacted\" and .archived_events > 0" marker &&
	wr-watch stats --json >after.json &&
	test_cmp before.json after.json &&
	wr-watch stats >after.txt &&
	test_cmp before.txt after.txt
'

test_expect_success FILE_LEDGER 'the figures come from the marker: the same without the archive and its snapshot' '
	mkdir saved &&
	mv "$WR_LEDGER".archive.* "$WR_LEDGER".snapshot saved/ &&
	wr-watch stats --json >after.json &&
	test_cmp before.json after.json &&
	mv saved/* "$TRASH"/
'

test_expect_success FILE_LEDGER 'a second compaction adds to the archived totals' '
	created $(b 4) beta $D:00:00.000Z &&
	started $(b 4) 1 $D:00:01.000Z elsewhere 1 0 $FAR &&
	finished $(b 4) 1 $D:00:03.000Z success 2000 0 &&
	wr-watch stats --json >before.json &&
	jq -e "select(.workflow == \"beta\") | .runs == 4" before.json &&
	wr-ledger compact --keep 1d >out &&
	wr-watch stats --json >after.json &&
	test_cmp before.json after.json &&
	wr-ledger verify --deep
'

test_done
