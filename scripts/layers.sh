#!/bin/bash
# layers.sh MAP DIR - checks the module graph of the C files in DIR (as
# include-cycles.sh draws it) against the module map in MAP (a Markdown
# file, docs/DESIGN.md): the table whose head is "| layer | modules | may
# use |", a row a layer, "| N name | `mod` (...), `mod2.h` ... | M-K ... |".
# A module may use the modules of its own layer and of the layers its row
# names (a range "0-2", a layer "0"; "everything" for all of them).
# Prints "unmapped MODULE" for a module of DIR the table does not name and
# "MODULE (L) uses MODULE (L)" for an include the table does not allow;
# exits 1 when there is one (0: none).
set -eu
map=${1:?usage: layers.sh MAP DIR}
dir=${2:?usage: layers.sh MAP DIR}
here=$(dirname "$0")
layers=$(awk '
	/^\| *layer *\| *modules *\| *may use *\|/ { intable = 1; next }
	intable && !/^\|/ { intable = 0 }
	intable && /^\| *[0-9]/ {
		split($0, col, "|")
		layer = col[2]; sub(/^ */, "", layer); layer = substr(layer, 1, 1)
		mods = col[3]; use = col[4]
		allowed = "," layer ","
		if (use ~ /everything/)
			allowed = "all"
		else if (match(use, /[0-9]-[0-9]/))
			for (i = substr(use, RSTART, 1); i <= substr(use, RSTART + 2, 1); i++)
				allowed = allowed i ","
		else if (match(use, /^ *[0-9] *$/))
			allowed = allowed substr(use, RSTART + RLENGTH - 2, 1) ","
		while (match(mods, /`[^`]*`/)) {
			m = substr(mods, RSTART + 1, RLENGTH - 2)
			mods = substr(mods, RSTART + RLENGTH)
			sub(/^core\//, "", m)
			sub(/\.[ch]$/, "", m)
			if (m ~ /^[a-z_]+$/)
				print m, layer, allowed
		}
	}' "$map")
bad=0
for f in "$dir"/*.c "$dir"/*.h; do
	[ -e "$f" ] || continue
	m=$(basename "$f")
	m=${m%.*}
	if ! printf '%s\n' "$layers" | grep -q "^$m "; then
		echo "unmapped $m"
	fi
done | sort -u | grep . && bad=1
out=$(bash "$here/include-cycles.sh" --edges "$dir" | awk '
	NR == FNR { layer[$1] = $2; allowed[$1] = $3; next }
	($1 in layer) && ($2 in layer) && allowed[$1] != "all" && index(allowed[$1], "," layer[$2] ",") == 0 {
		print $1 " (" layer[$1] ") uses " $2 " (" layer[$2] ")"
	}' <(printf '%s\n' "$layers") -)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	bad=1
fi
exit $bad
