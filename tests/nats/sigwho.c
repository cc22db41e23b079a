/* sigwho - a job for tests/nats/hosts.sh that runs until it is signalled
 * and says who signalled it.
 *
 *   sigwho DIR [N]
 *
 * With WR_ATTEMPT at N or more it exits 0 at once (a retry that
 * succeeds). Else it writes DIR/RUN.ATTEMPT.started ("RUN ATTEMPT HOST",
 * HOST its own $WR_TEST_HOST), waits for SIGTERM, SIGINT or SIGHUP, and
 * writes DIR/RUN.ATTEMPT.killed: "RUN ATTEMPT HOST KILLER_HOST KILLER_COMM
 * SIGNAL", the killer's host from the $WR_TEST_HOST in its
 * /proc/PID/environ ("?" when it cannot be read), and exits 128+SIGNAL.
 * It leaves with _exit: in a sanitizer build, the leak check at exit
 * once spun for seconds after the signal in a loaded run, past wr-run's
 * grace, and the SIGKILL that ended it was taken for the timeout's. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void read_file(const char *path, char *buf, size_t n, size_t *len)
{
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t r;
	while (*len < n - 1 && (r = read(fd, buf + *len, n - 1 - *len)) > 0)
		*len += (size_t)r;
	close(fd);
	buf[*len] = 0;
}

/* The WR_TEST_HOST and comm of process pid, "?" when unknown. */
static void who(pid_t pid, char *host, size_t hn, char *comm, size_t cn)
{
	static char env[1 << 16];
	char path[64];
	size_t len;
	snprintf(host, hn, "?");
	snprintf(comm, cn, "?");
	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	read_file(path, env, sizeof env, &len);
	for (size_t i = 0; i < len; i += strlen(env + i) + 1)
		if (!strncmp(env + i, "WR_TEST_HOST=", 13))
			snprintf(host, hn, "%s", env + i + 13);
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	read_file(path, comm, cn, &len);
	comm[strcspn(comm, "\n")] = 0;
	if (!comm[0])
		snprintf(comm, cn, "?");
}

static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: sigwho DIR [N]\n");
		return 2;
	}
	const char *run = getenv("WR_RUN"), *att = getenv("WR_ATTEMPT"), *host = getenv("WR_TEST_HOST");
	if (!run || !att || !host) {
		fprintf(stderr, "sigwho: WR_RUN, WR_ATTEMPT and WR_TEST_HOST must be set\n");
		return 2;
	}
	if (argc == 3 && atol(att) >= atol(argv[2]))
		_exit(0);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	char path[4096], text[1024];
	snprintf(path, sizeof path, "%s/%s.%s.started", argv[1], run, att);
	snprintf(text, sizeof text, "%s %s %s\n", run, att, host);
	if (write_file(path, text) < 0)
		return 1;
	siginfo_t si;
	int sig;
	while ((sig = sigwaitinfo(&set, &si)) < 0)
		;
	char khost[256], kcomm[64];
	who(si.si_pid, khost, sizeof khost, kcomm, sizeof kcomm);
	snprintf(path, sizeof path, "%s/%s.%s.killed", argv[1], run, att);
	snprintf(text, sizeof text, "%s %s %s %s %s %d\n", run, att, host, khost, kcomm, sig);
	write_file(path, text);
	_exit(128 + sig);
}
