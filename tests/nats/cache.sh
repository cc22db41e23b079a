#!/bin/bash
# cache.sh - the copy of a stream's messages kept on this host
# (${XDG_CACHE_HOME:-~/.cache}/wr/nats): a start fetches only the messages
# after the last cached one; a damaged, foreign or untrusted copy, or one a
# re-created stream does not go on from, is made again from the stream and
# never read (an open checks the copy's last block, export and verify the
# whole copy); two hosts' caches both stay right; the state cache goes
# beside the copy. WR_NATS_TRACE=1 says what each open took from where.
. "$(dirname "$0")/../cli/lib.sh"
. "$WR_SRC/tests/nats/lib-nats.sh"

nats_setup
export XDG_CACHE_HOME="$TRASH/hostA"

# The decisions of the stream (one message each), read without a cache.
decisions() {
	WR_NATS_CACHE=off wr-ledger export | jq -s "map(.batch[0] // 1 | select(. == 1)) | length"
}

# traced CMD...: runs CMD with the trace on, its stderr in trace.
traced() {
	WR_NATS_TRACE=1 "$@" 2>trace
}

# The copy of the stream LEDGER (one, as a glob).
copy() {
	ls "$XDG_CACHE_HOME"/wr/nats/LEDGER-*.jsonl
}

# The export read through the cache is the one read without it.
same_as_stream() {
	WR_NATS_CACHE=off wr-ledger export >truth.jsonl &&
	wr-ledger export >cached.jsonl &&
	test_cmp truth.jsonl cached.jsonl
}

test_expect_success 'the first open fetches everything and makes the copy, private to its owner' '
	wr-run -- true &&
	wr-run -- echo hello >/dev/null &&
	n=$(decisions) &&
	test "$n" -ge 4 &&
	rm -rf "$XDG_CACHE_HOME" &&
	traced wr-ledger export >e.jsonl &&
	test_grep ": 0 cached, $n fetched \\(cache made again: no cache yet\\)" trace &&
	test "$(stat -c %a "$XDG_CACHE_HOME/wr/nats")" = 700 &&
	test "$(stat -c %a "$(copy)")" = 600 &&
	test_cmp e.jsonl "$(copy)"
'

test_expect_success 'a second open fetches nothing; after another host appends, only the new messages' '
	n=$(decisions) &&
	traced wr-watch status >/dev/null &&
	test_grep ": $n cached, 0 fetched$" trace &&
	XDG_CACHE_HOME="$TRASH/hostB" wr-run -- true &&
	XDG_CACHE_HOME="$TRASH/hostB" wr-run -- true &&
	m=$(decisions) &&
	test $m -gt $n &&
	traced wr-ledger export >/dev/null &&
	test_grep ": $n cached, $((m - n)) fetched$" trace &&
	same_as_stream
'

test_expect_success 'a writer keeps its own decisions in the copy: the next open fetches none' '
	wr-run -- true &&
	wr-outbox add --kind custom --message hi >/dev/null &&
	n=$(decisions) &&
	traced wr-ledger export >/dev/null &&
	test_grep ": $n cached, 0 fetched$" trace
'

test_expect_success 'the state cache goes beside the copy and gives the state a replay gives' '
	for i in 1 2 3 4 5; do
		WR_SNAPSHOT_BYTES=1 wr-run -- true || return 1
	done &&
	test -s "$(copy).snapshot" &&
	wr-watch status --json >with.json &&
	WR_NATS_CACHE=off wr-watch status --json >without.json &&
	test_cmp without.json with.json
'

test_expect_success 'deleting the cache changes nothing but what is fetched' '
	wr-watch status --json >before.json &&
	rm -rf "$XDG_CACHE_HOME/wr" &&
	traced wr-watch status --json >after.json &&
	test_grep "cache made again: no cache yet" trace &&
	test_cmp before.json after.json &&
	same_as_stream
'

