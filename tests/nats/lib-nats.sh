# lib-nats.sh - a 3-node nats-server cluster on loopback for the tests of
# the JetStream ledger, sourced after tests/cli/lib.sh.
#
#   nats_cluster_start     starts it (ports of its own, JetStream with its
#                          store in $TRASH/nats), stopped when the script
#                          exits; NATS_URL names it, NATS_LEDGER its ledger;
#                          called at the top of a script, not in a test
#                          (whose subshell would forget the servers)
#   nats_ledger_init       creates the R3 stream of $NATS_LEDGER
#   nats_setup             both, and WR_LEDGER=$NATS_LEDGER
#   nats_node_stop N       kills node N (1-3); nats_node_start N again
#
# Every wait is bounded; nothing of another test is touched.

C=${WR_COMMITTER:-$WR_BUILD/tests/reliability/committer}

command -v nats-server >/dev/null 2>&1 || {
	echo "Bail out! nats-server is not installed (scripts/test.sh installs it)"
	exit 1
}

# A port nothing listens on, from a base of this script's own: printed,
# and in $nats_port (a caller that keeps several runs it without $(...),
# which would forget the ports handed out).
# Below the kernel's ephemeral ports (32768 up), so that no client socket
# holds it; a port any socket holds (/proc/net/tcp) is passed over, and so
# is one another script claimed: scripts run in parallel, and between the
# look at /proc/net/tcp and a server's bind another one could take the
# same port. A claim is a line "PORT PID" in the registry
# ${TMPDIR:-/tmp}/wr-nats-ports, written under its flock; a claim whose
# script is gone is dropped. A script keeps its ports until it ends, so
# that a node stopped and started again finds its port free.
nats_port_next=$((10000 + ($$ * 7) % 22000))
nats_ports=${TMPDIR:-/tmp}/wr-nats-ports
nats_free_port() {
	local tries=0 hex lk port pid found=
	exec {lk}>>"$nats_ports.lock" && flock -w 60 $lk || {
		echo "nats_free_port: unable to lock $nats_ports.lock" >&2
		return 1
	}
	touch "$nats_ports"
	while read -r port pid; do
		! kill -0 "$pid" 2>/dev/null || echo "$port $pid"
	done <"$nats_ports" >"$nats_ports.$$" && mv "$nats_ports.$$" "$nats_ports"
	while [ -z "$found" ] && [ $tries -lt 200 ]; do
		nats_port_next=$((nats_port_next + 1))
		[ $nats_port_next -lt 32000 ] || nats_port_next=10000
		tries=$((tries + 1))
		hex=$(printf ":%04X " $nats_port_next)
		if ! grep -q "^$nats_port_next " "$nats_ports" &&
			! grep -q "^ *[0-9]*: [0-9A-F]*$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null &&
			! (exec 3<>"/dev/tcp/127.0.0.1/$nats_port_next") 2>/dev/null; then
			echo "$nats_port_next $$" >>"$nats_ports"
			found=$nats_port_next
		fi
	done
	exec {lk}>&-
	if [ -z "$found" ]; then
		echo "nats_free_port: no free port found" >&2
		return 1
	fi
	nats_port=$found
	echo $nats_port
}

nats_client=(0 0 0 0)
nats_route=(0 0 0 0)
nats_http=(0 0 0 0)

nats_conf() {
	local i=$1 j routes=""
	for j in 1 2 3; do
		[ "$j" = "$i" ] || routes="$routes${routes:+, }nats-route://127.0.0.1:${nats_route[$j]}"
	done
	mkdir -p "$TRASH/nats/n$i"
	cat >"$TRASH/nats/n$i.conf" <<CONF
server_name: n$i
host: 127.0.0.1
port: ${nats_client[$i]}
http: 127.0.0.1:${nats_http[$i]}
jetstream { store_dir: "$TRASH/nats/n$i" }
cluster {
  name: wrtest
  listen: 127.0.0.1:${nats_route[$i]}
  routes: [$routes]
}
CONF
}

# node_ready N: node N answers its health check with JetStream on.
nats_node_ready() {
	local out
	out=$( (exec 3<>"/dev/tcp/127.0.0.1/${nats_http[$1]}" &&
		printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3 && timeout 2 cat <&3) 2>/dev/null) || return 1
	case $out in *'"ok"'*) return 0 ;; esac
	return 1
}

