/* sanitize.h - the one rule for data shown to people.
 *
 * Every string that comes from the ledger (or from a command's output) and
 * is printed for a human goes through wr_sanitize, so data can never drive
 * the terminal: C0 controls (U+0000..U+001F), DEL (U+007F) and C1 controls
 * (U+0080..U+009F, the bytes C2 80..C2 9F in UTF-8; U+009B is a CSI) each
 * become one '?', and so does each byte that is not part of valid UTF-8.
 * Everything else is kept byte for byte. JSON output is never sanitized: it
 * is escaped by jansson and read by programs.
 *
 * This module depends on nothing else in wr (err.c uses it), so every layer
 * may call it. */
#ifndef WR_SANITIZE_H
#define WR_SANITIZE_H

#include <stddef.h>

/* Rewrites s[0..n) in place by the rule above and NUL-terminates it at the
 * new length, which it returns (never more than n: a replacement is never
 * longer than what it replaces). s must have room for n + 1 bytes. */
size_t wr_sanitize(char *s, size_t n);
/* 1 when s[0..n) is already as wr_sanitize would leave it. */
int wr_is_sanitized(const char *s, size_t n);

#endif
