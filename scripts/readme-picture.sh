#!/usr/bin/env bash
# readme-picture.sh - docs/timeline.png, the README's picture: runs the demo
# (scripts/demo.sh) in a scratch directory and renders its timeline.svg
# with headless Chromium, by the same function the tests use
# (tests/cli/watch/browser.sh), then keeps the PNG small (64 colours).
set -eu
cd "$(dirname "$0")/.."
src=$PWD
dir=$(mktemp -d "${TMPDIR:-/tmp}/wr-picture.XXXXXX")
trap 'rm -rf "$dir"' EXIT
WR_DEMO_DIR="$dir/demo" bash scripts/demo.sh >"$dir/demo.log" 2>&1 ||
	{ cat "$dir/demo.log" >&2; exit 1; }
. tests/cli/watch/browser.sh
read -r w h < <(wr_svg_size "$dir/demo/timeline.svg")
wr_screenshot "$dir/demo/timeline.svg" "$dir/timeline.png" "$w" "$h"
mkdir -p docs
convert "$dir/timeline.png" -strip +dither -colors 64 PNG8:"$src/docs/timeline.png"
echo "docs/timeline.png: ${w}x${h}, $(wc -c <"$src/docs/timeline.png") bytes"
