# lib-eco.sh - helpers for the ecosystem tests (sourced after ../lib.sh):
# hand-built ledgers (lib-events.sh), the list of tools, a pseudo-terminal.

WR_TOOLS="wr-run wr-watch wr-recover wr-outbox wr-ledger"

. "$WR_SRC/tests/cli/lib-events.sh"

# one_run RUN WORKFLOW TS OUTCOME DURATION_MS: created, started, finished.
one_run() {
	created "$1" "$2" "$3" && started "$1" 1 "$3" && finished "$1" 1 "$3" "$4" "$5" 0
}

# tty CMD: run the shell command CMD on a pseudo-terminal (script(1));
# its output, without the terminal's carriage returns, on stdout.
tty() {
	script -qec "$1" /dev/null </dev/null | tr -d '\r'
}
