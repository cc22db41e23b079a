/* run-stream.c - wr-run's passthrough of the command's stdout and stderr,
 * with the log (--log) and the repeated-line detector (--stuck-repeat). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "sanitize.h"
#include "text.h"
#include "timefmt.h"
#include "run.h"


/* Non-blocking writes to a pipe or socket, so that a stalled reader of our
 * stdout cannot stall the loop: the timeout and heartbeats go on. A pipe is
 * reopened through /proc (a new open file description: the shared one's
 * flags stay untouched); files and terminals are written as they are. */
void stream_dest(struct stream *s, int dest)
{
	struct stat sb;
	s->dest = s->wfd = dest;
	s->nonblock = 0;
	if (fstat(dest, &sb) < 0)
		return;
	if (S_ISSOCK(sb.st_mode)) {
		s->nonblock = 2;
	} else if (S_ISFIFO(sb.st_mode)) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", dest);
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			s->wfd = fd;
			s->nonblock = 1;
		}
	}
}

static void log_write(struct sup *S, const char *p, size_t n)
{
	if (S->logfd < 0 || S->log_failed)
		return;
	if (wr_write_all(S->logfd, p, n) < 0) {
		wr_warnsys("unable to write the log; the command goes on without it");
		S->log_failed = 1;
	}
}

/* Printable, valid UTF-8, at most 200 bytes: for a ledger detail. */
static char *clean_text(const char *p, size_t n)
{
	size_t m = n > 200 ? 200 : n;
	char *s = wr_xmalloc(m + 1);
	memcpy(s, p, m);
	wr_sanitize(s, m); /* a character cut at byte 200 becomes '?' too */
	return s;
}

/* Feeds output to the repeated-line detector: compares each line with the
 * previous one of the same stream as it arrives, without changing it. */
static void detect_repeat(struct sup *S, struct stream *s, const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t seg = (size_t)((nl ? nl : end) - p);
		if (!s->cur_over) {
			if (s->curlen + seg > LINE_CAP) {
				s->cur_over = 1;
			} else {
				if (s->cur_match && (!s->have_prev || s->prev_over || s->curlen + seg > s->prevlen ||
						     memcmp(s->prev + s->curlen, p, seg)))
					s->cur_match = 0;
				memcpy(s->cur + s->curlen, p, seg);
				s->curlen += seg;
			}
		}
		if (!nl)
			break;
		if (!s->cur_over && s->cur_match && s->have_prev && !s->prev_over && s->curlen == s->prevlen) {
			s->repeat++;
		} else {
			char *t = s->prev;
			s->prev = s->cur;
			s->cur = t;
			s->prevlen = s->curlen;
			s->prev_over = s->cur_over;
			s->have_prev = 1;
			s->repeat = 1;
		}
		s->curlen = 0;
		s->cur_over = 0;
		s->cur_match = 1;
		p = nl + 1;
		if (s->repeat >= S->pol.stuck_repeat && !S->stuck_notified[WR_REASON_REPEATED_OUTPUT]) {
			char *line = clean_text(s->prev, s->prevlen);
			char *detail = wr_xasprintf("the same line %lld times in a row on %s: %s", (long long)s->repeat,
						    s->name, line);
			free(line);
			stuck_detected(S, wr_reason_name(WR_REASON_REPEATED_OUTPUT), detail);
		}
	}
}

/* Writes what is pending; returns 0, or -1 when the destination is gone. */
int stream_flush(struct stream *s)
{
	while (s->off < s->len) {
		ssize_t w;
		size_t n = s->len - s->off;
		if (s->nonblock == 2)
			w = send(s->wfd, s->buf + s->off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(s->wfd, s->buf + s->off, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (!s->nonblock) { /* not ours to poll: wait here */
					struct pollfd pf = {s->wfd, POLLOUT, 0};
					poll(&pf, 1, 100);
					continue;
				}
				return 0;
			}
			if (errno != EPIPE)
				wr_warnsys("unable to pass the command's %s on", s->name);
			return -1;
		}
		s->off += (size_t)w;
	}
	s->off = s->len = 0;
	return 0;
}

/* Our reader of stdout (or stderr) went away: close the command's pipe, so
 * that it meets EPIPE/SIGPIPE as it would have without wr-run between. */
void stream_close(struct stream *s)
{
	closefd(&s->fd);
	s->off = s->len = 0;
}

/* Reads once from the command; 1 when something came, 0 nothing now, -1 EOF. */
int stream_read(struct sup *S, struct stream *s)
{
	ssize_t n = read(s->fd, s->buf, IOBUF);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	S->output_bytes += n;
	S->last_output = wr_mono_ms();
	log_write(S, s->buf, (size_t)n);
	outlog_output(S, s, s->buf, (size_t)n);
	if (S->pol.stuck_repeat)
		detect_repeat(S, s, s->buf, (size_t)n);
	if (S->quiet && quiet_keep(S->quiet, (int)(s - S->st), s->dest, s->buf, (size_t)n) == 0)
		return 1;
	s->off = 0;
	s->len = (size_t)n;
	if (stream_flush(s) < 0)
		stream_close(s);
	return 1;
}

/* The command's stdout (and stderr, when it has a pipe of its own) with
 * their buffers, and the progress line buffer. */
void streams_init(struct sup *S)
{
	S->st[0] = (struct stream){.name = "stdout", .fd = S->c.out};
	stream_dest(&S->st[0], 1);
	S->nstreams = 1;
	if (S->c.err >= 0) {
		S->st[1] = (struct stream){.name = "stderr", .fd = S->c.err};
		stream_dest(&S->st[1], 2);
		S->nstreams = 2;
	}
	for (int i = 0; i < S->nstreams; i++) {
		S->st[i].buf = wr_xmalloc(IOBUF);
		S->st[i].cur_match = 1;
		if (S->pol.stuck_repeat) {
			S->st[i].cur = wr_xmalloc(LINE_CAP);
			S->st[i].prev = wr_xmalloc(LINE_CAP);
		}
	}
	S->pline = wr_xmalloc(PROGRESS_CAP);
}
