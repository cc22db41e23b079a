#!/usr/bin/env bash
# clock.sh - a timestamp from the future freezes nothing (issue 12 item 3).
# Decisions use this host's clock, not the ledger's latest stamp: after
# events from a host whose clock runs a day ahead (written under faketime,
# or crafted), a 1 s backoff is due about 1 s later and a breaker opened
# here closes after its cooldown by this host's clock. The future events
# are reported once per tool, naming the host and the skew, and by
# wr-ledger verify as a note, never as a problem or a reason to wait.
. "$(dirname "$0")/lib.sh"

# faketime preloads a library; ASan wants to come first unless told.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# ahead OFFSET CMD...: CMD with a clock OFFSET ahead ('+1d'), as a host
# whose clock runs ahead would write.
ahead() {
	local off=$1
	shift
	faketime -f "$off" "$@"
}

# ms TS: an RFC 3339 stamp as ms since the epoch.
ms() {
	echo $(($(date -u -d "$1" +%s%N) / 1000000))
}

# pass_and_succeeded WORKFLOW: one wr-recover pass, then true once the
# workflow's run has a successful attempt in the ledger.
pass_and_succeeded() {
	wr-recover >>passes.out 2>>passes.err || return 1
	jq -se --arg wf "$1" 'map(select(.workflow == $wf and .type == "attempt.finished" and .outcome == "success")) |
		length == 1' "$WR_LEDGER" >/dev/null
}

test_expect_success 'faketime works here' '
	ahead +1d date -u +%s >fake &&
	test $(($(cat fake) - $(date -u +%s))) -gt 80000
'

test_expect_success 'a run on a host a day ahead is recorded with its stamps' '
	WR_HOSTNAME=fast-host ahead +1d wr-run --workflow ahead -- true 2>ahead.err &&
	jq -r "select(.type == \"attempt.finished\") | .ts" "$WR_LEDGER" >ts &&
	test $(($(ms "$(cat ts)") / 1000 - $(date -u +%s))) -gt 80000
'

test_expect_success 'a 1 s backoff is due about 1 s later by this host clock, not a day' '
	cat >job.sh <<-\EOF &&
	if [ -e failed-once ]; then echo second >>tries; exit 0; fi
	touch failed-once; echo first >>tries; exit 3
	EOF
	test_expect_code 3 wr-run --workflow job --backoff 1s,1,1s -- sh job.sh 2>run.err &&
	before=$(date -u +%s%3N) &&
	wr-recover >pass1.out 2>pass1.err &&
	jq -r "select(.type == \"recovery.decided\" and .workflow == \"job\") | .not_before" "$WR_LEDGER" >nb &&
	test $(($(ms "$(cat nb)") - before)) -lt 60000 &&
	test_wait_until pass_and_succeeded job
'

test_expect_success 'the future is reported once per tool, naming the host and the skew' '
	test_grep "ahead of this host.s clock" run.err &&
	test "$(grep -c "ahead of this host.s clock" run.err)" = 1 &&
	test_grep "on host fast-host" run.err &&
	test_grep "up to (23h|1d)" run.err &&
	test "$(grep -c "ahead of this host.s clock" pass1.err)" = 1
'

test_expect_success 'wr-ledger verify notes the skew and stays clean' '
	wr-ledger verify >verify &&
	test_grep "clock skew: .*on host fast-host" verify &&
	test_grep " 0 problems" verify &&
	wr-ledger --json verify >verify.json &&
	jq -se "map(select(.kind == \"clock_skew\")) | length == 1" verify.json &&
	jq -se "last | .ok and .future > 0" verify.json
'

# Five failures open the breaker of workflow br here, by this host's clock;
# its cooldown is 5 minutes. A clock 6 minutes on (faketime) is past it.
test_expect_success 'with a crafted event from a day ahead, a breaker closes on time' '
	fresh_ledger &&
	fut=$(date -u -d "+1 day" +%Y-%m-%dT%H:%M:%S.000Z) &&
	jq -cn --arg ts "$fut" "{v: 1, seq: 1, ts: \$ts, type: \"outbox.enqueued\", by: \"wr-outbox/7\",
		id: \"0193a1b2-0000-7000-8000-000000000001\", kind: \"custom\", message: \"from the future\"}" >"$WR_LEDGER" &&
	chmod 600 "$WR_LEDGER" &&
	for i in 1 2 3 4 5; do test_expect_code 1 wr-run --workflow br --max-attempts 1 -- false 2>/dev/null || return 1; done &&
	jq -r "select(.type == \"breaker.changed\" and .to == \"open\") | .open_until" "$WR_LEDGER" >ou &&
	test $(($(ms "$(cat ou)") / 1000 - $(date -u +%s))) -lt 600 &&
	test_expect_code 75 wr-run --workflow br -- true 2>rej.err &&
	ahead +6m wr-run --workflow br -- true 2>trial.err &&
	jq -c "select(.type == \"breaker.changed\") | [.from, .to]" "$WR_LEDGER" >changes &&
	printf "%s\n" "[\"closed\",\"open\"]" "[\"open\",\"half_open\"]" "[\"half_open\",\"closed\"]" >expect &&
	test_cmp expect changes
'

test_expect_success 'the ledger verifies' '
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_done
