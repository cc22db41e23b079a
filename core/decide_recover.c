/* decide_recover.c - retry, escalate, unblock, cancel: wr-recover's
 * decisions, each a pure function of (state, now, request). */
#include "decide_recover.h"
#include "breaker.h"
#include "decide.h"
#include "err.h"
#include "strtable.h"
#include "sysinfo.h"
#include "timefmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const action_names[WR_RA__COUNT] = {
	[WR_RA_NONE] = "none", [WR_RA_RETRY] = "retry", [WR_RA_ESCALATE] = "escalate", [WR_RA_WAIT] = "wait",
	[WR_RA_UNBLOCK] = "unblock", [WR_RA_CANCEL] = "cancel", [WR_RA_LAUNCH] = "launch",
};
WR_DEFINE_STRING_TABLE_LOOKUP(wr_recover_action, enum wr_recover_action, action_names)

int wr_run_needs_decision(const struct wr_run *r)
{
	const struct wr_attempt *a = wr_run_current(r);
	return r->status == WR_ST_FAILED && a && a->finished && a->outcome != WR_OUT_SUCCESS &&
	       a->outcome != WR_OUT_CANCELLED && r->decided_attempt < a->n;
}

int wr_run_due(const struct wr_run *r, int64_t now)
{
	const struct wr_attempt *a = wr_run_current(r);
	if (r->status == WR_ST_RETRY_WAIT)
		return r->next_retry_ts <= now;
	return r->status == WR_ST_FAILED && r->rejected && a && a->finished && r->decided_attempt >= a->n;
}

int wr_breaker_is_open(const struct wr_state *st, const char *wf, int64_t now)
{
	const struct wr_workflow *w = wr_state_workflow(st, wf);
	return w && w->breaker == WR_BR_OPEN && now < w->open_until;
}

/* Why the failure of attempt a is final, or NULL when a retry may follow.
 * Beside wr_failure_is_final, recoveries are bounded by max_attempts - 1
 * whatever the ledger says. */
static const char *final_reason(const struct wr_run *r, const struct wr_attempt *a, int64_t now)
{
	int64_t max = r->policy.max_attempts;
	if (!wr_failure_is_final(r, a->n, a->exit_code, now) && r->recoveries < max - 1)
		return NULL;
	if (wr_exit_not_runnable(a->exit_code))
		return "cannot_run";
	if (a->n >= max || r->recoveries >= max - 1)
		return "max_attempts";
	if (a->exit_code >= 0 && wr_policy_no_retry(&r->policy, (int)a->exit_code))
		return "no_retry_on";
	return "deadline";
}

int wr_recover_would_retry(const struct wr_state *st, const struct wr_run *r, int64_t now, int64_t *not_before)
{
	*not_before = 0;
	if (!r || !wr_run_needs_decision(r) || final_reason(r, wr_run_current(r), now))
		return 0;
	const struct wr_policy *p = &r->policy;
	/* A pass decides once the breaker's cooldown is over, then waits the backoff. */
	int64_t from = wr_breaker_is_open(st, r->workflow, now) ? wr_state_workflow(st, r->workflow)->open_until : now;
	*not_before = from + wr_backoff(p->backoff_initial_ms, p->backoff_factor, p->backoff_max_ms, r->recoveries + 1, 0);
	return 1;
}

/* "failed with exit code 1", "was lost", ... */
static void describe(const struct wr_attempt *a, char *buf, size_t n)
{
	switch (a->outcome) {
	case WR_OUT_ERROR:
		if (a->signal > 0)
			snprintf(buf, n, "died of signal %lld", (long long)a->signal);
		else
			snprintf(buf, n, "failed with exit code %lld", (long long)a->exit_code);
		break;
	case WR_OUT_TIMEOUT:
		snprintf(buf, n, "timed out");
		break;
	case WR_OUT_STUCK:
		snprintf(buf, n, "was stuck");
		break;
	case WR_OUT_LOST:
		snprintf(buf, n, "was lost");
		break;
	default:
		snprintf(buf, n, "ended %s", wr_outcome_name(a->outcome));
		break;
	}
}

static json_t *run_event(enum wr_type t, const struct wr_run *r)
{
	json_t *ev = wr_event_new(t);
	wr_jset_str(ev, "run", r->id);
	wr_jset_str(ev, "workflow", r->workflow);
	return ev;
}

