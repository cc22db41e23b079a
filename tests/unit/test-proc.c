/* test-proc - core/proc: start with pipes and environment changes, exec
 * and chdir failures, held start (cancel, release), wait with a deadline,
 * stopping the group (TERM, then KILL), the detached launch. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "timefmt.h"
#include "util.h"

/* Everything the child writes on fd until EOF (bounded: 10 s). */
static char *slurp(int fd)
{
	struct wr_buf b = {0};
	char buf[256];
	int64_t end = wr_mono_ms() + 10000;
	for (;;) {
		struct pollfd pf = {fd, POLLIN, 0};
		int64_t left = end - wr_mono_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		ssize_t n = wr_read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		wr_buf_add(&b, buf, (size_t)n);
	}
	close(fd);
	char *s = wr_xstrdup(wr_buf_str(&b));
	wr_buf_free(&b);
	return s;
}

/* Waits at most 10 s for the child to end. */
static int finish(struct wr_child *p)
{
	return wr_proc_wait(p, wr_mono_ms() + 10000, NULL, 0);
}

static void test_pipes_env(void)
{
	char *argv[] = {"sh", "-c", "printf '%s|%s|' \"$A\" \"${B-unset}\"; echo err >&2", NULL};
	char *env[] = {"A=one=1", "B", NULL};
	setenv("B", "set", 1);
	struct wr_child p = WR_CHILD_INIT;
	p.argv = argv;
	p.env = env;
	p.out = WR_PROC_PIPE;
	p.err_to_out = 1;
	ok(wr_proc_start(&p) == 0, "start with a pipe for stdout and stderr");
	is_int(p.exec_stage, WR_PROC_RAN, "it ran");
	char *out = slurp(p.out);
	is_str(out, "one=1|unset|err\n", "K=V sets, K unsets, stderr goes with stdout");
	free(out);
	is_int(finish(&p), 1, "it ended");
	ok(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "exit 0");
	is_str(getenv("B"), "set", "the parent's environment is untouched");
}

static void test_failures(void)
{
	char *argv[] = {"wr-no-such-command-here", NULL};
	struct wr_child p = WR_CHILD_INIT;
	p.argv = argv;
	ok(wr_proc_start(&p) == 0, "start of a missing command");
	is_int(p.exec_stage, WR_PROC_EXEC, "exec failed");
	is_int(p.exec_errno, ENOENT, "ENOENT");
	is_int(finish(&p), 1, "the failed child is waited for");
	ok(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 127, "it exits 127");

	char *sh[] = {"sh", "-c", "exit 0", NULL};
	struct wr_child q = WR_CHILD_INIT;
	q.argv = sh;
	q.dir = "/nonexistent/dir";
	ok(wr_proc_start(&q) == 0, "start in a missing directory");
	is_int(q.exec_stage, WR_PROC_CHDIR, "chdir failed");
	is_int(q.exec_errno, ENOENT, "ENOENT");
	is_int(finish(&q), 1, "waited for");

	ok(wr_proc_findable("sh"), "sh is on PATH");
	ok(!wr_proc_findable("wr-no-such-command-here"), "a missing command is not");
	ok(!wr_proc_findable("/nonexistent/x"), "nor a missing path");
}

static void test_held(void)
{
	char path[] = "/tmp/wr-test-proc-XXXXXX";
	ok(mkdtemp(path) != NULL, "a scratch directory");
	char *file = wr_xasprintf("%s/ran", path);
	char *argv[] = {"sh", "-c", "echo \"$WR_X\" >ran; echo progress >&3", NULL};
	struct wr_child p = WR_CHILD_INIT;
	p.argv = argv;
	p.dir = path;
	p.hold = 1;
	p.pgroup = 1;
	p.fd3 = WR_PROC_PIPE;
	ok(wr_proc_start(&p) == 0, "held start");
	is_int(getpgid(p.pid), p.pid, "the held child leads its own group");
	wr_proc_cancel(&p);
	ok(access(file, F_OK) < 0, "a cancelled child never ran");
	close(p.fd3);

	struct wr_child q = WR_CHILD_INIT;
	q.argv = argv;
	q.dir = path;
	q.hold = 1;
	q.fd3 = WR_PROC_PIPE;
	ok(wr_proc_start(&q) == 0, "held start again");
	char *env[] = {"WR_X=released", NULL};
	wr_proc_release(&q, env);
	is_int(q.exec_stage, WR_PROC_RAN, "released, it ran");
	char *prog = slurp(q.fd3);
	is_str(prog, "progress\n", "its fd 3 is the pipe");
	free(prog);
	is_int(finish(&q), 1, "it ended");
	int fd = open(file, O_RDONLY);
	char *got = fd >= 0 ? slurp(fd) : NULL;
	is_str(got, "released\n", "with the released environment, in dir");
	free(got);
	unlink(file);
	rmdir(path);
	free(file);
}

