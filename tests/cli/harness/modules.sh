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

# Every file and directory made beside a ledger goes through core/fsmode
# (wr_fs_open, wr_fs_mkdir(s), wr_fs_file_mode), which gives it the mode of
# its directory: 0660 / 2770 in a shared ledger directory, 0600 elsewhere.
# Allowed elsewhere: wr_replace_file (its caller passes the mode), the
# nameless temp files of wr-run --quiet, and wr-run --log FILE (the user's).
creates_allowed="core/util.c:wr_replace_file cmd/run-quiet.c:temp_file cmd/wr-run.c:open_log"

# creates_outside DIR: the lines of DIR/core/*.c and DIR/cmd/*.c that
# create a file or directory other than through core/fsmode and outside
# the functions allowed, as FILE:LINE:FUNCTION.
creates_outside() {
	(cd "$1" && grep -nE 'O_CREAT|O_TMPFILE|[^_]mkdir\(|mkdirat\(|mkstemp|mkostemp|mkdtemp|[^_]creat\(|fopen\([^)]*"[wa]' \
		core/*.c cmd/*.c | grep -vE '^core/fsmode\.c:|wr_fs_open\(|^[^:]*:[0-9]+:[[:space:]]*(/?\*|//)' | while IFS=: read -r file line _; do
		fn=$(awk -v n="$line" 'NR <= n && /^[a-z].*\(/ { f = $0 } NR == n { print f; exit }' "$file" |
			sed -E 's/\(.*//; s/.*[ *]//')
		case " $creates_allowed " in *" $file:$fn "*) ;; *) echo "$file:$line:$fn" ;; esac
	done)
}

test_expect_success 'no file or directory is created beside a ledger but through core/fsmode' '
	creates_outside "$WR_SRC" >outside &&
	test_must_be_empty outside &&
	mkdir -p src/core src/cmd &&
	printf "%s\n" "static int save(const char *p)" "{" "	return open(p, O_WRONLY | O_CREAT, 0600);" "}" >src/core/new.c &&
	printf "%s\n" "int wr_x(void)" "{" "	return wr_fs_open(p, O_CREAT);" "}" >src/cmd/ok.c &&
	creates_outside src >outside &&
	echo "core/new.c:3:save" >want &&
	test_cmp want outside
'

layers=$WR_SRC/scripts/layers.sh

test_expect_success 'every module of core/ is in the module map and every include follows it' '
	{ bash "$layers" "$WR_SRC/docs/DESIGN.md" "$WR_SRC/core" >wrong; rc=$?; } &&
	test_must_be_empty wrong &&
	test "$rc" = 0
'

test_expect_success 'an include against the map and an unmapped module are found' '
	mkdir l &&
	printf "#include \"b.h\"\n" >l/a.c &&
	: >l/a.h &&
	printf "#include \"a.h\"\n" >l/b.c &&
	: >l/b.h &&
	: >l/c.h &&
	printf "%s\n" "| layer | modules | may use |" "|---|---|---|" \
		"| 0 base | \`a\` (the base) | the C library |" \
		"| 1 top | \`b.h\` (above it) | 0 |" "" \
		"| 0 other | \`c\` | not this table |" >l/map.md &&
	{ bash "$layers" l/map.md l >wrong; rc=$?; } &&
	test "$rc" = 1 &&
	printf "%s\n" "unmapped c" "a (0) uses b (1)" >want &&
	test_cmp want wrong
'

test_expect_success 'no core module includes a header of cmd/' '
	(cd "$WR_SRC/cmd" && ls *.h) >cmd_headers &&
	test -s cmd_headers &&
	names=$(sed "s/\./\\\\./" cmd_headers | paste -sd"|") &&
	{ (cd "$WR_SRC" && grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]*/)?($names)\"" \
		core/*.c core/*.h) >reaching || test $? = 1; } &&
	{ (cd "$WR_SRC" && grep -n "#[[:space:]]*include[[:space:]]*\"[^\"]*cmd/" core/*.c core/*.h) >>reaching ||
		test $? = 1; } &&
	test_must_be_empty reaching
'

# The tools read a ledger handle through core/ledger.h's accessors
# (wr_ledger_state, wr_ledger_name, ...), never through its members: the
# handle's layout stays core's to change.
members=$WR_SRC/scripts/ledger-members.sh

test_expect_success 'no file of cmd/ reads or sets a member of struct wr_ledger' '
	{ (cd "$WR_SRC" && bash scripts/ledger-members.sh core/ledger.h cmd/*.c cmd/*.h) >reach; rc=$?; } &&
	test_must_be_empty reach &&
	test "$rc" = 0
'

test_expect_success 'a tool that reaches into the handle is found, with file and line' '
	mkdir h &&
	printf "%s\n" "struct wr_ledger {" "	char *path, *qpath; /* the file */" "	struct wr_state st;" \
		"	void (*on_error)(void *ctx, int e);" "	int64_t bad_lines;" "};" >h/ledger.h &&
	printf "%s\n" "static struct wr_ledger L;" "static int f(struct wr_ledger *l, struct other *o)" "{" \
		"	return l->st.n + wr_ledger_state(l)->n + strlen(L.qpath) + strlen(o->path);" "}" \
		"	L.on_error = NULL;" >h/tool.c &&
	{ bash "$members" h/ledger.h h/tool.c >reach; rc=$?; } &&
	test "$rc" = 1 &&
	printf "%s\n" "h/tool.c:4: l->st" "h/tool.c:4: L.qpath" "h/tool.c:6: L.on_error" >want &&
	test_cmp want reach
'

# Functions at most 100 lines, counted from the "{" that opens the body to
# the "}" at column 0 that closes it.
length=$WR_SRC/scripts/func-length.sh

test_expect_success 'no function of core/ or cmd/ is longer than 100 lines' '
	{ (cd "$WR_SRC" && bash scripts/func-length.sh 100 core/*.c core/*.cc cmd/*.c) >long; rc=$?; } &&
	test_must_be_empty long &&
	test "$rc" = 0
'

test_expect_success 'a function of 101 lines is found and named, one of 100 is not' '
	{
		printf "%s\n" "/* a file */" "static int" "long_one(int a," "	 int b)" "{" &&
		for i in $(seq 99); do echo "	a += b;"; done &&
		printf "%s\n" "}" "" "int just_right(int a)" "{" &&
		for i in $(seq 98); do echo "	a++;"; done &&
		printf "%s\n" "}" "static const int table[] = {" "	1," "};"
	} >f.c &&
	{ bash "$length" 100 f.c >long; rc=$?; } &&
	test "$rc" = 1 &&
	echo "f.c:3: long_one is 101 lines (at most 100)" >want &&
	test_cmp want long
'

test_done
