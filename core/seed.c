/* seed.c - the state of a compacted ledger: its marker seeds workflows
 * and counters, and the kept events at or before it touch runs and outbox
 * entries only (core/compact.h describes the format). */
#include "seed.h"
#include "state_fields.h"
#include "err.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* ---- the marker's fields, from core/state_fields.h ----
 *
 * SEED_PUT_kind(j, x, member, key) sets key in the object j from the
 * record x; SEED_GET_kind reads it back; RESTORE_kind puts a counter back
 * as it was in the copy c. A kind no list of the marker uses is not
 * defined here: adding one to workflows or counters fails to compile
 * until it says how the marker holds it. */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *type_key(int t)
{
	return t ? wr_type_name((enum wr_type)t) : "unknown";
}

static const char *outcome_key(int o)
{
	return o ? wr_outcome_name((enum wr_outcome)o) : "none";
}

static int64_t geti(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* An object of counts by name (the nonzero ones), and read back. */
static json_t *counts_json(const int64_t *v, size_t n, const char *(*key)(int))
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		if (v[i])
			wr_jset_int(o, key((int)i), v[i]);
	return o;
}

static void counts_get(int64_t *v, size_t n, json_t *o, const char *(*key)(int))
{
	for (size_t i = 0; i < n; i++)
		v[i] = geti(o, key((int)i));
}

/* The breaker's window as a string of 0 and 1, oldest first. */
static void window_put(json_t *j, const char *key, const unsigned char *w, int n)
{
	char s[WR_BREAKER_WINDOW + 1];
	for (int k = 0; k < n; k++)
		s[k] = w[k] ? '1' : '0';
	s[n] = 0;
	wr_jset_str(j, key, s);
}

static void window_get(json_t *j, const char *key, unsigned char *w, int *n)
{
	const char *s = json_string_value(json_object_get(j, key));
	for (; s && *s && *n < WR_BREAKER_WINDOW; s++)
		w[(*n)++] = *s == '1';
}

/* An agent's metrics: integers only, at most WR_METRICS_MAX names. */
static json_t *metrics_get(json_t *m)
{
	json_t *out = NULL, *mv;
	const char *mk;
	json_object_foreach(m, mk, mv) if (json_is_integer(mv) && json_object_size(m) <= WR_METRICS_MAX)
	{
		if (!out)
			out = json_object();
		wr_jset(out, mk, json_incref(mv));
	}
	return out;
}

#define SEED_PUT_I64(j, x, m, key) wr_jset_int(j, key, x->m);
#define SEED_PUT_BOOL64 SEED_PUT_I64
#define SEED_PUT_LAST_TS SEED_PUT_I64
#define SEED_PUT_LOCAL(j, x, m, key)
#define SEED_PUT_COUNT SEED_PUT_LOCAL
#define SEED_PUT_NSTR(j, x, m, key) wr_jset_str(j, key, x->m);
#define SEED_PUT_BREAKER(j, x, m, key) wr_jset_str(j, key, wr_breaker_name(x->m));
#define SEED_PUT_WINDOW(j, x, m, key) window_put(j, key, x->m, x->nwindow);
#define SEED_PUT_OUTS(j, x, m, key) wr_jset(j, key, counts_json(x->m, NELEM(x->m), outcome_key));
#define SEED_PUT_TYPES(j, x, m, key) wr_jset(j, key, counts_json(x->m, NELEM(x->m), type_key));
#define SEED_PUT_AGENT(j, x, m, key) \
	if (agent)                   \
		wr_jset_int(agent, key, x->m);
#define SEED_PUT_AGENT_OBJ(j, x, m, key) \
	if (agent)                       \
		wr_jset(agent, key, x->m ? json_deep_copy(x->m) : json_object());
#define SEED_PUT_STATS(j, x, m, key) \
	if (x->m)                    \
		wr_jset(j, key, json_deep_copy(x->m));
#define SEED_PUT(k, m, n, a, key) SEED_PUT_##k(j, x, m, key)

#define SEED_GET_I64(j, x, m, key) x->m = geti(j, key);
#define SEED_GET_BOOL64(j, x, m, key) x->m = geti(j, key) != 0;
#define SEED_GET_LAST_TS(j, x, m, key)          \
	if (geti(j, key) > x->m)                \
		x->m = geti(j, key);
#define SEED_GET_LOCAL(j, x, m, key)
#define SEED_GET_COUNT SEED_GET_LOCAL
#define SEED_GET_NSTR(j, x, m, key) x->m = wr_xstrdup(json_string_value(json_object_get(j, key)));
#define SEED_GET_BREAKER(j, x, m, key) \
	x->m = (enum wr_breaker_state)wr_breaker_from_name(json_string_value(json_object_get(j, key)));
#define SEED_GET_WINDOW(j, x, m, key) window_get(j, key, x->m, &x->nwindow);
#define SEED_GET_OUTS(j, x, m, key) counts_get(x->m, NELEM(x->m), json_object_get(j, key), outcome_key);
#define SEED_GET_TYPES(j, x, m, key) counts_get(x->m, NELEM(x->m), json_object_get(j, key), type_key);
#define SEED_GET_AGENT(j, x, m, key) x->m = geti(json_object_get(j, "agent"), key);
#define SEED_GET_AGENT_OBJ(j, x, m, key) x->m = metrics_get(json_object_get(json_object_get(j, "agent"), key));
#define SEED_GET_STATS(j, x, m, key) \
	x->m = json_is_object(json_object_get(j, key)) ? json_deep_copy(json_object_get(j, key)) : NULL;