static void test_wait_stop(void)
{
	char *argv[] = {"sh", "-c", "trap '' TERM; sleep 100 & sleep 100", NULL};
	struct wr_child p = WR_CHILD_INIT;
	p.argv = argv;
	p.pgroup = 1;
	ok(wr_proc_start(&p) == 0, "start a command that ignores TERM");
	is_int(wr_proc_wait(&p, wr_mono_ms() + 50, NULL, 0), 0, "the deadline passes, it runs on");
	is_int(wr_proc_wait(&p, -1, NULL, 0), 0, "a deadline in the past only looks");
	int fds[2];
	ok(pipe(fds) == 0 && write(fds[1], "x", 1) == 1, "a ready fd");
	struct pollfd pf = {fds[0], POLLIN, 0};
	is_int(wr_proc_wait(&p, 0, &pf, 1), 0, "a ready fd ends the wait");
	ok(pf.revents & POLLIN, "with its revents set");
	close(fds[0]);
	close(fds[1]);
	pid_t pg = p.pid;
	wr_proc_stop(&p, 100);
	ok(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL, "TERM ignored: killed after the grace");
	int64_t end = wr_mono_ms() + 10000;
	while (wr_proc_group_alive(pg) && wr_mono_ms() < end) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* the orphaned sleep, ours as the subreaper */
		usleep(10000);
	}
	ok(!wr_proc_group_alive(pg), "nothing of its group is left");

	char *sleeper[] = {"sleep", "100", NULL};
	struct wr_child q = WR_CHILD_INIT;
	q.argv = sleeper;
	q.pgroup = 1;
	ok(wr_proc_start(&q) == 0, "start sleep");
	wr_proc_stop(&q, 10000);
	ok(WIFSIGNALED(q.status) && WTERMSIG(q.status) == SIGTERM, "stopped by TERM within the grace");
}

static void test_detach(void)
{
	char path[] = "/tmp/wr-test-proc-XXXXXX";
	ok(mkdtemp(path) != NULL, "a scratch directory");
	char *file = wr_xasprintf("%s/sid", path);
	int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int keep[2];
	ok(pipe2(keep, O_CLOEXEC) == 0, "a pipe to see how long the sitter lives");
	char *argv[] = {"sh", "-c", "cut -d' ' -f6 /proc/$$/stat >sid.tmp && mv sid.tmp sid", NULL};
	struct wr_child p = WR_CHILD_INIT;
	p.argv = argv;
	p.dir_fd = dirfd;
	p.detach = 1;
	p.keep_fd = keep[1];
	ok(wr_proc_start(&p) == 0, "detached launch");
	is_int(p.exec_stage, WR_PROC_RAN, "it ran");
	is_int(p.pid, -1, "nothing to wait for");
	close(keep[1]);
	char *none = slurp(keep[0]);
	is_str(none, "", "the sitter held keep_fd until the command ended");
	free(none);
	int fd = open(file, O_RDONLY);
	char *sid = fd >= 0 ? slurp(fd) : NULL;
	if (sid)
		sid[strcspn(sid, "\n")] = 0;
	ok(sid && atol(sid) > 0 && atol(sid) != (long)getsid(0), "in a session of its own (%s)", sid ? sid : "none");
	free(sid);
	unlink(file);
	close(dirfd);
	rmdir(path);
	free(file);

	char *missing[] = {"wr-no-such-command-here", NULL};
	struct wr_child q = WR_CHILD_INIT;
	q.argv = missing;
	q.detach = 1;
	ok(wr_proc_start(&q) == 0, "detached launch of a missing command");
	is_int(q.exec_stage, WR_PROC_EXEC, "exec failed");
	is_int(q.exec_errno, ENOENT, "ENOENT");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* Orphans of the commands come to us, so that a dead group empties
	 * whatever init does. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	test_pipes_env();
	test_failures();
	test_held();
	test_wait_stop();
	test_detach();
	return done_testing();
}
