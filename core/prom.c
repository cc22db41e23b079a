/* prom.c - Prometheus text exposition of the state: one pass over the
 * runs gathers the per-workflow figures, then each metric family is
 * written whole (HELP, TYPE, its samples), workflows in name order. */
#include "prom.h"

#include <stdlib.h>
#include <string.h>

#include "decide_check.h"
#include "stats.h"

struct wf {
	const struct wr_workflow *w;
	int64_t live[WR_ST__COUNT];
	int64_t last_attempt, last_success;
	int64_t *dur;
	size_t ndur, capdur;
	int64_t dur_sum;
	int64_t outbox[WR_OB_ACKED + 1];
};


/* The statuses that wr_runs reports: those a run is in until it ends. */
static const enum wr_status live_status[] = {WR_ST_RUNNING, WR_ST_RETRY_WAIT, WR_ST_BLOCKED};

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct wr_buf *b, const char *s)
{
	wr_buf_addstr(b, "\"");
	for (; *s; s++) {
		if (*s == '\\')
			wr_buf_addstr(b, "\\\\");
		else if (*s == '"')
			wr_buf_addstr(b, "\\\"");
		else if (*s == '\n')
			wr_buf_addstr(b, "\\n");
		else
			wr_buf_add(b, s, 1);
	}
	wr_buf_addstr(b, "\"");
}

