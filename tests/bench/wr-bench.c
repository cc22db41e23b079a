/* wr-bench - the benchmark and test driver for the ledger core (not
 * installed). tests/bench/run.sh and the CLI tests of snapshots and
 * compaction call it:
 *
 *   wr-bench gen FILE EVENTS RUNS [SEED]   a realistic ledger of EVENTS events
 *   wr-bench replay FILE [--no-snapshot]   time one replay; prints ms, events,
 *                                          runs and peak RSS (KiB)
 *   wr-bench snapshot FILE                 replay, then write PATH.snapshot
 *   wr-bench append FILE N                 append N events (a run, heartbeats)
 *   wr-bench dump FILE [--no-snapshot] [--archives]   every field of the state
 *   wr-bench commit FILE N [--ended]       N decisions of one run.created each
 *                                          (--ended: created+started+finished)
 *   wr-bench sqlite DB N                   N one-row transactions, WAL, FULL
 *   wr-bench fsync FILE N append|overwrite N writes of 480 bytes, each
 *                                          fdatasynced: appended (the file
 *                                          grows, as a ledger) or over bytes
 *                                          already synced (as a reused WAL)
 *
 * Times are wall-clock milliseconds from CLOCK_MONOTONIC; cpu_ms is the
 * process's user + system time over the same loop (getrusage). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "compact.h"
#include "err.h"
#include "ledger.h"
#include "snapshot.h"
#include "timefmt.h"
#include "util.h"
#include "uuid.h"

#ifdef WR_HAVE_SQLITE
#include <sqlite3.h>
#endif

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* CPU time (user + system) of this process so far, in ms. */
static double cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* ---- gen: a deterministic, realistic ledger ---- */

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static int chance(int pct)
{
	return (int)(rnd() % 100) < pct;
}

enum step { S_CREATED, S_STARTED, S_WORK, S_FINISHED, S_RECOVER, S_OB_CLAIM, S_OB_DELIVER, S_DONE };

struct grun {
	char id[40], ob[40];
	const char *wf;
	int attempt, hb_left, stage, stages, fail, step, outbox;
	int64_t started;
};

static const char *const workflows[] = {"nightly-build", "db-backup", "agent-session", "etl-orders", "deploy",
					 "report-weekly", "crawler", "test-suite"};
static const char *const stages[] = {"fetch", "compile", "test", "package", "upload", "verify"};

struct gen {
	FILE *f;
	int64_t seq, ts, events, target;
	char by[32];
};

