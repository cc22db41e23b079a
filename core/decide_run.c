/* decide_run.c - wr-run's decisions: start (with the concurrency limit and
 * the breaker gate), heartbeat and progress, stuck, finish. */
#include "decide_run.h"
#include "breaker.h"
#include "decide_check.h"
#include "err.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wr_start_req_free(struct wr_start_req *r)
{
	free(r->run_id);
	free(r->run_workflow);
	json_decref(r->resume);
	r->run_id = r->run_workflow = NULL;
	r->resume = NULL;
}

/* 0 when an existing run may get another attempt now, else -1 with why. */
static int refuse_continue(const struct wr_run *r, int64_t now)
{
	const struct wr_attempt *a = wr_run_current(r);
	if (wr_run_live(r)) {
		wr_seterr("run %s is running (attempt %lld, wr-run pid %lld on %s); wait for it to end, or cancel it "
			  "with 'wr-recover cancel %s'",
			  r->id, (long long)a->n, (long long)a->pid, a->host ? a->host : "?", r->id);
		return -1;
	}
	switch (r->status) {
	case WR_ST_SUCCEEDED:
		wr_seterr("run %s has already succeeded; start a new run without --run", r->id);
		return -1;
	case WR_ST_CANCELLED:
		wr_seterr("run %s was cancelled%s%s; start a new run without --run", r->id, r->reason ? ": " : "",
			  r->reason ? r->reason : "");
		return -1;
	case WR_ST_REJECTED:
		wr_seterr("run %s was rejected (%s) and has ended; start a new run without --run", r->id,
			  r->reason ? r->reason : "its start was refused");
		return -1;
	case WR_ST_BLOCKED:
		wr_seterr("run %s is blocked%s%s; unblock it first with 'wr-recover unblock %s'", r->id,
			  r->reason ? ": " : "", r->reason ? r->reason : "", r->id);
		return -1;
	default:
		break;
	}
	if (r->policy.deadline_ms && now >= r->created_ts + r->policy.deadline_ms) {
		char ts[WR_TS_LEN];
		wr_seterr("run %s passed its deadline at %s; start a new run without --run", r->id,
			  wr_ts_format(r->created_ts + r->policy.deadline_ms, ts));
		return -1;
	}
	return 0;
}

static json_t *run_created(const struct wr_start_req *q)
{
	json_t *ev = wr_event_new(WR_EV_RUN_CREATED);
	wr_jset_str(ev, "run", q->run);
	wr_jset_str(ev, "workflow", q->workflow);
	wr_jset(ev, "argv", json_deep_copy(q->argv));
	wr_jset_str(ev, "cwd", q->cwd);
	wr_jset(ev, "labels", q->labels ? json_deep_copy(q->labels) : json_object());
	wr_jset(ev, "policy", wr_policy_to_json(q->policy));
	return ev;
}

static void rejected(json_t *events, const char *run, const char *wf, const char *reason)
{
	json_t *ev = wr_event_new(WR_EV_ATTEMPT_REJECTED);
	wr_jset_str(ev, "run", run);
	wr_jset_str(ev, "workflow", wf);
	wr_jset_str(ev, "reason", reason);
	json_array_append_new(events, ev);
}

/* Records lost, in this decision, every live attempt of workflow wf whose
 * supervisor is gone; returns how many (each frees its slot). */
static int64_t lose_dead_holders(const struct wr_state *st, int64_t now, const struct wr_start_req *q,
				 const char *wf, json_t *events)
{
	struct wr_check_req c = {0};
	c.host = q->host;
	c.boot_id = q->boot_id;
	c.proc = q->proc;
	int64_t n = 0;
	for (size_t i = 0; i < st->runs.n; i++) {
		const struct wr_run *r = wr_map_at(&st->runs, i);
		if (!wr_run_live(r) || strcmp(r->workflow, wf))
			continue;
		const struct wr_attempt *a = wr_run_current(r);
		const char *why = wr_attempt_lost_reason(a, now, &c);
		if (!why)
			continue;
		struct wr_finish fin = {.attempt = a->n, .outcome = WR_OUT_LOST, .exit_code = -1, .duration_ms = -1,
					.cpu_ms = -1, .max_rss_kb = -1, .output_bytes = -1, .reason = why};
		if (wr_finish_events(st, r, &fin, now, events) == 0)
			n++;
	}
	return n;
}

/* The run that --run RUN continues, or NULL with wr_seterr(). */
static const struct wr_run *find_continued(const struct wr_state *st, const char *run)
{
	int ambiguous = 0;
	const struct wr_run *r = wr_state_find_run(st, run, &ambiguous);
	if (!r && ambiguous)
		wr_seterr("run id prefix '%s' matches several runs; give more of the id", run);
	else if (!r)
		wr_seterr("no run '%s' in the ledger; list runs with 'wr-watch status --all'", run);
	return r;
}

