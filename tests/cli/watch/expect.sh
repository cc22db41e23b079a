#!/bin/bash
# Expected schedules (a dead-man's switch): wr-run --expect-every and
# wr-watch expect record workflow.expected (only when the setting changes);
# wr-watch check records a workflow overdue once per missed period with an
# overdue outbox entry and exits 1 while it is; the next success records a
# recovered entry in its finish; status and expect list show it.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"

expected_events() {
	jq -c -s "map(select(.type == \"workflow.expected\") | [.workflow, .every_ms, .grace_ms])" "$(test_ledger)"
}

# check_is_overdue: wr-watch check exits 1 (for test_wait_until).
check_is_overdue() {
	wr-watch check >/dev/null 2>&1
	test $? -eq 1
}

test_expect_success 'usage: a workflow needs --every or --clear, not both; --grace needs --every' '
	test_expect_code 2 wr-watch expect nightly 2>err &&
	grep -q "needs --every DUR or --clear" err &&
	test_expect_code 2 wr-watch expect nightly --every 1h --clear 2>err &&
	test_expect_code 2 wr-watch expect --every 1h 2>err &&
	grep -q "need a WORKFLOW" err &&
	test_expect_code 2 wr-watch expect nightly --clear --grace 1m 2>err &&
	test_expect_code 2 wr-watch expect nightly --every soon 2>err &&
	grep -q "invalid duration" err &&
	test_expect_code 2 wr-watch check --every 1h 2>err &&
	test_must_fail wr-run --grace 1m -- true 2>err &&
	grep -q "needs --expect-every" err &&
	test_ledger_none
'

test_expect_success 'wr-run --expect-every records the expectation once; a new setting wins' '
	wr-run --workflow nightly --expect-every 1h --grace 5m -- true &&
	wr-run --workflow nightly --expect-every 1h --grace 5m -- true &&
	test "$(expected_events)" = "[[\"nightly\",3600000,300000]]" &&
	wr-run --workflow nightly --expect-every 2h -- true &&
	test "$(expected_events)" = "[[\"nightly\",3600000,300000],[\"nightly\",7200000,0]]" &&
	wr-watch expect --json >out &&
	jq -e -s "length == 1 and .[0].workflow == \"nightly\" and .[0].every_ms == 7200000 and
		.[0].overdue == false and .[0].period == 0 and (.[0].last_success | type) == \"string\"" out &&
	wr-watch expect >out &&
	grep -q "^nightly .*2h .* ok$" out &&
	wr-watch check
'

test_expect_success 'wr-watch expect sets and clears without running anything' '
	wr-watch expect backup --every 1d --grace 2h >out &&
	grep -q "^backup: expected every 1d, grace 2h" out &&
	wr-watch expect backup --every 1d --grace 2h >out &&
	grep -q "already expected" out &&
	wr-watch expect --json >out &&
	jq -e -s "map(.workflow) == [\"nightly\", \"backup\"] and .[1].last_success == null" out &&
	wr-watch expect backup --clear >out &&
	grep -q "expectation removed" out &&
	wr-watch expect backup --clear >out &&
	grep -q "no expectation to remove" out &&
	wr-watch expect --json >out &&
	jq -e -s "map(.workflow) == [\"nightly\"]" out &&
	jq -e -s "map(select(.type == \"run.created\" and .workflow == \"backup\")) == []" "$(test_ledger)"
'

test_expect_success 'the overdue cycle with a short period: overdue, exit 1, recovered' '
	test_ledger_remove &&
	wr-run --workflow tick --expect-every 1s --grace 0 -- true &&
	test_wait_until check_is_overdue &&
	jq -e -s "map(select(.type == \"workflow.overdue\")) as \$o |
		(\$o | length) >= 1 and (\$o | map(.period) | . == unique) and
		(\$o | all(.workflow == \"tick\"))" "$(test_ledger)" &&
	jq -e -s "[(map(select(.type == \"workflow.overdue\")) | length),
		(map(select(.type == \"outbox.enqueued\" and .kind == \"overdue\")) | length)] | .[0] == .[1]" "$(test_ledger)" &&
	jq -e -s "map(select(.type == \"outbox.enqueued\" and .kind == \"overdue\"))[0] |
		.workflow == \"tick\" and .details.every_ms == 1000 and .batch == [2, 2]" "$(test_ledger)" &&
	wr-watch status >out &&
	grep -q "^overdue: tick was due" out &&
	wr-outbox list --json >out &&
	jq -e -s "map(select(.kind == \"overdue\")) | length >= 1" out &&
	test_expect_code 1 wr-watch check --json >out &&
	jq -e -s "map(select(.overdue)) | length == 1 and .[0].workflow == \"tick\"" out &&
	wr-watch expect --json >out &&
	jq -e ".overdue and .period >= 1" out &&
	wr-run --workflow tick --expect-every 1h -- true &&
	jq -e -s "map(select(.type == \"outbox.enqueued\" and .kind == \"recovered\")) | length == 1 and
		(.[0].message | test(\"no longer overdue\")) and .[0].workflow == \"tick\"" "$(test_ledger)" &&
	jq -e -s "(map(select(.type == \"attempt.finished\")) | last | .seq) + 1 ==
		(map(select(.kind == \"recovered\")) | last | .seq)" "$(test_ledger)" &&
	wr-watch check &&
	wr-watch status >out &&
	! grep -q "^overdue" out
'

# A hand-built history: one expectation set long ago (every 30 days), so the
# period checked is the same for both checks below.
test_expect_success 'once per missed period: a second check records nothing more' '
	test_ledger_remove &&
	ev 2020-01-01T00:00:00.000Z workflow.expected "{workflow: \"monthly\", every_ms: 2592000000, grace_ms: 0}" &&
	test_expect_code 1 wr-watch check --dry-run --json >out &&
	jq -e ".overdue and .recorded == false and .period > 1" out &&
	test "$(jq -s "map(select(.type == \"workflow.overdue\")) | length" "$(test_ledger)")" = 0 &&
	test_expect_code 1 wr-watch check >out &&
	grep -q "^overdue: monthly .*; recorded$" out &&
	test_expect_code 1 wr-watch check >out &&
	! grep -q "recorded" out &&
	test "$(jq -s "map(select(.type == \"workflow.overdue\")) | length" "$(test_ledger)")" = 1 &&
	test "$(jq -s "map(select(.kind == \"overdue\")) | length" "$(test_ledger)")" = 1 &&
	wr-ledger verify
'

test_expect_success 'a wr-recover pass records the overdue period too' '
	test_ledger_remove &&
	ev 2020-01-01T00:00:00.000Z workflow.expected "{workflow: \"monthly\", every_ms: 2592000000, grace_ms: 0}" &&
	wr-recover >out 2>&1 &&
	test "$(jq -s "map(select(.type == \"workflow.overdue\")) | length" "$(test_ledger)")" = 1
'

test_expect_success FILE_LEDGER 'the expectation survives compaction and the snapshot' '
	wr-ledger compact --keep 0 >/dev/null &&
	rm -f "$WR_LEDGER".snap* &&
	wr-watch expect --json >out &&
	jq -e ".workflow == \"monthly\" and .every_ms == 2592000000 and .overdue" out &&
	wr-watch expect --json >out2 &&
	test_cmp out out2 &&
	test_expect_code 1 wr-watch check >out &&
	! grep -q "recorded" out
'

test_done