static void decided(json_t *events, const struct wr_run *r, int64_t attempt, const char *action, const char *reason,
		    int64_t recoveries, int64_t not_before)
{
	json_t *ev = run_event(WR_EV_RECOVERY_DECIDED, r);
	if (attempt)
		wr_jset_int(ev, "attempt", attempt);
	wr_jset_str(ev, "action", action);
	wr_jset_str(ev, "reason", reason);
	wr_jset_int(ev, "recoveries", recoveries);
	if (not_before)
		wr_jset_ts(ev, "not_before", not_before);
	json_array_append_new(events, ev);
}

/* run.blocked with text + outbox escalated (reason why, details det). */
static void block(json_t *events, const struct wr_run *r, const char *text, const char *why, json_t *det)
{
	char msg[1024];
	json_t *b = run_event(WR_EV_RUN_BLOCKED, r);
	wr_jset_str(b, "reason", text);
	json_array_append_new(events, b);
	snprintf(msg, sizeof msg, "run %s (%s) is blocked and needs a human: %s", wr_short_id(r->id), r->workflow, text);
	wr_outbox_enqueue(events, "escalated", msg, why, r->id, r->workflow, det);
}

/* recovery.decided escalate + run.blocked + outbox escalated. */
static void escalate(json_t *events, const struct wr_run *r, const struct wr_attempt *a, const char *why,
		     json_t *output)
{
	char what[128], text[512], ts[WR_TS_LEN];
	describe(a, what, sizeof what);
	if (!strcmp(why, "cannot_run"))
		snprintf(text, sizeof text, "attempt %lld could not run the command (exit code %lld: %s); another attempt "
			 "would fail the same way", (long long)a->n, (long long)a->exit_code,
			 a->reason ? a->reason : a->exit_code == 127 ? "not found" : "cannot execute");
	else if (!strcmp(why, "max_attempts"))
		snprintf(text, sizeof text, "attempt %lld of %lld %s; max attempts used", (long long)a->n,
			 (long long)r->policy.max_attempts, what);
	else if (!strcmp(why, "no_retry_on"))
		snprintf(text, sizeof text, "attempt %lld %s; exit code %lld is in no_retry_on", (long long)a->n, what,
			 (long long)a->exit_code);
	else
		snprintf(text, sizeof text, "attempt %lld %s; the run's deadline passed at %s", (long long)a->n, what,
			 wr_ts_format(r->created_ts + r->policy.deadline_ms, ts));
	decided(events, r, a->n, "escalate", why, r->recoveries, 0);
	json_t *det = json_object();
	wr_jset_int(det, "attempt", a->n);
	wr_jset_str(det, "outcome", wr_outcome_name(a->outcome));
	if (a->exit_code >= 0)
		wr_jset_int(det, "exit_code", a->exit_code);
	if (a->signal > 0)
		wr_jset_int(det, "signal", a->signal);
	wr_jset_int(det, "recoveries", r->recoveries);
	wr_jset_int(det, "max_attempts", r->policy.max_attempts);
	if (output)
		wr_jset(det, "output", json_incref(output));
	block(events, r, text, why, det);
}

static void reset_out(struct wr_recover_req *q)
{
	q->action = WR_RA_NONE;
	q->reason = NULL;
	q->attempt = q->recoveries = q->not_before = 0;
	q->blocked = 0;
	q->kill_pgid = q->kill_pgid_start = 0;
	q->kill_host = q->kill_boot_id = NULL;
	q->kill_after_ms = 0;
}

int wr_decide_recover(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	struct wr_recover_req *q = req;
	reset_out(q);
	const struct wr_run *r = wr_state_run(st, q->run);
	if (!r || !wr_run_needs_decision(r))
		return 0;
	const struct wr_attempt *a = wr_run_current(r);
	q->attempt = a->n;
	q->recoveries = r->recoveries;
	const char *why = final_reason(r, a, now);
	if (why) {
		escalate(out->events, r, a, why, q->output_attempt == a->n ? q->output : NULL);
		q->action = WR_RA_ESCALATE;
		q->reason = why;
		q->blocked = 1;
		return 0;
	}
	if (wr_breaker_is_open(st, r->workflow, now)) {
		q->action = WR_RA_WAIT;
		q->reason = "breaker_open";
		q->not_before = wr_state_workflow(st, r->workflow)->open_until;
		return 0;
	}
	q->action = WR_RA_RETRY;
	q->reason = wr_outcome_name(a->outcome);
	q->recoveries = r->recoveries + 1;
	const struct wr_policy *p = &r->policy;
	q->not_before = now + wr_backoff(p->backoff_initial_ms, p->backoff_factor, p->backoff_max_ms, r->recoveries + 1,
					 q->jitter);
	decided(out->events, r, a->n, "retry", q->reason, q->recoveries, q->not_before);
	return 0;
}

