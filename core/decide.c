/* decide.c - how an attempt ends, for every tool that ends one. */
#include "decide.h"
#include "err.h"
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

int wr_exit_not_runnable(int64_t exit_code)
{
	return exit_code == 126 || exit_code == 127;
}

int wr_failure_is_final(const struct wr_run *r, int64_t n, int64_t exit_code, int64_t now)
{
	if (wr_exit_not_runnable(exit_code))
		return 1;
	if (n >= r->policy.max_attempts)
		return 1;
	if (exit_code >= 0 && wr_policy_no_retry(&r->policy, (int)exit_code))
		return 1;
	if (r->policy.deadline_ms && now >= r->created_ts + r->policy.deadline_ms)
		return 1;
	return 0;
}

static void set_opt(json_t *ev, const char *k, int64_t v)
{
	if (v >= 0)
		wr_jset_int(ev, k, v);
}

void wr_agent_counts_set(json_t *ev, const struct wr_agent_counts *c)
{
	if (!c || (!c->turns && !c->tool_calls && !json_object_size(c->metrics)))
		return;
	wr_jset_int(ev, "turns", c->turns);
	wr_jset_int(ev, "tool_calls", c->tool_calls);
	if (json_object_size(c->metrics))
		wr_jset(ev, "metrics", json_deep_copy(c->metrics));
}

json_t *wr_finished_event(const struct wr_run *r, const struct wr_finish *f, int64_t now)
{
	const struct wr_attempt *a = f->attempt >= 1 && (size_t)f->attempt <= r->natt ? &r->att[f->attempt - 1] : NULL;
	json_t *ev = wr_event_new(WR_EV_ATTEMPT_FINISHED);
	wr_jset_str(ev, "run", r->id);
	wr_jset_str(ev, "workflow", r->workflow);
	wr_jset_int(ev, "attempt", f->attempt);
	wr_jset_str(ev, "outcome", wr_outcome_name(f->outcome));
	wr_jset(ev, "exit_code", f->exit_code >= 0 ? json_integer(f->exit_code) : json_null());
	wr_jset(ev, "signal", f->signal > 0 ? json_integer(f->signal) : json_null());
	int64_t dur = f->duration_ms >= 0 ? f->duration_ms : a ? now - a->started_ts : 0;
	wr_jset_int(ev, "duration_ms", dur < 0 ? 0 : dur);
	set_opt(ev, "cpu_ms", f->cpu_ms);
	set_opt(ev, "max_rss_kb", f->max_rss_kb);
	set_opt(ev, "output_bytes", f->output_bytes);
	wr_jset_str(ev, "reason", f->reason);
	wr_jset_str(ev, "reason_code", f->code);
	wr_agent_counts_set(ev, &f->agent);
	return ev;
}

int wr_finish_events(const struct wr_state *st, const struct wr_run *r, const struct wr_finish *f, int64_t now,
		     json_t *events)
{
	const struct wr_attempt *a = wr_run_current(r);
	if (!a || a->finished || a->n != f->attempt) {
		wr_seterr("attempt %lld of run %s is not live", (long long)f->attempt, r->id);
		return -1;
	}
	json_t *ev = wr_finished_event(r, f, now);
	int64_t dur = json_integer_value(json_object_get(ev, "duration_ms"));
	json_array_append_new(events, ev);

	wr_breaker_after(st, r->workflow, f->outcome, now, events);

	char msg[1024], d[32];
	const char *kind = NULL, *code = f->code;
	int64_t back = 0; /* a success ends this many missed periods */
	int head = snprintf(msg, sizeof msg, "run %s (%s) attempt %lld", wr_short_id(r->id), r->workflow,
			    (long long)f->attempt);
	size_t left = head > 0 && (size_t)head < sizeof msg ? sizeof msg - (size_t)head : 0;
	char *p = msg + (left ? head : 0);
	wr_dur_format(dur, d, sizeof d);
	switch (f->outcome) {
	case WR_OUT_SUCCESS: {
		const struct wr_workflow *w = wr_state_workflow(st, r->workflow);
		int again = r->natt > 1 || r->first_failure_ts;
		back = w && w->overdue ? (w->overdue_period ? w->overdue_period : 1) : 0;
		if (again || back) {
			kind = "recovered";
			code = "recovered";
			snprintf(p, left, " succeeded%s%s", again ? " after earlier failures" : "",
				 back ? "; the workflow is no longer overdue" : "");
		}
		break;
	}
	case WR_OUT_TIMEOUT:
		kind = "timeout";
		if (f->code && !strcmp(f->code, wr_reason_name(WR_REASON_MAX_TURNS)))
			snprintf(p, left, " reached its turn limit after %s%s%s", d, f->reason ? ": " : "",
				 f->reason ? f->reason : "");
		else
			snprintf(p, left, " timed out after %s", d);
		break;
	case WR_OUT_STUCK:
		kind = "stuck";
		snprintf(p, left, " was stuck and aborted after %s%s%s", d, f->reason ? ": " : "",
			 f->reason ? f->reason : "");
		break;
	case WR_OUT_LOST:
		kind = "lost";
		snprintf(p, left, " was lost: %s", f->reason ? f->reason : "its supervisor is gone");
		break;
	case WR_OUT_CANCELLED:
		kind = "cancelled";
		snprintf(p, left, " was cancelled%s%s", f->reason ? ": " : "", f->reason ? f->reason : "");
		break;
	case WR_OUT_ERROR:
		if (wr_failure_is_final(r, f->attempt, f->exit_code, now)) {
			kind = "failed";
			code = wr_exit_not_runnable(f->exit_code) ? "cannot_run" : f->signal > 0 ? "signal" : "exit_code";
			if (f->signal > 0)
				snprintf(p, left, " died of signal %lld; no retry will follow", (long long)f->signal);
			else if (wr_exit_not_runnable(f->exit_code))
				snprintf(p, left, " could not run the command (exit code %lld: %s); no retry will follow",
					 (long long)f->exit_code, f->reason ? f->reason
						: f->exit_code == 127 ? "not found" : "cannot execute");
			else
				snprintf(p, left, " failed with exit code %lld; no retry will follow",
					 (long long)f->exit_code);
		}
		break;
	default:
		break;
	}
	if (kind) {
		json_t *det = json_object();
		wr_jset_int(det, "attempt", f->attempt);
		wr_jset_str(det, "outcome", wr_outcome_name(f->outcome));
		if (f->exit_code >= 0)
			wr_jset_int(det, "exit_code", f->exit_code);
		if (f->signal > 0)
			wr_jset_int(det, "signal", f->signal);
		wr_jset_int(det, "duration_ms", dur < 0 ? 0 : dur);
		wr_jset_str(det, "reason", code);
		wr_agent_counts_set(det, &f->agent);
		if (back)
			wr_jset_int(det, "overdue_period", back);
		if (f->output && (f->outcome == WR_OUT_TIMEOUT || f->outcome == WR_OUT_STUCK || f->outcome == WR_OUT_ERROR ||
				  f->outcome == WR_OUT_LOST))
			wr_jset(det, "output", json_incref(f->output));
		wr_outbox_enqueue(events, kind, msg, f->reason, r->id, r->workflow, det);
	}
	return 0;
}

void wr_jset_process(json_t *ev, const char *host, const char *boot_id, int64_t pid, int64_t pid_start)
{
	wr_jset_str(ev, "host", host ? host : "");
	if (boot_id && *boot_id)
		wr_jset_str(ev, "boot_id", boot_id);
	wr_jset_int(ev, "pid", pid);
	wr_jset_int(ev, "pid_start", pid_start);
}