static void idgen(char *out, int64_t ms)
{
	uint64_t a = rnd(), b = rnd();
	snprintf(out, 40, "%08llx-%04llx-7%03llx-%04llx-%012llx", (unsigned long long)((ms >> 16) & 0xffffffff),
		 (unsigned long long)(ms & 0xffff), (unsigned long long)(a & 0xfff),
		 (unsigned long long)(0x8000 | ((a >> 12) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffull));
}

/* Common head of a line: v, seq, ts, type, by (and batch), as wr writes. */
static void head(struct gen *g, const char *type, const char *by, int bi, int bn)
{
	char ts[WR_TS_LEN];
	fprintf(g->f, "{\"v\":1,\"seq\":%lld,\"ts\":\"%s\",\"type\":\"%s\",\"by\":\"%s\"", (long long)++g->seq,
		wr_ts_format(g->ts, ts), type, by);
	if (bn)
		fprintf(g->f, ",\"batch\":[%d,%d]", bi, bn);
	g->events++;
}

static void step(struct gen *g, struct grun *r)
{
	char ts[WR_TS_LEN];
	g->ts += 1 + (int64_t)(rnd() % 40);
	switch (r->step) {
	case S_CREATED:
		head(g, "run.created", g->by, 0, 0);
		fprintf(g->f,
			",\"run\":\"%s\",\"workflow\":\"%s\",\"argv\":[\"/usr/local/bin/%s\",\"--target\",\"t%llu\"],"
			"\"cwd\":\"/srv/jobs/%s\",\"labels\":{\"team\":\"infra\",\"env\":\"prod\"},\"policy\":{\"timeout_ms\":"
			"3600000,\"kill_after_ms\":10000,\"heartbeat_ms\":30000,\"lease_ms\":120000,\"max_attempts\":3,"
			"\"backoff\":{\"initial_ms\":30000,\"factor\":2.0,\"max_ms\":3600000},\"stuck\":{\"repeat\":null,"
			"\"no_progress_ms\":null,\"action\":\"abort\"},\"concurrency\":null,\"deadline_ms\":null,"
			"\"no_retry_on\":[]}}\n",
			r->id, r->wf, r->wf, (unsigned long long)(rnd() % 50), r->wf);
		r->step = S_STARTED;
		break;
	case S_STARTED:
		r->attempt++;
		r->started = g->ts;
		head(g, "attempt.started", g->by, 0, 0);
		fprintf(g->f,
			",\"run\":\"%s\",\"attempt\":%d,\"host\":\"build-%d\",\"boot_id\":\"5f1c9a52-7a43-4e0c-9d65-"
			"0b8f3f0d2a11\",\"pid\":%d,\"pid_start\":%llu,\"pgid\":%d,\"pgid_start\":%llu,\"lease_until\":\"%s\"}\n",
			r->id, r->attempt, (int)(rnd() % 4), 1000 + (int)(rnd() % 30000), (unsigned long long)(rnd() % 100000000),
			1001 + (int)(rnd() % 30000), (unsigned long long)(rnd() % 100000000), wr_ts_format(g->ts + 120000, ts));
		r->step = S_WORK;
		r->stage = 0;
		break;
	case S_WORK:
		/* heartbeats and progress, interleaved */
		if (r->stage < 2 * r->stages && (r->hb_left == 0 || chance(25))) {
			int done = r->stage & 1;
			head(g, "attempt.progress", g->by, 0, 0);
			fprintf(g->f, ",\"run\":\"%s\",\"attempt\":%d,\"stage\":\"%s\",\"status\":\"%s\"%s}\n", r->id,
				r->attempt, stages[r->stage / 2], done ? "done" : "started",
				done ? ",\"detail\":\"ok in 12s\"" : "");
			r->stage++;
		} else if (r->hb_left > 0) {
			head(g, "attempt.heartbeat", g->by, 0, 0);
			fprintf(g->f, ",\"run\":\"%s\",\"attempt\":%d,\"lease_until\":\"%s\"}\n", r->id, r->attempt,
				wr_ts_format(g->ts + 120000, ts));
			r->hb_left--;
		}
		if (r->hb_left == 0 && r->stage >= 2 * r->stages)
			r->step = S_FINISHED;
		break;
	case S_FINISHED: {
		int fail = r->fail && r->attempt == 1;
		int lost = fail && chance(30);
		if (fail) {
			head(g, "attempt.finished", lost ? "wr-watch/77" : g->by, 1, 2);
		} else {
			head(g, "attempt.finished", g->by, 0, 0);
		}
		fprintf(g->f,
			",\"run\":\"%s\",\"workflow\":\"%s\",\"attempt\":%d,\"outcome\":\"%s\",\"exit_code\":%s,\"signal\":null,"
			"\"duration_ms\":%lld,\"cpu_ms\":%d,\"max_rss_kb\":%d,\"output_bytes\":%d,\"reason\":%s}\n",
			r->id, r->wf, r->attempt, fail ? (lost ? "lost" : "error") : "success", fail ? (lost ? "null" : "1") : "0",
			(long long)(g->ts - r->started), (int)(rnd() % 100000), 10000 + (int)(rnd() % 500000),
			(int)(rnd() % 10000000), lost ? "\"supervisor gone\"" : "null");
		if (fail) {
			idgen(r->ob, g->ts);
			head(g, "outbox.enqueued", lost ? "wr-watch/77" : g->by, 2, 2);
			fprintf(g->f,
				",\"id\":\"%s\",\"kind\":\"%s\",\"message\":\"%s attempt %d %s\",\"reason\":\"%s\",\"run\":\"%s\","
				"\"workflow\":\"%s\",\"details\":{\"attempt\":%d,\"exit_code\":%s}}\n",
				r->ob, lost ? "lost" : "failed", r->wf, r->attempt, lost ? "lost" : "failed",
				lost ? "supervisor gone" : "exit 1", r->id, r->wf, r->attempt, lost ? "null" : "1");
			r->outbox = 1;
			r->step = S_RECOVER;
		} else {
			r->step = r->outbox ? S_OB_CLAIM : S_DONE;
		}
		break;
	}
	case S_RECOVER:
		head(g, "recovery.decided", "wr-recover/99", 0, 0);
		fprintf(g->f,
			",\"run\":\"%s\",\"attempt\":%d,\"action\":\"retry\",\"reason\":\"failed\",\"recoveries\":1,"
			"\"not_before\":\"%s\"}\n",
			r->id, r->attempt, wr_ts_format(g->ts + 30000, ts));
		r->step = S_STARTED;
		r->hb_left = r->hb_left / 2 + 1;
		break;
	case S_OB_CLAIM:
		head(g, "outbox.claimed", "wr-outbox/55", 0, 0);
		fprintf(g->f, ",\"id\":\"%s\",\"delivery\":\"d-%s\",\"lease_until\":\"%s\"}\n", r->ob, r->ob,
			wr_ts_format(g->ts + 60000, ts));
		r->step = S_OB_DELIVER;
		break;
	case S_OB_DELIVER:
		head(g, "outbox.delivered", "wr-outbox/55", 0, 0);
		fprintf(g->f, ",\"id\":\"%s\",\"delivery\":\"d-%s\"}\n", r->ob, r->ob);
		r->step = S_DONE;
		break;
	}
}

static void new_run(struct gen *g, struct grun *r, int per_run)
{
	memset(r, 0, sizeof *r);
	idgen(r->id, g->ts);
	r->wf = workflows[rnd() % (sizeof workflows / sizeof *workflows)];
	r->stages = 1 + (int)(rnd() % 3);
	r->fail = chance(15);
	int fixed = 3 + 2 * r->stages + (r->fail ? 7 : 0);
	int hb = per_run - fixed;
	if (hb < 0)
		hb = 0;
	r->hb_left = hb ? (int)(rnd() % (uint64_t)(2 * hb + 1)) : 0;
	r->step = S_CREATED;
}

static int cmd_gen(int argc, char **argv)
{
	if (argc < 4)
		wr_die(2, "usage: wr-bench gen FILE EVENTS RUNS [SEED]");
	struct gen g = {0};
	g.target = atoll(argv[2]);
	int64_t runs = atoll(argv[3]);
	if (argc > 4)
		rng = (uint64_t)atoll(argv[4]) * 2654435761u + 1;
	g.f = fopen(argv[1], "w");
	if (!g.f)
		wr_diesys(74, "unable to create %s", argv[1]);
	setvbuf(g.f, NULL, _IOFBF, 1 << 20);
	snprintf(g.by, sizeof g.by, "wr-run/4242");
	g.ts = 1767225600000; /* 2026-01-01 */
	int per_run = (int)(g.target / (runs > 0 ? runs : 1));
	enum { LIVE = 64 };
	struct grun live[LIVE];
	for (int i = 0; i < LIVE; i++)
		new_run(&g, &live[i], per_run);
	while (g.events < g.target) {
		struct grun *r = &live[rnd() % LIVE];
		step(&g, r);
		if (r->step == S_DONE)
			new_run(&g, r, per_run);
	}
	if (fclose(g.f) != 0)
		wr_diesys(74, "unable to write %s", argv[1]);
	return 0;
}

/* ---- replay, snapshot, dump ---- */

static int cmd_replay(int argc, char **argv)
{
	int flags = WR_LEDGER_QUIET;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--no-snapshot"))
			flags |= WR_LEDGER_NOSNAP;
	setenv("WR_SNAPSHOT_BYTES", "off", 1); /* measure reading, not writing */
	struct wr_ledger l;
	double t0 = mono();
	if (wr_ledger_open(&l, argv[1], flags) < 0)
		wr_die(74, "%s", wr_errmsg());
	double t1 = mono();
	printf("ms=%.3f events=%lld runs=%zu snapshot=%d maxrss_kb=%ld\n", t1 - t0, (long long)l.st.events,
	       wr_state_nruns(&l.st), l.snap_loaded, maxrss_kb());
	wr_ledger_close(&l);
	return 0;
}

static int cmd_snapshot(int argc, char **argv)
{
	(void)argc;
	setenv("WR_SNAPSHOT_BYTES", "off", 1);
	struct wr_ledger l;
	if (wr_ledger_open(&l, argv[1], WR_LEDGER_QUIET) < 0)
		wr_die(74, "%s", wr_errmsg());
	double t0 = mono();
	if (wr_ledger_snapshot_write(&l) < 0)
		wr_die(74, "%s", wr_errmsg());
	printf("ms=%.3f offset=%lld\n", mono() - t0, (long long)l.scan.off);
	wr_ledger_close(&l);
	return 0;
}

static int cmd_dump(int argc, char **argv)
{
	int flags = WR_LEDGER_QUIET | WR_LEDGER_LAZY, archives = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--no-snapshot"))
			flags |= WR_LEDGER_NOSNAP;
		else if (!strcmp(argv[i], "--archives"))
			archives = 1;
	}
	setenv("WR_SNAPSHOT_BYTES", "off", 1);
	struct wr_ledger l;
	if (wr_ledger_open(&l, argv[1], flags) < 0)
		wr_die(74, "%s", wr_errmsg());
	if (archives && wr_ledger_replay_archives(&l) < 0)
		wr_die(74, "%s", wr_errmsg());
	if (wr_ledger_refresh(&l) < 0)
		wr_die(74, "%s", wr_errmsg());
	struct wr_buf b = {0};
	wr_state_dump(&l.st, &b);
	fwrite(b.p, 1, b.len, stdout);
	printf("scan off=%lld line=%lld bad_lines=%lld snapshot=%d\n", (long long)l.scan.off, (long long)l.scan.line,
	       (long long)l.bad_lines, l.snap_loaded);
	wr_buf_free(&b);
	wr_ledger_close(&l);
	return 0;
}

