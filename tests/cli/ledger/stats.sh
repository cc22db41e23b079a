#!/bin/bash
# wr-ledger stats: events by type, runs by status, outbox by state, size
# and span, in both forms.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-ledger.sh"

L=$WR_LEDGER

test_expect_success FILE_LEDGER 'stats --json of a known ledger' '
	good_ledger >"$L" &&
	echo "not json" >>"$L" &&
	heartbeat 10 "$R1" 1 >>"$L" &&
	wr-ledger --json stats >json &&
	jq -e -s "length == 1" json >/dev/null &&
	jq -e ".events == 10 and .last_seq == 10" json >/dev/null &&
	jq -e ".bytes == $(stat -c %s "$L")" json >/dev/null &&
	jq -e ".oldest == \"$TS\" and .newest == \"$TS2\"" json >/dev/null &&
	jq -e ".types == {\"run.created\":2,\"attempt.started\":2,\"attempt.heartbeat\":2,\"attempt.finished\":1,\"outbox.enqueued\":1,\"outbox.claimed\":1,\"outbox.delivered\":1}" json >/dev/null &&
	jq -e ".runs == {\"running\":1,\"succeeded\":1,\"failed\":0,\"retry_wait\":0,\"blocked\":0,\"cancelled\":0,\"rejected\":0}" json >/dev/null &&
	jq -e ".workflows == 1 and .outbox.delivered == 1 and .outbox.pending == 0" json >/dev/null &&
	jq -e ".stale == 1 and .invalid == 0 and .bad_lines == 1 and .repairs == 0 and .torn_tail == false" json >/dev/null
'

test_expect_success FILE_LEDGER 'stats for people' '
	wr-ledger stats >out 2>err &&
	test_grep "^events +10 \(last seq 10\)$" out &&
	test_grep "^runs +2: running 1 succeeded 1$" out &&
	test_grep "^span +$TS \.\. $TS2$" out &&
	test_grep "^  attempt.heartbeat +2$" out &&
	test_grep "^bad lines +1$" out
'

test_expect_success FILE_LEDGER 'stats --json after the command works too' '
	wr-ledger stats --json >json2 &&
	cmp json json2
'

test_expect_success 'stats of an empty ledger' '
	test_ledger_fresh &&
	wr-ledger --json stats >json &&
	jq -e ".events == 0 and .bytes == 0 and .oldest == null and .newest == null and .types == {}" json >/dev/null
'

test_expect_success 'unknown types are counted apart' '
	ev 1 future.thing "\"x\":1" >one.jsonl &&
	case $WR_LEDGER in
	nats://*) wr-ledger import one.jsonl >/dev/null ;;
	*) cp one.jsonl "$WR_LEDGER" ;;
	esac &&
	wr-ledger --json stats >json &&
	jq -e ".events == 1 and .types.unknown == 1" json >/dev/null
'

test_expect_success 'stats of what wr-run wrote' '
	test_ledger_fresh &&
	wr-run -- true &&
	test_expect_code 1 wr-run --max-attempts 1 -- false &&
	wr-ledger --json stats >json &&
	n=$(jq -s length "$(test_ledger)") &&
	jq -e ".events == $n and .last_seq == $n and .types[\"run.created\"] == 2 and .types[\"attempt.finished\"] == 2
		and .runs.succeeded == 1 and .runs.failed == 1 and .bad_lines == 0 and .torn_tail == false" json
'

test_done
