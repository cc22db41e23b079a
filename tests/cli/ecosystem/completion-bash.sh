#!/bin/bash
# The bash completion as installed (meson install --destdir), driven as bash does: source it, set COMP_WORDS and
# COMP_CWORD, call the function, read COMPREPLY. Run ids, workflows and
# outbox ids come from a hand-built ledger; a hostile workflow name must
# come back quoted and never run.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

installed_completions || { echo "Bail out! meson install --destdir failed"; exit 1; }
. "$COMP_BASH"

# comp WORD...: complete the last word of the line; one candidate per line
# in the file "got", sorted.
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	local f=_${1##*/}
	"${f//-/_}" || return 1
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u >got
}

# want WORD...: the expected candidates.
want() {
	printf '%s\n' "$@" | sed '/^$/d' | sort -u >expect
	test_cmp expect got
}

F=0190aaaa-0000-7000-8000-00000000f001   # failed (alpha)
B=0190aaaa-0000-7000-8000-00000000b002   # blocked (nightly import)
S=0190aaaa-0000-7000-8000-00000000c003   # succeeded (the hostile name)
D=2026-11-01T10
HOSTILE='$(touch pwned)`touch pwned2`'

test_expect_success 'a ledger: a failed, a blocked and a succeeded run' '
	created $F alpha $D:00:00.000Z &&
	started $F 1 $D:00:01.000Z &&
	finished $F 1 $D:00:02.000Z error 1000 1 &&
	created $B "nightly import" $D:01:00.000Z 1 &&
	started $B 1 $D:01:01.000Z &&
	finished $B 1 $D:01:02.000Z error 1000 1 &&
	ev $D:01:03.000Z recovery.decided "{run: \"$B\", attempt: 1, action: \"escalate\", recoveries: 1}" &&
	ev $D:01:03.000Z run.blocked "{run: \"$B\", reason: \"max attempts\"}" &&
	one_run $S "$HOSTILE" $D:02:00.000Z success 1000 &&
	wr-watch --all >table &&
	test_grep "failed" table && test_grep "blocked" table && test_grep "succeeded" table
'

test_expect_success 'and the outbox: a dead entry, a pending one, an acked one' '
	wr-outbox add --kind custom --message doomed >doomed-id &&
	test_expect_code 1 wr-outbox deliver --max-attempts 1 -- false >/dev/null 2>&1 &&
	wr-outbox add --kind custom --message pending >pending-id &&
	wr-outbox add --kind custom --message done >acked-id &&
	wr-outbox ack "$(cat acked-id)" &&
	wr-outbox list --dead --json >dead.json &&
	test $(wc -l <dead.json) -eq 1
'

test_expect_success 'wr-watch: the commands' '
	comp wr-watch "" && want status show logs follow check expect stats plot report
'

test_expect_success 'wr-watch: commands by prefix' '
	comp wr-watch s && want status show stats
'

test_expect_success 'wr-watch: options of check' '
	comp wr-watch check --d && want --dry-run
'

test_expect_success 'wr-watch expect: its options; wr-run --expect-every' '
	comp wr-watch expect --e && want --every &&
	comp wr-watch expect --cl && want --clear &&
	comp wr-run --expect && want --expect-every
'

test_expect_success 'wr-watch plot: its options' '
	comp wr-watch plot --s && want --since &&
	comp wr-watch plot --l && want --label --ledger
'

test_expect_success 'wr-watch --status: the statuses, after the last comma too' '
	comp wr-watch --status "" &&
	want running succeeded failed retry_wait blocked cancelled rejected &&
	comp wr-watch --status running,f && want running,failed &&
	comp wr-watch -s b && want blocked
'

test_expect_success 'wr-watch --color: the values' '
	comp wr-watch --color "" && want auto always never
'

test_expect_success 'wr-watch show: the short ids of every run' '
	comp wr-watch show "" && want ${F: -8} ${B: -8} ${S: -8}
'

test_expect_success 'wr-watch show: a full id once the word has a dash' '
	comp wr-watch show 0190aaaa-0000-7000-8000-00000000b && want $B
'

test_expect_success 'wr-watch logs: the runs, its options and the streams' '
	comp wr-watch logs "" && want ${F: -8} ${B: -8} ${S: -8} &&
	comp wr-watch logs ${F: -8} --a && want --attempt &&
	comp wr-watch logs --stream "" && want stdout stderr &&
	comp wr-watch logs --f && want --follow
'

test_expect_success 'wr-watch show: nothing after the run' '
	comp wr-watch show ${B: -8} "" && want
'

test_expect_success 'wr-run --stuck-action: abort or notify' '
	comp wr-run --stuck-action "" && want abort notify &&
	comp wr-run --timeout 1h --stuck-action n && want notify
'

test_expect_success 'wr-run --run: runs that can go on (failed, blocked)' '
	comp wr-run --run "" && want ${F: -8} ${B: -8}
'