static const struct wr_run *find(const struct wr_state *st, const char *id)
{
	const struct wr_run *r = wr_state_run(st, id);
	if (!r)
		wr_seterr("no run %s in the ledger", id);
	return r;
}

int wr_decide_retry_manual(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	struct wr_recover_req *q = req;
	reset_out(q);
	const struct wr_run *r = find(st, q->run);
	if (!r)
		return -1;
	const struct wr_attempt *a = wr_run_current(r);
	q->attempt = a ? a->n : 0;
	q->recoveries = r->recoveries;
	switch (r->status) {
	case WR_ST_RUNNING:
		wr_seterr("run %s is running (attempt %lld): nothing to retry", r->id, (long long)q->attempt);
		return -1;
	case WR_ST_SUCCEEDED:
	case WR_ST_CANCELLED:
	case WR_ST_REJECTED:
		wr_seterr("run %s has ended (%s): nothing to retry", r->id, wr_status_name(r->status));
		return -1;
	case WR_ST_BLOCKED: {
		if (!q->force) {
			wr_seterr("run %s is blocked (%s); say 'wr-recover retry --force %s' to retry it anyway",
				  r->id, r->reason ? r->reason : "escalated", wr_short_id(r->id));
			return -1;
		}
		json_t *ev = run_event(WR_EV_RUN_UNBLOCKED, r);
		wr_jset_str(ev, "note", q->note ? q->note : "wr-recover retry --force");
		json_array_append_new(out->events, ev);
		q->action = WR_RA_UNBLOCK;
		q->reason = "manual_forced";
		q->recoveries = 0;
		q->not_before = now;
		return 0;
	}
	case WR_ST_FAILED:
		if (wr_run_needs_decision(r)) {
			const char *why = final_reason(r, a, now);
			if (why && !q->force) {
				wr_seterr("run %s: no retry may follow attempt %lld (%s); say 'wr-recover retry --force %s' to retry it anyway",
					  r->id, (long long)a->n, why, wr_short_id(r->id));
				return -1;
			}
			/* A forced retry past the limits starts a new budget, as an unblock does. */
			q->action = WR_RA_RETRY;
			q->reason = why ? "manual_forced" : "manual";
			q->recoveries = why ? 0 : r->recoveries + 1;
			q->not_before = now;
			decided(out->events, r, a->n, "retry", q->reason, q->recoveries, now);
			return 0;
		}
		break;
	default:
		break;
	}
	q->action = WR_RA_LAUNCH;
	q->reason = "manual";
	q->not_before = now;
	return 0;
}

int wr_decide_unblock(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	struct wr_recover_req *q = req;
	reset_out(q);
	const struct wr_run *r = find(st, q->run);
	if (!r)
		return -1;
	if (r->status != WR_ST_BLOCKED) {
		wr_seterr("run %s is %s, not blocked: nothing to unblock", r->id, wr_status_name(r->status));
		return -1;
	}
	json_t *ev = run_event(WR_EV_RUN_UNBLOCKED, r);
	wr_jset_str(ev, "note", q->note);
	json_array_append_new(out->events, ev);
	q->action = WR_RA_UNBLOCK;
	q->reason = q->note;
	q->attempt = r->natt ? (int64_t)r->natt : 0;
	q->recoveries = 0;
	q->not_before = now;
	return 0;
}

int wr_decide_cancel(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	struct wr_recover_req *q = req;
	reset_out(q);
	const struct wr_run *r = find(st, q->run);
	if (!r)
		return -1;
	if (wr_status_ended(r->status)) {
		wr_seterr("run %s has ended (%s): nothing to cancel", r->id, wr_status_name(r->status));
		return -1;
	}
	const struct wr_attempt *a = wr_run_current(r);
	q->action = WR_RA_CANCEL;
	q->reason = q->note;
	q->attempt = a ? a->n : 0;
	q->recoveries = r->recoveries;
	/* run.cancelled first: the attempt's finish then leaves the status
	 * cancelled, and the supervisor's own later finish is stale. */
	json_t *ev = run_event(WR_EV_RUN_CANCELLED, r);
	wr_jset_str(ev, "reason", q->note);
	json_array_append_new(out->events, ev);
	if (a && !a->finished) {
		struct wr_finish f = {.attempt = a->n, .outcome = WR_OUT_CANCELLED, .exit_code = -1, .duration_ms = -1,
				      .cpu_ms = -1, .max_rss_kb = -1, .output_bytes = -1,
				      .reason = q->note ? q->note : "cancelled by wr-recover cancel"};
		if (wr_finish_events(st, r, &f, now, out->events) < 0)
			return -1;
		q->kill_pgid = a->pgid;
		q->kill_pgid_start = a->pgid_start;
		q->kill_host = a->host;
		q->kill_boot_id = a->boot_id;
		q->kill_after_ms = r->policy.kill_after_ms;
		return 0;
	}
	char msg[1024];
	snprintf(msg, sizeof msg, "run %s (%s) was cancelled%s%s", wr_short_id(r->id), r->workflow, q->note ? ": " : "",
		 q->note ? q->note : "");
	json_t *det = json_object();
	wr_jset_str(det, "status", wr_status_name(r->status));
	if (a)
		wr_jset_int(det, "attempt", a->n);
	wr_outbox_enqueue(out->events, "cancelled", msg, q->note, r->id, r->workflow, det);
	return 0;
}

