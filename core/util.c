/* util.c - small helpers shared by the core and the tools. */
#include "util.h"
#include "err.h"
#include "sanitize.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void oom(void)
{
	wr_die(wr_exit_failure, "out of memory");
}

void *wr_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *wr_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *wr_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *wr_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *wr_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *wr_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return s;
}

void wr_grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n <= *cap)
		return;
	size_t c = *cap ? *cap : 8;
	while (c < n)
		c *= 2;
	if (c > SIZE_MAX / size)
		oom();
	*p = wr_xrealloc(*p, c * size);
	*cap = c;
}

void wr_buf_add(struct wr_buf *b, const void *data, size_t n)
{
	WR_GROW(b->p, b->cap, b->len + n + 1);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
}

void wr_buf_addstr(struct wr_buf *b, const char *s)
{
	wr_buf_add(b, s, strlen(s));
}

void wr_buf_addclean(struct wr_buf *b, const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s), at = b->len;
	wr_buf_add(b, s, n);
	b->len = at + wr_sanitize(b->p + at, n);
}

char *wr_xstrclean(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *c = wr_xstrndup(s ? s : "", n);
	wr_sanitize(c, n);
	return c;
}

void wr_buf_addf(struct wr_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char tmp[256];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n < sizeof tmp) {
		wr_buf_add(b, tmp, (size_t)n);
	} else {
		WR_GROW(b->p, b->cap, b->len + (size_t)n + 1);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
}

void wr_buf_free(struct wr_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

const char *wr_buf_str(struct wr_buf *b)
{
	return b->p ? b->p : "";
}

int wr_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t wr_read(int fd, void *p, size_t n)
{
	ssize_t r;
	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

int wr_fsync_dir_of(const char *path)
{
	char *d = wr_xstrdup(path);
	char *slash = strrchr(d, '/');
	const char *dir = ".";
	if (slash == d)
		dir = "/";
	else if (slash) {
		*slash = 0;
		dir = d;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		free(d);
		return -1;
	}
	int r = fsync(fd);
	int e = errno;
	close(fd);
	free(d);
	errno = e;
	return r;
}

int wr_replace_file(const char *path, const void *p, size_t n, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *tmp = wr_xasprintf("%.*s.%s.tmp.%ld", slash ? (int)(slash - path + 1) : 0, path, base, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r = -1, e;
	if (fd < 0) {
		e = errno;
		free(tmp);
		errno = e;
		return -1;
	}
	if (wr_write_all(fd, p, n) == 0 && fchmod(fd, mode) == 0 && fsync(fd) == 0) {
		r = close(fd);
		fd = -1;
		if (r == 0)
			r = rename(tmp, path);
		if (r == 0)
			r = wr_fsync_dir_of(path);
	}
	e = errno;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	free(tmp);
	errno = e;
	return r;
}

int wr_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (!s || !*s)
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int64_t wr_add_sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}
