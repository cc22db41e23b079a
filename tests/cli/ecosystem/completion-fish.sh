#!/bin/bash
# The fish completion as installed (meson install --destdir), through fish's own 'complete -C' (skipped when fish
# is not installed: it is optional).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

if ! command -v fish >/dev/null; then
	test_skip "fish completion" "fish is not installed"
	test_done
	exit
fi

installed_completions || { echo "Bail out! meson install --destdir failed"; exit 1; }

# comp LINE: the candidates (without descriptions), sorted, in "got".
comp() {
	fish --no-config -c 'source $argv[1]; complete -C$argv[2]' "$COMP_FISH" "$1" >raw &&
	cut -f1 raw | sort -u >got
}

want() {
	printf '%s\n' "$@" | sed '/^$/d' | sort -u >expect
	test_cmp expect got
}

F=0190aaaa-0000-7000-8000-00000000f001
B=0190aaaa-0000-7000-8000-00000000b002
D=2026-11-01T10
HOSTILE='$(touch pwned)'

test_expect_success 'the file parses' '
	fish --no-config -n "$COMP_FISH"
'

test_expect_success 'a ledger: a failed run (alpha), a blocked one (nightly import)' '
	created $F alpha $D:00:00.000Z &&
	started $F 1 $D:00:01.000Z &&
	finished $F 1 $D:00:02.000Z error 1000 1 &&
	created $B "nightly import" $D:01:00.000Z 1 &&
	started $B 1 $D:01:01.000Z &&
	finished $B 1 $D:01:02.000Z error 1000 1 &&
	ev $D:01:03.000Z run.blocked "{run: \"$B\", reason: \"max attempts\"}" &&
	one_run 0190aaaa-0000-7000-8000-00000000c003 "$HOSTILE" $D:02:00.000Z success 1
'

test_expect_success 'wr-watch: commands; --status values after a comma' '
	comp "wr-watch " && want check expect follow logs plot report show stats status &&
	comp "wr-watch --status running,f" && want running,failed
'

test_expect_success 'wr-watch expect: its options; wr-run --expect-every' '
	comp "wr-watch expect --cl" && test_grep "^--clear" got &&
	comp "wr-run --expect-" && test_grep "^--expect-every" got
'

test_expect_success 'wr-run --stuck-action; --run: failed and blocked runs' '
	comp "wr-run --stuck-action " && want abort notify &&
	comp "wr-run --run " && want ${F: -8} ${B: -8}
'

test_expect_success 'wr-run: the agent options' '
	comp "wr-run --max-t" && test_grep "^--max-turns" got &&
	comp "wr-run --stuck-repeat-" && test_grep "^--stuck-repeat-tool" got &&
	comp "wr-run --no-progress-" && test_grep "^--no-progress-turns" got
'

test_expect_success 'wr-recover: verbs, unblock RUN, breaker WORKFLOW reset' '
	comp "wr-recover " && want breaker cancel retry unblock &&
	comp "wr-recover unblock " && want ${B: -8} &&
	comp "wr-recover breaker " && want alpha "nightly import" "$HOSTILE" &&
	test_must_fail test -e pwned &&
	comp "wr-recover breaker alpha " && want reset
'

test_expect_success 'wr-outbox: commands and --kind values' '
	comp "wr-outbox " && want ack add deliver follow import list retry &&
	comp "wr-outbox add --kind " &&
	want breaker_open cancelled custom escalated failed lost recovered stuck timeout
'

test_expect_success 'wr-ledger: commands' '
	comp "wr-ledger " && want compact export import init repair stats verify
'

test_expect_success 'ids at every RUN and ID position' '
	comp "wr-recover cancel " && test_grep "^${B: -8}$" got && test_grep "^${F: -8}$" got &&
	comp "wr-recover retry " && test_grep "^${B: -8}$" got &&
	comp "wr-watch show " && test_grep "^${F: -8}$" got &&
	comp "wr-watch check --run " && test_grep "^${F: -8}$" got &&
	id=$(wr-outbox add --kind custom --message "to ack") &&
	comp "wr-outbox ack " && test_grep "^${id: -8}$" got &&
	comp "wr-outbox add --run " && test_grep "^${F: -8}$" got
'

test_done
