#!/bin/bash
# wr-watch --label K=V: status, stats and follow select runs by the labels
# wr-run recorded; show lists a run's labels.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

test_expect_success 'runs with labels' '
	wr-run --workflow web --label team=ops --label env=prod -- true &&
	wr-run --workflow web --label team=dev --label env=prod -- true &&
	test_expect_code 1 wr-run --workflow db --label team=ops --label env=staging -- false &&
	wr-run --workflow db -- true &&
	wr-watch --all --json >all &&
	test $(wc -l <all) = 4
'

test_expect_success 'status --label shows only the matching runs' '
	wr-watch --all --json --label team=ops >out &&
	jq -r ".labels.team" out >teams &&
	printf "ops\nops\n" >expect &&
	test_cmp expect teams &&
	wr-watch --all --label team=ops >table &&
	test $(grep -c "^[0-9a-f]" table) = 2
'

test_expect_success 'different keys must all match; a repeated key matches either value' '
	wr-watch --all --json --label team=ops --label env=prod >out &&
	test $(wc -l <out) = 1 &&
	jq -e "select(.workflow == \"web\" and .labels.env == \"prod\")" out &&
	wr-watch --all --json --label env=prod --label env=staging >out &&
	test $(wc -l <out) = 3 &&
	wr-watch --all --json --label team=nobody >out &&
	test_must_be_empty out
'

test_expect_success 'stats --label counts only the matching runs' '
	wr-watch stats --json --label team=ops >out &&
	jq -c "[.workflow, .runs]" out >got &&
	printf "%s\n" "[\"db\",1]" "[\"web\",1]" >expect &&
	test_cmp expect got &&
	wr-watch stats --json --label team=nobody >out &&
	test_must_be_empty out
'

test_expect_success 'follow --label prints only the events of matching runs' '
	{ wr-watch follow --from-start --json --label team=dev >out & } &&
	pid=$! &&
	test_wait_until grep -q attempt.finished out &&
	kill $pid && test_wait_pid $pid &&
	jq -r .run out | sort -u >runs &&
	test $(wc -l <runs) = 1 &&
	jq -r "select(.labels.team == \"dev\") | .run" all >expect &&
	test_cmp expect runs
'

test_expect_success 'show lists the labels' '
	run=$(jq -r "select(.labels.team == \"dev\") | .run" all) &&
	wr-watch show $run >out &&
	test_grep "^labels +(team=dev, env=prod|env=prod, team=dev)$" out
'

test_expect_success 'a label filter without = is a usage error' '
	test_expect_code 2 wr-watch --label team 2>err &&
	test_grep "expected KEY=VALUE, not .team." err &&
	test_expect_code 2 wr-watch check --label team=ops 2>err &&
	test_grep "does not apply to .check." err
'

test_done
