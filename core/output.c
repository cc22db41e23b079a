/* output.c - JSON lines and terminal tables. */
#include "output.h"
#include "err.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void wr_out_jsonf(FILE *f, json_t *o)
{
	/* 10 significant digits: rates print as 0.6666666667, not with
	 * binary noise (0.90000000000000002). */
	if (json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) == 0)
		fputc('\n', f);
	json_decref(o);
}

void wr_out_json(json_t *o)
{
	wr_out_jsonf(stdout, o);
}

int wr_out_tty(void)
{
	return isatty(STDOUT_FILENO);
}

static int color_mode = -1;

void wr_out_set_color(int mode)
{
	color_mode = mode;
}

int wr_out_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	if (nc && *nc)
		return 0;
	if (color_mode >= 0)
		return color_mode;
	if (term && !strcmp(term, "dumb"))
		return 0;
	return isatty(fileno(f));
}

int wr_out_columns(void)
{
	struct winsize ws;
	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	return c && atoi(c) > 0 ? atoi(c) : 80;
}

char *wr_out_ago(int64_t now, int64_t ts, char *buf, size_t n)
{
	char d[32];
	int64_t diff = now - ts;
	if (diff > -1000 && diff < 1000)
		snprintf(buf, n, "now");
	else if (diff > 0)
		snprintf(buf, n, "%s ago", wr_dur_format(diff / 1000 * 1000, d, sizeof d));
	else
		snprintf(buf, n, "in %s", wr_dur_format(-diff / 1000 * 1000, d, sizeof d));
	return buf;
}

char *wr_out_when(int64_t now, int64_t ts, char *buf, size_t n)
{
	if (wr_out_tty())
		return wr_out_ago(now, ts, buf, n);
	char t[WR_TS_LEN];
	snprintf(buf, n, "%s", wr_ts_format(ts, t));
	return buf;
}

void wr_table_init(struct wr_table *t, int ncols, const char *const *head)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	for (int i = 0; i < ncols; i++)
		t->head[i] = head[i];
}

void wr_table_row(struct wr_table *t, const char *const *cells)
{
	size_t need = (t->rows + 1) * (size_t)t->ncols;
	if (need > t->cap) {
		size_t old = t->cap;
		WR_GROW(t->cells, t->cap, need);
		t->colors = wr_xrealloc(t->colors, t->cap * sizeof *t->colors);
		memset(t->colors + old, 0, (t->cap - old) * sizeof *t->colors);
	}
	for (int i = 0; i < t->ncols; i++) {
		t->cells[t->rows * (size_t)t->ncols + (size_t)i] = wr_xstrclean(cells[i] ? cells[i] : "-");
		t->colors[t->rows * (size_t)t->ncols + (size_t)i] = NULL;
	}
	t->rows++;
}

void wr_table_color(struct wr_table *t, int col, const char *ansi)
{
	if (t->rows)
		t->colors[(t->rows - 1) * (size_t)t->ncols + (size_t)col] = ansi;
}

/* Column widths on a terminal of cols columns: every column as wide as its
 * widest cell, then, while the rows are wider than the terminal, the widest
 * column narrowed by one: first those over their preferred width (maxw),
 * then wrapping columns down to 20, then any column down to its heading
 * (at least 6), and at last down to 2 (one character and the ellipsis). */
static void fit_widths(const struct wr_table *t, size_t *w, size_t cols)
{
	size_t total = 2 * (size_t)(t->ncols - 1), floor[WR_TABLE_MAXCOLS];
	for (int c = 0; c < t->ncols; c++)
		total += w[c];
	for (int phase = 0; phase < 4 && total > cols; phase++) {
		for (int c = 0; c < t->ncols; c++) {
			size_t hw = wr_text_width(t->head[c]);
			size_t f = phase == 0 ? (t->maxw[c] ? t->maxw[c] : w[c])
				 : phase == 1 ? (t->wrap[c] ? 20 : w[c])
				 : phase == 2 ? (hw > 6 ? hw : 6)
					      : 2;
			floor[c] = f < w[c] ? f : w[c];
		}
		while (total > cols) {
			int widest = -1;
			for (int c = 0; c < t->ncols; c++)
				if (w[c] > floor[c] && (widest < 0 || w[c] > w[widest]))
					widest = c;
			if (widest < 0)
				break;
			w[widest]--;
			total--;
		}
	}
}

