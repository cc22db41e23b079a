/* ledger_io.c - export and import of a ledger's decisions (ledger_io.h). */
#include "ledger_io.h"
#include "err.h"
#include "scan.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int wr_ledger_export(struct wr_ledger *l, int fd)
{
	char buf[1 << 16];
	for (off_t off = 0; off < l->scan.off;) {
		size_t want = (size_t)(l->scan.off - off) < sizeof buf ? (size_t)(l->scan.off - off) : sizeof buf;
		ssize_t n = pread(l->store.fd, buf, want, off);
		if (n <= 0) {
			wr_seterrsys("unable to read %s", l->path);
			return -1;
		}
		if (wr_write_all(fd, buf, (size_t)n) < 0) {
			wr_seterrsys("unable to write the export of %s", l->path);
			return -1;
		}
		off += n;
	}
	return 0;
}

/* The decisions of the file: where each begins; the first bad line. */
struct cuts {
	off_t *at;
	size_t n, cap;
	int64_t bad;
	char first_bad[512];
};

static void cut_events(void *ctx, const struct wr_event *evs, size_t n, int64_t line, off_t off)
{
	struct cuts *c = ctx;
	(void)evs;
	(void)n;
	(void)line;
	WR_GROW(c->at, c->cap, c->n + 1);
	c->at[c->n++] = off;
}

static void cut_error(void *ctx, const struct wr_scan_error *e)
{
	struct cuts *c = ctx;
	if (!c->bad++)
		snprintf(c->first_bad, sizeof c->first_bad, "%s:%lld:%d: %s", e->path, (long long)e->line, e->column,
			 e->msg);
}

/* Reads the file whole and finds its decisions; refuses a file that is not
 * clean. Returns the fd (the caller closes it) or -1. */
static int read_source(const char *path, struct cuts *c, off_t *end)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		wr_seterrsys("unable to open %s", path);
		return -1;
	}
	struct wr_scan s;
	wr_scan_init(&s, fd, path);
	struct wr_scan_cb cb = {c, cut_events, cut_error, NULL};
	if (wr_scan_run(&s, &cb) < 0) {
		close(fd);
		return -1;
	}
	if (c->bad || s.torn) {
		if (c->bad)
			wr_seterr("refusing to import %s: %lld bad line%s (the first: %s); see them with: wr-ledger verify "
				  "--ledger %s", path, (long long)c->bad, c->bad == 1 ? "" : "s", c->first_bad, path);
		else
			wr_seterr("refusing to import %s: it ends in a torn tail (line %lld); repair it first: wr-ledger "
				  "repair --ledger %s", path, (long long)s.line, path);
		wr_seterrkind(WR_E_INPUT);
		close(fd);
		return -1;
	}
	*end = s.off;
	return fd;
}

/* Reads [from, to) of fd into a new buffer. */
static char *slice(int fd, off_t from, off_t to, const char *path)
{
	size_t n = (size_t)(to - from);
	char *p = wr_xmalloc(n ? n : 1);
	if (pread(fd, p, n, from) != (ssize_t)n) {
		wr_seterrsys("unable to read %s", path);
		free(p);
		return NULL;
	}
	return p;
}

/* The number of the file's decisions the store holds already (their bytes
 * the same, in the same order), or -1 when it holds anything else. */
static int64_t held(struct wr_ledger *l, int src, const char *path, const struct cuts *c, off_t end)
{
	off_t have = l->scan.off;
	if (have == 0)
		return 0;
	size_t k = 0;
	while (k < c->n && c->at[k] < have)
		k++;
	if ((k < c->n ? c->at[k] : end) != have) {
		wr_seterr("refusing to import %s into %s: it is not empty and what it holds is no beginning of the file",
			  path, l->path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	char *a = slice(src, 0, have, path), *b = a ? slice(l->store.fd, 0, have, l->path) : NULL;
	int same = a && b && !memcmp(a, b, (size_t)have);
	free(a);
	free(b);
	if (!same) {
		wr_seterr("refusing to import %s into %s: it is not empty and what it holds differs from the file", path,
			  l->path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	return (int64_t)k;
}

int wr_ledger_import(struct wr_ledger *l, const char *path, struct wr_import_result *res)
{
	memset(res, 0, sizeof *res);
	struct cuts c = {0};
	off_t end = 0;
	int src = read_source(path, &c, &end);
	if (src < 0) {
		free(c.at);
		return -1;
	}
	res->decisions = (int64_t)c.n;
	int rc = -1;
	if (wr_ledger_lock(l) < 0)
		goto out;
	int64_t k = wr_ledger_sync_locked(l) < 0 ? -1 : held(l, src, path, &c, end);
	if (k < 0)
		goto unlock;
	res->skipped = k;
	off_t at = l->scan.off;
	for (size_t i = (size_t)k; i < c.n; i++) {
		off_t to = i + 1 < c.n ? c.at[i + 1] : end;
		char *p = slice(src, c.at[i], to, path);
		int r = p ? wr_store_append(&l->store, p, (size_t)(to - c.at[i]), at, i + 1 < c.n) : -1;
		free(p);
		if (r == WR_STORE_CONFLICT)
			wr_seterr("stopped importing %s into %s after %lld decisions: another writer appended meanwhile; "
				  "import again when nothing else writes to it", path, l->path, (long long)res->appended);
		if (r != 0)
			goto unlock;
		at = to;
		res->appended++;
	}
	rc = 0;
unlock:
	wr_ledger_unlock(l);
	if (rc == 0 && wr_ledger_refresh(l) < 0)
		rc = -1;
out:
	close(src);
	free(c.at);
	return rc;
}
