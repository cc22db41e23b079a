# lib-ledger.sh - writing ledger lines by hand for the wr-ledger tests.
#
#   ev SEQ TYPE 'EXTRA'   one event line: common fields, then EXTRA (JSON
#                         members without braces), on stdout
TS=2026-11-20T22:31:05.123Z
TS2=2026-11-20T23:01:05.123Z
R1=0190aaaa-0000-7000-8000-00000000aa01
R2=0190aaaa-0000-7000-8000-00000000aa02
R3=0190aaaa-0000-7000-8000-00000000aa03
OB1=0190bbbb-0000-7000-8000-00000000bb01
OB2=0190bbbb-0000-7000-8000-00000000bb02

ev() {
	printf '{"v":1,"seq":%s,"ts":"%s","type":"%s","by":"wr-test/1"%s%s}\n' \
		"$1" "${EVTS:-$TS}" "$2" "${3:+,}" "${3:-}"
}
created() { # SEQ RUN [WORKFLOW]
	ev "$1" run.created "\"run\":\"$2\",\"workflow\":\"${3:-nightly}\",\"argv\":[\"make\",\"all\"],\"cwd\":\"/srv\",\"policy\":{\"max_attempts\":3}"
}
started() { # SEQ RUN ATTEMPT
	ev "$1" attempt.started "\"run\":\"$2\",\"attempt\":$3,\"host\":\"h\",\"pid\":42,\"lease_until\":\"$TS2\""
}
heartbeat() { # SEQ RUN ATTEMPT
	ev "$1" attempt.heartbeat "\"run\":\"$2\",\"attempt\":$3,\"lease_until\":\"$TS2\""
}
finished() { # SEQ RUN ATTEMPT OUTCOME
	ev "$1" attempt.finished "\"run\":\"$2\",\"attempt\":$3,\"outcome\":\"$4\""
}
# N bytes of the letter a.
letters() { head -c "$1" /dev/zero | tr '\0' a; }

# A small valid ledger: 2 runs (one succeeded, one running), an outbox
# entry delivered, a heartbeat; 9 events.
good_ledger() {
	created 1 "$R1" &&
	started 2 "$R1" 1 &&
	heartbeat 3 "$R1" 1 &&
	finished 4 "$R1" 1 success &&
	created 5 "$R2" &&
	EVTS=$TS2 started 6 "$R2" 1 &&
	ev 7 outbox.enqueued "\"id\":\"$OB1\",\"kind\":\"custom\",\"message\":\"hello\"" &&
	ev 8 outbox.claimed "\"id\":\"$OB1\",\"delivery\":\"$OB2\",\"lease_until\":\"$TS2\"" &&
	EVTS=$TS2 ev 9 outbox.delivered "\"id\":\"$OB1\",\"delivery\":\"$OB2\""
}