/* Prints n spaces before the next text (none at the end of a line). */
static void flush_pad(FILE *f, size_t *pending)
{
	for (; *pending; (*pending)--)
		fputc(' ', f);
}

/* One line of a row: cells[c] from byte off[c], cut or wrapped to w[c].
 * Returns 1 while a wrapping cell has more to print. */
static int print_line(const struct wr_table *t, FILE *f, char **cells, const char **colors, const size_t *w,
		      size_t *off, int first, int fit)
{
	size_t pending = 0;
	int more = 0;
	for (int c = 0; c < t->ncols; c++) {
		const char *s = cells[c] + off[c];
		char *piece = NULL;
		if (fit && t->wrap[c]) {
			size_t next, len = wr_text_wrap(s, w[c], &next);
			piece = wr_xstrndup(s, len);
			off[c] += next;
			more |= cells[c][off[c]] != '\0';
		} else if (!first) {
			piece = wr_xstrdup("");
		} else if (fit && wr_text_width(s) > w[c]) {
			piece = wr_text_fit(s, w[c]);
		} else {
			piece = wr_xstrdup(s);
		}
		size_t cw = wr_text_width(piece);
		size_t gap = w[c] > cw ? w[c] - cw : 0;
		if (t->right[c])
			pending += gap;
		if (*piece) {
			flush_pad(f, &pending);
			if (colors && colors[c])
				fprintf(f, "%s%s\033[0m", colors[c], piece);
			else
				fputs(piece, f);
		}
		pending += (t->right[c] ? 0 : gap) + 2;
		free(piece);
	}
	fputc('\n', f);
	return more;
}

void wr_table_print(struct wr_table *t, FILE *f)
{
	size_t w[WR_TABLE_MAXCOLS] = {0}, off[WR_TABLE_MAXCOLS];
	int color = wr_out_color(f);
	int fit = isatty(fileno(f)); /* piped: every value whole, for grep */
	for (int c = 0; c < t->ncols; c++) {
		w[c] = wr_text_width(t->head[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t cw = wr_text_width(t->cells[r * (size_t)t->ncols + (size_t)c]);
			if (cw > w[c])
				w[c] = cw;
		}
	}
	if (fit)
		fit_widths(t, w, (size_t)wr_out_columns());
	char *head[WR_TABLE_MAXCOLS];
	for (int c = 0; c < t->ncols; c++)
		head[c] = (char *)t->head[c];
	memset(off, 0, sizeof off);
	print_line(t, f, head, NULL, w, off, 1, fit);
	for (size_t r = 0; r < t->rows; r++) {
		char **cells = &t->cells[r * (size_t)t->ncols];
		const char **colors = color ? &t->colors[r * (size_t)t->ncols] : NULL;
		memset(off, 0, sizeof off);
		for (int first = 1; print_line(t, f, cells, colors, w, off, first, fit); first = 0)
			;
	}
	for (size_t i = 0; i < t->rows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->colors);
	memset(t, 0, sizeof *t);
}

void wr_out_wrapped(FILE *f, const char *text, size_t indent)
{
	size_t cols = isatty(fileno(f)) ? (size_t)wr_out_columns() : 0;
	if (cols <= indent + 10) {
		fputs(text, f);
		return;
	}
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		size_t key = len < indent ? len : indent, next;
		char *whole = wr_xstrndup(line, len);
		size_t w = wr_text_width(whole);
		free(whole);
		if (w <= cols) {
			fprintf(f, "%.*s\n", (int)len, line);
			line += len + (nl != NULL);
			continue;
		}
		char *value = wr_xstrndup(line + key, len - key);
		fwrite(line, 1, key, f);
		const char *rest = value;
		do {
			size_t n = wr_text_wrap(rest, cols - indent, &next);
			fprintf(f, "%*s%.*s\n", rest == value ? 0 : (int)indent, "", (int)n, rest);
			rest += next;
		} while (*rest);
		free(value);
		line += len + (nl != NULL);
	}
}

void wr_print_version(void)
{
	printf("%s (wr) %s\n", wr_prog, WR_VERSION);
}