static void family(struct wr_buf *b, const char *name, const char *type, const char *help)
{
	wr_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{workflow="..."[,key="val"]} */
static void sample_head(struct wr_buf *b, const char *name, const char *wf, const char *key, const char *val)
{
	wr_buf_addf(b, "%s{workflow=", name);
	label_value(b, wf);
	if (key) {
		wr_buf_addf(b, ",%s=", key);
		label_value(b, val);
	}
	wr_buf_addstr(b, "}");
}

static void sample_int(struct wr_buf *b, const char *name, const char *wf, const char *key, const char *val,
		       int64_t v)
{
	sample_head(b, name, wf, key, val);
	wr_buf_addf(b, " %lld\n", (long long)v);
}

static void sample_secs(struct wr_buf *b, const char *name, const char *wf, const char *key, const char *val,
			int64_t ms)
{
	sample_head(b, name, wf, key, val);
	wr_buf_addf(b, " %lld.%03lld\n", (long long)(ms / 1000), (long long)(ms % 1000));
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_wf(const void *a, const void *b)
{
	return strcmp(((const struct wf *)a)->w->name, ((const struct wf *)b)->w->name);
}

static void add_run(struct wf *f, const struct wr_run *r)
{
	for (size_t k = 0; k < sizeof live_status / sizeof *live_status; k++)
		if (r->status == live_status[k])
			f->live[r->status]++;
	for (size_t i = 0; i < r->natt; i++) {
		const struct wr_attempt *t = &r->att[i];
		if (t->started_ts > f->last_attempt)
			f->last_attempt = t->started_ts;
		if (!t->finished || t->outcome != WR_OUT_SUCCESS)
			continue;
		if (t->finished_ts > f->last_success)
			f->last_success = t->finished_ts;
		WR_GROW(f->dur, f->capdur, f->ndur + 1);
		f->dur[f->ndur++] = t->duration_ms;
		f->dur_sum += t->duration_ms;
	}
}

/* The per-workflow figures, sorted by name, *n of them; when *none, the
 * outbox counts of entries of no workflow follow in fs[*n]. */
static struct wf *gather(const struct wr_state *st, const char *workflow, size_t *n, int *none)
{
	struct wf *fs = wr_xcalloc(st->workflows.n + 1, sizeof *fs);
	struct wr_map byname = {0};
	size_t nf = 0;
	for (size_t i = 0; i < st->workflows.n; i++) {
		const struct wr_workflow *w = wr_map_at(&st->workflows, i);
		if (workflow && strcmp(workflow, w->name))
			continue;
		fs[nf].w = w;
		wr_map_put(&byname, w->name, &fs[nf++]);
	}
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *r; (r = wr_runs_next(&it));) {
		struct wf *f = wr_map_get(&byname, r->workflow);
		if (f)
			add_run(f, r);
	}
	/* After the workflows, once sorted: the entries of no workflow
	 * (wr-outbox add without --workflow), counted unless one is asked for. */
	struct wf *nobody = &fs[st->workflows.n];
	for (size_t i = 0; i < wr_state_outboxes(st)->n; i++) {
		const struct wr_outbox *o = wr_map_at(wr_state_outboxes(st), i);
		struct wf *f = o->workflow && *o->workflow ? wr_map_get(&byname, o->workflow) : NULL;
		if (f)
			f->outbox[o->state]++;
		else if (!workflow && !(o->workflow && *o->workflow))
			nobody->outbox[o->state]++;
	}
	wr_map_free(&byname, NULL);
	qsort(fs, nf, sizeof *fs, cmp_wf);
	if (nobody != &fs[nf])
		fs[nf] = *nobody;
	*n = nf;
	*none = !workflow;
	return fs;
}

static void write_counters(struct wr_buf *b, const struct wf *fs, size_t n)
{
	family(b, "wr_runs_total", "counter", "Runs created.");
	for (size_t i = 0; i < n; i++)
		sample_int(b, "wr_runs_total", fs[i].w->name, NULL, NULL, fs[i].w->runs);
	family(b, "wr_attempts_total", "counter", "Attempts finished, by outcome.");
	for (size_t i = 0; i < n; i++)
		for (int o = 1; o < WR_OUT__COUNT; o++)
			sample_int(b, "wr_attempts_total", fs[i].w->name, "outcome",
				   wr_outcome_name((enum wr_outcome)o), fs[i].w->finished[o]);
	family(b, "wr_breaker_opens_total", "counter", "Times the circuit breaker opened.");
	for (size_t i = 0; i < n; i++)
		sample_int(b, "wr_breaker_opens_total", fs[i].w->name, NULL, NULL, fs[i].w->opens);
}

/* An agent's totals (progress protocol 2), when any workflow has them. */
static void write_agent(struct wr_buf *b, const struct wf *fs, size_t n)
{
	size_t any = 0;
	for (size_t i = 0; i < n; i++)
		any += fs[i].w->agent_attempts > 0;
	if (!any)
		return;
	family(b, "wr_agent_attempts_total", "counter",
	       "Finished attempts that reported turns, tool calls or metrics.");
	for (size_t i = 0; i < n; i++)
		sample_int(b, "wr_agent_attempts_total", fs[i].w->name, NULL, NULL, fs[i].w->agent_attempts);
	family(b, "wr_agent_turns_total", "counter", "Turns of agent sessions, over finished attempts.");
	for (size_t i = 0; i < n; i++)
		sample_int(b, "wr_agent_turns_total", fs[i].w->name, NULL, NULL, fs[i].w->agent_turns);
	family(b, "wr_agent_tool_calls_total", "counter", "Tool calls of agent sessions, over finished attempts.");
	for (size_t i = 0; i < n; i++)
		sample_int(b, "wr_agent_tool_calls_total", fs[i].w->name, NULL, NULL, fs[i].w->agent_tool_calls);
	family(b, "wr_agent_metric_total", "counter",
	       "Metrics agent sessions reported (e.g. tokens), summed over finished attempts.");
	for (size_t i = 0; i < n; i++) {
		const char *k;
		json_t *v;
		json_object_foreach(fs[i].w->agent_metrics, k, v)
			sample_int(b, "wr_agent_metric_total", fs[i].w->name, "metric", k, json_integer_value(v));
	}
}

static void write_gauges(struct wr_buf *b, const struct wf *fs, size_t n, int none)
{
	family(b, "wr_runs", "gauge", "Runs running, waiting to retry or blocked (escalated to a human).");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof live_status / sizeof *live_status; k++)
			sample_int(b, "wr_runs", fs[i].w->name, "status", wr_status_name(live_status[k]),
				   fs[i].live[live_status[k]]);
	family(b, "wr_last_attempt_timestamp_seconds", "gauge", "Start of the latest attempt, in seconds since the epoch.");
	for (size_t i = 0; i < n; i++)
		if (fs[i].last_attempt)
			sample_secs(b, "wr_last_attempt_timestamp_seconds", fs[i].w->name, NULL, NULL,
				    fs[i].last_attempt);
	family(b, "wr_last_success_timestamp_seconds", "gauge",
	       "End of the latest successful attempt, in seconds since the epoch.");
	for (size_t i = 0; i < n; i++)
		if (fs[i].last_success)
			sample_secs(b, "wr_last_success_timestamp_seconds", fs[i].w->name, NULL, NULL,
				    fs[i].last_success);
	family(b, "wr_breaker_state", "gauge", "1 for the circuit breaker's state now, 0 for the others.");
	static const enum wr_breaker_state br[] = {WR_BR_CLOSED, WR_BR_OPEN, WR_BR_HALF_OPEN};
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 3; k++)
			sample_int(b, "wr_breaker_state", fs[i].w->name, "state", wr_breaker_name(br[k]),
				   fs[i].w->breaker == br[k]);
	family(b, "wr_breaker_open_until_timestamp_seconds", "gauge",
	       "When an open circuit breaker lets a trial attempt through, in seconds since the epoch.");
	for (size_t i = 0; i < n; i++)
		if (fs[i].w->breaker == WR_BR_OPEN)
			sample_secs(b, "wr_breaker_open_until_timestamp_seconds", fs[i].w->name, NULL, NULL,
				    fs[i].w->open_until);
	family(b, "wr_outbox_entries", "gauge",
	       "Notifications in the outbox, by state (workflow \"\" for those of no workflow).");
	for (size_t i = 0; i < n + (none ? 1 : 0); i++)
		for (int s = WR_OB_PENDING; s <= WR_OB_ACKED; s++)
			sample_int(b, "wr_outbox_entries", i < n ? fs[i].w->name : "", "state",
				   wr_outbox_state_name((enum wr_outbox_state)s), fs[i].outbox[s]);
}

