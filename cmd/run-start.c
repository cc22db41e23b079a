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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "text.h"
#include "timefmt.h"
#include "run.h"

/* ---- signals: a self-pipe read by the event loop ---- */

int sigfd[2] = {-1, -1};
static const int handled[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD};
#define NHANDLED (sizeof handled / sizeof handled[0])

static void on_signal(int sig)
{
	int e = errno;
	unsigned char c = (unsigned char)sig;
	(void)!write(sigfd[1], &c, 1);
	errno = e;
}

void setup_signals(sigset_t *mask)
{
	if (pipe2(sigfd, O_CLOEXEC | O_NONBLOCK) < 0)
		wr_diesys(EXIT_FAILED, "unable to create a pipe");
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigemptyset(mask);
	for (size_t i = 0; i < NHANDLED; i++) {
		sigaction(handled[i], &sa, NULL);
		sigaddset(mask, handled[i]);
	}
	/* A closed stdout is handled by closing the child's pipe (below), so
	 * that wr-run lives on to record the end. */
	signal(SIGPIPE, SIG_IGN);
}

static void xpipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		wr_diesys(EXIT_FAILED, "unable to create a pipe");
}

void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In the child between fork and exec: wait for the environment, then exec.
 * An empty hold pipe means the start was not recorded: never run. */
