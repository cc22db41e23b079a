#!/usr/bin/env bash
# fuzz.sh - a bounded libFuzzer run over line decoding, the reducer and the
# scanner (issue 7, fuzzing): tests/fuzz/run.sh for WR_FUZZ_SECONDS (20).
# The long run (10 minutes, 0 crashes expected) is tests/fuzz/run.sh 600.
. "$(dirname "$0")/lib.sh"

SECS=${WR_FUZZ_SECONDS:-20}
# The fuzzer has its own sanitizers: run it once, from the plain build.
if [ "${WR_SANITIZE:-none}" != none ] && [ -z "${WR_FUZZ_SECONDS:-}" ]; then
	echo "1..0 # SKIP runs in the build without -Db_sanitize (the fuzzer brings its own ASan and UBSan)"
	exit 0
fi
"$WR_SRC/tests/fuzz/run.sh" probe "$TRASH/probe" >/dev/null 2>&1
if [ $? -eq 77 ]; then
	echo "1..0 # SKIP clang cannot build with -fsanitize=fuzzer"
	exit 0
fi

test_expect_success "libFuzzer for ${SECS}s: no crash, no leak, no undefined behaviour" '
	{ "$WR_SRC/tests/fuzz/run.sh" "$SECS" "$TRASH/fuzz" >fuzz.log 2>&1 ||
	{ tail -40 fuzz.log; ls "$TRASH/fuzz"; false; }; }
'
grep -E "stat::number_of_executed_units|stat::new_units_added" "$TRASH/fuzz.log" 2>/dev/null | sed 's/^/# /'

test_done