/* The expected schedules (wr-watch expect), as of now: overdue is what
 * wr-watch status and check would say, recorded or not. */
static void write_expected(struct wr_buf *b, const struct wf *fs, size_t n, int64_t now)
{
	static const char *const names[] = {"wr_workflow_overdue", "wr_workflow_overdue_periods",
					    "wr_workflow_expected_every_seconds", "wr_workflow_expected_grace_seconds",
					    "wr_workflow_next_due_timestamp_seconds"};
	static const char *const helps[] = {
		"1 while no attempt succeeded within every + grace of the last success (wr-watch expect), else 0.",
		"Periods missed since the last success (0: not overdue).",
		"The expected schedule's period.",
		"The expected schedule's grace.",
		"When the next success is due (wr-watch expect's NEXT DUE), in seconds since the epoch."};
	size_t any = 0;
	for (size_t i = 0; i < n; i++)
		any += fs[i].w->expect_every_ms > 0;
	for (size_t k = 0; any && k < sizeof names / sizeof *names; k++) {
		family(b, names[k], "gauge", helps[k]);
		for (size_t i = 0; i < n; i++) {
			const struct wr_workflow *w = fs[i].w;
			if (w->expect_every_ms <= 0)
				continue;
			int64_t due, missed = wr_expect_missed(w, now, &due);
			if (k < 2)
				sample_int(b, names[k], w->name, NULL, NULL, k == 0 ? missed > 0 : missed);
			else
				sample_secs(b, names[k], w->name, NULL, NULL,
					    k == 2 ? w->expect_every_ms : k == 3 ? w->expect_grace_ms
						   : missed ? due + w->expect_every_ms : due);
		}
	}
}

static void write_durations(struct wr_buf *b, struct wf *fs, size_t n)
{
	family(b, "wr_attempt_duration_seconds", "summary",
	       "Duration of the successful attempts in the ledger (nearest-rank quantiles).");
	for (size_t i = 0; i < n; i++) {
		struct wf *f = &fs[i];
		if (f->ndur) {
			qsort(f->dur, f->ndur, sizeof *f->dur, cmp_i64);
			sample_secs(b, "wr_attempt_duration_seconds", f->w->name, "quantile", "0.5",
				    wr_percentile(f->dur, f->ndur, 50));
			sample_secs(b, "wr_attempt_duration_seconds", f->w->name, "quantile", "0.95",
				    wr_percentile(f->dur, f->ndur, 95));
		}
		sample_secs(b, "wr_attempt_duration_seconds_sum", f->w->name, NULL, NULL, f->dur_sum);
		sample_int(b, "wr_attempt_duration_seconds_count", f->w->name, NULL, NULL, (int64_t)f->ndur);
	}
}

static void write_ledger(struct wr_buf *b, const struct wr_state *st)
{
	family(b, "wr_ledger_events_total", "counter", "Events in the ledger, compacted ones included.");
	wr_buf_addf(b, "wr_ledger_events_total %lld\n", (long long)st->events);
	family(b, "wr_ledger_stale_events_total", "counter",
	       "Events fenced off as stale (from a superseded or finished attempt).");
	wr_buf_addf(b, "wr_ledger_stale_events_total %lld\n", (long long)st->stale);
	family(b, "wr_ledger_invalid_events_total", "counter", "Events that break an invariant (wr-ledger verify).");
	wr_buf_addf(b, "wr_ledger_invalid_events_total %lld\n", (long long)st->invalid);
}

void wr_prom_write(struct wr_buf *b, const struct wr_state *st, const char *workflow, int64_t now)
{
	size_t n;
	int none;
	struct wf *fs = gather(st, workflow, &n, &none);
	write_counters(b, fs, n);
	write_agent(b, fs, n);
	write_gauges(b, fs, n, none);
	write_expected(b, fs, n, now);
	write_durations(b, fs, n);
	write_ledger(b, st);
	for (size_t i = 0; i < n; i++)
		free(fs[i].dur);
	free(fs);
}
