#!/bin/bash
# Benchmark (not a test): passing 1 GB through wr-run with stuck detection
# on (--stuck-repeat 50, every line compared) against `cat FILE | cat`.
# The input is random bytes turned into text lines (base64), written to a
# file first so that the disk is not measured.
#
#   WR_BUILD=build-run bash tests/bench/run_passthrough.sh [MB]
set -eu
: "${WR_BUILD:?WR_BUILD must name the build directory}"
mb=${1:-1024}
wr_run=$(cd "$WR_BUILD" && pwd)/cmd/wr-run
dir=$(mktemp -d "${TMPDIR:-/tmp}/wr-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export WR_LEDGER="$dir/ledger.jsonl"
head -c $((mb * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 >"$dir/in"
size=$(wc -c <"$dir/in")

echo "machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "input:   $size bytes of base64 lines (77 bytes each)"
if command -v hyperfine >/dev/null; then
	hyperfine --warmup 1 --runs 5 --export-json "$dir/h.json" \
		"cat $dir/in | cat >/dev/null" \
		"$wr_run --stuck-repeat 50 -- cat $dir/in | cat >/dev/null" \
		"$wr_run -- cat $dir/in | cat >/dev/null" >/dev/null
	jq -r --argjson size "$size" --arg dir "$dir/" --arg wr "${wr_run%wr-run}" \
		'.results[] | "\(.command | split($dir) | join("") | split($wr) | join("")): median \(.median * 1000 | round) ms, \($size / .median / 1e6 | round) MB/s"' "$dir/h.json"
else
	t() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); echo "$(((e - s) / 1000000)) ms"; }
	echo "cat | cat:                 $(t sh -c "cat $dir/in | cat >/dev/null")"
	echo "wr-run --stuck-repeat 50:  $(t sh -c "$wr_run --stuck-repeat 50 -- cat $dir/in | cat >/dev/null")"
fi
jq -c 'select(.type=="attempt.finished") | {output_bytes, cpu_ms, max_rss_kb}' "$WR_LEDGER" | tail -n 1
