/* ledger.c - opening, replaying, repairing and committing to the ledger. */
#include "ledger.h"
#include "err.h"
#include "replace.h"
#include "seed.h"
#include "snapshot.h"
#include "sysinfo.h"
#include "timefmt.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#define DEFAULT_LOCK_TIMEOUT_MS 30000

/* An absolute path, so that what the ledger records (quarantine files,
 * WR_LEDGER for children) still holds from another directory. */
static char *absolute(const char *p)
{
	if (p[0] == '/')
		return wr_xstrdup(p);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return wr_xstrdup(p);
	char *r = wr_xasprintf("%s/%s", cwd, p);
	free(cwd);
	return r;
}

char *wr_ledger_path(const char *opt)
{
	if (opt && *opt)
		return absolute(opt);
	const char *env = getenv("WR_LEDGER");
	if (env && *env)
		return absolute(env);
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && *xdg == '/')
		return wr_xasprintf("%s/wr/ledger.jsonl", xdg);
	const char *home = getenv("HOME");
	if (!home || !*home)
		home = "/";
	return wr_xasprintf("%s/.local/state/wr/ledger.jsonl", home);
}

/* Where the default path came from, for the "no ledger" message. */
static const char *path_origin(const char *opt)
{
	if (opt && *opt)
		return "--ledger";
	const char *env = getenv("WR_LEDGER");
	if (env && *env)
		return "WR_LEDGER";
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && *xdg == '/')
		return "XDG_STATE_HOME";
	return "HOME (XDG_STATE_HOME and WR_LEDGER are unset)";
}

void wr_ledger_seterr_missing(const char *opt, const char *path)
{
	wr_seterr("no ledger at %s (path from %s); check --ledger, WR_LEDGER and XDG_STATE_HOME "
		  "(cron and sudo have another HOME); wr-run creates it when it records its first run",
		  path, path_origin(opt));
	wr_seterrkind(WR_E_NOLEDGER);
}

int wr_ledger_exit_status(void)
{
	return wr_errkind() == WR_E_LOCK_TIMEOUT ? WR_EXIT_TEMPFAIL : WR_EXIT_IO;
}

static void print_error(void *ctx, const struct wr_scan_error *e)
{
	(void)ctx;
	wr_warn("%s:%lld:%d: %s", e->path, (long long)e->line, e->column, e->msg);
}

/* The parts of l a snapshot is of (core/snapshot.h). */
static struct wr_snap_of snap_of(struct wr_ledger *l)
{
	struct wr_snap_of so = {l->path, l->fd, l->dev, l->ino, &l->scan, &l->st, &l->bad_lines};
	return so;
}

int wr_ledger_snapshot_write(struct wr_ledger *l)
{
	struct wr_snap_of so = snap_of(l);
	return wr_snapshot_write(&so);
}

/* 1 when a file or directory owned by uid may be used: one's own; for
 * reading, root may read any user's ledger (to help them, or for a
 * monitoring check), but never writes to it: the files it would create
 * (lock, snapshot) would be root's in the user's directory. */
static int owner_ok(uid_t uid, int reading)
{
	return uid == geteuid() || (reading && geteuid() == 0);
}

