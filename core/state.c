/* state.c - the reducer: events in ledger order -> derived state. */
#include "state.h"
#include "state_fields.h"
#include "err.h"
#include "strtable.h"
#include "timefmt.h"
#include "util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[WR_ST__COUNT] = {
	[WR_ST_RUNNING] = "running", [WR_ST_SUCCEEDED] = "succeeded", [WR_ST_FAILED] = "failed",
	[WR_ST_RETRY_WAIT] = "retry_wait", [WR_ST_BLOCKED] = "blocked", [WR_ST_CANCELLED] = "cancelled",
	[WR_ST_REJECTED] = "rejected",
};
WR_DEFINE_STRING_TABLE_LOOKUP(wr_status, enum wr_status, status_names)

int wr_status_ended(enum wr_status s)
{
	return s == WR_ST_SUCCEEDED || s == WR_ST_CANCELLED || s == WR_ST_REJECTED;
}

static const char *const outbox_state_names[WR_OB__COUNT] = {
	[WR_OB_PENDING] = "pending", [WR_OB_CLAIMED] = "claimed", [WR_OB_DELIVERED] = "delivered",
	[WR_OB_DEAD] = "dead", [WR_OB_ACKED] = "acked",
};
WR_DEFINE_STRING_TABLE_LOOKUP(wr_outbox_state, enum wr_outbox_state, outbox_state_names)

void wr_policy_defaults(struct wr_policy *p)
{
	memset(p, 0, sizeof *p);
	p->kill_after_ms = WR_DEF_KILL_AFTER_MS;
	p->heartbeat_ms = WR_DEF_HEARTBEAT_MS;
	p->lease_ms = WR_DEF_LEASE_MS;
	p->max_attempts = WR_DEF_MAX_ATTEMPTS;
	p->backoff_initial_ms = WR_DEF_BACKOFF_INITIAL_MS;
	p->backoff_factor = WR_DEF_BACKOFF_FACTOR;
	p->backoff_max_ms = WR_DEF_BACKOFF_MAX_MS;
	p->stuck_abort = 1;
	p->term_signal = SIGTERM;
}

