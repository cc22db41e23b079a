/* run-supervise.c - wr-run's supervision loop: one poll() loop passes the
 * child's output through, reads progress lines, heartbeats, and enforces the
 * timeout, the stuck rules and forwarded signals, until the child is reaped
 * and its process group is gone; wait4 gives the rusage for
 * attempt.finished. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "signame.h"
#include "timefmt.h"
#include "run.h"

/* 1 while something of the command is left to signal: its process group,
 * or with --foreground the command itself until it is reaped. */
static int command_alive(const struct sup *S)
{
	return S->foreground ? !S->reaped : wr_proc_group_alive(S->c.pid);
}

/* Sends sig to the command's process group; with --foreground to the
 * command alone, and never once it is reaped (its pid may be reused). */
static void send_sig(struct sup *S, int sig, int say)
{
	if (S->foreground && S->reaped)
		return;
	if (say && S->verbose) {
		char n[WR_SIGNAME_LEN];
		wr_warn("sending signal %s to command '%s'", wr_sig_name(sig, n), S->cmd_name);
	}
	wr_proc_signal(&S->c, sig);
}

/* Begins the end of the attempt: signal the command, SIGKILL after the
 * grace. A stopped process gets SIGCONT too, so that it can act on it. */
void terminate(struct sup *S, enum wr_outcome why, int sig, char *reason)
{
	if (S->ending != WR_OUT_NONE || S->reaped) {
		free(reason);
		if (!S->reaped || !S->group_gone)
			send_sig(S, sig, 1);
		return;
	}
	S->ending = why;
	S->end_reason = reason;
	send_sig(S, sig, 1);
	if (sig != SIGKILL && sig != SIGCONT && sig != 0)
		send_sig(S, SIGCONT, 0);
	if (sig != SIGKILL)
		S->kill_at = wr_mono_ms() + S->pol.kill_after_ms;
}

void terminate_code(struct sup *S, enum wr_outcome why, int sig, char *reason, const char *code)
{
	if (S->ending == WR_OUT_NONE && !S->reaped)
		S->end_code = code;
	terminate(S, why, sig, reason);
}

/* ---- stuck, heartbeat ---- */

void stuck_detected(struct sup *S, const char *reason, char *detail)
{
	int which = wr_reason_from_name(reason);
	if (which >= 0 && which < WR_REASON__STUCK)
		S->stuck_notified[which] = 1;
	stuck_record(S, reason, detail);
}

void stuck_record(struct sup *S, const char *reason, char *detail)
{
	struct wr_agent_counts ac;
	/* A command that has exited cannot be aborted: then it is a notice. */
	int abort = S->pol.stuck_abort && !S->reaped;
	struct wr_stuck_req q = {S->run, S->attempt, reason, detail, abort, agent_counts(S, &ac), NULL, 0};
	q.output = abort ? NULL : wr_outlog_tail(&S->log); /* an abort's entry comes with the finish */
	if (wr_ledger_commit(&S->l, wr_decide_run_stuck, &q) < 0)
		wr_warn("unable to record that the command is stuck: %s", wr_errmsg());
	else if (q.fenced)
		S->fenced = 1;
	json_decref(q.output);
	wr_warn("command looks stuck (%s): %s%s", reason, detail,
		abort ? "; stopping it" : S->reaped ? "" : "; it goes on (--stuck-action notify)");
	if (abort)
		terminate_code(S, WR_OUT_STUCK, (int)S->pol.term_signal, wr_xasprintf("%s: %s", reason, detail), reason);
	free(detail);
}

static void heartbeat(struct sup *S)
{
	struct wr_agent_counts ac;
	struct wr_beat_req q = {S->run, S->attempt, S->pol.lease_ms, NULL, 0, agent_counts(S, &ac), 0};
	if (wr_ledger_commit(&S->l, wr_decide_run_beat, &q) < 0) {
		if (!S->hb_failed)
			wr_warn("unable to record a heartbeat (will keep trying): %s", wr_errmsg());
		S->hb_failed = 1;
		return;
	}
	if (S->hb_failed)
		wr_warn("heartbeats are recorded again");
	S->hb_failed = 0;
	if (q.fenced)
		S->fenced = 1;
}

/* ---- the loop ---- */

/* Reaps the command, and as a subreaper whatever of its descendants was
 * orphaned, so that a dead group empties at once whatever init does. */
static void reap(struct sup *S)
{
	for (;;) {
		int status;
		struct rusage ru;
		pid_t p = wait4(-1, &status, WNOHANG, &ru);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return;
		if (p == S->c.pid) {
			S->reaped = 1;
			S->status = status;
			S->ru = ru;
		}
	}
}

