#!/bin/bash
# modules.sh - the module graph of core/ has no cycle (docs/DESIGN.md,
# "The module map"), and the check finds one when there is.
. "$(dirname "$0")/../lib.sh"

check=$WR_SRC/scripts/include-cycles.sh

test_expect_success 'the include graph of core/ has no cycle' '
	{ bash "$check" "$WR_SRC/core" >cycles; rc=$?; } &&
	test_must_be_empty cycles &&
	test "$rc" = 0
'

test_expect_success 'a cycle through three modules is found and named' '
	mkdir m &&
	printf "#include \"b.h\"\n" >m/a.h &&
	printf "#include \"c.h\"\n" >m/b.c &&
	: >m/b.h &&
	printf "#include \"a.h\"\n#include <stdio.h>\n" >m/c.h &&
	{ bash "$check" m >cycles; rc=$?; } &&
	test "$rc" = 1 &&
	echo "c a b" >want &&
	test_cmp want cycles
'

test_expect_success 'a file that includes its own header is no cycle' '
	mkdir s &&
	printf "#include \"x.h\"\n" >s/x.c &&
	: >s/x.h &&
	{ bash "$check" s >cycles; rc=$?; } &&
	test "$rc" = 0 &&
	test_must_be_empty cycles
'

# wr_map_at and wr_map_key_at are the one way through a map's entries
# (core/map.h): the table's layout stays map.c's to change.
test_expect_success 'no code outside core/map walks the entries of a map by hand' '
	{ (cd "$WR_SRC" && grep -nE "(\\.|->)ent\\[" core/*.c core/*.h cmd/*.c cmd/*.h) >walks ||
		test $? = 1; } &&
	grep -q "^core/map\\.h:" walks &&
	{ grep -v "^core/map\\.[ch]:" walks >outside || test $? = 1; } &&
	test_must_be_empty outside
'

test_done
