/* outlog.c - the output logs of attempts beside the ledger (outlog.h). */
#include "outlog.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "err.h"
#include "event.h"
#include "fsmode.h"
#include "sanitize.h"
#include "timefmt.h"
#include "util.h"

/* n bytes of p, NUL bytes included, NUL-terminated (newly allocated). */
static char *memdup0(const char *p, size_t n)
{
	char *s = wr_xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

/* ---- the ring ---- */

void wr_ring_init(struct wr_ring *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->cap = cap;
	r->p = wr_xmalloc(cap ? cap : 1);
}

void wr_ring_add(struct wr_ring *r, const void *p, size_t n)
{
	const char *s = p;
	r->total = wr_add_sat(r->total, (int64_t)n);
	if (!r->cap)
		return;
	if (n >= r->cap) { /* only its end stays */
		memcpy(r->p, s + n - r->cap, r->cap);
		r->start = 0;
		r->len = r->cap;
		return;
	}
	size_t end = (r->start + r->len) % r->cap;
	size_t first = r->cap - end < n ? r->cap - end : n;
	memcpy(r->p + end, s, first);
	memcpy(r->p, s + first, n - first);
	if (r->len + n > r->cap) {
		r->start = (r->start + r->len + n - r->cap) % r->cap;
		r->len = r->cap;
	} else {
		r->len += n;
	}
}

void wr_ring_pieces(const struct wr_ring *r, const char **a, size_t *na, const char **b, size_t *nb)
{
	size_t first = r->cap - r->start < r->len ? r->cap - r->start : r->len;
	*a = r->p + r->start;
	*na = first;
	*b = r->p;
	*nb = r->len - first;
}

void wr_ring_free(struct wr_ring *r)
{
	free(r->p);
	memset(r, 0, sizeof *r);
}

/* ---- where ---- */

char *wr_outlog_dir(const char *ledger)
{
	char *local = wr_store_local(ledger); /* a stream's logs are this host's */
	char *r = wr_xasprintf("%s.logs", local);
	free(local);
	return r;
}

/* A run id that names a directory of its own: no slash, no dot first. */
static int plain_name(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 200 && s[0] != '.' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
							 "0123456789._:-") == n;
}

char *wr_outlog_path(const char *ledger, const char *run, int64_t attempt)
{
	if (!plain_name(run) || attempt < 1)
		return NULL;
	char *dir = wr_outlog_dir(ledger);
	char *r = wr_xasprintf("%s/%s/%lld.log", dir, run, (long long)attempt);
	free(dir);
	return r;
}

/* Makes dir (mode, or 2770 in a shared ledger directory) unless it is
 * there; either way it must be a directory that only those trusted with
 * the ledger can write to (core/fsmode.h). */
static int own_dir(const char *dir, mode_t mode)
{
	if (wr_fs_mkdir(dir, mode) < 0) {
		wr_seterrsys("unable to create the log directory %s", dir);
		return -1;
	}
	return wr_fs_check_subdir(dir, "log directory", 0);
}

char *wr_outlog_run_dir(const char *ledger, const char *run)
{
	if (!plain_name(run)) {
		wr_seterr("no log for run '%s': its id is no plain file name", run);
		return NULL;
	}
	/* The ledger's directory decides who may read the logs. */
	char *ldir = wr_xstrdup(ledger);
	char *slash = strrchr(ldir, '/');
	if (slash)
		*(slash == ldir ? slash + 1 : slash) = 0;
	struct stat sb;
	mode_t mode = stat(slash ? ldir : ".", &sb) == 0 ? (sb.st_mode & 0755) : 0700;
	free(ldir);
	char *top = wr_outlog_dir(ledger);
	char *rundir = wr_xasprintf("%s/%s", top, run);
	int rc = own_dir(top, mode) < 0 || own_dir(rundir, mode) < 0 ? -1 : 0;
	free(top);
	if (rc < 0) {
		free(rundir);
		return NULL;
	}
	return rundir;
}

int wr_outlog_open(struct wr_outlog *o, const char *ledger, const char *run, int64_t attempt)
{
	memset(o, 0, sizeof *o);
	wr_ring_init(&o->st[0], WR_OUTLOG_KEEP);
	wr_ring_init(&o->st[1], WR_OUTLOG_KEEP);
	o->run = wr_xstrdup(run);
	o->attempt = attempt;
	o->path = wr_outlog_path(ledger, run, attempt);
	if (!o->path) {
		wr_seterr("no log for run '%s' attempt %lld: its id is no plain file name", run, (long long)attempt);
		return -1;
	}
	o->ledger = wr_xstrdup(ledger);
	return 0;
}

void wr_outlog_add(struct wr_outlog *o, int stream, const void *p, size_t n)
{
	wr_ring_add(&o->st[stream ? 1 : 0], p, n);
	o->dirty = 1;
}

/* ---- writing ---- */

