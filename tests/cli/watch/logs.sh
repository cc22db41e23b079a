#!/bin/bash
# What an attempt printed: wr-run keeps the last 64 KiB of each stream
# beside the ledger (LEDGER.logs/RUN/ATTEMPT.log, the ledger directory's
# mode, never under $HOME), the notifications of failed, timed out, stuck
# escalated and lost attempts carry the last lines, wr-watch logs prints them
# (--attempt, --stream, --follow until the attempt ends), compaction
# removes the logs of the runs it archives.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
LOGS=$(test_ledger_local).logs # a stream's: XDG_STATE_HOME/wr/nats/STREAM.logs

# run_of WORKFLOW: the id of the workflow's last run.
run_of() { jq -r -s --arg w "$1" "map(select(.type == \"run.created\" and .workflow == \$w))[-1].run" "$(test_ledger)"; }
# entry KIND FILE: the last outbox entry of KIND into FILE.
entry() { jq -c "select(.type == \"outbox.enqueued\" and .kind == \"$1\")" "$(test_ledger)" | tail -n 1 >"$2"; }

test_expect_success 'a failed attempt: its output in its notification and in wr-watch logs' '
	test_expect_code 3 wr-run --workflow job --max-attempts 1 -- \
		sh -c "echo out1; echo out2; echo err1 >&2; exit 3" >stdout 2>stderr &&
	id=$(run_of job) &&
	entry failed e.json &&
	jq -e ".details.output == {stderr: \"err1\", stdout: \"out1\nout2\"}" e.json &&
	wr-watch logs "$id" >out 2>err &&
	printf "out1\nout2\n" >want && test_cmp want out &&
	echo err1 >want && test_cmp want err &&
	: "a prefix names the run, as for show" &&
	wr-watch logs "${id%%-*}" --stream stderr >out &&
	test_cmp want out
'

