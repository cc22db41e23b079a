/* follow.c - the follow loop (see follow.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "follow.h"
#include "util.h"

static void follow_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			  const char *const *why, int64_t line)
{
	struct wr_follow *f = ctx;
	(void)line;
	for (size_t i = 0; i < n; i++) {
		const struct wr_event *ev = &evs[i];
		/* After a compaction the whole new file is replayed: what was
		 * seen already (every seq <= base) is not passed on again. Not
		 * "<= after": a compacted file has its marker (seq L+1) before
		 * the kept events (seq <= L), some of which may be new to us.
		 * (The marker is metadata: the ledger does not deliver it.) */
		if (ev->seq <= f->base)
			continue;
		if (ev->seq > f->after)
			f->after = ev->seq;
		if (f->replaying && !f->from_start)
			continue;
		f->on_event(f->ctx, ev, applied[i], why[i], i + 1 == n);
	}
	/* A stream: each decision reaches the reader (jq, a pipe) at once. */
	fflush(stdout);
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
	wr_stop_note(sig); /* a wait on a ledger's servers gives up (err.h) */
}

/* Refreshes, the stop signals let in meanwhile (a refresh may wait on a
 * ledger's servers: a stop ends that wait); says once what fails, as
 * tail -F does, but nothing of a refresh a stop cut short. */
static void refresh(struct wr_follow *f, char **last_warn, const sigset_t *orig)
{
	f->base = f->after;
	sigset_t blocked;
	sigprocmask(SIG_SETMASK, orig, &blocked);
	int rr = wr_ledger_refresh(f->l);
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	if (rr < 0 && stop_signal)
		return;
	if (rr < 0) {
		if (!*last_warn || strcmp(*last_warn, wr_errmsg())) {
			wr_warn("%s", wr_errmsg());
			free(*last_warn);
			*last_warn = wr_xstrdup(wr_errmsg());
		}
		return;
	}
	free(*last_warn);
	*last_warn = NULL;
	if (rr == 1 && f->l->st.last_seq < f->base)
		f->after = f->l->st.last_seq; /* a new ledger: its seqs start again */
}

/* Blocks the stop signals except inside ppoll and a refresh, so that one
 * can never slip in between the check of stop_signal and the wait. */
static void stop_signals(sigset_t *orig)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, orig);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART; /* a refresh's reads and the client library's own waits go on */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int wr_follow_run(struct wr_follow *f)
{
	wr_ledger_on_events(f->l, follow_events, f);
	f->replaying = 1;
	if (wr_ledger_refresh(f->l) < 0)
		return -1;
	f->replaying = 0;
	f->base = f->after;
	sigset_t orig;
	stop_signals(&orig);
	char *last_warn = NULL;
	int rc = 0;
	while (!stop_signal) {
		int wfd = wr_store_watch(&f->l->store);
		struct pollfd pfd[2] = {{STDOUT_FILENO, 0, 0}, {wfd, POLLIN, 0}};
		/* With a watch the timeout is only a safety net (a watch that
		 * could not be set, a missed event); without it, it is the poll. */
		struct timespec ts = {wfd >= 0 ? 2 : 0, wfd >= 0 ? 0 : 500 * 1000000L};
		int r = ppoll(pfd, wfd >= 0 ? 2 : 1, &ts, &orig);
		if (r < 0 && errno != EINTR) {
			wr_seterrsys("unable to wait for changes of %s", f->l->path);
			rc = -1;
			break;
		}
		if (stop_signal)
			break;
		/* The reader of our pipe is gone (| head): end now as the next
		 * write would, rather than at the next event, which may never
		 * come. */
		if (r > 0 && (pfd[0].revents & (POLLERR | POLLHUP))) {
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
		if (r > 0 && (pfd[1].revents & POLLIN))
			wr_store_watch_drain(&f->l->store);
		refresh(f, &last_warn, &orig);
	}
	free(last_warn);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return rc;
}
