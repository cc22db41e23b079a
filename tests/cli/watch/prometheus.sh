#!/bin/bash
# prometheus.sh - wr-watch stats --format prometheus: the text exposition
# format (checked by promtool), known values from a hand-built ledger,
# hostile workflow names escaped, --output replaced atomically, counters
# kept across a compaction, the expected schedules' gauges.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"

T=2026-11-20T10:00
R1=aaaa0001-0000-7000-8000-000000000001
R2=aaaa0002-0000-7000-8000-000000000002
R3=aaaa0003-0000-7000-8000-000000000003
R4=aaaa0004-0000-7000-8000-000000000004
HOSTILE='we"ird\wf'

# metric NAME-AND-LABELS FILE: the value of one sample.
metric() {
	K="$1 " awk 'index($0, ENVIRON["K"]) == 1 { print substr($0, length(ENVIRON["K"]) + 1) }' "$2"
}

test_expect_success 'a ledger: two successes, a failure, a blocked run, a hostile name' '
	created $R1 nightly $T:00.000Z &&
	started $R1 1 $T:01.000Z &&
	finished $R1 1 $T:03.000Z success 2000 0 &&
	created $R2 nightly $T:10.000Z 1 &&
	started $R2 1 $T:11.000Z &&
	finished $R2 1 $T:12.000Z error 1000 1 &&
	ev $T:13.000Z run.blocked "{run: \"$R2\", reason: \"retries exhausted\"}" &&
	created $R3 nightly $T:20.000Z &&
	started $R3 1 $T:21.000Z &&
	finished $R3 1 $T:25.500Z success 4500 0 &&
	created $R4 "$HOSTILE" $T:30.000Z &&
	started $R4 1 $T:31.000Z &&
	ev $T:32.000Z outbox.enqueued "{id: \"ob-1\", kind: \"custom\", message: \"hi\"}" &&
	wr-ledger verify
'

test_expect_success 'the exposition passes promtool, with HELP and TYPE for every family' '
	wr-watch stats --format prometheus >out.prom &&
	promtool check metrics <out.prom >lint 2>&1 &&
	test_must_be_empty lint &&
	grep "^wr_" out.prom | sed -E "s/[{ ].*//; s/_(sum|count)$//" | sort -u >families &&
	grep "^# TYPE " out.prom | cut -d" " -f3 | sort -u >typed &&
	: "a family may have no sample (no breaker is open)" &&
	comm -13 typed families >untyped &&
	test_must_be_empty untyped &&
	test "$(grep -c "^# HELP " out.prom)" = "$(wc -l <typed)"
'

test_expect_success 'the values are the ledger'"'"'s' '
	test "$(metric "wr_runs_total{workflow=\"nightly\"}" out.prom)" = 3 &&
	test "$(metric "wr_attempts_total{workflow=\"nightly\",outcome=\"success\"}" out.prom)" = 2 &&
	test "$(metric "wr_attempts_total{workflow=\"nightly\",outcome=\"error\"}" out.prom)" = 1 &&
	test "$(metric "wr_attempts_total{workflow=\"nightly\",outcome=\"lost\"}" out.prom)" = 0 &&
	test "$(metric "wr_runs{workflow=\"nightly\",status=\"blocked\"}" out.prom)" = 1 &&
	test "$(metric "wr_runs{workflow=\"nightly\",status=\"running\"}" out.prom)" = 0 &&
	: "2026-11-20T10:00:25.500Z" &&
	test "$(metric "wr_last_success_timestamp_seconds{workflow=\"nightly\"}" out.prom)" = 1795168825.500 &&
	test "$(metric "wr_last_attempt_timestamp_seconds{workflow=\"nightly\"}" out.prom)" = 1795168821.000 &&
	test "$(metric "wr_attempt_duration_seconds{workflow=\"nightly\",quantile=\"0.5\"}" out.prom)" = 2.000 &&
	test "$(metric "wr_attempt_duration_seconds{workflow=\"nightly\",quantile=\"0.95\"}" out.prom)" = 4.500 &&
	test "$(metric "wr_attempt_duration_seconds_sum{workflow=\"nightly\"}" out.prom)" = 6.500 &&
	test "$(metric "wr_attempt_duration_seconds_count{workflow=\"nightly\"}" out.prom)" = 2 &&
	test "$(metric "wr_breaker_state{workflow=\"nightly\",state=\"closed\"}" out.prom)" = 1 &&
	test "$(metric "wr_breaker_state{workflow=\"nightly\",state=\"open\"}" out.prom)" = 0 &&
	test "$(metric "wr_outbox_entries{workflow=\"\",state=\"pending\"}" out.prom)" = 1 &&
	test "$(metric "wr_ledger_events_total" out.prom)" = 13
'

