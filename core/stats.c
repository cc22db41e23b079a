/* stats.c - per-workflow figures: a fold of the state plus a few events. */
#include "stats.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"
#include "words.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { ACT_RETRY, ACT_ESCALATE, ACT_NONE, ACT__COUNT };
static const char *const act_names[ACT__COUNT] = {"retry", "escalate", "none"};

struct decision {
	int action;
	int64_t attempt;          /* the attempt it was about */
};

struct wr_stats_decisions {
	struct decision *d;
	size_t n, cap;
};

void wr_stats_init(struct wr_stats *s, int64_t since)
{
	memset(s, 0, sizeof *s);
	s->since = since;
}

static void free_decisions(void *p)
{
	struct wr_stats_decisions *d = p;
	free(d->d);
	free(d);
}

void wr_stats_free(struct wr_stats *s)
{
	wr_map_free(&s->decisions, free_decisions);
	wr_map_free(&s->opens, free);
}

void wr_stats_on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			const char *const *why, int64_t line)
{
	struct wr_stats *s = ctx;
	(void)why;
	(void)line;
	for (size_t i = 0; i < n; i++) {
		const struct wr_event *ev = &evs[i];
		/* Only what the reducer accepted counts: a stale decision was
		 * never acted upon. */
		if (applied[i] != WR_APPLY_OK)
			continue;
		if (ev->type == WR_EV_BREAKER_CHANGED) {
			const char *to = wr_ev_str(ev, "to");
			if (!to || strcmp(to, "open") || ev->ts < s->since)
				continue;
			int64_t *c = wr_map_get(&s->opens, ev->workflow);
			if (!c) {
				c = wr_xcalloc(1, sizeof *c);
				wr_map_put(&s->opens, ev->workflow, c);
			}
			(*c)++;
		} else if (ev->type == WR_EV_RECOVERY_DECIDED) {
			const char *act = wr_ev_str(ev, "action");
			int a = ACT_NONE;
			for (int k = 0; k < ACT__COUNT; k++)
				if (act && !strcmp(act, act_names[k]))
					a = k;
			int64_t about = ev->attempt;
			if (!about) {
				/* Not said: the reducer took the run's latest attempt. */
				const struct wr_run *r = s->st ? wr_state_run(s->st, ev->run) : NULL;
				about = r ? r->decided_attempt : 0;
			}
			struct wr_stats_decisions *d = wr_map_get(&s->decisions, ev->run);
			if (!d) {
				d = wr_xcalloc(1, sizeof *d);
				wr_map_put(&s->decisions, ev->run, d);
			}
			WR_GROW(d->d, d->cap, d->n + 1);
			d->d[d->n].action = a;
			d->d[d->n].attempt = about;
			d->n++;
		}
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int64_t wr_percentile(const int64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	double rank = ceil(p / 100.0 * (double)n);
	size_t k = rank < 1 ? 1 : (size_t)rank;
	if (k > n)
		k = n;
	return v[k - 1];
}

struct acc {
	const char *name;
	int64_t runs, by_status[WR_ST__COUNT], attempts, runs_with_attempts;
	int64_t outcomes[WR_OUT__COUNT];
	int64_t *dur;
	size_t ndur, capdur;
	int64_t recovered, recover_ms;
	int64_t dec[ACT__COUNT], dec_ok[ACT__COUNT];
	int64_t stale, opens;
	int64_t agent_attempts, turns, tool_calls;
	json_t *metrics;          /* name -> sum; NULL none */
};


static void add_agent_sums(struct acc *a, int64_t turns, int64_t tool_calls, json_t *metrics)
{
	a->turns = wr_add_sat(a->turns, turns);
	a->tool_calls = wr_add_sat(a->tool_calls, tool_calls);
	const char *k;
	json_t *v;
	json_object_foreach(metrics, k, v)
	{
		if (!a->metrics)
			a->metrics = json_object();
		json_t *cur = json_object_get(a->metrics, k);
		wr_jset(a->metrics, k, json_integer(wr_add_sat(cur ? json_integer_value(cur) : 0, json_integer_value(v))));
	}
}

static void add_agent(struct acc *a, const struct wr_attempt *t)
{
	if (!t->turns && !t->tool_calls && !json_object_size(t->metrics))
		return;
	a->agent_attempts++;
	add_agent_sums(a, t->turns, t->tool_calls, t->metrics);
}

static json_t *rate(int64_t num, int64_t den)
{
	return den ? json_real((double)num / (double)den) : json_null();
}

static json_t *agent_json(const struct acc *a)
{
	json_t *ag = json_object();
	wr_jset_int(ag, "attempts", a->agent_attempts);
	wr_jset_int(ag, "turns", a->turns);
	wr_jset_int(ag, "tool_calls", a->tool_calls);
	wr_jset(ag, "metrics", a->metrics ? json_incref(a->metrics) : json_object());
	return ag;
}

static json_t *acc_json(struct acc *a, int64_t since, const struct wr_workflow *w)
{
	json_t *o = json_object();
	char b[WR_TS_LEN];
	wr_jset_str(o, "workflow", a->name);
	wr_jset(o, "since", since ? json_string(wr_ts_format(since, b)) : json_null());
	wr_jset_int(o, "runs", a->runs);
	json_t *st = json_object();
	for (int i = 0; i < WR_ST__COUNT; i++)
		wr_jset_int(st, wr_status_name((enum wr_status)i), a->by_status[i]);
	wr_jset(o, "status", st);
	/* A rejected run never ran: it is not a failure of the work. */
	int64_t ended = a->by_status[WR_ST_SUCCEEDED] + a->by_status[WR_ST_FAILED] + a->by_status[WR_ST_BLOCKED] +
			a->by_status[WR_ST_CANCELLED];
	wr_jset(o, "success_rate", rate(a->by_status[WR_ST_SUCCEEDED], ended));
	wr_jset_int(o, "attempts", a->attempts);
	wr_jset(o, "attempts_per_run", rate(a->attempts, a->runs_with_attempts));
	json_t *oc = json_object();
	for (int i = 1; i < WR_OUT__COUNT; i++)
		wr_jset_int(oc, wr_outcome_name((enum wr_outcome)i), a->outcomes[i]);
	wr_jset(o, "outcomes", oc);
	if (a->ndur) /* qsort(NULL, 0) is undefined */
		qsort(a->dur, a->ndur, sizeof *a->dur, cmp_i64);
	json_t *d = json_object();
	wr_jset_int(d, "count", (int64_t)a->ndur);
	wr_jset(d, "p50", a->ndur ? json_integer(wr_percentile(a->dur, a->ndur, 50)) : json_null());
	wr_jset(d, "p95", a->ndur ? json_integer(wr_percentile(a->dur, a->ndur, 95)) : json_null());
	wr_jset(o, "duration_ms", d);
	wr_jset(o, "mttr_ms", a->recovered ? json_integer(a->recover_ms / a->recovered) : json_null());
	wr_jset_int(o, "recovered", a->recovered);
	json_t *rc = json_object();
	for (int i = 0; i < ACT__COUNT; i++) {
		json_t *x = json_object();
		wr_jset_int(x, "decisions", a->dec[i]);
		wr_jset_int(x, "succeeded", a->dec_ok[i]);
		wr_jset(x, "success_rate", rate(a->dec_ok[i], a->dec[i]));
		wr_jset(rc, act_names[i], x);
	}
	wr_jset(o, "recoveries", rc);
	wr_jset_int(o, "stuck", a->outcomes[WR_OUT_STUCK]);
	wr_jset_int(o, "timeout", a->outcomes[WR_OUT_TIMEOUT]);
	wr_jset_int(o, "lost", a->outcomes[WR_OUT_LOST]);
	wr_jset_int(o, "stale_events", a->stale);
	wr_jset_int(o, "breaker_opens", a->opens);
	wr_jset_str(o, "breaker", wr_breaker_name(w ? w->breaker : WR_BR_CLOSED));
	wr_jset(o, "agent", agent_json(a));
	return o;
}

static void add_run(const struct wr_stats *s, struct acc *a, const struct wr_run *r)
{
	a->runs++;
	a->by_status[r->status]++;
	a->attempts += (int64_t)r->natt;
	if (r->natt)
		a->runs_with_attempts++;
	a->stale += r->stale;
	const struct wr_attempt *last = NULL;
	for (size_t i = 0; i < r->natt; i++) {
		const struct wr_attempt *t = &r->att[i];
		add_agent(a, t);
		if (!t->finished)
			continue;
		a->outcomes[t->outcome]++;
		if (t->outcome == WR_OUT_SUCCESS) {
			WR_GROW(a->dur, a->capdur, a->ndur + 1);
			a->dur[a->ndur++] = t->duration_ms;
			last = t;
		}
	}
	if (r->status == WR_ST_SUCCEEDED && r->first_failure_ts && last && last->finished_ts >= r->first_failure_ts) {
		a->recovered++;
		a->recover_ms += last->finished_ts - r->first_failure_ts;
	}
	const struct wr_stats_decisions *d = wr_map_get(&s->decisions, r->id);
	for (size_t i = 0; d && i < d->n; i++) {
		int64_t about = d->d[i].attempt;
		a->dec[d->d[i].action]++;
		/* attempt n+1 is att[n] */
		if (about > 0 && (size_t)about < r->natt && r->att[about].finished &&
		    r->att[about].outcome == WR_OUT_SUCCESS)
			a->dec_ok[d->d[i].action]++;
	}
}

/* ---- archived totals ------------------------------------------------
 *
 * Compaction moves ended runs to archive segments, which may be deleted
 * later; their figures stay in the workflow's "archived" object (kept by
 * the marker's seed and by snapshots), the fields of struct acc:
 *   {"runs":N,"status":{NAME:N},"attempts":N,"runs_with_attempts":N,
 *    "outcomes":{NAME:N},"durations":[[MS,COUNT],...],"recovered":N,
 *    "recover_ms":N,"recoveries":{ACTION:[DECISIONS,SUCCEEDED]},"stale":N,
 *    "agent":{"attempts":N,"turns":N,"tool_calls":N,"metrics":{NAME:N}}}
 * Durations are exact up to WR_ARCHIVE_DURATIONS distinct values; past
 * that they are rounded to 3 significant digits. */
#define WR_ARCHIVE_DURATIONS 4096
#define WR_ARCHIVE_DURATIONS_MAX ((size_t)1 << 26)

static int64_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* Adds the archived totals j to a. */
static void acc_add_archived(struct acc *a, json_t *j)
{
	if (!json_is_object(j))
		return;
	a->runs += jint(j, "runs");
	for (int i = 0; i < WR_ST__COUNT; i++)
		a->by_status[i] += jint(json_object_get(j, "status"), wr_status_name((enum wr_status)i));
	a->attempts += jint(j, "attempts");
	a->runs_with_attempts += jint(j, "runs_with_attempts");
	for (int i = 1; i < WR_OUT__COUNT; i++)
		a->outcomes[i] += jint(json_object_get(j, "outcomes"), wr_outcome_name((enum wr_outcome)i));
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(j, "durations"), i, p)
	{
		int64_t v = json_integer_value(json_array_get(p, 0)), n = json_integer_value(json_array_get(p, 1));
		for (; n > 0 && a->ndur < WR_ARCHIVE_DURATIONS_MAX; n--) { /* a hostile marker's counts */
			WR_GROW(a->dur, a->capdur, a->ndur + 1);
			a->dur[a->ndur++] = v;
		}
	}
	a->recovered += jint(j, "recovered");
	a->recover_ms += jint(j, "recover_ms");
	for (int k = 0; k < ACT__COUNT; k++) {
		json_t *d = json_object_get(json_object_get(j, "recoveries"), act_names[k]);
		a->dec[k] += json_integer_value(json_array_get(d, 0));
		a->dec_ok[k] += json_integer_value(json_array_get(d, 1));
	}
	a->stale += jint(j, "stale");
	json_t *ag = json_object_get(j, "agent");
	a->agent_attempts = wr_add_sat(a->agent_attempts, jint(ag, "attempts"));
	add_agent_sums(a, jint(ag, "turns"), jint(ag, "tool_calls"), json_object_get(ag, "metrics"));
}

static int64_t round3(int64_t v)
{
	int64_t m = 1;
	while (v / m >= 1000)
		m *= 10;
	return (v + m / 2) / m * m;
}

/* The durations of a as [[ms, count], ...], ascending. */
static json_t *durations_json(struct acc *a)
{
	if (a->ndur)
		qsort(a->dur, a->ndur, sizeof *a->dur, cmp_i64);
	size_t distinct = 0;
	for (size_t i = 0; i < a->ndur; i++)
		distinct += !i || a->dur[i] != a->dur[i - 1];
	if (distinct > WR_ARCHIVE_DURATIONS) {
		for (size_t i = 0; i < a->ndur; i++)
			a->dur[i] = round3(a->dur[i]);
		qsort(a->dur, a->ndur, sizeof *a->dur, cmp_i64);
	}
	json_t *out = json_array();
	for (size_t i = 0; i < a->ndur;) {
		size_t k = i;
		while (k < a->ndur && a->dur[k] == a->dur[i])
			k++;
		json_array_append_new(out, json_pack("[II]", (json_int_t)a->dur[i], (json_int_t)(k - i)));
		i = k;
	}
	return out;
}

static json_t *archived_json(struct acc *a)
{
	json_t *o = json_object();
	wr_jset_int(o, "runs", a->runs);
	json_t *st = json_object();
	for (int i = 0; i < WR_ST__COUNT; i++)
		if (a->by_status[i])
			wr_jset_int(st, wr_status_name((enum wr_status)i), a->by_status[i]);
	wr_jset(o, "status", st);
	wr_jset_int(o, "attempts", a->attempts);
	wr_jset_int(o, "runs_with_attempts", a->runs_with_attempts);
	json_t *oc = json_object();
	for (int i = 1; i < WR_OUT__COUNT; i++)
		if (a->outcomes[i])
			wr_jset_int(oc, wr_outcome_name((enum wr_outcome)i), a->outcomes[i]);
	wr_jset(o, "outcomes", oc);
	wr_jset(o, "durations", durations_json(a));
	wr_jset_int(o, "recovered", a->recovered);
	wr_jset_int(o, "recover_ms", a->recover_ms);
	json_t *rc = json_object();
	for (int k = 0; k < ACT__COUNT; k++)
		wr_jset(rc, act_names[k], json_pack("[II]", (json_int_t)a->dec[k], (json_int_t)a->dec_ok[k]));
	wr_jset(o, "recoveries", rc);
	wr_jset_int(o, "stale", a->stale);
	wr_jset(o, "agent", agent_json(a));
	return o;
}

json_t *wr_stats_archive(const struct wr_stats *s, const struct wr_state *st,
			 int (*archived)(const char *run, void *ctx), void *ctx)
{
	size_t nw = st->workflows.n;
	struct acc *accs = wr_xcalloc(nw ? nw : 1, sizeof *accs);
	struct wr_map byname = {0};
	for (size_t i = 0; i < nw; i++) {
		const struct wr_workflow *w = wr_map_at(&st->workflows, i);
		accs[i].name = w->name;
		wr_map_put(&byname, w->name, &accs[i]);
	}
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *r; (r = wr_runs_next(&it));) {
		struct acc *a = wr_map_get(&byname, r->workflow);
		if (a && archived(r->id, ctx)) {
			a->name = NULL; /* marks a workflow with runs to archive */
			add_run(s, a, r);
		}
	}
	wr_map_free(&byname, NULL);
	json_t *out = json_object();
	for (size_t i = 0; i < nw; i++) {
		const struct wr_workflow *w = wr_map_at(&st->workflows, i);
		struct acc *a = &accs[i];
		if (!a->name) {
			acc_add_archived(a, w->archived);
			wr_jset(out, w->name, archived_json(a));
		}
		free(a->dur);
		json_decref(a->metrics);
	}
	free(accs);
	return out;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct acc *)a)->name, ((const struct acc *)b)->name);
}

