/* state_diff.c - two states compared line by line through their dumps. */
#include "state_diff.h"
#include "snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lines {
	char **v;
	size_t n, cap;
};

static int cmp_line(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Splits a dump into sorted lines (they point into buf, which is cut). */
static void split(struct wr_buf *buf, struct lines *L)
{
	char *p = buf->p, *end = buf->p + buf->len;
	while (p && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl)
			*nl = 0;
		WR_GROW(L->v, L->cap, L->n + 1);
		L->v[L->n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	qsort(L->v, L->n, sizeof *L->v, cmp_line);
}

/* The length of a line's key: "state", or its kind and first field
 * ("run id=\"...\""). */
static size_t key_len(const char *s)
{
	const char *sp = strchr(s, ' ');
	if (!sp || !strncmp(s, "state ", 6))
		return sp ? (size_t)(sp - s) : strlen(s);
	const char *sp2 = strchr(sp + 1, ' ');
	return sp2 ? (size_t)(sp2 - s) : strlen(s);
}

static int key_cmp(const char *a, const char *b)
{
	size_t la = key_len(a), lb = key_len(b);
	int c = strncmp(a, b, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

/* The first " field=value" where two lines of the same key differ. */
static void first_field(const char *a, const char *b, const char **fa, size_t *la, const char **fb, size_t *lb)
{
	size_t i = 0;
	while (a[i] && a[i] == b[i])
		i++;
	while (i > 0 && a[i - 1] != ' ')
		i--;
	*fa = a + i;
	*fb = b + i;
	*la = strcspn(*fa, " ");
	*lb = strcspn(*fb, " ");
}

static void report(struct wr_buf *out, size_t *n, size_t max, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report(struct wr_buf *out, size_t *n, size_t max, const char *fmt, ...)
{
	(*n)++;
	if (*n > max)
		return;
	va_list ap;
	va_start(ap, fmt);
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	wr_buf_addstr(out, line);
	wr_buf_add(out, "\n", 1);
}

size_t wr_state_diff(const struct wr_state *a, const char *aname, const struct wr_state *b, const char *bname,
		     size_t max, struct wr_buf *out)
{
	struct wr_buf da = {0}, db = {0};
	wr_state_dump(a, &da);
	wr_state_dump(b, &db);
	struct lines A = {0}, B = {0};
	split(&da, &A);
	split(&db, &B);
	size_t i = 0, j = 0, n = 0;
	while (i < A.n || j < B.n) {
		int c = i == A.n ? 1 : j == B.n ? -1 : key_cmp(A.v[i], B.v[j]);
		if (c < 0) {
			report(out, &n, max, "%.*s: only in the %s", (int)key_len(A.v[i]), A.v[i], aname);
			i++;
		} else if (c > 0) {
			report(out, &n, max, "%.*s: only in the %s", (int)key_len(B.v[j]), B.v[j], bname);
			j++;
		} else {
			if (strcmp(A.v[i], B.v[j])) {
				const char *fa, *fb;
				size_t la, lb;
				first_field(A.v[i], B.v[j], &fa, &la, &fb, &lb);
				report(out, &n, max, "%.*s: the %s has %.*s, the %s has %.*s", (int)key_len(A.v[i]), A.v[i],
				       aname, (int)(la > 200 ? 200 : la), fa, bname, (int)(lb > 200 ? 200 : lb), fb);
			}
			i++;
			j++;
		}
	}
	if (n > max)
		wr_buf_addf(out, "... and %zu more differences\n", n - max);
	free(A.v);
	free(B.v);
	wr_buf_free(&da);
	wr_buf_free(&db);
	return n;
}
