/* run-start.c - the held child, the start decision and the finish of wr-run.
 *
 * The child is forked first and held before exec (it blocks reading a pipe),
 * so that attempt.started can carry its process group; only after that
 * decision is committed is it released, with the WR_* environment sent down
 * the same pipe. A failed commit closes the pipe unwritten and the command
 * never runs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "random.h"
#include "signame.h"
#include "text.h"
#include "timefmt.h"
#include "run.h"

/* ---- signals: a self-pipe read by the event loop ---- */

int sigfd[2] = {-1, -1};
/* timeout(1)'s terminating signals but the synchronous faults: wr-run must
 * not die of one and leave its command unsupervised (a SIGALRM from an
 * outer timeout, SIGXCPU of a CPU limit); they cancel like SIGTERM. */
static const int handled[] = {SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,   SIGUSR1, SIGUSR2, SIGCHLD,
			      SIGALRM, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGPWR};
#define NHANDLED (sizeof handled / sizeof handled[0])
static sigset_t start_ignored; /* ignored when wr-run started: the command gets them so */
static sigset_t start_mask;    /* blocked when wr-run started: the command gets them so */

static void on_signal(int sig)
{
	int e = errno;
	unsigned char c = (unsigned char)sig;
	/* A cancel: the waits on a ledger's servers give up (err.h), so that
	 * the loop gets to it and wr-run ends as on a file ledger. */
	if (sig != SIGCHLD && sig != SIGUSR1 && sig != SIGUSR2)
		wr_stop_note(sig);
	(void)!write(sigfd[1], &c, 1);
	errno = e;
}

