#!/bin/bash
# ledger.sh - the ledger on a 3-node JetStream cluster: init (an R3
# stream, never created otherwise; one set up otherwise refused), export
# (a file ledger's bytes), import (into an empty stream, again a no-op,
# keeping seq and ids), verify, and the errors: no stream, no server.
. "$(dirname "$0")/../cli/lib.sh"
. "$WR_SRC/tests/nats/lib-nats.sh"

nats_cluster_start

test_expect_success 'no stream: every tool says there is no ledger and how to create it' '
	test_expect_code 74 wr-watch status --ledger "$NATS_LEDGER" 2>err &&
	test_grep "no ledger at $NATS_LEDGER: the stream LEDGER does not exist" err &&
	test_grep "wr-ledger init --ledger" err &&
	test_must_fail wr-run --ledger "$NATS_LEDGER" -- true 2>err &&
	test_grep "does not exist" err
'

test_expect_success 'init creates an R3 stream; again it is checked and kept' '
	nats_ledger_init &&
	wr-ledger init --ledger "$NATS_LEDGER" --replicas 3 >out &&
	test_grep "exists, set up for a ledger" out &&
	wr-ledger --json init --ledger "$NATS_LEDGER" >out.json &&
	jq -e ".created == false" out.json
'

test_expect_success 'a stream set up otherwise is refused, saying what is wrong' '
	test_expect_code 74 wr-ledger init --ledger "$NATS_LEDGER" --replicas 1 2>err &&
	test_grep "not set up for a ledger: it has 3 replicas, not 1" err
'

test_expect_success 'bad URLs and options are refused with what to write' '
	test_expect_code 74 wr-watch status --ledger "nats://127.0.0.1:1/a.b" 2>err &&
	test_grep "bad stream name" err &&
	test_expect_code 74 wr-watch status --ledger "nats://user:pw@127.0.0.1:1/X" 2>err &&
	test_grep "no credentials in the URL" err &&
	test_expect_code 2 wr-ledger init --ledger "$NATS_LEDGER" --replicas 9 2>err &&
	test_grep "bad --replicas" err
'

test_expect_success 'a server out of reach: exit 75 naming the URL' '
	port=$(nats_free_port) &&
	test_expect_code 75 env WR_NATS_TIMEOUT=1s wr-watch status --ledger "nats://127.0.0.1:$port/X" 2>err &&
	test_grep "unable to reach NATS at nats://127.0.0.1:$port/X" err
'

test_expect_success 'runs on a file ledger, then import into the stream' '
	wr-run --ledger file.jsonl -- echo one >/dev/null &&
	test_expect_code 1 wr-run --ledger file.jsonl --max-attempts 1 -- false &&
	wr-outbox --ledger file.jsonl add --kind custom --message hello >id &&
	wr-ledger import file.jsonl --ledger "$NATS_LEDGER" >out &&
	n=$(jq -s "map(.batch[0] // 1 | select(. == 1)) | length" file.jsonl) &&
	test_grep "imported $n decisions of file.jsonl" out
'

test_expect_success 'export is the file, byte for byte; verify is clean on the stream' '
	wr-ledger export --ledger "$NATS_LEDGER" >exported.jsonl &&
	cmp file.jsonl exported.jsonl &&
	wr-ledger verify --ledger "$NATS_LEDGER" >out &&
	test_grep "0 problems" out &&
	wr-outbox list --json --ledger "$NATS_LEDGER" >list.json &&
	jq -e --arg id "$(cat id)" "select(.id == \$id) | .message == \"hello\"" list.json
'

test_expect_success 'import again changes nothing' '
	wr-ledger --json import file.jsonl --ledger "$NATS_LEDGER" >out.json &&
	jq -e ".appended == 0 and .skipped == .decisions" out.json &&
	wr-ledger export --ledger "$NATS_LEDGER" >exported.jsonl &&
	cmp file.jsonl exported.jsonl
'

test_expect_success 'import adds what the file gained since; refuses another file' '
	wr-run --ledger file.jsonl -- true &&
	wr-ledger import file.jsonl --ledger "$NATS_LEDGER" >out &&
	test_grep "imported 2 decisions of file.jsonl .5 there already." out &&
	wr-ledger export --ledger "$NATS_LEDGER" >exported.jsonl &&
	cmp file.jsonl exported.jsonl &&
	wr-run --ledger other.jsonl -- true &&
	test_expect_code 1 wr-ledger import other.jsonl --ledger "$NATS_LEDGER" 2>err &&
	test_grep "what it holds is no beginning of the file" err
'

test_expect_success 'commits on the stream go on with the seq of the file' '
	last=$(jq -s "map(.seq) | max" file.jsonl) &&
	wr-run --ledger "$NATS_LEDGER" -- true &&
	wr-ledger export --ledger "$NATS_LEDGER" >exported.jsonl &&
	jq -s "map(.seq)" exported.jsonl >seqs &&
	jq -e --argjson last $last ".[-3:] == [\$last + 1, \$last + 2, \$last + 3]" seqs &&
	wr-ledger verify --ledger "$NATS_LEDGER"
'

test_expect_success 'a file with a bad line is not imported' '
	cp file.jsonl bad.jsonl &&
	echo "{not json" >>bad.jsonl &&
	echo "{}" >>bad.jsonl &&
	wr-ledger init --ledger "$NATS_URL/OTHER" >/dev/null &&
	test_expect_code 1 wr-ledger import bad.jsonl --ledger "$NATS_URL/OTHER" 2>err &&
	test_grep "refusing to import bad.jsonl: .* bad line" err &&
	wr-ledger export --ledger "$NATS_URL/OTHER" >none &&
	test_must_be_empty none
'

test_expect_success 'the example configuration in share/nats is one nats-server accepts' '
	nats-server -t -c "$WR_SRC/share/nats/n1.conf" >out 2>&1 &&
	test_grep "is valid" out
'

test_expect_success 'the NATS client is loaded for a ledger on NATS only' '
	wr-run --ledger "$PWD/file.jsonl" -- sh -c "cat /proc/\$PPID/maps" >maps &&
	test_grep libjansson maps &&
	! grep libnats maps &&
	wr-run --ledger "$NATS_LEDGER" -- sh -c "cat /proc/\$PPID/maps" >maps &&
	test_grep libnats maps
'

nats_done