static char *header(const struct wr_outlog *o, int live)
{
	json_t *h = json_object();
	wr_jset_int(h, "wr_log", 1);
	wr_jset_str(h, "run", o->run);
	wr_jset_int(h, "attempt", o->attempt);
	wr_jset(h, "live", json_boolean(live));
	static const char *const names[] = {"stdout", "stderr"};
	for (int i = 0; i < 2; i++) {
		json_t *s = json_object();
		wr_jset_int(s, "bytes", o->st[i].total);
		wr_jset_int(s, "kept", (int64_t)o->st[i].len);
		wr_jset(h, names[i], s);
	}
	char *t = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(h);
	if (!t)
		wr_die(wr_exit_failure, "out of memory");
	return t;
}

int wr_outlog_save(struct wr_outlog *o, int final)
{
	if (!o->path)
		return 0;
	if (o->ledger) { /* no file yet */
		if (final && !o->st[0].total && !o->st[1].total)
			return 0;
		char *dir = wr_outlog_run_dir(o->ledger, o->run);
		if (!dir)
			return -1;
		free(dir);
		free(o->ledger);
		o->ledger = NULL;
	}
	char *h = header(o, !final);
	char *tmp = wr_xasprintf("%s.tmp.%ld", o->path, (long)getpid());
	struct iovec v[6];
	v[0] = (struct iovec){h, strlen(h)};
	v[1] = (struct iovec){"\n", 1};
	for (int i = 0; i < 2; i++) {
		const char *a, *b;
		size_t na, nb;
		wr_ring_pieces(&o->st[i], &a, &na, &b, &nb);
		v[2 + 2 * i] = (struct iovec){(void *)a, na};
		v[3 + 2 * i] = (struct iovec){(void *)b, nb};
	}
	size_t want = 0;
	for (int i = 0; i < 6; i++)
		want += v[i].iov_len;
	int fd = wr_fs_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	int rc = -1;
	if (fd >= 0) {
		ssize_t w;
		do
			w = writev(fd, v, 6);
		while (w < 0 && errno == EINTR);
		if (w >= 0 && (size_t)w != want)
			errno = ENOSPC; /* a short write to a regular file: the disk is full */
		if (w >= 0 && (size_t)w == want && (!final || fsync(fd) == 0))
			rc = 0;
		if (close(fd) < 0)
			rc = -1;
	}
	if (rc == 0 && rename(tmp, o->path) < 0)
		rc = -1;
	if (rc == 0 && final && wr_fsync_dir_of(o->path) < 0)
		rc = -1;
	if (rc < 0) {
		wr_seterrsys("unable to write the log %s", o->path);
		unlink(tmp);
	}
	free(tmp);
	free(h);
	o->dirty = 0;
	return rc;
}

int wr_outlog_tick(struct wr_outlog *o, int64_t now, int64_t every_ms)
{
	if (!o->path || !o->dirty || now - o->saved_at < every_ms)
		return 0;
	o->saved_at = now;
	return wr_outlog_save(o, 0);
}

void wr_outlog_free(struct wr_outlog *o)
{
	wr_ring_free(&o->st[0]);
	wr_ring_free(&o->st[1]);
	free(o->path);
	free(o->run);
	free(o->ledger);
	memset(o, 0, sizeof *o);
}

/* ---- reading ---- */

/* At most a header and two full rings; more is not a log of ours. */
#define READ_MAX (2 * WR_OUTLOG_KEEP + 65536)

static int parse_stream(json_t *h, const char *name, int64_t *bytes, size_t *kept)
{
	json_t *s = json_object_get(h, name);
	json_t *b = json_object_get(s, "bytes"), *k = json_object_get(s, "kept");
	if (!json_is_integer(b) || !json_is_integer(k) || json_integer_value(k) < 0 ||
	    json_integer_value(k) > (json_int_t)WR_OUTLOG_KEEP || json_integer_value(b) < json_integer_value(k))
		return -1;
	*bytes = json_integer_value(b);
	*kept = (size_t)json_integer_value(k);
	return 0;
}

