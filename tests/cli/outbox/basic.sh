#!/bin/bash
# wr-outbox basics: add, list, ack, ids, usage errors, delivery to a
# file-appending notifier.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/outbox/lib-outbox.sh"

test_expect_success 'add prints a UUIDv7 id and list shows the entry' '
	wr-outbox add --kind stuck --message "build is stuck" --workflow nightly \
		--run r1 --reason repeated_output --field host=ci1 --field step=fetch >id &&
	grep -Eq "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$" id &&
	id=$(cat id) &&
	entry_json "$id" &&
	jq -e ".kind == \"stuck\" and .message == \"build is stuck\" and .workflow == \"nightly\"
		and .run == \"r1\" and .reason == \"repeated_output\" and .state == \"pending\"
		and .attempts == 0 and .details == {host: \"ci1\", step: \"fetch\"}" entry.json &&
	wr-outbox list >table &&
	test_grep "^ID +STATE +KIND" table &&
	test_grep "pending +stuck +0 .*nightly +build is stuck" table
'

test_expect_success 'add --json prints the entry' '
	wr-outbox add --json --kind custom --message hi >out.json &&
	jq -e ".kind == \"custom\" and .state == \"pending\"" out.json
'

test_expect_success 'add refuses a bad kind, a missing message, bad UTF-8' '
	test_expect_code 2 wr-outbox add --kind nope --message x 2>err &&
	test_grep "unknown kind .nope." err &&
	test_expect_code 2 wr-outbox add --kind stuck 2>err &&
	test_grep "message" err &&
	test_expect_code 2 wr-outbox add --kind stuck --message "$(printf "bad \377 byte")" 2>err &&
	test_grep "not valid UTF-8" err &&
	test_expect_code 2 wr-outbox add --kind stuck --message x --field novalue 2>err &&
	test_grep "KEY=VALUE" err &&
	wr-outbox list --all --json >all &&
	test $(wc -l <all) -eq 2
'

test_expect_success 'unknown options and commands are usage errors naming them' '
	test_expect_code 2 wr-outbox list --frob 2>err &&
	test_grep "unknown option .--frob." err &&
	test_grep "Try .wr-outbox --help." err &&
	test_expect_code 2 wr-outbox frob 2>err &&
	test_grep "unknown command .frob." err &&
	test_expect_code 2 wr-outbox 2>err &&
	test_expect_code 2 wr-outbox deliver 2>err &&
	test_grep "missing COMMAND" err &&
	test_expect_code 2 wr-outbox deliver -- ./no-such-notifier 2>err &&
	test_grep "cannot run" err &&
	wr-outbox --help >help &&
	test_grep "^Usage: wr-outbox" help &&
	test_grep "^Examples:" help &&
	wr-outbox --version >v &&
	test_grep "^wr-outbox \(wr\) " v
'

test_expect_success 'deliver runs the notifier with the entry on stdin' '
	wr-outbox deliver -- "$NOTIFIERS/wr-notify-file" got.jsonl >out &&
	test $(grep -c "^delivered " out) -eq 2 &&
	test $(wc -l <got.jsonl) -eq 2 &&
	id=$(cat id) &&
	jq -c --arg id "$id" "select(.id == \$id)" got.jsonl >sel &&
	test $(wc -l <sel) -eq 1 &&
	jq -e ".message == \"build is stuck\" and .attempt == 1 and .state == \"claimed\"
		and (.delivery | length) == 36 and .details.host == \"ci1\"" sel &&
	test "$(entry_get "$id" state)" = delivered &&
	wr-outbox list >table &&
	test ! -s table &&
	wr-outbox deliver -- "$NOTIFIERS/wr-notify-file" got.jsonl >out &&
	test ! -s out &&
	test $(wc -l <got.jsonl) -eq 2
'

test_expect_success 'deliver --json reports each delivery' '
	id=$(wr-outbox add --kind custom --message three) &&
	wr-outbox deliver --json -- sh -c "cat >/dev/null; test \"\$WR_OUTBOX_ID\" = $id" >out &&
	jq -e --arg id "$id" ".id == \$id and .result == \"delivered\" and .attempt == 1 and .exit_code == 0" out
'

# common_prefix A B: the longest prefix of both.
common_prefix() {
	local a=$1 b=$2 n=0
	while [ $n -lt ${#a} ] && [ "${a:$n:1}" = "${b:$n:1}" ]; do n=$((n + 1)); done
	printf '%s\n' "${a:0:$n}"
}

test_expect_success 'ack by short id, prefix; unknown and ambiguous ids' '
	id=$(wr-outbox add --kind lost --message gone) &&
	short=${id#"${id%????????}"} &&
	wr-outbox ack "$short" >out &&
	test_grep "^acked $id \(was pending\)" out &&
	test "$(entry_get "$id" state)" = acked &&
	wr-outbox ack "$id" 2>err &&
	test_grep "already acknowledged" err &&
	test_expect_code 2 wr-outbox ack 0000nope 2>err &&
	test_grep "no outbox entry .0000nope." err &&
	: "a prefix of two ids is ambiguous (UUIDv7 prefixes follow the clock: take the common one)" &&
	first=$(wr-outbox list --all --json | jq -r .id | head -n 1) &&
	prefix=$(common_prefix "$first" "$id") &&
	test -n "$prefix" && test "$first" != "$id" &&
	test_expect_code 2 wr-outbox ack "$prefix" 2>err &&
	test_grep "names several outbox entries" err &&
	test_expect_code 2 wr-outbox ack 2>err &&
	test_expect_code 1 wr-outbox retry "$id" 2>err &&
	test_grep "acked, not dead" err
'

test_expect_success 'list filters: --pending, --dead, --all' '
	id=$(wr-outbox add --kind failed --message pend) &&
	wr-outbox list --pending --json >p &&
	test $(wc -l <p) -eq 1 &&
	wr-outbox list --dead --json >d &&
	test ! -s d &&
	wr-outbox list --all --json >a &&
	test $(wc -l <a) -eq 5
'

test_expect_success 'a due entry is due "now" in a pipe as on a terminal' '
	wr-outbox list --pending >table &&
	awk "NR > 1 { print \$6 }" table >next &&
	echo now >want &&
	test_cmp want next
'

test_expect_success 'the ledger is clean' '
	ledger_clean
'

test_done
