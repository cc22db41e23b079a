/* verify.c - checking a ledger (see verify.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cold.h"
#include "compact.h"
#include "err.h"
#include "state_diff.h"
#include "timefmt.h"
#include "util.h"
#include "verify.h"

struct check {
	struct wr_ledger *l;
	struct wr_verify *v;
};

static void problem(struct check *c, const char *file, int64_t line, int col, const char *field, const char *msg,
		    const char *kind)
{
	struct wr_problem p = {file, line, col, field, kind, msg, NULL, 0};
	c->v->problems++;
	c->v->on_problem(c->v->ctx, &p);
}

static void on_error(void *ctx, const struct wr_scan_error *e)
{
	struct check *c = ctx;
	problem(c, c->l->path, e->line, e->column, e->field, e->msg, "invalid");
}

static void on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied, const char *const *why,
		      int64_t line)
{
	struct check *c = ctx;
	for (size_t i = 0; i < n; i++) {
		if (applied[i] != WR_APPLY_INVALID)
			continue;
		char msg[300];
		snprintf(msg, sizeof msg, "%s: %s", evs[i].type_name, why[i] ? why[i] : "invariant broken");
		problem(c, c->l->path, line + (int64_t)i, 1, NULL, msg, "invariant");
	}
}

/* A tail that is not a whole decision: the trace of a crash, or a commit
 * under way. Only with the lock free (taken without waiting) is it the
 * former; with a writer busy it is noted, not counted. */
static int check_tail(struct check *c)
{
	struct wr_ledger *l = c->l;
	int got = wr_ledger_trylock(l);
	if (got == 1) {
		int rr = wr_ledger_refresh(l); /* the commit may have ended meanwhile */
		wr_ledger_unlock(l);
		if (rr < 0)
			return -1;
		if (!l->scan.torn)
			return 0;
		char msg[200];
		snprintf(msg, sizeof msg, "torn tail: %lld bytes at offset %lld are not a whole decision; run 'wr-ledger repair'",
			 (long long)(l->scan.end - l->scan.off), (long long)l->scan.off);
		problem(c, l->path, l->scan.line, 1, NULL, msg, "torn");
		return 0;
	}
	wr_warn("%s: the last %lld bytes (offset %lld) are not a whole decision yet, and the lock is %s: a commit may "
		"be under way (not counted; run verify again later)",
		l->path, (long long)(l->scan.end - l->scan.off), (long long)l->scan.off,
		got == 0 ? "held by a writer" : "not available to check");
	return 0;
}

/* Events stamped ahead of this host's clock: said once, with the first. */
static void note_future(struct check *c)
{
	const struct wr_future *f = &c->l->future;
	if (!f->events)
		return;
	char d[32], msg[600];
	snprintf(msg, sizeof msg,
		 "clock skew: seq %lld (%s by %s%s%s) is stamped ahead of this host's clock (%lld event%s, up to %s "
		 "ahead); decisions go by this host's clock",
		 (long long)f->seq, f->type, f->by, f->host[0] ? " on host " : "", f->host, (long long)f->events,
		 f->events == 1 ? "" : "s", wr_dur_format(f->skew_ms, d, sizeof d));
	struct wr_problem p = {c->l->path, f->line, 1, "ts", "clock_skew", msg, f->host[0] ? f->host : NULL, f->skew_ms};
	c->v->on_problem(c->v->ctx, &p);
}

/* Orphan segments, looked for only with the lock free (taken without
 * waiting): a compaction under way has a segment no marker reaches yet. */
static void check_orphans(struct check *c)
{
	struct wr_ledger *l = c->l;
	size_t n;
	char *broken;
	char **o = wr_ledger_orphans(l->path, &n, &broken);
	if (!n && !broken)
		return; /* the usual case: nothing to confirm */
	for (size_t i = 0; i < n; i++)
		free(o[i]);
	free(o);
	free(broken);
	int got = wr_ledger_trylock(l);
	if (got != 1) {
		wr_warn("%s: %zu archive segment%s may be orphans, not confirmed: the lock is %s", l->path, n,
			n == 1 ? "" : "s", got == 0 ? "held by a writer" : "not available");
		return;
	}
	o = wr_ledger_orphans(l->path, &n, &broken);
	wr_ledger_unlock(l);
	if (broken) {
		char msg[4200];
		snprintf(msg, sizeof msg, "the archive chain is broken: %s", broken);
		problem(c, l->path, 0, 0, NULL, msg, "archive");
		free(broken);
	}
	for (size_t i = 0; i < n; i++) {
		problem(c, o[i], 0, 0, NULL,
			"orphan archive segment: no compaction marker reaches it (a killed compaction's leftover; its "
			"events are in the chain or the ledger); 'wr-ledger repair' removes it",
			"orphan");
		free(o[i]);
	}
	free(o);
}