# damaged WHY: the next open says the copy is made again because of WHY,
# reads right, and the open after it uses the copy again.
damaged() {
	traced wr-ledger export >e.jsonl &&
	test_grep "cache made again: $1" trace &&
	WR_NATS_CACHE=off wr-ledger export >truth.jsonl &&
	test_cmp truth.jsonl e.jsonl &&
	traced wr-ledger export >/dev/null &&
	test_grep " cached, 0 fetched$" trace
}

test_expect_success 'an open checks the last block of the copy only: a byte changed before it is found by export and verify' '
	"$C" commit --count 700 --mark big >/dev/null &&
	wr-ledger export >/dev/null &&
	f=$(copy) &&
	size=$(stat -c %s "$f") &&
	test $size -gt 131072 &&
	n=$(decisions) &&
	printf X | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null &&
	traced wr-ledger stats >/dev/null &&
	test_grep ": $n cached, 0 fetched$" trace &&
	traced wr-ledger verify >/dev/null &&
	test_grep ": 0 cached, $n fetched \\(cache made again: its file does not match its hash" trace &&
	printf X | dd of="$(copy)" bs=1 seek=$((size - 5)) conv=notrunc 2>/dev/null &&
	traced wr-ledger stats >/dev/null &&
	test_grep ": 0 cached, $n fetched \\(cache made again: its file does not match its hash" trace
'

test_expect_success 'a byte changed anywhere in the copy: an export makes it again, never reads it' '
	wr-ledger export >/dev/null &&
	f=$(copy) &&
	size=$(stat -c %s "$f") &&
	printf X | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null &&
	damaged "its file does not match its hash"
'

test_expect_success 'random damage to the copy (16 tries): every export is the stream' '
	for i in $(seq 16); do
		f=$(copy) &&
		size=$(stat -c %s "$f") &&
		head -c $((RANDOM % 8 + 1)) /dev/urandom |
			dd of="$f" bs=1 seek=$((RANDOM * 32768 % size + RANDOM % size)) conv=notrunc 2>/dev/null &&
		wr-ledger export >e.jsonl &&
		WR_NATS_CACHE=off wr-ledger export >truth.jsonl &&
		test_cmp truth.jsonl e.jsonl || return 1
	done
'

test_expect_success 'a copy cut short, or with bytes past its description: made again' '
	f=$(copy) &&
	truncate -s -10 "$f" &&
	damaged "its file is not as long as described" &&
	echo "{\"seq\":1}" >>"$(copy)" &&
	damaged "its file is not as long as described"
'

test_expect_success 'a damaged or foreign description: made again' '
	echo garbage >"$(copy).meta" &&
	damaged "its description is damaged" &&
	m=$(copy).meta &&
	sed "s/^wr-nats-cache 1 [0-9a-f]*/wr-nats-cache 1 1234/" "$m" >m.new &&
	cat m.new >"$m" &&
	damaged "its description is damaged" &&
	cp "$(copy)" other &&
	mv other "$(copy)" &&
	damaged "its description is of another file"
'

test_expect_success 'a copy longer than the stream, or whose last message is not the stream one: made again' '
	m=$(copy).meta &&
	awk "{ \$6 = \$6 + 100; print }" "$m" >m.new &&
	cat m.new >"$m" &&
	damaged "the stream is shorter than the cache" &&
	awk "{ \$9 = \"123abc\"; print }" "$m" >m.new &&
	cat m.new >"$m" &&
	damaged "its last message is not the stream"
'

# The fault hooks exist only in builds with -Dfault_injection (the
# suite's ASan build).
if [ "${WR_FAULT_BUILD:-0}" = 1 ]; then
	test_expect_success 'a copy whose last message cannot be read yet is checked once it can, never made again for it' '
		wr-run -- true &&
		n=$(decisions) &&
		WR_FAULT_NATS_READ=3 WR_NATS_TRACE=1 wr-watch status >/dev/null 2>trace &&
		test_grep ": $n cached, 0 fetched$" trace &&
		test_expect_code 75 env WR_FAULT_NATS_READ=1000 WR_NATS_TIMEOUT=300ms WR_NATS_TRACE=1 \
			wr-watch status >/dev/null 2>trace &&
		test_grep "unable to read the message this host.s copy of the stream ends with on NATS .*: Timeout" trace &&
		! grep -q "made again" trace &&
		traced wr-watch status >/dev/null &&
		test_grep ": $n cached, 0 fetched$" trace
	'
