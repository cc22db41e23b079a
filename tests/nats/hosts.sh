#!/bin/bash
# hosts.sh - three hosts on one ledger in an R3 JetStream stream: on each,
# 20 runs (successes, failures, timeouts, attempts whose supervisor was
# killed, attempts whose supervisor stalled until its lease lapsed) while
# wr-recover and wr-outbox deliver pass on all three at once, and a
# nats-server node is killed and restarted in the middle. Then, from the
# export: no double decision, no attempt over its max, each entry claimed
# once per lease and delivered once, nothing a tool acknowledged missing,
# and every lost attempt's process group killed by a pass on the host
# that ran it (the others only record it lost).
#
# A host is a UTS namespace (unshare --uts, its own host name) when this
# runs as root, else the test-only identity WR_HOSTNAME; the boot id is
# the machine's, the same on all three. Each host has its own
# XDG_STATE_HOME (output logs, launch locks) and XDG_CACHE_HOME, as
# separate machines would. The job, sigwho, writes who signalled it (the
# $WR_TEST_HOST of the sender, from /proc/PID/environ) before it exits.
. "$(dirname "$0")/../cli/lib.sh"
. "$WR_SRC/tests/nats/lib-nats.sh"

SIGWHO=${WR_SIGWHO:-$WR_BUILD/tests/nats/sigwho}
HOSTS="hA hB hC"
RUNS=${WR_TEST_HOSTS_RUNS:-20}
if [ "$(id -u)" = 0 ] && unshare --uts true 2>/dev/null; then
	hosts_mode=uts
else
	hosts_mode=env
fi
echo "# hosts: $hosts_mode (uts: a UTS namespace each; env: WR_HOSTNAME)"

nats_setup
mkdir -p k
for h in $HOSTS; do
	mkdir -p "$h/home" "$h/state" "$h/cache"
done

# host_exec H CMD...: executes CMD as host H (in a subshell: it execs).
host_exec() {
	local h=$1
	shift
	export WR_TEST_HOST=$h HOME="$TRASH/$h/home" XDG_STATE_HOME="$TRASH/$h/state" XDG_CACHE_HOME="$TRASH/$h/cache"
	if [ $hosts_mode = uts ]; then
		exec unshare --uts sh -c 'hostname "$0" && exec "$@"' "$h" "$@"
	fi
	export WR_HOSTNAME=$h
	exec "$@"
}

cat >notify <<'EOF'
#!/bin/sh
cat >/dev/null && echo "$WR_OUTBOX_ID $WR_TEST_HOST" >>"$TRASH/delivered.log"
EOF
chmod +x notify
export TRASH

# tool_rc H WHAT RC ERR: a status a pass may end with (0, 1 something
# needs attention, 75 the servers out of reach for now); any other is
# noted with the end of what the tool said on stderr (ERR).
tool_rc() {
	case $3 in
	0 | 1 | 75) ;;
	*) { echo "$2 exited $3:" && tail -n 3 "$4"; } >>"$1/bad" ;;
	esac
}

# passes H: wr-recover and wr-outbox deliver on host H until ./stop.
passes() {
	local h=$1 rc
	while [ ! -f stop ]; do
		(host_exec "$h" wr-recover --json) >>"$h/recover.jsonl" 2>>"$h/recover.err"
		tool_rc "$h" wr-recover $? "$h/recover.err"
		(host_exec "$h" wr-outbox --json deliver --timeout 5s --kill-after 1s --lease 10s -- "$TRASH/notify") \
			>>"$h/deliver.jsonl" 2>>"$h/deliver.err"
		tool_rc "$h" "wr-outbox deliver" $? "$h/deliver.err"
		sleep 0.1
	done
}

# The run id wr-run --print-id said in FILE.
run_id() {
	[ -f "$1" ] && sed -n 's/^wr-run: running as run \([^,]*\), attempt .*/\1/p' "$1" | head -n 1
}
said_id() {
	[ -n "$(run_id "$1")" ]
}