int64_t min_t(int64_t a, int64_t b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* The loop's own state: its times and this round's pollfds. */
struct loop {
	int64_t t0, hard_end, hb_next;
	int prog_open;
	struct pollfd pf[6];
	int np, ix[2], ox[2], px;
};

/* Once the command was reaped: signals what it left in its group; once
 * nothing of the group is left, takes what the pipes hold. Returns 1 when
 * the attempt is over. */
static int settle(struct sup *S, struct loop *L, int64_t now)
{
	if (S->reaped && !S->group_gone) {
		if (!command_alive(S)) {
			S->group_gone = 1;
		} else if (!S->group_term_sent) {
			/* The command is done; what it left in its group must not go on. */
			S->group_term_sent = 1;
			wr_proc_signal(&S->c, SIGTERM);
			if (!S->kill_at)
				S->kill_at = now + S->pol.kill_after_ms;
		}
	}
	/* Once nothing of the group is left, take what the pipes hold and
	 * stop: a process that left the group must not keep us here. */
	int open_streams = 0;
	for (int i = 0; i < S->nstreams; i++) {
		struct stream *s = &S->st[i];
		if (s->fd >= 0 && S->group_gone && s->off == s->len) {
			int r;
			while ((r = stream_read(S, s)) > 0 && s->off == s->len)
				;
			if (r <= 0)
				stream_close(s);
		}
		open_streams += s->fd >= 0;
	}
	if (L->prog_open && S->group_gone) {
		while (progress_read(S) > 0)
			;
		L->prog_open = 0;
		closefd(&S->c.fd3);
	}
	return S->reaped && S->group_gone && !open_streams;
}

/* The next time something is due (mono; 0: nothing). */
static int64_t next_due(const struct sup *S, const struct loop *L, int64_t now)
{
	int64_t next = 0;
	if (S->ending == WR_OUT_NONE && !S->reaped) {
		next = min_t(next, L->hb_next);
		next = min_t(next, L->hard_end);
		if (S->pol.no_progress_ms && !S->stuck_notified[WR_REASON_NO_PROGRESS])
			next = min_t(next, S->last_progress + S->pol.no_progress_ms);
		if (S->pol.no_output_ms && !S->stuck_notified[WR_REASON_NO_OUTPUT])
			next = min_t(next, S->last_output + S->pol.no_output_ms);
	}
	next = min_t(next, S->kill_at);
	next = min_t(next, outlog_next(S));
	if (S->reaped && !S->group_gone)
		next = min_t(next, now + 20); /* watch the group die */
	return next;
}

/* Polls the signal pipe, the streams (their read or write side) and the
 * progress pipe until the next thing due. Returns poll's result. */
static int wait_events(struct sup *S, struct loop *L, int64_t now)
{
	L->np = 0;
	L->ix[0] = L->ix[1] = L->ox[0] = L->ox[1] = L->px = -1;
	L->pf[L->np++] = (struct pollfd){sigfd[0], POLLIN, 0};
	for (int i = 0; i < S->nstreams; i++) {
		struct stream *s = &S->st[i];
		if (s->fd < 0)
			continue;
		if (s->off < s->len) {
			L->ox[i] = L->np;
			L->pf[L->np++] = (struct pollfd){s->wfd, POLLOUT, 0};
		} else {
			L->ix[i] = L->np;
			L->pf[L->np++] = (struct pollfd){s->fd, POLLIN, 0};
		}
	}
	if (L->prog_open) {
		L->px = L->np;
		L->pf[L->np++] = (struct pollfd){S->c.fd3, POLLIN, 0};
	}
	int64_t next = next_due(S, L, now);
	int timeout = -1;
	if (next)
		timeout = next <= now ? 0 : next - now > INT_MAX ? INT_MAX : (int)(next - now);
	int r = poll(L->pf, (nfds_t)L->np, timeout);
	if (r < 0 && errno != EINTR)
		wr_diesys(EXIT_FAILED, "poll failed");
	return r;
}

/* Signals to wr-run: USR1 and USR2 are passed on, the others cancel. */
static void on_signals(struct sup *S)
{
	unsigned char sigs[64];
	ssize_t n = read(sigfd[0], sigs, sizeof sigs);
	for (ssize_t i = 0; i < n; i++) {
		int sig = sigs[i];
		if (sig == SIGCHLD)
			continue;
		if (sig == SIGUSR1 || sig == SIGUSR2) {
			send_sig(S, sig, 1);
			continue;
		}
		if (S->ending == WR_OUT_NONE && !S->reaped) {
			S->cancel_sig = sig;
			wr_warn("got signal %s; passing it to the command's process group", strsignal(sig));
		}
		terminate(S, WR_OUT_CANCELLED, sig, wr_xasprintf("wr-run got signal %d (%s)", sig, strsignal(sig)));
	}
}

/* The streams and the progress pipe that poll found ready. */
static void on_io(struct sup *S, struct loop *L)
{
	for (int i = 0; i < S->nstreams; i++) {
		struct stream *s = &S->st[i];
		if (L->ox[i] >= 0 && L->pf[L->ox[i]].revents) {
			if (stream_flush(s) < 0)
				stream_close(s);
		} else if (L->ix[i] >= 0 && L->pf[L->ix[i]].revents) {
			if (stream_read(S, s) < 0)
				stream_close(s);
		}
	}
	if (L->px >= 0 && L->pf[L->px].revents) {
		if (progress_read(S) < 0) {
			L->prog_open = 0;
			closefd(&S->c.fd3);
		}
	}
}

/* The limits of a live attempt, by now: the timeout (or the run's
 * deadline), then the stuck detectors by time. */
static void on_limits(struct sup *S, struct loop *L, int64_t now)
{
	char d[32];
	if (L->hard_end && now >= L->hard_end) {
		char n[WR_SIGNAME_LEN];
		const char *what = S->by_deadline ? "reached the run's deadline" : "timed out";
		int sig = (int)S->pol.term_signal;
		wr_dur_format(now - L->t0, d, sizeof d);
		wr_warn("command %s after %s; sending %s%s to its %s", what, d, sig ? "SIG" : "signal ", wr_sig_name(sig, n),
			S->foreground ? "process (--foreground)" : "process group");
		terminate_code(S, WR_OUT_TIMEOUT, sig, wr_xasprintf("%s after %s", what, d),
			       wr_reason_name(S->by_deadline ? WR_REASON_DEADLINE : WR_REASON_TIMEOUT));
	} else if (S->pol.no_progress_ms && !S->stuck_notified[WR_REASON_NO_PROGRESS] &&
		   now >= S->last_progress + S->pol.no_progress_ms) {
		stuck_detected(S, wr_reason_name(WR_REASON_NO_PROGRESS),
			       wr_xasprintf("no progress line for %s", wr_dur_format(now - S->last_progress, d, sizeof d)));
	} else if (S->pol.no_output_ms && !S->stuck_notified[WR_REASON_NO_OUTPUT] &&
		   now >= S->last_output + S->pol.no_output_ms) {
		stuck_detected(S, wr_reason_name(WR_REASON_NO_OUTPUT),
			       wr_xasprintf("no output on stdout or stderr for %s",
					    wr_dur_format(now - S->last_output, d, sizeof d)));
	}
}

/* What is due by now: fencing, the limits, a heartbeat, the SIGKILL after
 * the grace. */
static void on_time(struct sup *S, struct loop *L)
{
	int64_t now = wr_mono_ms();
	if (S->fenced && S->ending == WR_OUT_NONE && !S->reaped) {
		wr_warn("attempt %lld of run %s was ended in the ledger by another process; stopping the command",
			(long long)S->attempt, S->run);
		terminate(S, WR_OUT_CANCELLED, SIGTERM, wr_xstrdup("fenced: ended by another process"));
	}
	if (S->ending == WR_OUT_NONE && !S->reaped)
		on_limits(S, L, now);
	if (S->ending == WR_OUT_NONE && !S->reaped && now >= L->hb_next) {
		heartbeat(S);
		L->hb_next = wr_mono_ms() + S->pol.heartbeat_ms;
	}
	if (S->kill_at && now >= S->kill_at) {
		if (command_alive(S)) {
			char d[32];
			wr_warn("the command's %s outlived the grace of %s; sending SIGKILL",
				S->foreground ? "process" : "process group", wr_dur_format(S->pol.kill_after_ms, d, sizeof d));
			S->killed |= !S->reaped;
			send_sig(S, SIGKILL, 1);
		}
		S->kill_at = 0;
	}
}

void supervise(struct sup *S, int64_t t0, int64_t hard_end)
{
	struct loop L = {.t0 = t0, .hard_end = hard_end, .hb_next = t0 + S->pol.heartbeat_ms, .prog_open = 1};
	S->last_progress = S->last_output = t0;
	for (;;) {
		reap(S);
		int64_t now = wr_mono_ms();
		if (settle(S, &L, now))
			break;
		int r = wait_events(S, &L, now);
		if (r > 0 && L.pf[0].revents)
			on_signals(S);
		if (r > 0)
			on_io(S, &L);
		outlog_tick(S, wr_mono_ms());
		on_time(S, &L);
	}
}
