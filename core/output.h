/* output.h - what the tools print: JSON lines for jq, tables for people.
 *
 * --json prints one compact object per line. Tables size their columns by
 * display width (utf8proc), fit a terminal's width (cutting long cells with
 * an ellipsis at a grapheme boundary, or wrapping them), keep every cell
 * whole in a pipe, and colour only on a terminal and never with NO_COLOR. */
#ifndef WR_OUTPUT_H
#define WR_OUTPUT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* Prints o as one line on stdout and releases it. */
void wr_out_json(json_t *o);
/* The same on f. */
void wr_out_jsonf(FILE *f, json_t *o);
/* 1 when colour may be used on f: a tty, NO_COLOR unset, TERM not dumb. */
int wr_out_color(FILE *f);
/* A tool's --color=WHEN: -1 auto (default), 0 never, 1 always (even off a
 * terminal, for less -R); NO_COLOR still wins. */
void wr_out_set_color(int mode);
/* 1 when stdout is a terminal. */
int wr_out_tty(void);
/* Columns of the terminal on stdout, or 0 when not a terminal. */
int wr_out_columns(void);

/* "3m ago", "in 5m", "now" */
char *wr_out_ago(int64_t now, int64_t ts, char *buf, size_t n);
/* A time for a table cell: relative ("3m ago") when stdout is a terminal,
 * RFC 3339 otherwise (for grep and awk). buf: at least WR_TS_LEN bytes. */
char *wr_out_when(int64_t now, int64_t ts, char *buf, size_t n);

#define WR_TABLE_MAXCOLS 12
struct wr_table {
	int ncols;
	const char *head[WR_TABLE_MAXCOLS];
	size_t maxw[WR_TABLE_MAXCOLS];    /* preferred width on a narrow terminal; 0: none */
	int right[WR_TABLE_MAXCOLS];      /* right-align */
	int wrap[WR_TABLE_MAXCOLS];       /* on a terminal, wrap long cells instead of cutting them */
	char **cells;                     /* rows * ncols, owned */
	const char **colors;              /* ANSI colour per cell or NULL */
	size_t rows, cap;
};

void wr_table_init(struct wr_table *t, int ncols, const char *const *head);
/* Adds a row of ncols cells (copied; NULL prints as "-"). */
void wr_table_row(struct wr_table *t, const char *const *cells);
/* Colours cell col of the last row (a static ANSI sequence). */
void wr_table_color(struct wr_table *t, int col, const char *ansi);
/* Prints the table to f and frees it. Cells were made safe for a terminal
 * by wr_sanitize (sanitize.h) when they were added. On a terminal no line
 * is wider than the terminal, in display cells: when the columns do not fit
 * the widest are narrowed (see fit_widths in output.c) and their cells cut
 * with an ellipsis at a grapheme boundary, or wrapped under their column.
 * Off a terminal every cell is printed whole, so that grep finds it. */
void wr_table_print(struct wr_table *t, FILE *f);

/* Prints text, lines of "KEY VALUE" whose first indent bytes are the key
 * (ASCII, padded), to f; on a terminal a line wider than the terminal goes
 * on in lines indented by indent cells, broken after a space where one
 * fits (a line that fits is printed as it is, whatever its key). */
void wr_out_wrapped(FILE *f, const char *text, size_t indent);

#define WR_RED "\033[31m"
#define WR_GREEN "\033[32m"
#define WR_YELLOW "\033[33m"
#define WR_BLUE "\033[34m"
#define WR_MAGENTA "\033[35m"
#define WR_DIM "\033[2m"

/* --version text: "wr-run (wr) 0.1.0". */
void wr_print_version(void);

#endif
