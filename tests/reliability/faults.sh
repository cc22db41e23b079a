#!/usr/bin/env bash
# faults.sh - ENOSPC, EIO and a read-only file system (issue 7, faults).
# A writer that cannot append says why and exits 74 (wr-run: 125, and the
# command never starts); the ledger stays byte-identical; no reader ever
# sees part of a decision. A sync that fails after the unlock (group
# commit) cuts the decision back when nothing was appended after it, else
# says it stays. Two ways in: the core's test hook
# (WR_FAULT_ERRNO, fault builds only) and, as root, a 64 KiB tmpfs that
# fills up for real and is then remounted read-only.
. "$(dirname "$0")/lib.sh"

# unchanged: the ledger is byte-identical to before.jsonl.
unchanged() {
	cmp before.jsonl "$WR_LEDGER" || { echo "the ledger changed" >&2; return 1; }
}

# fails_io WANT WHY CMD...: the command exits WANT and says WHY on stderr.
fails_io() {
	local want=$1 why=$2 rc
	shift 2
	"$@" >fault.out 2>fault.err
	rc=$?
	not_crashed $rc fault.err || return 1
	[ $rc -eq "$want" ] || { echo "exit $rc, want $want: $*" >&2; cat fault.err >&2; return 1; }
	grep -q "$why" fault.err || { echo "no '$why' in the message of: $*" >&2; cat fault.err >&2; return 1; }
}

test_expect_success 'a ledger to fail on' '
	"$C" commit --count 4 >/dev/null &&
	cp "$WR_LEDGER" before.jsonl
'

if fault_build; then
	for e in ENOSPC EIO; do
		case $e in ENOSPC) why="No space left on device" ;; EIO) why="Input/output error" ;; esac
		test_expect_success "$e: the committer fails with 74, nothing written" '
			WR_FAULT_ERRNO=$e fails_io 74 "$why" "$C" commit --batch 3 &&
			unchanged && "$C" check && wr-ledger verify
		'
		test_expect_success "$e after part of the batch was written: cut back" '
			for k in 1 100 300 100000; do
				WR_FAULT_ERRNO=$e WR_FAULT_TEAR_AT=$k fails_io 74 "$why" "$C" commit --batch 3 &&
				unchanged || return 1
			done
		'
		test_expect_success "$e while repairing a torn tail: 74, the tail stays for the next writer" '
			{ WR_FAULT_TEAR_AT=50 "$C" commit --batch 3 >/dev/null 2>&1; test $? -eq 99; } &&
			cp "$WR_LEDGER" torn.jsonl &&
			WR_FAULT_ERRNO=$e fails_io 74 "$why" wr-ledger repair &&
			cmp -n "$(stat -c %s before.jsonl)" before.jsonl "$WR_LEDGER" &&
			"$C" check &&
			wr-ledger repair >/dev/null 2>&1 && wr-ledger verify &&
			"$C" check >check.out && { grep -q "^ok: 4 decisions.*torn 0" check.out || { cat check.out; false; }; }
		'
		cp "$WR_LEDGER" before.jsonl
		test_expect_success "$e: wr-outbox add exits 74" '
			WR_FAULT_ERRNO=$e fails_io 74 "$why" wr-outbox add --kind custom --message x &&
			unchanged
		'
		test_expect_success "$e: wr-run exits 125 and never starts the command; a failed finish is 125 too" '
			WR_FAULT_ERRNO=$e fails_io 125 "$why" wr-run -- touch started &&
			test ! -e started && unchanged &&
			WR_FAULT_SKIP=1 WR_FAULT_ERRNO=$e fails_io 125 "$why" wr-run -- touch started2 &&
			test -e started2 && grep -q "unable to record the end" fault.err &&
			"$C" check && wr-ledger verify
		'
		cp "$WR_LEDGER" before.jsonl
		test_expect_success "$e: wr-recover cancel exits 74" '
			test_expect_code 1 wr-run -- false >/dev/null 2>&1 && cp "$WR_LEDGER" before.jsonl &&
			run=$(wr-watch --json status --all | jq -r "select(.status != \"succeeded\") | .run" | tail -1) &&
			WR_FAULT_ERRNO=$e fails_io 74 "$why" wr-recover cancel "$run" &&
			unchanged
		'
		cp "$WR_LEDGER" before.jsonl
	done

	# The fdatasync after the unlock (group commit): the decision is in the
	# file, readable, before it is durable, and its writer acts only after
	# its own sync returned.
	test_expect_success 'a crash between the write and its fdatasync: the decision is whole, the next writer builds on it' '
		{ WR_FAULT_SYNC=exit "$C" commit --batch 3 >crash.out 2>crash.err; test $? -eq 99; } &&
		test ! -s crash.out &&
		test "$(($(wc -l <"$WR_LEDGER") - $(wc -l <before.jsonl)))" -eq 3 &&
		cmp -n "$(stat -c %s before.jsonl)" before.jsonl "$WR_LEDGER" &&
		"$C" check && "$C" commit >next.out && "$C" check --printed next.out &&
		wr-ledger verify && tail -n +"$(($(wc -l <before.jsonl) + 1))" "$WR_LEDGER" >new.jsonl &&
		! grep -q ledger.repaired new.jsonl
	'
	cp "$WR_LEDGER" before.jsonl
	test_expect_success 'EIO from the fdatasync after the unlock, nothing after it: 74, the decision taken back' '
		WR_FAULT_SYNC=EIO fails_io 74 "Input/output error; the decision was taken back" "$C" commit --batch 3 &&
		test ! -s fault.out && unchanged && "$C" check && wr-ledger verify
	'
	test_expect_success 'EIO from the fdatasync after the unlock: wr-run exits 125 and never starts the command' '
		WR_FAULT_SYNC=EIO fails_io 125 "taken back" wr-run -- touch started &&
		test ! -e started && unchanged && wr-ledger verify
	'
	test_expect_success 'EIO from the fdatasync after another writer appended: 74, the decision stays, named' '
		rm -f go &&
		{ WR_SNAPSHOT_BYTES=off WR_FAULT_SYNC=EIO WR_FAULT_SYNC_WAIT=go "$C" commit --batch 2 --mark a \
			>fault.out 2>fault.err & } && a=$! &&
		test_wait_until grep -q "\"b\":\"a-1\"" "$WR_LEDGER" &&
		"$C" commit --mark b >b.out && touch go &&
		{ test_wait_pid $a; rc=$?; } && not_crashed $rc fault.err && test $rc -eq 74 &&
		grep -q "stays in the file (others appended after it)" fault.err && test ! -s fault.out &&
		"$C" check --printed b.out && wr-ledger verify &&
		test "$(grep -c "\"b\":\"a-1\"" "$WR_LEDGER")" -eq 2
	'
	cp "$WR_LEDGER" before.jsonl
	test_expect_success 'a decision that writes nothing syncs what it read first: a refusal on an unsynced ledger is 74' '
		wr-run -- true >/dev/null && cp "$WR_LEDGER" before.jsonl &&
		run=$(wr-watch --json status --all | jq -r "select(.status == \"succeeded\") | .run" | tail -1) &&
		test_expect_code 1 wr-recover cancel "$run" 2>refused.err && grep -q "nothing to cancel" refused.err &&
		WR_FAULT_SYNC=EIO fails_io 74 "unable to sync ledger .*: Input/output error$" wr-recover cancel "$run" &&
		unchanged
	'
