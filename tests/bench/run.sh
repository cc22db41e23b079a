#!/bin/bash
# run.sh - the full benchmarks of BENCHMARKS.md (replay, snapshot, RSS,
# commits), each beside its peer in the same invocation, medians of REPS.
#
#   meson setup build-perf --buildtype=release && ninja -C build-perf
#   bash tests/bench/run.sh [BUILD_DIR] [EVENTS] [REPS]
#
# Defaults: build-perf, 1000000 events, 5 repetitions. Scratch files go to
# ${TMPDIR:-/tmp}/wr-bench.XXXXXX (about 0.7 GB at 1M events), removed at
# the end. Needs jq and (for the commit peer) wr-bench built with sqlite3.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build-perf}" && pwd)
EVENTS=${2:-1000000}
REPS=${3:-5}
BENCH="$BUILD/tests/bench/wr-bench"
WRITES=${WR_BENCH_WRITES:-1000}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/wr-bench.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "# wr benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# machine: nproc $(nproc), $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
echo "# $(jq --version), sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1), events $EVENTS, reps $REPS"
echo "# command: bash tests/bench/run.sh $BUILD $EVENTS $REPS"

runs_mid=$((EVENTS / 33))
"$BENCH" gen mid.jsonl "$EVENTS" "$runs_mid" 1
echo "ledger mid.jsonl: $EVENTS events, $(stat -c %s mid.jsonl) bytes, ~$runs_mid runs"

# 1. cold replay vs jq -c .
cold=() jqt=()
for i in $(seq "$REPS"); do
	cold+=("$("$BENCH" replay mid.jsonl --no-snapshot | field ms)")
	t0=$(now_ms); jq -c . mid.jsonl >/dev/null; t1=$(now_ms)
	jqt+=("$((t1 - t0))")
done
c=$(printf '%s\n' "${cold[@]}" | median); j=$(printf '%s\n' "${jqt[@]}" | median)
echo "1 cold replay: wr ${c} ms, jq ${j} ms (runs: wr ${cold[*]}; jq ${jqt[*]}) -> wr is $(ratio "$j" "$c")x jq's speed (target >= 2)"

# 2. warm replay: snapshot + 100 new events
cp mid.jsonl warm.jsonl
"$BENCH" snapshot warm.jsonl >snap.out
"$BENCH" append warm.jsonl 100
warm=()
for i in $(seq "$REPS"); do
	warm+=("$("$BENCH" replay warm.jsonl | field ms)")
done
w=$(printf '%s\n' "${warm[@]}" | median)
echo "2 warm replay: ${w} ms vs cold ${c} ms (runs: ${warm[*]}) -> $(awk -v a="$w" -v b="$c" 'BEGIN {printf "%.2f", 100 * a / b}')% of cold (target <= 2%); snapshot $(stat -c %s warm.jsonl.snapshot) bytes, written in $(field ms <snap.out) ms"

# 3. peak RSS of a cold replay: same events, 3 run counts
for runs in $((EVENTS / 100)) "$runs_mid" $((EVENTS / 10)); do
	"$BENCH" gen r.jsonl "$EVENTS" "$runs" 2
	rss=()
	for i in 1 2 3; do rss+=("$("$BENCH" replay r.jsonl --no-snapshot | field maxrss_kb)"); done
	out=$("$BENCH" replay r.jsonl --no-snapshot)
	r=$(printf '%s\n' "${rss[@]}" | median)
	echo "3 peak RSS, $EVENTS events, $(echo "$out" | sed -n 's/.*runs=\([0-9]*\).*/\1/p') runs: $((r / 1024)) MiB ($r KiB; cold); from a snapshot: $("$BENCH" snapshot r.jsonl >/dev/null; "$BENCH" replay r.jsonl | field maxrss_kb) KiB"
	rm -f r.jsonl*
done
"$BENCH" gen half.jsonl $((EVENTS / 2)) $((runs_mid / 2)) 3
echo "3 peak RSS, $((EVENTS / 2)) events, ~$((runs_mid / 2)) runs: $(( $("$BENCH" replay half.jsonl --no-snapshot | field maxrss_kb) / 1024 )) MiB"
rm -f half.jsonl*

# 4. committed decisions per second, 1 and 4 writers, vs sqlite3
for writers in 1 4; do
	wr=() sq=()
	per=$((WRITES / writers))
	for i in $(seq "$REPS"); do
		rm -f c.jsonl* s.db*
		"$BENCH" gen c.jsonl 10000 300 4 # a ledger with some history
		t0=$(now_ms)
		for k in $(seq "$writers"); do "$BENCH" commit c.jsonl "$per" >/dev/null & done
		wait
		t1=$(now_ms)
		wr+=("$(awk -v n=$((per * writers)) -v ms=$((t1 - t0)) 'BEGIN {printf "%.0f", n * 1000 / ms}')")
		"$BENCH" sqlite s.db 0 >/dev/null # schema and WAL mode once, not racing
		t0=$(now_ms)
		for k in $(seq "$writers"); do "$BENCH" sqlite s.db "$per" >/dev/null & done
		wait
		t1=$(now_ms)
		sq+=("$(awk -v n=$((per * writers)) -v ms=$((t1 - t0)) 'BEGIN {printf "%.0f", n * 1000 / ms}')")
	done
	a=$(printf '%s\n' "${wr[@]}" | median); b=$(printf '%s\n' "${sq[@]}" | median)
	echo "4 commits, $writers writer(s), $WRITES decisions: wr ${a}/s, sqlite ${b}/s (runs: wr ${wr[*]}; sqlite ${sq[*]}) -> $(ratio "$a" "$b")x (target >= 1)"
done
