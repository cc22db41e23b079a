#!/bin/bash
# wr-watch status: which runs are shown, the table, --json, filters, errors.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"

id() { echo "01900000-0000-7000-8000-0000aaaa000$1"; }
T=2026-11-20T10:00
FAR=2099-01-01T00:00:00.000Z

# A ledger file not there yet (a stream exists once wr-ledger init made it).
test_expect_success FILE_LEDGER 'a missing ledger is an error (74) that says where to look, and is not created' '
	test_expect_code 74 wr-watch >out 2>err &&
	test_must_be_empty out &&
	test_grep "^wr-watch: no ledger at $WR_LEDGER \\(path from WR_LEDGER\\); check --ledger, WR_LEDGER and XDG_STATE_HOME" err &&
	test_expect_code 74 wr-watch --json >out 2>err &&
	test_must_be_empty out &&
	test_expect_code 74 wr-watch --ledger nosuch.jsonl 2>err &&
	test_grep "no ledger at $TRASH/nosuch.jsonl \\(path from --ledger\\)" err &&
	(unset WR_LEDGER && test_expect_code 74 wr-watch 2>err) &&
	test_grep "no ledger at $XDG_STATE_HOME/wr/ledger.jsonl \\(path from XDG_STATE_HOME\\)" err &&
	(unset WR_LEDGER XDG_STATE_HOME && test_expect_code 74 wr-watch 2>err) &&
	test_grep "no ledger at $HOME/.local/state/wr/ledger.jsonl \\(path from HOME" err &&
	for cmd in "show x" check "check --dry-run" stats; do
		test_expect_code 74 wr-watch $cmd 2>err &&
		test_grep "no ledger at" err || return 1
	done &&
	test ! -e "$(test_ledger)"
'

test_expect_success 'an empty ledger shows no rows' '
	test_ledger_fresh &&
	wr-watch --all >out &&
	test_must_be_empty out
'

test_expect_success 'a ledger with a run in every status' '
	test_ledger_remove &&
	created $(id 1) web $T:01.000Z &&
	started $(id 1) 1 $T:02.000Z elsewhere 11 0 $FAR &&
	ev $T:03.000Z attempt.progress "{run: \"$(id 1)\", attempt: 1, stage: \"build\", status: \"started\"}" &&
	created $(id 2) web $T:04.000Z &&
	started $(id 2) 1 $T:05.000Z elsewhere 12 0 $FAR &&
	finished $(id 2) 1 $T:06.000Z success 1000 0 &&
	created $(id 3) db $T:07.000Z 1 &&
	started $(id 3) 1 $T:08.000Z elsewhere 13 0 $FAR &&
	finished $(id 3) 1 $T:09.000Z error 1000 3 &&
	created $(id 4) db $T:10.000Z &&
	started $(id 4) 1 $T:11.000Z elsewhere 14 0 $FAR &&
	finished $(id 4) 1 $T:12.000Z timeout 1000 &&
	ev $T:13.000Z recovery.decided "{run: \"$(id 4)\", attempt: 1, action: \"retry\", recoveries: 1,
		not_before: \"$T:43.000Z\"}" &&
	created $(id 5) db $T:14.000Z 1 &&
	started $(id 5) 1 $T:15.000Z elsewhere 15 0 $FAR &&
	finished $(id 5) 1 $T:16.000Z error 1000 1 &&
	decided $(id 5) 1 $T:17.000Z escalate 1 &&
	ev $T:18.000Z run.blocked "{run: \"$(id 5)\", reason: \"max attempts used\"}" &&
	created $(id 6) web $T:19.000Z &&
	ev $T:20.000Z run.cancelled "{run: \"$(id 6)\", reason: \"by operator\"}" &&
	created $(id 7) web $T:21.000Z &&
	wr-ledger verify
'

test_expect_success 'status shows the runs that need eyes, in creation order' '
	cat >expect <<-EOF &&
	RUN       WORKFLOW  STATUS      ATTEMPT  CREATED                   STAGE  LEASE/RETRY               NOTE
	aaaa0001  web       running     1/3      2026-11-20T10:00:01.000Z  build  2099-01-01T00:00:00.000Z  -
	aaaa0003  db        failed      1/1      2026-11-20T10:00:07.000Z  -      -                         error, exit 3
	aaaa0004  db        retry_wait  1/3      2026-11-20T10:00:10.000Z  -      2026-11-20T10:00:43.000Z  timeout after 1s
	aaaa0005  db        blocked     1/1      2026-11-20T10:00:14.000Z  -      -                         max attempts used
	aaaa0007  web       running     0/3      2026-11-20T10:00:21.000Z  -      -                         waiting to start
	EOF
	wr-watch >out &&
	test_cmp expect out &&
	wr-watch status >out2 &&
	test_cmp expect out2
'

test_expect_success '--all shows every run; the table has no colour off a terminal' '
	wr-watch --all >out &&
	test $(wc -l <out) -eq 8 &&
	test_grep "^aaaa0002  web       succeeded .* success after 1s" out &&
	test_grep "^aaaa0006  web       cancelled .* by operator" out &&
	! grep -q "$(printf "\033")" out