/* ---- commits ---- */

struct creq {
	int ended, heartbeat;
	const char *run;
	int64_t attempt;
};

static json_t *created(const char *run)
{
	json_t *e = wr_event_new(WR_EV_RUN_CREATED);
	wr_jset_str(e, "run", run);
	wr_jset_str(e, "workflow", "bench");
	json_t *a = json_array();
	json_array_append_new(a, json_string("/usr/bin/true"));
	wr_jset(e, "argv", a);
	wr_jset_str(e, "cwd", "/tmp");
	struct wr_policy p;
	wr_policy_defaults(&p);
	wr_jset(e, "policy", wr_policy_to_json(&p));
	return e;
}

static int decide(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	(void)st;
	struct creq *q = req;
	if (q->heartbeat) {
		json_t *e = wr_event_new(WR_EV_ATTEMPT_HEARTBEAT);
		wr_jset_str(e, "run", q->run);
		wr_jset_int(e, "attempt", q->attempt);
		wr_jset_ts(e, "lease_until", now + 120000);
		json_array_append_new(out->events, e);
		out->nosync = 1;
		return 0;
	}
	char id[WR_UUID_LEN];
	wr_uuid7(id);
	json_array_append_new(out->events, created(id));
	if (q->ended) {
		json_t *e = wr_event_new(WR_EV_ATTEMPT_STARTED);
		wr_jset_str(e, "run", id);
		wr_jset_int(e, "attempt", 1);
		wr_jset_str(e, "host", "bench");
		wr_jset_int(e, "pid", getpid());
		wr_jset_ts(e, "lease_until", now + 120000);
		json_array_append_new(out->events, e);
		e = wr_event_new(WR_EV_ATTEMPT_FINISHED);
		wr_jset_str(e, "run", id);
		wr_jset_int(e, "attempt", 1);
		wr_jset_str(e, "outcome", "success");
		wr_jset_int(e, "exit_code", 0);
		json_array_append_new(out->events, e);
	}
	return 0;
}

