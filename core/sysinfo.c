/* sysinfo.c - hostname, boot id and process start times from /proc. */
#include "sysinfo.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *wr_hostname(void)
{
	static char host[256];
	if (!host[0]) {
		const char *env = getenv("WR_HOSTNAME");
		if (env && *env)
			snprintf(host, sizeof host, "%s", env);
		else if (gethostname(host, sizeof host - 1) < 0)
			host[0] = 0;
	}
	return host;
}

static int read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = wr_read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	return (int)r;
}

const char *wr_boot_id(void)
{
	static char id[64];
	if (!id[0]) {
		if (read_small("/proc/sys/kernel/random/boot_id", id, sizeof id) < 0)
			id[0] = 0;
		id[strcspn(id, "\n")] = 0;
	}
	return id;
}

/* Start time and state letter of pid from /proc/PID/stat; 0 when unknown. */
static uint64_t proc_stat(pid_t pid, char *state)
{
	char path[64], buf[1024];
	*state = 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (read_small(path, buf, sizeof buf) < 0)
		return 0;
	/* The command name may hold spaces and ')': fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return 0;
	p++;
	*state = p[1];
	/* After ')' come fields 3..; starttime is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return 0;
	}
	return strtoull(p + 1, NULL, 10);
}

uint64_t wr_pid_start(pid_t pid)
{
	char state;
	return proc_stat(pid, &state);
}

enum wr_proc wr_proc_check(int64_t pid, int64_t pid_start)
{
	if (pid <= 0)
		return WR_PROC_UNKNOWN;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return WR_PROC_GONE;
	char state;
	uint64_t st = proc_stat((pid_t)pid, &state);
	if (state == 'Z' || state == 'X')
		return WR_PROC_GONE; /* dead, not yet reaped */
	if (st == 0)
		return kill((pid_t)pid, 0) == 0 || errno == EPERM ? WR_PROC_ALIVE : WR_PROC_GONE;
	if (pid_start && (int64_t)st != pid_start)
		return WR_PROC_REUSED;
	return WR_PROC_ALIVE;
}
