/* seed.c - the state of a compacted ledger: its marker seeds workflows
 * and counters, and the kept events at or before it touch runs and outbox
 * entries only (core/compact.h describes the format). */
#include "seed.h"
#include "err.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

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
	int64_t c[6] = {st->events, st->stale, st->invalid, st->repaired, st->unknown_types, st->last_ts};
	int64_t by[WR_EV__COUNT];
	memcpy(by, st->by_type, sizeof by);
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
	st->events = c[0];
	st->stale = c[1];
	st->invalid = c[2];
	st->repaired = c[3];
	st->unknown_types = c[4];
	st->last_ts = c[5] > st->last_ts ? c[5] : st->last_ts;
	memcpy(st->by_type, by, sizeof by);
	return r;
}

static const char *type_key(int t)
{
	return t ? wr_type_name((enum wr_type)t) : "unknown";
}

static const char *outcome_key(int o)
{
	return o ? wr_outcome_name((enum wr_outcome)o) : "none";
}

json_t *wr_compact_seed_json(const struct wr_state *st)
{
	json_t *o = json_object();
	wr_jset_int(o, "last_ts_ms", st->last_ts);
	wr_jset_int(o, "events", st->events);
	wr_jset_int(o, "stale", st->stale);
	wr_jset_int(o, "invalid", st->invalid);
	wr_jset_int(o, "repaired", st->repaired);
	wr_jset_int(o, "unknown_types", st->unknown_types);
	json_t *by = json_object();
	for (int t = 0; t < WR_EV__COUNT; t++)
		if (st->by_type[t])
			wr_jset_int(by, type_key(t), st->by_type[t]);
	wr_jset(o, "by_type", by);
	json_t *wfs = json_array();
	for (size_t i = 0; i < st->workflows.n; i++) {
		const struct wr_workflow *w = wr_map_at(&st->workflows, i);
		json_t *j = json_object();
		wr_jset_str(j, "workflow", w->name);
		wr_jset_int(j, "running", w->running);
		wr_jset_str(j, "breaker", wr_breaker_name(w->breaker));
		wr_jset_int(j, "open_until_ms", w->open_until);
		wr_jset_int(j, "reopens", w->reopens);
		wr_jset_int(j, "opens", w->opens);
		wr_jset_int(j, "half_open_trial", w->half_open_trial);
		char win[WR_BREAKER_WINDOW + 1];
		for (int k = 0; k < w->nwindow; k++)
			win[k] = w->window[k] ? '1' : '0';
		win[w->nwindow] = 0;
		wr_jset_str(j, "window", win);
		wr_jset_int(j, "runs", w->runs);
		wr_jset_int(j, "succeeded", w->succeeded);
		wr_jset_int(j, "failed_final", w->failed_final);
		wr_jset_int(j, "expect_every_ms", w->expect_every_ms);
		wr_jset_int(j, "expect_grace_ms", w->expect_grace_ms);
		wr_jset_int(j, "expect_since_ms", w->expect_since);
		wr_jset_int(j, "last_success_ms", w->last_success_ts);
		wr_jset_int(j, "overdue_period", w->overdue_period);
		wr_jset_int(j, "overdue", w->overdue);
		if (w->archived)
			wr_jset(j, "archived", json_deep_copy(w->archived));
		json_t *f = json_object();
		for (int k = 0; k < WR_OUT__COUNT; k++)
			if (w->finished[k])
				wr_jset_int(f, outcome_key(k), w->finished[k]);
		wr_jset(j, "finished", f);
		if (w->agent_attempts) {
			json_t *ag = json_object();
			wr_jset_int(ag, "attempts", w->agent_attempts);
			wr_jset_int(ag, "turns", w->agent_turns);
			wr_jset_int(ag, "tool_calls", w->agent_tool_calls);
			wr_jset(ag, "metrics", w->agent_metrics ? json_deep_copy(w->agent_metrics) : json_object());
			wr_jset(j, "agent", ag);
		}
		json_array_append_new(wfs, j);
	}
	wr_jset(o, "workflows", wfs);
	return o;
}

static int64_t geti(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
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
		struct wr_workflow *w = wr_xcalloc(1, sizeof *w);
		w->name = wr_xstrdup(name);
		w->running = geti(j, "running");
		w->breaker = (enum wr_breaker_state)wr_breaker_from_name(json_string_value(json_object_get(j, "breaker")));
		w->open_until = geti(j, "open_until_ms");
		w->reopens = geti(j, "reopens");
		w->opens = geti(j, "opens");
		w->half_open_trial = geti(j, "half_open_trial");
		const char *win = json_string_value(json_object_get(j, "window"));
		for (; win && *win && w->nwindow < WR_BREAKER_WINDOW; win++)
			w->window[w->nwindow++] = *win == '1';
		w->runs = geti(j, "runs");
		w->succeeded = geti(j, "succeeded");
		w->failed_final = geti(j, "failed_final");
		w->expect_every_ms = geti(j, "expect_every_ms");
		w->expect_grace_ms = geti(j, "expect_grace_ms");
		w->expect_since = geti(j, "expect_since_ms");
		w->last_success_ts = geti(j, "last_success_ms");
		w->overdue_period = geti(j, "overdue_period");
		w->overdue = geti(j, "overdue") != 0;
		json_t *arch = json_object_get(j, "archived");
		w->archived = json_is_object(arch) ? json_deep_copy(arch) : NULL;
		json_t *f = json_object_get(j, "finished");
		for (int k = 0; k < WR_OUT__COUNT; k++)
			w->finished[k] = geti(f, outcome_key(k));
		json_t *ag = json_object_get(j, "agent");
		w->agent_attempts = geti(ag, "attempts");
		w->agent_turns = geti(ag, "turns");
		w->agent_tool_calls = geti(ag, "tool_calls");
		json_t *m = json_object_get(ag, "metrics");
		const char *mk;
		json_t *mv;
		json_object_foreach(m, mk, mv) if (json_is_integer(mv) && json_object_size(m) <= WR_METRICS_MAX)
		{
			if (!w->agent_metrics)
				w->agent_metrics = json_object();
			wr_jset(w->agent_metrics, mk, json_incref(mv));
		}
		wr_map_put(&st->workflows, name, w);
	}
	st->events = geti(s, "events");
	st->stale = geti(s, "stale");
	st->invalid = geti(s, "invalid");
	st->repaired = geti(s, "repaired");
	st->unknown_types = geti(s, "unknown_types");
	for (int t = 0; t < WR_EV__COUNT; t++)
		st->by_type[t] = geti(by, type_key(t));
	int64_t ts = geti(s, "last_ts_ms");
	if (ts > st->last_ts)
		st->last_ts = ts;
	if (marker->seq > st->last_seq)
		st->last_seq = marker->seq;
	st->compacted_through = json_integer_value(through);
	return 0;
}
