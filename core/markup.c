/* markup.c - escaping for SVG and HTML (see markup.h). */
#include "markup.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static int xml_unsafe(int32_t cp)
{
	if (cp < 0x20)
		return cp != 0x9 && cp != 0xa && cp != 0xd;
	if (cp >= 0x7f && cp < 0xa0)
		return 1;
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 1;
	return cp == 0xfffe || cp == 0xffff || (cp >= 0xd800 && cp <= 0xdfff);
}

void wr_xml_add(struct wr_buf *b, const char *s)
{
	if (!s)
		return;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
	while (left > 0) {
		/* Runs of plain ASCII go in one piece. */
		utf8proc_ssize_t run = 0;
		while (run < left && p[run] >= 0x20 && p[run] < 0x7f && !strchr("&<>\"'", p[run]))
			run++;
		if (run) {
			wr_buf_add(b, p, (size_t)run);
			p += run;
			left -= run;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p, left, &cp);
		if (k <= 0) {
			wr_buf_addstr(b, "\xef\xbf\xbd");
			p++;
			left--;
			continue;
		}
		switch (cp) {
		case '&': wr_buf_addstr(b, "&amp;"); break;
		case '<': wr_buf_addstr(b, "&lt;"); break;
		case '>': wr_buf_addstr(b, "&gt;"); break;
		case '"': wr_buf_addstr(b, "&quot;"); break;
		case '\'': wr_buf_addstr(b, "&#39;"); break;
		default:
			if (xml_unsafe(cp))
				wr_buf_addstr(b, "\xef\xbf\xbd");
			else
				wr_buf_add(b, p, (size_t)k);
		}
		p += k;
		left -= k;
	}
}

void wr_xml_add_fit(struct wr_buf *b, const char *s, size_t width)
{
	if (!s)
		return;
	char *cut = wr_text_fit(s, width);
	wr_xml_add(b, cut);
	free(cut);
}
