# browser.sh - headless Chromium for the picture tests and the README's
# picture (sourced; not a test). One bounded run per call: Chromium is
# heavy on a small machine, so callers take few screenshots.

# wr_chromium ARGS...: Chromium, headless, isolated (its own profile in a
# temporary directory, no network of its own), killed after 90 s.
wr_chromium() {
	local profile rc=0
	profile=$(mktemp -d "${TMPDIR:-/tmp}/wr-chromium.XXXXXX") || return 1
	timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-extensions --hide-scrollbars --user-data-dir="$profile" "$@" 2>"$profile.log" || rc=$?
	[ $rc -eq 0 ] || sed 's/^/chromium: /' "$profile.log" >&2
	rm -rf "$profile" "$profile.log"
	return $rc
}

# wr_screenshot FILE PNG WIDTH HEIGHT [SCHEME]: renders FILE (SVG or HTML)
# into PNG at WIDTH x HEIGHT CSS pixels (scale 1); SCHEME dark emulates
# prefers-color-scheme: dark.
wr_screenshot() {
	local dark=
	[ "${5:-light}" = dark ] && dark=--force-dark-mode
	wr_chromium --force-device-scale-factor=1 $dark --window-size="$3,$4" --screenshot="$2" \
		"file://$(realpath "$1")" >/dev/null &&
		test -s "$2"
}

# wr_svg_size SVG: prints "WIDTH HEIGHT" of the root element.
wr_svg_size() {
	xmllint --xpath 'concat(string(/*[local-name()="svg"]/@width), " ", string(/*[local-name()="svg"]/@height))' "$1"
}

# wr_pixel PNG X Y: the colour at (X, Y) as "R G B" (0-255), by ImageMagick.
wr_pixel() {
	convert "$1" -format "%[fx:round(255*p{$2,$3}.r)] %[fx:round(255*p{$2,$3}.g)] %[fx:round(255*p{$2,$3}.b)]" info:
}

# wr_pixel_is PNG X Y '#rrggbb': the pixel is that colour (within 12 per
# channel: rendering may blend a little), else says what it is.
wr_pixel_is() {
	local got want
	got=$(wr_pixel "$1" "$2" "$3") || return 1
	want=$(printf '%d %d %d' "0x${4:1:2}" "0x${4:3:2}" "0x${4:5:2}")
	set -- "$1" "$2" "$3" "$4" $got $want
	if [ $((${5} - ${8})) -gt 12 ] || [ $((${8} - ${5})) -gt 12 ] ||
		[ $((${6} - ${9})) -gt 12 ] || [ $((${9} - ${6})) -gt 12 ] ||
		[ $((${7} - ${10})) -gt 12 ] || [ $((${10} - ${7})) -gt 12 ]; then
		echo "pixel ($2, $3) of $1 is rgb($5, $6, $7), not $4" >&2
		return 1
	fi
}

# wr_colors PNG: the number of distinct colours (a blank page has 1).
wr_colors() {
	convert "$1" -format %k info:
}
