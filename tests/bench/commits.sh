#!/bin/bash
# commits.sh - committed decisions per second and CPU per decision, wr
# against SQLite (WAL, synchronous=FULL, one row per transaction: one
# fdatasync per decision on both sides), with 1 and 4 writers, medians of
# REPS side by side in the same invocation.
#
#   meson setup build-rel --buildtype=release && ninja -C build-rel
#   bash tests/bench/commits.sh [BUILD_DIR] [DECISIONS] [REPS]
#   BASE=OTHER_BUILD bash tests/bench/commits.sh ...  # and another build's wr
#                                                      # beside them, in each rep
#
# Each wr writer opens a ledger that already holds 10,000 events, then
# commits its share of DECISIONS run.created decisions; each SQLite writer
# inserts its share into one WAL database. The rate is all decisions over
# the wall time of the slowest writer's loop; CPU per decision is the
# writers' user + system time over their loops, summed, over all decisions.
# Last, the floor: the CPU of one fdatasync of an append and of an overwrite.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build-rel}" && pwd)
TOTAL=${2:-2000}
REPS=${3:-5}
BENCH="$BUILD/tests/bench/wr-bench"
BASE_BENCH=${BASE:+$(cd "$BASE" && pwd)/tests/bench/wr-bench}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/wr-commits.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# Runs WRITERS copies of "$@" at once; prints "rate cpu_us_per_decision".
group() {
	local writers=$1 per=$2; shift 2
	local k
	for k in $(seq "$writers"); do "$@" "$per" >"out.$k" & done
	wait
	cat out.* | awk -v n=$((writers * per)) '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		  if (f["ms"] > ms) ms = f["ms"]; cpu += f["cpu_ms"] }
		END { printf "%.0f %.1f\n", n * 1000 / ms, cpu * 1000 / n }'
	rm -f out.*
}

echo "# commits, $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), $(uname -r), sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1)"
echo "# filesystem of $DIR: $(df -T . | awk 'NR==2 {print $2}')"
echo "# command: ${BASE:+BASE=$BASE }bash tests/bench/commits.sh $BUILD $TOTAL $REPS"
"$BENCH" gen base.jsonl 10000 300 4 >/dev/null
for writers in 1 4; do
	per=$((TOTAL / writers))
	wr_rate=() wr_cpu=() sq_rate=() sq_cpu=() b_rate=() b_cpu=()
	for i in $(seq "$REPS"); do
		for b in "$BENCH" $BASE_BENCH; do
			rm -f c.jsonl*
			cp base.jsonl c.jsonl
			"$b" replay c.jsonl >/dev/null # its cache, as a ledger in use has
			read -r r c < <(group "$writers" "$per" "$b" commit c.jsonl)
			if [ "$b" = "$BENCH" ]; then wr_rate+=("$r") wr_cpu+=("$c"); else b_rate+=("$r") b_cpu+=("$c"); fi
		done
		rm -f s.db*
		"$BENCH" sqlite s.db 0 >/dev/null # schema and WAL mode once, not racing
		read -r r c < <(group "$writers" "$per" "$BENCH" sqlite s.db)
		sq_rate+=("$r") sq_cpu+=("$c")
	done
	a=$(printf '%s\n' "${wr_rate[@]}" | median) b=$(printf '%s\n' "${sq_rate[@]}" | median)
	ca=$(printf '%s\n' "${wr_cpu[@]}" | median) cb=$(printf '%s\n' "${sq_cpu[@]}" | median)
	echo "$writers writer(s): wr $a/s (${wr_rate[*]}), sqlite $b/s (${sq_rate[*]}): $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')x;" \
		"CPU per decision: wr $ca us (${wr_cpu[*]}), sqlite $cb us (${sq_cpu[*]}): $(awk -v a="$ca" -v b="$cb" 'BEGIN {printf "%.2f", a / b}')x"
	if [ -n "$BASE_BENCH" ]; then
		ba=$(printf '%s\n' "${b_rate[@]}" | median) bc=$(printf '%s\n' "${b_cpu[@]}" | median)
		echo "  base $BASE: $ba/s (${b_rate[*]}): $(awk -v a="$ba" -v b="$b" 'BEGIN {printf "%.2f", a / b}')x sqlite;" \
			"CPU $bc us (${b_cpu[*]}): $(awk -v a="$bc" -v b="$cb" 'BEGIN {printf "%.2f", a / b}')x sqlite"
	fi
done
# The floor under both: the kernel's CPU for one fdatasync of a 480-byte
# append (what every wr decision costs), and of an overwrite of bytes
# already synced (what a SQLite WAL reused after a checkpoint costs).
for how in append overwrite; do
	c=()
	for i in $(seq "$REPS"); do c+=("$("$BENCH" fsync f.bin "$TOTAL" "$how" | field cpu_ms)"); done
	m=$(printf '%s\n' "${c[@]}" | median)
	echo "fdatasync of an $how, alone: $(awk -v m="$m" -v n="$TOTAL" 'BEGIN {printf "%.1f", m * 1000 / n}') us CPU each (cpu_ms ${c[*]} for $TOTAL)"
done