fi

test_expect_success 'a copy or description others may write is not trusted: made again, private' '
	chmod 666 "$(copy)" &&
	damaged "its file is not to be trusted" &&
	test "$(stat -c %a "$(copy)")" = 600 &&
	chmod 622 "$(copy).meta" &&
	damaged "its description is not to be trusted" &&
	chmod 777 "$XDG_CACHE_HOME/wr/nats" &&
	traced wr-ledger export >e.jsonl &&
	test_grep "no cache: " trace &&
	test_grep "writable by others" trace &&
	WR_NATS_CACHE=off wr-ledger export >truth.jsonl &&
	test_cmp truth.jsonl e.jsonl &&
	chmod 700 "$XDG_CACHE_HOME/wr/nats"
'

test_expect_success 'two hosts write in turns: each one cache right, fetching only the other one messages' '
	for i in 1 2 3; do
		XDG_CACHE_HOME="$TRASH/hostA" wr-run -- true &&
		XDG_CACHE_HOME="$TRASH/hostB" wr-outbox add --kind custom --message "b$i" >/dev/null || return 1
	done &&
	n=$(decisions) &&
	XDG_CACHE_HOME="$TRASH/hostA" traced wr-ledger export >hostA.jsonl &&
	test_grep ": $((n - 1)) cached, 1 fetched$" trace &&
	XDG_CACHE_HOME="$TRASH/hostB" traced wr-ledger export >hostB.jsonl &&
	test_grep ": $n cached, 0 fetched$" trace &&
	WR_NATS_CACHE=off wr-ledger export >truth.jsonl &&
	test_cmp truth.jsonl hostA.jsonl &&
	test_cmp truth.jsonl hostB.jsonl
'

test_expect_success 'four writers on one host share the copy: all decisions there, once, in order' '
	for i in 1 2 3 4; do
		{ "$C" commit --count 15 --mark c$i >printed.$i 2>err.$i & } &&
		echo $! >pid.$i || return 1
	done &&
	for i in 1 2 3 4; do
		test_wait_pid $(cat pid.$i) 120 || { cat err.$i >&2; return 1; }
	done &&
	"$C" check --printed printed.1 --printed printed.2 --printed printed.3 --printed printed.4 &&
	n=$(decisions) &&
	traced wr-ledger export >e.jsonl &&
	test_grep ": $n cached, 0 fetched$" trace &&
	WR_NATS_CACHE=off wr-ledger export >truth.jsonl &&
	test_cmp truth.jsonl e.jsonl &&
	wr-ledger verify
'

# slow_wait CMD...: what waits on the cluster, for 120 s at most.
slow_wait() {
	nats_wait 120 "$@"
}

# opened N: the follower opened the stream N times.
opened() {
	[ $(grep -c " fetched" follow.err) -ge $1 ]
}

test_expect_success 'the cache deleted under a follower and made again by another process: the follower goes on right' '
	: >follow.err &&
	{ WR_NATS_TRACE=1 wr-watch follow --json >follow.out 2>follow.err & } &&
	f=$! &&
	test_when_finished "test_kill_here $f" &&
	test_wait_until grep -q "following from message" follow.err &&
	start=$(WR_NATS_CACHE=off wr-ledger export | jq .seq | tail -n 1) &&
	rm -rf "$XDG_CACHE_HOME/wr" &&
	traced wr-run -- true &&
	test_grep "cache made again: no cache yet" trace &&
	wr-outbox add --kind custom --message after >/dev/null &&
	last=$(WR_NATS_CACHE=off wr-ledger export | jq .seq | tail -n 1) &&
	test_wait_until seen $((last - start)) &&
	seq $((start + 1)) $last >want &&
	jq .seq follow.out >got &&
	test_cmp want got &&
	test_grep "the cache .* is left: it was made again by another process" follow.err &&
	same_as_stream
