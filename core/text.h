/* text.h - UTF-8 for ids and human output, by utf8proc.
 *
 * User strings are validated as UTF-8; ids are NFC-normalised so that the
 * same name typed two ways is one id; table columns use display widths and
 * are cut at grapheme boundaries. */
#ifndef WR_TEXT_H
#define WR_TEXT_H

#include <stddef.h>

/* 1 when s[0..n) is valid UTF-8 without NUL, else 0. */
int wr_utf8_valid(const char *s, size_t n);
/* NFC of a valid UTF-8 string, newly allocated; NULL if s is not valid. */
char *wr_id_nfc(const char *s);
/* Display width in terminal columns (combining marks 0, CJK and emoji 2). */
size_t wr_text_width(const char *s);
/* Newly allocated copy of s cut to at most width columns at a grapheme
 * boundary, ending in "…" when cut. */
char *wr_text_fit(const char *s, size_t width);
/* The first line of s when s is wrapped at width columns: returns its
 * length in bytes, broken after the last space that fits or else at a
 * grapheme boundary (one grapheme at least, so that wrapping ends); *next
 * is where the following line starts (past the spaces at the break). */
size_t wr_text_wrap(const char *s, size_t width, size_t *next);

#endif
