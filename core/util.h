/* util.h - allocation that dies on exhaustion, growable buffers, fd I/O
 * that retries EINTR and short counts. */
#ifndef WR_UTIL_H
#define WR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void *wr_xmalloc(size_t n);
void *wr_xcalloc(size_t n, size_t size);
void *wr_xrealloc(void *p, size_t n);
char *wr_xstrdup(const char *s);
char *wr_xstrndup(const char *s, size_t n);
/* A new copy of s ("" for NULL) made safe for a terminal by wr_sanitize. */
char *wr_xstrclean(const char *s);
char *wr_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows *cap so that n elements of size fit in *p. */
void wr_grow(void **p, size_t *cap, size_t n, size_t size);
#define WR_GROW(p, cap, n) wr_grow((void **)&(p), &(cap), (n), sizeof *(p))

struct wr_buf {
	char *p;
	size_t len, cap;
};
void wr_buf_add(struct wr_buf *b, const void *data, size_t n);
void wr_buf_addstr(struct wr_buf *b, const char *s);
/* Appends s (NULL: nothing) made safe for a terminal by wr_sanitize. */
void wr_buf_addclean(struct wr_buf *b, const char *s);
void wr_buf_addf(struct wr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wr_buf_free(struct wr_buf *b);
/* NUL-terminated view of the buffer (never NULL). */
const char *wr_buf_str(struct wr_buf *b);

/* Write all n bytes. Returns 0, or -1 with errno set (EINTR retried). */
int wr_write_all(int fd, const void *p, size_t n);
/* read(2) retrying EINTR. */
ssize_t wr_read(int fd, void *p, size_t n);
/* fsync the directory that holds path. Returns 0 or -1 with errno set. */
int wr_fsync_dir_of(const char *path);
/* Replaces path with the n bytes at p, atomically: a temporary file in the
 * same directory (".NAME.tmp.PID", hidden, so collectors that read *.prom
 * or the like never see it), written, fsynced, given mode, renamed over
 * path, then the directory fsynced. The temporary is removed on failure.
 * Returns 0, or -1 with errno set: path is untouched, unless only the
 * final directory sync failed. */
int wr_replace_file(const char *path, const void *p, size_t n, mode_t mode);
/* a + b, saturating at INT64_MIN and INT64_MAX (for figures reported
 * from outside, such as an agent's metrics). */
int64_t wr_add_sat(int64_t a, int64_t b);
/* Strict decimal parse of a whole string into [min, max]. 0 or -1. */
int wr_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
