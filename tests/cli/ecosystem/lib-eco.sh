# lib-eco.sh - helpers for the ecosystem tests (sourced after ../lib.sh):
# hand-built ledgers, the list of tools, and a skip for what is not
# installed.

WR_TOOLS="wr-run wr-watch wr-recover wr-outbox wr-ledger"

# ev_to FILE TS TYPE 'JQ-OBJECT' [JQ-ARGS...]: append one event with the
# next seq; the object may use $ARGS.named from the extra jq arguments.
ev_to() {
	local f=$1 ts=$2 type=$3 obj=$4 n=0
	shift 4
	[ -s "$f" ] && n=$(jq -s "map(.seq) | max" "$f")
	jq -cn --argjson seq $((n + 1)) --arg ts "$ts" --arg type "$type" "$@" \
		'{v: 1, seq: $seq, ts: $ts, type: $type, by: "test/1"} + '"$obj" >>"$f"
}

# ev TS TYPE 'JQ-OBJECT': append to the test's ledger.
ev() {
	ev_to "$WR_LEDGER" "$@"
}

FAR=2099-01-01T00:00:00.000Z

# created RUN WORKFLOW TS [MAX_ATTEMPTS]
created() {
	ev "$3" run.created "{run: \"$1\", workflow: \$ARGS.named.wf, argv: [\"job\", \"--flag\"], cwd: \"/srv\",
		labels: {}, policy: {max_attempts: ${4:-3}}}" --arg wf "$2"
}

# started RUN ATTEMPT TS
started() {
	ev "$3" attempt.started "{run: \"$1\", attempt: $2, host: \"elsewhere\", pid: 1, pid_start: 0,
		lease_until: \"$FAR\"}"
}

# finished RUN ATTEMPT TS OUTCOME DURATION_MS [EXIT_CODE]
finished() {
	ev "$3" attempt.finished "{run: \"$1\", attempt: $2, outcome: \"$4\", duration_ms: $5,
		exit_code: ${6:-null}}"
}

# one_run RUN WORKFLOW TS OUTCOME DURATION_MS: created, started, finished.
one_run() {
	created "$1" "$2" "$3" && started "$1" 1 "$3" && finished "$1" 1 "$3" "$4" "$5" 0
}

# test_skip TITLE WHY: a skipped test in TAP.
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # skip $2"
}

# test_known_gap TITLE BODY: a check of the suite's contract that a tool
# does not meet yet (reported to its author): TAP "# TODO", so it shows in
# the output without failing the suite, and says so once it passes.
test_known_gap() {
	test_count=$((test_count + 1))
	if (eval "$2") >"$TRASH/.out.$test_count" 2>&1; then
		echo "ok $test_count - $1 # TODO known gap, now passing: drop test_known_gap"
	else
		echo "not ok $test_count - $1 # TODO known gap"
		sed 's/^/#   /' "$TRASH/.out.$test_count"
	fi
}

# tty CMD: run the shell command CMD on a pseudo-terminal (script(1));
# its output, without the terminal's carriage returns, on stdout.
tty() {
	script -qec "$1" /dev/null </dev/null | tr -d '\r'
}
