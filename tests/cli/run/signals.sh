#!/bin/bash
# Signals to wr-run go to the command's process group; the attempt ends
# cancelled and wr-run exits 128+N.
. "$(dirname "$0")/../lib.sh"
. "$WR_SRC/tests/cli/run/lib-run.sh"

for sig in TERM INT HUP; do
	test_expect_success "SIG$sig reaches the group; cancelled, exit 128+N" '
		rm -f pid gpid got &&
		{ wr-run -- sh -c "echo \$\$ >pid; trap \"echo $sig >got; exit 0\" '"$sig"'; sleep 1000 & echo \$! >gpid; wait" 2>err & } &&
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

test_expect_success 'a cancelled attempt does not count for the breaker' '
	jq -s "map(select(.type==\"breaker.changed\")) | length" "$WR_LEDGER" >n &&
	echo 0 >expect && test_cmp expect n
'

test_expect_success 'ledger verifies' '
	wr-ledger verify
'

test_done
