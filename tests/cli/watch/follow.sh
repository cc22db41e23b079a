#!/bin/bash
# wr-watch follow: events appended by another process reach the stream, a
# compaction-style replacement (copy, append, rename over the path) is
# followed like tail -F without repeating what was printed, the polling
# fallback works, SIGTERM/SIGINT end it with 0, a closed pipe ends it.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"

R1=0190aaaa-0000-7000-8000-0000dddd0001
R2=0190bbbb-0000-7000-8000-0000dddd0002
T=2026-11-20T10:00
FAR=2099-01-01T00:00:00.000Z

# The follower is ready (initial read done) once its inotify fd exists.
watching() {
	ls -l /proc/$1/fd 2>/dev/null | grep -q inotify
}

# On a stream a follower is ready once it follows its consumer: follow runs
# wr-watch follow with WR_NATS_TRACE=1 there, which says so on stderr
# (following PID ERR); errors ERR is what else it said. follow execs: it is
# run in the background ({ follow ... & }), its pid the follower's.
follow() {
	case $WR_LEDGER in
	nats://*) WR_NATS_TRACE=1 exec wr-watch follow "$@" ;;
	*) exec wr-watch follow "$@" ;;
	esac
}
following() {
	case $WR_LEDGER in
	nats://*) grep -q ": following from message " "$2" ;;
	*) watching "$1" ;;
	esac
}
errors() {
	sed -E "/^wr-watch: nats:\/\/[^ ]*: ([0-9]+ cached|following from message|[0-9]+ messages from the consumer)/d" "$1"
}
seqs() {
	jq -s -c "map(.seq)" "$1"
}

test_expect_success 'a ledger with a few events' '
	created $R1 web $T:00.000Z &&
	started $R1 1 $T:01.000Z elsewhere 7 0 $FAR &&
	created $R2 db $T:02.000Z
'

# A stream has no rename: there the event after the first comes as any other.
test_expect_success 'follow starts at the end, sees appends by another process, keeps going across a compaction-style rename (a file), ends with 0 on SIGTERM' '
	{ follow --json >out 2>err & } &&
	pid=$! && echo $pid >>"$TRASH/pids" &&
	wait_until "following $pid err" &&
	ev $T:03.000Z attempt.progress "{run: \"$R1\", attempt: 1, stage: \"s1\", status: \"started\"}" &&
	wait_until "grep -q \"\\\"seq\\\":4\" out" &&
	test "$(seqs out)" = "[4]" &&

	case $WR_LEDGER in
	nats://*) ev $T:04.000Z attempt.heartbeat "{run: \"$R1\", attempt: 1, lease_until: \"$FAR\"}" ;;
	*)
		cp "$(test_ledger)" new.jsonl &&
		ev_to new.jsonl $T:04.000Z attempt.heartbeat "{run: \"$R1\", attempt: 1, lease_until: \"$FAR\"}" &&
		chmod 0600 new.jsonl &&
		mv new.jsonl "$WR_LEDGER"
		;;
	esac &&
	wait_until "grep -q \"\\\"seq\\\":5\" out" &&
	ev $T:05.000Z attempt.finished "{run: \"$R1\", attempt: 1, outcome: \"success\", exit_code: 0}" &&
	wait_until "grep -q \"\\\"seq\\\":6\" out" &&
	test "$(seqs out)" = "[4,5,6]" &&
	jq -e -s ".[2] | .type == \"attempt.finished\" and .run == \"$R1\"" out &&

	kill -TERM $pid &&
	test_expect_code 0 test_wait_pid $pid &&
	errors err >err.real &&
	test_must_be_empty err.real
'

test_expect_success 'human lines: time, seq, type, run, what it says, the status after' '
	{ wr-watch follow --from-start >human 2>err & } &&
	pid=$! && echo $pid >>"$TRASH/pids" &&
	wait_until "test \$(wc -l <human) -ge 6" &&
	kill -INT $pid &&
	test_expect_code 0 test_wait_pid $pid &&
	test_grep "^2026-11-20T10:00:00.000Z #1 run.created +dddd0001 web: job --flag  \(in /srv\) -> running$" human &&
	test_grep "^2026-11-20T10:00:03.000Z #4 attempt.progress +dddd0001 web: attempt 1 stage s1 started -> running$" human &&
	test_grep "#6 attempt.finished +dddd0001 web: attempt 1 success, exit 0 -> succeeded$" human
'

test_expect_success 'stale events are marked in the stream' '
	{ follow >human 2>err & } &&
	pid=$! && echo $pid >>"$TRASH/pids" &&
	wait_until "following $pid err" &&
	ev $T:06.000Z attempt.heartbeat "{run: \"$R1\", attempt: 1, lease_until: \"$FAR\"}" &&
	wait_until "test -s human" &&
	kill $pid &&
	test_wait_pid $pid &&
	test_grep "#7 attempt.heartbeat +dddd0001 web: .*\[stale: event after the attempt finished\]$" human
