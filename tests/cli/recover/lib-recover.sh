# lib-recover.sh - hand-built ledgers and helpers for the wr-recover tests
# (sourced after ../lib.sh). Each ev appends one valid event with the next
# seq, so a test states exactly the history it needs; passes of wr-recover
# then append to it with real timestamps (later than the crafted ones).

# RFC 3339 of now + OFFSET ('-1 hour', '+10 minutes').
ts_at() {
	date -u -d "$1" +%Y-%m-%dT%H:%M:%S.000Z
}
T0=$(ts_at '-2 hours')
PAST=$(ts_at '-1 hour')
FUTURE=$(ts_at '+1 hour')

. "$WR_SRC/tests/cli/lib-events.sh"

# ev TYPE 'JQ-OBJECT' [TS]: append one event to the test's ledger (the
# time last: these tests mostly craft events at $T0).
ev() {
	ev_to "$WR_LEDGER" "${3:-$T0}" "$1" "$2"
}

# A policy object: max attempts and a 10ms backoff unless told otherwise.
# policy [MAX [EXTRA-JQ-FIELDS]]
policy() {
	echo "{max_attempts: ${1:-3}, kill_after_ms: 2000, backoff: {initial_ms: 10, factor: 1.0, max_ms: 10}${2:+, $2}}"
}

# created RUN WORKFLOW 'POLICY' ['ARGV-JSON'] [TS]
created() {
	ev run.created "{run: \"$1\", workflow: \"$2\", argv: ${4:-[\"true\"]}, cwd: \"$TRASH\", policy: $3}" "${5:-$T0}"
}

# started RUN ATTEMPT HOST PID PID_START LEASE_UNTIL [PGID PGID_START]
started() {
	ev attempt.started "{run: \"$1\", attempt: $2, host: \"$3\", boot_id: \"$(cat /proc/sys/kernel/random/boot_id)\",
		pid: $4, pid_start: $5, lease_until: \"$6\"${7:+, pgid: $7, pgid_start: $8}}"
}

# finished RUN ATTEMPT OUTCOME [EXIT_CODE]
finished() {
	ev attempt.finished "{run: \"$1\", attempt: $2, outcome: \"$3\", duration_ms: 5, exit_code: ${4:-null}}"
}

# failed_run RUN WORKFLOW 'POLICY' ['ARGV-JSON'] [EXIT_CODE]: a run whose
# attempt 1 (on another host) failed.
failed_run() {
	created "$1" "$2" "$3" "${4:-}" &&
	started "$1" 1 elsewhere 4242 1 "$PAST" &&
	finished "$1" 1 error "${5:-1}"
}

# The launched wr-runs hold their run's launch lock while they live:
# waiting for every lock is waiting for every launch to end.
wait_launched() {
	local f
	for f in "$(test_ledger_local)".launch/*.lock; do
		[ -e "$f" ] || continue
		flock "$f" true || return 1
	done
}

# status_of RUN: the run's status replayed from the ledger by jq, with the
# reducer's fencing of stale finishes (enough for these tests' histories).
status_of() {
	jq -rs --arg run "$1" '
		reduce (.[] | select(.run == $run)) as $e ({s: null, att: 0, fin: false};
			if $e.type == "run.created" then .s = "running"
			elif $e.type == "attempt.started" then {s: "running", att: $e.attempt, fin: false}
			elif $e.type == "attempt.finished" then
				if $e.attempt != .att or .fin then .
				else .fin = true | if .s == "running" then .s = (if $e.outcome == "success" then "succeeded"
					elif $e.outcome == "cancelled" then "cancelled" else "failed" end) else . end end
			elif $e.type == "recovery.decided" and $e.action == "retry" then .s = "retry_wait"
			elif $e.type == "run.blocked" then .s = "blocked"
			elif $e.type == "run.unblocked" then .s = "retry_wait"
			elif $e.type == "run.cancelled" then .s = "cancelled"
			else . end) | .s' "$(test_ledger)"
}

# count 'JQ-SELECT': number of ledger events the filter selects.
count() {
	jq -s "[.[] | select($1)] | length" "$(test_ledger)"
}

# pass_until 'CONDITION' [N]: runs passes (waiting for their launches)
# until the shell condition holds, at most N (20) times. Their output goes
# to passes.out, their exit statuses to passes.rc.
pass_until() {
	local i=0
	while ! eval "$1"; do
		i=$((i + 1))
		if [ $i -gt "${2:-20}" ]; then
			echo "pass_until: still not true after $((i - 1)) passes: $1" >&2
			return 1
		fi
		sleep 0.05
		wr-recover >>passes.out 2>>passes.err
		local rc=$?
		echo $rc >>passes.rc
		if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
			echo "pass_until: wr-recover exited $rc" >&2
			cat passes.err >&2
			return 1
		fi
		wait_launched || return 1
	done
}
