#!/bin/bash
# retry-succeeds.sh - a command that fails twice, then succeeds: repeated
# passes bring its run to succeeded on attempt 3, and WR_STAGES_DONE lets
# the later attempts skip the stages done before.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/recover/lib-recover.sh"

cat >job.sh <<'JOB'
n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
echo $n >count
echo "attempt $n"                 # output: a log beside the ledger
echo "attempt $WR_ATTEMPT: done [$WR_STAGES_DONE]" >>seen
for s in fetch build; do
	case ",$WR_STAGES_DONE," in *",$s,"*) echo "skip $s" >>seen; continue ;; esac
	echo "run $s" >>seen
	echo "{\"stage\":\"$s\",\"status\":\"done\"}" >&"$WR_PROGRESS_FD"
	[ $n -eq 1 ] && exit 1      # attempt 1 fails after fetch
done
[ $n -ge 3 ]                    # attempt 2 fails after build
JOB

test_expect_success 'attempt 1 fails under wr-run' '
	test_expect_code 1 wr-run --workflow job --max-attempts 3 --backoff 10ms,1,10ms -- bash job.sh &&
	jq -r "select(.type == \"run.created\") | .run" "$(test_ledger)" >run &&
	test $(wc -l <run) -eq 1
'

test_expect_success 'passes retry it until it succeeds on attempt 3' '
	pass_until "test \"\$(status_of $(cat run))\" = succeeded" &&
	test $(count ".type == \"attempt.started\"") -eq 3 &&
	test $(count ".type == \"attempt.finished\" and .outcome == \"success\" and .attempt == 3") -eq 1 &&
	test $(cat count) -eq 3
'

test_expect_success 'one retry decision per failed attempt, recoveries 1 then 2' '
	jq -c "select(.type == \"recovery.decided\") | [.attempt, .action, .recoveries]" "$(test_ledger)" >decided &&
	printf "%s\n" "[1,\"retry\",1]" "[2,\"retry\",2]" >expect &&
	test_cmp expect decided
'

test_expect_success 'attempts 2 and 3 skipped the stages done before' '
	cat >expect <<-\EXP &&
	attempt 1: done []
	run fetch
	attempt 2: done [fetch]
	skip fetch
	run build
	attempt 3: done [fetch,build]
	skip fetch
	skip build
	EXP
	test_cmp expect seen
'

test_expect_success 'each launch logged to its own attempt log beside the ledger, none under HOME' '
	d="$WR_LEDGER.logs/$(cat run)" &&
	test -f "$d/2.launch.log" &&
	test -f "$d/3.launch.log" &&
	test -f "$d/3.log" &&
	test "$(stat -c %a "$WR_LEDGER.logs")" = "$(stat -c %a "$(dirname "$WR_LEDGER")")" &&
	test "$(stat -c %a "$d/2.launch.log")" = 600 &&
	! test -e "$XDG_STATE_HOME/wr/logs"
'

test_expect_success 'the success after failures is announced as recovered; nothing escalated' '
	test $(count ".type == \"outbox.enqueued\" and .kind == \"recovered\"") -eq 1 &&
	test $(count ".type == \"outbox.enqueued\" and .kind == \"escalated\"") -eq 0
'

test_expect_success 'a pass over the succeeded run decides nothing' '
	cp "$(test_ledger)" before &&
	wr-recover >out &&
	test_must_be_empty out &&
	cmp before "$(test_ledger)"
'

test_expect_success 'the ledger verifies clean' '
	wr-ledger verify >verify &&
	test_grep " 0 problems" verify
'

test_done