int wr_outlog_read(const char *path, struct wr_outlog_file *f)
{
	memset(f, 0, sizeof *f);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		wr_seterrsys("unable to open the log %s", path);
		errno = e;
		return -1;
	}
	char *buf = wr_xmalloc(READ_MAX + 1);
	size_t n = 0;
	ssize_t r;
	while (n <= READ_MAX && (r = wr_read(fd, buf + n, READ_MAX + 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	const char *why = NULL;
	char *nl = memchr(buf, '\n', n);
	json_t *h = nl ? json_loadb(buf, (size_t)(nl - buf), 0, NULL) : NULL;
	if (n > READ_MAX)
		why = "too big";
	else if (!h || json_integer_value(json_object_get(h, "wr_log")) != 1 ||
		 !json_is_boolean(json_object_get(h, "live")))
		why = "no log header on line 1";
	else if (parse_stream(h, "stdout", &f->bytes[0], &f->kept[0]) < 0 ||
		 parse_stream(h, "stderr", &f->bytes[1], &f->kept[1]) < 0)
		why = "bad stdout or stderr in the header";
	else if ((size_t)(buf + n - (nl + 1)) != f->kept[0] + f->kept[1])
		why = "cut short (its size is not what the header says)";
	if (!why) {
		f->live = json_is_true(json_object_get(h, "live"));
		f->data[0] = memdup0(nl + 1, f->kept[0]);
		f->data[1] = memdup0(nl + 1 + f->kept[0], f->kept[1]);
	}
	json_decref(h);
	free(buf);
	if (why) {
		wr_seterr("%s: not a complete wr log: %s", path, why);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void wr_outlog_file_free(struct wr_outlog_file *f)
{
	free(f->data[0]);
	free(f->data[1]);
	memset(f, 0, sizeof *f);
}

/* ---- the tail for a notification ---- */

/* The last lines of p[0..n) as text for people. */
static char *tail_text(const char *p, size_t n)
{
	if (!p || !n)
		return NULL;
	const char *end = p + n;
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	const char *start = (size_t)(end - p) > WR_OUTLOG_TAIL_BYTES ? end - WR_OUTLOG_TAIL_BYTES : p;
	if (start > p) { /* from the first whole line, when there is one */
		const char *nl = memchr(start, '\n', (size_t)(end - start));
		if (nl)
			start = nl + 1;
	}
	int lines = 0;
	for (const char *q = end; q > start; q--)
		if (q[-1] == '\n' && ++lines == WR_OUTLOG_TAIL_LINES) {
			start = q;
			break;
		}
	struct wr_buf b = {0};
	while (start < end) {
		const char *nl = memchr(start, '\n', (size_t)(end - start));
		const char *le = nl ? nl : end;
		const char *ls = start;
		/* A line redrawn with CR (a progress bar): what a terminal shows. */
		const char *lim = le > ls && le[-1] == '\r' ? le - 1 : le;
		for (const char *q = lim; q > ls; q--)
			if (q[-1] == '\r') {
				ls = q;
				break;
			}
		char *line = memdup0(ls, (size_t)(lim - ls));
		size_t m = wr_sanitize(line, (size_t)(lim - ls));
		if (b.len)
			wr_buf_add(&b, "\n", 1);
		wr_buf_add(&b, line, m);
		free(line);
		start = nl ? nl + 1 : end;
	}
	if (!b.len) {
		wr_buf_free(&b);
		return NULL;
	}
	return b.p;
}

json_t *wr_outlog_tail_json(const char *out, size_t nout, const char *err, size_t nerr)
{
	char *e = tail_text(err, nerr), *o = tail_text(out, nout);
	if (!e && !o)
		return NULL;
	json_t *j = json_object();
	if (e)
		wr_jset_str(j, "stderr", e);
	if (o)
		wr_jset_str(j, "stdout", o);
	free(e);
	free(o);
	return j;
}

char *wr_ring_flat(const struct wr_ring *r)
{
	const char *a, *b;
	size_t na, nb;
	wr_ring_pieces(r, &a, &na, &b, &nb);
	char *s = wr_xmalloc(na + nb + 1);
	memcpy(s, a, na);
	memcpy(s + na, b, nb);
	s[na + nb] = 0;
	return s;
}

json_t *wr_outlog_tail(const struct wr_outlog *o)
{
	char *out = wr_ring_flat(&o->st[0]), *err = wr_ring_flat(&o->st[1]);
	json_t *j = wr_outlog_tail_json(out, o->st[0].len, err, o->st[1].len);
	free(out);
	free(err);
	return j;
}

json_t *wr_outlog_tail_of(const char *ledger, const char *run, int64_t attempt)
{
	char *path = wr_outlog_path(ledger, run, attempt);
	struct wr_outlog_file f;
	json_t *j = NULL;
	if (path && wr_outlog_read(path, &f) == 0) {
		j = wr_outlog_tail_json(f.data[0], f.kept[0], f.data[1], f.kept[1]);
		wr_outlog_file_free(&f);
	}
	free(path);
	return j;
}

/* ---- removal ---- */

int wr_outlog_remove_run(const char *ledger, const char *run)
{
	if (!plain_name(run))
		return 0;
	char *top = wr_outlog_dir(ledger);
	char *dir = wr_xasprintf("%s/%s", top, run);
	free(top);
	DIR *d = opendir(dir);
	int rc = 0;
	if (!d) {
		if (errno != ENOENT) {
			wr_seterrsys("unable to read the log directory %s", dir);
			rc = -1;
		}
		free(dir);
		return rc;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT && rc == 0) {
			wr_seterrsys("unable to remove %s/%s", dir, e->d_name);
			rc = -1;
		}
	}
	closedir(d);
	if (rc == 0 && rmdir(dir) < 0 && errno != ENOENT) {
		wr_seterrsys("unable to remove the log directory %s", dir);
		rc = -1;
	}
	free(dir);
	return rc < 0 ? -1 : 1;
}