static int cmd_commit(int argc, char **argv)
{
	if (argc < 3)
		wr_die(2, "usage: wr-bench commit FILE N [--ended]");
	struct creq q = {0};
	for (int i = 3; i < argc; i++)
		q.ended |= !strcmp(argv[i], "--ended");
	long n = atol(argv[2]);
	struct wr_ledger l;
	if (wr_ledger_open(&l, argv[1], WR_LEDGER_WRITE) < 0)
		wr_die(74, "%s", wr_errmsg());
	double t0 = mono(), c0 = cpu_ms();
	for (long i = 0; i < n; i++)
		if (wr_ledger_commit(&l, decide, &q) < 0)
			wr_die(74, "commit %ld: %s", i, wr_errmsg());
	double ms = mono() - t0, cpu = cpu_ms() - c0;
	printf("decisions=%ld ms=%.3f per_s=%.1f cpu_ms=%.3f\n", n, ms, (double)n * 1000.0 / ms, cpu);
	wr_ledger_close(&l);
	return 0;
}

static int copy_decide(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	(void)st;
	(void)now;
	size_t i;
	json_t *ev;
	json_array_foreach((json_t *)req, i, ev) json_array_append_new(out->events, json_deep_copy(ev));
	return 0;
}

/* append: one run, started, then heartbeats without fdatasync (what a
 * warm reader finds after the snapshot). */
