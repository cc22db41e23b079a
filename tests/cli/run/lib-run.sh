# lib-run.sh - helpers shared by the wr-run tests.

. "$WR_SRC/tests/cli/lib-events.sh"

# wait_gone PID: until the process is gone (lib.sh's bound).
wait_gone() {
	test_wait_until not_alive "$1"
}

not_alive() {
	! kill -0 "$1" 2>/dev/null
}

# must_be_dead PID...: none of the processes exists (zombies count as dead).
must_be_dead() {
	local p
	for p in "$@"; do
		if kill -0 "$p" 2>/dev/null && [ "$(ps -o stat= -p "$p" | cut -c1)" != Z ]; then
			echo "process $p survived:" >&2
			ps -o pid,pgid,stat,args -p "$p" >&2
			return 1
		fi
	done
}

# last TYPE FILE: the last event of TYPE into FILE.
last() { jq -c "select(.type==\"$1\")" "$(test_ledger)" | tail -n 1 >"$2"; }

# count TYPE: number of events of TYPE.
count() { jq -s "map(select(.type==\"$1\")) | length" "$(test_ledger)"; }

# append_event JSON: appends an event to the ledger as another tool would
# (next seq, now, by test/1): for crafting states such as an open breaker.
# Through lib-events.sh's ev, so that it works on a stream too.
append_event() {
	local type
	type=$(jq -r .type <<<"$1") &&
	ev "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$type" "$1" &&
	case $WR_LEDGER in
	nats://*) ;;
	*) chmod 600 "$WR_LEDGER" ;;
	esac
}

# append_locked JSON: append_event under the ledger file's lock, for when a
# wr-run is committing at the same time.
append_locked() {
	local ev=$1
	export -f append_event ev ev_to
	flock "$WR_LEDGER.lock" bash -c 'append_event "$1"' - "$ev"
}

# run_of N: the id of the Nth run created (1-based; -1 the last).
run_of() { jq -rs "map(select(.type==\"run.created\"))[${1}-1+(if $1 < 0 then 1 else 0 end)].run" "$(test_ledger)"; }

# wait_for FILE: until FILE exists and is not empty (lib.sh's bound).
wait_for() {
	test_wait_until test -s "$1"
}