# stopped PID: PID is stopped (SIGSTOP), or no process of ours.
stopped() {
	[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" = T ]
}

# lost_run H I KIND: a run whose supervisor is killed (KIND killed) or
# stopped until another host found its lease lapsed and this host's pass
# killed its job (KIND stalled); either way the attempt is lost.
lost_run() {
	local h=$1 i=$2 kind=$3 pid id err="$1/run.$2.err"
	# sigwho in the background of a shell: when wr-run dies, the shell
	# gets its SIGTERM (PR_SET_PDEATHSIG), sigwho lives on in the group.
	(host_exec "$h" wr-run --print-id --workflow "$kind-$h-$i" --lease 2s --heartbeat 500ms --max-attempts 3 \
		--backoff 10ms -- sh -c '"$0" "$@" & wait' "$SIGWHO" "$TRASH/k" 2) >/dev/null 2>"$err" &
	pid=$!
	nats_wait 120 said_id "$err" || return 1
	id=$(run_id "$err")
	echo "$id" >>"$h/ids"
	nats_wait 120 test -f "k/$id.1.started" || return 1
	if [ "$kind" = killed ]; then
		kill -KILL $pid
		wait $pid 2>/dev/null
		return 0
	fi
	kill -STOP $pid && nats_wait 30 stopped $pid &&
		nats_wait 120 test -f "k/$id.1.killed"
	local ok=$?
	kill -CONT $pid
	wait $pid 2>/dev/null
	return $ok
}

# workload H: RUNS runs on host H, and an outbox entry every 5th run.
workload() {
	local h=$1 i rc err
	for i in $(seq 1 $RUNS); do
		err="$h/run.$i.err"
		case $((i % 5)) in
		0)
			(host_exec "$h" wr-run --print-id --workflow ok-$h-$i -- true) 2>"$err"
			rc=$?
			;;
		1)
			(host_exec "$h" wr-run --print-id --workflow fail-$h-$i --max-attempts 2 --backoff 10ms -- false) 2>"$err"
			rc=$?
			[ $rc = 1 ] && rc=0
			;;
		2)
			(host_exec "$h" wr-run --print-id --workflow timeout-$h-$i --timeout 200ms --kill-after 5s --max-attempts 3 \
				--backoff 10ms -- "$SIGWHO" "$TRASH/k" 2) 2>"$err"
			rc=$?
			[ $rc = 124 ] && rc=0
			;;
		3)
			lost_run "$h" $i killed
			rc=$?
			;;
		4)
			lost_run "$h" $i stalled
			rc=$?
			;;
		esac
		[ $rc = 0 ] || echo "run $i ($((i % 5))) exited $rc" >>"$h/bad"
		case $((i % 5)) in 0 | 1 | 2) run_id "$err" >>"$h/ids" ;; esac
		echo $i >>"$h/progress"
		if [ $((i % 5)) = 0 ]; then
			(host_exec "$h" wr-outbox add --kind custom --message "from $h, $i") >>"$h/added" 2>>"$h/add.err" ||
				echo "wr-outbox add $i failed" >>"$h/bad"
		fi
	done
}

# done_runs N: the three hosts have done N runs or more in all.
done_runs() {
	[ $(cat hA/progress hB/progress hC/progress 2>/dev/null | wc -l) -ge $1 ]
}

# waited A: attempt A's job waited for a signal (sigwho wrote
# k/A.started); a retry's job exits at once, and when its own wr-run
# could not renew its lease in time (the stream failing over) the
# attempt is recorded lost with nothing left of it to kill.
waited() {
	test -f "k/$1.started"
}

# settled: every run ended (succeeded or blocked), every outbox entry
# delivered, as the stream says, and every attempt recorded lost whose
# job waited for a signal signalled (another host may record it lost and
# end its run before a pass on its own host kills what is left of it:
# the passes go on until then; who killed it is checked below). What is
# not settled yet goes to ./unsettled.
settled() {
	wr-watch status --all --json >status.json 2>unsettled &&
		jq -s -e 'length > 0 and all(.status == "succeeded" or .status == "blocked")' status.json >/dev/null &&
		wr-outbox --json list --all >outbox.json 2>unsettled &&
		jq -s -e 'all(.state == "delivered")' outbox.json >/dev/null &&
		wr-ledger export 2>unsettled >settled.jsonl &&
		jq -r 'select(.type == "attempt.finished" and .outcome == "lost") | "\(.run).\(.attempt)"' settled.jsonl >settled.lost &&
		while read -r a; do
			! waited $a || test -f "k/$a.killed" || {
				echo "lost attempt $a not killed yet" >unsettled
				return 1
			}
		done <settled.lost
}