json_t *wr_stats_workflows(const struct wr_stats *s, const struct wr_state *st, const char *workflow)
{
	size_t nw = st->workflows.n;
	struct acc *accs = wr_xcalloc(nw ? nw : 1, sizeof *accs);
	struct wr_map byname = {0};
	for (size_t i = 0; i < nw; i++) {
		accs[i].name = wr_map_key_at(&st->workflows, i);
		wr_map_put(&byname, accs[i].name, &accs[i]);
	}
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *r; (r = wr_runs_next(&it));) {
		struct acc *a = wr_map_get(&byname, r->workflow);
		if (a && r->created_ts >= s->since && (!s->labels || wr_label_filter_match(s->labels, r->labels)))
			add_run(s, a, r);
	}
	wr_map_free(&byname, NULL);
	/* All of history: the archived runs too, and every breaker opening
	 * (its events may be archived). A window or a label filter counts the
	 * runs of the live ledger only: archived runs keep no times or labels. */
	int whole = !s->since && !(s->labels && s->labels->n);
	for (size_t k = 0; k < nw; k++) {
		const struct wr_workflow *w = wr_state_workflow(st, accs[k].name);
		int64_t *c = wr_map_get(&s->opens, accs[k].name);
		accs[k].opens = c ? *c : 0;
		if (whole && w) {
			acc_add_archived(&accs[k], w->archived);
			if (w->opens > accs[k].opens)
				accs[k].opens = w->opens;
		}
	}
	qsort(accs, nw, sizeof *accs, cmp_name);
	json_t *out = json_array();
	for (size_t k = 0; k < nw; k++) {
		struct acc *a = &accs[k];
		int any = a->runs || (a->opens && !(s->labels && s->labels->n));
		if ((!workflow || !strcmp(workflow, a->name)) && any)
			json_array_append_new(out, acc_json(a, s->since, wr_state_workflow(st, a->name)));
		free(a->dur);
		json_decref(a->metrics);
	}
	free(accs);
	return out;
}