static int cmd_append(int argc, char **argv)
{
	if (argc < 3)
		wr_die(2, "usage: wr-bench append FILE N");
	long n = atol(argv[2]);
	setenv("WR_SNAPSHOT_BYTES", "off", 1);
	struct wr_ledger l;
	if (wr_ledger_open(&l, argv[1], WR_LEDGER_WRITE) < 0)
		wr_die(74, "%s", wr_errmsg());
	struct creq q = {0};
	char id[WR_UUID_LEN];
	q.run = id;
	q.attempt = 1;
	wr_uuid7(id);
	/* created + started as one decision, then n - 2 heartbeats */
	json_t *evs = json_array();
	json_array_append_new(evs, created(id));
	json_t *e = wr_event_new(WR_EV_ATTEMPT_STARTED);
	wr_jset_str(e, "run", id);
	wr_jset_int(e, "attempt", 1);
	wr_jset_str(e, "host", "bench");
	wr_jset_int(e, "pid", getpid());
	wr_jset_ts(e, "lease_until", wr_now_ms() + 120000);
	json_array_append_new(evs, e);
	int rc = wr_ledger_commit(&l, copy_decide, evs);
	json_decref(evs);
	if (rc < 0)
		wr_die(74, "%s", wr_errmsg());
	q.heartbeat = 1;
	for (long i = 2; i < n; i++)
		if (wr_ledger_commit(&l, decide, &q) < 0)
			wr_die(74, "%s", wr_errmsg());
	wr_ledger_close(&l);
	return 0;
}

/* ---- the peer: sqlite3, one row per transaction, WAL, synchronous=FULL ---- */

