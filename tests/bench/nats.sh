#!/bin/bash
# nats.sh - committed decisions per second on a file ledger against a
# JetStream stream with 1 replica and with 3, on a 3-node nats-server
# cluster on loopback (tests/nats/lib-nats.sh), with 1 and 4 writers;
# medians of REPS. Each decision is one run.created (wr-bench commit).
#
#   meson setup build-rel --buildtype=release && ninja -C build-rel
#   WR_BUILD=build-rel bash tests/bench/nats.sh [DECISIONS] [REPS]
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export WR_BUILD=$(cd "${WR_BUILD:-$SRC/build-rel}" && pwd)
TOTAL=${1:-1000}
REPS=${2:-3}
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

nats_cluster_start
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
