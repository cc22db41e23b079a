/* run-quiet.c - wr-run --quiet-on-success, as chronic(1): the command's
 * output is kept, and printed after the attempt unless it succeeded.
 *
 * Each stream is kept on its own (stdout for stdout, stderr for stderr):
 * in memory up to QUIET_MEM bytes, beyond that in a temporary file in the
 * ledger's directory that has no name (O_TMPFILE, else unlinked as soon as
 * it is created), so that nothing is left behind whatever happens to
 * wr-run. When the file cannot be had or written, what was kept is printed
 * and the rest passes through as it comes: output is never lost. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "util.h"
#include "store.h"
#include "run.h"

#define QUIET_MEM (1024 * 1024)   /* bytes kept in memory per stream */

struct quiet_stream {
	struct wr_buf mem;
	int fd;                    /* the temporary file, -1 while in memory */
	int dest;                  /* 1 or 2 */
};

struct quiet {
	char *dir;                 /* where temporary files go */
	struct quiet_stream st[2];
	int off;                   /* gave up keeping: output passes through */
};

struct quiet *quiet_new(const char *ledger_path)
{
	struct quiet *q = wr_xcalloc(1, sizeof *q);
	char *local = wr_store_local(ledger_path); /* a stream's: this host's files */
	const char *slash = strrchr(local, '/');
	q->dir = slash ? wr_xstrndup(local, slash == local ? 1 : (size_t)(slash - local)) : wr_xstrdup(".");
	free(local);
	for (int i = 0; i < 2; i++) {
		q->st[i].fd = -1;
		q->st[i].dest = i + 1;
	}
	return q;
}

/* A temporary file in q->dir that no name points to; -1 (errno) when none. */
static int temp_file(const struct quiet *q)
{
	int fd = open(q->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	char *path = wr_xasprintf("%s/.wr-run-output.XXXXXX", q->dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	free(path);
	return fd;
}

/* Writes everything kept of s to its destination (blocking), and forgets
 * it. A destination that is gone ends the copy. */
static void release(struct quiet_stream *s)
{
	if (s->mem.len)
		(void)wr_write_all(s->dest, s->mem.p, s->mem.len);
	wr_buf_free(&s->mem);
	if (s->fd < 0)
		return;
	char buf[65536];
	ssize_t n;
	if (lseek(s->fd, 0, SEEK_SET) == 0)
		while ((n = wr_read(s->fd, buf, sizeof buf)) > 0 && wr_write_all(s->dest, buf, (size_t)n) == 0)
			;
	close(s->fd);
	s->fd = -1;
}

/* Keeping failed (why in errno): print what was kept, pass the rest. */
static int give_up(struct quiet *q, const char *what)
{
	wr_warnsys("--quiet-on-success: unable to %s a temporary file in %s; the output so far follows, the rest "
		   "passes through", what, q->dir);
	for (int i = 0; i < 2; i++)
		release(&q->st[i]);
	q->off = 1;
	return -1;
}

int quiet_keep(struct quiet *q, int i, int dest, const char *p, size_t n)
{
	if (q->off)
		return -1;
	struct quiet_stream *s = &q->st[i];
	s->dest = dest;
	if (s->fd < 0 && s->mem.len + n <= QUIET_MEM) {
		wr_buf_add(&s->mem, p, n);
		return 0;
	}
	if (s->fd < 0) {
		if ((s->fd = temp_file(q)) < 0)
			return give_up(q, "create");
		if (wr_write_all(s->fd, s->mem.p, s->mem.len) < 0)
			return give_up(q, "write");
		wr_buf_free(&s->mem);
	}
	off_t at = lseek(s->fd, 0, SEEK_CUR);
	if (wr_write_all(s->fd, p, n) < 0) {
		int e = errno;
		if (at >= 0 && ftruncate(s->fd, at) == 0 && lseek(s->fd, at, SEEK_SET) == at) {
			errno = e; /* the part written is dropped: the caller passes it all on */
			return give_up(q, "write");
		}
		errno = e;
		give_up(q, "write");
		return 0; /* kept in part and printed: passing it on would repeat it */
	}
	return 0;
}

void quiet_end(struct quiet *q, int print)
{
	if (!q)
		return;
	for (int i = 0; i < 2; i++) {
		if (print) {
			release(&q->st[i]);
		} else {
			wr_buf_free(&q->st[i].mem);
			if (q->st[i].fd >= 0)
				close(q->st[i].fd);
		}
	}
	free(q->dir);
	free(q);
}
