#!/bin/bash
# func-length.sh MAX FILE... - the functions of C files longer than MAX
# lines, from the line that opens their body to the one that closes it.
# The code's style: a definition's body opens with a "{" alone at column 0
# (or ending its first line) and closes with a "}" at column 0; its name is
# the identifier before the first "(" of the lines above the "{".
# Prints "FILE:LINE: NAME is N lines (at most MAX)" for each; exits 1 when
# there is one (0: none).
set -eu
max=${1:?usage: func-length.sh MAX FILE...}
shift
awk -v max="$max" '
	FNR == 1 { inside = 0; head = "" }
	!inside && /^[A-Za-z_]/ { head = /\(/ && !/;[ \t]*$/ ? $0 : ""; hline = FNR }
	!inside && head != "" && (/^\{/ || /^[A-Za-z_].*\)[ \t]*\{[ \t]*$/) {
		inside = 1; start = FNR
		name = head
		sub(/\(.*/, "", name)
		sub(/.*[ \t*]/, "", name)
		next
	}
	inside && /^\}/ {
		inside = 0
		n = FNR - start + 1
		if (n > max) {
			printf "%s:%d: %s is %d lines (at most %d)\n", FILENAME, hline, name, n, max
			bad = 1
		}
		head = ""
	}
	END { exit bad }' "$@"
