/* store_file.c - the file backend of the store (core/store.h): one JSONL
 * file, appended to with one write(2) on an O_APPEND fd under flock on a
 * sidecar PATH.lock and on the file itself, cut back to where it was when
 * the write fails, and fdatasynced under the lock or after it (the group
 * commit of core/ledger.c: wr_sfile_sync). */
#include "store.h"
#include "store_impl.h"
#include "err.h"
#include "fsmode.h"
#include "sysinfo.h"
#include "timefmt.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Creates the ledger's directory (0700, or 2770 in a shared one) when
 * missing. 0 or -1. */
static int make_dir_of(const char *path)
{
	char *dir = wr_xstrdup(path);
	char *slash = strrchr(dir, '/');
	int r = 0;
	if (slash && slash != dir) {
		*slash = 0;
		if ((r = wr_fs_mkdirs(dir, 0700)) < 0)
			wr_seterrsys("unable to create directory %s", dir);
	}
	free(dir);
	return r;
}

/* Opens (a writer: creates, unless WR_LEDGER_EXISTING) the file. A reader
 * finds no file as fd -1 and returns 0: wr_ledger_open decides whether
 * that is an error, a refresh sees an empty ledger. */
static int open_file(struct wr_store *s)
{
	int write = s->flags & WR_LEDGER_WRITE, create = write && !(s->flags & WR_LEDGER_EXISTING);
	s->created = 0;
	s->fd = -1;
	if (wr_fs_check_dir(s->path, !write) < 0)
		return -1;
	if (create) {
		if (make_dir_of(s->path) < 0 || wr_fs_check_dir(s->path, 0) < 0)
			return -1;
		s->fd = wr_fs_open(s->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC);
		if (s->fd >= 0)
			s->created = 1;
		else if (errno == EEXIST)
			s->fd = open(s->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	} else {
		/* O_NONBLOCK: a FIFO at the path must be refused, not wait for
		 * a writer (it has no effect on a regular file) */
		s->fd = open(s->path, (write ? O_RDWR | O_APPEND : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (s->fd < 0 && errno == ENOENT)
			return 0;
	}
	if (s->fd < 0 && errno == ELOOP) {
		/* Another file behind the path: appending there (or compaction
		 * replacing the link) is not what anyone asked for. */
		wr_seterr("refusing ledger %s: it is a symbolic link; give the file itself with --ledger or WR_LEDGER",
			  s->path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	if (s->fd < 0) {
		wr_fs_seterr_open(s->path, "ledger");
		return -1;
	}
	if (wr_fs_check_file(s->fd, s->path, "ledger", !write) < 0) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	if (s->created && wr_fsync_dir_of(s->path) < 0) {
		wr_seterrsys("unable to sync the directory of %s", s->path);
		return -1;
	}
	wr_store_identify(s);
	return 0;
}

/* 1 when the path now names another file than our fd (compaction). */
static int replaced(struct wr_store *s)
{
	struct stat sb;
	if (lstat(s->path, &sb) < 0)
		/* Deleted: a writer must not go on appending to an unlinked
		 * inode nobody will read; start the new file the path now
		 * names (a reader sees an empty ledger). */
		return errno == ENOENT && s->fd >= 0;
	return s->fd < 0 || sb.st_dev != s->dev || sb.st_ino != s->ino;
}


static volatile sig_atomic_t alarm_fired;
static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

/* flock(fd, LOCK_EX), waiting at most timeout_ms. Returns 0, or -1 with
 * errno set (EINTR after the timeout). *timed_out tells which. */
static int flock_wait(int fd, int64_t timeout_ms, int *timed_out)
{
	*timed_out = 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -1;
	/* Wait, bounded: a SIGALRM without SA_RESTART interrupts flock. */
	struct sigaction sa = {0}, old;
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	struct itimerval it = {{0, 0}, {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000 * 1000)}};
	if (timeout_ms <= 0)
		it.it_value.tv_usec = 1000;
	alarm_fired = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	int r;
	for (;;) {
		r = flock(fd, LOCK_EX);
		if (r == 0 || errno != EINTR || alarm_fired)
			break;
	}
	int e = errno;
	struct itimerval zero = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &zero, NULL);
	sigaction(SIGALRM, &old, NULL);
	*timed_out = r < 0 && alarm_fired;
	errno = e;
	return r;
}

static int lock_refused(struct wr_store *s, const char *why)
{
	wr_seterr("refusing lock file %s: %s; remove it (rm %s) and run the command again", s->lockpath, why,
		  s->lockpath);
	wr_seterrkind(WR_E_REFUSED);
	return -1;
}

/* Opens the lock file: never through a symbolic link, only a regular file
 * of ours, or a member's in a shared directory (a lock on another file
 * locks nothing for this ledger). */
static int open_lock(struct wr_store *s)
{
	s->lockfd = wr_fs_open(s->lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (s->lockfd < 0) {
		if (errno == ELOOP)
			return lock_refused(s, "it is a symbolic link");
		wr_fs_seterr_open(s->lockpath, "lock file");
		return -1;
	}
	struct stat sb;
	int ok = wr_fs_check_file(s->lockfd, s->lockpath, "lock file", 0) == 0;
	if (ok && fstat(s->lockfd, &sb) < 0) {
		wr_seterrsys("unable to stat lock file %s", s->lockpath);
		ok = 0;
	}
	if (!ok) {
		close(s->lockfd);
		s->lockfd = -1;
		return -1;
	}
	s->lock_dev = sb.st_dev; /* an open fd's identity does not change */
	s->lock_ino = sb.st_ino;
	return 0;
}

/* With lockfd locked: 1 when it is still the file at the lock path, 0 when
 * the path was removed or names another file now (a cleanup, a restore:
 * others lock that one), -1 when the path is refused. */
static int lock_is_current(struct wr_store *s)
{
	struct stat path_sb;
	if (lstat(s->lockpath, &path_sb) < 0) {
		if (errno == ENOENT)
			return 0;
		wr_seterrsys("unable to stat lock file %s", s->lockpath);
		return -1;
	}
	if (S_ISLNK(path_sb.st_mode))
		return lock_refused(s, "it is a symbolic link");
	return s->lock_dev == path_sb.st_dev && s->lock_ino == path_sb.st_ino;
}

/* The process holding the flock on fd, from /proc/locks (this host
 * only): its pid, or 0 when that is not known. */
static pid_t lock_holder(int fd)
{
	struct stat sb;
	FILE *f = fstat(fd, &sb) == 0 ? fopen("/proc/locks", "re") : NULL;
	if (!f)
		return 0;
	char line[256];
	pid_t holder = 0;
	while (!holder && fgets(line, sizeof line, f)) {
		unsigned maj, min;
		unsigned long long ino;
		long pid;
		char kind[16];
		/* "1: FLOCK  ADVISORY  WRITE 4242 fe:00:1234 0 EOF"; waiters
		 * have "->" after the number and do not match */
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", kind, &pid, &maj, &min, &ino) == 5 &&
		    !strcmp(kind, "FLOCK") && ino == (unsigned long long)sb.st_ino && maj == major(sb.st_dev) &&
		    min == minor(sb.st_dev) && pid > 0)
			holder = (pid_t)pid;
	}
	fclose(f);
	return holder;
}

/* "wr-run, pid 4242, on host h" for the holder of fd's lock when it is
 * known (and still alive), else "". */
static void describe_holder(int fd, char *buf, size_t size)
{
	buf[0] = 0;
	pid_t pid = lock_holder(fd);
	if (!pid)
		return;
	char path[64], comm[64] = "";
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return; /* gone: the lock is another's now, or free */
	if (fgets(comm, sizeof comm, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
	const char *host = wr_hostname();
	snprintf(buf, size, " (held by %s%spid %ld%s%s)", comm, *comm ? ", " : "", (long)pid, *host ? ", on host " : "",
		 host);
}

/* The error for a wait on fd's lock (the lock file's or the ledger's) that
 * timed out: it names the holder only when it knows it. */
static int lock_timed_out(struct wr_store *s, int fd, const char *path)
{
	char d[32], who[200];
	describe_holder(fd, who, sizeof who);
	wr_seterr("timed out after %s waiting for the lock on %s%s; retry later",
		  wr_dur_format(s->lock_timeout_ms, d, sizeof d), path, who);
	wr_seterrkind(WR_E_LOCK_TIMEOUT);
	return -1;
}

/* How often the lock file may turn out replaced in one wr_sfile_lock. */
#define LOCK_REOPENS 100

/* Locks the lock file that is at the lock path when the lock is granted. */
static int lock_file(struct wr_store *s)
{
	for (int tries = 0; tries < LOCK_REOPENS; tries++) {
		if (s->lockfd < 0 && open_lock(s) < 0)
			return -1;
		int timed_out;
		if (flock_wait(s->lockfd, s->lock_timeout_ms, &timed_out) < 0) {
			if (timed_out)
				return lock_timed_out(s, s->lockfd, s->lockpath);
			wr_seterrsys("unable to lock %s", s->lockpath);
			return -1;
		}
		int cur = lock_is_current(s);
		if (cur == 1)
			return 0;
		close(s->lockfd); /* drops the lock on the old file */
		s->lockfd = -1;
		if (cur < 0)
			return -1;
	}
	wr_seterr("unable to lock %s: the lock file was replaced %d times while waiting for it", s->lockpath,
		  LOCK_REOPENS);
	return -1;
}

/* The ledger file's own lock, taken under the lock file's: appends to one
 * inode stay serial even if someone replaces the lock file between our
 * check and our write. */
static int lock_ledger_fd(struct wr_store *s)
{
	int timed_out;
	if (s->fd < 0 || flock_wait(s->fd, s->lock_timeout_ms, &timed_out) == 0)
		return 0;
	if (timed_out)
		return lock_timed_out(s, s->fd, s->path);
	wr_seterrsys("unable to lock ledger %s", s->path);
	return -1;
}

int wr_sfile_lock(struct wr_store *s)
{
	if (lock_file(s) < 0)
		return -1;
	if (lock_ledger_fd(s) < 0) {
		flock(s->lockfd, LOCK_UN);
		return -1;
	}
	s->locked = 1;
	return 0;
}

int wr_sfile_trylock(struct wr_store *s)
{
	int64_t saved = s->lock_timeout_ms;
	s->lock_timeout_ms = 0;
	int r = wr_sfile_lock(s);
	s->lock_timeout_ms = saved;
	if (r == 0)
		return 1;
	return wr_errkind() == WR_E_LOCK_TIMEOUT ? 0 : -1;
}

void wr_sfile_unlock(struct wr_store *s)
{
	if (s->fd >= 0)
		flock(s->fd, LOCK_UN);
	if (s->lockfd >= 0)
		flock(s->lockfd, LOCK_UN);
	s->locked = 0;
}

#ifdef WR_FAULT_INJECTION
/* Test builds only (meson -Dfault_injection=true; tests/reliability):
 * WR_FAULT_TEAR_AT=N writes only the first N bytes of the batch, then
 * _exit(99): a crash in the middle of the write. WR_FAULT_ERRNO=ENOSPC|EIO
 * makes the write fail with that errno instead (after the first N bytes
 * when WR_FAULT_TEAR_AT is set too). WR_FAULT_SKIP=K lets the first K
 * appends of the process through. */
static int fault_write(int fd, const char *p, size_t n)
{
	static long appends;
	const char *tear = getenv("WR_FAULT_TEAR_AT"), *err = getenv("WR_FAULT_ERRNO"), *skip = getenv("WR_FAULT_SKIP");
	if ((!tear && !err) || appends++ < (skip ? atol(skip) : 0))
		return wr_write_all(fd, p, n);
	size_t k = tear ? (size_t)strtoull(tear, NULL, 10) : 0;
	if (wr_write_all(fd, p, k < n ? k : n) < 0)
		return -1;
	if (!err)
		_exit(99);
	errno = strcmp(err, "ENOSPC") ? EIO : ENOSPC;
	return -1;
}

/* The sync after the unlock (wr_sfile_sync): WR_FAULT_SYNC=exit makes the
 * process _exit(99) before it (a crash between the write and its
 * fdatasync), WR_FAULT_SYNC=EIO makes it fail with EIO, once the file
 * WR_FAULT_SYNC_WAIT names exists when that is set (at most 60 s: another
 * writer appends meanwhile); after the first WR_FAULT_SKIP syncs. */
static int fault_sync(int fd)
{
	static long syncs;
	const char *f = getenv("WR_FAULT_SYNC"), *skip = getenv("WR_FAULT_SKIP"), *wait = getenv("WR_FAULT_SYNC_WAIT");
	if (!f || syncs++ < (skip ? atol(skip) : 0))
		return fdatasync(fd);
	if (!strcmp(f, "exit"))
		_exit(99);
	for (int i = 0; wait && i < 6000 && access(wait, F_OK) < 0; i++) {
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	errno = EIO;
	return -1;
}
#else
#define fault_write wr_write_all
#define fault_sync fdatasync
#endif

/* Appends bytes as one decision: one write, fdatasync unless nosync (then
 * wr_sfile_sync makes them durable). On failure the file is cut back to
 * where it was. */
static int append(struct wr_store *s, const char *p, size_t n, int nosync)
{
	struct stat sb;
	if (fstat(s->fd, &sb) < 0) {
		wr_seterrsys("unable to stat ledger %s", s->path);
		return -1;
	}
	if (fault_write(s->fd, p, n) < 0 || (!nosync && fdatasync(s->fd) < 0)) {
		wr_seterrsys("unable to write ledger %s", s->path);
		int e = errno;
		if (ftruncate(s->fd, sb.st_size) == 0)
			(void)fdatasync(s->fd);
		errno = e;
		return -1;
	}
	s->wrote_from = sb.st_size;
	s->wrote_to = sb.st_size + (off_t)n;
	if (s->created) {
		if (wr_fsync_dir_of(s->path) < 0) {
			wr_seterrsys("unable to sync the directory of %s", s->path);
			return -1;
		}
		s->created = 0;
	}
	return 0;
}

/* After a failed sync, with the lock taken again: cuts this handle's last
 * append back when nothing was appended after it (nobody can have decided
 * on top of it). 1 cut, 0 it stays. */
static int take_back(struct wr_store *s)
{
	if (wr_sfile_lock(s) < 0)
		return 0;
	struct stat sb;
	int cut = !replaced(s) && fstat(s->fd, &sb) == 0 && sb.st_size == s->wrote_to &&
		  ftruncate(s->fd, s->wrote_from) == 0 && fdatasync(s->fd) == 0;
	wr_sfile_unlock(s);
	return cut;
}

int wr_sfile_sync(struct wr_store *s, int mine)
{
	if (s->fd < 0 || fault_sync(s->fd) == 0)
		return 0;
	int e = errno;
	int cut = mine && s->wrote_to > s->wrote_from && take_back(s);
	const char *why = strerror(e);
	if (cut)
		wr_seterr("unable to sync ledger %s: %s; the decision was taken back", s->path, why);
	else if (mine)
		wr_seterr("unable to sync ledger %s: %s; the decision at offset %lld stays in the file (others appended "
			  "after it) and a crash may lose it",
			  s->path, why, (long long)s->wrote_from);
	else
		wr_seterr("unable to sync ledger %s: %s", s->path, why);
	wr_seterrkind(WR_E_IO);
	return cut ? -2 : -1;
}

int wr_sfile_open(struct wr_store *s)
{
	s->lockpath = wr_xasprintf("%s.lock", s->path);
	return open_file(s);
}

void wr_sfile_close(struct wr_store *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->watch_fd >= 0)
		close(s->watch_fd);
	free(s->lockpath);
}

int wr_sfile_catch_up(struct wr_store *s, off_t off)
{
	if (replaced(s)) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		if (open_file(s) < 0 || (s->locked && lock_ledger_fd(s) < 0))
			return -1;
		return 1;
	}
	struct stat sb;
	if (s->fd >= 0 && fstat(s->fd, &sb) == 0 && sb.st_size < off)
		return 1; /* truncated under us: start again */
	return 0;
}

int wr_sfile_append(struct wr_store *s, const char *p, size_t n, int nosync)
{
	return append(s, p, n, nosync);
}

int wr_sfile_cut(struct wr_store *s, off_t off)
{
	if (ftruncate(s->fd, off) < 0 || fdatasync(s->fd) < 0) {
		wr_seterrsys("unable to cut the torn tail of %s", s->path);
		return -1;
	}
	return 0;
}

static char *dir_of(const char *path)
{
	char *d = wr_xstrdup(path);
	char *slash = strrchr(d, '/');
	if (slash == d)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		strcpy(d, ".");
	return d;
}

/* Watches the ledger's directory (a rename over the path, a new file) and
 * the file (appends); the fd while a watch is in place, else -1. */
int wr_sfile_watch(struct wr_store *s)
{
	if (s->watch_fd == -2) {
		const char *np = getenv("WR_WATCH_NO_INOTIFY"); /* tests of the polling fallback */
		s->watch_fd = np && *np ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	}
	if (s->watch_fd < 0)
		return -1;
	if (s->watch_dir < 0) {
		char *dir = dir_of(s->path);
		s->watch_dir = inotify_add_watch(s->watch_fd, dir, IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE |
									    IN_DELETE_SELF | IN_MOVE_SELF);
		free(dir);
	}
	/* Returns the same watch while the inode is the same; a new one after
	 * a replacement. Watches of replaced files go when they are deleted. */
	int fwd = inotify_add_watch(s->watch_fd, s->path, IN_MODIFY);
	return s->watch_dir >= 0 || fwd >= 0 ? s->watch_fd : -1;
}

/* Reads what inotify says; a watch of a directory that went is dropped so
 * that it is set again. */
void wr_sfile_watch_drain(struct wr_store *s)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t k;
	while (s->watch_fd >= 0 && (k = read(s->watch_fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + k;) {
			struct inotify_event *e = (struct inotify_event *)p;
			if (e->wd == s->watch_dir && (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))) {
				inotify_rm_watch(s->watch_fd, s->watch_dir);
				s->watch_dir = -1;
			}
			p += sizeof *e + e->len;
		}
	}
}
