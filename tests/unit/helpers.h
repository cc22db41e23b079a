/* helpers.h - the one fixture library of the unit tests: scratch
 * directories, files and event lines for the tests that work on real
 * ledger files; states built event by event and decisions run on them
 * (test-state, test-breaker, test-decide-*). Header-only: each test
 * program includes it once. */
#ifndef WR_TEST_HELPERS_H
#define WR_TEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "event.h"
#include "ledger.h"
#include "state.h"
#include "timefmt.h"
#include "util.h"

#define UNUSED __attribute__((unused))

static char t_dir[1024];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void t_cleanup(void)
{
	if (t_dir[0] && !getenv("WR_TEST_KEEP"))
		nftw(t_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch directory for this program, removed at exit. */
UNUSED static const char *t_tmpdir(const char *name)
{
	const char *base = getenv("TMPDIR");
	snprintf(t_dir, sizeof t_dir, "%s/wr-unit-%s.XXXXXX", base && *base ? base : "/tmp", name);
	if (!mkdtemp(t_dir)) {
		perror("mkdtemp");
		exit(99);
	}
	atexit(t_cleanup);
	return t_dir;
}

/* t_path("x") -> "<tmpdir>/x", in a rotating static buffer. */
UNUSED static const char *t_path(const char *fmt, ...)
{
	static char bufs[8][2100];
	static int i;
	char rel[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	char *b = bufs[i++ % 8];
	snprintf(b, sizeof bufs[0], "%s/%s", t_dir, rel);
	return b;
}

UNUSED static void t_write(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || wr_write_all(fd, p, n) < 0 || close(fd) < 0) {
		fprintf(stderr, "write %s: %s\n", path, strerror(errno));
		exit(99);
	}
}

/* Whole file, NUL-terminated; *n its size. NULL when missing. */
UNUSED static char *t_read(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct wr_buf b = {0};
	char chunk[65536];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof chunk)) > 0)
		wr_buf_add(&b, chunk, (size_t)r);
	close(fd);
	wr_buf_str(&b);
	if (n)
		*n = b.len;
	return b.p;
}

UNUSED static off_t t_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) < 0 ? -1 : sb.st_size;
}

/* What a view or printer wrote: t_out_open() gives a stream, t_out_text()
 * closes it and returns its bytes (the caller frees them). A memory
 * stream is no terminal: tables print every cell whole, without colour. */
struct t_out {
	FILE *f;
	char *p;
	size_t n;
};

UNUSED static FILE *t_out_open(struct t_out *o)
{
	memset(o, 0, sizeof *o);
	o->f = open_memstream(&o->p, &o->n);
	if (!o->f) {
		perror("open_memstream");
		exit(99);
	}
	return o->f;
}

UNUSED static char *t_out_text(struct t_out *o)
{
	fclose(o->f);
	o->f = NULL;
	return o->p;
}

/* How many times needle stands in s. */
UNUSED static int t_count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Counts bad lines reported through a ledger's on_error. */
struct t_errs {
	int n;
	int64_t line[64];
	int column[64];
	char field[64][64];
	char msg[64][256];
};

UNUSED static void t_on_error(void *ctx, const struct wr_scan_error *e)
{
	struct t_errs *c = ctx;
	if (c->n < 64) {
		c->line[c->n] = e->line;
		c->column[c->n] = e->column;
		snprintf(c->field[c->n], sizeof c->field[0], "%s", e->field);
		snprintf(c->msg[c->n], sizeof c->msg[0], "%s", e->msg);
	}
	c->n++;
}

/* Opens path read-only (lazy), counting errors into errs; returns 0/-1. */
UNUSED static int t_open_counting(struct wr_ledger *l, const char *path, int flags, struct t_errs *errs)
{
	memset(errs, 0, sizeof *errs);
	if (wr_ledger_open(l, path, flags | WR_LEDGER_QUIET | WR_LEDGER_LAZY) < 0)
		return -1;
	wr_ledger_on_error(l, t_on_error, errs);
	return wr_ledger_refresh(l) < 0 ? -1 : 0;
}

/* A text fingerprint of a derived state: every run, workflow and outbox
 * entry as JSON, and the counters. Two states are equal when these are. */
