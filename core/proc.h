/* proc.h - running a command: the one subprocess API of the wr tools.
 *
 * A struct wr_child describes the child (its argv, environment changes,
 * directory, standard fds, process group) and, once started, holds what the
 * parent needs (pid, pipe ends, how it ended). The shape is git's
 * run-command.h: fill in, start, use the fds, wait.
 *
 * Calling sequence:
 *
 *   struct wr_child p = WR_CHILD_INIT;
 *   p.argv = argv;                 (argv[0] looked up on PATH, never a shell)
 *   p.in = WR_PROC_PIPE;           (or an fd to dup onto stdin, or inherit)
 *   p.pgroup = 1;                  (its own process group: pgid = pid)
 *   if (wr_proc_start(&p) < 0)     (pipe or fork failed: errno; nothing runs)
 *           ...;
 *   if (p.exec_errno)              (it could not run: p.exec_stage says
 *           ...;                    where; it still must be waited for)
 *   ... write to p.in, read p.out, p.err ...
 *   wr_proc_wait(&p, deadline, NULL, 0) or wr_proc_stop(&p, grace_ms);
 *
 * A held child (p.hold) is forked and stopped before exec, so that the
 * parent can record its pid (and group) before it runs: wr_proc_release()
 * sends it the rest of its environment and lets it exec; wr_proc_cancel()
 * kills it unreleased, and then the command never runs.
 *
 * A detached launch (p.detach) starts the command in a new session under a
 * babysitter that holds p.keep_fd open as long as the command runs and then
 * exits; nothing is left for the caller to reap. Detached and held, the
 * start returns with .pid the held command's (or .exec_stage set when the
 * babysitter failed); release or cancel it as any held child, but never
 * wait for it.
 *
 * In the child every caught signal, and SIGPIPE, SIGHUP, SIGINT and SIGQUIT,
 * are reset to their default action and no signal is blocked: the command
 * starts as if from a plain shell; .keep_ignored and .mask make exceptions
 * (wr-run passes on what it was started with, as timeout(1) does). Errors are returned, never fatal; no
 * function here prints. */
#ifndef WR_PROC_H
#define WR_PROC_H

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

/* Values of .in, .out, .err and .fd3; any other value >= 0 is an fd that
 * becomes the child's (it stays open in the parent). */
#define WR_PROC_INHERIT (-2) /* the child gets ours (.fd3: nothing) */
#define WR_PROC_PIPE (-1)    /* a pipe: the parent's end is stored back here */

/* Where the child failed, in .exec_stage. */
enum wr_proc_stage {
	WR_PROC_RAN = 0,     /* it executed the command */
	WR_PROC_SETUP,       /* setting up its fds or its session failed */
	WR_PROC_CHDIR,       /* it could not change to .dir */
	WR_PROC_EXEC,        /* execvp failed: .exec_errno ENOENT is "not found" */
};

struct wr_child {
	/* Filled in by the caller. */
	char *const *argv;   /* the command; argv[0] is looked up on PATH */
	const char *path;    /* an executable tried before argv[0] on PATH, or NULL */
	char *const *env;    /* "K=V" sets, "K" unsets; NULL-terminated, or NULL */
	const char *dir;     /* changed to before exec, or NULL */
	int dir_fd;          /* or a directory fd to change to; -1 none */
	int in, out, err;    /* WR_PROC_INHERIT, WR_PROC_PIPE or an fd */
	int err_to_out;      /* stderr goes where stdout goes (.err is ignored) */
	int fd3;             /* the child's fd 3: WR_PROC_INHERIT (none), a pipe
			      * it writes to (WR_PROC_PIPE), or an fd */
	unsigned pgroup : 1; /* its own process group */
	unsigned hold : 1;   /* stopped before exec until wr_proc_release */
	unsigned detach : 1; /* a new session under a babysitter, see above */
	int keep_fd;         /* detach: held open by the babysitter, or -1 */
	int pdeathsig;       /* a signal it gets when its parent dies, or 0 */
	const sigset_t *keep_ignored; /* signals left ignored in the child, or NULL */
	const sigset_t *mask; /* the child's signal mask, or NULL: none blocked */

	/* Set by wr_proc_start and the calls after it. */
	pid_t pid;           /* the child, and with .pgroup its group */
	int status;          /* waitpid status once wr_proc_wait returned 1 */
	int exec_stage;      /* enum wr_proc_stage */
	int exec_errno;      /* errno of that failure, 0 when it ran */
	int hold_fd, status_fd, pidfd; /* private */
};

#define WR_CHILD_INIT                                                                                      \
	{                                                                                                 \
		.dir_fd = -1, .in = WR_PROC_INHERIT, .out = WR_PROC_INHERIT, .err = WR_PROC_INHERIT,      \
		.fd3 = WR_PROC_INHERIT, .keep_fd = -1, .pid = -1, .hold_fd = -1, .status_fd = -1,         \
		.pidfd = -1                                                                               \
	}

/* Starts the command. Returns 0, or -1 with errno set when a pipe or fork
 * failed (then nothing was started). Without .hold it waits until the child
 * executed the command or failed to (.exec_stage, .exec_errno); a failed
 * child exits 127 (not found) or 126 and must be waited for. With .detach
 * it returns when the command executed (or failed to), with .pid -1. */
int wr_proc_start(struct wr_child *p);

/* Lets a held child go on with env ("K=V"/"K" as .env, NULL-terminated, or
 * NULL) and waits until it executed the command or failed (.exec_stage,
 * .exec_errno). A child that died before is found by the wait. */
void wr_proc_release(struct wr_child *p, char *const *env);

/* Kills a held child that was never released and reaps it. */
void wr_proc_cancel(struct wr_child *p);

/* Waits until the child ends, deadline (wr_mono_ms; 0: none; one in the
 * past, such as -1, only looks) passes, or one of the nfds (at most 7)
 * pollfds is ready (their revents set). Returns 1 when it ended
 * (reaped: .status), 0 when not, -1 on error with errno set. */
int wr_proc_wait(struct wr_child *p, int64_t deadline, struct pollfd *fds, int nfds);

/* Ends the child's process group: SIGTERM, SIGKILL once grace_ms passed,
 * and SIGKILL to what is left of the group when its leader ended; reaps the
 * leader (.status). The group id cannot be reused before, so nothing else is
 * signalled. */
void wr_proc_stop(struct wr_child *p, int64_t grace_ms);

/* Sends sig to the child's process group; 0 or -1 with errno set. */
int wr_proc_signal(const struct wr_child *p, int sig);

/* 1 while any process of group pgid exists (zombies too), else 0. */
int wr_proc_group_alive(pid_t pgid);

/* 1 when argv0 names an executable file, directly or on PATH. */
int wr_proc_findable(const char *argv0);

#endif
