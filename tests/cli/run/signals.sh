#!/bin/bash
# Signals to wr-run go to the command's process group; the attempt ends
# cancelled and wr-run exits 128+N. A signal ignored when wr-run started
# stays ignored (in wr-run and in the command) and cancels nothing.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

for sig in TERM INT HUP; do
	test_expect_success "SIG$sig reaches the group; cancelled, exit 128+N" '
		rm -f pid gpid got &&
		{ env --default-signal wr-run -- sh -c "echo \$\$ >pid; trap \"echo $sig >got; exit 0\" '"$sig"'; sleep 1000 & echo \$! >gpid; wait" 2>err & } &&
		wr=$! &&
		wait_for gpid &&
		kill -'"$sig"' $wr &&
		{ wait $wr; rc=$?; } &&
		n=$(kill -l '"$sig"') &&
		test $rc = $((128 + n)) &&
		echo '"$sig"' >expect && test_cmp expect got &&
		must_be_dead $(cat pid) $(cat gpid) &&
		last attempt.finished fin &&
		jq -e ".outcome==\"cancelled\" and .exit_code==0 and (.reason|test(\"signal\"))" fin &&
		last outbox.enqueued ob &&
		jq -e ".kind==\"cancelled\"" ob
	'
done

test_expect_success 'USR1 is passed on and does not cancel' '
	rm -f gpid got &&
	{ wr-run -- sh -c "trap \"echo usr1 >got\" USR1; echo \$\$ >gpid; while ! test -s got; do sleep 0.1; done; exit 5" & } &&
	wr=$! &&
	wait_for gpid &&
	kill -USR1 $wr &&
	{ wait $wr; rc=$?; } &&
	test $rc = 5 &&
	last attempt.finished fin &&
	jq -e ".outcome==\"error\" and .exit_code==5" fin
'

# A background job of a shell without job control starts with SIGINT and
# SIGQUIT ignored: as timeout(1), wr-run leaves them so.
for sig in HUP INT; do
	test_expect_success "SIG$sig ignored at the start (nohup, a background job): no cancel, the command ignores it too" '
		rm -f gpid go &&
		{ (trap "" '"$sig"' && exec wr-run -- sh -c "echo \$\$ >gpid; while ! test -e go; do sleep 0.05; done; exit 7") 2>err & } &&
		wr=$! &&
		wait_for gpid &&
		kill -'"$sig"' $wr &&
		kill -'"$sig"' $(cat gpid) &&
		touch go &&
		{ wait $wr; rc=$?; } &&
		test $rc = 7 &&
		last attempt.finished fin &&
		jq -e ".outcome==\"error\" and .exit_code==7" fin &&
		test_must_fail grep "got signal" err
	'
done

test_expect_success 'nohup wr-run survives a hangup' '
	rm -f gpid go &&
	{ nohup wr-run -- sh -c "echo \$\$ >gpid; while ! test -e go; do sleep 0.05; done; echo survived" >out 2>err & } &&
	wr=$! &&
	wait_for gpid &&
	kill -HUP $wr && kill -HUP -$(cat gpid) &&
	touch go &&
	wait $wr &&
	echo survived >expect && test_cmp expect out
'

test_expect_success 'a cancelled attempt does not count for the breaker' '
	jq -s "map(select(.type==\"breaker.changed\")) | length" "$(test_ledger)" >n &&
	echo 0 >expect && test_cmp expect n
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