/* Refuses what another user could have written (reading: see owner_ok). */
static int check_file(int fd, const char *path, const char *what, int reading)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		wr_seterrsys("unable to stat %s %s", what, path);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		wr_seterr("refusing %s %s: not a regular file", what, path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	if (!owner_ok(sb.st_uid, reading)) {
		wr_seterr("refusing %s %s: owned by uid %lu, not by you (uid %lu)", what, path,
			  (unsigned long)sb.st_uid, (unsigned long)geteuid());
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	if (sb.st_mode & 022) {
		wr_seterr("refusing %s %s: writable by group or others (mode %04o); fix it with: chmod go-w %s", what,
			  path, (unsigned)(sb.st_mode & 07777), path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	return 0;
}

static int check_dir(const char *path, int reading)
{
	char *dir = wr_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		strcpy(dir, ".");
	struct stat sb;
	int rc = 0;
	if (stat(dir, &sb) < 0) {
		rc = errno == ENOENT ? 0 : -1; /* missing: the caller creates it 0700, or there is no ledger */
		if (rc < 0)
			wr_seterrsys("unable to stat the directory of ledger %s", path);
	} else if (!owner_ok(sb.st_uid, reading) && sb.st_uid != 0) {
		wr_seterr("refusing ledger %s: its directory %s is owned by uid %lu, who could replace the ledger or its "
			  "lock file; keep the ledger in a directory of your own (mode 0700)",
			  path, dir, (unsigned long)sb.st_uid);
		wr_seterrkind(WR_E_REFUSED);
		rc = -1;
	} else if (sb.st_mode & 022) {
		wr_seterr("refusing ledger %s: its directory %s is writable by group or others (mode %04o), who could "
			  "replace the ledger or its lock file; use a directory of your own with mode 0700: chmod 0700 %s",
			  path, dir, (unsigned)(sb.st_mode & 07777), dir);
		wr_seterrkind(WR_E_REFUSED);
		rc = -1;
	}
	free(dir);
	return rc;
}

int wr_ledger_check_dir(const char *path)
{
	return check_dir(path, 0);
}

struct apply_ctx {
	struct wr_ledger *l;
};

static void scan_error(void *ctx, const struct wr_scan_error *e)
{
	struct wr_ledger *l = ctx;
	l->bad_lines++;
	if (l->on_error)
		l->on_error(l->on_error_ctx, e);
}

/* The host an event came from, when the ledger says: its own host field
 * (attempt.started), else the host of the attempt it is about. */
static const char *event_host(const struct wr_state *st, const struct wr_event *ev)
{
	const char *h = wr_ev_str(ev, "host");
	if (h)
		return h;
	const struct wr_run *r = ev->run ? wr_state_run(st, ev->run) : NULL;
	if (r && ev->attempt > 0 && (size_t)ev->attempt <= r->natt)
		return r->att[ev->attempt - 1].host;
	return NULL;
}

/* Copies ledger text for a message: control characters (C0, DEL, C1)
 * become '?', so that nothing from the ledger reaches the terminal raw. */
static void copy_plain(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src && *src && i + 1 < n; src++) {
		unsigned char c = (unsigned char)*src;
		if (c == 0xc2 && (unsigned char)src[1] >= 0x80 && (unsigned char)src[1] <= 0x9f) {
			src++;
			c = '?';
		}
		dst[i++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[i] = 0;
}

/* Notes an event stamped ahead of this host's clock (read again before
 * calling one ahead, so a long replay is judged fairly). Never changes a
 * decision: warn_future reports it. */
static void note_future(struct wr_ledger *l, const struct wr_event *ev, int64_t line)
{
	struct wr_future *f = &l->future;
	if (ev->ts <= f->clock + WR_CLOCK_SKEW_MS)
		return;
	f->clock = wr_now_ms();
	int64_t skew = ev->ts - f->clock;
	if (skew <= WR_CLOCK_SKEW_MS)
		return;
	if (!f->events++) {
		const char *by = wr_ev_str(ev, "by");
		copy_plain(f->by, sizeof f->by, by ? by : "?");
		copy_plain(f->type, sizeof f->type, ev->type_name ? ev->type_name : "?");
		f->line = line;
		f->seq = ev->seq;
	}
	const char *h = f->host[0] ? NULL : event_host(&l->st, ev);
	if (h)
		copy_plain(f->host, sizeof f->host, h);
	if (skew > f->skew_ms)
		f->skew_ms = skew;
}

/* Once per handle, unless quiet: what note_future found. */
static void warn_future(struct wr_ledger *l)
{
	struct wr_future *f = &l->future;
	if (!f->events || f->warned || l->on_error != print_error)
		return;
	f->warned = 1;
	char d[32];
	wr_warn("%s:%lld: seq %lld (%s by %s%s%s) is stamped ahead of this host's clock (%lld event%s, up to %s "
		"ahead): the clock of %s runs ahead; decisions go by this host's clock",
		l->path, (long long)f->line, (long long)f->seq, f->type, f->by, f->host[0] ? " on host " : "", f->host,
		(long long)f->events, f->events == 1 ? "" : "s", wr_dur_format(f->skew_ms, d, sizeof d),
		f->host[0] ? f->host : "its host");
}

static void scan_events(void *ctx, const struct wr_event *evs, size_t n, int64_t line, off_t off)
{
	struct wr_ledger *l = ctx;
	(void)off;
	if (n == 1 && wr_event_is_marker(&evs[0])) {
		/* Compaction metadata: seeds the totals, is no state event. */
		if (wr_compact_seed(&l->st, &evs[0]) < 0) {
			struct wr_scan_error e = {l->path, line, 1, "state", "malformed compaction marker; totals not restored", off};
			scan_error(l, &e);
		}
		return;
	}
	int applied[64];
	const char *whys[64];
	int *res = n <= 64 ? applied : wr_xcalloc(n, sizeof *res);
	const char **why = n <= 64 ? whys : wr_xcalloc(n, sizeof *why);
	for (size_t i = 0; i < n; i++) {
		note_future(l, &evs[i], line + (int64_t)i);
		res[i] = wr_state_apply_ledger(&l->st, &evs[i], &why[i]);
	}
	if (l->on_events)
		l->on_events(l->on_events_ctx, evs, n, res, why, line);
	if (res != applied) {
		free(res);
		free(why);
	}
}

static void scan_progress(void *ctx, off_t done, off_t total)
{
	struct wr_ledger *l = ctx;
	l->on_progress(l->on_progress_ctx, done, total);
}

static int scan_more(struct wr_ledger *l)
{
	if (l->fd < 0)
		return 0;
	/* From the start with nothing applied yet: a matching snapshot saves
	 * the replay of its prefix (not for callers that see every event). */
	if (l->scan.off == 0 && l->st.events == 0 && !l->on_events && !(l->flags & WR_LEDGER_NOSNAP)) {
		struct wr_snap_of so = snap_of(l);
		l->snap_loaded = wr_snapshot_load(&so) == 1;
		/* The snapshot skips the lines it covers: still say that bad
		 * ones are there, once, and where to see them. */
		if (l->snap_loaded && l->bad_lines && l->on_error == print_error)
			wr_warn("%s: %lld bad line%s before line %lld (not applied); 'wr-ledger verify' lists them", l->path,
				(long long)l->bad_lines, l->bad_lines == 1 ? "" : "s", (long long)l->scan.line);
	}
	if (l->snap_loaded && l->scan.off)
		l->snap_off = l->scan.off;
	struct wr_scan_cb cb = {l, scan_events, scan_error, l->on_progress ? scan_progress : NULL};
	l->future.clock = wr_now_ms();
	int r = wr_scan_run(&l->scan, &cb);
	warn_future(l);
	return r;
}

/* Writes a snapshot when enough was replayed since the last one. A cache:
 * a failure is a warning for writers, silent for readers. */
static void maybe_snapshot(struct wr_ledger *l)
{
	int64_t every = wr_snapshot_threshold();
	if (l->fd < 0 || (l->flags & WR_LEDGER_NOSNAP) || every < 0 || l->scan.torn || l->scan.allow_gaps ||
	    (int64_t)(l->scan.off - l->snap_off) < every || l->scan.off == l->snap_off)
		return;
	struct stat sb; /* root reading a user's ledger leaves no root-owned file beside it */
	if (fstat(l->fd, &sb) < 0 || sb.st_uid != geteuid())
		return;
	if (wr_ledger_snapshot_write(l) == 0) {
		l->snap_off = l->scan.off;
	} else if ((l->flags & WR_LEDGER_WRITE) && !l->snap_warned) {
		l->snap_warned = 1;
		wr_warn("%s (going on without it)", wr_errmsg());
	}
}

int wr_ledger_scan_file(struct wr_ledger *l, const char *path, int archive)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		wr_seterrsys("unable to open %s", path);
		return -1;
	}
	if (check_file(fd, path, "archive", 1) < 0) {
		close(fd);
		return -1;
	}
	struct wr_scan s;
	wr_scan_init(&s, fd, path);
	s.allow_gaps = archive;
	struct wr_scan_cb cb = {l, scan_events, scan_error, l->on_progress ? scan_progress : NULL};
	int r = wr_scan_run(&s, &cb);
	close(fd);
	warn_future(l);
	return r;
}

/* Creates the ledger's directory (0700) when missing. 0 or -1. */
static int make_dir_of(const char *path)
{
	char *dir = wr_xstrdup(path);
	char *slash = strrchr(dir, '/');
	int r = 0;
	if (slash && slash != dir) {
		*slash = 0;
		if ((r = wr_mkdirs(dir, 0700)) < 0)
			wr_seterrsys("unable to create directory %s", dir);
	}
	free(dir);
	return r;
}

/* Opens (a writer: creates, unless WR_LEDGER_EXISTING) the file. A reader
 * finds no file as fd -1 and returns 0: wr_ledger_open decides whether
 * that is an error, a refresh sees an empty ledger. */
static int open_file(struct wr_ledger *l)
{
	int write = l->flags & WR_LEDGER_WRITE, create = write && !(l->flags & WR_LEDGER_EXISTING);
	l->created = 0;
	l->fd = -1;
	if (check_dir(l->path, !write) < 0)
		return -1;
	if (create) {
		if (make_dir_of(l->path) < 0 || wr_ledger_check_dir(l->path) < 0)
			return -1;
		l->fd = open(l->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (l->fd >= 0)
			l->created = 1;
		else if (errno == EEXIST)
			l->fd = open(l->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	} else {
		/* O_NONBLOCK: a FIFO at the path must be refused, not wait for
		 * a writer (it has no effect on a regular file) */
		l->fd = open(l->path, (write ? O_RDWR | O_APPEND : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (l->fd < 0 && errno == ENOENT)
			return 0;
	}
	if (l->fd < 0 && errno == ELOOP) {
		/* Another file behind the path: appending there (or compaction
		 * replacing the link) is not what anyone asked for. */
		wr_seterr("refusing ledger %s: it is a symbolic link; give the file itself with --ledger or WR_LEDGER",
			  l->path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	if (l->fd < 0) {
		wr_seterrsys("unable to open ledger %s", l->path);
		return -1;
	}
	if (check_file(l->fd, l->path, "ledger", !write) < 0) {
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	if (l->created && wr_fsync_dir_of(l->path) < 0) {
		wr_seterrsys("unable to sync the directory of %s", l->path);
		return -1;
	}
	struct stat sb;
	fstat(l->fd, &sb);
	l->dev = sb.st_dev;
	l->ino = sb.st_ino;
	return 0;
}

static int lock_ledger_fd(struct wr_ledger *l);

int wr_ledger_is_archive(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *a = strstr(base, ".archive.");
	if (!a || a == base)
		return 0;
	const char *n = a + strlen(".archive.");
	return *n && strspn(n, "0123456789") == strlen(n);
}

static void reset_state(struct wr_ledger *l)
{
	wr_state_free(&l->st);
	wr_state_init(&l->st);
	wr_scan_init(&l->scan, l->fd, l->path);
	l->scan.allow_gaps = wr_ledger_is_archive(l->path);
	l->snap_off = 0;
	l->snap_loaded = 0;
	l->bad_lines = 0;
}

int wr_ledger_open(struct wr_ledger *l, const char *path, int flags)
{
	memset(l, 0, sizeof *l);
	l->fd = l->lockfd = -1;
	l->flags = flags;
	l->path = wr_ledger_path(path);
	l->lockpath = wr_xasprintf("%s.lock", l->path);
	l->qpath = wr_xasprintf("%s.quarantine", l->path);
	snprintf(l->by, sizeof l->by, "%s/%ld", wr_prog, (long)getpid());
	l->lock_timeout_ms = DEFAULT_LOCK_TIMEOUT_MS;
	const char *lt = getenv("WR_LOCK_TIMEOUT");
	int64_t ms;
	if (lt && wr_dur_parse(lt, &ms) == 0)
		l->lock_timeout_ms = ms;
	if (!(flags & WR_LEDGER_QUIET))
		l->on_error = print_error;
	wr_state_init(&l->st);
	if ((flags & WR_LEDGER_WRITE) && wr_ledger_is_archive(l->path)) {
		wr_seterr("refusing to write to %s: it is an archive segment (history moved by wr-ledger compact); "
			  "give the live ledger", l->path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	if (open_file(l) < 0)
		return -1;
	if (l->fd < 0 && !(flags & WR_LEDGER_MISSING_OK)) {
		wr_ledger_seterr_missing(path, l->path);
		return -1;
	}
	if (flags & WR_LEDGER_WRITE)
		wr_temp_clean(l->path);
	wr_scan_init(&l->scan, l->fd, l->path);
	/* A segment read as a ledger (--ledger PATH.archive.N): its gaps are
	 * the events that stayed live, not a loss. */
	l->scan.allow_gaps = wr_ledger_is_archive(l->path);
	if (flags & WR_LEDGER_LAZY)
		return 0;
	if (scan_more(l) < 0)
		return -1;
	maybe_snapshot(l);
	return 0;
}

void wr_ledger_close(struct wr_ledger *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->lockfd >= 0)
		close(l->lockfd);
	wr_state_free(&l->st);
	free(l->path);
	free(l->lockpath);
	free(l->qpath);
	memset(l, 0, sizeof *l);
	l->fd = l->lockfd = -1;
}

/* 1 when the path now names another file than our fd (compaction). */
static int replaced(struct wr_ledger *l)
{
	struct stat sb;
	if (lstat(l->path, &sb) < 0)
		/* Deleted: a writer must not go on appending to an unlinked
		 * inode nobody will read; start the new file the path now
		 * names (a reader sees an empty ledger). */
		return errno == ENOENT && l->fd >= 0;
	return l->fd < 0 || sb.st_dev != l->dev || sb.st_ino != l->ino;
}

int wr_ledger_refresh(struct wr_ledger *l)
{
	int was_replaced = 0;
	if (replaced(l)) {
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		if (open_file(l) < 0 || (l->locked && lock_ledger_fd(l) < 0))
			return -1;
		reset_state(l);
		was_replaced = 1;
	} else if (l->fd >= 0) {
		struct stat sb;
		if (fstat(l->fd, &sb) == 0 && sb.st_size < l->scan.off) {
			reset_state(l); /* truncated under us: start again */
			was_replaced = 1;
		}
	}
	if (scan_more(l) < 0)
		return -1;
	maybe_snapshot(l);
	return was_replaced;
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

static int lock_refused(struct wr_ledger *l, const char *why)
{
	wr_seterr("refusing lock file %s: %s; remove it (rm %s) and run the command again", l->lockpath, why,
		  l->lockpath);
	wr_seterrkind(WR_E_REFUSED);
	return -1;
}

/* Opens the lock file: never through a symbolic link, only a regular file
 * of ours (a lock on another file locks nothing for this ledger). */
static int open_lock(struct wr_ledger *l)
{
	l->lockfd = open(l->lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (l->lockfd < 0) {
		if (errno == ELOOP)
			return lock_refused(l, "it is a symbolic link");
		wr_seterrsys("unable to open lock file %s", l->lockpath);
		return -1;
	}
	if (check_file(l->lockfd, l->lockpath, "lock file", 0) < 0) {
		close(l->lockfd);
		l->lockfd = -1;
		return -1;
	}
	return 0;
}

/* With lockfd locked: 1 when it is still the file at the lock path, 0 when
 * the path was removed or names another file now (a cleanup, a restore:
 * others lock that one), -1 when the path is refused. */
static int lock_is_current(struct wr_ledger *l)
{
	struct stat fd_sb, path_sb;
	if (fstat(l->lockfd, &fd_sb) < 0) {
		wr_seterrsys("unable to stat lock file %s", l->lockpath);
		return -1;
	}
	if (lstat(l->lockpath, &path_sb) < 0) {
		if (errno == ENOENT)
			return 0;
		wr_seterrsys("unable to stat lock file %s", l->lockpath);
		return -1;
	}
	if (S_ISLNK(path_sb.st_mode))
		return lock_refused(l, "it is a symbolic link");
	return fd_sb.st_dev == path_sb.st_dev && fd_sb.st_ino == path_sb.st_ino;
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
static int lock_timed_out(struct wr_ledger *l, int fd, const char *path)
{
	char d[32], who[200];
	describe_holder(fd, who, sizeof who);
	wr_seterr("timed out after %s waiting for the lock on %s%s; retry later",
		  wr_dur_format(l->lock_timeout_ms, d, sizeof d), path, who);
	wr_seterrkind(WR_E_LOCK_TIMEOUT);
	return -1;
}

/* How often the lock file may turn out replaced in one wr_ledger_lock. */
#define LOCK_REOPENS 100

/* Locks the lock file that is at the lock path when the lock is granted. */
static int lock_file(struct wr_ledger *l)
{
	for (int tries = 0; tries < LOCK_REOPENS; tries++) {
		if (l->lockfd < 0 && open_lock(l) < 0)
			return -1;
		int timed_out;
		if (flock_wait(l->lockfd, l->lock_timeout_ms, &timed_out) < 0) {
			if (timed_out)
				return lock_timed_out(l, l->lockfd, l->lockpath);
			wr_seterrsys("unable to lock %s", l->lockpath);
			return -1;
		}
		int cur = lock_is_current(l);
		if (cur == 1)
			return 0;
		close(l->lockfd); /* drops the lock on the old file */
		l->lockfd = -1;
		if (cur < 0)
			return -1;
	}
	wr_seterr("unable to lock %s: the lock file was replaced %d times while waiting for it", l->lockpath,
		  LOCK_REOPENS);
	return -1;
}

/* The ledger file's own lock, taken under the lock file's: appends to one
 * inode stay serial even if someone replaces the lock file between our
 * check and our write. */
static int lock_ledger_fd(struct wr_ledger *l)
{
	int timed_out;
	if (l->fd < 0 || flock_wait(l->fd, l->lock_timeout_ms, &timed_out) == 0)
		return 0;
	if (timed_out)
		return lock_timed_out(l, l->fd, l->path);
	wr_seterrsys("unable to lock ledger %s", l->path);
	return -1;
}

int wr_ledger_lock(struct wr_ledger *l)
{
	if (lock_file(l) < 0)
		return -1;
	if (lock_ledger_fd(l) < 0) {
		flock(l->lockfd, LOCK_UN);
		return -1;
	}
	l->locked = 1;
	return 0;
}

int wr_ledger_trylock(struct wr_ledger *l)
{
	int64_t saved = l->lock_timeout_ms;
	l->lock_timeout_ms = 0;
	int r = wr_ledger_lock(l);
	l->lock_timeout_ms = saved;
	if (r == 0)
		return 1;
	return wr_errkind() == WR_E_LOCK_TIMEOUT ? 0 : -1;
}

void wr_ledger_unlock(struct wr_ledger *l)
{
	if (l->fd >= 0)
		flock(l->fd, LOCK_UN);
	if (l->lockfd >= 0)
		flock(l->lockfd, LOCK_UN);
	l->locked = 0;
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
#else
#define fault_write wr_write_all
#endif

/* Appends bytes as one decision: one write, fdatasync unless nosync. On
 * failure the file is cut back to where it was. */
static int append(struct wr_ledger *l, const char *p, size_t n, int nosync)
{
	struct stat sb;
	if (fstat(l->fd, &sb) < 0) {
		wr_seterrsys("unable to stat ledger %s", l->path);
		return -1;
	}
	if (fault_write(l->fd, p, n) < 0 || (!nosync && fdatasync(l->fd) < 0)) {
		wr_seterrsys("unable to write ledger %s", l->path);
		int e = errno;
		if (ftruncate(l->fd, sb.st_size) == 0)
			(void)fdatasync(l->fd);
		errno = e;
		return -1;
	}
	if (l->created) {
		if (wr_fsync_dir_of(l->path) < 0) {
			wr_seterrsys("unable to sync the directory of %s", l->path);
			return -1;
		}
		l->created = 0;
	}
	return 0;
}

/* Encodes the batch into buf with seq, ts, by and batch marks in front,
 * and the outbox ids the decision left to the commit. */
static int encode(struct wr_ledger *l, json_t *events, int64_t now, struct wr_buf *buf)
{
	size_t n = json_array_size(events);
	char ts[WR_TS_LEN];
	wr_ts_format(now, ts);
	wr_events_draw_ids(events, now);
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_array_get(events, i);
		json_t *o = json_object();
		wr_jset_int(o, "v", WR_SCHEMA);
		wr_jset_int(o, "seq", l->st.last_seq + (int64_t)i + 1);
		wr_jset_str(o, "ts", ts);
		json_t *type = json_object_get(ev, "type");
		wr_jset(o, "type", json_incref(type));
		wr_jset_str(o, "by", l->by);
		if (n > 1) {
			json_t *b = json_array();
			json_array_append_new(b, json_integer((json_int_t)i + 1));
			json_array_append_new(b, json_integer((json_int_t)n));
			wr_jset(o, "batch", b);
		}
		const char *k;
		json_t *v;
		json_object_foreach(ev, k, v)
		{
			if (strcmp(k, "v") && strcmp(k, "seq") && strcmp(k, "ts") && strcmp(k, "type") &&
			    strcmp(k, "by") && strcmp(k, "batch"))
				wr_jset(o, k, json_incref(v));
		}
		struct wr_decode_err err;
		if (wr_event_check(o, 0, &err) < 0) {
			wr_seterr("internal error: refusing to write an invalid %s event: %s",
				  json_string_value(type) ? json_string_value(type) : "?", err.msg);
			json_decref(o);
			return -1;
		}
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
		json_decref(o);
		if (!s)
			wr_die(wr_exit_failure, "out of memory");
		wr_buf_addstr(buf, s);
		wr_buf_add(buf, "\n", 1);
		free(s);
	}
	return 0;
}

/* Writes the batch and applies it to the state by reading it back. */
static int write_batch(struct wr_ledger *l, json_t *events, int64_t now, int nosync)
{
	struct wr_buf buf = {0};
	if (encode(l, events, now, &buf) < 0) {
		wr_buf_free(&buf);
		return -1;
	}
	int r = append(l, buf.p, buf.len, nosync);
	wr_buf_free(&buf);
	if (r < 0)
		return -1;
	return scan_more(l);
}

/* Moves the torn tail to the quarantine file and records it. Lock held. */
static int repair_tail(struct wr_ledger *l)
{
	off_t from = l->scan.off, end = l->scan.end;
	size_t n = (size_t)(end - from);
	char *tail = wr_xmalloc(n);
	ssize_t got = pread(l->fd, tail, n, from);
	if (got < 0 || (size_t)got != n) {
		wr_seterrsys("unable to read the torn tail of %s", l->path);
		free(tail);
		return -1;
	}
	int q = open(l->qpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (q < 0) {
		wr_seterrsys("unable to open quarantine file %s", l->qpath);
		free(tail);
		return -1;
	}
	struct stat sb;
	if (check_file(q, l->qpath, "quarantine file", 0) < 0 || fstat(q, &sb) < 0) {
		close(q);
		free(tail);
		return -1;
	}
	off_t qoff = sb.st_size;
	if (wr_write_all(q, tail, n) < 0 || fsync(q) < 0 || close(q) < 0) {
		wr_seterrsys("unable to write quarantine file %s", l->qpath);
		free(tail);
		return -1;
	}
	free(tail);
	if (wr_fsync_dir_of(l->qpath) < 0 || ftruncate(l->fd, from) < 0 || fdatasync(l->fd) < 0) {
		wr_seterrsys("unable to cut the torn tail of %s", l->path);
		return -1;
	}
	json_t *evs = json_array();
	json_t *ev = wr_event_new(WR_EV_LEDGER_REPAIRED);
	wr_jset_str(ev, "quarantine", l->qpath);
	wr_jset_int(ev, "offset", qoff);
	wr_jset_int(ev, "bytes", (int64_t)n);
	wr_jset_int(ev, "from_offset", from);
	json_array_append_new(evs, ev);
	int r = write_batch(l, evs, wr_now_ms(), 0);
	json_decref(evs);
	if (r == 0)
		wr_warn("%s: moved a torn tail of %zu bytes (offset %lld) to %s", l->path, n, (long long)from, l->qpath);
	return r;
}

/* Under the lock: catch up with the file and repair a torn tail. */
static int sync_locked(struct wr_ledger *l, int *repaired);

int wr_ledger_sync_locked(struct wr_ledger *l)
{
	int repaired;
	return sync_locked(l, &repaired);
}

static int sync_locked(struct wr_ledger *l, int *repaired)
{
	*repaired = 0;
	if (wr_ledger_refresh(l) < 0)
		return -1;
	if (l->scan.torn) {
		if (repair_tail(l) < 0)
			return -1;
		*repaired = 1;
	}
	return 0;
}

int wr_ledger_repair(struct wr_ledger *l)
{
	if (!(l->flags & WR_LEDGER_WRITE)) {
		wr_seterr("internal error: ledger %s opened read-only", l->path);
		return -1;
	}
	if (wr_ledger_lock(l) < 0)
		return -1;
	int repaired;
	int r = sync_locked(l, &repaired);
	wr_ledger_unlock(l);
	return r < 0 ? -1 : repaired;
}

int wr_ledger_commit(struct wr_ledger *l, wr_decide_fn decide, void *req)
{
	if (!(l->flags & WR_LEDGER_WRITE)) {
		wr_seterr("internal error: ledger %s opened read-only", l->path);
		return -1;
	}
	if (wr_ledger_lock(l) < 0)
		return -1;
	int repaired, r = -1;
	struct wr_batch out = {json_array(), 0};
	if (sync_locked(l, &repaired) < 0)
		goto done;
	/* This host's clock, even when the ledger holds later stamps: an event
	 * from a host whose clock runs ahead must not freeze backoffs and
	 * breaker cooldowns here (note_future reports it). */
	int64_t now = wr_now_ms();
	if (decide(&l->st, now, req, &out) < 0) {
		wr_seterrkind(WR_E_REFUSED);
		goto done;
	}
	if (json_array_size(out.events) == 0) {
		r = 0;
		goto done;
	}
	r = write_batch(l, out.events, now, out.nosync);
	if (r == 0)
		maybe_snapshot(l); /* still under the lock: no torn tail can be pending */
done:
	wr_ledger_unlock(l);
	json_decref(out.events);
	return r;
}
