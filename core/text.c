/* text.c - UTF-8 validation, NFC and display width with utf8proc. */
#include "text.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int wr_utf8_valid(const char *s, size_t n)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)n;
	while (left > 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p, left, &cp);
		if (k <= 0 || cp == 0)
			return 0;
		p += k;
		left -= k;
	}
	return 1;
}

char *wr_id_nfc(const char *s)
{
	if (!wr_utf8_valid(s, strlen(s)))
		return NULL;
	utf8proc_uint8_t *r = utf8proc_NFC((const utf8proc_uint8_t *)s);
	if (!r)
		return NULL;
	char *out = wr_xstrdup((char *)r);
	free(r);
	return out;
}

static int cp_width(utf8proc_int32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 1; /* shown as '?' by callers that sanitise */
	if (cp >= 0x1F1E6 && cp <= 0x1F1FF)
		return 2; /* regional indicators: a pair is one flag, drawn 2 wide */
	int w = utf8proc_charwidth(cp);
	/* utf8proc gives 1 to emoji presentation; terminals draw 2. */
	if (w == 1 && utf8proc_get_property(cp)->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC && cp >= 0x1F000)
		w = 2;
	return w < 0 ? 0 : w;
}

/* Walks graphemes: calls back with the byte span and width of each. */
static size_t next_grapheme(const utf8proc_uint8_t *p, utf8proc_ssize_t left, size_t *width)
{
	utf8proc_int32_t state = 0, cp, prev = -1;
	utf8proc_ssize_t used = 0;
	size_t w = 0;
	while (used < left) {
		utf8proc_ssize_t k = utf8proc_iterate(p + used, left - used, &cp);
		if (k <= 0) {
			if (used == 0) {
				*width = 1;
				return 1;
			}
			break;
		}
		if (prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state))
			break;
		if (prev < 0 || w == 0)
			w = (size_t)cp_width(cp) > w ? (size_t)cp_width(cp) : w;
		else if (cp == 0xFE0F && w == 1)
			w = 2; /* emoji presentation selector */
		prev = cp;
		used += k;
	}
	*width = w;
	return (size_t)used;
}

size_t wr_text_width(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
	size_t total = 0;
	while (left > 0) {
		size_t w;
		size_t k = next_grapheme(p, left, &w);
		total += w;
		p += k;
		left -= (utf8proc_ssize_t)k;
	}
	return total;
}

char *wr_text_fit(const char *s, size_t width)
{
	if (wr_text_width(s) <= width)
		return wr_xstrdup(s);
	struct wr_buf b = {0};
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
	size_t used = 0;
	while (left > 0 && width > 0) {
		size_t w;
		size_t k = next_grapheme(p, left, &w);
		if (used + w > width - 1)
			break;
		wr_buf_add(&b, p, k);
		used += w;
		p += k;
		left -= (utf8proc_ssize_t)k;
	}
	if (width > 0)
		wr_buf_addstr(&b, "\xe2\x80\xa6");
	return b.p ? b.p : wr_xstrdup("");
}

size_t wr_text_wrap(const char *s, size_t width, size_t *next)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
	size_t used = 0, off = 0, at_space = 0;
	while (left > 0) {
		size_t w;
		size_t k = next_grapheme(p + off, left, &w);
		if (used + w > width && off > 0)
			break;
		if (p[off] == ' ' && off > 0)
			at_space = off;
		used += w;
		off += k;
		left -= (utf8proc_ssize_t)k;
	}
	size_t end = left > 0 && p[off] != ' ' && at_space ? at_space : off;
	size_t n = end;
	while (end > 0 && s[end - 1] == ' ')
		end--;
	while (s[n] == ' ')
		n++;
	*next = n;
	return end;
}
