#!/bin/bash
# Human output across the suite: colour only on a terminal and never with
# NO_COLOR, relative times on a terminal and RFC 3339 otherwise and in
# --json, tables aligned by display width (wide characters count 2).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

if ! command -v script >/dev/null; then
	test_skip "human output" "script(1) (util-linux) is not installed"
	test_done
	exit
fi
export TERM=xterm COLUMNS=200
ESC=$(printf '\033')
RFC3339='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
W=0190dddd-0000-7000-8000-00000000aaa1
N=0190dddd-0000-7000-8000-00000000aaa2

test_expect_success 'a ledger: a run of a wide-character workflow, one of a plain one; outbox entries' '
	NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z) &&
	one_run $W "日本語ワーク" "$NOW" error 5 &&
	one_run $N plain "$NOW" success 5 &&
	wr-outbox add --kind custom --message "幅 wide" --workflow "日本語ワーク" >/dev/null &&
	wr-outbox add --kind custom --message narrow --workflow plain >/dev/null
'

for cmd in "wr-watch --all" "wr-outbox list --all" "wr-watch stats" "wr-ledger stats"; do
	test_expect_success "$cmd: no colour when piped" '
		'"$cmd"' >out &&
		test_must_fail grep -q "$ESC" out
	'
	test_expect_success "$cmd: no colour on a terminal with NO_COLOR" '
		NO_COLOR=1 tty "'"$cmd"'" >out &&
		test -s out && test_must_fail grep -q "$ESC" out
	'
done

for cmd in "wr-watch --all" "wr-outbox list --all"; do
	test_expect_success "$cmd: statuses in colour on a terminal" '
		tty "'"$cmd"'" >out &&
		grep -q "$ESC\[" out
	'
	test_expect_success "$cmd: TERM=dumb means no colour" '
		TERM=dumb tty "'"$cmd"'" >out &&
		test -s out && test_must_fail grep -q "$ESC" out
	'
	test_expect_success "$cmd: relative times on a terminal" '
		tty "'"$cmd"'" >out &&
		grep -q -E "( ago|now|in [0-9])" out &&
		test_must_fail grep -q -E "$RFC3339" out
	'
	test_expect_success "$cmd: aligned by display width on a terminal" '
		tty "'"$cmd"'" >out &&
		head -1 out | sed -E "s/(WORKFLOW *).*/\1/" >head &&
		grep "日本語ワーク" out | sed -E "s/$ESC\[[0-9;]*m//g; s/(日本語ワーク *).*/\1/" >row &&
		{ test "$(LC_ALL=C.UTF-8 wc -L <head)" -eq "$(LC_ALL=C.UTF-8 wc -L <row)" ||
		  { cat head row; false; }; }
	'
done

test_expect_success 'wr-watch --color always colours a pipe; NO_COLOR still wins' '
	wr-watch --all --color always >out && grep -q "$ESC\[" out &&
	NO_COLOR=1 wr-watch --all --color always >out && test_must_fail grep -q "$ESC" out
'

test_expect_success 'wr-watch: RFC 3339 times when piped' '
	wr-watch --all >out &&
	grep -q -E "$RFC3339" out && test_must_fail grep -q " ago" out
'

test_expect_success 'wr-outbox list: RFC 3339 times when piped (a due entry is due "now")' '
	wr-outbox list --all >out &&
	grep -q -E "$RFC3339" out && test_must_fail grep -q -E " ago| in [0-9]" out
'

for cmd in "wr-watch --all --json" "wr-outbox list --all --json" "wr-watch stats --json" "wr-ledger stats --json"; do
	test_expect_success "$cmd: RFC 3339 UTC times and no colour, even on a terminal" '
		tty "'"$cmd"'" >out &&
		test_must_fail grep -q "$ESC" out &&
		jq -r ".. | strings" out >strings &&
		test_must_fail grep -q -E "( ago\$|^now\$)" strings &&
		{ ! grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T" strings | grep -v -q -E "^$RFC3339\$"; }
	'
done

test_expect_success 'wr-watch: on a terminal narrower than the table, the last column is cut to fit' '
	tty "stty cols 88; wr-watch --all" | sed "s/$ESC\[[0-9;]*m//g" >out &&
	test "$(LC_ALL=C.UTF-8 wc -L <out)" -le 88 &&
	grep -q "…" out
'

test_expect_success 'wr-ledger verify: a progress bar on a terminal for a big ledger, never in a pipe' '
	"$WR_BUILD/tests/bench/wr-bench" gen big.jsonl 90000 3000 1 >/dev/null &&
	chmod 600 big.jsonl &&
	test $(stat -c %s big.jsonl) -gt $((16 << 20)) &&
	script -qec "wr-ledger --ledger big.jsonl verify >/dev/null" /dev/null </dev/null >bar.tty &&
	grep -q "verifying .*%.*MB" bar.tty &&
	script -qec "wr-ledger --ledger big.jsonl verify" /dev/null </dev/null | tr -d "\r" >tty.out &&
	grep -q "90000 events" tty.out &&
	wr-ledger --ledger big.jsonl verify >pipe.out 2>pipe.err &&
	test_must_fail grep -q "verifying" pipe.err &&
	test "$(cat pipe.out | wc -l)" = 1
'

test_done