'

# A JetStream API request on the raw protocol of node 1: its answer in
# api.out (bounded wait).
nats_api() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/${nats_client[1]}" || return 1
	printf 'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.cache 1\r\nPUB %s _INBOX.cache 0\r\n\r\n' "$1" >&3
	: >api.out
	while read -r -t 10 line <&3; do
		case $line in
		PING*) printf 'PONG\r\n' >&3 ;;
		MSG*) read -r -t 10 line <&3 && echo "$line" >api.out && break ;;
		esac
	done
	exec 3>&-
	test -s api.out
}

test_expect_success 'a stream deleted and created again under the same name: never the old copy' '
	n_old=$(decisions) &&
	: >follow.out &&
	: >follow.err &&
	{ WR_NATS_TRACE=1 wr-watch follow --json >follow.out 2>follow.err & } &&
	f=$! &&
	test_when_finished "test_kill_here $f" &&
	test_wait_until grep -q "following from message" follow.err &&
	nats_api "\$JS.API.STREAM.DELETE.LEDGER" &&
	test_grep "\"success\":true" api.out &&
	nats_ledger_init &&
	traced wr-run -- true &&
	test_grep ": 0 cached, 0 fetched \\(cache made again: no cache yet\\)" trace &&
	{ slow_wait opened 2 || { sed "s/^/follow: /" follow.err >&2; false; }; } &&
	wr-outbox add --kind custom --message new >/dev/null &&
	slow_wait grep -q "\"message\":\"new\"" follow.out &&
	n=$(decisions) &&
	test $n -lt $n_old &&
	XDG_CACHE_HOME="$TRASH/hostB" traced wr-ledger export >b.jsonl &&
	test_grep ": 0 cached, $n fetched \\(cache made again: no cache yet\\)" trace &&
	wr-ledger export >a.jsonl &&
	WR_NATS_CACHE=off wr-ledger export >truth.jsonl &&
	test_cmp truth.jsonl a.jsonl &&
	test_cmp truth.jsonl b.jsonl
'

# copies: the copies of the stream LEDGER on this host, one a line.
copies() {
	ls "$XDG_CACHE_HOME"/wr/nats/LEDGER-*.jsonl
}

# recreate: the stream deleted and created again (another identity).
recreate() {
	nats_api "\$JS.API.STREAM.DELETE.LEDGER" &&
	test_grep "\"success\":true" api.out &&
	nats_ledger_init
}

# held FILE: another process holds a lock on FILE; unheld FILE: none.
held() {
	! flock -n -x "$1" true
}
unheld() {
	flock -n -x "$1" true
}

test_expect_success 'the copies of the stream before it was created again go when a new one is written, unless one is held' '
	traced wr-run -- true &&
	test_grep " cached, 0 fetched$" trace &&
	mine=$(ls -t $(copies) | head -n 1) &&
	{ (exec 9<"$mine" && flock -s 9 && exec sleep 600) & } &&
	h=$! &&
	test_when_finished "test_kill_here $h" &&
	test_wait_until held "$mine" &&
	recreate &&
	traced wr-run -- true &&
	test_grep "cache made again: no cache yet" trace &&
	test_grep "cache $mine of a stream created again: kept \\(in use\\)" trace &&
	test $(copies | wc -l) -eq 2 &&
	test -f "$mine" &&
	test_kill_here $h &&
	test_wait_until unheld "$mine" &&
	recreate &&
	traced wr-run -- true &&
	test_grep "cache $mine of a stream created again: removed" trace &&
	copies >left &&
	test $(wc -l <left) -eq 1 &&
	ls "$XDG_CACHE_HOME"/wr/nats >all &&
	sed -n "/^LEDGER-/p" all | sed "/^$(basename "$(cat left)")/d" >others &&
	test_must_be_empty others &&
	same_as_stream
'

nats_done
