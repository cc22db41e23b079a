#!/bin/bash
# The zsh completion as installed (meson install --destdir): it parses, it is autoloadable by its #compdef line,
# and, driven through zsh's zpty in an interactive shell, it completes
# verbs, option values and run ids (skipped when zsh is not installed: it
# is optional).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

if ! command -v zsh >/dev/null; then
	test_skip "zsh completion" "zsh is not installed"
	test_done
	exit
fi

installed_completions || { echo "Bail out! meson install --destdir failed"; exit 1; }

B=0190aaaa-0000-7000-8000-00000000b002
D=2026-11-01T10

test_expect_success 'the file parses and names every tool' '
	zsh -n "$COMP_ZSH" &&
	head -1 "$COMP_ZSH" >first &&
	for t in $WR_TOOLS; do test_grep " $t( |\$)" first || return 1; done
'

test_expect_success 'a ledger with a blocked run' '
	created $B "nightly import" $D:01:00.000Z 1 &&
	started $B 1 $D:01:01.000Z &&
	finished $B 1 $D:01:02.000Z error 1000 1 &&
	ev $D:01:03.000Z run.blocked "{run: \"$B\", reason: \"max attempts\"}"
'

# comp LINE WORD: what zsh lists for LINE<TAB>, via a pseudo-terminal. zle
# drops a listing when more input already waits, so nothing more is sent
# until WORD, which the listing must hold, is on the terminal (or 30 s
# passed: then the test's grep fails on what was listed).
comp() {
	mkdir -p fpath && cp "$COMP_ZSH" fpath/ &&
	cat >drive.zsh <<-\EOF_
	zmodload zsh/zpty
	typeset -F SECONDS
	# wait_for PATTERN: read the terminal until what it printed matches
	# PATTERN, for 30 s at most. Keep lines short: zle breaks a long one
	# with escapes where it wraps.
	wait_for() {
		local out= line end=$(( SECONDS + 30 ))
		while (( SECONDS < end )); do
			zpty -r -t z line 2>/dev/null || { sleep 0.1; continue; }
			out+=$line
			[[ $out == $~1 ]] && break
		done
		REPLY=$out
	}
	zpty z 'zsh -f -i'
	zpty -w z 'PS1=; fpath=($PWD/fpath $fpath); autoload -U compinit; compinit -u -D'
	zpty -w z 'unsetopt zle_bracketed_paste 2>/dev/null; bindkey "^I" list-choices'
	zpty -w z 'echo READY-TO-TYPE'
	# Twice: echoed as typed, then printed by echo.
	wait_for '*READY-TO-TYPE*READY-TO-TYPE*'
	zpty -n -w z "$1"$'\t'
	wait_for "*$2*"
	local listed=$REPLY
	zpty -w z $'\C-u''echo END-OF-LIST'
	wait_for '*END-OF-LIST*END-OF-LIST*'
	print -r -- $listed$REPLY
	zpty -d z
	EOF_
	timeout 120 zsh -f drive.zsh "$1" "$2" | tr -d '\r' >got
}

test_expect_success 'wr-recover: the verbs' '
	comp "wr-recover " breaker &&
	for v in retry unblock cancel breaker; do test_grep "$v" got || return 1; done
'

test_expect_success 'wr-run --stuck-action: abort and notify' '
	comp "wr-run --stuck-action " notify &&
	test_grep "abort" got && test_grep "notify" got
'

test_expect_success 'wr-run: the agent options' '
	comp "wr-run --max-t" max-turns && test_grep "max-turns" got &&
	comp "wr-run --no-progress-" no-progress-turns && test_grep "no-progress-turns" got
'

test_expect_success 'wr-recover unblock: the blocked run' '
	comp "wr-recover unblock " "${B: -8}" &&
	test_grep "${B: -8}" got
'

test_expect_success 'run ids at every RUN position' '
	comp "wr-recover cancel " "${B: -8}" && test_grep "${B: -8}" got &&
	comp "wr-recover retry " "${B: -8}" && test_grep "${B: -8}" got &&
	comp "wr-watch show " "${B: -8}" && test_grep "${B: -8}" got &&
	comp "wr-watch check --run " "${B: -8}" && test_grep "${B: -8}" got &&
	comp "wr-outbox add --run " "${B: -8}" && test_grep "${B: -8}" got
'

test_expect_success 'outbox ids at every ID position' '
	id=$(wr-outbox add --kind custom --message "to ack") &&
	comp "wr-outbox ack " "${id: -8}" && test_grep "${id: -8}" got &&
	test_expect_code 1 wr-outbox deliver --max-attempts 1 -- false >out &&
	comp "wr-outbox retry " "${id: -8}" && test_grep "${id: -8}" got
'

test_done