# (A stream's are this host's, under XDG_STATE_HOME: tests/nats/tools.sh.)
test_expect_success FILE_LEDGER 'beside the ledger, in the ledger directory'"'"'s mode, files 0600' '
	id=$(run_of job) &&
	test -f "$WR_LEDGER.logs/$id/1.log" &&
	test "$(stat -c %a "$WR_LEDGER.logs")" = "$(stat -c %a "$(dirname "$WR_LEDGER")")" &&
	test "$(stat -c %a "$WR_LEDGER.logs/$id/1.log")" = 600 &&
	mkdir -m 0750 elsewhere &&
	wr-run --ledger "$TRASH/elsewhere/l.jsonl" --workflow job -- echo hi >/dev/null &&
	test "$(stat -c %a elsewhere/l.jsonl.logs)" = 750 &&
	ls elsewhere/l.jsonl.logs/*/1.log &&
	! find "$HOME" "$XDG_STATE_HOME" -name "*.log" 2>/dev/null | grep .
'

test_expect_success '1 MiB of output: 64 KiB kept of it, the end of it' '
	wr-run --workflow big -- sh -c "head -c 1048576 /dev/zero | tr \"\\\\0\" a; printf END" >big.out &&
	test $(wc -c <big.out) = 1048579 &&
	id=$(run_of big) &&
	test $(stat -c %s "$LOGS/$id/1.log") -lt $((65536 + 512)) &&
	head -n 1 "$LOGS/$id/1.log" >header &&
	jq -e ".live == false and .stdout == {bytes: 1048579, kept: 65536} and .stderr.bytes == 0" header &&
	wr-watch logs "$id" --stream stdout >out &&
	tail -c 65536 big.out >want &&
	test_cmp want out
'

test_expect_success '--attempt picks the attempt; the last by default; one past the last is refused' '
	test_must_fail wr-run --workflow again -- sh -c "echo attempt \$WR_ATTEMPT; exit 1" >/dev/null &&
	id=$(run_of again) &&
	test_must_fail wr-run --run "$id" >/dev/null &&
	wr-watch logs "$id" --attempt 1 >out &&
	echo "attempt 1" >want && test_cmp want out &&
	wr-watch logs "$id" --attempt 2 >out &&
	echo "attempt 2" >want && test_cmp want out &&
	wr-watch logs "$id" >out &&
	test_cmp want out &&
	test_expect_code 2 wr-watch logs "$id" --attempt 3 2>err &&
	test_grep "has no attempt 3" err &&
	test_expect_code 2 wr-watch logs "$id" --attempt 0 2>err &&
	test_expect_code 2 wr-watch logs "$id" --stream both 2>err &&
	test_expect_code 2 wr-watch show "$id" --attempt 1 2>err
'

test_expect_success 'a missing run: the same status as wr-watch show' '
	test_expect_code 2 wr-watch show nosuchrun >/dev/null 2>err.show &&
	test_expect_code 2 wr-watch logs nosuchrun 2>err &&
	test_grep "no run .nosuchrun. in the ledger" err &&
	test_expect_code 2 wr-watch logs 2>err &&
	test_expect_code 2 wr-watch logs a b 2>err
'

test_expect_success 'an attempt that kept no output: said, exit 1' '
	id=$(run_of job) &&
	rm -r "$LOGS/$id" &&
	test_expect_code 1 wr-watch logs "$id" 2>err &&
	test_grep "no output kept for attempt 1 of run $id" err
'

test_expect_success 'an attempt that printed nothing writes no log (wr-run -- true costs no file)' '
	wr-run --workflow silent -- true &&
	id=$(run_of silent) &&
	test ! -e "$LOGS/$id" &&
	test_expect_code 1 wr-watch logs "$id" 2>err &&
	test_grep "no output kept for attempt 1 of run $id" err
'

test_expect_success '--follow prints a live attempt as it goes and ends when it ends' '
	{ wr-run --workflow live -- sh -c "echo first; echo oops >&2; while [ ! -e go ]; do sleep 0.05; done; echo second" \
		>live.out 2>live.err & } &&
	run=$! && echo $run >>"$TRASH/pids" &&
	test_wait_until test -s live.out &&
	id=$(run_of live) &&
	{ wr-watch logs "$id" --follow >fout 2>ferr & } &&
	pid=$! && echo $pid >>"$TRASH/pids" &&
	test_wait_until grep -q first fout &&
	test_wait_until grep -q oops ferr &&
	kill -0 $pid &&
	touch go &&
	test_wait_pid $run &&
	test_expect_code 0 test_wait_pid $pid &&
	printf "first\nsecond\n" >want && test_cmp want fout &&
	echo oops >want && test_cmp want ferr &&
	: "an ended attempt: --follow prints it and ends" &&
	wr-watch logs "$id" --follow >fout2 &&
	printf "first\nsecond\n" >want && test_cmp want fout2
'

test_expect_success 'a timeout carries the output' '
	test_expect_code 124 wr-run --workflow slow --timeout 2s -- sh -c "echo before; exec sleep 30" >/dev/null 2>&1 &&
	entry timeout e.json &&
	jq -e ".details.output.stdout == \"before\"" e.json
'

test_expect_success 'a stuck notice carries the last 20 lines; a stuck abort both streams, sanitized' '
	wr-run --workflow noisy --stuck-repeat 3 --stuck-action notify -- \
		sh -c "i=0; while [ \$i -lt 30 ]; do i=\$((i+1)); echo \"line \$i\"; done; echo same; echo same; echo same" \
		>/dev/null 2>notify.err &&
	entry stuck s.json &&
	jq -e ".details.action == \"notify\" and (.details.output.stdout | split(\"\n\") |
		length == 20 and .[0] == \"line 14\" and .[19] == \"same\")" s.json &&
	test_expect_code 123 wr-run --workflow looping --stuck-repeat 3 -- \
		sh -c "printf \"\\033[31mred\\n\" >&2; echo same; echo same; echo same; exec sleep 30" >/dev/null 2>abort.err &&
	entry stuck a.json &&
	jq -e ".details.outcome == \"stuck\" and .details.output == {stderr: \"?[31mred\", stdout: \"same\nsame\nsame\"}" a.json
'

test_expect_success 'an escalation carries the failed attempt'"'"'s output' '
	test_expect_code 7 wr-run --workflow esc --max-attempts 1 -- sh -c "echo why it failed >&2; exit 7" 2>/dev/null &&
	test_expect_code 1 wr-recover >/dev/null &&
	entry escalated e.json &&
	jq -e ".details.output.stderr == \"why it failed\"" e.json
'

test_expect_success 'a wr-run killed mid-attempt: the lost entry and wr-watch logs have its last saved output' '
	{ wr-run --workflow doomed -- sh -c "echo before it died; exec sleep 60" >/dev/null 2>&1 & } &&
	run=$! && echo $run >>"$TRASH/pids" &&
	test_wait_until eval "grep -q \"before it died\" \"$LOGS\"/*/1.log" &&
	id=$(run_of doomed) &&
	head -n 1 "$LOGS/$id/1.log" | jq -e ".live == true" &&
	test_kill_here -KILL $run &&
	test_expect_code 137 test_wait_pid $run &&
	test_expect_code 1 wr-watch check >/dev/null &&
	entry lost e.json &&
	jq -e ".run == \"$id\" and .details.output.stdout == \"before it died\"" e.json &&
	wr-watch logs "$id" >out &&
	echo "before it died" >want && test_cmp want out &&
	: "the log stays live, the ledger says the attempt ended: --follow ends" &&
	wr-watch logs "$id" --follow >out &&
	test_cmp want out
'

test_expect_success FILE_LEDGER 'compaction removes the logs of the runs it archives, not of the others' '
	big=$(run_of big) && failed=$(run_of again) &&
	test -d "$LOGS/$big" && test -d "$LOGS/$failed" &&
	wr-ledger compact --keep 0s >out &&
	test_grep "removed the output logs of" out &&
	test ! -e "$LOGS/$big" &&
	test -f "$LOGS/$failed/2.log" &&
	wr-ledger --json compact --keep 0s >out.json &&
	jq -e ".logs_removed == 0" out.json
'

[ -f "$TRASH/pids" ] && test_kill_here $(cat "$TRASH/pids")
test_done