test_expect_success "$RUNS runs on each of 3 hosts, passes on all three, a server killed and restarted meanwhile" '
	for h in $HOSTS; do
		{ passes $h & } &&
		echo $! >>passes.pids &&
		{ workload $h & } &&
		echo $! >>work.pids || return 1
	done &&
	test_when_finished "touch stop" &&
	nats_wait 240 done_runs $((RUNS * 3 / 3)) &&
	nats_node_stop 2 &&
	nats_wait 240 done_runs $((RUNS * 3 * 2 / 3)) &&
	nats_node_start 2 &&
	test_wait_until nats_node_ready 2 &&
	for p in $(cat work.pids); do
		test_wait_pid $p 600 || return 1
	done &&
	if ! nats_wait 120 settled; then
		cat unsettled
		jq -s -c "map(select(.status != \"succeeded\" and .status != \"blocked\")) | .[]" status.json
		jq -s -c "map(select(.state != \"delivered\")) | .[]" outbox.json
		return 1
	fi &&
	touch stop &&
	for p in $(cat passes.pids); do
		test_wait_pid $p 120 || return 1
	done &&
	for h in $HOSTS; do
		test_must_be_empty $h/bad || return 1
	done
'

test_expect_success 'the stream and its export verify clean' '
	wr-ledger export >e.jsonl &&
	wr-ledger verify &&
	wr-ledger verify --ledger e.jsonl &&
	test $(cat hA/ids hB/ids hC/ids | sort -u | wc -l) -eq $((RUNS * 3))
'

