#!/bin/bash
# Benchmark (not a test): median wall-clock overhead of `wr-run -- true`
# over a bare `true`, each run a full decision (lock, replay, fdatasync)
# for the start and one for the end. Uses hyperfine when installed, else a
# loop timed with date +%s%N.
#
#   WR_BUILD=build-run bash tests/bench/run_overhead.sh [RUNS]
set -eu
: "${WR_BUILD:?WR_BUILD must name the build directory}"
runs=${1:-200}
wr_run=$(cd "$WR_BUILD" && pwd)/cmd/wr-run
dir=$(mktemp -d "${TMPDIR:-/tmp}/wr-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export WR_LEDGER="$dir/ledger.jsonl"
true_bin=$(command -v true)

echo "machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "ledger:  $dir ($(df -T "$dir" | awk 'NR==2 {print $2}'))"
if command -v hyperfine >/dev/null; then
	# a: every run on an empty ledger (the fixed cost); b: one ledger that
	# grows by 3 events a run (replay is part of the cost).
	hyperfine -N --warmup 20 --runs "$runs" --export-json "$dir/a.json" \
		--prepare "rm -f $WR_LEDGER $WR_LEDGER.lock" \
		"$true_bin" "$wr_run -- $true_bin" >/dev/null 2>&1
	hyperfine -N --warmup 20 --runs "$runs" --export-json "$dir/b.json" \
		"$wr_run -- $true_bin" >/dev/null 2>&1
	jq -r '.results[] | "\(.command): median \(.median * 1e6 | round) us, mean \(.mean * 1e6 | round) us, stddev \(.stddev * 1e6 | round) us"' "$dir/a.json"
	jq -r '"overhead on an empty ledger (median): \((.results[1].median - .results[0].median) * 1e6 | round) us"' "$dir/a.json"
	jq -r --slurpfile a "$dir/a.json" '"overhead on a ledger growing from 0 to \('"$runs"' * 3 + 60) events (median): \((.results[0].median - $a[0].results[0].median) * 1e6 | round) us"' "$dir/b.json"
else
	median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	t() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000)); }
	for i in $(seq "$runs"); do t "$true_bin"; done | median >"$dir/a"
	for i in $(seq "$runs"); do t "$wr_run" -- "$true_bin"; done | median >"$dir/b"
	echo "true: median $(cat "$dir/a") us"
	echo "wr-run -- true: median $(cat "$dir/b") us"
	echo "overhead (median): $(($(cat "$dir/b") - $(cat "$dir/a"))) us"
fi
echo "ledger after: $(wc -l <"$WR_LEDGER") events, $(wc -c <"$WR_LEDGER") bytes"