int wr_decide_run_start(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_start_req *q = reqp;
	wr_start_req_free(q); /* a waiting caller decides again and again */
	q->not_before = q->next_attempt = 0;
	const struct wr_run *r = NULL;
	const struct wr_policy *pol;
	const char *wf, *id;
	if (q->is_new) {
		if (wr_state_run(st, q->run)) {
			wr_seterr("internal error: run id %s exists already", q->run);
			return -1;
		}
		wf = q->workflow;
		pol = q->policy;
		id = q->run;
	} else {
		if (!(r = find_continued(st, q->run)))
			return -1;
		q->run_id = wr_xstrdup(r->id);
		q->run_workflow = wr_xstrdup(r->workflow);
		q->next_attempt = (int64_t)r->natt + 1;
		if (q->want_attempt && q->want_attempt != q->next_attempt) {
			q->result = WR_START_SUPERSEDED;
			return 0;
		}
		if (refuse_continue(r, now) < 0)
			return -1;
		if (r->status == WR_ST_RETRY_WAIT && now < r->next_retry_ts &&
		    !(r->launch.forced && r->launch.attempt == q->next_attempt)) {
			q->not_before = r->next_retry_ts;
			q->result = WR_START_NOT_YET;
			return 0;
		}
		wf = r->workflow;
		pol = &r->policy;
		id = r->id;
	}
	if (q->is_new) {
		q->run_id = wr_xstrdup(id);
		q->run_workflow = wr_xstrdup(wf);
	}
	const struct wr_workflow *w = wr_state_workflow(st, wf);
	q->running = w ? w->running : 0;
	q->lost = 0;
	if (pol->concurrency > 0 && q->running >= pol->concurrency && q->proc) {
		q->lost = lose_dead_holders(st, now, q, wf, out->events);
		q->running -= q->lost;
	}
	int busy = pol->concurrency > 0 && q->running >= pol->concurrency && q->wait && !q->give_up;
	if (q->expect && !busy)
		wr_expect_event(w, wf, q->expect_every_ms, q->expect_grace_ms, out->events);

	/* The limit first: a waiting caller must append nothing (but the
	 * ends of dead holders), not even the breaker's open -> half_open. */
	if (pol->concurrency > 0 && q->running >= pol->concurrency) {
		if (q->wait && !q->give_up) {
			q->result = WR_START_BUSY; /* nothing appended but dead holders' ends */
			return 0;
		}
		if (q->is_new)
			json_array_append_new(out->events, run_created(q));
		rejected(out->events, id, wf, "concurrency_limit");
		q->result = WR_START_LIMIT;
		return 0;
	}
	if (q->is_new)
		json_array_append_new(out->events, run_created(q));
	if (!wr_breaker_admit(st, wf, now, out->events)) {
		rejected(out->events, id, wf, "breaker_open");
		q->result = WR_START_BREAKER;
		return 0;
	}
	int64_t lease_ms = q->is_new ? pol->lease_ms : r->policy.lease_ms;
	q->attempt = r ? (int64_t)r->natt + 1 : 1;
	q->lease_until = now + lease_ms;
	q->deadline_at = pol->deadline_ms ? (r ? r->created_ts : now) + pol->deadline_ms : 0;
	q->resume = json_array();
	for (size_t i = 0; r && i < r->nstages; i++)
		json_array_append_new(q->resume, json_string(r->stages_done[i]));
	json_t *ev = wr_event_new(WR_EV_ATTEMPT_STARTED);
	wr_jset_str(ev, "run", id);
	wr_jset_str(ev, "workflow", wf);
	wr_jset_int(ev, "attempt", q->attempt);
	wr_jset_process(ev, q->host, q->boot_id, q->pid, q->pid_start);
	if (q->pgid > 0) {
		wr_jset_int(ev, "pgid", q->pgid);
		wr_jset_int(ev, "pgid_start", q->pgid_start);
	}
	wr_jset_ts(ev, "lease_until", q->lease_until);
	wr_jset(ev, "resume", json_deep_copy(q->resume));
	json_array_append_new(out->events, ev);
	q->result = WR_START_STARTED;
	return 0;
}

/* The run when attempt n is its live attempt, else NULL. */
static const struct wr_run *live_run(const struct wr_state *st, const char *run, int64_t n)
{
	const struct wr_run *r = wr_state_run(st, run);
	if (!r || !wr_run_live(r) || wr_run_current(r)->n != n)
		return NULL;
	return r;
}