void signals_at_start(void)
{
	sigemptyset(&start_ignored);
	for (size_t i = 0; i < NHANDLED; i++) {
		struct sigaction old;
		/* Ignored at the start (nohup, trap '' HUP, INT and QUIT in a
		 * shell's background job): not a cancel, and the command
		 * inherits the ignore, as under timeout(1). SIGCHLD is needed. */
		if (handled[i] != SIGCHLD && sigaction(handled[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			sigaddset(&start_ignored, handled[i]);
	}
	/* Under trap '' PIPE the command sees EPIPE (core/main.c saw the
	 * disposition). */
	if (wr_sigpipe_ignored)
		sigaddset(&start_ignored, SIGPIPE);
	sigprocmask(SIG_BLOCK, NULL, &start_mask);
}

void setup_signals(void)
{
	if (pipe2(sigfd, O_CLOEXEC | O_NONBLOCK) < 0)
		wr_diesys(EXIT_FAILED, "unable to create a pipe");
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigset_t caught;
	sigemptyset(&caught);
	for (size_t i = 0; i < NHANDLED; i++) {
		if (sigismember(&start_ignored, handled[i]) == 1)
			continue;
		sigaction(handled[i], &sa, NULL);
		sigaddset(&caught, handled[i]);
	}
	/* A closed stdout is handled by closing the child's pipe (below), so
	 * that wr-run lives on to record the end. */
	signal(SIGPIPE, SIG_IGN);
	/* A blocked signal would never reach the loop (timeout-blocked.pl). */
	sigprocmask(SIG_UNBLOCK, &caught, NULL);
}

void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void spawn_held(struct wr_child *c, char **argv, const char *dir, int foreground)
{
	*c = (struct wr_child)WR_CHILD_INIT;
	c->argv = argv;
	c->dir = dir;
	c->out = WR_PROC_PIPE;
	/* One file behind both (a terminal, 2>&1): one pipe keeps the order. */
	if (same_file(1, 2))
		c->err_to_out = 1;
	else
		c->err = WR_PROC_PIPE;
	c->fd3 = WR_PROC_PIPE;
	c->pgroup = !foreground;
	c->hold = 1;
	/* When wr-run dies (even of SIGKILL) the command gets SIGTERM, as
	 * under timeout(1), instead of running on unsupervised. */
	c->pdeathsig = SIGTERM;
	c->keep_ignored = &start_ignored;
	c->mask = &start_mask;
	if (wr_proc_start(c) < 0)
		wr_diesys(EXIT_FAILED, "unable to start the command");
	/* Bigger pipes: fewer wake-ups on heavy output (best effort). */
	fcntl(c->out, F_SETPIPE_SZ, 1 << 20);
	if (c->err >= 0)
		fcntl(c->err, F_SETPIPE_SZ, 1 << 20);
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	if (c->err >= 0)
		fcntl(c->err, F_SETFL, O_NONBLOCK);
	fcntl(c->fd3, F_SETFL, O_NONBLOCK);
}


/* ---- start ---- */

json_t *argv_json(char **argv, int argc)
{
	json_t *a = json_array();
	for (int i = 0; i < argc; i++) {
		if (!wr_utf8_valid(argv[i], strlen(argv[i])))
			wr_die(EXIT_FAILED, "argument %d of the command is not valid UTF-8; the ledger records argv as UTF-8",
			       i + 1);
		json_array_append_new(a, json_string(argv[i]));
	}
	return a;
}


/* A decision that could not be recorded because a signal stopped the
 * wait for the ledger's servers: says whether it is in the ledger (not,
 * or not known: sent and never answered) and returns 128+N. */
static int stopped_unrecorded(struct sup *S, const char *what, const char *after)
{
	int sig = wr_stop_pending();
	char n[WR_SIGNAME_LEN];
	if (wr_ledger_unknown(&S->l))
		wr_warn("got signal SIG%s: whether %s is in the ledger is not known: %s%s%s", wr_sig_name(sig, n), what,
			wr_errmsg(), after ? "; if it is not, " : "", after ? after : "");
	else
		wr_warn("got signal SIG%s: %s is not in the ledger: %s%s%s", wr_sig_name(sig, n), what, wr_errmsg(),
			after ? "; " : "", after ? after : "");
	return 128 + sig;
}

int run_start(struct sup *S, struct wr_start_req *q, int wait)
{
	/* Start: decide again while waiting for a slot; the wait is bounded by
	 * --timeout, and then the limit rejects. */
	int64_t wait_end = S->pol.timeout_ms ? wr_mono_ms() + S->pol.timeout_ms : 0;
	int said_wait = 0;
	for (;;) {
		q->give_up = wait_end && wr_mono_ms() >= wait_end;
		if (wr_ledger_commit(&S->l, wr_decide_run_start, q) < 0) {
			wr_proc_cancel(&S->c);
			if (wr_stop_pending() && wr_errkind() != WR_E_REFUSED)
				return stopped_unrecorded(S, "the start of the run", NULL);
			wr_die(EXIT_FAILED, "%s%s", wr_errmsg(),
			       wr_errkind() == WR_E_REFUSED ? "" : "; the command was not run");
		}
		if (q->lost) {
			wr_warn("recorded %lld attempt%s of workflow %s lost: %s supervisor is gone, and %s slot is free",
				(long long)q->lost, q->lost == 1 ? "" : "s", q->run_workflow, q->lost == 1 ? "its" : "their",
				q->lost == 1 ? "its" : "each");
			wr_kill_lost_leftovers(wr_ledger_state(&S->l), q->run_workflow);
		}
		if (q->result != WR_START_BUSY)
			break;
		if (!said_wait) {
			wr_warn("waiting for a slot: %lld of at most %lld attempts of workflow %s are running",
				(long long)q->running, (long long)S->pol.concurrency, q->run_workflow);
			said_wait = 1;
		}
		struct pollfd pf = {sigfd[0], POLLIN, 0};
		if (poll(&pf, 1, 100 + (int)wr_random_below(400)) > 0) {
			unsigned char sigs[64];
			ssize_t n = read(sigfd[0], sigs, sizeof sigs);
			for (ssize_t i = 0; i < n; i++) {
				if (sigs[i] == SIGCHLD || sigs[i] == SIGUSR1 || sigs[i] == SIGUSR2)
					continue;
				wr_proc_cancel(&S->c);
				wr_warn("got signal %s while waiting for a slot; the command was not run", strsignal(sigs[i]));
				return 128 + sigs[i];
			}
		}
	}
	S->run = q->run_id;
	S->workflow = q->run_workflow;
	if (q->result == WR_START_NOT_YET) {
		wr_proc_cancel(&S->c);
		char when[WR_TS_LEN + 64];
		wr_warn("run %s waits for its retry until %s: nothing started; 'wr-recover retry %s' starts it now",
			q->run_id, wr_when_format(q->not_before, wr_now_ms(), when, sizeof when), wr_short_id(q->run_id));
		return EXIT_REJECTED;
	}
	if (q->result == WR_START_SUPERSEDED) {
		wr_proc_cancel(&S->c);
		wr_warn("attempt %lld of run %s is not its next one (that is attempt %lld: another wr-run started it, or "
			"the run moved on): nothing started", (long long)q->want_attempt, q->run_id,
			(long long)q->next_attempt);
		return EXIT_REJECTED;
	}
	if (q->result == WR_START_BREAKER || q->result == WR_START_LIMIT) {
		wr_proc_cancel(&S->c);
		const struct wr_workflow *w = wr_state_workflow(wr_ledger_state(&S->l), q->run_workflow);
		char ts[WR_TS_LEN];
		if (q->result == WR_START_BREAKER)
			wr_warn("rejected: the circuit breaker of workflow %s is open%s%s; run %s recorded as rejected",
				q->run_workflow, w && w->open_until ? " until " : "",
				w && w->open_until ? wr_ts_format(w->open_until, ts) : " (a trial attempt is running)", q->run_id);
		else
			wr_warn("rejected: %lld of at most %lld attempts of workflow %s are running%s; run %s recorded as "
				"rejected",
				(long long)q->running, (long long)S->pol.concurrency, q->run_workflow,
				wait ? " and the wait reached --timeout" : "", q->run_id);
		return EXIT_REJECTED;
	}
	S->attempt = q->attempt;
	return 0;
}

int64_t run_release(struct sup *S, const struct wr_start_req *q)
{
	struct wr_buf stages = {0};
	for (size_t i = 0; i < json_array_size(q->resume); i++)
		wr_buf_addf(&stages, "%s%s", i ? "," : "", json_string_value(json_array_get(q->resume, i)));
	char *env[] = {
		wr_xasprintf("WR_LEDGER=%s", wr_ledger_name(&S->l)),
		wr_xasprintf("WR_RUN=%s", S->run),
		wr_xasprintf("WR_WORKFLOW=%s", S->workflow),
		wr_xasprintf("WR_ATTEMPT=%lld", (long long)S->attempt),
		wr_xasprintf("WR_STAGES_DONE=%s", wr_buf_str(&stages)),
		wr_xasprintf("WR_PROGRESS_FD=%d", PROGRESS_FD),
		wr_xstrdup("WR_PROGRESS_VERSION=2"),
		NULL,
	};
	int64_t t0 = wr_mono_ms();
	wr_proc_release(&S->c, env);
	for (char **e = env; *e; e++)
		free(*e);
	wr_buf_free(&stages);
	return t0;
}

int command_status(const struct sup *S, int dflt)
{
	if (S->reaped && WIFSIGNALED(S->status))
		return 128 + WTERMSIG(S->status);
	return S->reaped && WIFEXITED(S->status) ? WEXITSTATUS(S->status) : dflt;
}

/* Commits the finish, waiting as long as the lock is busy: a finish is
 * never dropped (a dropped success would be declared lost and run again),
 * unless a signal to wr-run stops the wait (-2). 0, or -1 on another
 * error (wr_errmsg). */
static int commit_finish(struct sup *S, struct wr_end_req *end, int rc)
{
	int64_t warned = 0;
	while (wr_ledger_commit(&S->l, wr_decide_run_finish, end) < 0) {
		if (wr_errkind() != WR_E_LOCK_TIMEOUT)
			return -1;
		if (wr_stop_pending())
			return -2; /* a signal: wr-run ends rather than wait on */
		int64_t now = wr_mono_ms();
		if (!warned || now - warned >= 60000) {
			wr_warn("%s; still trying to record the end of attempt %lld of run %s (%s, exit %d)", wr_errmsg(),
				(long long)S->attempt, S->run, wr_outcome_name(end->fin.outcome), rc);
			warned = now;
		}
	}
	if (warned)
		wr_warn("recorded the end of attempt %lld of run %s", (long long)S->attempt, S->run);
	return 0;
}

int run_finish(struct sup *S, struct wr_end_req *end, int rc)
{
	end->fin.reason = S->end_reason;
	end->fin.code = S->end_code;
	agent_counts(S, &end->fin.agent);
	outlog_end(S, &end->fin);
	int committed = commit_finish(S, end, rc);
	json_decref(end->fin.output);
	end->fin.output = NULL;
	if (committed == -2) {
		char *what = wr_xasprintf("the end of attempt %lld of run %s (%s, exit %d)", (long long)S->attempt, S->run,
					  wr_outcome_name(end->fin.outcome), rc);
		int st = stopped_unrecorded(S, what,
					    "the attempt stays live in the ledger until 'wr-watch check' finds wr-run gone "
					    "and records it lost");
		free(what);
		return st;
	}
	if (committed < 0) {
		wr_warn("unable to record the end of attempt %lld of run %s (%s, exit %d): %s; the attempt stays live in "
			"the ledger until 'wr-watch check' finds wr-run gone and records it lost",
			(long long)S->attempt, S->run, wr_outcome_name(end->fin.outcome), rc, wr_errmsg());
		return EXIT_FAILED;
	}
	/* Ended by another process (lost, cancelled) or superseded: the end
	 * was recorded as a stale event; exit with what the command did. */
	if (end->fenced && end->fenced_outcome == WR_OUT_CANCELLED) {
		/* 'wr-recover cancel' ended it and stopped the command: a
		 * cancellation, as if wr-run had been sent the signal itself. */
		wr_warn("attempt %lld of run %s was cancelled: %s", (long long)S->attempt, S->run, end->fenced_why);
		return command_status(S, rc);
	}
	if (end->fenced) {
		wr_warn("the end of attempt %lld of run %s (%s, exit %d) is recorded as stale: %s", (long long)S->attempt,
			S->run, wr_outcome_name(end->fin.outcome), rc, end->fenced_why);
		return rc;
	}
	return rc;
}