int wr_launch_live(const struct wr_run *r, int64_t now, const char *host, const char *boot_id,
		   int (*proc)(int64_t pid, int64_t pid_start))
{
	const struct wr_launch *l = &r->launch;
	if (!l->attempt || (size_t)l->attempt != r->natt + 1)
		return 0;
	int here = host && l->host && !strcmp(l->host, host);
	if (here && l->boot_id && boot_id && *boot_id && strcmp(l->boot_id, boot_id))
		return 0; /* launched before this host rebooted */
	if (here && proc) {
		switch (proc(l->pid, l->pid_start)) {
		case WR_PROC_ALIVE:
			return 1;
		case WR_PROC_GONE:
		case WR_PROC_REUSED:
			return 0;
		default:
			break;
		}
	}
	return now < l->lease_until;
}

/* run.blocked + outbox escalated: the launches of the next attempt died
 * before it started. */
static void launch_lost(json_t *events, const struct wr_run *r)
{
	const struct wr_launch *l = &r->launch;
	char text[512];
	snprintf(text, sizeof text, "wr-run was launched %lld times for attempt %lld and ended each time before "
		 "recording its start (the last: pid %lld on %s)", (long long)l->count, (long long)l->attempt,
		 (long long)l->pid, l->host ? l->host : "?");
	json_t *det = json_object();
	wr_jset_int(det, "attempt", l->attempt);
	wr_jset_int(det, "launches", l->count);
	wr_jset_int(det, "recoveries", r->recoveries);
	block(events, r, text, "launch_lost", det);
}

int wr_decide_launch(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	struct wr_launch_req *q = req;
	q->action = WR_RA_NONE;
	q->reason = NULL;
	q->attempt = q->count = q->live_pid = 0;
	const struct wr_run *r = wr_state_run(st, q->run);
	if (!r || !(q->manual ? !wr_run_live(r) && !wr_status_ended(r->status) && r->status != WR_ST_BLOCKED
			      : wr_run_due(r, now)))
		return 0;
	q->attempt = (int64_t)r->natt + 1;
	const struct wr_launch *l = &r->launch;
	int same = l->attempt == q->attempt;
	if (same && wr_launch_live(r, now, q->host, q->boot_id, q->proc)) {
		q->action = WR_RA_WAIT;
		q->reason = "launch_under_way";
		q->count = l->count;
		q->live_pid = l->pid;
		return 0;
	}
	if (same && !q->manual && l->count >= WR_LAUNCH_MAX) {
		launch_lost(out->events, r);
		q->action = WR_RA_ESCALATE;
		q->reason = "launch_lost";
		q->count = l->count;
		return 0;
	}
	json_t *ev = run_event(WR_EV_RUN_LAUNCHED, r);
	wr_jset_int(ev, "attempt", q->attempt);
	wr_jset_process(ev, q->host, q->boot_id, q->pid, q->pid_start);
	wr_jset_ts(ev, "lease_until", now + WR_LAUNCH_LEASE_MS);
	wr_jset_str(ev, "mode", q->manual ? "forced" : "due");
	json_array_append_new(out->events, ev);
	q->action = WR_RA_LAUNCH;
	q->reason = q->manual ? "manual" : same ? "relaunch" : "due";
	q->count = same ? l->count + 1 : 1;
	return 0;
}

int wr_decide_breaker_reset(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	(void)now;
	struct wr_breaker_req *q = req;
	q->changed = 0;
	const struct wr_workflow *w = wr_state_workflow(st, q->workflow);
	if (!w) {
		wr_seterr("no workflow %s in the ledger", q->workflow);
		return -1;
	}
	q->from = wr_breaker_name(w->breaker);
	q->changed = wr_breaker_reset(st, q->workflow, out->events) == 0;
	return 0;
}
