#!/bin/bash
# wr-watch check: lost attempts are recorded (lease expired on another host,
# dead or reused supervisor pid or a reboot on this host), a live local
# supervisor never is, --dry-run writes nothing, concurrent checks record
# one loss per attempt, exit statuses 0/1/74/75.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"

export WR_HOSTNAME=testhost
BOOT=$(cat /proc/sys/kernel/random/boot_id)
T=2026-11-20T10:00
PAST=2020-01-01T00:00:00.000Z
FAR=2099-01-01T00:00:00.000Z
id() { echo "0190eeee-0000-7000-8000-0000eeee000$1"; }
pid_start() { cut -d" " -f22 "/proc/$1/stat"; }

# A live process of ours standing in for a running wr-run.
sleep 1000 &
LIVE=$!
LIVE_START=$(pid_start $LIVE)

# local_started RUN PID PID_START BOOT_ID LEASE_UNTIL: an attempt on this host.
local_started() {
	ev $T:01.000Z attempt.started "{run: \"$1\", attempt: 1, host: \"testhost\", boot_id: \"$4\",
		pid: $2, pid_start: $3, lease_until: \"$5\"}"
}

# A ledger file not there yet (a stream exists once wr-ledger init made it).
test_expect_success FILE_LEDGER 'a missing ledger: an error (74), not "nothing found"; no ledger created' '
	test_expect_code 74 wr-watch check >out 2>err &&
	test_must_be_empty out &&
	test_grep "^wr-watch: no ledger at $WR_LEDGER \\(path from WR_LEDGER\\); check --ledger" err &&
	test_expect_code 74 wr-watch check --dry-run >out 2>err &&
	test_grep "no ledger at" err &&
	test ! -e "$(test_ledger)" &&
	test ! -e "$WR_LEDGER.lock"
'

test_expect_success 'attempts in every situation' '
	{ sleep 1000 & } &&
	dead=$! &&
	dead_start=$(pid_start $dead) &&
	kill $dead && test_expect_code 143 test_wait_pid $dead &&
	for i in 1 2 3 4 5 6 7 8; do created $(id $i) batch $T:00.000Z || return 1; done &&
	started $(id 1) 1 $T:01.000Z elsewhere 100 5 $PAST &&
	started $(id 2) 1 $T:01.000Z elsewhere 100 5 $FAR &&
	local_started $(id 3) $dead $dead_start $BOOT $FAR &&
	local_started $(id 4) $LIVE $LIVE_START $BOOT $PAST &&
	local_started $(id 5) $LIVE 0 $BOOT $PAST &&
	local_started $(id 6) $LIVE 1 $BOOT $FAR &&
	local_started $(id 7) $LIVE $LIVE_START 00000000-0000-0000-0000-000000000000 $FAR &&
	started $(id 8) 1 $T:01.000Z elsewhere 100 5 $PAST &&
	finished $(id 8) 1 $T:02.000Z success 1000 0 &&
	wr-ledger verify
'

test_expect_success '--dry-run reports what it would record and writes nothing' '
	cp "$(test_ledger)" before &&
	test_expect_code 1 wr-watch check --dry-run >out &&
	test_cmp before "$(test_ledger)" &&
	test $(grep -c "^eeee000" out) -eq 4 &&
	test_grep "^eeee0001  batch .* elsewhere .*lease expired \(no heartbeat\)" out &&
	test_grep "^eeee0003  batch .* testhost .*supervisor process is gone \(pid dead\)" out &&
	test_grep "^eeee0006  batch .* testhost .*pid reused by another process" out &&
	test_grep "^eeee0007  batch .* testhost .*host rebooted" out &&
	test_grep "^dry run: 4 lost attempts found; nothing recorded" out &&
	test_expect_code 1 wr-watch check --dry-run --json >out &&
	test_cmp before "$(test_ledger)" &&
	jq -e -s "map(.run) == [\"$(id 1)\", \"$(id 3)\", \"$(id 6)\", \"$(id 7)\"]" out &&
	jq -e -s "map(.recorded) | all | not" out
'

test_expect_success 'check records each lost attempt, with an outbox entry, in one decision' '
	test_expect_code 1 wr-watch check --json >out &&
	jq -e -s "map(.run) == [\"$(id 1)\", \"$(id 3)\", \"$(id 6)\", \"$(id 7)\"] and (map(.recorded) | all)" out &&
	jq -c "select(.type == \"attempt.finished\" and .outcome == \"lost\") | [.run, .attempt, .reason]" \
		"$(test_ledger)" >lost &&
	cat >expect <<-EOF &&
	["$(id 1)",1,"lease expired (no heartbeat)"]
	["$(id 3)",1,"supervisor process is gone (pid dead)"]
	["$(id 6)",1,"supervisor process is gone (pid reused by another process)"]
	["$(id 7)",1,"host rebooted since the attempt started (boot_id changed)"]
	EOF
	test_cmp expect lost &&
	test $(jq -c "select(.type == \"outbox.enqueued\" and .kind == \"lost\")" "$(test_ledger)" | wc -l) -eq 4 &&
	jq -e -s "map(select(.seq > 17)) | length == 10 and (map(.batch[1]) | unique) == [10]" "$(test_ledger)" &&
	: "1 success and 4 losses in the window of workflow batch: its breaker opens" &&
	jq -e -s "map(select(.type == \"breaker.changed\") | .to) == [\"open\"]" "$(test_ledger)" &&
	wr-ledger verify
