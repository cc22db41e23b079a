/* sysinfo.c - hostname, boot id and process start times from /proc. */
#include "sysinfo.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <time.h>
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

/* State letter, process group and start time of pid from /proc/PID/stat;
 * returns the start time, 0 when unknown. */
static uint64_t proc_stat_full(long pid, char *state, long *pgrp)
{
	char path[64], buf[1024];
	*state = 0;
	*pgrp = 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (read_small(path, buf, sizeof buf) < 0)
		return 0;
	/* The command name may hold spaces and ')': fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return 0;
	p++;
	*state = p[1];
	long ppid;
	if (sscanf(p + 2, "%ld %ld", &ppid, pgrp) != 2)
		*pgrp = 0;
	/* After ')' come fields 3..; starttime is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return 0;
	}
	return strtoull(p + 1, NULL, 10);
}

static uint64_t proc_stat(pid_t pid, char *state)
{
	long pgrp;
	return proc_stat_full((long)pid, state, &pgrp);
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

int wr_proc_probe(int64_t pid, int64_t pid_start)
{
	return (int)wr_proc_check(pid, pid_start);
}

int wr_group_members(int64_t pgid, int64_t pgid_start)
{
	if (pgid <= 1)
		return 0;
	char state;
	long pgrp;
	uint64_t lead = proc_stat_full((long)pgid, &state, &pgrp);
	/* A live process with the group's pid but another start time: the
	 * group is gone and the pid belongs to someone else now. */
	if (lead && pgid_start && (int64_t)lead != pgid_start && state != 'Z' && state != 'X')
		return -1;
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		uint64_t st = proc_stat_full(strtol(de->d_name, NULL, 10), &state, &pgrp);
		if (pgrp == (long)pgid && st && state != 'Z' && state != 'X' && (int64_t)st >= pgid_start)
			n++;
	}
	closedir(d);
	return n;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits up to ms for the group to empty; 1 when it did. */
static int group_wait(int64_t pgid, int64_t pgid_start, int64_t ms)
{
	for (int64_t waited = 0;; waited += 20) {
		if (wr_group_members(pgid, pgid_start) <= 0)
			return 1;
		if (waited >= ms)
			return 0;
		nap_ms(20);
	}
}

int wr_group_kill(int64_t pgid, int64_t pgid_start, int64_t grace_ms)
{
	/* While one member lives the kernel does not hand the group's id to
	 * another process, so signalling the group reaches only its own. */
	if (wr_group_members(pgid, pgid_start) <= 0)
		return 0;
	kill(-(pid_t)pgid, SIGTERM);
	if (group_wait(pgid, pgid_start, grace_ms))
		return 1;
	kill(-(pid_t)pgid, SIGKILL);
	return group_wait(pgid, pgid_start, 5000) ? 1 : -1;
}
