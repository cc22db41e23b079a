#!/usr/bin/env bash
# valgrind.sh - the core unit tests under valgrind memcheck (issue 7,
# sanitizers): no invalid read or write, no use of uninitialised memory,
# no definite leak. Skipped in sanitizer builds (ASan and valgrind do not
# mix) and when valgrind is missing (apt-get install valgrind).
. "$(dirname "$0")/lib.sh"

UNIT=$WR_BUILD/tests/unit
if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind is not installed"
	exit 0
fi
progs=$(find "$UNIT" -maxdepth 1 -type f -perm -u+x -name 'test-*' 2>/dev/null | sort)
if [ -z "$progs" ]; then
	echo "1..0 # SKIP no unit tests built"
	exit 0
fi
if ldd $(echo "$progs" | head -1) | grep -q -E 'libasan|libubsan'; then
	echo "1..0 # SKIP a sanitizer build"
	exit 0
fi

for p in $progs; do
	name=$(basename "$p")
	test_expect_success "$name under memcheck" '
		cd "$UNIT/.." && valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			--show-leak-kinds=definite "$p" >"$TRASH/$name.tap" 2>"$TRASH/$name.vg"; rc=$?; cd "$TRASH" &&
		{ [ $rc -eq 0 ] || { echo "exit $rc"; tail -40 "$name.vg"; grep "^not ok" "$name.tap"; false; }; }
	'
done

test_done