else
	test_skip_build 'ENOSPC and EIO through the core hook' 'built without -Dfault_injection=true'
fi

# A real full file system, then a read-only one.
MNT=$TRASH/mnt
if [ "$(id -u)" -eq 0 ] && mkdir -p "$MNT" && mount -t tmpfs -o size=64k,mode=0700 wr-test "$MNT" 2>/dev/null; then
	trap 'umount "$MNT" 2>/dev/null' EXIT
	L=$MNT/ledger.jsonl
	test_expect_success 'tmpfs: commit until the disk is full: 74, ENOSPC, whole decisions only' '
		{ WR_LEDGER=$L "$C" commit --count 0 --batch 3 >full.out 2>full.err; rc=$?; } &&
		not_crashed $rc full.err && test $rc -eq 74 &&
		grep -q "No space left on device" full.err &&
		WR_LEDGER=$L "$C" check --printed full.out >check.out && grep -q "torn 0" check.out &&
		WR_LEDGER=$L wr-ledger verify && cp "$L" before.jsonl
	'
	test_expect_success 'tmpfs full: wr-outbox add exits 74, the ledger unchanged' '
		WR_LEDGER=$L fails_io 74 "No space left on device" wr-outbox add --kind custom --message "$(head -c 3000 /dev/zero | tr "\0" x)" &&
		WR_LEDGER=$L unchanged
	'
	test_expect_success 'tmpfs full: wr-run exits 125 and never starts the command' '
		WR_LEDGER=$L fails_io 125 "No space left on device" wr-run --label big="$(head -c 3000 /dev/zero | tr "\0" x)" -- touch started &&
		test ! -e started && WR_LEDGER=$L unchanged
	'
	test_expect_success 'read-only file system: writers exit 74, the ledger unchanged' '
		mount -o remount,ro "$MNT" &&
		WR_LEDGER=$L fails_io 74 "Read-only file system" "$C" commit &&
		WR_LEDGER=$L unchanged &&
		WR_LEDGER=$L fails_io 74 "Read-only file system" wr-outbox add --kind custom --message x &&
		{ WR_LEDGER=$L fails_io 125 "Read-only file system" wr-run -- touch started && test ! -e started; } &&
		WR_LEDGER=$L unchanged
	'
	umount "$MNT"
	trap - EXIT
else
	test_skip 'a full and a read-only tmpfs' 'needs root and mount(2)'
fi

test_done
