#!/bin/bash
# wr-outbox deliver: a failing notifier is retried with backoff, goes dead
# after --max-attempts, and 'retry' brings it back.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/outbox/lib-outbox.sh"

# seconds since the epoch of an RFC 3339 timestamp with milliseconds
secs() { jq -r "$1 | sub(\"\\\\.[0-9]+Z\$\"; \"Z\") | fromdate" entry.json; }

test_expect_success 'a failure records the error and a backed-off next_at' '
	wr-outbox add --kind failed --message "slow backoff" >a && a=$(cat a) &&
	test_expect_code 1 wr-outbox deliver --max-attempts 3 --backoff 1h -- false >out &&
	test_grep "^failed +[0-9a-f]{8} attempt 1: false exited with status 1; next in" out &&
	entry_json "$a" &&
	jq -e ".state == \"pending\" and .attempts == 1 and .error == \"false exited with status 1\"" entry.json &&
	delay=$(( $(secs .next_at) - $(secs .created) )) &&
	test $delay -ge 2879 && test $delay -le 4321
'

test_expect_success 'an entry that is not due yet is left alone' '
	wr-outbox deliver --max-attempts 3 --backoff 1h -- false >out &&
	test ! -s out &&
	test "$(entry_get "$(cat a)" attempts)" = 1
'

test_expect_success '--backoff 0 retries at once, in one pass, until dead' '
	wr-outbox add --kind failed --message "at once" >b && b=$(cat b) &&
	test_expect_code 1 wr-outbox deliver --max-attempts 4 --backoff 0 -- false >out &&
	test $(wc -l <out) -eq 4 &&
	test "$(entry_get "$b" attempts)" = 4 &&
	test "$(entry_get "$b" state)" = dead
'

# delays: for each outbox.failed of entry $1, next_at - ts in whole seconds
delays() {
	jq -r --arg id "$1" "select(.type == \"outbox.failed\" and .id == \$id)
		| [.next_at, .ts] | map(sub(\"\\\\.[0-9]+Z\$\"; \"Z\") | fromdate) | .[0] - .[1]" "$(test_ledger)"
}

test_expect_success 'the backoff grows by its factor, with jitter' '
	wr-outbox add --kind failed --message grows >g && g=$(cat g) &&
	opts="--max-attempts 3 --backoff 100ms,1000,1h" &&
	test_expect_code 1 wr-outbox deliver $opts -- false >/dev/null &&
	i=0 && while [ "$(entry_get "$g" attempts)" != 2 ]; do
		test $i -lt 400 || exit 1
		wr-outbox deliver $opts -- false >/dev/null
		test $? -le 1 || exit 1
		i=$((i + 1)) && sleep 0.02
	done &&
	delays "$g" >d &&
	test $(wc -l <d) -eq 2 &&
	test $(sed -n 1p d) -le 1 &&
	second=$(sed -n 2p d) &&
	test $second -ge 79 && test $second -le 121
'

test_expect_success 'with a short backoff it is retried until dead' '
	wr-outbox add --kind escalated --message "will die" >c && c=$(cat c) &&
	deliver_until "$c" dead --max-attempts 3 --backoff 10ms -- false &&
	entry_json "$c" &&
	jq -e ".state == \"dead\" and .attempts == 3 and .error == \"false exited with status 1\"" entry.json &&
	test_grep "^dead +[0-9a-f]{8} attempt 3: false exited" deliver.out &&
	test $(grep -c "attempt [12]: false exited" deliver.out) -eq 2 &&
	test "$(entry_get "$(cat a)" attempts)" = 1
'

test_expect_success 'dead entries are listed and are not delivered' '
	wr-outbox list --dead --json >dead &&
	jq -r .id dead | sort >dead.ids &&
	sort b c >want &&
	test_cmp want dead.ids &&
	wr-outbox deliver -- true >out &&
	test ! -s out
'

test_expect_success 'retry brings a dead entry back, with its attempts reset' '
	c=$(cat c) &&
	wr-outbox retry "$c" >out &&
	test_grep "^retried $c \(was dead\)" out &&
	entry_json "$c" &&
	jq -e ".state == \"pending\" and .attempts == 0" entry.json &&
	test_expect_code 1 wr-outbox retry "$c" 2>err &&
	test_grep "pending, not dead" err &&
	wr-outbox deliver --json -- true >out &&
	jq -e --arg c "$c" "select(.id == \$c) | .result == \"delivered\"" out &&
	test "$(entry_get "$c" state)" = delivered
'

test_expect_success 'a command that cannot run counts as a failure' '
	wr-outbox add --kind custom --message noexec >d && d=$(cat d) &&
	printf "#!/nonexistent/interpreter\n" >notexec && chmod +x notexec &&
	test_expect_code 1 wr-outbox deliver --max-attempts 1 -- ./notexec >out 2>err &&
	entry_json "$d" &&
	jq -e ".state == \"dead\" and (.error | test(\"cannot execute ./notexec\"))" entry.json
'

test_expect_success 'ack takes any entry out of the queue, dead ones too' '
	for f in a b d g; do wr-outbox ack "$(cat $f)" || exit 1; done &&
	wr-outbox list --json >left &&
	test ! -s left
'

test_expect_success 'the ledger is clean' '
	ledger_clean
'

test_done
