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

void wr_out_json(json_t *o)
{
	if (json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) == 0)
		fputc('\n', stdout);
	json_decref(o);
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

static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

void wr_table_print(struct wr_table *t, FILE *f)
{
	size_t w[WR_TABLE_MAXCOLS] = {0};
	int color = wr_out_color(f);
	for (int c = 0; c < t->ncols; c++) {
		w[c] = wr_text_width(t->head[c]);
		for (size_t r = 0; r < t->rows; r++) {
			char **cell = &t->cells[r * (size_t)t->ncols + (size_t)c];
			if (t->maxw[c] && wr_text_width(*cell) > t->maxw[c]) {
				char *cut = wr_text_fit(*cell, t->maxw[c]);
				free(*cell);
				*cell = cut;
			}
			size_t cw = wr_text_width(*cell);
			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (int c = 0; c < t->ncols; c++) {
		size_t hw = wr_text_width(t->head[c]);
		if (t->right[c])
			pad(f, w[c] - hw);
		fputs(t->head[c], f);
		if (c + 1 < t->ncols)
			pad(f, (t->right[c] ? 0 : w[c] - hw) + 2);
	}
	fputc('\n', f);
	for (size_t r = 0; r < t->rows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			size_t i = r * (size_t)t->ncols + (size_t)c;
			size_t cw = wr_text_width(t->cells[i]);
			if (t->right[c])
				pad(f, w[c] - cw);
			if (color && t->colors[i])
				fprintf(f, "%s%s\033[0m", t->colors[i], t->cells[i]);
			else
				fputs(t->cells[i], f);
			if (c + 1 < t->ncols)
				pad(f, (t->right[c] ? 0 : w[c] - cw) + 2);
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < t->rows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->colors);
	memset(t, 0, sizeof *t);
}

void wr_print_version(void)
{
	printf("%s (wr) %s\n", wr_prog, WR_VERSION);
}
