# helpers.sh - hand-built ledgers for the wr-watch tests (sourced after
# ../lib.sh). wr-run is not needed: each helper appends one valid event
# with the next seq, so a test states exactly the history it needs.

# ev_to FILE TS TYPE 'JQ-OBJECT': append one event to FILE, with the seq
# after the highest (a compacted ledger starts with its marker, seq L+1).
ev_to() {
	local n=0
	[ -s "$1" ] && n=$(jq -s "map(.seq) | max" "$1")
	jq -cn --argjson seq $((n + 1)) --arg ts "$2" --arg type "$3" \
		'{v: 1, seq: $seq, ts: $ts, type: $type, by: "test/1"} + '"$4" >>"$1"
}

# ev TS TYPE 'JQ-OBJECT': append to the test's ledger.
ev() {
	ev_to "$WR_LEDGER" "$@"
}

# created RUN WORKFLOW TS [MAX_ATTEMPTS]
created() {
	ev "$3" run.created "{run: \"$1\", workflow: \"$2\", argv: [\"job\", \"--flag\"], cwd: \"/srv\",
		policy: {max_attempts: ${4:-3}}}"
}

# started RUN ATTEMPT TS HOST PID PID_START LEASE_UNTIL
started() {
	ev "$3" attempt.started "{run: \"$1\", attempt: $2, host: \"$4\", pid: $5, pid_start: $6,
		lease_until: \"$7\"}"
}

# finished RUN ATTEMPT TS OUTCOME DURATION_MS [EXIT_CODE]
finished() {
	ev "$3" attempt.finished "{run: \"$1\", attempt: $2, outcome: \"$4\", duration_ms: $5,
		exit_code: ${6:-null}}"
}

# decided RUN ATTEMPT TS ACTION RECOVERIES
decided() {
	ev "$3" recovery.decided "{run: \"$1\", attempt: $2, action: \"$4\", recoveries: $5}"
}

# wait_until 'CONDITION': until the shell condition holds (lib.sh's bound).
wait_until() {
	test_wait_until eval "$1"
}