UNUSED static char *t_state_print(const struct wr_state *st)
{
	json_t *o = json_object();
	json_t *runs = json_array(), *wfs = json_array(), *ob = json_array();
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *r; (r = wr_runs_next(&it));) {
		json_t *j = wr_run_to_json(r);
		json_object_set_new(j, "stale_n", json_integer(r->stale));
		json_object_set_new(j, "recoveries_n", json_integer(r->recoveries));
		json_array_append_new(runs, j);
	}
	for (size_t i = 0; i < st->workflows.n; i++) {
		const struct wr_workflow *w = wr_map_at(&st->workflows, i);
		json_t *j = wr_workflow_to_json(w);
		json_object_set_new(j, "half_open_trial", json_integer(w->half_open_trial));
		json_object_set_new(j, "reopens", json_integer(w->reopens));
		json_array_append_new(wfs, j);
	}
	for (size_t i = 0; i < wr_state_outboxes(st)->n; i++)
		json_array_append_new(ob, wr_outbox_to_json(wr_map_at(wr_state_outboxes(st), i)));
	json_object_set_new(o, "runs", runs);
	json_object_set_new(o, "workflows", wfs);
	json_object_set_new(o, "outbox", ob);
	json_t *types = json_array();
	for (int i = 0; i < WR_EV__COUNT; i++)
		json_array_append_new(types, json_integer(st->by_type[i]));
	json_object_set_new(o, "by_type", types);
	json_object_set_new(o, "last_seq", json_integer(st->last_seq));
	json_object_set_new(o, "last_ts", json_integer(st->last_ts));
	json_object_set_new(o, "events", json_integer(st->events));
	json_object_set_new(o, "stale", json_integer(st->stale));
	json_object_set_new(o, "invalid", json_integer(st->invalid));
	json_object_set_new(o, "repaired", json_integer(st->repaired));
	json_object_set_new(o, "unknown", json_integer(st->unknown_types));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/* Decision that appends copies of the events in req (a json array). */
UNUSED static int t_decide_copy(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	(void)st;
	(void)now;
	size_t i;
	json_t *ev;
	json_array_foreach((json_t *)req, i, ev) json_array_append_new(out->events, json_deep_copy(ev));
	return 0;
}

/* Commits the events of arr (stolen) as one decision. */
UNUSED static int t_commit(struct wr_ledger *l, json_t *arr)
{
	int r = wr_ledger_commit(l, t_decide_copy, arr);
	json_decref(arr);
	return r;
}

/* Commits one event (stolen). */
UNUSED static int t_commit1(struct wr_ledger *l, json_t *ev)
{
	json_t *a = json_array();
	json_array_append_new(a, ev);
	return t_commit(l, a);
}

/* An event object from a JSON text (for building events tersely). */
UNUSED static json_t *t_json(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	json_error_t je;
	json_t *o = json_loads(buf, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		fprintf(stderr, "bad test JSON (%s): %s\n", je.text, buf);
		exit(99);
	}
	return o;
}

/* States and decisions. A struct t_fx holds a state and the seq of its
 * next event. Events are applied the way the ledger applies them: seq, ts
 * and by are added, the ids the commit draws are drawn
 * (wr_events_draw_ids), the line is decoded strictly (a line that does not
 * decode is reported and counts as -1) and folded into the state. A
 * decision runs the way wr_ledger_commit runs it: on the state, at a time,
 * with a request; its events are applied when it succeeds.
 *
 *   struct t_fx f;
 *   fx_init(&f);
 *   fx_created(&f, T0, "r1", "wf", "{\"max_attempts\":2}");
 *   fx_started(&f, T0, "r1", 1);
 *   json_t *evs = fx_decide(&f, wr_decide_check, T0 + HOUR, &req, &rc);
 *   is_int(fx_count(evs, "attempt.finished"), 1, "...");
 *   json_decref(evs);
 *   fx_free(&f);
 */
#define T0 1795213865000LL   /* 2026-11-20T22:31:05.000Z */
#define SEC 1000LL
#define MIN 60000LL
#define HOUR 3600000LL

struct t_fx {
	struct wr_state st;
	int64_t seq;
	const char *why;     /* the reducer's reason for the last stale or invalid event */
};

UNUSED static void fx_init(struct t_fx *f)
{
	memset(f, 0, sizeof *f);
	wr_state_init(&f->st);
}

