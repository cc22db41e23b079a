/* proc.c - running a command (see proc.h for the calling sequence).
 *
 * Between fork and exec the child only calls what it needs to set itself
 * up; what fails there reaches the parent as {stage, errno} on a
 * close-on-exec pipe, so that EOF on it means the command was executed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "timefmt.h"
#include "util.h"

/* ---- in the child ---- */

static _Noreturn void child_fail(int fd, int stage, int err)
{
	int e[2] = {stage, err};
	(void)!write(fd, e, sizeof e);
	_exit(stage == WR_PROC_EXEC && err == ENOENT ? 127 : 126);
}

/* Caught signals and the ones a tool or a launcher sets aside go back to
 * their default, but those of p->keep_ignored, which are ignored; the mask
 * is p->mask, or empty. */
static void child_signals(const struct wr_child *p)
{
	struct sigaction dfl, old;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &old) < 0)
			continue;
		int aside = sig == SIGPIPE || sig == SIGHUP || sig == SIGINT || sig == SIGQUIT;
		if (p->keep_ignored && sigismember(p->keep_ignored, sig) == 1)
			signal(sig, SIG_IGN);
		else if (old.sa_handler != SIG_DFL && (old.sa_handler != SIG_IGN || aside))
			sigaction(sig, &dfl, NULL);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, p->mask ? p->mask : &none, NULL);
}

/* Puts fd on target (0, 1, 2): WR_PROC_INHERIT leaves target alone. */
static int child_dup(int fd, int target)
{
	if (fd == WR_PROC_INHERIT || fd == target)
		return 0;
	return dup2(fd, target) < 0 ? -1 : 0;
}

/* The child's ends of its standard fds, from the parent's description. */
struct ends {
	int in, out, err, fd3;     /* the child's sides, or WR_PROC_INHERIT */
	int close[6];              /* the parent's sides of the pipes, or -1 */
};

static void child_fds(const struct wr_child *p, const struct ends *e)
{
	if (child_dup(e->in, 0) < 0 || child_dup(e->out, 1) < 0 ||
	    child_dup(p->err_to_out ? (e->out == WR_PROC_INHERIT ? 1 : e->out) : e->err, 2) < 0)
		child_fail(p->status_fd, WR_PROC_SETUP, errno);
}

/* Applies "K=V" (set) and "K" (unset) entries. */
static void child_env(char *const *env)
{
	for (size_t i = 0; env && env[i]; i++) {
		char *eq = strchr(env[i], '=');
		if (!eq) {
			unsetenv(env[i]);
			continue;
		}
		char *k = wr_xstrndup(env[i], (size_t)(eq - env[i]));
		setenv(k, eq + 1, 1);
		free(k);
	}
}

/* Reads the environment sent by wr_proc_release; an empty pipe means the
 * start was not recorded: never run. */
static void child_held_env(struct wr_child *p)
{
	struct wr_buf env = {0};
	char buf[4096];
	ssize_t n;
	while ((n = wr_read(p->hold_fd, buf, sizeof buf)) > 0)
		wr_buf_add(&env, buf, (size_t)n);
	if (n < 0 || env.len == 0)
		_exit(126);
	close(p->hold_fd);
	wr_buf_str(&env); /* the last entry ends in a NUL too */
	for (size_t off = 0; off < env.len;) {
		char *one[2] = {env.p + off, NULL};
		if (*one[0])
			child_env(one);
		off += strlen(one[0]) + 1;
	}
}

/* The command's fd 3 (WR_PROGRESS_FD=3 for wr-run: one digit, so that
 * any shell can name it). */
static void child_fd3(struct wr_child *p, int fd3)
{
	if (fd3 == WR_PROC_INHERIT)
		return;
	if (p->status_fd == 3)
		p->status_fd = fcntl(3, F_DUPFD_CLOEXEC, 4);
	if (fd3 != 3) {
		if (dup2(fd3, 3) < 0)
			child_fail(p->status_fd, WR_PROC_SETUP, errno);
		close(fd3);
	} else {
		fcntl(3, F_SETFD, 0);
	}
}

