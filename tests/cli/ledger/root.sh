#!/bin/bash
# Root may read any user's ledger with the reading tools (status, show,
# stats, verify, follow), leaving nothing behind it (no lock file, no
# snapshot); it may not write to it (check, repair, compact, wr-run), and a
# ledger that others can write to stays refused, to root too.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

U=65534 # nobody
DIR=$TRASH/user/state
L=$DIR/ledger.jsonl

test_expect_success ROOT 'a user ledger: runs recorded, then the files handed to the user' '
	mkdir -p "$DIR" && chmod 700 "$DIR" &&
	WR_LEDGER=$L wr-run --workflow backup -- true &&
	{ WR_LEDGER=$L wr-run --workflow import --max-attempts 1 -- false || test $? = 1; } &&
	rm -f "$L".lock "$L".snapshot &&
	chown -R $U "$TRASH/user" &&
	ls -A "$DIR" >files.before
'

test_expect_success ROOT 'root reads it: status, show, stats, verify, no warning, nothing left beside it' '
	WR_SNAPSHOT_BYTES=1 wr-watch --ledger "$L" --all >out 2>err &&
	test_must_be_empty err &&
	test_grep "backup" out && test_grep "import" out &&
	run=$(awk "/backup/ { print \$1; exit }" out) &&
	WR_SNAPSHOT_BYTES=1 wr-watch --ledger "$L" show "$run" >out 2>err &&
	test_must_be_empty err &&
	WR_SNAPSHOT_BYTES=1 wr-watch --ledger "$L" stats --json >out 2>err &&
	test_must_be_empty err &&
	test $(jq -s length out) -eq 2 &&
	wr-ledger --ledger "$L" verify >out 2>err &&
	test_grep " 0 problems" out &&
	ls -A "$DIR" >files.after &&
	test_cmp files.before files.after
'

test_expect_success ROOT 'root does not write to it: check, repair, compact and wr-run are refused' '
	cp "$L" ledger.before &&
	test_expect_code 74 wr-watch --ledger "$L" check 2>err &&
	test_grep "owned by uid $U" err &&
	test_expect_code 74 wr-ledger --ledger "$L" repair 2>err &&
	test_expect_code 74 wr-ledger --ledger "$L" compact --keep 0 2>err &&
	test_expect_code 125 env WR_LEDGER="$L" wr-run -- true 2>err &&
	test_grep "owned by uid $U" err &&
	test_cmp ledger.before "$L" &&
	ls -A "$DIR" >files.after &&
	test_cmp files.before files.after
'

test_expect_success ROOT 'a ledger others can write to stays refused, to root too' '
	chmod 666 "$L" &&
	test_expect_code 74 wr-watch --ledger "$L" 2>err &&
	test_grep "writable by group or others" err &&
	chmod 600 "$L" && chmod 777 "$DIR" &&
	test_expect_code 74 wr-watch --ledger "$L" 2>err &&
	test_grep "its directory $DIR is writable by others" err &&
	chmod 700 "$DIR"
'

test_done
