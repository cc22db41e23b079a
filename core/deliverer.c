/* deliverer.c - one run of an outbox deliverer (see deliverer.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deliverer.h"
#include "err.h"
#include "proc.h"
#include "timefmt.h"
#include "util.h"


static int sigpipe_fds[2] = {-1, -1};
static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	int e = errno;
	if (sig != SIGCHLD) {
		stop_sig = sig;
		wr_stop_note(sig); /* a wait on a ledger's servers gives up (err.h) */
	}
	char b = 0;
	if (write(sigpipe_fds[1], &b, 1) < 0) {
		/* full: a wakeup is pending anyway */
	}
	errno = e;
}

int wr_deliverer_signals(void)
{
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		wr_seterrsys("unable to create a pipe");
		return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return 0;
}

int wr_deliverer_stopped(void)
{
	return stop_sig;
}

static void drain_sigpipe(void)
{
	char buf[64];
	while (read(sigpipe_fds[0], buf, sizeof buf) > 0)
		;
}

/* Reads what the command wrote: passes it on to our stderr (cron mails a
 * failure's output) and keeps the last WR_DELIVERER_TAIL bytes in res. Returns 1
 * when it read something, 0 when nothing is there now, -1 at EOF (and
 * closes *fd). */
static int read_output(int *fd, struct wr_delivered *res)
{
	char buf[4096];
	ssize_t k = read(*fd, buf, sizeof buf);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (k <= 0) {
		close(*fd);
		*fd = -1;
		return -1;
	}
	if (wr_write_all(STDERR_FILENO, buf, (size_t)k) < 0) {
		/* our stderr is gone: the tail is still recorded */
	}
	size_t n = (size_t)k;
	const char *src = buf;
	if (n >= WR_DELIVERER_TAIL) {
		src += n - WR_DELIVERER_TAIL;
		n = WR_DELIVERER_TAIL;
		res->outlen = 0;
	} else if (res->outlen + n > WR_DELIVERER_TAIL) {
		size_t drop = res->outlen + n - WR_DELIVERER_TAIL;
		memmove(res->out, res->out + drop, res->outlen - drop);
		res->outlen -= drop;
	}
	memcpy(res->out + res->outlen, src, n);
	res->outlen += n;
	res->out[res->outlen] = 0;
	return 1;
}

int wr_deliverer_run(const struct wr_deliverer *d, const char *input, size_t len, struct wr_delivered *res)
{
	memset(res, 0, sizeof *res);
	struct wr_child p = WR_CHILD_INIT;
	p.argv = d->argv;
	p.env = d->env;
	p.in = WR_PROC_PIPE;
	p.out = WR_PROC_PIPE;
	p.err_to_out = 1;
	p.pgroup = 1;
	/* A consumer that does not read its stdin must not kill us. */
	struct sigaction ign, oldpipe;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &oldpipe);
	drain_sigpipe();
	int64_t start = wr_mono_ms();
	if (wr_proc_start(&p) < 0) {
		wr_seterrsys("unable to start %s", d->argv[0]);
		sigaction(SIGPIPE, &oldpipe, NULL);
		return -1;
	}
	res->exec_errno = p.exec_errno;
	int wfd = p.in, ofd = p.out;
	if (fcntl(ofd, F_SETFL, O_NONBLOCK) < 0 || fcntl(wfd, F_SETFL, O_NONBLOCK) < 0)
		wr_diesys(WR_EXIT_IO, "unable to set up the command's stdin and output");
	size_t off = 0;
	if (len == 0) {
		close(wfd);
		wfd = -1;
	}
	int64_t deadline = d->timeout_ms > 0 ? start + d->timeout_ms : 0;
	for (;;) {
		int stop = stop_sig || (deadline && wr_mono_ms() >= deadline);
		struct pollfd p2[3] = {{sigpipe_fds[0], POLLIN, 0}, {ofd, POLLIN, 0}, {wfd, POLLOUT, 0}};
		int r = wr_proc_wait(&p, stop ? -1 : deadline, p2, stop ? 0 : 3);
		if (r < 0)
			wr_diesys(WR_EXIT_IO, "unable to wait for the command"); /* a child left: no way back */
		if (r == 1)
			break;
		if (stop) {
			if (stop_sig)
				res->interrupted = stop_sig;
			else
				res->timed_out = 1;
			wr_proc_stop(&p, d->kill_after_ms);
			break;
		}
		if (p2[0].revents)
			drain_sigpipe();
		if (ofd >= 0 && p2[1].revents)
			read_output(&ofd, res);
		if (wfd >= 0 && p2[2].revents) {
			ssize_t w = write(wfd, input + off, len - off);
			if (w > 0)
				off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
				/* written, or the reader is gone (EPIPE): EOF either way */
				close(wfd);
				wfd = -1;
			}
		}
	}
	res->status = p.status;
	if (wfd >= 0)
		close(wfd);
	/* What is left in the pipe (a grandchild may hold it open: do not
	 * wait for its EOF). */
	while (ofd >= 0 && read_output(&ofd, res) > 0)
		;
	if (ofd >= 0)
		close(ofd);
	sigaction(SIGPIPE, &oldpipe, NULL);
	res->ms = wr_mono_ms() - start;
	return 0;
}