#define SEED_GET(k, m, n, a, key) SEED_GET_##k(j, x, m, key)

#define RESTORE_I64(x, c, m) x->m = c->m;
#define RESTORE_LAST_TS(x, c, m) \
	if (c->m > x->m)         \
		x->m = c->m;
#define RESTORE_LOCAL(x, c, m)
#define RESTORE_TYPES(x, c, m) memcpy(x->m, c->m, sizeof x->m);
#define RESTORE(k, m, n, a, key) RESTORE_##k(x, c, m)

/* The counters a marker holds put back as they were in c. */
static void restore_counters(struct wr_state *x, const struct wr_state *c)
{
	WR_COUNTER_FIELDS(RESTORE)
}

static void counters_from_json(struct wr_state *x, json_t *j)
{
	WR_COUNTER_FIELDS(SEED_GET)
}

static json_t *workflow_json(const struct wr_workflow *x)
{
	json_t *j = json_object(), *agent = x->agent_attempts ? json_object() : NULL;
	WR_WORKFLOW_FIELDS(SEED_PUT)
	if (agent)
		wr_jset(j, "agent", agent);
	return j;
}

static struct wr_workflow *workflow_from_json(json_t *j)
{
	struct wr_workflow *x = wr_xcalloc(1, sizeof *x);
	WR_WORKFLOW_FIELDS(SEED_GET)
	return x;
}

/* ---- replay across a compaction point ---- */

int wr_state_apply_ledger(struct wr_state *st, const struct wr_event *ev, const char **why)
{
	if (ev->seq > st->compacted_through)
		return wr_state_apply(st, ev, why);
	/* Before the compaction point: the marker's totals hold this event's
	 * effect on workflows and counters; only its run or entry changes. */
	if (ev->type == WR_EV_BREAKER_CHANGED || ev->type == WR_EV_WORKFLOW_EXPECTED ||
	    ev->type == WR_EV_WORKFLOW_OVERDUE) {
		if (why)
			*why = NULL;
		return WR_APPLY_OK;
	}
	struct wr_state counters = *st; /* a shallow copy, for the counters only */
	const char *wf = NULL;
	if (ev->type == WR_EV_RUN_CREATED)
		wf = ev->workflow;
	else if (ev->run && wr_state_run(st, ev->run))
		wf = wr_state_run(st, ev->run)->workflow;
	struct wr_workflow *w = wf ? wr_state_workflow(st, wf) : NULL, saved;
	if (w)
		saved = *w;
	/* The agent totals are an object a finish changes in place: keep a copy. */
	json_t *before = w && w->agent_metrics && ev->type == WR_EV_ATTEMPT_FINISHED ? json_deep_copy(w->agent_metrics)
										  : NULL;
	int r = wr_state_apply(st, ev, why);
	if (w) {
		json_t *after = w->agent_metrics;
		*w = saved;
		if (after != saved.agent_metrics) {
			json_decref(after); /* made by this finish */
		} else if (before) {
			json_decref(after);
			w->agent_metrics = before;
			before = NULL;
		}
	}
	json_decref(before);
	restore_counters(st, &counters);
	return r;
}

json_t *wr_compact_seed_json(const struct wr_state *st)
{
	json_t *j = json_object();
	const struct wr_state *x = st;
	WR_COUNTER_FIELDS(SEED_PUT)
	json_t *wfs = json_array();
	for (size_t i = 0; i < st->workflows.n; i++)
		json_array_append_new(wfs, workflow_json(wr_map_at(&st->workflows, i)));
	wr_jset(j, "workflows", wfs);
	return j;
}

int wr_compact_seed(struct wr_state *st, const struct wr_event *marker)
{
	json_t *s = wr_ev_json(marker, "state");
	json_t *through = json_object_get(wr_ev_obj(marker), "through");
	json_t *wfs = json_object_get(s, "workflows");
	json_t *by = json_object_get(s, "by_type");
	if (!json_is_object(s) || !json_is_integer(through) || json_integer_value(through) < 0 ||
	    json_integer_value(through) >= marker->seq || !json_is_array(wfs) || !json_is_object(by))
		return -1;
	size_t i;
	json_t *j;
	json_array_foreach(wfs, i, j)
	{
		const char *name = json_string_value(json_object_get(j, "workflow"));
		if (!name || !*name || wr_breaker_from_name(json_string_value(json_object_get(j, "breaker"))) < 0)
			return -1;
	}
	wr_map_free(&st->workflows, wr_workflow_free);
	json_array_foreach(wfs, i, j)
	{
		const char *name = json_string_value(json_object_get(j, "workflow"));
		if (wr_map_get(&st->workflows, name))
			continue;
		wr_map_put(&st->workflows, name, workflow_from_json(j));
	}
	counters_from_json(st, s);
	if (marker->seq > st->last_seq)
		st->last_seq = marker->seq;
	st->compacted_through = json_integer_value(through);
	return 0;
}
