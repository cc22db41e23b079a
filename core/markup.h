/* markup.h - strings from the ledger into XML (SVG) and HTML, safely.
 *
 * Every string that comes from the ledger (workflow names, reasons, hosts,
 * labels) goes through wr_xml_add before it reaches an SVG or HTML file:
 * the five markup characters become entities, and what XML 1.0 cannot
 * carry or what could mislead a reader becomes U+FFFD (the replacement
 * character): C0 controls but tab, newline and CR; DEL and C1 controls;
 * U+FFFE and U+FFFF; the bidirectional overrides and isolates (U+202A-E,
 * U+2066-9), which could show a name reversed; and any byte that is not
 * part of valid UTF-8. The result is valid in element text and in quoted
 * attribute values of XML 1.0 and HTML 5 alike. */
#ifndef WR_MARKUP_H
#define WR_MARKUP_H

#include <stddef.h>

#include "util.h"

/* Appends s (NULL: nothing) escaped. */
void wr_xml_add(struct wr_buf *b, const char *s);
/* The same, cut first to at most width display columns ("…" when cut). */
void wr_xml_add_fit(struct wr_buf *b, const char *s, size_t width);

#endif
