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

# hold_lock: flock(1) holds the lock file until the file "release" exists
# (bounded: 60 s); its pid in holder.pid.
hold_lock() {
	rm -f held release &&
	{ flock "$WR_LEDGER.lock" sh -c "touch held; i=0; until [ -e release ] || [ \$i -ge 1200 ]; do sleep 0.05; i=\$((i+1)); done" & } &&
	echo $! >holder.pid &&
	test_wait_until test -e held
}

release_lock() {
	[ -e holder.pid ] || return 0
	touch release && test_wait_pid "$(cat holder.pid)" && rm -f holder.pid
}

# Issue 12, item 12: verify is a reader; a busy writer neither makes it
# wait nor fail with 75.
test_expect_success 'verify does not take the lock: a busy writer does not make it exit 75' '
	wr-outbox add --kind custom --message a >/dev/null &&
	hold_lock &&
	test_when_finished release_lock &&
	WR_LOCK_TIMEOUT=200ms wr-ledger verify >v.out 2>v.err &&
	test_grep ": [0-9]+ events, .* 0 problems" v.out &&
	test_must_be_empty v.err
'

test_expect_success 'a tail being written while a writer holds the lock is noted, not counted' '
	hold_lock &&
	test_when_finished release_lock &&
	printf "{\"v\":1,\"seq\":" >>"$WR_LEDGER" &&
	WR_LOCK_TIMEOUT=200ms wr-ledger verify >v.out 2>v.err &&
	test_grep "0 problems" v.out &&
	test_grep "not a whole decision yet, and the lock is held by a writer" v.err &&
	release_lock &&
	test_expect_code 1 wr-ledger verify >v.out &&
	test_grep "torn tail: 13 bytes" v.out &&
	wr-ledger repair >/dev/null && wr-ledger verify >/dev/null
'

test_expect_success 'the lock timeout names the holder it knows' '
	hold_lock &&
	test_when_finished release_lock &&
	{ WR_LOCK_TIMEOUT=200ms wr-outbox add --kind custom --message b >/dev/null 2>add.err; rc=$?; } &&
	test "$rc" = 75 &&
	test_grep "timed out after 200ms waiting for the lock on $WR_LEDGER.lock \(held by flock, pid $(cat holder.pid), on host $(uname -n)\); retry later" add.err &&
	release_lock
'

test_done
