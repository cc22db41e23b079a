#!/bin/bash
# Hostile content (quotes, $(...), backticks, newlines, unicode, a large
# entry) reaches the notifier byte-exact on stdin and never touches a shell.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/outbox/lib-outbox.sh"

msg=$(printf 'it'"'"'s "quoted" $(touch pwned) `touch pwned2` ${HOME} \\ back\\slash\nsecond line\ttab ; rm -rf ./nothing | cat && touch pwned3 \033[31mred\033[0m ü 日本語 🎉 e\xcc\x81')
printf '%s' "$msg" >want.msg
field='$(touch pwned4)"; touch pwned5; echo "'
printf '%s' "$field" >want.field
wf='wf $(touch pwned6) `id`'

test_expect_success 'hostile text is enqueued as given' '
	wr-outbox add --kind custom --message "$msg" --reason "\$(touch pwned7)" --workflow "$wf" \
		--field "k=$field" --field "\$(touch pwned8)=v" >id &&
	entry_json "$(cat id)" &&
	jq -j .message entry.json >got.msg &&
	test_cmp want.msg got.msg
'

test_expect_success 'the notifier gets it byte-exact on stdin' '
	wr-outbox deliver -- "$NOTIFIERS/wr-notify-file" got.jsonl >out &&
	test $(wc -l <got.jsonl) -eq 1 &&
	jq -j .message got.jsonl >got.msg &&
	test_cmp want.msg got.msg &&
	jq -j .details.k got.jsonl >got.field &&
	test_cmp want.field got.field &&
	jq -e --arg wf "$wf" ".workflow == \$wf and .reason == \"\$(touch pwned7)\"
		and .details[\"\$(touch pwned8)\"] == \"v\" and .id == \"$(cat id)\"" got.jsonl &&
	for f in pwned pwned2 pwned3 pwned4 pwned5 pwned6 pwned7 pwned8; do
		test ! -e $f || { echo "$f exists" >&2; exit 1; }
	done
'

test_expect_success 'human output never passes control characters to the terminal' '
	wr-outbox list --all >table &&
	! grep -q "$(printf "\033")" table &&
	test $(wc -l <table) -eq 2
'

test_expect_success 'bytes that are not UTF-8 never get in' '
	test_expect_code 2 wr-outbox add --kind custom --message "$(printf "a\377b")" 2>err &&
	test_expect_code 2 wr-outbox add --kind custom --message ok --workflow "$(printf "\300\200")" 2>err &&
	test_expect_code 2 wr-outbox add --kind custom --message ok --field "k=$(printf "\355\240\200")" 2>err &&
	printf "{\"id\":\"x\",\"kind\":\"custom\",\"message\":\"nul \\\\u0000 here\"}\n" >nul.jsonl &&
	test_expect_code 1 wr-outbox import nul.jsonl 2>err &&
	test_grep "nul.jsonl:1:" err &&
	wr-outbox list --all --json >all &&
	test $(wc -l <all) -eq 1
'

test_expect_success 'a large entry is written whole, even to a notifier that reads late' '
	big=$(head -c 100000 /dev/zero | tr "\\0" x) &&
	wr-outbox add --kind custom --message "$big" >bigid &&
	wr-outbox deliver -- sh -c "sleep 0.2; cat >big.json" >out &&
	jq -j .message big.json | wc -c >n &&
	test "$(cat n)" = 100000
'

test_expect_success 'a notifier that does not read stdin still counts by its exit status' '
	wr-outbox add --kind custom --message "$(head -c 100000 /dev/zero | tr "\\0" y)" >id2 &&
	wr-outbox deliver -- true >out &&
	test "$(entry_get "$(cat id2)" state)" = delivered &&
	wr-outbox add --kind custom --message "$(head -c 100000 /dev/zero | tr "\\0" z)" >id3 &&
	test_expect_code 1 wr-outbox deliver --backoff 1h -- false >out &&
	test "$(entry_get "$(cat id3)" state)" = pending
'

test_expect_success 'the ledger is clean' '
	ledger_clean
'

test_done
