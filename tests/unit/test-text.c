/* test-text - UTF-8 validation, NFC ids, display width, truncation. */
#include "tap.h"
#include "text.h"

#include <stdlib.h>

#define E_ACUTE "\xc3\xa9"            /* U+00E9 precomposed */
#define E_DECOMP "e\xcc\x81"          /* e + U+0301 combining acute */
#define ELLIPSIS "\xe2\x80\xa6"

static void valid(const char *s, size_t n, int want, const char *what)
{
	is_int(wr_utf8_valid(s, n), want, "%s %s", what, want ? "is valid" : "is refused");
}

static void width(const char *s, size_t want, const char *what)
{
	is_int(wr_text_width(s), want, "width of %s", what);
}

static void fit(const char *s, size_t w, const char *want, const char *what)
{
	char *r = wr_text_fit(s, w);
	is_str(r, want, "fit %s in %zu", what, w);
	if (r)
		ok(wr_text_width(r) <= w, "result of %s fits in %zu columns", what, w);
	if (r)
		ok(wr_utf8_valid(r, strlen(r)), "result of %s is valid UTF-8", what);
	free(r);
}

/* Wraps s at w columns and joins the lines with '|'. */
static void wrap(const char *s, size_t w, const char *want, const char *what)
{
	char out[512];
	size_t o = 0, next;
	int fits = 1;
	while (*s) {
		size_t n = wr_text_wrap(s, w, &next);
		char line[256];
		snprintf(line, sizeof line, "%.*s", (int)n, s);
		fits &= wr_text_width(line) <= w || wr_text_width(line) == 2; /* a wide char in 1 */
		o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", o ? "|" : "", line);
		s += next;
	}
	out[o] = '\0';
	is_str(out, want, "wrap %s at %zu", what, w);
	ok(fits, "every line of %s fits in %zu columns", what, w);
}

int main(void)
{
	valid("", 0, 1, "empty");
	valid("hello", 5, 1, "ASCII");
	valid(E_ACUTE "t" E_ACUTE, 5, 1, "two-byte");
	valid("\xe6\x97\xa5\xe6\x9c\xac", 6, 1, "CJK three-byte");
	valid("\xf0\x9f\x98\x80", 4, 1, "emoji four-byte");
	valid("\xf4\x8f\xbf\xbf", 4, 1, "U+10FFFF");
	valid("a\0b", 3, 0, "embedded NUL");
	valid("\x80", 1, 0, "lone continuation byte");
	valid("\xc3", 1, 0, "truncated two-byte");
	valid("\xe2\x82", 2, 0, "truncated three-byte");
	valid("\xc0\x80", 2, 0, "overlong NUL");
	valid("\xc1\xbf", 2, 0, "overlong two-byte");
	valid("\xe0\x80\xaf", 3, 0, "overlong three-byte");
	valid("\xed\xa0\x80", 3, 0, "UTF-16 surrogate");
	valid("\xf4\x90\x80\x80", 4, 0, "beyond U+10FFFF");
	valid("\xfe", 1, 0, "byte 0xFE");
	valid("\xff\xff", 2, 0, "bytes 0xFF");
	valid("ok\xe9t\xe9", 6, 0, "Latin-1 text");
	valid("hello", 3, 1, "a prefix by length");

	/* NFC of ids */
	char *a = wr_id_nfc("caf" E_ACUTE);
	char *b = wr_id_nfc("caf" E_DECOMP);
	ok(strcmp("caf" E_ACUTE, "caf" E_DECOMP) != 0, "composed and decomposed differ as bytes");
	is_str(a, "caf" E_ACUTE, "NFC of composed is itself");
	is_str(b, "caf" E_ACUTE, "NFC of decomposed is composed");
	ok(a && b && !strcmp(a, b), "the same name typed two ways is one id");
	free(a);
	free(b);
	a = wr_id_nfc("\xe2\x84\xab");      /* ANGSTROM SIGN -> U+00C5 under NFC */
	is_str(a, "\xc3\x85", "NFC maps the Angstrom sign to A-ring");
	free(a);
	a = wr_id_nfc("plain-id_42");
	is_str(a, "plain-id_42", "ASCII id unchanged");
	free(a);
	ok(wr_id_nfc("bad\xff") == NULL, "NFC of invalid UTF-8 is NULL");
	ok(wr_id_nfc("\xc0\x80") == NULL, "NFC of an overlong is NULL");

	/* display width */
	width("", 0, "empty");
	width("hello", 5, "ASCII");
	width("caf" E_ACUTE, 4, "composed e-acute");
	width("caf" E_DECOMP, 4, "decomposed e-acute (combining mark is 0)");
	width("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 6, "three CJK ideographs");
	width("\xef\xbc\xa1", 2, "fullwidth A");
	width("\xf0\x9f\x98\x80", 2, "an emoji");
	width("a\xf0\x9f\x98\x80z", 4, "emoji between letters");
	width("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7", 2, "a ZWJ family emoji (one grapheme)");
	width("\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", 2, "a flag (two regional indicators)");
	width("\xe2\x9d\xa4\xef\xb8\x8f", 2, "heart with emoji presentation selector");
	width("a\xcc\x81\xcc\x82\xcc\x83", 1, "a with three combining marks");

	/* grapheme-safe truncation */
	fit("hello", 10, "hello", "short ASCII");
	fit("hello", 5, "hello", "exact ASCII");
	fit("hello world", 5, "hell" ELLIPSIS, "long ASCII");
	fit("hello", 1, ELLIPSIS, "ASCII in one column");
	fit("hello", 0, "", "ASCII in zero columns");
	fit(E_DECOMP E_DECOMP E_DECOMP E_DECOMP, 3, E_DECOMP E_DECOMP ELLIPSIS, "decomposed accents (marks kept with their base)");
	fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, "\xe6\x97\xa5" ELLIPSIS, "CJK (no half character)");
	fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, "\xe6\x97\xa5\xe6\x9c\xac" ELLIPSIS, "CJK in 5");
	fit("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7xyz", 3, "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7" ELLIPSIS,
	    "ZWJ emoji kept whole");
	fit("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7xyz", 2, ELLIPSIS, "ZWJ emoji never split");
	fit("\xf0\x9f\x87\xab\xf0\x9f\x87\xb7\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa", 3, "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7" ELLIPSIS, "flags never split");

	/* wrapping */
	wrap("hello world", 20, "hello world", "a short line");
	wrap("hello big world", 9, "hello big|world", "at a space");
	wrap("hello   world", 7, "hello|world", "spaces at the break dropped");
	wrap("abcdefghij", 4, "abcd|efgh|ij", "a word longer than the line");
	wrap("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, "\xe6\x97\xa5\xe6\x9c\xac|\xe8\xaa\x9e", "CJK (no half character)");
	wrap("a" E_DECOMP E_DECOMP "b", 2, "a" E_DECOMP "|" E_DECOMP "b", "combining marks kept with their base");
	wrap("\xe6\x97\xa5x", 1, "\xe6\x97\xa5|x", "a wide character in one column (one grapheme a line)");
	return done_testing();
}
