#!/bin/bash
# Benchmark (not a test): wr-watch plot and wr-watch report over a
# 100,000-event ledger (BENCHMARKS.md, "plot and report"), beside
# wr-watch stats (the same replay, no picture) in the same invocation:
# medians of hyperfine -N, output sizes, peak RSS.
#
#   meson setup build-perf --buildtype=release && ninja -C build-perf
#   bash tests/bench/plot_report.sh [BUILD_DIR] [EVENTS] [RUNS]
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build-perf}" && pwd)
EVENTS=${2:-100000}
RUNS=${3:-10}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/wr-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export WR_LEDGER="$dir/l.jsonl"
"$BUILD/tests/bench/wr-bench" gen "$WR_LEDGER" "$EVENTS" $((EVENTS / 31)) 1 >/dev/null
W="$BUILD/cmd/wr-watch"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), $(uname -r); $EVENTS events, $(wc -c <"$WR_LEDGER") bytes"
echo "# command: bash tests/bench/plot_report.sh $BUILD $EVENTS $RUNS"
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$dir/h.json" \
	"$W stats --json" "$W plot" "$W report" >/dev/null 2>&1
jq -r '.results[] | "\(.command | sub(".*/"; "")): median \(.median * 1000 | round) ms (min \(.min * 1000 | round), max \(.max * 1000 | round))"' "$dir/h.json"
# CPU time (user + sys, both replay threads) does not count the waits of a
# loaded machine, which wall-clock medians do.
for c in "stats --json" plot report; do
	for i in 1 2 3; do
		# shellcheck disable=SC2086
		/usr/bin/time -f "%M %U %S" -o "$dir/t$i" "$W" $c >"$dir/out"
	done
	cpu=$(cat "$dir/t1" "$dir/t2" "$dir/t3" | awk '{print ($2 + $3) * 1000}' | sort -n | sed -n 2p)
	echo "wr-watch $c: CPU $cpu ms (median of 3), output $(wc -c <"$dir/out") bytes, peak RSS $(cut -d" " -f1 "$dir/t1") KiB"
done
"$W" plot >"$dir/p.svg"
echo "plot: $(grep -c 'class="wr-bar"' "$dir/p.svg") bars, $(grep -o 'height="[0-9]*"' "$dir/p.svg" | head -1)"