static _Noreturn void child_exec(struct wr_child *p, int fd3)
{
	if (p->hold)
		child_held_env(p);
	child_fd3(p, fd3);
	child_env(p->env);
	if ((p->dir && chdir(p->dir) < 0) || (p->dir_fd >= 0 && fchdir(p->dir_fd) < 0))
		child_fail(p->status_fd, WR_PROC_CHDIR, errno);
	if (p->path)
		execv(p->path, p->argv);
	execvp(p->argv[0], p->argv);
	child_fail(p->status_fd, WR_PROC_EXEC, errno);
}

/* Closes every fd above 2 but keep1, keep2 and keep3 (nothing allocates
 * here but opendir's buffer). */
static void close_others(int keep1, int keep2, int keep3)
{
	int fds[256], n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		for (int fd = 3; fd < 1024; fd++)
			if (fd != keep1 && fd != keep2 && fd != keep3)
				close(fd);
		return;
	}
	struct dirent *de;
	int own = dirfd(d);
	while ((de = readdir(d)) && n < 256) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd > 2 && fd != keep1 && fd != keep2 &&
		    fd != keep3 && fd != own)
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* The babysitter of a detached launch: its own session, no terminal, no
 * caller's pipe; it holds keep_fd until the command ends. */
static _Noreturn void child_detached(struct wr_child *p, const struct ends *e)
{
	if (setsid() < 0)
		child_fail(p->status_fd, WR_PROC_SETUP, errno);
	pid_t sitter = fork();
	if (sitter < 0)
		child_fail(p->status_fd, WR_PROC_SETUP, errno);
	if (sitter > 0)
		_exit(0);
	child_signals(p);
	signal(SIGHUP, SIG_IGN);
	child_fds(p, e);
	if (p->dir_fd >= 0 && fchdir(p->dir_fd) < 0)
		child_fail(p->status_fd, WR_PROC_CHDIR, errno);
	/* Nothing of the caller may outlive it by accident (a lock file):
	 * only keep_fd stays (and a held command's pipe, for the command). */
	close_others(p->keep_fd, p->status_fd, p->hold_fd);
	p->dir_fd = -1;
	pid_t child = fork();
	if (child == 0) {
		child_signals(p);
		child_exec(p, WR_PROC_INHERIT);
	}
	if (child < 0)
		child_fail(p->status_fd, WR_PROC_SETUP, errno);
	if (p->hold) {
		/* The caller records the held command's pid before it runs. */
		int e[2] = {-1, (int)child};
		(void)!write(p->status_fd, e, sizeof e);
		close(p->hold_fd);
	}
	close(p->status_fd);
	int st;
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	/* keep_fd stays open until this exit. */
	_exit(0);
}

static _Noreturn void child_main(struct wr_child *p, const struct ends *e, pid_t parent)
{
	for (int i = 0; i < 6; i++)
		if (e->close[i] >= 0)
			close(e->close[i]);
	if (p->detach)
		child_detached(p, e);
	child_signals(p);
	if (p->pgroup)
		setpgid(0, 0);
	if (p->pdeathsig) {
		prctl(PR_SET_PDEATHSIG, p->pdeathsig);
		if (getppid() != parent)
			_exit(126);
	}
	child_fds(p, e);
	child_exec(p, e->fd3);
}

/* ---- in the parent ---- */

/* A pipe for the child's side fd of the given direction (out: the child
 * writes). *mine gets the parent's end; the child's is returned. */
static int side(int *spec, int child_writes, int *mine, int *theirs)
{
	*mine = -1;
	*theirs = *spec;
	if (*spec != WR_PROC_PIPE)
		return 0;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	*mine = child_writes ? fds[0] : fds[1];
	*theirs = child_writes ? fds[1] : fds[0];
	return 0;
}

/* Reads {stage, errno} from the status pipe until EOF and closes it. */
static void read_status(struct wr_child *p)
{
	int e[2] = {0, 0};
	ssize_t got;
	do
		got = read(p->status_fd, e, sizeof e);
	while (got < 0 && errno == EINTR);
	close(p->status_fd);
	p->status_fd = -1;
	if (got != (ssize_t)sizeof e)
		e[0] = e[1] = 0;
	p->exec_stage = e[0];
	p->exec_errno = e[1];
}

