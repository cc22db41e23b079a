#!/bin/bash
# Benchmark (not a test): median overhead of `wr-run -- true` over a bare
# `true` on a 100,000-event ledger (BENCHMARKS.md, issue 8 figure 5): as
# generated (with its snapshot), then after `wr-ledger compact --keep 0s`.
#
#   meson setup build-perf --buildtype=release && ninja -C build-perf
#   bash tests/bench/run_ledger100k.sh [BUILD_DIR] [EVENTS] [RUNS]
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build-perf}" && pwd)
EVENTS=${2:-100000}
RUNS=${3:-100}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/wr-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
true_bin=$(command -v true)
"$BUILD/tests/bench/wr-bench" gen "$dir/l.jsonl" "$EVENTS" $((EVENTS / 31)) 1 >/dev/null
"$BUILD/tests/bench/wr-bench" snapshot "$dir/l.jsonl" >/dev/null
cp "$dir/l.jsonl" "$dir/c.jsonl"
"$BUILD/cmd/wr-ledger" --ledger "$dir/c.jsonl" compact --keep 0s >/dev/null
echo "# $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), $(uname -r), $(df -T "$dir" | awk 'NR==2 {print $2}')"
for l in l c; do
	export WR_LEDGER="$dir/$l.jsonl"
	hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$dir/$l.json" \
		"$true_bin" "$BUILD/cmd/wr-run -- $true_bin" >/dev/null 2>&1
	jq -r --arg l "$([ $l = l ] && echo "$EVENTS events, snapshot" || echo "the same, compacted")" \
		'"\($l): true \(.results[0].median * 1e3 * 1000 | round / 1000) ms, wr-run -- true \(.results[1].median * 1e3 * 1000 | round / 1000) ms, overhead \((.results[1].median - .results[0].median) * 1e3 * 1000 | round / 1000) ms (median of '"$RUNS"')"' "$dir/$l.json"
done
