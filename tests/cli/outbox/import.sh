#!/bin/bash
# wr-outbox import: workrail outbox.jsonl lines, idempotent by id; bad lines
# reported with FILE:LINE; --format workrail maps entries back.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/outbox/lib-outbox.sh"

cat >outbox.jsonl <<'EOF2'
{"id":"wr-1","kind":"stuck","message":"agent is looping","timestamp":"2025-05-01T08:00:00.000Z","workflowId":"coding-task","reason":"repeated_output","issueSummaries":["loop in step 3",{"file":"a.c","line":12}]}
{"id":"wr-2","kind":"workflow_complete","message":"done: 3 issues","timestamp":"2025-05-01T09:00:00.000Z","workflowId":"review","reason":null,"issueSummaries":[]}

{"id":"wr-3","kind":"escalated","message":"needs a human","timestamp":"2025-05-01T10:00:00.000Z","workflowId":"deploy","reason":"max attempts"}
this is not json
{"kind":"stuck","message":"no id","timestamp":"2025-05-01T10:00:00.000Z","workflowId":"x","reason":null}
{"id":"wr-4","kind":"custom","message":7,"timestamp":"2025-05-01T10:00:00.000Z","workflowId":"x","reason":null}
{"id":"wr-5","kind":"custom","message":"bad \ud800 surrogate","timestamp":"2025-05-01T10:00:00.000Z","workflowId":"x","reason":null}
{"id":"wr-1","kind":"stuck","message":"the same id again","timestamp":"2025-05-01T11:00:00.000Z","workflowId":"coding-task","reason":null}
EOF2
printf '{"id":"wr-6","kind":"custom","message":"bad \377 byte","timestamp":"t","workflowId":"x","reason":null}\n' >>outbox.jsonl

# the good lines, as they should come back (the first wr-1 wins)
sed -n '1,2p;4p' outbox.jsonl >good.jsonl

test_expect_success 'import enqueues the good lines and reports the bad ones' '
	test_expect_code 1 wr-outbox import outbox.jsonl >out 2>err &&
	test_grep "^outbox.jsonl: 3 imported, 1 already there, 5 bad lines$" out &&
	test_grep "^wr-outbox: outbox.jsonl:5: " err &&
	test_grep "^wr-outbox: outbox.jsonl:6: field \"id\"" err &&
	test_grep "^wr-outbox: outbox.jsonl:7: field \"message\"" err &&
	test_grep "^wr-outbox: outbox.jsonl:8: " err &&
	test_grep "^wr-outbox: outbox.jsonl:10: " err &&
	test $(wc -l <err) -eq 5 &&
	wr-outbox list --json >all &&
	test $(wc -l <all) -eq 3
'

test_expect_success 'kinds outside wr'"'"'s set become custom; the rest goes into details' '
	entry_json wr-2 &&
	jq -e ".kind == \"custom\" and .details.workrail_kind == \"workflow_complete\"
		and .details.timestamp == \"2025-05-01T09:00:00.000Z\" and .details.issueSummaries == []
		and .workflow == \"review\" and .reason == null" entry.json &&
	entry_json wr-1 &&
	jq -e ".kind == \"stuck\" and .message == \"agent is looping\" and .reason == \"repeated_output\"
		and .details.issueSummaries[1].line == 12" entry.json
'

test_expect_success 'importing the same file again adds nothing' '
	test_expect_code 1 wr-outbox import outbox.jsonl >out 2>err &&
	test_grep "^outbox.jsonl: 0 imported, 4 already there, 5 bad lines$" out &&
	wr-outbox list --all --json >all &&
	test $(wc -l <all) -eq 3
'

test_expect_success 'list --format workrail gives back the workrail lines' '
	wr-outbox list --format workrail >back &&
	jq -S -c . back | sort >actual &&
	jq -S -c "if .issueSummaries == null then del(.issueSummaries) else . end" good.jsonl | sort >expect &&
	test_cmp expect actual &&
	wr-outbox import back >out &&
	test_grep ": 0 imported, 3 already there, 0 bad lines$" out
'

test_expect_success 'two imports at once of one file enqueue each entry once' '
	i=0 && while [ $i -lt 300 ]; do
		i=$((i + 1))
		printf "{\"id\":\"c-%d\",\"kind\":\"lost\",\"message\":\"m\",\"timestamp\":\"2025-06-01T10:00:00Z\",\"workflowId\":\"w\",\"reason\":null}\n" $i
	done >many.jsonl &&
	{ wr-outbox --json import many.jsonl >i1 & } && p1=$! &&
	{ wr-outbox --json import many.jsonl >i2 & } && p2=$! &&
	wait $p1 && wait $p2 &&
	jq -s -e "(map(.imported) | add) == 300 and (map(.skipped) | add) == 300" i1 i2 &&
	wr-outbox list --json >all &&
	jq -r .id all | sort | uniq -d >dups &&
	test_cmp /dev/null dups &&
	test $(wc -l <all) -eq 303
'

test_expect_success 'import from stdin; a missing file is an I/O error' '
	printf "{\"id\":\"s-1\",\"kind\":\"custom\",\"message\":\"piped\"}\n" | wr-outbox import - >out &&
	test_grep "^\(stdin\): 1 imported" out &&
	test_expect_code 74 wr-outbox import nonexistent.jsonl 2>err &&
	test_grep "unable to open nonexistent.jsonl: No such file" err
'

test_expect_success 'imported entries are delivered like any other' '
	wr-outbox deliver -- "$NOTIFIERS/wr-notify-file" got.jsonl >out &&
	test $(wc -l <got.jsonl) -eq 304 &&
	jq -c "select(.id == \"wr-2\")" got.jsonl >sel &&
	test $(wc -l <sel) -eq 1 &&
	jq -e ".details.workrail_kind == \"workflow_complete\"" sel
'

test_expect_success 'entries compaction archived are not imported again' '
	wr-ledger compact --keep 0 >out &&
	test_grep "notifications" out &&
	wr-outbox list --all --json >live &&
	test ! -s live &&
	test_expect_code 1 wr-outbox import outbox.jsonl >out 2>err &&
	test_grep "^outbox.jsonl: 0 imported, 4 already there, 5 bad lines$" out &&
	wr-outbox list --all --json >live &&
	test ! -s live
'

test_expect_success 'the ledger is clean' '
	ledger_clean
'

test_done