/* ---- for people ---- */

static void pct(struct wr_buf *b, json_t *rate)
{
	if (json_is_number(rate))
		wr_buf_addf(b, "%.1f%%", json_number_value(rate) * 100);
	else
		wr_buf_addstr(b, "-");
}

static int64_t geti(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);
	if (path2)
		v = json_object_get(v, path2);
	return json_integer_value(v);
}

/* The first line: the workflow's name, cut to fit cols when cols > 0,
 * and its breaker. */
static void stats_header(struct wr_buf *b, json_t *o, size_t cols)
{
	struct wr_buf name = {0};
	wr_buf_addclean(&name, json_string_value(json_object_get(o, "workflow")));
	char suffix[64];
	int sl = snprintf(suffix, sizeof suffix, "  (breaker %s)\n", json_string_value(json_object_get(o, "breaker")));
	size_t sw = sl > 0 ? (size_t)sl - 1 : 0;
	if (cols > sw + 1 && wr_text_width(wr_buf_str(&name)) + sw > cols) {
		char *cut = wr_text_fit(wr_buf_str(&name), cols - sw);
		wr_buf_addstr(b, cut);
		free(cut);
	} else {
		wr_buf_addstr(b, wr_buf_str(&name));
	}
	wr_buf_addstr(b, suffix);
	wr_buf_free(&name);
}

