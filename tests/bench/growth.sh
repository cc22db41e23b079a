#!/bin/bash
# growth.sh - how wr's costs grow with history: the overhead of
# `wr-run -- true` over `true` and the peak RSS of every tool, on ledgers
# of 0, 1k, 10k, 100k and 1M events, in the steady state (the ledger grows
# as wr-run is called in a loop, so its caches are as a ledger in use has
# them; at 0 the ledger is removed before each run: the fixed cost). With a second build directory, both builds run side by side in
# the same hyperfine invocation, each on its own copy of the ledger.
#
#   meson setup build-rel --buildtype=release && ninja -C build-rel
#   bash tests/bench/growth.sh BUILD_DIR [BASE_BUILD_DIR] [RUNS]
#
# WR_BENCH_SIZES overrides the sizes ("0 1000 10000 100000 1000000");
# WR_BENCH_EVENTS_PER_RUN the shape (33: about 30,000 runs at 1M events).
# Needs hyperfine and /usr/bin/time. Scratch files: ${TMPDIR:-/tmp}, about
# 250 MB per build at 1M events, removed at the end.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:?usage: growth.sh BUILD_DIR [BASE_BUILD_DIR] [RUNS]}" && pwd)
BASE=
[ -z "${2:-}" ] || BASE=$(cd "$2" && pwd)
RUNS=${3:-100}
SIZES=${WR_BENCH_SIZES:-0 1000 10000 100000 1000000}
PER_RUN=${WR_BENCH_EVENTS_PER_RUN:-33}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/wr-growth.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"
true_bin=$(command -v true)
builds=("$BUILD")
[ -z "$BASE" ] || builds=("$BASE" "$BUILD")

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

echo "# growth, $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), $(uname -r), $(df -T . | awk 'NR==2 {print $2}')"
echo "# command: bash tests/bench/growth.sh $*"
echo "# builds: ${builds[*]}"
declare -A empty
for n in $SIZES; do
	rm -f gen.jsonl*
	[ "$n" -eq 0 ] || "${builds[0]}/tests/bench/wr-bench" gen gen.jsonl "$n" $((n / PER_RUN > 0 ? n / PER_RUN : 1)) 1 >/dev/null
	cmds=("$true_bin")
	for k in "${!builds[@]}"; do
		rm -rf "l$k".jsonl*
		[ "$n" -eq 0 ] || cp gen.jsonl "l$k.jsonl"
		cmds+=("${builds[$k]}/cmd/wr-run --ledger $DIR/l$k.jsonl -- $true_bin")
	done
	# Size 0 is the fixed cost: every run on a ledger removed before it.
	prep=()
	[ "$n" -ne 0 ] || prep=(--prepare "rm -f $DIR/l0.jsonl $DIR/l0.jsonl.lock $DIR/l1.jsonl $DIR/l1.jsonl.lock")
	hyperfine -N --warmup 20 --runs "$RUNS" "${prep[@]}" --export-json h.json "${cmds[@]}" >/dev/null 2>&1
	t=$(jq '.results[0].median * 1e6' h.json)
	for k in "${!builds[@]}"; do
		b=${builds[$k]}
		o=$(jq -r --argjson t "$t" ".results[$((k + 1))] | (.median * 1e6 - \$t) | round" h.json)
		[ "$n" -ne 0 ] || empty[$k]=$o
		ratio=$(awk -v a="$o" -v b="${empty[$k]:-$o}" 'BEGIN {printf "%.2f", a / b}')
		L="$DIR/l$k.jsonl"
		grown="+$((3 * (RUNS + 20))) appended"
		[ "$n" -ne 0 ] || grown="removed before each run"
		line="events $n ($grown), $(basename "$b"): wr-run -- true overhead $o us (${ratio}x empty)"
		line+="; peak RSS KiB: wr-run $(rss "$b/cmd/wr-run" --ledger "$L" -- "$true_bin")"
		line+=", watch status $(rss "$b/cmd/wr-watch" --ledger "$L" status)"
		line+=", watch stats $(rss "$b/cmd/wr-watch" --ledger "$L" stats)"
		line+=", watch check $(rss "$b/cmd/wr-watch" --ledger "$L" check)"
		line+=", recover --dry-run $(rss "$b/cmd/wr-recover" --ledger "$L" --dry-run)"
		line+=", outbox list $(rss "$b/cmd/wr-outbox" --ledger "$L" list)"
		line+=", ledger verify $(rss "$b/cmd/wr-ledger" --ledger "$L" verify)"
		echo "$line"
	done
done
