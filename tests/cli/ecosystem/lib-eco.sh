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

# fish_default_dir PREFIX DATADIR: where completions/meson.build puts fish's
# completions by default (fish reads none under /usr/local).
fish_default_dir() {
	case $1 in
	/usr) echo /usr/share/fish/vendor_completions.d ;;
	/usr/local) echo /etc/fish/completions ;;
	*) echo "$2/fish/vendor_completions.d" ;;
	esac
}

# installed_completions: meson install --destdir into $TRASH/dest; sets
# COMP_BASH, COMP_FISH (wr-recover's files: every tool's is the same file)
# and COMP_ZSH to the installed completion files, so that the completion
# tests drive what an install puts where each shell reads it.
installed_completions() {
	local dest=$TRASH/dest opts prefix datadir fishdir
	meson install -C "$WR_BUILD" --destdir "$dest" --no-rebuild --quiet >"$TRASH/install.log" 2>&1 ||
		{ cat "$TRASH/install.log" >&2; return 1; }
	opts=$(meson introspect "$WR_BUILD" --buildoptions) || return 1
	prefix=$(printf '%s' "$opts" | jq -r '.[] | select(.name == "prefix") | .value')
	datadir=$(printf '%s' "$opts" | jq -r '.[] | select(.name == "datadir") | .value')
	fishdir=$(printf '%s' "$opts" | jq -r '.[] | select(.name == "fish_completions_dir") | .value')
	case $datadir in /*) ;; *) datadir=$prefix/$datadir ;; esac
	[ -n "$fishdir" ] || fishdir=$(fish_default_dir "$prefix" "$datadir")
	COMP_BASH=$dest$datadir/bash-completion/completions/wr-recover
	COMP_FISH=$dest$fishdir/wr-recover.fish
	COMP_ZSH=$dest$datadir/zsh/site-functions/_wr
	test -f "$COMP_BASH" && test -f "$COMP_FISH" && test -f "$COMP_ZSH"
}
