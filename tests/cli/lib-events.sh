# lib-events.sh - hand-built ledgers for the CLI tests (sourced after
# lib.sh): each helper appends one valid event with the next seq, so a test
# states exactly the history it needs, without running wr-run.
#
#   ev TS TYPE 'JQ-OBJECT' [JQ-ARGS...]        append to $WR_LEDGER (a file
#                                               or a stream)
#   ev_to FILE TS TYPE 'JQ-OBJECT' [JQ-ARGS...] append to FILE
#   created RUN WORKFLOW TS [MAX_ATTEMPTS]
#   started RUN ATTEMPT TS [HOST PID PID_START LEASE_UNTIL]
#   finished RUN ATTEMPT TS OUTCOME DURATION_MS [EXIT_CODE]
#   decided RUN ATTEMPT TS ACTION RECOVERIES
#
# The object is a jq expression; it may use $ARGS.named from the extra jq
# arguments (--arg wf "$hostile"), so hostile strings need no quoting.

FAR=${FAR:-2099-01-01T00:00:00.000Z}

# The seq after the highest (a compacted ledger starts with its marker,
# seq L+1, so the line count is not the seq).
# On a stream (WR_TEST_BACKEND=nats) an event for $WR_LEDGER goes to the
# stream's export, which wr-ledger import then appends (it adds what the
# stream does not hold yet).
ev_to() {
	local f=$1 ts=$2 type=$3 obj=$4 n=0
	case $f in
	nats://*)
		shift
		wr-ledger export --ledger "$f" >"$TRASH/.fixture.jsonl" &&
			ev_to "$TRASH/.fixture.jsonl" "$@" &&
			wr-ledger import --ledger "$f" "$TRASH/.fixture.jsonl" >/dev/null
		return
		;;
	esac
	shift 4
	[ -s "$f" ] && n=$(jq -s "map(.seq) | max" "$f")
	jq -cn --argjson seq $((n + 1)) --arg ts "$ts" --arg type "$type" "$@" \
		'{v: 1, seq: $seq, ts: $ts, type: $type, by: "test/1"} + '"$obj" >>"$f"
}

ev() {
	ev_to "$WR_LEDGER" "$@"
}

created() {
	ev "$3" run.created "{run: \"$1\", workflow: \$ARGS.named.wf, argv: [\"job\", \"--flag\"], cwd: \"/srv\",
		labels: {}, policy: {max_attempts: ${4:-3}}}" --arg wf "$2"
}

started() {
	ev "$3" attempt.started "{run: \"$1\", attempt: $2, host: \$ARGS.named.host, pid: ${5:-1},
		pid_start: ${6:-0}, lease_until: \"${7:-$FAR}\"}" --arg host "${4:-elsewhere}"
}

finished() {
	ev "$3" attempt.finished "{run: \"$1\", attempt: $2, outcome: \"$4\", duration_ms: $5,
		exit_code: ${6:-null}}"
}

decided() {
	ev "$3" recovery.decided "{run: \"$1\", attempt: $2, action: \"$4\", recoveries: $5}"
}