test_expect_success 'one recovery decision per attempt; no attempt over its max' '
	jq -s -e "[.[] | select(.type == \"recovery.decided\")] | group_by([.run, .attempt]) |
		map(select(length > 1)) | if length == 0 then true else (\"twice: \(.)\" | halt_error) end" e.jsonl &&
	jq -s -e "(map(select(.type == \"run.created\") | {key: .run, value: .policy.max_attempts}) | from_entries) as \$max |
		[.[] | select(.type == \"attempt.started\" and .attempt > \$max[.run])] |
		if length == 0 then true else (\"over max: \(.)\" | halt_error) end" e.jsonl
'

test_expect_success 'each outbox entry claimed once per lease and delivered once' '
	jq -s -e "

		[.[] | select(.type | startswith(\"outbox.\"))] as \$ob |
		[\$ob[] | select(.type == \"outbox.claimed\")] | group_by(.id) | map(
			[range(1; length) as \$i | .[\$i - 1] as \$a | .[\$i] as \$b |
			 select(([\$ob[] | select(.delivery == \$a.delivery and .seq < \$b.seq and
				(.type == \"outbox.failed\" or .type == \"outbox.delivered\" or .type == \"outbox.dead\"))] | length) == 0
				and (\$b.ts < \$a.lease_until)) | {first: \$a, second: \$b}]) | add // [] |
		if length == 0 then true else (\"claimed within a live lease: \(.)\" | halt_error) end" e.jsonl &&
	jq -s -e "[.[] | select(.type == \"outbox.delivered\")] | group_by(.id) | map(select(length > 1)) |
		if length == 0 then true else (\"delivered twice: \(.)\" | halt_error) end" e.jsonl &&
	jq -r "select(.type == \"outbox.enqueued\") | .id" e.jsonl | sort >enqueued &&
	jq -r "select(.type == \"outbox.delivered\") | .id" e.jsonl | sort >delivered &&
	test_cmp enqueued delivered &&
	cut -d" " -f1 delivered.log | sort -u >notified &&
	test_cmp enqueued notified
'

# acked FILE JQ: every line of FILE (the JSON a tool printed) that JQ
# selects names an event of the export (JQ yields the export filter).
test_expect_success 'every run, entry and decision a tool acknowledged is in the stream' '
	jq -r "select(.type == \"run.created\") | .run" e.jsonl | sort >created &&
	cat hA/ids hB/ids hC/ids | sort -u >ids &&
	comm -23 ids created >missing &&
	test_must_be_empty missing &&
	cat hA/added hB/added hC/added | sort >added &&
	comm -23 added enqueued >missing &&
	test_must_be_empty missing &&
	cat hA/recover.jsonl hB/recover.jsonl hC/recover.jsonl >recover.jsonl &&
	jq -c "select(.action == \"retry\" or (.action == \"escalate\" and .reason != \"launch_lost\")) |
		{run, attempt, action}" recover.jsonl | sort -u >said &&
	jq -c "select(.type == \"recovery.decided\") | {run, attempt, action}" e.jsonl | sort -u >decided &&
	comm -23 said decided >missing &&
	test_must_be_empty missing &&
	jq -c "select(.action == \"lost\") | {run, attempt}" recover.jsonl | sort -u >said &&
	jq -c "select(.type == \"attempt.finished\" and .outcome == \"lost\") | {run, attempt}" e.jsonl | sort -u >lost &&
	comm -23 said lost >missing &&
	test_must_be_empty missing &&
	jq -c "select(.launched) | .run" recover.jsonl | sort -u >said &&
	jq -c "select(.type == \"run.launched\") | .run" e.jsonl | sort -u >launched &&
	comm -23 said launched >missing &&
	test_must_be_empty missing &&
	cat hA/deliver.jsonl hB/deliver.jsonl hC/deliver.jsonl |
		jq -c "select(.result == \"delivered\") | {id, delivery}" | sort -u >said &&
	jq -c "select(.type == \"outbox.delivered\") | {id, delivery}" e.jsonl | sort -u >recorded &&
	comm -23 said recorded >missing &&
	test_must_be_empty missing
'

# A lost attempt whose job waited for a signal was killed by a pass on
# its own host (by wr-recover, when its supervisor was killed or
# stopped; a timeout's own wr-run may have been first); one whose job
# exited at once had nothing left to kill, and its own wr-run recorded
# the end it saw, after the loss (stale).
test_expect_success 'each lost attempt killed by a pass on its own host; others only recorded it lost' '
	jq -r "select(.type == \"attempt.started\") | \"\(.run).\(.attempt) \(.host) \(.workflow)\"" e.jsonl | sort >hosts &&
	jq -r "select(.type == \"attempt.finished\" and .outcome == \"lost\") | \"\(.run).\(.attempt)\"" e.jsonl |
		sort >lost &&
	jq -r "select(.type == \"attempt.finished\" and .stale and (.by | startswith(\"wr-run/\"))) | \"\(.run).\(.attempt)\"" e.jsonl |
		sort >stale &&
	test $(wc -l <lost) -ge $((RUNS * 3 * 2 / 5)) &&
	while read -r a; do
		own_wf=$(sed -n "s/^$a //p" hosts) &&
		own=${own_wf%% *} wf=${own_wf#* } || return 1
		if ! waited $a; then
			grep -qx "$a" stale || {
				echo "lost attempt $a (on $own) exited by itself, its wr-run did not record it"
				return 1
			}
			continue
		fi
		f=k/$a.killed &&
		test -f $f &&
		read -r run att host killer comm sig <$f &&
		test "$host" = "$own" &&
		test "$killer" = "$own" &&
		case $wf in timeout-*) test "$comm" = wr-recover || test "$comm" = wr-run ;; *) test "$comm" = wr-recover ;; esac || {
			echo "lost attempt $a ($wf on $own): $(cat $f 2>/dev/null || echo never killed)"
			return 1
		}
	done <lost &&
	for f in k/*.killed; do
		read -r run att own killer comm sig <$f &&
		test "$killer" = "$own" || {
			echo "$f: $(cat $f)"
			return 1
		}
	done &&
	jq -r "select(.type == \"attempt.finished\" and .outcome == \"lost\" and .attempt == 1 and
		(.workflow | startswith(\"stalled-\"))) | .run" e.jsonl >stalled &&
	test $(wc -l <stalled) -eq $((RUNS * 3 / 5))
'

nats_done