/* Detached and held: the babysitter's first record is {-1, pid} of the
 * held command; anything else is how the launch failed (the pipe closed). */
static void read_held_pid(struct wr_child *p)
{
	int e[2] = {0, 0};
	ssize_t got;
	do
		got = read(p->status_fd, e, sizeof e);
	while (got < 0 && errno == EINTR);
	if (got == (ssize_t)sizeof e && e[0] == -1 && e[1] > 0) {
		p->pid = e[1];
		return;
	}
	close(p->status_fd);
	close(p->hold_fd);
	p->status_fd = p->hold_fd = -1;
	p->exec_stage = got == (ssize_t)sizeof e && e[0] > 0 ? e[0] : WR_PROC_SETUP;
	p->exec_errno = got == (ssize_t)sizeof e && e[0] > 0 ? e[1] : 0;
}

static void close_ends(struct ends *e, int parent_side)
{
	int *mine[] = {&e->close[0], &e->close[1], &e->close[2], &e->close[3]};
	int theirs[] = {e->in, e->out, e->err, e->fd3};
	for (int i = 0; i < 4; i++) {
		if (*mine[i] < 0)
			continue;
		if (parent_side)
			close(*mine[i]);
		else
			close(theirs[i]);
	}
}

static int make_pipes(struct wr_child *p, struct ends *e)
{
	for (int i = 0; i < 6; i++)
		e->close[i] = -1;
	e->in = e->out = e->err = e->fd3 = WR_PROC_INHERIT;
	int status[2] = {-1, -1}, hold[2] = {-1, -1};
	if (side(&p->in, 0, &e->close[0], &e->in) < 0 || side(&p->out, 1, &e->close[1], &e->out) < 0 ||
	    (!p->err_to_out && side(&p->err, 1, &e->close[2], &e->err) < 0) ||
	    side(&p->fd3, 1, &e->close[3], &e->fd3) < 0 || pipe2(status, O_CLOEXEC) < 0 ||
	    (p->hold && pipe2(hold, O_CLOEXEC) < 0)) {
		int err = errno;
		close_ends(e, 1);
		close_ends(e, 0);
		for (int i = 0; i < 2; i++) {
			if (status[i] >= 0)
				close(status[i]);
		}
		errno = err;
		return -1;
	}
	if (p->err_to_out)
		e->err = WR_PROC_INHERIT;
	p->status_fd = status[1];
	e->close[4] = status[0];
	p->hold_fd = hold[0];
	e->close[5] = hold[1];
	return 0;
}

int wr_proc_start(struct wr_child *p)
{
	struct ends e;
	if (make_pipes(p, &e) < 0)
		return -1;
	pid_t parent = getpid();
	sigset_t all, old;
	sigfillset(&all);
	/* No handler of ours may run in the child before it resets them. */
	sigprocmask(SIG_BLOCK, &all, &old);
	fflush(stdout);
	fflush(stderr);
	p->pid = fork();
	if (p->pid == 0)
		child_main(p, &e, parent);
	int err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p->status_fd);
	p->status_fd = e.close[4];
	if (p->hold_fd >= 0)
		close(p->hold_fd);
	p->hold_fd = e.close[5];
	close_ends(&e, 0);
	if (p->pid < 0) {
		close_ends(&e, 1);
		close(p->status_fd);
		if (p->hold_fd >= 0)
			close(p->hold_fd);
		p->status_fd = p->hold_fd = -1;
		errno = err;
		return -1;
	}
	/* Both sides set the group, so it exists whoever runs first. */
	if (p->pgroup && !p->detach)
		setpgid(p->pid, p->pid);
	p->in = e.close[0] >= 0 ? e.close[0] : p->in;
	p->out = e.close[1] >= 0 ? e.close[1] : p->out;
	p->err = e.close[2] >= 0 ? e.close[2] : p->err;
	p->fd3 = e.close[3] >= 0 ? e.close[3] : p->fd3;
	if (p->detach) {
		int st;
		while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
			;
		p->pid = -1;
		if (p->hold)
			read_held_pid(p);
		else
			read_status(p);
		if (!p->exec_stage && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			p->exec_stage = WR_PROC_SETUP;
	} else if (!p->hold) {
		read_status(p);
	}
	return 0;
}

