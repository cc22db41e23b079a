#!/bin/bash
# smoke.sh - the benchmarks on tiny sizes, in the test suite (suite
# 'bench'): every step of run.sh works; the figures mean nothing here.
set -u
: "${WR_BUILD:?WR_BUILD must name the build directory}"
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH="$WR_BUILD/tests/bench/wr-bench"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/wr-bench-smoke.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
n=0 fail=0
check() {
	n=$((n + 1))
	if "$@" >"$DIR/out" 2>&1; then echo "ok $n - $*"; else echo "not ok $n - $*"; sed 's/^/#   /' "$DIR/out"; fail=1; fi
}
check "$BENCH" gen "$DIR/s.jsonl" 3000 100 1
check test "$(wc -l <"$DIR/s.jsonl")" -eq 3000
check "$BENCH" replay "$DIR/s.jsonl" --no-snapshot
check "$BENCH" snapshot "$DIR/s.jsonl"
check "$BENCH" append "$DIR/s.jsonl" 100
check "$BENCH" replay "$DIR/s.jsonl"
check "$BENCH" commit "$DIR/c.jsonl" 20
if command -v jq >/dev/null && command -v sqlite3 >/dev/null && "$BENCH" sqlite "$DIR/s.db" 1 >/dev/null 2>&1; then
	check env TMPDIR="$DIR" WR_BENCH_WRITES=8 bash "$HERE/run.sh" "$WR_BUILD" 2000 1
else
	echo "ok $((n += 1)) - run.sh # SKIP jq or sqlite3 missing"
fi
echo "1..$n"
exit $fail