'

test_expect_success '--status and --workflow filter' '
	wr-watch --status failed,blocked >out &&
	test $(wc -l <out) -eq 3 &&
	test_grep "^aaaa0003 .* failed" out &&
	test_grep "^aaaa0005 .* blocked" out &&
	wr-watch --workflow web --status succeeded -s cancelled >out &&
	test $(wc -l <out) -eq 3 &&
	wr-watch --workflow db --all >out &&
	test $(wc -l <out) -eq 4 &&
	wr-watch --workflow nosuch --all >out &&
	test_must_be_empty out
'

test_expect_success 'an unknown status is refused, naming the valid ones' '
	test_expect_code 2 wr-watch --status done 2>err &&
	test_grep "unknown status .done. \(running, succeeded, failed, retry_wait, blocked or cancelled\)" err &&
	test_grep "Try .wr-watch --help." err
'

test_expect_success '--json: one object per run with the derived state' '
	wr-watch --json >out &&
	test $(wc -l <out) -eq 5 &&
	jq -e -s "map(.status) == [\"running\", \"failed\", \"retry_wait\", \"blocked\", \"running\"]" out &&
	jq -e -s ".[0] | .run == \"$(id 1)\" and .workflow == \"web\" and .stage == \"build\" and
		.attempt == 1 and .max_attempts == 3 and .lease_until == \"$FAR\" and
		.attempts[0].host == \"elsewhere\" and .argv == [\"job\", \"--flag\"]" out &&
	jq -e -s ".[2] | .next_retry == \"$T:43.000Z\" and .recoveries == 1 and .attempts[0].outcome == \"timeout\"" out &&
	jq -e -s ".[3].reason == \"max attempts used\"" out &&
	wr-watch --json --all >out &&
	test $(wc -l <out) -eq 7
'

test_expect_success '--color=always colours the status, NO_COLOR wins' '
	wr-watch --color=always >out &&
	test_grep "$(printf "\033")\[34mrunning" out &&
	test_grep "$(printf "\033")\[31mfailed" out &&
	NO_COLOR=1 wr-watch --color=always >out &&
	! grep -q "$(printf "\033")" out &&
	test_expect_code 2 wr-watch --color=sometimes 2>err &&
	test_grep "auto, always or never" err
'

test_expect_success TTY 'on a terminal: colour, relative times, a summary line; NO_COLOR honoured' '
	script -qec "stty cols 200 && wr-watch" /dev/null >tty &&
	test_grep "$(printf "\033")\[34mrunning" tty &&
	test_grep "^aaaa0001  web .* ago " tty &&
	test_grep "^5 of 7 runs shown; --all shows every run" tty &&
	NO_COLOR=1 script -qec "stty cols 200 && wr-watch" /dev/null >tty &&
	! grep -q "$(printf "\033")" tty &&
	: >empty.jsonl &&
	script -qec "wr-watch --workflow nosuch --ledger empty.jsonl" /dev/null >tty &&
	test_grep "^no runs in .*empty.jsonl" tty
'

test_expect_success TTY 'nothing to show says so on a terminal, and why; a pipe gets nothing' '
	script -qec "wr-watch --workflow nosuch" /dev/null >tty &&
	test_grep "^no runs of that workflow or label \(7 runs in all; .wr-watch --all. shows them\)" tty &&
	script -qec "wr-watch --status rejected" /dev/null >tty &&
	test_grep "^no runs with that status \(7 runs in all; --all shows them\)" tty &&
	wr-watch --workflow nosuch >out &&
	test_must_be_empty out
'

test_expect_success 'usage errors: unknown option, command, misplaced option' '
	test_expect_code 2 wr-watch --bogus 2>err &&
	test_grep "^wr-watch: unknown option .--bogus." err &&
	test_grep "Try .wr-watch --help." err &&
	test_expect_code 2 wr-watch frobnicate 2>err &&
	test_grep "unknown command .frobnicate." err &&
	test_expect_code 2 wr-watch status --since 1h 2>err &&
	test_grep "option .--since. does not apply to .status." err &&
	test_expect_code 2 wr-watch status extra 2>err &&
	test_grep "unexpected argument .extra." err
'

test_expect_success '--help and --version' '
	wr-watch --help >out &&
	test_grep "^Usage: wr-watch" out &&
	test_grep "Examples:" out &&
	wr-watch --version >out &&
	test_grep "^wr-watch \(wr\) [0-9]" out
'

# The file's mode (a stream has none).
test_expect_success FILE_LEDGER 'a ledger others may write is refused with status 74' '
	chmod 0666 "$WR_LEDGER" &&
	test_expect_code 74 wr-watch 2>err &&
	test_grep "^wr-watch: refusing ledger .*writable by group or others" err &&
	chmod 0600 "$WR_LEDGER"
'

test_done