# The servers' pids are in $TRASH/nats/nN.pid, so that a test (a
# subshell) may stop and start them too. A server started in a test is no
# child of the script: it is stopped with test_kill_here (its working
# directory is the scratch directory), then waited for, bounded.
nats_node_start() {
	local i=$1
	(cd "$TRASH" && exec nats-server -c "$TRASH/nats/n$i.conf" >>"$TRASH/nats/n$i.log" 2>&1) &
	echo $! >"$TRASH/nats/n$i.pid"
}

# nats_ours PID: PID is a live process of this test (not a zombie, its
# working directory in the scratch directory).
nats_ours() {
	local cwd
	cwd=$(readlink "/proc/$1/cwd" 2>/dev/null) || return 1
	case $cwd/ in "$TRASH_REAL"/*) ;; *) return 1 ;; esac
	[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

nats_node_stop() {
	local i=$1 pid
	[ -s "$TRASH/nats/n$i.pid" ] || return 0
	pid=$(cat "$TRASH/nats/n$i.pid")
	rm -f "$TRASH/nats/n$i.pid"
	test_kill_here -KILL "$pid"
	wait "$pid" 2>/dev/null || : # its status is that of a kill; also under set -e (tests/bench/nats.sh)
	test_wait_until nats_gone "$pid"
}

nats_gone() {
	! nats_ours "$1"
}

nats_cluster_stop() {
	local i
	for i in 1 2 3; do
		nats_node_stop $i
	done
}

nats_cluster_start() {
	local i
	for i in 1 2 3; do
		nats_free_port >/dev/null && nats_client[$i]=$nats_port &&
			nats_free_port >/dev/null && nats_route[$i]=$nats_port &&
			nats_free_port >/dev/null && nats_http[$i]=$nats_port || exit 1
	done
	for i in 1 2 3; do
		nats_conf $i
	done
	trap 'nats_cluster_stop' EXIT
	for i in 1 2 3; do
		nats_node_start $i
	done
	for i in 1 2 3; do
		test_wait_until nats_node_ready $i || {
			echo "Bail out! nats-server node $i did not start:"
			sed "s/^/# /" "$TRASH/nats/n$i.log"
			nats_cluster_stop
			exit 1
		}
	done
	NATS_URL="nats://127.0.0.1:${nats_client[1]},127.0.0.1:${nats_client[2]},127.0.0.1:${nats_client[3]}"
	NATS_LEDGER="$NATS_URL/LEDGER"
	export NATS_URL NATS_LEDGER
}

# nats_wait SECONDS CMD...: CMD until it succeeds, for SECONDS at most:
# for what waits on the cluster, longer than test_wait_until's 30 s (a
# leader elected on a loaded machine, each request tried for six
# WR_NATS_TIMEOUTs, three hosts' passes converging).
nats_wait() {
	local until=$((SECONDS + $1))
	shift
	until "$@"; do
		if [ $SECONDS -ge $until ]; then
			echo "nats_wait: gave up: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# seen N: a follower's output (follow.out) has N events at least.
seen() {
	[ -f follow.out ] && [ $(wc -l <follow.out) -ge $1 ]
}

# The cluster elects its JetStream leader after it is up: init is tried
# until it can be (bounded).
nats_ledger_init() {
	nats_wait 60 nats_try_init "${1:-$NATS_LEDGER}" 2>/dev/null || {
		cat "$TRASH/nats/init.err" >&2
		return 1
	}
}

nats_try_init() {
	WR_NATS_TIMEOUT=2s wr-ledger init --ledger "$1" --replicas 3 >/dev/null 2>"$TRASH/nats/init.err"
}

# nats_setup: the cluster, its R3 stream, and WR_LEDGER naming it, for a
# script whose tools all work on the stream.
nats_setup() {
	nats_cluster_start
	nats_ledger_init || {
		echo "Bail out! the stream could not be created"
		nats_cluster_stop
		exit 1
	}
	export WR_LEDGER="$NATS_LEDGER"
}

# nats_done: the end of a script (instead of test_done): the cluster
# stops before the scratch directory goes.
nats_done() {
	nats_cluster_stop
	test_done
}