/* deep: the state a snapshot gives (what every tool starts from) against
 * the full replay just done; an in-place edit the snapshot's sampled
 * hashes miss shows here. */
static int check_deep(struct check *c)
{
	struct wr_ledger *l = c->l, s;
	if (wr_ledger_open(&s, l->path, WR_LEDGER_QUIET) < 0)
		return -1;
	if (!s.snap_loaded) {
		wr_warn("%s: --deep: no snapshot matches the ledger; nothing to compare with the replay", l->path);
	} else if (s.store.dev != l->store.dev || s.store.ino != l->store.ino || s.scan.off != l->scan.off) {
		wr_warn("%s: --deep: the ledger changed while it was read; run verify --deep again", l->path);
	} else {
		struct wr_buf out = {0};
		size_t n = wr_state_diff(&s.st, "snapshot", &l->st, "replay", 20, &out);
		if (wr_cold_damaged(s.st.cold)) {
			char *cold = wr_xasprintf("%s.cold.*", l->path);
			problem(c, cold, 0, 0, NULL,
				"a cached run of the snapshot fails its hash (a damaged segment); delete "
				"the snapshot to rebuild it", "deep");
			free(cold);
		}
		if (n) {
			char *snap = wr_xasprintf("%s.snapshot", l->path);
			char *msg = wr_xasprintf("the state from the snapshot differs from a full replay in %zu place%s "
						 "(the ledger was changed in place, or the snapshot is wrong; delete it "
						 "to rebuild it):\n%s",
						 n, n == 1 ? "" : "s", wr_buf_str(&out));
			if (msg[strlen(msg) - 1] == '\n')
				msg[strlen(msg) - 1] = 0;
			problem(c, snap, 0, 0, NULL, msg, "deep");
			free(msg);
			free(snap);
		}
		wr_buf_free(&out);
	}
	wr_ledger_close(&s);
	return 0;
}

int wr_verify_run(struct wr_ledger *l, struct wr_verify *v)
{
	struct check c = {l, v};
	wr_ledger_on_error(l, on_error, &c);
	wr_ledger_on_events(l, on_events, &c);
	/* The callbacks stay for the tail's second look: what a writer
	 * committed meanwhile is checked too. */
	int rr = wr_ledger_refresh(l);
	if (rr >= 0 && l->scan.torn)
		rr = check_tail(&c);
	wr_ledger_on_error(l, NULL, NULL);
	wr_ledger_on_events(l, NULL, NULL);
	if (rr < 0)
		return -1;
	note_future(&c);
	check_orphans(&c);
	return v->deep ? check_deep(&c) : 0;
}

json_t *wr_problem_json(const struct wr_problem *p)
{
	json_t *o = json_object();
	wr_jset_str(o, "file", p->file);
	wr_jset(o, "line", p->line ? json_integer(p->line) : json_null());
	wr_jset(o, "column", p->line ? json_integer(p->column) : json_null());
	wr_jset(o, "field", p->field && *p->field ? json_string(p->field) : json_null());
	wr_jset_str(o, "kind", p->kind);
	wr_jset_str(o, "message", p->msg);
	if (!strcmp(p->kind, "clock_skew")) {
		wr_jset(o, "host", p->host ? json_string(p->host) : json_null());
		wr_jset_int(o, "skew_ms", p->skew_ms);
	}
	return o;
}

void wr_problem_text(struct wr_buf *b, const struct wr_problem *p)
{
	if (p->line) {
		wr_buf_addf(b, "%s:%lld:%d: ", p->file, (long long)p->line, p->column);
		wr_buf_addclean(b, p->msg);
	} else {
		wr_buf_addf(b, "%s: %s", p->file, p->msg);
	}
	wr_buf_addstr(b, "\n");
}