test_expect_success 'a hostile workflow name is escaped, and stays one label value' '
	test "$(metric "wr_runs{workflow=\"we\\\"ird\\\\wf\",status=\"running\"}" out.prom)" = 1 &&
	test "$(grep -c "^wr_runs_total{" out.prom)" = 2
'

test_expect_success '--workflow narrows to one workflow' '
	wr-watch stats --format prometheus --workflow nightly >one.prom &&
	promtool check metrics <one.prom &&
	! grep -F "ird" one.prom &&
	! grep -F "workflow=\"\"" one.prom &&
	test "$(metric "wr_runs_total{workflow=\"nightly\"}" one.prom)" = 3
'

test_expect_success '--output replaces the file whole, readable by a collector, no temporary left' '
	mkdir -m 0755 textfile &&
	echo old >textfile/wr.prom &&
	wr-watch stats --format prometheus --output textfile/wr.prom >stdout &&
	test_must_be_empty stdout &&
	test_cmp out.prom textfile/wr.prom &&
	test "$(stat -c %a textfile/wr.prom)" = 644 &&
	ls -A textfile >files &&
	echo wr.prom >want && test_cmp want files
'

test_expect_success 'an --output that cannot be written: 74, named' '
	test_expect_code 74 wr-watch stats --format prometheus --output nosuchdir/wr.prom 2>err &&
	test_grep "^wr-watch: unable to write nosuchdir/wr.prom: No such file or directory" err
'

test_expect_success 'options that would make counters go back are refused' '
	test_expect_code 2 wr-watch stats --format prometheus --since 1d 2>err &&
	test_grep "does not apply" err &&
	test_expect_code 2 wr-watch stats --format prometheus --label team=a 2>err &&
	test_grep "does not apply" err &&
	test_expect_code 2 wr-watch --json stats --format prometheus 2>err &&
	test_grep "choose one" err &&
	test_expect_code 2 wr-watch stats --output x.prom 2>err &&
	test_grep "is for --format prometheus" err &&
	test_expect_code 2 wr-watch stats --format xml 2>err &&
	test_grep "text or prometheus" err
'

test_expect_success FILE_LEDGER 'a compaction keeps the counters' '
	grep -E "^wr_(runs|attempts|breaker_opens|ledger_events)_total" out.prom >before &&
	wr-ledger compact --keep 1s >/dev/null &&
	head -n 1 "$(test_ledger)" | jq -e ".type == \"ledger.compacted\"" &&
	wr-watch stats --format prometheus >after.prom &&
	promtool check metrics <after.prom &&
	grep -E "^wr_(runs|attempts|breaker_opens|ledger_events)_total" after.prom >after &&
	test_cmp before after
'

test_expect_success 'expected schedules: overdue 1 for one missed, 0 for one not due, none without' '
	ev 2026-11-20T11:00:00.000Z workflow.expected "{workflow: \"nightly\", every_ms: 3600000, grace_ms: 60000}" &&
	wr-watch expect fresh --every 1d --grace 1h >/dev/null &&
	wr-watch stats --format prometheus >exp.prom &&
	promtool check metrics <exp.prom >lint 2>&1 &&
	test_must_be_empty lint &&
	test "$(metric "wr_workflow_overdue{workflow=\"nightly\"}" exp.prom)" = 1 &&
	test "$(metric "wr_workflow_overdue{workflow=\"fresh\"}" exp.prom)" = 0 &&
	test "$(metric "wr_workflow_overdue_periods{workflow=\"fresh\"}" exp.prom)" = 0 &&
	periods=$(metric "wr_workflow_overdue_periods{workflow=\"nightly\"}" exp.prom) &&
	test "$periods" -ge 24 &&
	test "$(metric "wr_workflow_expected_every_seconds{workflow=\"nightly\"}" exp.prom)" = 3600.000 &&
	test "$(metric "wr_workflow_expected_grace_seconds{workflow=\"nightly\"}" exp.prom)" = 60.000 &&
	test "$(metric "wr_workflow_expected_every_seconds{workflow=\"fresh\"}" exp.prom)" = 86400.000 &&
	wr-watch expect --json >exp.json &&
	due=$(jq -r -s "map(select(.workflow == \"fresh\"))[0].next_due" exp.json) &&
	test "$(metric "wr_workflow_next_due_timestamp_seconds{workflow=\"fresh\"}" exp.prom)" = \
		"$(date -u -d "$due" +%s.%3N)" &&
	due=$(jq -r -s "map(select(.workflow == \"nightly\"))[0].next_due" exp.json) &&
	test "$(metric "wr_workflow_next_due_timestamp_seconds{workflow=\"nightly\"}" exp.prom)" = \
		"$(date -u -d "$due" +%s.%3N)" &&
	! grep "^wr_workflow_[a-z_]*{workflow=\"we" exp.prom
'

test_expect_success 'check records the overdue period; the gauge stays 1 until a success' '
	test_expect_code 1 wr-watch check >/dev/null &&
	wr-watch stats --format prometheus >exp2.prom &&
	test "$(metric "wr_workflow_overdue{workflow=\"nightly\"}" exp2.prom)" = 1 &&
	wr-run --workflow nightly -- true &&
	wr-watch stats --format prometheus >exp3.prom &&
	test "$(metric "wr_workflow_overdue{workflow=\"nightly\"}" exp3.prom)" = 0 &&
	test "$(metric "wr_workflow_overdue_periods{workflow=\"nightly\"}" exp3.prom)" = 0
'

test_done