UNUSED static void fx_free(struct t_fx *f)
{
	wr_state_free(&f->st);
}

/* Applies one event object (borrowed) at ts to st as the ledger would:
 * ids drawn, v, seq (++*seq), ts and by set, decoded strictly, folded in.
 * Returns enum wr_apply, or -1 when it does not decode. *why: the
 * reducer's reason (may be NULL). */
UNUSED static int fx_apply_state(struct wr_state *st, int64_t *seq, json_t *o, int64_t ts, const char **why)
{
	json_t *c = json_deep_copy(o), *batch = json_array();
	json_array_append(batch, c);
	wr_events_draw_ids(batch, ts);
	json_decref(batch);
	char t[WR_TS_LEN];
	wr_jset_int(c, "v", WR_SCHEMA);
	wr_jset_int(c, "seq", ++*seq);
	wr_jset_str(c, "ts", wr_ts_format(ts, t));
	wr_jset_str(c, "by", "t/1");
	char *s = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	struct wr_event ev;
	struct wr_decode_err err;
	if (wr_event_decode(s, strlen(s), &ev, &err) < 0) {
		printf("# does not decode (%s): %s\n", err.msg, s);
		free(s);
		return -1;
	}
	free(s);
	int r = wr_state_apply(st, &ev, why);
	wr_event_clear(&ev);
	return r;
}

/* The same for a type and the JSON of its fields (without braces). */
UNUSED static int fx_apply_fields(struct wr_state *st, int64_t *seq, int64_t ts, const char *type,
				     const char *fields, const char **why)
{
	char *s = wr_xasprintf("{\"type\":\"%s\"%s%s}", type, *fields ? "," : "", fields);
	json_error_t je;
	json_t *o = json_loads(s, 0, &je);
	if (!o) {
		printf("# fixture is not JSON (%s): %s\n", je.text, s);
		free(s);
		return -1;
	}
	free(s);
	int r = fx_apply_state(st, seq, o, ts, why);
	json_decref(o);
	return r;
}

/* fx_apply_state on the fixture's state. */
UNUSED static int fx_apply(struct t_fx *f, json_t *o, int64_t ts)
{
	return fx_apply_state(&f->st, &f->seq, o, ts, &f->why);
}

/* Applies every event of an array (borrowed) at ts to st; returns how
 * many were not applied cleanly (stale, invalid or not decoded). */
UNUSED static int fx_apply_all_state(struct wr_state *st, int64_t *seq, json_t *events, int64_t ts, const char **why)
{
	size_t i;
	json_t *e;
	int bad = 0;
	json_array_foreach(events, i, e) bad += fx_apply_state(st, seq, e, ts, why) != WR_APPLY_OK;
	return bad;
}

/* fx_apply_all_state on the fixture's state. */
UNUSED static int fx_apply_all(struct t_fx *f, json_t *events, int64_t ts)
{
	return fx_apply_all_state(&f->st, &f->seq, events, ts, &f->why);
}

/* Applies one event given by type and the JSON of its fields (printf
 * format, without braces). Returns enum wr_apply or -1. */
__attribute__((format(printf, 4, 5))) UNUSED static int fx_ev(struct t_fx *f, int64_t ts, const char *type,
								  const char *fmt, ...)
{
	char fields[8192];
	va_list va;
	va_start(va, fmt);
	vsnprintf(fields, sizeof fields, fmt, va);
	va_end(va);
	return fx_apply_fields(&f->st, &f->seq, ts, type, fields, &f->why);
}

/* run.created of run in wf; policy is a JSON object ("{}" for defaults). */
UNUSED static int fx_created(struct t_fx *f, int64_t ts, const char *run, const char *wf, const char *policy)
{
	return fx_ev(f, ts, "run.created", "\"run\":\"%s\",\"workflow\":\"%s\",\"argv\":[\"x\"],\"cwd\":\"/\",\"policy\":%s",
		     run, wf, policy);
}

/* attempt.started of attempt n on host "h", supervisor pid 100+n (pid_start
 * 1000+n), lease until ts + 2m. */
