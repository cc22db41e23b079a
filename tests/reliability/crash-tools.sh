#!/usr/bin/env bash
# crash-tools.sh - SIGKILL wr-run, wr-outbox deliver and wr-recover at
# random moments (issue 7, crash injection). Afterwards the next writer
# repairs what a kill left, wr-ledger verify is clean, no attempt stays
# live once wr-watch check has looked, every outbox entry is delivered in
# the end (at least once) and at most once under a valid claim, and no run
# has more attempts or retries than its max.
#
# WR_CRASH_TOOL_KILLS (default 40) kills per tool; the long run is 1000.
. "$(dirname "$0")/lib.sh"

KILLS=${WR_CRASH_TOOL_KILLS:-40}
export WR_LOCK_TIMEOUT=30s

# clean_after_repair: the next writer repairs, then verify is clean.
clean_after_repair() {
	wr-ledger repair >repair.out 2>&1 || { cat repair.out; return 1; }
	wr-ledger verify >verify.out 2>&1 || { cat verify.out; return 1; }
}

# kill_at_random CMD...: starts CMD, SIGKILLs it after up to 60 ms.
kill_at_random() {
	"$@" >/dev/null 2>>kills.err &
	local p=$!
	rand_sleep 60000
	test_kill_here -KILL $p
	wait $p 2>/dev/null
	not_crashed 0 kills.err
}

# wait_quiet SECONDS: until no attempt is live (detached retries done, the
# attempts of killed supervisors recorded lost).
wait_quiet() {
	local i=0
	while [ $i -lt $(($1 * 10)) ]; do
		wr-watch check >/dev/null 2>&1
		wr-watch --json status --all 2>/dev/null | jq -e 'select(.status == "running")' >/dev/null || return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# The outbox promise, from the raw ledger: per entry, count the delivered
# events made under the claim that was current and not yet expired.
valid_deliveries_jq='
reduce .[] as $e ({};
  if $e.type == "outbox.claimed" then .[$e.id].claim = $e.delivery | .[$e.id].until = $e.lease_until
  elif $e.type == "outbox.delivered" then
    (if (.[$e.id].claim == $e.delivery) and ($e.ts <= .[$e.id].until) then .[$e.id].valid += 1 else . end)
    | .[$e.id].claim = null
  elif ($e.type == "outbox.failed" or $e.type == "outbox.dead") and .[$e.id].claim == $e.delivery then .[$e.id].claim = null
  else . end)
| to_entries | map(select(.value.valid > 1)) | length'

test_expect_success "SIGKILL wr-run $KILLS times while it records and supervises" '
	i=0 && while [ $i -lt $KILLS ]; do
		i=$((i + 1))
		case $((i % 4)) in
		0) cmd="true" ;; 1) cmd="false" ;; *) cmd="sleep 0.0$((RANDOM % 9 + 1))" ;;
		esac
		kill_at_random wr-run --workflow crash$((i % 5)) --heartbeat 20ms --lease 5s -- $cmd || break
	done &&
	[ $i -eq $KILLS ] && sleep 0.2 &&
	clean_after_repair &&
	{ wr-watch check >check.out 2>&1; test $? -le 1; } &&
	! wr-watch --json status --all | jq -e "select(.status == \"running\")" >/dev/null &&
	clean_after_repair
'

test_expect_success "SIGKILL wr-outbox deliver $KILLS times; every entry delivered in the end" '
	cat >deliver <<-\EOF &&
	#!/bin/sh
	echo "$WR_OUTBOX_ID" >>"$DELIVERED"
	cat >/dev/null
	sleep 0.0$(( $$ % 5 ))
	EOF
	chmod +x deliver && export DELIVERED=$TRASH/delivered.log WR_LEDGER=$TRASH/outbox.jsonl &&
	for n in $(seq 30); do wr-outbox add --kind custom --message "entry $n" >>ids || return 1; done &&
	i=0 && while [ $i -lt $KILLS ]; do
		i=$((i + 1))
		kill_at_random wr-outbox deliver --lease 1s --timeout 500ms --kill-after 100ms -- ./deliver || break
	done &&
	[ $i -eq $KILLS ] && sleep 1.2 &&
	clean_after_repair &&
	wr-outbox deliver --lease 1s --timeout 500ms --kill-after 100ms -- ./deliver >final.out 2>&1 &&
	wr-outbox --json list --all >list.json &&
	jq -r "select(.state != \"delivered\") | .id" list.json >undelivered && test_cmp /dev/null undelivered &&
	for id in $(cat ids); do grep -q -x "$id" delivered.log || { echo "$id never reached the command"; return 1; }; done &&
	jq -s "$valid_deliveries_jq" "$WR_LEDGER" >twice && echo 0 >zero && test_cmp zero twice &&
	clean_after_repair
'

test_expect_success "SIGKILL wr-recover $KILLS times; never more attempts or retries than the max" '
	export WR_LEDGER=$TRASH/recover.jsonl &&
	for n in $(seq 12); do test_expect_code 1 wr-run --workflow rec$n --max-attempts 4 --backoff 10ms -- false >/dev/null 2>&1 || return 1; done &&
	i=0 && while [ $i -lt $KILLS ]; do
		i=$((i + 1))
		kill_at_random wr-recover || break
	done &&
	[ $i -eq $KILLS ] &&
	wait_quiet 20 && clean_after_repair &&
	for n in 1 2 3 4 5; do wr-recover >/dev/null 2>&1; sleep 0.1; wait_quiet 10 || return 1; done &&
	clean_after_repair &&
	jq -s "[.[] | select(.type == \"attempt.started\")] | group_by(.run) | map(length) | max" "$WR_LEDGER" >max.started &&
	test "$(cat max.started)" -le 4 &&
	jq -s "[.[] | select(.type == \"recovery.decided\")] | group_by([.run, .attempt]) | map(length) | max // 0" "$WR_LEDGER" >max.decided &&
	test "$(cat max.decided)" -le 1 &&
	jq -s "[.[] | select(.type == \"recovery.decided\" and .action == \"retry\")] | group_by(.run) | map(length) | max // 0" "$WR_LEDGER" >max.retries &&
	test "$(cat max.retries)" -le 3 &&
	jq -s "[.[] | select(.type == \"recovery.decided\") | .recoveries] | max // 0" "$WR_LEDGER" >max.recoveries &&
	test "$(cat max.recoveries)" -le 4
'

test_done
