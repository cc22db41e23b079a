#!/bin/bash
# nats.sh - committed decisions per second on a file ledger against a
# JetStream stream with 1 replica and with 3, on a 3-node nats-server
# cluster on loopback (tests/nats/lib-nats.sh), with 1 and 4 writers;
# medians of REPS. Each decision is one run.created (wr-bench commit).
#
#   meson setup build-rel --buildtype=release && ninja -C build-rel
#   WR_BUILD=build-rel bash tests/bench/nats.sh [DECISIONS] [REPS]
#
# With "start" first: what a start costs against the stream's length
# (milliseconds of `wr-watch status`, medians of REPS) on an R3 stream of
# each LENGTH decisions (runs that ended: the state stays small): on a
# file ledger of the same events (the stream's export, its state cache
# warm), without the cache on this host (WR_NATS_CACHE=off: every message
# fetched), with it warm (nothing new; its ratio to the file), and with it
# warm but 100 decisions behind (another host appended):
#   WR_BUILD=build-rel bash tests/bench/nats.sh start [REPS] [LENGTH...]
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export WR_BUILD=$(cd "${WR_BUILD:-$SRC/build-rel}" && pwd)
MODE=commits
if [ "${1:-}" = start ]; then
	MODE=start
	shift
fi
TOTAL=${1:-1000}
REPS=${2:-3}
[ $MODE = commits ] || REPS=${1:-3}
BENCH="$WR_BUILD/tests/bench/wr-bench"
set +eu
. "$SRC/tests/cli/lib.sh" >/dev/null
. "$SRC/tests/nats/lib-nats.sh"
set -eu

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# Runs WRITERS copies of wr-bench commit LEDGER at once; prints the rate.
group() {
	local writers=$1 per=$2 ledger=$3 k
	for k in $(seq "$writers"); do "$BENCH" commit "$ledger" "$per" >"out.$k" & done
	wait
	cat out.* | awk -v n=$((writers * per)) '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		  if (f["ms"] > ms) ms = f["ms"] }
		END { printf "%.0f\n", n * 1000 / ms }'
	rm -f out.*
}

# ms CMD...: milliseconds CMD takes, to 0.1 ms (its output dropped).
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000)).$(((t1 - t0) / 100000 % 10))"
}

# start_costs REPS LENGTH...: the start section (see the top).
start_costs() {
	local reps=$1 n i ledger file fm wm flat off warm behind
	shift
	export XDG_CACHE_HOME=$TRASH/cacheA
	for n in "$@"; do
		ledger=$NATS_URL/S$n
		nats_ledger_init "$ledger"
		"$BENCH" commit "$ledger" "$n" --ended >/dev/null
		file=$TRASH/F$n.jsonl
		wr-ledger export --ledger "$ledger" >"$file"
		wr-watch status --ledger "$file" >/dev/null
		flat=() off=() warm=() behind=()
		for i in $(seq "$reps"); do
			flat+=("$(ms wr-watch status --ledger "$file")")
			off+=("$(WR_NATS_CACHE=off ms wr-watch status --ledger "$ledger")")
			wr-watch status --ledger "$ledger" >/dev/null
			warm+=("$(ms wr-watch status --ledger "$ledger")")
			XDG_CACHE_HOME=$TRASH/cacheB "$BENCH" commit "$ledger" 100 --ended >/dev/null
			behind+=("$(ms wr-watch status --ledger "$ledger")")
		done
		fm=$(printf '%s\n' "${flat[@]}" | median)
		wm=$(printf '%s\n' "${warm[@]}" | median)
		echo "$n decisions: file $fm ms (${flat[*]}), no cache $(printf '%s\n' "${off[@]}" | median) ms (${off[*]})," \
			"cache warm $wm ms (${warm[*]}, $(awk -v w="$wm" -v f="$fm" 'BEGIN { printf "%.2f", f ? w / f : 0 }')x the file)," \
			"cache 100 behind $(printf '%s\n' "${behind[@]}" | median) ms (${behind[*]})"
	done
}

nats_cluster_start
if [ $MODE = start ]; then
	echo "# nats start, $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), $(uname -r), $(nats-server --version)"
	echo "# command: WR_BUILD=$WR_BUILD bash tests/bench/nats.sh start $*"
	shift || :
	start_costs "$REPS" ${@:-1000 10000}
	nats_cluster_stop
	cd / && rm -rf "$TRASH"
	exit 0
fi
echo "# nats, $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), $(uname -r), $(nats-server --version)"
echo "# filesystem of $TRASH: $(df -T . | awk 'NR==2 {print $2}')"
echo "# command: WR_BUILD=$WR_BUILD bash tests/bench/nats.sh $TOTAL $REPS"
rep=0
for writers in 1 4; do
	per=$((TOTAL / writers))
	line="$writers writer(s):"
	for kind in file R1 R3; do
		rates=()
		for i in $(seq "$REPS"); do
			rep=$((rep + 1))
			case $kind in
			file) ledger=$TRASH/f$rep.jsonl ;;
			R1) ledger=$NATS_URL/B$rep && wr-ledger init --ledger "$ledger" --replicas 1 >/dev/null ;;
			R3) ledger=$NATS_URL/B$rep && nats_ledger_init "$ledger" ;;
			esac
			rates+=("$(group "$writers" "$per" "$ledger")")
		done
		line="$line $kind $(printf '%s\n' "${rates[@]}" | median)/s (${rates[*]}),"
	done
	echo "${line%,}"
done
nats_cluster_stop
cd / && rm -rf "$TRASH"
