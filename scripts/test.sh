#!/usr/bin/env bash
# test.sh - the whole test suite, as CI runs it: installs what is missing,
# builds, runs the unit and CLI tests, then the same under ASan + UBSan.
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
# python3-jsonschema: the --json outputs against share/schema (tests/cli/ecosystem/schema.sh).
# nats-server: the clusters of the JetStream ledger's tests (tests/nats).
# chromium, libxml2-utils (xmllint), imagemagick, a font and tzdata: the SVG and HTML
# tests of wr-watch plot and report (tests/cli/watch/browser.sh).
wr_install_deps nats-server clang libclang-rt-14-dev sqlite3 libsqlite3-dev valgrind zsh fish prometheus \
	chromium libxml2-utils imagemagick fonts-dejavu-core tzdata faketime python3-jsonschema

jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (debugoptimized)"
[ -d build ] || meson setup build >/dev/null
meson compile -C build
echo "== tests"
meson test -C build --print-errorlogs --num-processes "$jobs"

echo "== build with -Db_sanitize=address,undefined"
[ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dfault_injection=true >/dev/null
meson compile -C build-asan
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --print-errorlogs --num-processes "$jobs"
