/* ledger.c - opening, replaying, repairing and committing to the ledger. */
#include "ledger.h"
#include "cold.h"
#include "err.h"
#include "fsmode.h"
#include "random.h"
#include "replace.h"
#include "seed.h"
#include "snapshot.h"
#include "store.h"
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
#include <time.h>
#include <unistd.h>

/* An absolute path, so that what the ledger records (quarantine files,
 * WR_LEDGER for children) still holds from another directory. */
static char *absolute(const char *p)
{
	if (p[0] == '/' || wr_store_is_nats(p))
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
	const char *slash = wr_store_is_nats(path) ? strrchr(path, '/') : NULL;
	if (slash)
		wr_seterr("no ledger at %s (path from %s): the stream %s does not exist; create it with: wr-ledger init "
			  "--ledger %s",
			  path, path_origin(opt), slash + 1, path);
	else
		wr_seterr("no ledger at %s (path from %s); check --ledger, WR_LEDGER and XDG_STATE_HOME "
			  "(cron and sudo have another HOME); wr-run creates it when it records its first run",
			  path, path_origin(opt));
	wr_seterrkind(WR_E_NOLEDGER);
}

void wr_ledger_on_error(struct wr_ledger *l, void (*fn)(void *ctx, const struct wr_scan_error *e), void *ctx)
{
	l->on_error = fn;
	l->on_error_ctx = ctx;
}

void wr_ledger_on_progress(struct wr_ledger *l, void (*fn)(void *ctx, off_t done, off_t total), void *ctx)
{
	l->on_progress = fn;
	l->on_progress_ctx = ctx;
}

void wr_ledger_on_events(struct wr_ledger *l,
			 void (*fn)(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
				    const char *const *why, int64_t line),
			 void *ctx)
{
	l->on_events = fn;
	l->on_events_ctx = ctx;
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

/* The local file the state cache goes beside: the ledger, or a stream's
 * copy on this host (NULL: none). */
static const char *snap_base(const struct wr_ledger *l)
{
	return l->store.kind == WR_STORE_NATS ? l->store.cache : l->path;
}

/* The parts of l a snapshot is of (core/snapshot.h). */
static struct wr_snap_of snap_of(struct wr_ledger *l)
{
	struct wr_snap_of so = {snap_base(l), l->store.fd, l->store.dev, l->store.ino, &l->scan, &l->st, &l->bad_lines, &l->future,
				sizeof l->future, &l->snap_size};
	return so;
}

int wr_ledger_snapshot_write(struct wr_ledger *l)
{
	/* Another writer merged away a segment this handle still reads (it
	 * stays mapped): leave the snapshot to a process that loads afresh. */
	const char *base = snap_base(l);
	if (!base || !wr_cold_files_exist(l->st.cold))
		return 0;
	/* A snapshot covers only durable bytes: another writer's decision may
	 * be in the file before its own fdatasync returned. */
	if (l->store.kind == WR_STORE_FILE && wr_store_sync(&l->store, 0) < 0)
		return -1;
	int files = wr_cold_persist(l->st.cold, base), ob = wr_cold_persist_outbox(&l->st, base);
	if (files < 0 || ob < 0)
		return -1;
	files += ob;
	struct wr_snap_of so = snap_of(l);
	int r = wr_snapshot_write(&so);
	if (r == 0 && files && l->store.locked)
		wr_cold_gc(l->st.cold, base); /* segments the snapshot no longer names */
	return r;
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
	if (skew > f->skew_ms) {
		f->skew_ms = skew;
		f->ahead_ts = ev->ts;
	}
}

/* The events from the future a snapshot recorded, judged by this clock;
 * -1 when the state holds stamps ahead of it that the record does not
 * describe (a host whose clock runs ahead wrote the snapshot). */
static int future_loaded(struct wr_ledger *l)
{
	struct wr_future *f = &l->future;
	int64_t now = wr_now_ms();
	f->warned = 0;
	f->clock = now;
	f->skew_ms = f->ahead_ts - now;
	if (f->skew_ms <= WR_CLOCK_SKEW_MS)
		memset(f, 0, sizeof *f);
	return l->st.last_ts > now + WR_CLOCK_SKEW_MS && !f->events ? -1 : 0;
}

static void reset_state(struct wr_ledger *l);

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
	if (l->store.fd < 0)
		return 0;
	/* From the start with nothing applied yet: a matching snapshot saves
	 * the replay of its prefix (not for callers that see every event). */
	if (l->scan.off == 0 && l->st.events == 0 && !l->on_events && !(l->flags & WR_LEDGER_NOSNAP)) {
		struct wr_snap_of so = snap_of(l);
		l->snap_loaded = wr_snapshot_load(&so) == 1;
		/* A writer may have replaced it and removed its segments
		 * between the read and the open of the segments: once more. */
		if (!l->snap_loaded)
			l->snap_loaded = wr_snapshot_load(&so) == 1;
		/* Never past what the store holds whole (a stream's copy). */
		if (l->snap_loaded && l->store.limit >= 0 && l->scan.off > l->store.limit) {
			reset_state(l);
			l->snap_loaded = 0;
		}
		if (l->snap_loaded && future_loaded(l) < 0) {
			reset_state(l); /* replayed to say which events are ahead */
			l->snap_loaded = 0;
		}
		/* The snapshot skips the lines it covers: still say that bad
		 * ones are there, once, and where to see them. */
		if (l->snap_loaded && l->bad_lines && l->on_error == print_error)
			wr_warn("%s: %lld bad line%s before line %lld (not applied); 'wr-ledger verify' lists them", l->path,
				(long long)l->bad_lines, l->bad_lines == 1 ? "" : "s", (long long)l->scan.line);
		if (l->snap_loaded && l->scan.off)
			l->snap_off = l->scan.off; /* and the load set snap_size */
	}
	struct wr_scan_cb cb = {l, scan_events, scan_error, l->on_progress ? scan_progress : NULL};
	l->scan.limit = l->store.limit;
	l->future.clock = wr_now_ms();
	int r = wr_scan_run(&l->scan, &cb);
	warn_future(l);
	/* From now on a caller may hold a run: evicted ones stay allocated. */
	if (l->st.cold)
		l->st.cold->keep = 1;
	return r;
}

