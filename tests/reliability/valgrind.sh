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

# Errors of the test program itself count; its forked children (writers
# that _exit on purpose) are not checked: --error-exitcode would turn
# their exit status into test failures.
for p in $progs; do
	name=$(basename "$p")
	test_expect_success "$name under memcheck" '
		{ (cd "$UNIT/.." && exec valgrind --child-silent-after-fork=yes --leak-check=full --errors-for-leak-kinds=definite \
			--show-leak-kinds=definite --log-file="$TRASH/$name.vg" "$p" >"$TRASH/$name.tap" 2>&1); rc=$?; } &&
		{ [ $rc -eq 0 ] || { echo "exit $rc"; grep "^not ok" "$name.tap"; false; }; } &&
		{ grep -q "ERROR SUMMARY: 0 errors" "$name.vg" || { grep -v "^==[0-9]*== *$" "$name.vg" | head -60; false; }; }
	'
done

test_done