'

test_expect_success 'a live supervisor on this host is never lost, whatever its lease says' '
	wr-watch --json --all >st &&
	jq -e -s "map(select(.run == \"$(id 4)\" or .run == \"$(id 5)\") | .status) == [\"running\", \"running\"]" st &&
	jq -e -s "map(select(.run == \"$(id 2)\") | .status) == [\"running\"]" st &&
	jq -e -s "map(select(.status == \"failed\") | .run) | length == 4" st
'

test_expect_success 'a second check finds nothing: exit 0, silent, nothing written' '
	cp "$(test_ledger)" before &&
	wr-watch check >out &&
	test_must_be_empty out &&
	test_cmp before "$(test_ledger)"
'

test_expect_success '--workflow and --run narrow the check' '
	created $(id 9) other $T:03.000Z &&
	started $(id 9) 1 $T:04.000Z elsewhere 100 5 $PAST &&
	cp "$(test_ledger)" before &&
	wr-watch check --workflow batch &&
	test_cmp before "$(test_ledger)" &&
	test_expect_code 1 wr-watch check --dry-run --run eeee0009 >out &&
	test_grep "^eeee0009  other" out &&
	test_expect_code 1 wr-watch check --workflow other >out &&
	test_grep "^recorded 1 lost attempt in " out
'

# The file's modes and its lock (a stream has neither; tests/nats has its
# errors).
test_expect_success FILE_LEDGER 'ledger errors exit 74, a lock held too long exits 75' '
	chmod 0644 "$WR_LEDGER" &&
	created $(id 0) other $T:05.000Z &&
	started $(id 0) 1 $T:06.000Z elsewhere 100 5 $PAST &&
	chmod 0666 "$WR_LEDGER" &&
	test_expect_code 74 wr-watch check 2>err &&
	test_grep "^wr-watch: refusing ledger" err &&
	chmod 0600 "$WR_LEDGER" &&
	cp "$(test_ledger)" before &&
	# One process holds the lock: the subshell becomes sleep, keeping fd 9.
	{ (exec 9>>"$WR_LEDGER.lock" && flock 9 && exec sleep 1000) & } &&
	holder=$! &&
	test_when_finished "test_kill_here $holder" &&
	wait_until "! flock -n \"$WR_LEDGER.lock\" true" &&
	WR_LOCK_TIMEOUT=200ms test_expect_code 75 wr-watch check 2>err &&
	test_grep "timed out .* waiting for the lock" err &&
	kill $holder &&
	test_cmp before "$(test_ledger)"
'

test_expect_success 'concurrent checks record exactly one loss per attempt' '
	export WR_LEDGER="$TRASH/race.jsonl" &&
	for i in 1 2 3 4 5 6; do
		created $(id $i) race $T:00.000Z &&
		started $(id $i) 1 $T:01.000Z elsewhere 100 5 $PAST || return 1
	done &&
	for k in 1 2 3 4 5 6 7 8; do
		{ wr-watch check >c$k.out 2>c$k.err; echo $? >c$k.rc; } &
	done &&
	for k in 1 2 3 4 5 6 7 8; do test_wait_until test -s c$k.rc || return 1; done &&
	cat c*.rc | sort | uniq -c >rcs &&
	test_grep "^ +1 1$" rcs &&
	test_grep "^ +7 0$" rcs &&
	cat c*.err >errs &&
	test_must_be_empty errs &&
	jq -s "map(select(.type == \"attempt.finished\")) | group_by(.run) | map(length) | unique" \
		"$(test_ledger)" >per &&
	test "$(jq -c . per)" = "[1]" &&
	test $(jq -c "select(.type == \"attempt.finished\")" "$(test_ledger)" | wc -l) -eq 6 &&
	wr-ledger verify
'

test_expect_success 'losses found together count together for the breaker: it opens once' '
	jq -e -s "map(select(.type == \"breaker.changed\")) | length == 1 and .[0].to == \"open\"
		and .[0].workflow == \"race\"" "$TRASH/race.jsonl" &&
	jq -e -s "map(select(.type == \"outbox.enqueued\") | .kind) | sort ==
		[\"breaker_open\", \"lost\", \"lost\", \"lost\", \"lost\", \"lost\", \"lost\"]" "$TRASH/race.jsonl"
'

test_expect_success 'a SIGKILLed wr-run on this host: its attempt is lost' '
	WR_LEDGER="$TRASH/real.jsonl" && export WR_LEDGER &&
	{ wr-run --workflow real -- sleep 1000 >/dev/null 2>&1 & } &&
	sup=$! &&
	test_when_finished "test_kill_here -KILL $sup" &&
	wait_until "jq -e -s \"map(select(.type == \\\"attempt.started\\\")) | length == 1\" \"$WR_LEDGER\" >/dev/null 2>&1" &&
	pgid=$(jq -r "select(.type == \"attempt.started\") | .pgid" "$(test_ledger)") &&
	test -n "$pgid" &&
	test_when_finished "test_kill_here -KILL $pgid" &&
	wr-watch check >out &&
	kill -KILL $sup && test_expect_code 137 test_wait_pid $sup &&
	test_expect_code 1 wr-watch check >out &&
	test_grep "pid dead" out &&
	jq -e -s "map(select(.type == \"attempt.finished\") | .outcome) == [\"lost\"]" "$(test_ledger)"
'

kill $LIVE 2>/dev/null
test_done