void wr_proc_release(struct wr_child *p, char *const *env)
{
	struct wr_buf b = {0};
	for (size_t i = 0; env && env[i]; i++)
		wr_buf_add(&b, env[i], strlen(env[i]) + 1);
	if (!b.len)
		wr_buf_add(&b, "", 1); /* released, with nothing to add */
	(void)wr_write_all(p->hold_fd, b.p, b.len); /* EPIPE: it died; the wait finds it */
	wr_buf_free(&b);
	close(p->hold_fd);
	p->hold_fd = -1;
	read_status(p);
}

void wr_proc_cancel(struct wr_child *p)
{
	if (p->hold_fd >= 0)
		close(p->hold_fd);
	p->hold_fd = -1;
	if (p->status_fd >= 0)
		close(p->status_fd);
	p->status_fd = -1;
	if (p->detach)
		return; /* it reads EOF and exits; its babysitter reaps it */
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
}

int wr_proc_signal(const struct wr_child *p, int sig)
{
	return kill(p->pgroup ? -p->pid : p->pid, sig);
}

int wr_proc_group_alive(pid_t pgid)
{
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

/* 1 when the child ended (reaped with reap, else left a zombie), 0 when
 * not yet, -1 on error. */
static int ended(struct wr_child *p, int reap)
{
	if (reap) {
		pid_t r;
		while ((r = waitpid(p->pid, &p->status, WNOHANG)) < 0 && errno == EINTR)
			;
		if (r == p->pid && p->pidfd >= 0) {
			close(p->pidfd);
			p->pidfd = -1;
		}
		return r < 0 ? -1 : r == p->pid;
	}
	siginfo_t si;
	memset(&si, 0, sizeof si);
	while (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		if (errno != EINTR)
			return -1;
	return si.si_pid == p->pid;
}

static int wait_until(struct wr_child *p, int64_t deadline, struct pollfd *fds, int nfds, int reap)
{
	struct pollfd pf[8];
	if (nfds > 7) {
		errno = EINVAL;
		return -1;
	}
	if (p->pidfd < 0)
		p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	for (;;) {
		int r = ended(p, reap);
		if (r)
			return r;
		int64_t now = wr_mono_ms();
		if (deadline && now >= deadline)
			return 0;
		int t = !deadline ? -1 : deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
		if (p->pidfd < 0 && (t < 0 || t > 10))
			t = 10; /* no pidfd (an old kernel): look again soon */
		pf[0] = (struct pollfd){p->pidfd, POLLIN, 0};
		for (int i = 0; i < nfds; i++)
			pf[i + 1] = fds[i];
		int n = poll(pf, (nfds_t)nfds + 1, t);
		if (n < 0 && errno != EINTR)
			return -1;
		int ready = 0;
		for (int i = 0; n > 0 && i < nfds; i++) {
			fds[i].revents = pf[i + 1].revents;
			ready |= fds[i].revents != 0;
		}
		if (ready)
			return 0;
	}
}

int wr_proc_wait(struct wr_child *p, int64_t deadline, struct pollfd *fds, int nfds)
{
	for (int i = 0; i < nfds; i++)
		fds[i].revents = 0;
	return wait_until(p, deadline, fds, nfds, 1);
}

void wr_proc_stop(struct wr_child *p, int64_t grace_ms)
{
	wr_proc_signal(p, SIGTERM);
	if (wait_until(p, wr_mono_ms() + grace_ms, NULL, 0, 0) != 1) {
		wr_proc_signal(p, SIGKILL);
		wait_until(p, 0, NULL, 0, 0);
	}
	/* The leader is a zombie still, so its group id cannot be reused:
	 * nothing of the group may outlive it. */
	if (p->pgroup)
		wr_proc_signal(p, SIGKILL);
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

int wr_proc_findable(const char *argv0)
{
	if (strchr(argv0, '/'))
		return access(argv0, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		char *cand = n ? wr_xasprintf("%.*s/%s", (int)n, path, argv0) : wr_xasprintf("./%s", argv0);
		struct stat sb;
		int ok = stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) && access(cand, X_OK) == 0;
		free(cand);
		if (ok)
			return 1;
		path += n;
		if (*path == ':')
			path++;
	}
	return 0;
}