int wr_decide_run_beat(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_beat_req *q = reqp;
	const struct wr_run *r = live_run(st, q->run, q->attempt);
	q->fenced = r == NULL;
	if (!r)
		return 0;
	if (q->lease_ms > 0) {
		json_t *ev = wr_event_new(WR_EV_ATTEMPT_HEARTBEAT);
		wr_jset_str(ev, "run", r->id);
		wr_jset_str(ev, "workflow", r->workflow);
		wr_jset_int(ev, "attempt", q->attempt);
		wr_jset_ts(ev, "lease_until", now + q->lease_ms);
		wr_agent_counts_set(ev, q->agent);
		json_array_append_new(out->events, ev);
	}
	for (size_t i = 0; i < q->nitems; i++) {
		json_t *ev = wr_event_new(WR_EV_ATTEMPT_PROGRESS);
		wr_jset_str(ev, "run", r->id);
		wr_jset_str(ev, "workflow", r->workflow);
		wr_jset_int(ev, "attempt", q->attempt);
		wr_jset_str(ev, "stage", q->items[i].stage);
		wr_jset_str(ev, "status", q->items[i].done ? "done" : "started");
		if (q->items[i].detail)
			wr_jset_str(ev, "detail", q->items[i].detail);
		json_array_append_new(out->events, ev);
	}
	/* Losing a heartbeat in a crash is harmless; a stage done is not. */
	out->nosync = q->nitems == 0;
	return 0;
}

int wr_decide_run_stuck(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_stuck_req *q = reqp;
	(void)now;
	const struct wr_run *r = live_run(st, q->run, q->attempt);
	q->fenced = r == NULL;
	if (!r)
		return 0;
	const char *action = q->abort ? "abort" : "notify";
	json_t *ev = wr_event_new(WR_EV_ATTEMPT_STUCK);
	wr_jset_str(ev, "run", r->id);
	wr_jset_str(ev, "workflow", r->workflow);
	wr_jset_int(ev, "attempt", q->attempt);
	wr_jset_str(ev, "reason", q->reason);
	wr_jset_str(ev, "detail", q->detail);
	wr_jset_str(ev, "action", action);
	wr_agent_counts_set(ev, q->agent);
	json_array_append_new(out->events, ev);
	/* An aborted attempt gets its outbox entry from attempt.finished
	 * (outcome stuck); a notified one goes on running, so it gets one now. */
	if (!q->abort) {
		char msg[1024];
		snprintf(msg, sizeof msg, "run %s (%s) attempt %lld looks stuck (%s)%s%s; it goes on running",
			 wr_short_id(r->id), r->workflow, (long long)q->attempt, q->reason, q->detail ? ": " : "",
			 q->detail ? q->detail : "");
		json_t *det = json_object();
		wr_jset_int(det, "attempt", q->attempt);
		wr_jset_str(det, "reason", q->reason);
		wr_jset_str(det, "action", action);
		wr_jset_str(det, "detail", q->detail);
		wr_agent_counts_set(det, q->agent);
		if (q->output)
			wr_jset(det, "output", json_incref(q->output));
		wr_outbox_enqueue(out->events, "stuck", msg, q->reason, r->id, r->workflow, det);
	}
	return 0;
}

int wr_decide_run_finish(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_end_req *q = reqp;
	free(q->fenced_why);
	q->fenced_why = NULL;
	const struct wr_run *r = wr_state_run(st, q->run);
	if (!r) {
		wr_seterr("internal error: run %s is not in the ledger", q->run);
		return -1;
	}
	const struct wr_attempt *a = wr_run_current(r);
	if (!live_run(st, q->run, q->fin.attempt)) {
		q->fenced = 1;
		q->fenced_outcome = a && a->n == q->fin.attempt && a->finished ? a->outcome : WR_OUT_NONE;
		if (a && a->n == q->fin.attempt && a->finished)
			q->fenced_why = wr_xasprintf("it was recorded as %s%s%s", wr_outcome_name(a->outcome),
						     a->reason ? ": " : "", a->reason ? a->reason : "");
		else
			q->fenced_why = wr_xasprintf("attempt %lld has superseded it", (long long)(a ? a->n : 0));
		/* The attempt's real end stays in the audit trail: recorded,
		 * marked stale (the reducer fences it; it changes nothing). */
		if (q->fin.attempt >= 1 && (size_t)q->fin.attempt <= r->natt) {
			json_t *ev = wr_finished_event(r, &q->fin, now);
			wr_jset_str(ev, "stale", q->fenced_why);
			json_array_append_new(out->events, ev);
		}
		return 0;
	}
	q->fenced = 0;
	return wr_finish_events(st, r, &q->fin, now, out->events);
}
