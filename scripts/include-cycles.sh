#!/bin/bash
# include-cycles.sh DIR - the module graph of the C files in DIR and its
# cycles. A module is a file's name without .c or .h; module a uses
# module b when a.c or a.h has `#include "b.h"` and DIR/b.h exists.
# Prints "a b" for each edge with --edges; otherwise prints the modules of
# each cycle, one cycle a line, and exits 1 when there is one (0: none).
set -eu
edges=0
if [ "${1:-}" = --edges ]; then
	edges=1
	shift
fi
dir=${1:?usage: include-cycles.sh [--edges] DIR}
graph() {
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -e "$f" ] || continue
		m=$(basename "$f")
		m=${m%.*}
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"/]*\)\.h".*/\1/p' "$f" |
			while read -r i; do
				if [ "$i" != "$m" ] && [ -e "$dir/$i.h" ]; then
					echo "$m $i"
				fi
			done
	done | sort -u
}
if [ "$edges" = 1 ]; then
	graph
	exit 0
fi
# A depth-first search from every module; a back edge closes a cycle,
# reported once by its members in the order met.
graph | awk '
	{ adj[$1] = adj[$1] " " $2; nodes[$1] = 1; nodes[$2] = 1 }
	function visit(n,    k, i, m, c, j, parts) {
		state[n] = 1; stack[++depth] = n
		k = split(adj[n], parts, " ")
		for (i = 1; i <= k; i++) {
			m = parts[i]
			if (state[m] == 1) {
				c = ""
				for (j = depth; j >= 1; j--) {
					c = stack[j] (c == "" ? "" : " ") c
					if (stack[j] == m)
						break
				}
				if (!(c in seen)) { seen[c] = 1; print c; found = 1 }
			} else if (!state[m]) {
				visit(m)
			}
		}
		depth--; state[n] = 2
	}
	END {
		for (n in nodes)
			if (!state[n])
				visit(n)
		exit found ? 1 : 0
	}'
