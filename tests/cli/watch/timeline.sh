# timeline.sh - a ledger that shows every outcome and marker of wr-watch
# plot and report (sourced after ../lib.sh and helpers.sh; not a test).
#
# timeline_ledger: appends, relative to now (a running attempt ends at
# now), two workflows:
#   backup  B1 success; B2 error, retry, success; B3 timeout, retry, lost,
#           escalated, blocked; B4 stuck (reported), retry, success;
#           B5 running
#   report  R1 cancelled while running; R2 rejected (breaker open)
# The runs' ids are $(tl_id b 1) and so on.

# The ledger's start: 2 hours ago (set when sourced: tests run in subshells).
tl_base=$(($(date +%s) - 7200))

tl_id() { echo "0190ffff-0000-7000-8000-00000000$1$1$1$2"; }

# tl_ts SECONDS: the time SECONDS after the ledger's start.
tl_ts() {
	date -u -d "@$((tl_base + $1))" +%Y-%m-%dT%H:%M:%S.000Z
}

tl_started() {
	started "$1" "$2" "$(tl_ts "$3")" host-a 4242 1 "$(tl_ts $(($3 + 86400)))"
}

timeline_ledger() {
	local b1 b2 b3 b4 b5 r1 r2
	b1=$(tl_id b 1) b2=$(tl_id b 2) b3=$(tl_id b 3) b4=$(tl_id b 4) b5=$(tl_id b 5)
	r1=$(tl_id c 1) r2=$(tl_id c 2)
	created $b1 backup "$(tl_ts 0)" &&
	tl_started $b1 1 60 &&
	finished $b1 1 "$(tl_ts 1500)" success 1440000 0 &&

	created $b2 backup "$(tl_ts 300)" &&
	tl_started $b2 1 300 &&
	ev "$(tl_ts 1200)" attempt.finished "{run: \"$b2\", attempt: 1, outcome: \"error\", duration_ms: 900000,
		exit_code: 3, reason: \"disk full\"}" &&
	decided $b2 1 "$(tl_ts 1201)" retry 1 &&
	tl_started $b2 2 1800 &&
	finished $b2 2 "$(tl_ts 3000)" success 1200000 0 &&

	created $b3 backup "$(tl_ts 600)" &&
	tl_started $b3 1 600 &&
	finished $b3 1 "$(tl_ts 1800)" timeout 1200000 &&
	decided $b3 1 "$(tl_ts 1801)" retry 1 &&
	tl_started $b3 2 2400 &&
	finished $b3 2 "$(tl_ts 3600)" lost 1200000 &&
	decided $b3 2 "$(tl_ts 3700)" escalate 2 &&
	ev "$(tl_ts 3700)" run.blocked "{run: \"$b3\", reason: \"max attempts reached\"}" &&

	created $b4 backup "$(tl_ts 900)" &&
	tl_started $b4 1 900 &&
	ev "$(tl_ts 2100)" attempt.stuck "{run: \"$b4\", attempt: 1, reason: \"repeated_output\", detail: \"same line 50 times\", action: \"abort\"}" &&
	finished $b4 1 "$(tl_ts 2160)" stuck 1260000 &&
	decided $b4 1 "$(tl_ts 2161)" retry 1 &&
	tl_started $b4 2 3300 &&
	finished $b4 2 "$(tl_ts 4800)" success 1500000 0 &&

	created $b5 backup "$(tl_ts 5400)" &&
	tl_started $b5 1 5400 &&

	created $r1 report "$(tl_ts 1000)" &&
	tl_started $r1 1 1000 &&
	finished $r1 1 "$(tl_ts 2600)" cancelled 1600000 143 &&

	created $r2 report "$(tl_ts 4000)" &&
	ev "$(tl_ts 4000)" attempt.rejected "{run: \"$r2\", reason: \"breaker_open\"}"
}

# report_extras: what the report lists for a human beyond the blocked run:
# a notification given up on, and the breaker of report left open.
report_extras() {
	local id=0190ffff-0000-7000-8000-0000000000d1
	ev "$(tl_ts 3701)" outbox.enqueued "{id: \"$id\", kind: \"escalated\", run: \"$(tl_id b 3)\",
		workflow: \"backup\", message: \"backup run b3 is blocked: max attempts reached\"}" &&
	ev "$(tl_ts 3800)" outbox.dead "{id: \"$id\", error: \"notifier exited 1: smtp refused\"}" &&
	ev "$(tl_ts 3900)" breaker.changed "{workflow: \"report\", from: \"closed\", to: \"open\",
		open_until: \"$(tl_ts 99999)\"}"
}