'

test_expect_success '--run and --workflow filter the stream' '
	{ follow --from-start --json --workflow db >db 2>db.err & } &&
	pid1=$! && echo $pid1 >>"$TRASH/pids" &&
	{ follow --from-start --json --run dddd0001 >r1 2>r1.err & } &&
	pid2=$! && echo $pid2 >>"$TRASH/pids" &&
	wait_until "following $pid1 db.err && following $pid2 r1.err" &&
	kill $pid1 $pid2 &&
	test_wait_pid $pid1 && test_wait_pid $pid2 &&
	test "$(seqs db)" = "[3]" &&
	test "$(seqs r1)" = "[1,2,4,5,6,7]"
'

test_expect_success FILE_LEDGER 'without inotify it polls, and follows a replacement too' '
	{ WR_WATCH_NO_INOTIFY=1 wr-watch follow --from-start --json >poll 2>err & } &&
	pid=$! && echo $pid >>"$TRASH/pids" &&
	wait_until "grep -q \"\\\"seq\\\":7\" poll" &&
	! watching $pid &&
	cp "$(test_ledger)" new.jsonl &&
	ev_to new.jsonl $T:07.000Z run.cancelled "{run: \"$R2\", reason: \"test\"}" &&
	chmod 0600 new.jsonl &&
	mv new.jsonl "$WR_LEDGER" &&
	wait_until "grep -q \"\\\"seq\\\":8\" poll" &&
	kill $pid &&
	test_wait_pid $pid &&
	test "$(seqs poll)" = "[1,2,3,4,5,6,7,8]"
'

test_expect_success 'a closed pipe ends it quietly, even with no new event' '
	timeout 60 bash -c "wr-watch follow --from-start | head -n 2" >out 2>err &&
	test $(wc -l <out) -eq 2 &&
	test_must_be_empty err
'

# (A missing file; a stream not made yet is tests/nats's.)
test_expect_success 'a missing ledger is waited for' '
	{ wr-watch follow --json --ledger sub/later.jsonl >later 2>err & } &&
	pid=$! && echo $pid >>"$TRASH/pids" &&
	wait_until "watching $pid" &&
	mkdir -p sub &&
	WR_LEDGER=sub/later.jsonl ev $T:08.000Z run.created "{run: \"x1\", workflow: \"w\", argv: [\"x\"], cwd: \"/\", policy: {}}" &&
	wait_until "test -s later" &&
	kill $pid &&
	test_wait_pid $pid &&
	test "$(seqs later)" = "[1]" &&
	test_grep "^wr-watch: no ledger at $TRASH/sub/later.jsonl .*; waiting for it$" err
'

test_expect_success 'a real compaction while the follower is stopped: new events kept by it are printed once' '
	export WR_LEDGER="$TRASH/compact.jsonl" &&
	created $R1 web 2026-01-01T00:00:00.000Z &&
	started $R1 1 2026-01-01T00:00:01.000Z elsewhere 7 0 $FAR &&
	finished $R1 1 2026-01-01T00:00:02.000Z success 1000 0 &&
	created $R2 db $T:02.000Z &&
	{ wr-watch follow --json >cout 2>cerr & } &&
	pid=$! && echo $pid >>"$TRASH/pids" &&
	wait_until "watching $pid" &&
	kill -STOP $pid &&
	: "seq 5: appended, then kept by the compaction, before the follower looks" &&
	ev $T:03.000Z attempt.started "{run: \"$R2\", attempt: 1, host: \"elsewhere\", pid: 8, lease_until: \"$FAR\"}" &&
	wr-ledger compact --keep 1d >/dev/null &&
	head -n 1 "$(test_ledger)" | jq -e ".type == \"ledger.compacted\" and .seq == 6" &&
	kill -CONT $pid &&
	wait_until "grep -q \"\\\"seq\\\":5\" cout" &&
	ev $T:04.000Z attempt.heartbeat "{run: \"$R2\", attempt: 1, lease_until: \"$FAR\"}" &&
	wait_until "grep -q \"\\\"seq\\\":7\" cout" &&
	kill $pid && test_wait_pid $pid &&
	: "the marker (seq 6) is ledger metadata, not an event: not printed" &&
	test "$(jq -s -c "map(.seq)" cout)" = "[5,7]" &&
	test_must_be_empty cerr
'

# A failed test may leave its follower behind: end them all.
[ -f "$TRASH/pids" ] && test_kill_here $(cat "$TRASH/pids")
test_done
