#!/bin/bash
# e2e.sh - N runs, JOBS at a time, end to end: the same commands under
# xargs -P with and without wr-run, medians of REPS, alternating.
#
#   meson setup build-rel --buildtype=release && ninja -C build-rel
#   bash tests/bench/e2e.sh [BUILD_DIR] [N] [JOBS] [REPS] [COMMAND...]
#   BASE=OTHER_BUILD bash tests/bench/e2e.sh ...  # another build's wr-run too,
#                                                  # in each rep
#
# COMMAND defaults to `sleep 0.05` (a short job that waits, as most
# supervised work does); `true` gives the worst case, where wr-run's own
# cost (a process, two committed decisions, fdatasync) is all there is.
# Every wr-run appends to one ledger that starts empty for each repetition.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build-rel}" && pwd)
N=${2:-1000}
JOBS=${3:-50}
REPS=${4:-5}
shift $(($# < 4 ? $# : 4))
[ $# -gt 0 ] || set -- sleep 0.05
WR_RUN="$BUILD/cmd/wr-run"
BASE_RUN=${BASE:+$(cd "$BASE" && pwd)/cmd/wr-run}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/wr-e2e.XXXXXX")
trap 'rm -rf "$DIR"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
bare() { seq "$N" | xargs -P "$JOBS" -I{} "$@"; }
wrapped() { local run=$1; shift; seq "$N" | xargs -P "$JOBS" -I{} "$run" --ledger "$DIR/ledger.jsonl" -- "$@"; }

echo "# e2e, $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), $(uname -r)"
echo "# command: ${BASE:+BASE=$BASE }bash tests/bench/e2e.sh $BUILD $N $JOBS $REPS $*"
a=() b=() c=()
for i in $(seq "$REPS"); do
	a+=("$(ms bare "$@")")
	rm -rf "$DIR"/ledger.jsonl*
	b+=("$(ms wrapped "$WR_RUN" "$@")")
	events=$(wc -l <"$DIR/ledger.jsonl")
	if [ -n "$BASE_RUN" ]; then
		rm -rf "$DIR"/ledger.jsonl*
		c+=("$(ms wrapped "$BASE_RUN" "$@")")
	fi
done
x=$(printf '%s\n' "${a[@]}" | median) y=$(printf '%s\n' "${b[@]}" | median)
echo "$N x '$*', $JOBS at a time: bare $x ms (${a[*]}), under wr-run $y ms (${b[*]}): $(awk -v a="$y" -v b="$x" 'BEGIN {printf "%.2f", a / b}')x; ledger $events events"
if [ -n "$BASE_RUN" ]; then
	z=$(printf '%s\n' "${c[@]}" | median)
	echo "  base $BASE: under wr-run $z ms (${c[*]}): $(awk -v a="$z" -v b="$x" 'BEGIN {printf "%.2f", a / b}')x"
fi
