#!/bin/bash
# A ledger shared by a team: a directory of a dedicated group with the
# setgid bit, group-writable, not writable by others (2770) opts in; every
# file and directory made there is 0660 / 2770 with that group whatever
# the umask, files of any member are accepted, a non-member is refused. A
# group-writable directory without the setgid bit is refused with the way
# to opt in; a world-writable one is refused always. The tests that need
# users of their own run as root (CI); the others run as anyone.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

T=$TRASH/team
L=$T/ledger.jsonl
chmod 0711 "$TRASH" # the members reach the team directory through it

# all_modes_shared GROUP: everything under $T is 0660 (files) or 2770
# (directories) of GROUP; the list of what is not goes to bad.
all_modes_shared() {
	find "$T" -mindepth 1 \( -type f ! -perm 0660 -o -type d ! -perm 2770 -o ! -group "$1" \) \
		-printf "%p %m %g\n" >bad &&
	test_must_be_empty bad
}

# make_team: a group $G with members $A and $B, a user $N outside it, and
# the team directory $T (2770, root's, group $G); removed after the test.
make_team() {
	G=wrg$$ A=wra$$ B=wrb$$ N=wrn$$ &&
	test_when_finished "userdel $A; userdel $B; userdel $N; groupdel $G; rm -rf '$T'" &&
	groupadd "$G" &&
	useradd -M -N -g users -G "$G" -s /bin/false "$A" &&
	useradd -M -N -g users -G "$G" -s /bin/false "$B" &&
	useradd -M -N -g users -s /bin/false "$N" &&
	install -d -m 2770 -g "$G" "$T"
}

# as USER CMD...: runs CMD as USER (its groups from the user database),
# with umask 077, in $TRASH/home; the tools' paths are absolute.
as() {
	local u=$1
	shift
	(umask 077 && cd / && setpriv --reuid="$u" --regid=users --init-groups env HOME=/nonexistent "$@")
}

test_expect_success 'a group-writable directory without the setgid bit is refused, saying how to opt in' '
	mkdir -m 0770 plain && chmod 0770 plain &&
	test_expect_code 125 wr-run --ledger "$TRASH/plain/l.jsonl" -- true 2>err &&
	test_grep "its directory $TRASH/plain is writable by group .* \(mode 0770\)" err &&
	test_grep "chmod 2770 $TRASH/plain" err && test_grep "Shared ledgers" err &&
	test_expect_code 74 wr-watch --ledger "$TRASH/plain/l.jsonl" 2>err &&
	test_grep "chmod 2770" err &&
	test -z "$(ls -A plain)"
'

test_expect_success 'a world-writable directory is refused, setgid or sticky' '
	mkdir loose &&
	for mode in 2777 2773 1777 0777; do
		chmod 0$mode loose &&
		test_expect_code 125 wr-run --ledger "$TRASH/loose/l.jsonl" -- true 2>err &&
		test_grep "its directory $TRASH/loose is writable by others \(mode $mode\)" err &&
		test_expect_code 74 wr-watch --ledger "$TRASH/loose/l.jsonl" 2>err &&
		test_grep "writable by others" err &&
		test -z "$(ls -A loose)" || return 1
	done
'

test_expect_success 'a shared directory of a group of ours: every file 0660 and directory 2770 of the group, umask 077' '
	g=$(id -gn) &&
	test_when_finished "rm -rf \"$T\"" &&
	install -d -m 2770 -g "$g" "$T" &&
	(umask 077 &&
	 wr-run --ledger "$L" --workflow a -- echo out &&
	 { wr-run --ledger "$L" --workflow b --max-attempts 1 -- sh -c "echo err >&2; exit 3" || test $? = 3; } &&
	 WR_SNAPSHOT_BYTES=1 wr-watch --ledger "$L" >/dev/null &&
	 test -f "$L.snapshot" &&
	 wr-ledger --ledger "$L" compact --keep 0 >/dev/null &&
	 ls "$L".archive.* &&
	 printf "{\"v\":1,\"seq\":" >>"$L" &&
	 wr-ledger --ledger "$L" repair >/dev/null &&
	 test -s "$L.quarantine" &&
	 wr-run --ledger "$T/sub/l.jsonl" -- echo more) >/dev/null &&
	test -f "$T/sub/l.jsonl" && test -d "$L.logs" &&
	all_modes_shared "$g" &&
	wr-ledger --ledger "$L" verify >/dev/null
'

# retried L RUN: one wr-recover pass on L, then whether RUN succeeded.
retried() {
	wr-recover --ledger "$1" >/dev/null &&
	jq -s -e --arg r "$2" 'any(.[]; .type == "attempt.finished" and .run == $r and .outcome == "success")' "$1" >/dev/null
}

