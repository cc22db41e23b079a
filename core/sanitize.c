/* sanitize.c - control characters and broken UTF-8 become '?'. */
#include "sanitize.h"

#include <utf8proc.h>

static int is_control(utf8proc_int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

/* Length of the valid, printable character at p, or 0 when it must be
 * replaced (a control character, or a byte that starts no valid UTF-8);
 * *skip: how many bytes the replacement covers. */
static size_t keep_len(const char *p, size_t left, size_t *skip)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)p, (utf8proc_ssize_t)left, &cp);
	if (k <= 0) {
		*skip = 1;
		return 0;
	}
	*skip = (size_t)k;
	return is_control(cp) ? 0 : (size_t)k;
}

size_t wr_sanitize(char *s, size_t n)
{
	size_t r = 0, w = 0;
	while (r < n) {
		size_t skip, k = keep_len(s + r, n - r, &skip);
		if (k == 0) {
			s[w++] = '?';
		} else {
			for (size_t i = 0; i < k; i++)
				s[w++] = s[r + i];
		}
		r += skip;
	}
	s[w] = 0;
	return w;
}

int wr_is_sanitized(const char *s, size_t n)
{
	size_t r = 0;
	while (r < n) {
		size_t skip;
		if (keep_len(s + r, n - r, &skip) == 0)
			return 0;
		r += skip;
	}
	return 1;
}
