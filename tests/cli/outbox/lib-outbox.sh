# lib-outbox.sh - helpers shared by the wr-outbox tests (sourced after lib.sh).

NOTIFIERS="$WR_SRC/share/notifiers"

# entry_json ID: the entry's JSON object (from list --all) into entry.json.
entry_json() {
	wr-outbox list --all --json >.entries || return 1
	jq -c --arg id "$1" 'select(.id == $id)' .entries >entry.json || return 1
	test -s entry.json
}

# entry_get ID FIELD: prints one field of the entry (raw).
entry_get() {
	entry_json "$1" && jq -r ".$2" entry.json
}

# deliver_until ID STATE ARGS...: runs 'wr-outbox deliver ARGS' until the
# entry is in STATE (at most 400 passes); a pass may exit 0 or 1.
deliver_until() {
	local id=$1 want=$2 i=0 rc
	shift 2
	while [ "$(entry_get "$id" state)" != "$want" ]; do
		wr-outbox deliver "$@" >>deliver.out 2>>deliver.err
		rc=$?
		if [ $rc -gt 1 ]; then
			echo "deliver_until: wr-outbox deliver exited $rc" >&2
			cat deliver.err >&2
			return 1
		fi
		i=$((i + 1))
		if [ $i -ge 400 ]; then
			echo "deliver_until: $id never became $want" >&2
			return 1
		fi
		sleep 0.02
	done
}

# proc_gone PID: the process does not exist any more, or is a zombie
# waiting for a reaper that is not ours.
proc_gone() {
	! kill -0 "$1" 2>/dev/null && return 0
	[ -r "/proc/$1/stat" ] && sed 's/^.*) //' "/proc/$1/stat" | grep -q '^Z'
}

# ledger_clean: wr-ledger verify finds no problem and no stale event.
ledger_clean() {
	wr-ledger verify >verify.out || { cat verify.out >&2; return 1; }
	test_grep ', 0 stale, 0 problems$' verify.out
}

# wait_for CMD...: until CMD succeeds (lib.sh's bound).
wait_for() {
	test_wait_until "$@"
}