/* The command's last output as one clean line ("curl: (22) The requested
 * URL returned error: 500"): control characters and runs of white space
 * become one space; a cut start is marked. Newly allocated, or NULL. */
static char *output_line(const struct wr_delivered *r)
{
	struct wr_buf b = {0};
	int space = 0;
	for (size_t i = 0; i < r->outlen; i++) {
		unsigned char c = (unsigned char)r->out[i];
		if (c <= ' ' || c == 0x7f) {
			space = b.len > 0;
			continue;
		}
		if (space)
			wr_buf_add(&b, " ", 1);
		space = 0;
		wr_buf_add(&b, &r->out[i], 1);
	}
	if (!b.len)
		return NULL;
	/* A tail cut in the middle of a UTF-8 sequence: drop its start. */
	size_t skip = 0;
	while (skip < b.len && ((unsigned char)b.p[skip] & 0xc0) == 0x80)
		skip++;
	char *s = wr_xasprintf("%s%s", r->outlen == WR_DELIVERER_TAIL ? "..." : "", b.p + skip);
	wr_buf_free(&b);
	return s;
}

static char *with_output(char *msg, const struct wr_delivered *r)
{
	char *line = output_line(r);
	if (!line)
		return msg;
	char *s = wr_xasprintf("%s: %s", msg, line);
	free(msg);
	free(line);
	return s;
}

static char *status_error(const char *cmd, int64_t timeout_ms, const struct wr_delivered *r)
{
	char dur[32];
	if (r->exec_errno)
		return wr_xasprintf("cannot execute %s: %s", cmd, strerror(r->exec_errno));
	if (r->timed_out)
		return wr_xasprintf("timed out after %s; process group killed",
				    wr_dur_format(timeout_ms, dur, sizeof dur));
	if (r->interrupted)
		return wr_xasprintf("deliverer interrupted by signal %d; process group killed", r->interrupted);
	if (WIFEXITED(r->status))
		return WEXITSTATUS(r->status) ? wr_xasprintf("%s exited with status %d", cmd,
							     WEXITSTATUS(r->status))
					      : NULL;
	if (WIFSIGNALED(r->status))
		return wr_xasprintf("%s killed by signal %d", cmd, WTERMSIG(r->status));
	return wr_xasprintf("%s ended abnormally", cmd);
}

char *wr_delivered_error(const char *cmd, int64_t timeout_ms, const struct wr_delivered *r)
{
	char *e = status_error(cmd, timeout_ms, r);
	return e ? with_output(e, r) : NULL;
}
