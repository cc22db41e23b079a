#!/usr/bin/env bash
# lockfile.sh - the lock file replaced under running writers (issue 12,
# item 1). Six wr-run with fast heartbeats and three loops of wr-outbox add
# run while the lock file is removed again and again, then replaced by a
# symlink to another file, then put back. Afterwards the ledger verifies
# clean (no repeated seq, no interleaved decision) and every id that
# wr-outbox add printed is in the state. WR_LOCKFILE_ROUNDS (default 10)
# sets how many times the lock file is removed.
. "$(dirname "$0")/lib.sh"

rounds=${WR_LOCKFILE_ROUNDS:-10}
export WR_LOCK_TIMEOUT=60s

# ids_count: how many ids the add loops printed so far.
ids_count() {
	cat ids.* 2>/dev/null | wc -l
}

# progressed N: the add loops printed more than N ids.
progressed() {
	[ "$(ids_count)" -gt "$1" ]
}

# add_loop K: wr-outbox add until the stop file exists; ids to ids.K,
# errors to err.K.
add_loop() {
	while [ ! -e stop ]; do
		wr-outbox add --kind custom --message "loop $1" >>"ids.$1" 2>>"err.$1"
		echo $? >>"rc.$1"
	done
}

# refused_by_all: every add loop was refused the symlinked lock file since
# mark (the byte counts of err.K when the symlink went in).
refused_by_all() {
	local k
	for k in 1 2 3; do
		tail -c +"$(($(cat "mark.$k") + 1))" "err.$k" | grep -q "refusing lock file .*symbolic link" || return 1
	done
}

test_expect_success 'writers keep one lock while its file is removed and symlinked' '
	wr-outbox add --kind custom --message first >ids.0 &&
	for i in 1 2 3 4 5 6; do
		wr-run --heartbeat 20ms --lease 10s --timeout 120s -- \
			sh -c "until [ -e stop ]; do sleep 0.02; done" >"run.$i.out" 2>"run.$i.err" &
		echo $! >>pids
	done &&
	for k in 1 2 3; do
		add_loop $k &
		echo $! >>pids
	done &&
	test_wait_until progressed 20 &&
	for r in $(seq "$rounds"); do
		n=$(ids_count) &&
		rm -f "$WR_LEDGER.lock" &&
		test_wait_until progressed $((n + 3)) || return 1
	done &&
	for k in 1 2 3; do wc -c <"err.$k" >"mark.$k" || return 1; done &&
	: >other.lock && ln -s "$TRASH/other.lock" new.lock && mv -Tf new.lock "$WR_LEDGER.lock" &&
	test_wait_until refused_by_all &&
	rm "$WR_LEDGER.lock" &&
	n=$(ids_count) && test_wait_until progressed $((n + 3)) &&
	touch stop &&
	for p in $(cat pids); do test_wait_pid $p 120 >/dev/null || [ $? -ne 1 ] || return 1; done &&
	for i in 1 2 3 4 5 6; do
		not_crashed 0 "run.$i.err" || return 1
	done &&
	{ wr-ledger verify >verify.out || { head -5 verify.out; false; }; } &&
	wr-outbox --json list --all >list.json &&
	jq -r .id list.json | sort >state.ids &&
	cat ids.* | sort >printed.ids &&
	comm -23 printed.ids state.ids >missing.ids &&
	test_must_be_empty missing.ids &&
	test_must_be_empty other.lock
'

test_expect_success 'a lock path that is a symlink is refused, naming it and why' '
	rm -f "$WR_LEDGER.lock" && : >other.lock && ln -s "$TRASH/other.lock" "$WR_LEDGER.lock" &&
	test_expect_code 74 wr-outbox add --kind custom --message x 2>add.err &&
	test_grep "refusing lock file $WR_LEDGER.lock: it is a symbolic link" add.err &&
	rm "$WR_LEDGER.lock" &&
	mkdir "$WR_LEDGER.lock" &&
	test_expect_code 74 wr-outbox add --kind custom --message x 2>add.err &&
	test_grep "lock file $WR_LEDGER.lock" add.err &&
	rmdir "$WR_LEDGER.lock" &&
	wr-outbox add --kind custom --message x >/dev/null
'

test_done
