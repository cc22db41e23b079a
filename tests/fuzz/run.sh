#!/usr/bin/env bash
# run.sh - build the libFuzzer target with clang straight from the core
# sources and run it (issue 7, fuzzing).
#
#   tests/fuzz/run.sh [SECONDS] [OUTDIR]
#   tests/fuzz/run.sh probe       exit 0 when clang can build it, else 77
#
# SECONDS defaults to 20 (the test suite's bounded run); the long run is
#   tests/fuzz/run.sh 600
# OUTDIR (default: a temporary directory) receives the binary, the corpus
# the fuzzer grows, and crash-* / leak-* / timeout-* reproducers. The seed
# corpus tests/fuzz/corpus is read, never written. Reproduce a crash with
#   OUTDIR/fuzz_ledger OUTDIR/crash-...
# Exit: 0 no crash, 77 clang without -fsanitize=fuzzer (skip), else failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
secs=${1:-20}
out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/wr-fuzz.XXXXXX")}
mkdir -p "$out/corpus"
case $secs in probe|[1-9]*) ;; *) echo "usage: run.sh [SECONDS|probe] [OUTDIR]" >&2; exit 2 ;; esac
CLANG=${CLANG:-clang}

if ! command -v "$CLANG" >/dev/null 2>&1 ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' |
	"$CLANG" -x c -fsanitize=fuzzer -o "$out/probe" - >/dev/null 2>&1; then
	echo "run.sh: $CLANG cannot build with -fsanitize=fuzzer (apt-get install clang libclang-rt-14-dev)" >&2
	exit 77
fi
[ "$secs" != probe ] || exit 0

# The core's sources, as core/meson.build lists them; the C++ ones
# (simdjson's reader) compiled first, by clang++ (without UBSan's vptr
# check, whose C++ runtime a link by clang leaves out).
sources=$(grep -o "'[a-z_]*\.c'" "$src/core/meson.build" | tr -d "'" | grep -v '^main\.c$' | sed "s|^|$src/core/|")
objects=
for cc in $(grep -o "'[a-z_]*\.cc'" "$src/core/meson.build" | tr -d "'"); do
	# shellcheck disable=SC2046
	"${CLANG}++" -std=c++17 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -I"$src/core" $(pkg-config --cflags jansson simdjson) -c "$src/core/$cc" -o "$out/${cc%.cc}.o"
	objects="$objects $out/${cc%.cc}.o"
done
# shellcheck disable=SC2086
"$CLANG" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -DWR_VERSION='"fuzz"' -DWR_JSONFAST_STATIC -I"$src/core" \
	"$here/fuzz_ledger.c" $sources $objects \
	$(pkg-config --cflags --libs jansson libutf8proc simdjson) $(pkg-config --cflags libnats) -DWR_LIBNATS_SONAME=\"libnats.so.$(pkg-config --modversion libnats | cut -d. -f1,2)\" -lstdc++ -lm -o "$out/fuzz_ledger"

echo "run.sh: fuzzing for ${secs}s; output in $out" >&2
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$out/fuzz_ledger" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	-dict="$here/ledger.dict" -artifact_prefix="$out/" -print_final_stats=1 \
	"$out/corpus" "$here/corpus"