static _Noreturn void child_main(struct child *c, char **argv, const sigset_t *mask)
{
	for (size_t i = 0; i < NHANDLED; i++)
		signal(handled[i], SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, mask, NULL);
	/* Our copies of the parent's ends would keep the hold pipe from ever
	 * reaching EOF. */
	close(c->hold_w);
	close(c->exec_r);
	close(c->out_r);
	if (c->err_r >= 0)
		close(c->err_r);
	close(c->prog_r);
	close(sigfd[0]);
	close(sigfd[1]);
	setpgid(0, 0);
	if (dup2(c->out_w, 1) < 0 || dup2(c->err_w >= 0 ? c->err_w : c->out_w, 2) < 0)
		_exit(EXIT_FAILED);
	struct wr_buf env = {0};
	char buf[4096];
	ssize_t n;
	while ((n = wr_read(c->hold_r, buf, sizeof buf)) > 0)
		wr_buf_add(&env, buf, (size_t)n);
	if (n < 0 || env.len == 0)
		_exit(EXIT_FAILED);
	close(c->hold_r);
	/* The progress pipe goes to fd 3 (WR_PROGRESS_FD=3), where any shell
	 * can name it: dash takes one digit in '>&3'. */
	if (c->exec_w == PROGRESS_FD)
		c->exec_w = fcntl(c->exec_w, F_DUPFD_CLOEXEC, PROGRESS_FD + 1);
	if (c->prog_w != PROGRESS_FD) {
		if (dup2(c->prog_w, PROGRESS_FD) < 0)
			_exit(EXIT_FAILED);
		close(c->prog_w);
	} else {
		fcntl(PROGRESS_FD, F_SETFD, 0);
	}
	for (size_t off = 0; off < env.len;) {
		char *kv = env.p + off;
		size_t len = strnlen(kv, env.len - off);
		char *eq = memchr(kv, '=', len);
		if (eq) {
			*eq = 0;
			kv[len] = 0;
			setenv(kv, eq + 1, 1);
		}
		off += len + 1;
	}
	int e[2] = {CHILD_CHDIR, 0};
	if (c->dir && chdir(c->dir) < 0) {
		e[1] = errno;
		(void)!write(c->exec_w, e, sizeof e);
		_exit(EXIT_FAILED);
	}
	execvp(argv[0], argv);
	e[0] = CHILD_EXEC;
	e[1] = errno;
	(void)!write(c->exec_w, e, sizeof e);
	_exit(e[1] == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void spawn_held(struct child *c, char **argv, const sigset_t *mask)
{
	int p[2];
	xpipe(p);
	c->out_r = p[0], c->out_w = p[1];
	c->err_r = c->err_w = -1;
	/* One file behind both (a terminal, 2>&1): one pipe keeps the order. */
	if (!same_file(1, 2)) {
		xpipe(p);
		c->err_r = p[0], c->err_w = p[1];
	}
	xpipe(p);
	c->prog_r = p[0], c->prog_w = p[1];
	xpipe(p);
	c->hold_r = p[0], c->hold_w = p[1];
	xpipe(p);
	c->exec_r = p[0], c->exec_w = p[1];
	/* Bigger pipes: fewer wake-ups on heavy output (best effort). */
	fcntl(c->out_r, F_SETPIPE_SZ, 1 << 20);
	if (c->err_r >= 0)
		fcntl(c->err_r, F_SETPIPE_SZ, 1 << 20);
	sigset_t old;
	sigprocmask(SIG_BLOCK, mask, &old);
	c->pid = fork();
	if (c->pid < 0)
		wr_diesys(EXIT_FAILED, "unable to fork");
	if (c->pid == 0)
		child_main(c, argv, mask);
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* Both sides set the group, so it exists whoever runs first. */
	setpgid(c->pid, c->pid);
	closefd(&c->out_w);
	closefd(&c->err_w);
	closefd(&c->hold_r);
	closefd(&c->exec_w);
	fcntl(c->out_r, F_SETFL, O_NONBLOCK);
	if (c->err_r >= 0)
		fcntl(c->err_r, F_SETFL, O_NONBLOCK);
	fcntl(c->prog_r, F_SETFL, O_NONBLOCK);
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

static void env_add(struct wr_buf *b, const char *k, const char *v)
{
	wr_buf_addf(b, "%s=%s", k, v);
	wr_buf_add(b, "", 1);
}

void kill_held(struct child *c)
{
	closefd(&c->hold_w);
	kill(c->pid, SIGKILL);
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
}


int run_start(struct sup *S, struct wr_start_req *q, int wait)
{
	/* Start: decide again while waiting for a slot; the wait is bounded by
	 * --timeout, and then the limit rejects. */
	int64_t wait_end = S->pol.timeout_ms ? wr_mono_ms() + S->pol.timeout_ms : 0;
	srand((unsigned)(getpid() ^ wr_now_ms()));
	int said_wait = 0;
	for (;;) {
		q->give_up = wait_end && wr_mono_ms() >= wait_end;
		if (wr_ledger_commit(&S->l, wr_decide_run_start, q) < 0) {
			kill_held(&S->c);
			wr_die(EXIT_FAILED, "%s%s", wr_errmsg(),
			       wr_errkind() == WR_E_REFUSED ? "" : "; the command was not run");
		}
		if (q->result != WR_START_BUSY)
			break;
		if (!said_wait) {
			wr_warn("waiting for a slot: %lld of at most %lld attempts of workflow %s are running",
				(long long)q->running, (long long)S->pol.concurrency, q->run_workflow);
			said_wait = 1;
		}
		struct pollfd pf = {sigfd[0], POLLIN, 0};
		if (poll(&pf, 1, 100 + rand() % 400) > 0) {
			unsigned char sigs[64];
			ssize_t n = read(sigfd[0], sigs, sizeof sigs);
			for (ssize_t i = 0; i < n; i++) {
				if (sigs[i] == SIGCHLD || sigs[i] == SIGUSR1 || sigs[i] == SIGUSR2)
					continue;
				kill_held(&S->c);
				wr_warn("got signal %s while waiting for a slot; the command was not run", strsignal(sigs[i]));
				return 128 + sigs[i];
			}
		}
	}
	S->run = q->run_id;
	S->workflow = q->run_workflow;
	if (q->result == WR_START_BREAKER || q->result == WR_START_LIMIT) {
		kill_held(&S->c);
		const struct wr_workflow *w = wr_state_workflow(&S->l.st, q->run_workflow);
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

int64_t run_release(struct sup *S, const struct wr_start_req *q, int child_err[2])
{
	/* Release the held child with its environment. */
	struct wr_buf env = {0};
	char num[32];
	env_add(&env, "WR_LEDGER", S->l.path);
	env_add(&env, "WR_RUN", S->run);
	env_add(&env, "WR_WORKFLOW", S->workflow);
	snprintf(num, sizeof num, "%lld", (long long)S->attempt);
	env_add(&env, "WR_ATTEMPT", num);
	struct wr_buf stages = {0};
	for (size_t i = 0; i < json_array_size(q->resume); i++)
		wr_buf_addf(&stages, "%s%s", i ? "," : "", json_string_value(json_array_get(q->resume, i)));
	env_add(&env, "WR_STAGES_DONE", wr_buf_str(&stages));
	snprintf(num, sizeof num, "%d", PROGRESS_FD);
	env_add(&env, "WR_PROGRESS_FD", num);
	env_add(&env, "WR_PROGRESS_VERSION", "2");
	int64_t t0 = wr_mono_ms();
	(void)wr_write_all(S->c.hold_w, env.p, env.len); /* EPIPE: it died; reaped below */
	closefd(&S->c.hold_w);
	closefd(&S->c.prog_w);
	wr_buf_free(&env);
	wr_buf_free(&stages);
	child_err[0] = child_err[1] = 0;
	ssize_t got;
	do
		got = read(S->c.exec_r, child_err, 2 * sizeof *child_err);
	while (got < 0 && errno == EINTR);
	closefd(&S->c.exec_r);
	if (got != (ssize_t)2 * sizeof *child_err)
		child_err[0] = child_err[1] = 0;
	return t0;
}

int run_finish(struct sup *S, struct wr_end_req *end, int rc)
{
	end->fin.reason = S->end_reason;
	end->fin.code = S->end_code;
	agent_counts(S, &end->fin.agent);
	if (wr_ledger_commit(&S->l, wr_decide_run_finish, end) < 0) {
		wr_warn("unable to record the end of attempt %lld of run %s (%s, exit %d): %s; the attempt stays live in "
			"the ledger until 'wr-watch check' finds wr-run gone and records it lost",
			(long long)S->attempt, S->run, wr_outcome_name(end->fin.outcome), rc, wr_errmsg());
		return EXIT_FAILED;
	}
	if (end->fenced && end->fenced_outcome == WR_OUT_CANCELLED) {
		/* 'wr-recover cancel' ended it and stopped the command: a
		 * cancellation, as if wr-run had been sent the signal itself. */
		wr_warn("attempt %lld of run %s was cancelled: %s", (long long)S->attempt, S->run, end->fenced_why);
		if (S->reaped && WIFSIGNALED(S->status))
			return 128 + WTERMSIG(S->status);
		return S->reaped && WIFEXITED(S->status) ? WEXITSTATUS(S->status) : rc;
	}
	if (end->fenced) {
		wr_warn("the end of attempt %lld of run %s (%s, exit %d) was not recorded: %s", (long long)S->attempt,
			S->run, wr_outcome_name(end->fin.outcome), rc, end->fenced_why);
		return EXIT_FAILED;
	}
	if (S->fenced)
		return EXIT_FAILED;
	return rc;
}