test_expect_success 'wr-recover launches in a shared directory: launch locks and launch logs 0660, directories 2770' '
	g=$(id -gn) &&
	test_when_finished "rm -rf \"$T\"" &&
	install -d -m 2770 -g "$g" "$T" &&
	(umask 077 &&
	 { wr-run --ledger "$L" --workflow flaky --max-attempts 2 --backoff 10ms,1,10ms -- \
		sh -c "test -e \"$TRASH/flag\" || { : >\"$TRASH/flag\"; exit 1; }; echo second" || test $? = 1; } &&
	 run=$(jq -r "select(.type == \"run.created\") | .run" "$L") &&
	 test_wait_until retried "$L" "$run" &&
	 test -f "$L.logs/$run/2.launch.log" && test -f "$L.logs/$run/2.log" &&
	 ls "$L.launch"/*.lock) >/dev/null &&
	all_modes_shared "$g"
'

test_expect_success ROOT 'two members write the same ledger; each reads, compacts and repairs it' '
	make_team &&
	as "$A" "$WR_BUILD/cmd/wr-run" --ledger "$L" --workflow from-a -- echo a >/dev/null &&
	as "$B" "$WR_BUILD/cmd/wr-run" --ledger "$L" --workflow from-b -- echo b >/dev/null &&
	test "$(stat -c %U "$L")" = "$A" &&
	as "$A" "$WR_BUILD/cmd/wr-watch" --ledger "$L" --all >out &&
	test_grep from-a out && test_grep from-b out &&
	id=$(jq -r "select(.type == \"run.created\" and .workflow == \"from-b\") | .run" "$L") &&
	as "$A" "$WR_BUILD/cmd/wr-watch" --ledger "$L" logs "$id" >out &&
	echo b >want && test_cmp want out &&
	WR_SNAPSHOT_BYTES=1 as "$B" "$WR_BUILD/cmd/wr-watch" --ledger "$L" >/dev/null &&
	as "$B" "$WR_BUILD/cmd/wr-ledger" --ledger "$L" compact --keep 0 >/dev/null &&
	test "$(stat -c %U "$L")" = "$B" &&
	as "$A" "$WR_BUILD/cmd/wr-run" --ledger "$L" --workflow again -- echo a >/dev/null &&
	as "$B" "$WR_BUILD/cmd/wr-ledger" --ledger "$L" verify >out &&
	test_grep " 0 problems" out &&
	all_modes_shared "$G"
'

test_expect_success ROOT 'a user outside the group is refused, reading or writing, and told why' '
	make_team &&
	as "$A" "$WR_BUILD/cmd/wr-run" --ledger "$L" -- true &&
	chmod 2775 "$T" &&
	test_expect_code 74 as "$N" "$WR_BUILD/cmd/wr-watch" --ledger "$L" 2>err &&
	test_grep "is shared with group $G \(mode 2775\), and you \(uid [0-9]*\) are not in it" err &&
	test_grep "usermod -aG $G" err &&
	test_expect_code 125 as "$N" "$WR_BUILD/cmd/wr-run" --ledger "$L" -- true 2>err &&
	test_grep "not in it" err &&
	test "$(jq -s length "$L")" = 3
'

test_expect_success ROOT 'a file of a non-member, or writable by another group, is refused' '
	make_team &&
	as "$A" "$WR_BUILD/cmd/wr-run" --ledger "$L" -- true &&
	chown "$N" "$L.lock" &&
	test_expect_code 125 as "$B" "$WR_BUILD/cmd/wr-run" --ledger "$L" -- true 2>err &&
	test_grep "refusing lock file $L.lock: owned by uid $(id -u "$N"), who is not in group $G" err &&
	chown "$A:users" "$L.lock" && chmod 0660 "$L.lock" &&
	test_expect_code 125 as "$A" "$WR_BUILD/cmd/wr-run" --ledger "$L" -- true 2>err &&
	test_grep "writable by group users, not by the shared directory" err &&
	chown "$A:$G" "$L.lock" &&
	chmod 0666 "$L" &&
	test_expect_code 74 as "$B" "$WR_BUILD/cmd/wr-watch" --ledger "$L" 2>err &&
	test_grep "refusing ledger $L: writable by others" err &&
	chmod 0600 "$L" &&
	test_expect_code 74 as "$B" "$WR_BUILD/cmd/wr-watch" --ledger "$L" 2>err &&
	test_grep "unable to open ledger $L \(a file of a shared directory must be its group.s: as its owner, chgrp $G $L && chmod 0660 $L; see wr\(7\), Shared ledgers\): Permission denied" err &&
	chmod 0660 "$L" &&
	as "$B" "$WR_BUILD/cmd/wr-run" --ledger "$L" -- true
'

test_expect_success ROOT 'a shared directory owned by a non-member is refused' '
	make_team &&
	chown "$N" "$T" && chmod 2770 "$T" &&
	test_expect_code 125 as "$A" "$WR_BUILD/cmd/wr-run" --ledger "$L" -- true 2>err &&
	test_grep "owned by uid $(id -u "$N"), who is not in its group $G" err
'

test_expect_success ROOT 'root reads and writes a shared ledger; the members go on with what it made' '
	make_team &&
	wr-run --ledger "$L" --workflow by-root -- echo r >/dev/null &&
	all_modes_shared "$G" &&
	as "$A" "$WR_BUILD/cmd/wr-run" --ledger "$L" -- echo a >/dev/null &&
	wr-watch --ledger "$L" --all >out &&
	test_grep by-root out &&
	as "$B" "$WR_BUILD/cmd/wr-ledger" --ledger "$L" compact --keep 0 >/dev/null &&
	as "$B" "$WR_BUILD/cmd/wr-ledger" --ledger "$L" verify >/dev/null
'

test_expect_success ROOT 'root reads the output logs of a private ledger of another user' '
	make_team &&
	install -d -m 0700 -o "$A" "$TRASH/own" &&
	as "$A" "$WR_BUILD/cmd/wr-run" --ledger "$TRASH/own/l.jsonl" --workflow mine -- echo private >/dev/null &&
	id=$(jq -r "select(.type == \"run.created\") | .run" "$TRASH/own/l.jsonl") &&
	wr-watch --ledger "$TRASH/own/l.jsonl" logs "$id" >out &&
	echo private >want && test_cmp want out &&
	test_expect_code 74 as "$B" "$WR_BUILD/cmd/wr-watch" --ledger "$TRASH/own/l.jsonl" logs "$id" 2>err
'

test_done