static int64_t jint(json_t *o, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

void wr_policy_from_json(struct wr_policy *p, json_t *o)
{
	wr_policy_defaults(p);
	if (!json_is_object(o))
		return;
	p->timeout_ms = jint(o, "timeout_ms", 0);
	p->kill_after_ms = jint(o, "kill_after_ms", p->kill_after_ms);
	p->heartbeat_ms = jint(o, "heartbeat_ms", p->heartbeat_ms);
	p->lease_ms = jint(o, "lease_ms", p->lease_ms);
	p->max_attempts = jint(o, "max_attempts", p->max_attempts);
	p->concurrency = jint(o, "concurrency", 0);
	p->deadline_ms = jint(o, "deadline_ms", 0);
	p->max_turns = jint(o, "max_turns", 0);
	json_t *b = json_object_get(o, "backoff");
	p->backoff_initial_ms = jint(b, "initial_ms", p->backoff_initial_ms);
	p->backoff_max_ms = jint(b, "max_ms", p->backoff_max_ms);
	json_t *f = json_object_get(b, "factor");
	if (json_is_number(f))
		p->backoff_factor = json_number_value(f);
	json_t *s = json_object_get(o, "stuck");
	p->stuck_repeat = jint(s, "repeat", 0);
	p->no_progress_ms = jint(s, "no_progress_ms", 0);
	p->stuck_repeat_tool = jint(s, "repeat_tool", 0);
	p->no_progress_turns = jint(s, "no_progress_turns", 0);
	p->no_output_ms = jint(s, "no_output_ms", 0);
	p->term_signal = jint(o, "signal", p->term_signal);
	const char *act = json_string_value(json_object_get(s, "action"));
	if (act)
		p->stuck_abort = strcmp(act, "notify") != 0;
	json_t *nr = json_object_get(o, "no_retry_on");
	if (json_is_array(nr) && json_array_size(nr)) {
		p->n_no_retry_on = json_array_size(nr);
		p->no_retry_on = wr_xcalloc(p->n_no_retry_on, sizeof *p->no_retry_on);
		for (size_t i = 0; i < p->n_no_retry_on; i++)
			p->no_retry_on[i] = (int)json_integer_value(json_array_get(nr, i));
	}
}

static json_t *int_or_null(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

json_t *wr_policy_to_json(const struct wr_policy *p)
{
	json_t *o = json_object();
	wr_jset(o, "timeout_ms", int_or_null(p->timeout_ms));
	wr_jset_int(o, "kill_after_ms", p->kill_after_ms);
	wr_jset_int(o, "heartbeat_ms", p->heartbeat_ms);
	wr_jset_int(o, "lease_ms", p->lease_ms);
	wr_jset_int(o, "max_attempts", p->max_attempts);
	json_t *b = json_object();
	wr_jset_int(b, "initial_ms", p->backoff_initial_ms);
	wr_jset(b, "factor", json_real(p->backoff_factor));
	wr_jset_int(b, "max_ms", p->backoff_max_ms);
	wr_jset(o, "backoff", b);
	json_t *s = json_object();
	wr_jset(s, "repeat", int_or_null(p->stuck_repeat));
	wr_jset(s, "no_progress_ms", int_or_null(p->no_progress_ms));
	/* Written only when set: a policy without them reads as before. */
	if (p->stuck_repeat_tool)
		wr_jset_int(s, "repeat_tool", p->stuck_repeat_tool);
	if (p->no_progress_turns)
		wr_jset_int(s, "no_progress_turns", p->no_progress_turns);
	if (p->no_output_ms) /* only when set: older readers know the others */
		wr_jset_int(s, "no_output_ms", p->no_output_ms);
	wr_jset_str(s, "action", p->stuck_abort ? "abort" : "notify");
	wr_jset(o, "stuck", s);
	wr_jset(o, "concurrency", int_or_null(p->concurrency));
	wr_jset(o, "deadline_ms", int_or_null(p->deadline_ms));
	if (p->max_turns)
		wr_jset_int(o, "max_turns", p->max_turns);
	if (p->term_signal != SIGTERM)
		wr_jset_int(o, "signal", p->term_signal);
	json_t *nr = json_array();
	for (size_t i = 0; i < p->n_no_retry_on; i++)
		json_array_append_new(nr, json_integer(p->no_retry_on[i]));
	wr_jset(o, "no_retry_on", nr);
	return o;
}

/* What a record holds, released, generated from its field list
 * (core/state_fields.h): FREE_kind(x, member, arg) for one field. */
#define FREE_NONE(x, m, a)
#define FREE_I64 FREE_NONE
#define FREE_INT FREE_NONE
#define FREE_FLAG FREE_NONE
#define FREE_ENUM FREE_NONE
#define FREE_BREAKER FREE_NONE
#define FREE_BOOL64 FREE_NONE
#define FREE_F64 FREE_NONE
#define FREE_AGENT FREE_NONE
#define FREE_LAST_TS FREE_NONE
#define FREE_LOCAL FREE_NONE
#define FREE_ORD FREE_NONE
#define FREE_COUNT FREE_NONE
#define FREE_CAP FREE_NONE
#define FREE_WINDOW FREE_NONE
#define FREE_OUTS FREE_NONE
#define FREE_TYPES FREE_NONE
#define FREE_STR(x, m, a) free(x->m);
#define FREE_NSTR FREE_STR
#define FREE_INTS FREE_STR
#define FREE_JV(x, m, a) json_decref(x->m);
#define FREE_JVREQ FREE_JV
#define FREE_OBJ FREE_JV
#define FREE_AGENT_OBJ FREE_JV
#define FREE_STATS FREE_JV
#define FREE_EACH(x, m, a, FREE1)                    \
	for (size_t i_ = 0; i_ < x->a; i_++)        \
		FREE1;                               \
	free(x->m);
#define FREE_STRS(x, m, a) FREE_EACH(x, m, a, free(x->m[i_]))
#define FREE_ATTEMPTS(x, m, a) FREE_EACH(x, m, a, free_attempt(&x->m[i_]))
#define FREE_POLICY(x, m, a) wr_policy_free(&x->m);
#define FREE_LAUNCH(x, m, a) free_launch(&x->m);
#define FREE4(k, m, n, a) FREE_##k(x, m, a)
#define FREE5(k, m, n, a, key) FREE_##k(x, m, a)
#define DEFINE_FREE(fn, type, LIST, ADAPT)                            \
	__attribute__((unused)) static void fn(struct type *x)        \
	{                                                             \
		(void)x;                                              \
		LIST(ADAPT)                                           \
	}

WR_STATE_RECORDS(DEFINE_FREE, free, FREE)

void wr_policy_free(struct wr_policy *p)
{
	free_policy(p);
	p->no_retry_on = NULL;
	p->n_no_retry_on = 0;
}

int wr_policy_no_retry(const struct wr_policy *p, int exit_code)
{
	for (size_t i = 0; i < p->n_no_retry_on; i++)
		if (p->no_retry_on[i] == exit_code)
			return 1;
	return 0;
}

struct wr_attempt *wr_run_current(const struct wr_run *r)
{
	return r->natt ? &r->att[r->natt - 1] : NULL;
}

int wr_run_live(const struct wr_run *r)
{
	struct wr_attempt *a = wr_run_current(r);
	return a && !a->finished;
}

int wr_run_has_stage(const struct wr_run *r, const char *stage)
{
	for (size_t i = 0; i < r->nstages; i++)
		if (!strcmp(r->stages_done[i], stage))
			return 1;
	return 0;
}

void wr_run_free(void *p)
{
	free_run(p);
	free(p);
}

void wr_workflow_free(void *p)
{
	free_workflow(p);
	free(p);
}

void wr_outbox_free(void *p)
{
	free_outbox(p);
	free(p);
}

void wr_state_init(struct wr_state *st)
{
	memset(st, 0, sizeof *st);
}

void wr_state_free(struct wr_state *st)
{
	if (st->cold)
		st->cold_ops->free(st->cold);
	wr_map_free(&st->runs, wr_run_free);
	wr_map_free(&st->workflows, wr_workflow_free);
	wr_map_free(&st->outbox, wr_outbox_free);
	memset(st, 0, sizeof *st);
}

struct wr_run *wr_state_run(const struct wr_state *st, const char *id)
{
	struct wr_run *r = id ? wr_map_get(&st->runs, id) : NULL;
	return r || !id || !st->cold ? r : st->cold_ops->get(st->cold, id);
}

size_t wr_state_nruns(const struct wr_state *st)
{
	return st->cold ? (size_t)st->nruns : st->runs.n;
}

void wr_runs_begin(struct wr_runs_iter *it, const struct wr_state *st)
{
	memset(it, 0, sizeof *it);
	it->st = st;
}

/* Hot runs and cold ones merge by ord (a run is in one place only). */
const struct wr_run *wr_runs_next(struct wr_runs_iter *it)
{
	const struct wr_state *st = it->st;
	if (!st)
		return NULL;
	if (st->cold && !it->cold_started) {
		it->cold = st->cold_ops->iter_new(st->cold);
		it->cold_started = 1;
	}
	int64_t cold = it->cold ? st->cold_ops->iter_peek(it->cold) : INT64_MAX;
	if (it->ihot < st->runs.n) {
		struct wr_run *h = wr_map_at(&st->runs, it->ihot);
		if (h->ord < cold) {
			it->ihot++;
			return h;
		}
	}
	const struct wr_run *r = it->cold ? st->cold_ops->iter_next(it->cold) : NULL;
	if (!r)
		wr_runs_end(it);
	return r;
}

void wr_runs_end(struct wr_runs_iter *it)
{
	if (it->cold)
		it->st->cold_ops->iter_free(it->cold);
	memset(it, 0, sizeof *it);
}

/* The hot and cold runs whose id starts (suffix: ends) with part: how
 * many, and the one when there is one. */
static struct wr_run *match_part(const struct wr_state *st, const char *part, int suffix, size_t *count)
{
	size_t n = strlen(part), k;
	struct wr_run *found = NULL;
	*count = 0;
	for (size_t i = 0; i < st->runs.n && n; i++) {
		struct wr_run *c = wr_map_at(&st->runs, i);
		size_t len = strlen(c->id);
		if (len >= n && !strncmp(suffix ? c->id + len - n : c->id, part, n)) {
			found = c;
			++*count;
		}
	}
	if (!n || *count > 1 || !st->cold)
		return *count == 1 ? found : NULL;
	struct wr_run *cold = st->cold_ops->find(st->cold, part, suffix, &k);
	*count += k;
	return *count != 1 ? NULL : found ? found : cold;
}

struct wr_workflow *wr_state_workflow(const struct wr_state *st, const char *name)
{
	return name ? wr_map_get(&st->workflows, name) : NULL;
}

const struct wr_map *wr_state_outboxes(const struct wr_state *st)
{
	if (st->outbox_lazy)
		st->cold_ops->outbox_load((struct wr_state *)st); /* a cache filled: the state is the same */
	return &st->outbox;
}

struct wr_outbox *wr_state_outbox(const struct wr_state *st, const char *id)
{
	return id ? wr_map_get(wr_state_outboxes(st), id) : NULL;
}

struct wr_run *wr_state_find_run(const struct wr_state *st, const char *prefix, int *ambiguous)
{
	*ambiguous = 0;
	struct wr_run *r = wr_state_run(st, prefix);
	if (r)
		return r;
	size_t count;
	r = match_part(st, prefix, 0, &count);
	if (!count) /* tables show wr_short_id(), the end of the id: accept that too */
		r = match_part(st, prefix, 1, &count);
	*ambiguous = count > 1;
	return r;
}

static struct wr_workflow *workflow_get(struct wr_state *st, const char *name)
{
	struct wr_workflow *w = wr_map_get(&st->workflows, name);
	if (!w) {
		w = wr_xcalloc(1, sizeof *w);
		w->name = wr_xstrdup(name);
		wr_map_put(&st->workflows, name, w);
	}
	return w;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? wr_xstrdup(s) : NULL;
}

static void window_push(struct wr_workflow *w, int failure)
{
	if (w->nwindow == WR_BREAKER_WINDOW) {
		memmove(w->window, w->window + 1, WR_BREAKER_WINDOW - 1);
		w->nwindow--;
	}
	w->window[w->nwindow++] = (unsigned char)failure;
}

/* An agent's counts from a heartbeat, stuck or finish: cumulative, so the
 * latest that says them is the truth. */
static void take_agent_counts(struct wr_attempt *a, const struct wr_event *ev)
{
	a->turns = wr_ev_int(ev, "turns", a->turns);
	a->tool_calls = wr_ev_int(ev, "tool_calls", a->tool_calls);
	json_t *m = wr_ev_json(ev, "metrics");
	if (json_is_object(m)) {
		json_decref(a->metrics);
		a->metrics = json_object_size(m) ? json_incref(m) : NULL;
	}
}

void wr_workflow_add_agent(struct wr_workflow *w, const struct wr_attempt *a)
{
	if (!a->turns && !a->tool_calls && !json_object_size(a->metrics))
		return;
	w->agent_attempts++;
	w->agent_turns = wr_add_sat(w->agent_turns, a->turns);
	w->agent_tool_calls = wr_add_sat(w->agent_tool_calls, a->tool_calls);
	const char *k;
	json_t *v;
	json_object_foreach(a->metrics, k, v)
	{
		if (!w->agent_metrics)
			w->agent_metrics = json_object();
		json_t *cur = json_object_get(w->agent_metrics, k);
		if (!cur && json_object_size(w->agent_metrics) >= WR_METRICS_MAX)
			continue; /* memory grows with runs, not with metric names */
		wr_jset(w->agent_metrics, k, json_integer(wr_add_sat(cur ? json_integer_value(cur) : 0,
								     json_integer_value(v))));
	}
}

#define STALE(msg)                  \
	do {                        \
		if (why)            \
			*why = msg; \
		goto stale;         \
	} while (0)
#define IGNORE(msg)                 \
	do {                        \
		if (why)            \
			*why = msg; \
		return WR_APPLY_IGNORED; \
	} while (0)
#define INVALID(msg)                \
	do {                        \
		if (why)            \
			*why = msg; \
		goto invalid;       \
	} while (0)

/* The run's launch is over: its attempt started, or the run moved on. */
static void launch_clear(struct wr_run *r)
{
	free(r->launch.host);
	free(r->launch.boot_id);
	memset(&r->launch, 0, sizeof r->launch);
}

/* run.launched: a launch of the run's next attempt (counted per attempt). */
static int apply_launched(struct wr_run *r, const struct wr_event *ev, const char **why)
{
	if (wr_status_ended(r->status) || r->status == WR_ST_BLOCKED) {
		if (why)
			*why = r->status == WR_ST_BLOCKED ? "launch of a blocked run" : "launch of a run that has ended";
		return WR_APPLY_STALE;
	}
	if (wr_run_live(r) || (size_t)ev->attempt != r->natt + 1) {
		if (why)
			*why = wr_run_live(r) ? "launch while an attempt is live" : "launch of an attempt that is not the next";
		return WR_APPLY_STALE;
	}
	int64_t count = r->launch.attempt == ev->attempt ? r->launch.count + 1 : 1;
	launch_clear(r);
	r->launch.attempt = ev->attempt;
	r->launch.count = count;
	r->launch.ts = ev->ts;
	r->launch.lease_until = wr_ev_ts(ev, "lease_until", ev->ts);
	r->launch.host = wr_xstrdup(wr_ev_str(ev, "host") ? wr_ev_str(ev, "host") : "");
	set_str(&r->launch.boot_id, wr_ev_str(ev, "boot_id"));
	r->launch.pid = wr_ev_int(ev, "pid", 0);
	r->launch.pid_start = wr_ev_int(ev, "pid_start", 0);
	r->launch.forced = !strcmp(wr_ev_str(ev, "mode"), "forced");
	return WR_APPLY_OK;
}

/* The attempt an attempt-scoped event may touch: the current live one. */
static struct wr_attempt *live_attempt(struct wr_run *r, const struct wr_event *ev, const char **why)
{
	struct wr_attempt *a = wr_run_current(r);
	if (!a || ev->attempt > a->n) {
		if (why)
			*why = ev->type == WR_EV_ATTEMPT_FINISHED ? "finish of an attempt that never started"
								  : "event of an attempt that never started";
		return NULL;
	}
	if (ev->attempt != a->n) {
		if (why)
			*why = "event of a superseded attempt";
		return NULL;
	}
	if (a->finished) {
		if (why)
			*why = ev->type == WR_EV_ATTEMPT_FINISHED ? "second finish of the attempt" : "event after the attempt finished";
		return NULL;
	}
	return a;
}

/* A refusal of the run reducers: the reason in *why, the result returned. */
#define REFUSE(result, msg)         \
	do {                        \
		if (why)            \
			*why = msg; \
		return result;      \
	} while (0)

/* An event about an attempt that is not the live one: stale when that
 * attempt was there (superseded or finished), invalid when it never was. */
static int fenced(const struct wr_run *r, const struct wr_event *ev)
{
	const struct wr_attempt *cur = wr_run_current(r);
	return !cur || ev->attempt > cur->n ? WR_APPLY_INVALID : WR_APPLY_STALE;
}

static int apply_started(struct wr_workflow *w, struct wr_run *r, const struct wr_event *ev, const char **why)
{
	if ((size_t)ev->attempt <= r->natt)
		REFUSE(WR_APPLY_INVALID, "attempt started twice");
	if ((size_t)ev->attempt != r->natt + 1)
		REFUSE(WR_APPLY_INVALID, "attempt numbers must increase by one");
	if (wr_run_live(r))
		REFUSE(WR_APPLY_INVALID, "start while another attempt is live");
	if (wr_status_ended(r->status))
		REFUSE(WR_APPLY_INVALID, "start of a run that has ended");
	/* Most runs have one attempt: start with room for one, not
	 * wr_grow's eight (memory grows with runs; 1M-event bench). */
	if (!r->capatt) {
		r->att = wr_xmalloc(sizeof *r->att);
		r->capatt = 1;
	}
	WR_GROW(r->att, r->capatt, r->natt + 1);
	struct wr_attempt *a = &r->att[r->natt++];
	memset(a, 0, sizeof *a);
	a->n = ev->attempt;
	a->started_ts = ev->ts;
	a->lease_until = wr_ev_ts(ev, "lease_until", 0);
	a->host = wr_xstrdup(wr_ev_str(ev, "host") ? wr_ev_str(ev, "host") : "");
	a->boot_id = wr_ev_str(ev, "boot_id") ? wr_xstrdup(wr_ev_str(ev, "boot_id")) : NULL;
	a->pid = wr_ev_int(ev, "pid", 0);
	a->pid_start = wr_ev_int(ev, "pid_start", 0);
	a->pgid = wr_ev_int(ev, "pgid", 0);
	a->pgid_start = wr_ev_int(ev, "pgid_start", 0);
	a->exit_code = -1;
	a->seq_started = ev->seq;
	r->status = WR_ST_RUNNING;
	r->next_retry_ts = 0;
	r->rejected = 0;
	launch_clear(r);
	set_str(&r->stage, NULL);
	w->running++;
	if (w->breaker == WR_BR_HALF_OPEN)
		w->half_open_trial++;
	return WR_APPLY_OK;
}

/* attempt.progress of the live attempt: a stage started or done. */
static void apply_progress(struct wr_run *r, const struct wr_event *ev)
{
	const char *stage = wr_ev_str(ev, "stage");
	if (strcmp(wr_ev_str(ev, "status"), "done")) {
		set_str(&r->stage, stage);
		return;
	}
	if (!wr_run_has_stage(r, stage)) {
		if (!r->capstages) {
			r->stages_done = wr_xmalloc(2 * sizeof *r->stages_done);
			r->capstages = 2;
		}
		WR_GROW(r->stages_done, r->capstages, r->nstages + 1);
		r->stages_done[r->nstages++] = wr_xstrdup(stage);
	}
	if (r->stage && !strcmp(r->stage, stage))
		set_str(&r->stage, NULL);
}

/* attempt.finished of the live attempt a: its figures, the workflow's
 * totals and breaker window, and the run's status. */
static void apply_finished(struct wr_workflow *w, struct wr_run *r, struct wr_attempt *a, const struct wr_event *ev)
{
	enum wr_outcome o = (enum wr_outcome)wr_outcome_from_name(wr_ev_str(ev, "outcome"));
	a->finished = 1;
	a->finished_ts = ev->ts;
	a->outcome = o;
	a->exit_code = wr_ev_int(ev, "exit_code", -1);
	a->signal = wr_ev_int(ev, "signal", 0);
	a->duration_ms = wr_ev_int(ev, "duration_ms", ev->ts - a->started_ts);
	a->cpu_ms = wr_ev_int(ev, "cpu_ms", 0);
	a->max_rss_kb = wr_ev_int(ev, "max_rss_kb", 0);
	a->output_bytes = wr_ev_int(ev, "output_bytes", 0);
	set_str(&a->reason, wr_ev_str(ev, "reason"));
	take_agent_counts(a, ev);
	wr_workflow_add_agent(w, a);
	w->running--;
	w->finished[o]++;
	/* a cancelled half-open trial gives no verdict: let another run */
	if (o == WR_OUT_CANCELLED && w->breaker == WR_BR_HALF_OPEN && w->half_open_trial > 0)
		w->half_open_trial--;
	if (o != WR_OUT_CANCELLED)
		window_push(w, o != WR_OUT_SUCCESS);
	if (r->status != WR_ST_RUNNING)
		return;
	if (o == WR_OUT_SUCCESS) {
		r->status = WR_ST_SUCCEEDED;
		w->last_success_ts = ev->ts;
		w->overdue_period = w->overdue = 0;
		w->succeeded++;
	} else if (o == WR_OUT_CANCELLED) {
		r->status = WR_ST_CANCELLED;
	} else {
		r->status = WR_ST_FAILED;
		if (!r->first_failure_ts)
			r->first_failure_ts = ev->ts;
	}
}

static int apply_rejected(struct wr_run *r, const struct wr_event *ev, const char **why)
{
	const char *reason = wr_ev_str(ev, "reason");
	if (wr_run_live(r))
		REFUSE(WR_APPLY_STALE, "rejection while an attempt is live");
	if (wr_status_ended(r->status))
		REFUSE(WR_APPLY_STALE, "rejection of a run that has ended");
	r->rejected = !strcmp(reason, "breaker_open") ? 1 : 2;
	set_str(&r->reason, reason);
	launch_clear(r);
	/* A run that never started ends here; a continued run with
	 * attempts behind it waits for its relaunch (wr_run_due). */
	if (r->natt == 0)
		r->status = WR_ST_REJECTED;
	else if (r->status == WR_ST_RUNNING || r->status == WR_ST_RETRY_WAIT)
		r->status = WR_ST_FAILED;
	return WR_APPLY_OK;
}

static int apply_decided(struct wr_run *r, const struct wr_event *ev, const char **why)
{
	const struct wr_attempt *a = wr_run_current(r);
	int64_t n = a ? a->n : 0;
	if (ev->attempt && ev->attempt != n)
		REFUSE(WR_APPLY_STALE, "decision about a superseded attempt");
	if (ev->attempt && r->decided_attempt == ev->attempt)
		REFUSE(WR_APPLY_STALE, "second decision about the attempt");
	if (wr_run_live(r))
		REFUSE(WR_APPLY_STALE, "decision while an attempt is live");
	r->decided_attempt = ev->attempt ? ev->attempt : n;
	r->recoveries = wr_ev_int(ev, "recoveries", r->recoveries);
	if (!strcmp(wr_ev_str(ev, "action"), "retry")) {
		r->status = WR_ST_RETRY_WAIT;
		r->next_retry_ts = wr_ev_ts(ev, "not_before", ev->ts);
	}
	return WR_APPLY_OK;
}

/* run.blocked, run.unblocked, run.cancelled. */
static int apply_run_verb(struct wr_run *r, const struct wr_event *ev, const char **why)
{
	if (ev->type == WR_EV_RUN_UNBLOCKED) {
		if (r->status != WR_ST_BLOCKED)
			REFUSE(WR_APPLY_INVALID, "unblock of a run that is not blocked");
		r->status = WR_ST_RETRY_WAIT;
		r->recoveries = 0;
		r->next_retry_ts = ev->ts;
		launch_clear(r);
		set_str(&r->note, wr_ev_str(ev, "note"));
		return WR_APPLY_OK;
	}
	int block = ev->type == WR_EV_RUN_BLOCKED;
	if (wr_status_ended(r->status))
		REFUSE(WR_APPLY_STALE, block ? "block of an ended run" : "cancel of an ended run");
	r->status = block ? WR_ST_BLOCKED : WR_ST_CANCELLED;
	r->next_retry_ts = 0;
	set_str(&r->reason, wr_ev_str(ev, "reason"));
	launch_clear(r);
	return WR_APPLY_OK;
}

/* An event of the live attempt (heartbeat, progress, stuck, finished). */
static int apply_attempt_event(struct wr_workflow *w, struct wr_run *r, const struct wr_event *ev, const char **why)
{
	struct wr_attempt *a = live_attempt(r, ev, why);
	if (!a)
		return fenced(r, ev);
	switch (ev->type) {
	case WR_EV_ATTEMPT_HEARTBEAT:
		a->lease_until = wr_ev_ts(ev, "lease_until", a->lease_until);
		take_agent_counts(a, ev);
		break;
	case WR_EV_ATTEMPT_PROGRESS:
		apply_progress(r, ev);
		break;
	case WR_EV_ATTEMPT_STUCK:
		a->stuck++;
		take_agent_counts(a, ev);
		break;
	default:
		apply_finished(w, r, a, ev);
		break;
	}
	return WR_APPLY_OK;
}

static int apply_run_event(struct wr_state *st, struct wr_run *r, const struct wr_event *ev, const char **why)
{
	struct wr_workflow *w = workflow_get(st, r->workflow);
	int res;
	switch (ev->type) {
	case WR_EV_ATTEMPT_STARTED:
		res = apply_started(w, r, ev, why);
		break;
	case WR_EV_ATTEMPT_HEARTBEAT:
	case WR_EV_ATTEMPT_PROGRESS:
	case WR_EV_ATTEMPT_STUCK:
	case WR_EV_ATTEMPT_FINISHED:
		res = apply_attempt_event(w, r, ev, why);
		break;
	case WR_EV_ATTEMPT_REJECTED:
		res = apply_rejected(r, ev, why);
		break;
	case WR_EV_RECOVERY_DECIDED:
		res = apply_decided(r, ev, why);
		break;
	case WR_EV_RUN_BLOCKED:
	case WR_EV_RUN_UNBLOCKED:
	case WR_EV_RUN_CANCELLED:
		res = apply_run_verb(r, ev, why);
		break;
	case WR_EV_RUN_LAUNCHED:
		res = apply_launched(r, ev, why);
		break;
	default:
		return WR_APPLY_IGNORED;
	}
	if (res == WR_APPLY_STALE)
		r->stale++;
	return res;
}

static int apply_outbox_event(struct wr_state *st, const struct wr_event *ev, const char **why)
{
	const char *id = wr_ev_str(ev, "id");
	struct wr_outbox *o = wr_state_outbox(st, id);
	st->outbox_dirty = 1;
	if (ev->type == WR_EV_OUTBOX_ENQUEUED) {
		if (o) {
			if (why)
				*why = "outbox entry enqueued twice";
			st->invalid++;
			return WR_APPLY_INVALID;
		}
		o = wr_xcalloc(1, sizeof *o);
		o->id = wr_xstrdup(id);
		o->kind = wr_xstrdup(wr_ev_str(ev, "kind"));
		o->message = wr_xstrdup(wr_ev_str(ev, "message"));
		set_str(&o->reason, wr_ev_str(ev, "reason"));
		set_str(&o->run, ev->run);
		set_str(&o->workflow, ev->workflow);
		json_t *d = wr_ev_json(ev, "details");
		o->details = json_is_object(d) ? json_incref(d) : NULL;
		o->created_ts = ev->ts;
		o->seq = ev->seq;
		o->state = WR_OB_PENDING;
		wr_map_put(&st->outbox, id, o);
		return WR_APPLY_OK;
	}
	if (!o) {
		if (why)
			*why = "event of an unknown outbox entry";
		st->invalid++;
		return WR_APPLY_INVALID;
	}
	const char *delivery = wr_ev_str(ev, "delivery");
	int same_claim = o->state == WR_OB_CLAIMED && (!delivery || (o->delivery && !strcmp(delivery, o->delivery)));
	switch (ev->type) {
	case WR_EV_OUTBOX_CLAIMED:
		if (!(o->state == WR_OB_PENDING || (o->state == WR_OB_CLAIMED && o->lease_until <= ev->ts)))
			STALE("claim of an entry that is not due");
		o->state = WR_OB_CLAIMED;
		set_str(&o->delivery, delivery);
		o->lease_until = wr_ev_ts(ev, "lease_until", 0);
		o->attempts++;
		return WR_APPLY_OK;
	case WR_EV_OUTBOX_DELIVERED:
		if (o->state == WR_OB_DELIVERED || o->state == WR_OB_ACKED)
			STALE("entry delivered twice");
		o->state = WR_OB_DELIVERED;
		o->delivered_ts = ev->ts;
		o->lease_until = 0;
		return WR_APPLY_OK;
	case WR_EV_OUTBOX_FAILED:
		if (!same_claim)
			STALE("failure reported by a claim that is no longer valid");
		o->state = WR_OB_PENDING;
		o->next_at = wr_ev_ts(ev, "next_at", 0);
		o->lease_until = 0;
		set_str(&o->error, wr_ev_str(ev, "error"));
		return WR_APPLY_OK;
	case WR_EV_OUTBOX_DEAD:
		if (o->state == WR_OB_DELIVERED || o->state == WR_OB_ACKED || o->state == WR_OB_DEAD)
			STALE("entry is already delivered or dead");
		if (o->state == WR_OB_CLAIMED && !same_claim)
			STALE("dead reported by a claim that is no longer valid");
		o->state = WR_OB_DEAD;
		o->lease_until = 0;
		if (wr_ev_str(ev, "error"))
			set_str(&o->error, wr_ev_str(ev, "error"));
		return WR_APPLY_OK;
	case WR_EV_OUTBOX_ACKED:
		if (o->state == WR_OB_ACKED)
			STALE("entry acknowledged twice");
		o->state = WR_OB_ACKED;
		o->lease_until = 0;
		return WR_APPLY_OK;
	case WR_EV_OUTBOX_RETRIED:
		if (o->state != WR_OB_DEAD)
			STALE("retry of an entry that is not dead");
		o->state = WR_OB_PENDING;
		o->attempts = 0;
		o->next_at = 0;
		return WR_APPLY_OK;
	default:
		return WR_APPLY_IGNORED;
	}
stale:
	st->stale++;
	return WR_APPLY_STALE;
}

/* Moves the ended hot runs to the cold store, the others keeping their
 * order. */
static void evict_ended(struct wr_state *st)
{
	struct wr_map hot = {0};
	for (size_t i = 0; i < st->runs.n; i++) {
		struct wr_run *r = wr_map_at(&st->runs, i);
		if (wr_status_ended(r->status))
			st->cold_ops->evict(st->cold, r);
		else
			wr_map_put(&hot, r->id, r);
	}
	wr_map_free(&st->runs, NULL);
	st->runs = hot;
	st->hot_ended = 0;
}

static void note_ended(struct wr_state *st)
{
	if (++st->hot_ended > (st->hot_ended_max ? st->hot_ended_max : WR_HOT_ENDED) && st->cold)
		evict_ended(st);
}

/* run.created: a new run, counted in its workflow. */
static int apply_created(struct wr_state *st, const struct wr_event *ev, const char **why)
{
	if (wr_map_get(&st->runs, ev->run) || (st->cold && st->cold_ops->has(st->cold, ev->run))) {
		if (why)
			*why = "run created twice";
		st->invalid++;
		return WR_APPLY_INVALID;
	}
	struct wr_run *run = wr_xcalloc(1, sizeof *run);
	run->id = wr_xstrdup(ev->run);
	run->workflow = wr_xstrdup(ev->workflow);
	run->argv = json_incref(wr_ev_json(ev, "argv"));
	run->cwd = wr_xstrdup(wr_ev_str(ev, "cwd"));
	json_t *labels = wr_ev_json(ev, "labels");
	run->labels = json_is_object(labels) ? json_incref(labels) : NULL;
	wr_policy_from_json(&run->policy, wr_ev_json(ev, "policy"));
	run->created_ts = run->updated_ts = ev->ts;
	run->seq_created = ev->seq;
	run->status = WR_ST_RUNNING;
	run->ord = st->nruns++;
	wr_map_put(&st->runs, ev->run, run);
	workflow_get(st, run->workflow)->runs++;
	return WR_APPLY_OK;
}

/* breaker.changed: the workflow's breaker moves, from the state it is in. */
static int apply_breaker(struct wr_state *st, const struct wr_event *ev, const char **why)
{
	struct wr_workflow *w = workflow_get(st, ev->workflow);
	int from = wr_breaker_from_name(wr_ev_str(ev, "from"));
	int to = wr_breaker_from_name(wr_ev_str(ev, "to"));
	if (from != (int)w->breaker) {
		st->invalid++;
		if (why)
			*why = "breaker change from a state it is not in";
		return WR_APPLY_INVALID;
	}
	w->breaker = (enum wr_breaker_state)to;
	w->open_until = to == WR_BR_OPEN ? wr_ev_ts(ev, "open_until", 0) : 0;
	if (to == WR_BR_OPEN) {
		w->opens++;
		w->reopens++;
	} else if (to == WR_BR_CLOSED) {
		w->reopens = 0;
		w->nwindow = 0;
	}
	w->half_open_trial = 0;
	return WR_APPLY_OK;
}

int wr_state_apply(struct wr_state *st, const struct wr_event *ev, const char **why)
{
	if (why)
		*why = NULL;
	st->events++;
	st->by_type[ev->type]++;
	if (ev->seq > st->last_seq)
		st->last_seq = ev->seq;
	if (ev->ts > st->last_ts)
		st->last_ts = ev->ts;
	int r;
	switch (ev->type) {
	case WR_EV_UNKNOWN:
		st->unknown_types++;
		IGNORE("unknown event type");
	case WR_EV_LEDGER_REPAIRED:
		st->repaired++;
		return WR_APPLY_OK;
	case WR_EV_RUN_CREATED:
		return apply_created(st, ev, why);
	case WR_EV_BREAKER_CHANGED:
		return apply_breaker(st, ev, why);
	case WR_EV_WORKFLOW_EXPECTED: {
		struct wr_workflow *w = workflow_get(st, ev->workflow);
		w->expect_every_ms = wr_ev_int(ev, "every_ms", 0);
		w->expect_grace_ms = w->expect_every_ms ? wr_ev_int(ev, "grace_ms", 0) : 0;
		w->expect_since = w->expect_every_ms ? ev->ts : 0;
		w->overdue_period = 0;
		if (!w->expect_every_ms)
			w->overdue = 0;
		return WR_APPLY_OK;
	}
	case WR_EV_WORKFLOW_OVERDUE: {
		struct wr_workflow *w = workflow_get(st, ev->workflow);
		w->overdue_period = wr_ev_int(ev, "period", 1);
		w->overdue = 1;
		return WR_APPLY_OK;
	}
	case WR_EV_OUTBOX_ENQUEUED:
	case WR_EV_OUTBOX_CLAIMED:
	case WR_EV_OUTBOX_DELIVERED:
	case WR_EV_OUTBOX_FAILED:
	case WR_EV_OUTBOX_DEAD:
	case WR_EV_OUTBOX_ACKED:
	case WR_EV_OUTBOX_RETRIED:
		return apply_outbox_event(st, ev, why);
	default:
		break;
	}
	struct wr_run *run = wr_map_get(&st->runs, ev->run);
	int cold = !run && ev->run && st->cold && (run = st->cold_ops->get(st->cold, ev->run));
	if (!run) {
		st->invalid++;
		if (why)
			*why = "event of an unknown run";
		return WR_APPLY_INVALID;
	}
	int ended = wr_status_ended(run->status);
	r = apply_run_event(st, run, ev, why);
	if (r == WR_APPLY_STALE)
		st->stale++;
	else if (r == WR_APPLY_INVALID)
		st->invalid++;
	else if (r == WR_APPLY_OK)
		run->updated_ts = ev->ts;
	if (cold && r != WR_APPLY_INVALID && r != WR_APPLY_IGNORED)
		st->cold_ops->update(st->cold, run);
	else if (!cold && !ended && wr_status_ended(run->status))
		note_ended(st);
	return r;
}

static json_t *ts_or_null(int64_t ms)
{
	char b[WR_TS_LEN];
	return ms ? json_string(wr_ts_format(ms, b)) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *wr_run_to_json(const struct wr_run *r)
{
	json_t *o = json_object();
	wr_jset_str(o, "run", r->id);
	wr_jset_str(o, "workflow", r->workflow);
	wr_jset_str(o, "status", wr_status_name(r->status));
	wr_jset(o, "argv", json_incref(r->argv));
	wr_jset_str(o, "cwd", r->cwd);
	wr_jset(o, "labels", r->labels ? json_incref(r->labels) : json_object());
	wr_jset(o, "policy", wr_policy_to_json(&r->policy));
	wr_jset(o, "created", ts_or_null(r->created_ts));
	wr_jset(o, "updated", ts_or_null(r->updated_ts));
	wr_jset_int(o, "attempt", (int64_t)r->natt);
	wr_jset_int(o, "max_attempts", r->policy.max_attempts);
	json_t *atts = json_array();
	for (size_t i = 0; i < r->natt; i++) {
		const struct wr_attempt *a = &r->att[i];
		json_t *j = json_object();
		wr_jset_int(j, "attempt", a->n);
		wr_jset(j, "started", ts_or_null(a->started_ts));
		wr_jset(j, "finished", ts_or_null(a->finished_ts));
		wr_jset(j, "outcome", a->finished ? json_string(wr_outcome_name(a->outcome)) : json_null());
		wr_jset(j, "exit_code", a->exit_code >= 0 ? json_integer(a->exit_code) : json_null());
		wr_jset(j, "signal", a->signal ? json_integer(a->signal) : json_null());
		wr_jset(j, "duration_ms", a->finished ? json_integer(a->duration_ms) : json_null());
		wr_jset_int(j, "cpu_ms", a->cpu_ms);
		wr_jset_int(j, "max_rss_kb", a->max_rss_kb);
		wr_jset_int(j, "output_bytes", a->output_bytes);
		wr_jset(j, "reason", str_or_null(a->reason));
		wr_jset_str(j, "host", a->host);
		wr_jset_int(j, "pid", a->pid);
		wr_jset(j, "pgid", a->pgid ? json_integer(a->pgid) : json_null());
		wr_jset(j, "lease_until", ts_or_null(a->lease_until));
		wr_jset_int(j, "stuck", a->stuck);
		wr_jset_int(j, "turns", a->turns);
		wr_jset_int(j, "tool_calls", a->tool_calls);
		wr_jset(j, "metrics", a->metrics ? json_incref(a->metrics) : json_object());
		json_array_append_new(atts, j);
	}
	wr_jset(o, "attempts", atts);
	json_t *stages = json_array();
	for (size_t i = 0; i < r->nstages; i++)
		json_array_append_new(stages, json_string(r->stages_done[i]));
	wr_jset(o, "stages_done", stages);
	wr_jset(o, "stage", str_or_null(r->stage));
	wr_jset_int(o, "recoveries", r->recoveries);
	struct wr_attempt *cur = wr_run_current(r);
	wr_jset(o, "lease_until", ts_or_null(cur && !cur->finished ? cur->lease_until : 0));
	wr_jset(o, "next_retry", ts_or_null(r->next_retry_ts));
	json_t *l = json_null();
	if (r->launch.attempt) {
		l = json_object();
		wr_jset_int(l, "attempt", r->launch.attempt);
		wr_jset(l, "at", ts_or_null(r->launch.ts));
		wr_jset_str(l, "host", r->launch.host);
		wr_jset_int(l, "pid", r->launch.pid);
		wr_jset(l, "lease_until", ts_or_null(r->launch.lease_until));
		wr_jset(l, "forced", json_boolean(r->launch.forced));
		wr_jset_int(l, "launches", r->launch.count);
	}
	wr_jset(o, "launch", l);
	wr_jset(o, "deadline", ts_or_null(r->policy.deadline_ms ? r->created_ts + r->policy.deadline_ms : 0));
	wr_jset(o, "reason", str_or_null(r->reason));
	wr_jset(o, "note", str_or_null(r->note));
	wr_jset_int(o, "stale_events", r->stale);
	return o;
}

json_t *wr_workflow_to_json(const struct wr_workflow *w)
{
	json_t *o = json_object();
	wr_jset_str(o, "workflow", w->name);
	wr_jset_int(o, "running", w->running);
	wr_jset_str(o, "breaker", wr_breaker_name(w->breaker));
	wr_jset(o, "open_until", ts_or_null(w->open_until));
	wr_jset_int(o, "breaker_opens", w->opens);
	int fails = 0;
	for (int i = 0; i < w->nwindow; i++)
		fails += w->window[i];
	wr_jset_int(o, "window", w->nwindow);
	wr_jset_int(o, "window_failures", fails);
	wr_jset_int(o, "runs", w->runs);
	wr_jset_int(o, "succeeded", w->succeeded);
	wr_jset_int(o, "expect_every_ms", w->expect_every_ms);
	wr_jset_int(o, "expect_grace_ms", w->expect_grace_ms);
	wr_jset(o, "last_success", ts_or_null(w->last_success_ts));
	wr_jset_int(o, "overdue_period", w->overdue_period);
	wr_jset(o, "overdue", json_boolean(w->overdue));
	return o;
}

json_t *wr_outbox_to_json(const struct wr_outbox *e)
{
	json_t *o = json_object();
	wr_jset_str(o, "id", e->id);
	wr_jset_str(o, "kind", e->kind);
	wr_jset_str(o, "message", e->message);
	wr_jset(o, "reason", str_or_null(e->reason));
	wr_jset(o, "run", str_or_null(e->run));
	wr_jset(o, "workflow", str_or_null(e->workflow));
	wr_jset(o, "details", e->details ? json_incref(e->details) : json_object());
	wr_jset(o, "created", ts_or_null(e->created_ts));
	wr_jset_str(o, "state", wr_outbox_state_name(e->state));
	wr_jset_int(o, "attempts", e->attempts);
	wr_jset(o, "next_at", ts_or_null(e->next_at));
	wr_jset(o, "lease_until", ts_or_null(e->state == WR_OB_CLAIMED ? e->lease_until : 0));
	wr_jset(o, "error", str_or_null(e->error));
	return o;
}
