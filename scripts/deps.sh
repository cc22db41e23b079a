#!/usr/bin/env bash
# deps.sh - install what building and testing wr needs, from Debian packages.
# Sourced by demo.sh and test.sh. Installs only what is missing; as root it
# runs apt-get itself, otherwise through sudo.
set -eu

wr_packages="meson ninja-build gcc g++ pkg-config libsimdjson-dev libjansson-dev libutf8proc-dev libnats-dev jq groff-base man-db bash-completion util-linux procps"

wr_install_deps() {
	local missing=()
	for p in $wr_packages "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "Installing: ${missing[*]}" >&2
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2
}