static int cmd_sqlite(int argc, char **argv)
{
#ifdef WR_HAVE_SQLITE
	if (argc < 3)
		wr_die(2, "usage: wr-bench sqlite DB N");
	long n = atol(argv[2]);
	sqlite3 *db;
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		wr_die(74, "sqlite3_open: %s", sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 60000);
	char *err = NULL;
	const char *setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			    "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, ts TEXT, type TEXT, body TEXT);";
	if (sqlite3_exec(db, setup, NULL, NULL, &err) != SQLITE_OK)
		wr_die(74, "sqlite: %s", err);
	sqlite3_stmt *ins, *begin, *commit;
	sqlite3_prepare_v2(db, "INSERT INTO events(ts, type, body) VALUES (?, 'run.created', ?)", -1, &ins, NULL);
	sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL);
	sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);
	/* The same payload wr writes for a run.created decision. */
	char id[WR_UUID_LEN];
	json_t *ev = created(wr_uuid7(id));
	char *body = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	double t0 = mono(), c0 = cpu_ms();
	for (long i = 0; i < n; i++) {
		char ts[WR_TS_LEN];
		while (sqlite3_step(begin) == SQLITE_BUSY)
			sqlite3_reset(begin);
		sqlite3_reset(begin);
		sqlite3_bind_text(ins, 1, wr_ts_format(wr_now_ms(), ts), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 2, body, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			wr_die(74, "sqlite insert: %s", sqlite3_errmsg(db));
		sqlite3_reset(ins);
		int rc;
		while ((rc = sqlite3_step(commit)) == SQLITE_BUSY)
			sqlite3_reset(commit);
		if (rc != SQLITE_DONE)
			wr_die(74, "sqlite commit: %s", sqlite3_errmsg(db));
		sqlite3_reset(commit);
	}
	double ms = mono() - t0, cpu = cpu_ms() - c0;
	printf("decisions=%ld ms=%.3f per_s=%.1f cpu_ms=%.3f\n", n, ms, (double)n * 1000.0 / ms, cpu);
	free(body);
	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	return 0;
#else
	(void)argc;
	(void)argv;
	wr_die(2, "built without sqlite3 (install libsqlite3-dev and reconfigure)");
#endif
}

/* ---- the floor: what one fdatasync of an append costs the kernel ---- */

static int cmd_fsync(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[3], "append") && strcmp(argv[3], "overwrite")))
		wr_die(2, "usage: wr-bench fsync FILE N append|overwrite");
	long n = atol(argv[2]);
	int over = !strcmp(argv[3], "overwrite");
	char line[480];
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	unlink(argv[1]);
	int fd = open(argv[1], O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | (over ? 0 : O_APPEND), 0600);
	if (fd < 0)
		wr_die(74, "%s: %s", argv[1], strerror(errno));
	for (long i = 0; over && i < n; i++)
		if (wr_write_all(fd, line, sizeof line) < 0)
			wr_die(74, "write: %s", strerror(errno));
	if (over && fsync(fd) < 0)
		wr_die(74, "fsync: %s", strerror(errno));
	double t0 = mono(), c0 = cpu_ms();
	for (long i = 0; i < n; i++) {
		ssize_t w = over ? pwrite(fd, line, sizeof line, (off_t)(i * (long)sizeof line)) : write(fd, line, sizeof line);
		if (w != (ssize_t)sizeof line || fdatasync(fd) < 0)
			wr_die(74, "write: %s", strerror(errno));
	}
	double ms = mono() - t0, cpu = cpu_ms() - c0;
	printf("syncs=%ld ms=%.3f per_s=%.1f cpu_ms=%.3f\n", n, ms, (double)n * 1000.0 / ms, cpu);
	close(fd);
	unlink(argv[1]);
	return 0;
}

int wr_main(int argc, char **argv)
{
	wr_prog = "wr-bench";
	if (argc < 3)
		wr_die(2, "usage: wr-bench gen|replay|snapshot|append|dump|commit|sqlite|fsync FILE ...");
	const char *c = argv[1];
	argc--;
	argv++;
	static const struct wr_cli_cmd cmds[] = {
		{"gen", cmd_gen, NULL},       {"replay", cmd_replay, NULL}, {"snapshot", cmd_snapshot, NULL},
		{"dump", cmd_dump, NULL},     {"commit", cmd_commit, NULL}, {"append", cmd_append, NULL},
		{"sqlite", cmd_sqlite, NULL}, {"fsync", cmd_fsync, NULL},   {NULL, NULL, NULL},
	};
	return wr_cli_run_cmd(cmds, c, argc, argv);
}
