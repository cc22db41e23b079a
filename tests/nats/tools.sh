#!/bin/bash
# tools.sh - every tool on a ledger kept in a JetStream stream (R3 on a
# 3-node cluster), with nothing but WR_LEDGER naming it: wr-run, wr-watch
# (status, show, follow), wr-recover's retries, wr-outbox add and deliver.
. "$(dirname "$0")/../cli/lib.sh"
. "$WR_SRC/tests/nats/lib-nats.sh"

NOTIFIERS="$WR_SRC/share/notifiers"
nats_setup

# The stream as a file, for jq.
exported() {
	wr-ledger export >e.jsonl
}
count() {
	exported && jq -s "[.[] | select($1)] | length" e.jsonl
}

test_expect_success 'wr-run records a success and a failure in the stream' '
	wr-run --workflow ok -- echo hello >out &&
	test_grep "^hello$" out &&
	test_expect_code 3 wr-run --workflow bad --max-attempts 1 -- sh -c "exit 3" &&
	test $(count ".type == \"attempt.finished\" and .outcome == \"success\"") -eq 1 &&
	test $(count ".type == \"attempt.finished\" and .exit_code == 3") -eq 1 &&
	wr-ledger verify
'

test_expect_success 'wr-watch status and show read the stream' '
	wr-watch status --all >table &&
	test_grep " ok  *succeeded " table &&
	test_grep " bad  *failed " table &&
	run=$(jq -r "select(.type == \"run.created\" and .workflow == \"ok\") | .run" e.jsonl) &&
	wr-watch show "$run" >show &&
	test_grep "^status +succeeded, attempt 1 of 3" show
'

test_expect_success 'the output log of a run on a stream is kept on this host, not beside a file' '
	run=$(jq -r "select(.type == \"run.created\" and .workflow == \"ok\") | .run" e.jsonl) &&
	test -f "$XDG_STATE_HOME/wr/nats/LEDGER.logs/$run/1.log" &&
	wr-watch logs "$run" >log &&
	test_grep "^hello$" log
'

test_expect_success 'wr-watch follow passes on what other processes commit, ends with 0 on SIGTERM' '
	{ wr-watch follow --from-start --json >follow.out 2>follow.err & } &&
	pid=$! &&
	wr-run --workflow followed -- true &&
	test_wait_until grep -q "\"workflow\":\"followed\".*\"outcome\":\"success\"" follow.out &&
	kill -TERM $pid &&
	test_wait_pid $pid 30 &&
	test_grep "\"workflow\":\"ok\"" follow.out
'

cat >job.sh <<'JOB'
n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
echo $n >count
[ $n -ge 3 ]
JOB

test_expect_success 'wr-recover retries a failed run until it succeeds, one decision per failure' '
	test_expect_code 1 wr-run --workflow job --max-attempts 3 --backoff 10ms,1,10ms -- bash job.sh &&
	i=0 &&
	while [ $(count ".type == \"attempt.finished\" and .workflow == \"job\" and .outcome == \"success\"") -eq 0 ]; do
		i=$((i + 1)) &&
		test $i -le 40 &&
		sleep 0.1 &&
		{ wr-recover >>passes.out 2>>passes.err || test $? = 1; } || return 1
	done &&
	test $(cat count) -eq 3 &&
	test $(count ".type == \"recovery.decided\" and .workflow == \"job\"") -eq 2 &&
	wr-ledger verify
'

test_expect_success 'wr-outbox adds and delivers through the stream, each entry once' '
	wr-outbox add --kind custom --message "from the stream" >id &&
	wr-outbox deliver -- "$NOTIFIERS/wr-notify-file" got.jsonl >out &&
	jq -e --arg id "$(cat id)" "select(.id == \$id) | .message == \"from the stream\"" got.jsonl &&
	wr-outbox deliver -- "$NOTIFIERS/wr-notify-file" got.jsonl >out2 &&
	test_must_be_empty out2 &&
	test $(jq -s --arg id "$(cat id)" "map(select(.id == \$id)) | length" got.jsonl) -eq 1 &&
	wr-ledger verify
'

nats_done
