/* test-sanitize - the one rule for data shown to people (core/sanitize.h):
 * C0, DEL and C1 controls and bytes of broken UTF-8 become '?', the rest is
 * kept; the helpers that tables, buffers and messages use follow it. */
#include "tap.h"
#include "err.h"
#include "output.h"
#include "sanitize.h"
#include "util.h"

#include <unistd.h>

static void clean(const char *in, size_t n, const char *want, const char *what)
{
	char *s = wr_xmalloc(n + 1);
	memcpy(s, in, n); /* in may hold NUL bytes */
	size_t k = wr_sanitize(s, n);
	is_str(s, want, "%s", what);
	is_int(k, strlen(want), "%s: length", what);
	ok(wr_is_sanitized(s, k), "%s: the result is left as it is", what);
	free(s);
}

/* Every C1 character, U+0080 .. U+009F, becomes one '?'. */
static void all_c1(void)
{
	char in[64], want[33];
	for (int i = 0; i < 32; i++) {
		in[2 * i] = (char)0xc2;
		in[2 * i + 1] = (char)(0x80 + i);
		want[i] = '?';
	}
	want[32] = 0;
	clean(in, 64, want, "all 32 C1 characters");
	ok(!wr_is_sanitized("\xc2\x9b", 2), "U+009B (CSI) is not left as it is");
}

/* Every C0 character and DEL become '?'. */
static void all_c0(void)
{
	char in[33], want[34];
	for (int i = 0; i < 32; i++) {
		in[i] = (char)i;
		want[i] = '?';
	}
	in[32] = 0x7f;
	want[32] = '?';
	want[33] = 0;
	clean(in, 33, want, "all C0 characters and DEL, NUL included");
}

static char *read_file(FILE *f)
{
	static char buf[4096];
	fflush(f);
	rewind(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	return buf;
}

static void table(void)
{
	FILE *f = tmpfile();
	static const char *const head[] = {"A", "B"};
	struct wr_table t;
	wr_table_init(&t, 2, head);
	const char *cells[] = {"x\xc2\x9b" "31my", NULL};
	wr_table_row(&t, cells);
	wr_out_set_color(0);
	wr_table_print(&t, f);
	is_str(read_file(f), "A       B\nx?31my  -\n", "a table cell shows C1 as '?', NULL as '-'");
	fclose(f);
}

static void messages(void)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	dup2(fileno(f), 2);
	wr_prog = "test";
	wr_warn("run %s:\n  line two \x1b[2J %s", "a\xc2\x85" "b", "\xc2\x9f");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	is_str(read_file(f), "test: run a?b:\n  line two ?[2J ?\n", "a message keeps its lines, each made safe");
	fclose(f);
}

int main(void)
{
	clean("hello, world", 12, "hello, world", "printable ASCII is kept");
	clean("", 0, "", "empty");
	clean("a\tb\nc\rd", 7, "a?b?c?d", "tab, newline and carriage return");
	clean("\x1b[31mred\x1b[0m", 12, "?[31mred?[0m", "an ANSI colour sequence");
	all_c0();
	all_c1();
	clean("\xc2\x9b" "2J", 4, "?2J", "U+009B CSI is one '?'");
	clean("\xc2\xa0\xc2\xbf\xc3\xa9", 6, "\xc2\xa0\xc2\xbf\xc3\xa9", "U+00A0, U+00BF, U+00E9 are kept");
	clean("\xc2\x7f", 2, "??", "a lead byte before DEL");
	clean("\xe6\x97\xa5\xf0\x9f\x8e\x89", 7, "\xe6\x97\xa5\xf0\x9f\x8e\x89", "CJK and emoji are kept");
	clean("e\xcc\x81", 3, "e\xcc\x81", "a combining mark is kept");
	clean("a\xffz", 3, "a?z", "a byte that is never UTF-8");
	clean("a\x80z", 3, "a?z", "a lone continuation byte");
	clean("ab\xe2\x82", 4, "ab??", "a sequence cut at the end");
	clean("\xc0\x80", 2, "??", "an overlong NUL");
	clean("\xed\xa0\x80", 3, "???", "a UTF-16 surrogate");
	clean("\xc2", 1, "?", "a lone lead byte");

	struct wr_buf b = {0};
	wr_buf_addstr(&b, "[");
	wr_buf_addclean(&b, "x\xc2\x9b" "y\x07");
	wr_buf_addclean(&b, NULL);
	wr_buf_addstr(&b, "]");
	is_str(wr_buf_str(&b), "[x?y?]", "wr_buf_addclean appends the safe form");
	is_int(b.len, 6, "wr_buf_addclean: the length follows");
	wr_buf_free(&b);
	char *c = wr_xstrclean(NULL);
	is_str(c, "", "wr_xstrclean(NULL) is empty");
	free(c);
	c = wr_xstrclean("\xc2\x80" "ok");
	is_str(c, "?ok", "wr_xstrclean");
	free(c);

	table();
	messages();
	return done_testing();
}