UNUSED static int fx_started_on(struct t_fx *f, int64_t ts, const char *run, int n, const char *host,
				   const char *boot_id, int64_t lease_until)
{
	char l[WR_TS_LEN];
	return fx_ev(f, ts, "attempt.started",
		     "\"run\":\"%s\",\"attempt\":%d,\"host\":\"%s\",\"boot_id\":\"%s\",\"pid\":%d,\"pid_start\":%d,"
		     "\"pgid\":%d,\"pgid_start\":%d,\"lease_until\":\"%s\"",
		     run, n, host, boot_id, 100 + n, 1000 + n, 200 + n, 2000 + n, wr_ts_format(lease_until, l));
}

UNUSED static int fx_started(struct t_fx *f, int64_t ts, const char *run, int n)
{
	return fx_started_on(f, ts, run, n, "h", "boot-1", ts + 2 * MIN);
}

/* attempt.finished with an outcome and exit code (< 0: null). */
UNUSED static int fx_finished(struct t_fx *f, int64_t ts, const char *run, int n, const char *outcome, int code)
{
	char c[32];
	snprintf(c, sizeof c, code < 0 ? "null" : "%d", code);
	return fx_ev(f, ts, "attempt.finished", "\"run\":\"%s\",\"attempt\":%d,\"outcome\":\"%s\",\"exit_code\":%s", run,
		     n, outcome, c);
}

UNUSED static int fx_heartbeat(struct t_fx *f, int64_t ts, const char *run, int n, int64_t lease_until)
{
	char l[WR_TS_LEN];
	return fx_ev(f, ts, "attempt.heartbeat", "\"run\":\"%s\",\"attempt\":%d,\"lease_until\":\"%s\"", run, n,
		     wr_ts_format(lease_until, l));
}

/* An attempt that ended: started at ts, finished at ts + 1s. */
UNUSED static void fx_attempt(struct t_fx *f, int64_t ts, const char *run, int n, const char *outcome, int code)
{
	fx_started(f, ts, run, n);
	fx_finished(f, ts + SEC, run, n, outcome, code);
}

/* Runs decision fn on the state at now with req, as the commit does: *rc
 * gets its result and, when it is 0, its events are applied at now.
 * Returns its events (the caller releases them). */
UNUSED static json_t *fx_decide(struct t_fx *f, wr_decide_fn fn, int64_t now, void *req, int *rc)
{
	struct wr_batch b = {json_array(), 0};
	int r = fn(&f->st, now, req, &b);
	if (rc)
		*rc = r;
	if (r == 0 && fx_apply_all(f, b.events, now) != 0)
		printf("# some events of the decision were not applied cleanly\n");
	return b.events;
}

/* How many events of events have this type. */
UNUSED static int fx_count(json_t *events, const char *type)
{
	size_t i;
	json_t *e;
	int n = 0;
	json_array_foreach(events, i, e) n += !strcmp(json_string_value(json_object_get(e, "type")), type);
	return n;
}

/* The nth (0-based) event of this type in events, or NULL (borrowed). */
UNUSED static json_t *fx_find(json_t *events, const char *type, int nth)
{
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e) if (!strcmp(json_string_value(json_object_get(e, "type")), type) && nth-- == 0) return e;
	return NULL;
}

/* A string field of an event, "" when absent. */
UNUSED static const char *fx_str(json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(ev, key));
	return s ? s : "";
}

/* The types of events, joined by spaces ("run.created attempt.started"). */
UNUSED static const char *fx_types(json_t *events)
{
	static char buf[2048];
	size_t i, n = 0;
	json_t *e;
	buf[0] = 0;
	json_array_foreach(events, i, e) n += (size_t)snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0, "%s%s",
							       i ? " " : "", fx_str(e, "type"));
	return buf;
}

UNUSED static struct wr_run *fx_run(struct t_fx *f, const char *id)
{
	return wr_state_run(&f->st, id);
}

/* fx_apply_state on st with one sequence for the whole program. */
static int64_t t_seq;
UNUSED static int t_apply_obj(struct wr_state *st, json_t *o, int64_t ts)
{
	return fx_apply_state(st, &t_seq, o, ts, NULL);
}

/* t_apply_obj for each event of a decision; the number that did not apply. */
UNUSED static int t_apply_all(struct wr_state *st, json_t *events, int64_t ts)
{
	return fx_apply_all_state(st, &t_seq, events, ts, NULL);
}

#endif
