/* stats.c - per-workflow figures: a fold of the state plus a few events. */
#include "stats.h"
#include "timefmt.h"
#include "util.h"

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


static void add_agent(struct acc *a, const struct wr_attempt *t)
{
	if (!t->turns && !t->tool_calls && !json_object_size(t->metrics))
		return;
	a->agent_attempts++;
	a->turns = wr_add_sat(a->turns, t->turns);
	a->tool_calls = wr_add_sat(a->tool_calls, t->tool_calls);
	const char *k;
	json_t *v;
	json_object_foreach(t->metrics, k, v)
	{
		if (!a->metrics)
			a->metrics = json_object();
		json_t *cur = json_object_get(a->metrics, k);
		wr_jset(a->metrics, k, json_integer(wr_add_sat(cur ? json_integer_value(cur) : 0, json_integer_value(v))));
	}
}

static json_t *rate(int64_t num, int64_t den)
{
	return den ? json_real((double)num / (double)den) : json_null();
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
	json_t *ag = json_object();
	wr_jset_int(ag, "attempts", a->agent_attempts);
	wr_jset_int(ag, "turns", a->turns);
	wr_jset_int(ag, "tool_calls", a->tool_calls);
	wr_jset(ag, "metrics", a->metrics ? json_incref(a->metrics) : json_object());
	wr_jset(o, "agent", ag);
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
		accs[i].name = st->workflows.ent[i].key;
		wr_map_put(&byname, accs[i].name, &accs[i]);
	}
	for (size_t i = 0; i < st->runs.n; i++) {
		const struct wr_run *r = st->runs.ent[i].val;
		struct acc *a = wr_map_get(&byname, r->workflow);
		if (a && r->created_ts >= s->since && (!s->labels || wr_label_filter_match(s->labels, r->labels)))
			add_run(s, a, r);
	}
	wr_map_free(&byname, NULL);
	for (size_t k = 0; k < nw; k++) {
		int64_t *c = wr_map_get(&s->opens, accs[k].name);
		accs[k].opens = c ? *c : 0;
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
