# helpers.sh - hand-built ledgers for the wr-watch tests (sourced after
# ../lib.sh). wr-run is not needed: each helper appends one valid event
# with the next seq, so a test states exactly the history it needs.

. "$WR_SRC/tests/cli/lib-events.sh"

# wait_until 'CONDITION': until the shell condition holds (lib.sh's bound).
wait_until() {
	test_wait_until eval "$1"
}