void wr_stats_text(struct wr_buf *b, json_t *o, size_t cols)
{
	char d1[32], d2[32];
	stats_header(b, o, cols);
	wr_buf_addf(b, "  runs        %lld", (long long)geti(o, "runs", NULL));
	json_t *st = json_object_get(o, "status");
	const char *k;
	json_t *v;
	const char *sep = ": ";
	json_object_foreach(st, k, v)
	{
		if (json_integer_value(v)) {
			wr_buf_addf(b, "%s%lld %s", sep, (long long)json_integer_value(v), k);
			sep = ", ";
		}
	}
	wr_buf_addstr(b, "; success ");
	pct(b, json_object_get(o, "success_rate"));
	wr_buf_addstr(b, " of ended runs\n");
	wr_buf_addf(b, "  attempts    %lld", (long long)geti(o, "attempts", NULL));
	json_t *apr = json_object_get(o, "attempts_per_run");
	if (json_is_number(apr))
		wr_buf_addf(b, ", %.2f per run", json_number_value(apr));
	sep = "; ";
	json_object_foreach(json_object_get(o, "outcomes"), k, v)
	{
		if (json_integer_value(v)) {
			wr_buf_addf(b, "%s%s %lld", sep, k, (long long)json_integer_value(v));
			sep = ", ";
		}
	}
	json_t *dur = json_object_get(o, "duration_ms");
	wr_buf_addstr(b, "\n  duration    ");
	if (geti(dur, "count", NULL))
		wr_buf_addf(b, "p50 %s, p95 %s of %lld successful attempt%s\n",
			    wr_dur_format(geti(dur, "p50", NULL), d1, sizeof d1),
			    wr_dur_format(geti(dur, "p95", NULL), d2, sizeof d2), (long long)geti(dur, "count", NULL),
			    geti(dur, "count", NULL) == 1 ? "" : "s");
	else
		wr_buf_addstr(b, "- (no successful attempt)\n");
	wr_buf_addstr(b, "  recovery    MTTR ");
	json_t *mttr = json_object_get(o, "mttr_ms");
	if (json_is_integer(mttr))
		wr_buf_addf(b, "%s over %lld recovered run%s", wr_dur_format(json_integer_value(mttr), d1, sizeof d1),
			    (long long)geti(o, "recovered", NULL), geti(o, "recovered", NULL) == 1 ? "" : "s");
	else
		wr_buf_addstr(b, "- (no run recovered)");
	json_object_foreach(json_object_get(o, "recoveries"), k, v)
	{
		int64_t n = geti(v, "decisions", NULL);
		if (!n)
			continue;
		wr_buf_addf(b, "; %s %lld (%lld ok, ", k, (long long)n, (long long)geti(v, "succeeded", NULL));
		pct(b, json_object_get(v, "success_rate"));
		wr_buf_addstr(b, ")");
	}
	wr_buf_addf(b, "\n  trouble     stuck %lld, timeout %lld, lost %lld, stale events %lld, breaker opens %lld\n",
		    (long long)geti(o, "stuck", NULL), (long long)geti(o, "timeout", NULL),
		    (long long)geti(o, "lost", NULL), (long long)geti(o, "stale_events", NULL),
		    (long long)geti(o, "breaker_opens", NULL));
	json_t *ag = json_object_get(o, "agent");
	if (geti(ag, "attempts", NULL)) {
		wr_buf_addf(b, "  agent       %lld attempt%s", (long long)geti(ag, "attempts", NULL),
			    geti(ag, "attempts", NULL) == 1 ? "" : "s");
		wr_words_agent(b, geti(ag, "turns", NULL), geti(ag, "tool_calls", NULL), json_object_get(ag, "metrics"));
		wr_buf_addstr(b, "\n");
	}
}