/* The bytes of lines after which a snapshot is due (maybe_snapshot). */
static int64_t snap_every(const struct wr_ledger *l)
{
	int64_t every = wr_snapshot_threshold();
	if (l->store.locked && !getenv("WR_SNAPSHOT_BYTES")) {
		off_t part = l->snap_size / (l->commits <= WR_SNAPSHOT_FEW ? WR_SNAPSHOT_PART : 1);
		every = part > WR_SNAPSHOT_MIN ? part : WR_SNAPSHOT_MIN;
	}
	return every;
}

/* Another lock holder may have written a snapshot since this handle's last
 * (each counts from its own): when the one on disk covers more, count from
 * it. 1 when it is recent enough that none is due. */
static int snap_adopted(struct wr_ledger *l)
{
	off_t size, disk = l->store.locked ? wr_snapshot_peek(snap_base(l), l->store.dev, l->store.ino, &size) : -1;
	if (disk <= l->snap_off || disk > l->scan.off)
		return 0;
	l->snap_off = disk;
	l->snap_size = size;
	return (int64_t)(l->scan.off - disk) < snap_every(l);
}

/* Writes a snapshot when enough was replayed since the last one. A writer
 * holding the lock keeps it nearly current: it writes one once the lines
 * appended since the last are as long as that snapshot (WR_SNAPSHOT_MIN
 * at least), so that the cost of writing a large state (many runs that
 * can still change) is paid once per its own size in appended lines, not
 * at every commit. A handle that appended few decisions yet (a tool that
 * opened the ledger for one or two, as wr-run does) writes one once they
 * are an eighth as long: such writers come with a start each, every start
 * decodes the tail, and decoding a line costs more than writing as many
 * bytes of snapshot; a long-lived writer pays one start for many
 * decisions. Other
 * handles write one every wr_snapshot_threshold() bytes, and
 * WR_SNAPSHOT_BYTES sets both. Cold runs go to segment files first. A
 * cache: a failure is a warning for writers, silent for readers. */
