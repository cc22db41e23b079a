#!/bin/bash
# ledger-members.sh HEADER FILE... - the places in FILEs that read or set
# a member of struct wr_ledger (as HEADER defines it) instead of going
# through the accessors of core/ledger.h: NAME.MEMBER or NAME->MEMBER where
# NAME is declared "struct wr_ledger NAME" or "struct wr_ledger *NAME" in
# one of the FILEs (a variable, a parameter, or a struct's member, as
# cmd/run.h's S->l). Prints FILE:LINE: NAME.MEMBER for each; exits 1 when
# there is one (0: none). A lint: another variable of the same name whose
# struct has a member of the same name is reported too (rename it).
set -eu
header=${1:?usage: ledger-members.sh HEADER FILE...}
shift
members=$(awk '
	/^struct wr_ledger \{/ { inside = 1; next }
	inside && /^\};/ { exit }
	inside {
		sub(/\/\*.*\*\//, ""); sub(/\/\*.*/, ""); sub(/^[ \t]*\*.*/, "")
		if ($0 !~ /;/) next
		if (match($0, /\(\*[A-Za-z_]+\)/)) { print substr($0, RSTART + 2, RLENGTH - 3); next }
		sub(/;.*/, ""); sub(/\[[^]]*\]/, "")
		n = split($0, part, ",")
		for (i = 1; i <= n; i++) {
			w = part[i]; gsub(/\[[^]]*\]/, "", w); sub(/[ \t]+$/, "", w)
			sub(/.*[ \t*]/, "", w)
			if (w ~ /^[A-Za-z_][A-Za-z0-9_]*$/) print w
		}
	}' "$header" | sort -u | paste -sd'|')
[ -n "$members" ] || { echo "ledger-members.sh: no struct wr_ledger in $header" >&2; exit 2; }
names=$(grep -ohE 'struct wr_ledger[[:space:]]+\**[[:space:]]*[A-Za-z_][A-Za-z0-9_]*' "$@" |
	sed -E 's/.*[[:space:]*]//' | sort -u | paste -sd'|')
[ -n "$names" ] || exit 0
grep -HnoE "(^|[^A-Za-z0-9_])($names)(\.|->)($members)\b" "$@" | sed -E 's/:[^A-Za-z_]?/: /2' | grep . && exit 1
exit 0
