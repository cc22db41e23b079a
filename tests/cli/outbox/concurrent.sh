#!/bin/bash
# Two deliverers at once over 200 entries: each entry is delivered exactly
# once when nothing crashes (the claim is a decision under the lock).
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/outbox/lib-outbox.sh"

cat >record.sh <<'SH'
#!/bin/sh
# records which entry it was given; one short line is one O_APPEND write
cat >/dev/null
printf '%s\n' "$WR_OUTBOX_ID" >>"$1"
SH
chmod +x record.sh

test_expect_success 'enqueue 200 entries' '
	i=0 && while [ $i -lt 200 ]; do
		i=$((i + 1))
		printf "{\"id\":\"e-%03d\",\"kind\":\"custom\",\"message\":\"m %d\",\"timestamp\":\"2025-06-01T10:00:00Z\",\"workflowId\":\"bulk\",\"reason\":null}\n" $i $i
	done >bulk.jsonl &&
	wr-outbox import bulk.jsonl >out &&
	test_grep ": 200 imported, 0 already there, 0 bad lines" out &&
	wr-outbox list --pending --json >p &&
	test $(wc -l <p) -eq 200
'

test_expect_success 'two deliverers at once deliver each entry exactly once' '
	{ wr-outbox deliver -- ./record.sh ids >d1 2>e1 & } && p1=$! &&
	{ wr-outbox deliver -- ./record.sh ids >d2 2>e2 & } && p2=$! &&
	{ wait $p1; r1=$?; } && { wait $p2; r2=$?; } &&
	test $r1 -eq 0 && test $r2 -eq 0 &&
	test ! -s e1 && test ! -s e2 &&
	sort ids >sorted &&
	uniq -d sorted >dups &&
	test_cmp /dev/null dups &&
	jq -r .id bulk.jsonl | sort >want &&
	test_cmp want sorted &&
	test $(cat d1 d2 | grep -c "^delivered ") -eq 200 &&
	echo "deliverer 1: $(wc -l <d1), deliverer 2: $(wc -l <d2)" &&
	wr-outbox list --all --json >all &&
	jq -e -s "length == 200 and all(.state == \"delivered\" and .attempts == 1)" all &&
	jq -c "select(.type == \"outbox.claimed\")" "$(test_ledger)" >claims &&
	test $(wc -l <claims) -eq 200
'

test_expect_success 'the ledger is clean' '
	ledger_clean
'

test_done