static void maybe_snapshot(struct wr_ledger *l)
{
	int64_t every = snap_every(l);
	const char *base = snap_base(l);
	if (!base)
		return;
	if (wr_cold_damaged(l->st.cold) && l->store.fd >= 0 && !(l->flags & WR_LEDGER_NOSNAP)) {
		char *snap = wr_xasprintf("%s.snapshot", base);
		unlink(snap); /* the next process replays the ledger */
		free(snap);
		return;
	}
	if (l->store.fd < 0 || (l->flags & WR_LEDGER_NOSNAP) || every < 0 || l->scan.torn || l->scan.allow_gaps ||
	    (int64_t)(l->scan.off - l->snap_off) < every || l->scan.off == l->snap_off)
		return;
	if (snap_adopted(l) || !wr_fs_may_create(l->store.fd, base))
		return;
	if (wr_ledger_snapshot_write(l) == 0) {
		l->snap_off = l->scan.off; /* and the write set snap_size */
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
	if (wr_fs_check_file(fd, path, "archive", 1) < 0) {
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
	wr_cold_bind(&l->st, wr_cold_new());
	wr_scan_init(&l->scan, l->store.fd, l->path);
	l->scan.allow_gaps = wr_ledger_is_archive(l->path);
	l->snap_off = 0;
	l->snap_size = 0;
	l->snap_loaded = 0;
	l->bad_lines = 0;
	l->sure_off = 0;
}

int wr_ledger_open(struct wr_ledger *l, const char *path, int flags)
{
	memset(l, 0, sizeof *l);
	l->store.fd = -1;
	l->store.limit = -1;
	l->flags = flags;
	l->path = wr_ledger_path(path);
	l->qpath = wr_xasprintf("%s.quarantine", l->path);
	snprintf(l->by, sizeof l->by, "%s/%ld", wr_prog, (long)getpid());
	if (!(flags & WR_LEDGER_QUIET))
		l->on_error = print_error;
	wr_state_init(&l->st);
	wr_cold_bind(&l->st, wr_cold_new());
	if ((flags & WR_LEDGER_WRITE) && wr_ledger_is_archive(l->path)) {
		wr_seterr("refusing to write to %s: it is an archive segment (history moved by wr-ledger compact); "
			  "give the live ledger", l->path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	if (wr_store_open(&l->store, l->path, l->flags) < 0)
		return -1;
	/* A stream's snapshot goes beside its copy on this host, if any. */
	if (!snap_base(l))
		l->flags |= WR_LEDGER_NOSNAP;
	if (l->store.fd < 0 && !(flags & WR_LEDGER_MISSING_OK)) {
		wr_ledger_seterr_missing(path, l->path);
		return -1;
	}
	if ((flags & WR_LEDGER_WRITE) && l->store.kind == WR_STORE_FILE)
		wr_temp_clean(l->path);
	wr_scan_init(&l->scan, l->store.fd, l->path);
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
	wr_store_close(&l->store);
	wr_state_free(&l->st);
	free(l->path);
	free(l->qpath);
	memset(l, 0, sizeof *l);
	l->store.fd = -1;
	l->store.limit = -1;
}

/* A catch-up over many lines starts from the newest snapshot instead when
 * it lies ahead (another writer wrote it meanwhile) and the lines it
 * covers are long enough: decoding them would cost more than loading it,
 * whose state is the same (core/snapshot.h). Among 50 wr-run at a time a
 * commit otherwise decodes the ~90 decisions the others appended while
 * its command ran (BENCHMARKS.md). Not for a handle that sees every event
 * or every bad line (on_events, an on_error of its own), nor when this
 * handle saw events from the future (its record of them would be
 * replaced); a load that does not match leaves the state as it was. */
static void jump_ahead(struct wr_ledger *l)
{
	if (l->store.fd < 0 || l->on_events || (l->on_error && l->on_error != print_error) ||
	    (l->flags & WR_LEDGER_NOSNAP) || !snap_base(l) || l->scan.torn || l->scan.allow_gaps || l->future.events)
		return;
	struct stat sb;
	if (fstat(l->store.fd, &sb) < 0)
		return;
	off_t end = l->store.limit >= 0 && l->store.limit < sb.st_size ? l->store.limit : sb.st_size;
	off_t ahead = end - l->scan.off;
	if (ahead < WR_SNAPSHOT_MIN || ahead * WR_SNAPSHOT_JUMP < l->snap_size)
		return;
	off_t size, disk = wr_snapshot_peek(snap_base(l), l->store.dev, l->store.ino, &size);
	if (disk <= l->scan.off || disk > end || (disk - l->scan.off) * WR_SNAPSHOT_JUMP < size)
		return;
	int64_t bad = l->bad_lines, line = l->scan.line;
	struct wr_snap_of so = snap_of(l);
	if (wr_snapshot_load(&so) != 1)
		return;
	l->snap_loaded = 1;
	l->snap_off = l->scan.off; /* and the load set snap_size */
	if (future_loaded(l) < 0) {
		reset_state(l); /* replayed to say which events are ahead */
		return;
	}
	if (l->bad_lines > bad && l->on_error == print_error)
		wr_warn("%s: %lld bad line%s between lines %lld and %lld (not applied); 'wr-ledger verify' lists them",
			l->path, (long long)(l->bad_lines - bad), l->bad_lines - bad == 1 ? "" : "s", (long long)line,
			(long long)l->scan.line);
}

int wr_ledger_refresh(struct wr_ledger *l)
{
	int was_replaced = wr_store_catch_up(&l->store, l->scan.off);
	if (was_replaced < 0)
		return -1;
	if (was_replaced)
		reset_state(l);
	else
		jump_ahead(l);
	if (scan_more(l) < 0)
		return -1;
	maybe_snapshot(l);
	return was_replaced;
}

int wr_ledger_lock(struct wr_ledger *l)
{
	return wr_store_lock(&l->store);
}

int wr_ledger_trylock(struct wr_ledger *l)
{
	return wr_store_trylock(&l->store);
}

void wr_ledger_unlock(struct wr_ledger *l)
{
	wr_store_unlock(&l->store);
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

/* Writes the batch (synced unless nosync) and applies it to the state by
 * reading it back; *appended tells whether the bytes are in the file. */
static int write_batch(struct wr_ledger *l, json_t *events, int64_t now, int nosync, int *appended)
{
	struct wr_buf buf = {0};
	*appended = 0;
	if (encode(l, events, now, &buf) < 0) {
		wr_buf_free(&buf);
		return -1;
	}
	int r = wr_store_append(&l->store, buf.p, buf.len, l->scan.off, nosync);
	wr_buf_free(&buf);
	if (r != 0)
		return r; /* -1, or WR_STORE_CONFLICT */
	*appended = 1;
	return scan_more(l);
}

/* Moves the torn tail to the quarantine file and records it. Lock held. */
static int repair_tail(struct wr_ledger *l)
{
	if (l->store.kind == WR_STORE_NATS) {
		wr_seterr("%s: the stream's last message is no whole decision (a batch without its last events); "
			  "it is kept as it is, see it with wr-ledger export", l->path);
		return -1;
	}
	off_t from = l->scan.off, end = l->scan.end;
	size_t n = (size_t)(end - from);
	char *tail = wr_xmalloc(n);
	ssize_t got = pread(l->store.fd, tail, n, from);
	if (got < 0 || (size_t)got != n) {
		wr_seterrsys("unable to read the torn tail of %s", l->path);
		free(tail);
		return -1;
	}
	int q = wr_fs_open(l->qpath, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC);
	if (q < 0) {
		wr_seterrsys("unable to open quarantine file %s", l->qpath);
		free(tail);
		return -1;
	}
	struct stat sb;
	if (wr_fs_check_file(q, l->qpath, "quarantine file", 0) < 0 || fstat(q, &sb) < 0) {
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
	if (wr_fsync_dir_of(l->qpath) < 0) {
		wr_seterrsys("unable to sync the directory of %s", l->qpath);
		return -1;
	}
	if (wr_store_cut(&l->store, from) < 0)
		return -1;
	json_t *evs = json_array();
	json_t *ev = wr_event_new(WR_EV_LEDGER_REPAIRED);
	wr_jset_str(ev, "quarantine", l->qpath);
	wr_jset_int(ev, "offset", qoff);
	wr_jset_int(ev, "bytes", (int64_t)n);
	wr_jset_int(ev, "from_offset", from);
	json_array_append_new(evs, ev);
	int appended, r = write_batch(l, evs, wr_now_ms(), 0, &appended);
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

/* A cached run failed its hash: the cache goes, the state is replayed
 * from the ledger. 0 or -1. */
static int rebuild(struct wr_ledger *l)
{
	if (snap_base(l)) {
		char *snap = wr_xasprintf("%s.snapshot", snap_base(l));
		unlink(snap);
		free(snap);
	}
	if (!l->snap_warned && !(l->flags & WR_LEDGER_QUIET))
		wr_warn("%s: the state cache is damaged; rebuilding it from the ledger", l->path);
	l->snap_warned = 1;
	reset_state(l);
	int flags = l->flags;
	l->flags |= WR_LEDGER_NOSNAP;
	int r = scan_more(l);
	l->flags = flags;
	return r;
}

/* After the unlock: makes the decision durable, and what it was decided
 * on (the decisions of others may be in the file before their own sync
 * returned), before the caller acts on it. A decision the disk refused and
 * that was cut back is gone from the state too. 0 or -1. */
static int settle(struct wr_ledger *l, int mine)
{
	int r = wr_store_sync(&l->store, mine);
	if (r == -2)
		reset_state(l); /* replayed at the next look */
	return r < 0 ? -1 : 0;
}

/* One try of a decision: 0 done, WR_STORE_CONFLICT when another writer
 * appended first (a stream), -1 on error. Group commit: the decision is
 * written under the lock and made durable after it (settle), so that the
 * fdatasyncs of concurrent writers overlap; its caller learns of it, and
 * acts, only once its sync returned. */
static int commit_once(struct wr_ledger *l, wr_decide_fn decide, void *req)
{
	if (wr_ledger_lock(l) < 0)
		return -1;
	int repaired, r = -1, appended = 0, unsure = 0;
	struct wr_batch out = {json_array(), 0};
	if (sync_locked(l, &repaired) < 0)
		goto done;
	/* Bytes no sync of this handle covered: decided on, they are synced
	 * before the caller acts even when the decision writes nothing. */
	unsure = l->scan.off > l->sure_off;
	/* This host's clock, even when the ledger holds later stamps: an event
	 * from a host whose clock runs ahead must not freeze backoffs and
	 * breaker cooldowns here (note_future reports it). */
	int64_t now = wr_now_ms();
	int rc = decide(&l->st, now, req, &out);
	if (wr_cold_damaged(l->st.cold) && rebuild(l) == 0) {
		/* The decision read a damaged cached run: decide on the replay. */
		json_array_clear(out.events);
		rc = decide(&l->st, now, req, &out);
	}
	if (rc < 0) {
		wr_seterrkind(WR_E_REFUSED);
		goto done;
	}
	if (json_array_size(out.events) == 0) {
		r = 0;
		goto done;
	}
	r = write_batch(l, out.events, now, 1, &appended);
	l->commits += r == 0 && appended;
	if (r == 0)
		maybe_snapshot(l); /* still under the lock: no torn tail can be pending */
done:
	wr_ledger_unlock(l);
	json_decref(out.events);
	/* A refusal is acted on too (wr-run does not start the command). */
	int acted = r == 0 || (r < 0 && wr_errkind() == WR_E_REFUSED);
	if ((appended && !out.nosync) || (acted && unsure)) {
		off_t end = l->scan.off;
		if (settle(l, appended) < 0)
			return -1;
		l->sure_off = end;
	} else if (appended && !unsure) {
		l->sure_off = l->scan.off; /* its own heartbeats: losing them is harmless */
	}
	return r;
}

/* Sleeps a random time below us microseconds. */
static void pause_below_us(int64_t us)
{
	if (us <= 0)
		return;
	int64_t d = wr_random_below(us);
	struct timespec ts = {(time_t)(d / 1000000), (long)(d % 1000000) * 1000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* How long a decision is made again after other writers came first: the
 * lock's timeout (a file's commit waits that long for the lock). Each
 * conflict after the first backs off a random time below a bound that
 * doubles from 1 ms to 64 ms, so that writers stop meeting. */
int wr_ledger_commit(struct wr_ledger *l, wr_decide_fn decide, void *req)
{
	if (!(l->flags & WR_LEDGER_WRITE)) {
		wr_seterr("internal error: ledger %s opened read-only", l->path);
		return -1;
	}
	int64_t until = 0;
	for (int tries = 1;; tries++) {
		int r = commit_once(l, decide, req);
		if (r != WR_STORE_CONFLICT)
			return r;
		int64_t now = wr_mono_ms();
		if (!until)
			until = now + l->store.lock_timeout_ms;
		if (now >= until) {
			char d[32];
			wr_seterr("gave up a decision on %s after %s: other writers appended first %d times in a row; "
				  "retry later",
				  l->path, wr_dur_format(l->store.lock_timeout_ms, d, sizeof d), tries);
			wr_seterrkind(WR_E_LOCK_TIMEOUT);
			return -1;
		}
		/* Catch up and decide again: at once the first time (what it
		 * lost to is all there is to fetch), then after a random pause. */
		if (tries > 1) {
			int64_t cap = (int64_t)1000 << (tries - 2 < 6 ? tries - 2 : 6);
			int64_t left = (until - now) * 1000;
			pause_below_us(cap < left ? cap : left);
		}
	}
}

void wr_ledger_apply_dry(struct wr_ledger *l, json_t *events, int64_t now)
{
	size_t n = json_array_size(events);
	char ts[WR_TS_LEN];
	wr_ts_format(now, ts);
	wr_events_draw_ids(events, now);
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_deep_copy(json_array_get(events, i));
		wr_jset_int(ev, "seq", l->st.last_seq + 1);
		wr_jset_str(ev, "ts", ts);
		wr_jset_str(ev, "by", l->by);
		char *s = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
		struct wr_event e;
		struct wr_decode_err err;
		if (s && wr_event_decode(s, strlen(s), &e, &err) == 0) {
			wr_state_apply(&l->st, &e, NULL);
			wr_event_clear(&e);
		}
		free(s);
	}
}
