#!/bin/bash
# Every --json output validates against its JSON Schema (draft 2020-12) in
# share/schema/: each tool's real output, from a ledger with runs that
# succeeded, failed, were retried, blocked, lost and compacted, and an
# outbox with entries in every state. The schemas close their objects
# (additionalProperties false) where the output is fixed, so a field added
# without its schema fails here.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

if ! python3 -c "import jsonschema" 2>/dev/null; then
	test_skip "JSON Schemas" "python3-jsonschema is not installed"
	test_done
	exit
fi

SCHEMA=$WR_SRC/share/schema
mkdir -p out

# valid NAME FILE: every line of FILE is valid against NAME.schema.json.
valid() {
	python3 "$HERE/schema-validate.py" "$SCHEMA/$1.schema.json" "$2"
}


test_expect_success 'every schema is a valid draft 2020-12 schema' '
	ls "$SCHEMA"/*.schema.json >schemas &&
	test $(wc -l <schemas) -ge 10 &&
	python3 "$HERE/schema-validate.py" --check-schemas $(cat schemas)
'

test_expect_success 'a ledger: successes, a failure retried, a blocked run, a lost attempt, labels' '
	wr-run --workflow backup --label env=prod -- true &&
	wr-run --workflow backup -- sh -c "echo some output; exit 0" &&
	test_expect_code 1 wr-run --workflow import --max-attempts 2 --backoff 1ms -- false &&
	test_expect_code 1 wr-run --workflow report --max-attempts 1 -- false &&
	created 0190aaaa-0000-7000-8000-00000000a001 lostwf 2026-11-01T10:00:00.000Z &&
	started 0190aaaa-0000-7000-8000-00000000a001 1 2026-11-01T10:00:01.000Z "$(hostname)" 999999 1 2026-11-01T10:01:00.000Z &&
	wr-watch expect backup --every 1h --grace 5m >expect-set.json &&
	wr-ledger verify
'

test_expect_success 'wr-watch check, expect, status, show, stats' '
	test_expect_code 1 wr-watch check --json >check.json &&
	wr-watch expect --json >expect.json &&
	wr-watch --all --json >status.json &&
	for r in $(jq -r .run status.json); do
		wr-watch show --json "$r" >>show.json || return 1
	done &&
	wr-watch stats --json >stats.json &&
	for f in check expect status show stats; do valid "watch-$f" $f.json || return 1; done
'

# A process in a session of its own, as wr-run starts a command: its pid
# (its group) once it is sleep itself.
spawn_group() {
	setsid sleep 1000 &
	grp=$! &&
	test_wait_until is_sleep $grp
}

is_sleep() {
	test "$(cat /proc/$1/comm 2>/dev/null)" = sleep
}

# dead_group PID: the group is gone (its leader at most a zombie).
dead_group() {
	! kill -0 -"$1" 2>/dev/null || test "$(sed "s/.*) //" /proc/$1/stat 2>/dev/null | cut -c1)" = Z
}

test_expect_success 'wr-watch check: a lost attempt whose group it kills, and an overdue workflow' '
	WR_LEDGER=$TRASH/check.jsonl && export WR_LEDGER &&
	spawn_group &&
	test_when_finished "kill -KILL $grp 2>/dev/null; :" &&
	start=$(sed "s/.*) //" /proc/$grp/stat | cut -d" " -f20) &&
	created 0190aaaa-0000-7000-8000-00000000c001 grouped 2026-11-01T11:00:00.000Z &&
	ev 2026-11-01T11:00:01.000Z attempt.started "{run: \"0190aaaa-0000-7000-8000-00000000c001\", attempt: 1,
		host: \"$(uname -n)\", boot_id: \"$(cat /proc/sys/kernel/random/boot_id)\",
		pid: $(cat /proc/sys/kernel/pid_max), pid_start: 1, lease_until: \"2026-11-01T11:01:00.000Z\",
		pgid: $grp, pgid_start: $start}" &&
	ev 2026-11-01T11:00:02.000Z workflow.expected "{workflow: \"nightly\", every_ms: 3600000, grace_ms: 60000}" &&
	test_expect_code 1 wr-watch check --json >check2.json &&
	jq -e -s "map(.kind) == [\"lost\", \"overdue\"]" check2.json &&
	jq -e -s ".[0].killed == $grp and .[1].overdue" check2.json &&
	test_wait_until dead_group $grp &&
	valid watch-check check2.json
'

test_expect_success 'wr-recover: a pass and the verbs' '
	{ wr-recover --json >pass.json || test $? = 1; } &&
	{ wr-recover --json --dry-run >dry.json || test $? = 1; } &&
	: "a dry run decides something: the line carries dry_run" &&
	test_expect_code 1 wr-run --workflow dryrun --max-attempts 2 --backoff 1ms -- false &&
	{ wr-recover --json --dry-run >>dry.json || test $? = 1; } &&
	test_grep "\"dry_run\":true" dry.json &&
	wr-watch --json --status blocked >now.json &&
	jq -r .run now.json >blocked &&
	blocked=$(head -n 1 blocked) &&
	test -n "$blocked" &&
	wr-recover --json unblock "$blocked" --note fixed >verbs.json &&
	wr-recover --json cancel "$blocked" --reason enough >>verbs.json &&
	wr-recover --json breaker backup reset >>verbs.json &&
	cat pass.json dry.json verbs.json >recover.json &&
	test -s recover.json &&
	valid recover recover.json
'

test_expect_success 'wr-outbox: add, list, deliver' '
	wr-outbox --json add --kind custom --message hello --field k=v >add.json &&
	valid outbox-add add.json &&
	wr-outbox list --all --json >list.json &&
	valid outbox-list list.json &&
	wr-outbox --json deliver --max-attempts 1 -- true >deliver.json &&
	wr-outbox --json add --kind custom --message doomed >/dev/null &&
	{ wr-outbox --json deliver --max-attempts 1 -- false >>deliver.json || test $? = 1; } &&
	valid outbox-deliver deliver.json &&
	wr-outbox list --all --json >list.json &&
	valid outbox-list list.json
'

test_expect_success 'wr-ledger verify and stats' '
	wr-ledger --json verify >verify.json &&
	cp "$(test_ledger)" bad.jsonl &&
	echo "{\"bad" >>bad.jsonl &&
	test_expect_code 1 wr-ledger --ledger bad.jsonl --json verify >>verify.json &&
	valid ledger-verify verify.json &&
	wr-ledger --json stats >lstats.json &&
	valid ledger-stats lstats.json
'

test_expect_success 'wr-watch follow --json' '
	{ wr-watch follow --json --from-start >follow.json 2>follow.err & } &&
	pid=$! &&
	test_wait_until test -s follow.json &&
	wr-run --workflow backup -- true &&
	test_wait_until grep -q attempt.finished follow.json &&
	test_kill_here $pid &&
	test_wait_pid $pid &&
	valid watch-follow follow.json
'

test_expect_success FILE_LEDGER 'after compaction too: status, show of an archived run, stats' '
	wr-ledger compact --keep 0 >/dev/null &&
	wr-watch --all --json >status.json && valid watch-status status.json &&
	wr-watch stats --json >stats.json && valid watch-stats stats.json &&
	head -n 1 show.json >first &&
	run=$(jq -r .run first) &&
	wr-watch show --json "$run" >show.json && valid watch-show show.json
'

test_done