test_expect_success 'wr-run: options' '
	comp wr-run --no- && want --no-output --no-progress --no-progress-turns --no-retry-on --no-wait &&
	comp wr-run --max- && want --max-attempts --max-turns &&
	comp wr-run --stuck-r && want --stuck-repeat --stuck-repeat-tool &&
	comp wr-run --max-turns "" && test_must_be_empty got
'

test_expect_success 'wr-run: after --, the command is completed, not options' '
	comp wr-run --timeout 1h -- wr-ledg && test_grep "^wr-ledger$" got &&
	comp wr-run -- true --sti && test_must_fail test_grep "stuck" got
'

test_expect_success 'wr-recover: the verbs' '
	comp wr-recover "" && want retry unblock cancel breaker
'

test_expect_success 'wr-recover unblock: only the blocked run' '
	comp wr-recover unblock "" && want ${B: -8}
'

test_expect_success 'wr-recover retry: failed and blocked runs' '
	comp wr-recover retry --force "" && want ${F: -8} ${B: -8}
'

test_expect_success 'wr-recover breaker: the workflows, quoted; the hostile one is not run' '
	comp wr-recover breaker "" &&
	printf "%q\n" alpha "nightly import" "$HOSTILE" | sort >expect &&
	test_cmp expect got &&
	test_must_fail test -e pwned && test_must_fail test -e pwned2
'

test_expect_success 'wr-recover breaker: a name with a space, typed escaped' '
	comp wr-recover breaker "nightly\\ i" && want "nightly\\ import"
'

test_expect_success 'wr-recover breaker WORKFLOW: reset' '
	comp wr-recover breaker alpha "" && want reset
'

test_expect_success 'wr-run --workflow and wr-watch -w: the workflows' '
	comp wr-run --workflow al && want alpha &&
	comp wr-watch -w n && want "nightly\\ import"
'

test_expect_success 'wr-outbox: the commands, then --kind and --format values' '
	comp wr-outbox "" && want list add deliver ack retry follow import &&
	comp wr-outbox add --kind "" &&
	want stuck timeout lost failed escalated breaker_open recovered cancelled custom &&
	comp wr-outbox list --format "" && want human json workrail
'

test_expect_success 'wr-outbox retry: only dead entries; ack: pending and dead' '
	jq -r ".id[-8:]" dead.json >dead-short &&
	comp wr-outbox retry "" && sort dead-short >expect && test_cmp expect got &&
	comp wr-outbox ack "" &&
	{ cat dead-short; cut -c29- pending-id; } | sort -u >expect && test_cmp expect got
'

test_expect_success 'wr-outbox deliver: options, then the notifier command after --' '
	comp wr-outbox deliver --max && want --max-attempts &&
	comp wr-outbox deliver --limit 3 -- wr-ledg && test_grep "^wr-ledger$" got
'

test_expect_success 'wr-ledger: the commands; --keep only for compact' '
	comp wr-ledger "" && want verify repair compact stats init export import &&
	comp wr-ledger compact --k && want --keep &&
	comp wr-ledger verify --k && want
'

test_expect_success '--ledger on the line is the ledger the ids come from' '
	other=$TRASH/other.jsonl &&
	O=0190aaaa-0000-7000-8000-0000000000e1 &&
	WR_LEDGER=$other one_run $O elsewhere $D:03:00.000Z success 5 &&
	comp wr-watch --ledger "$other" show "" && want ${O: -8} &&
	comp wr-recover --ledger "$other" breaker "" && want elsewhere
'

test_expect_success 'the tools beside a command typed with a path, not from PATH' '
	(
		PATH=/usr/bin:/bin &&
		hash -r &&
		comp "$WR_BUILD/cmd/wr-watch" show "" && want ${F: -8} ${B: -8} ${S: -8}
	)
'

test_expect_success 'without jq the ids come out the same (sed)' '
	mkdir -p nojq &&
	for t in wr-watch wr-outbox; do ln -sf "$WR_BUILD/cmd/$t" nojq/$t || return 1; done &&
	for t in sed sort diff; do ln -sf "$(command -v $t)" nojq/$t || return 1; done &&
	(
		PATH=$TRASH/nojq &&
		hash -r &&
		test_must_fail type -P jq &&
		comp wr-watch show "" && want ${F: -8} ${B: -8} ${S: -8} &&
		comp wr-recover breaker "" &&
		printf "%q\n" alpha "nightly import" "$HOSTILE" | sort >expect &&
		test_cmp expect got
	) &&
	test_must_fail test -e pwned
'

test_expect_success 'no ledger at all: no candidates and no error' '
	comp wr-watch --ledger "$TRASH/none.jsonl" show "" 2>err && want &&
	test_must_fail test -s err
'

test_expect_success 'wr-recover cancel, wr-watch check --run, wr-outbox add --run: run ids' '
	comp wr-recover cancel "" && test_grep "^${B: -8}$" got && test_grep "^${F: -8}$" got &&
	comp wr-watch check --run "" && test_grep "^${F: -8}$" got &&
	comp wr-outbox add --run "" && test_grep "^${F: -8}$" got
'

test_done
