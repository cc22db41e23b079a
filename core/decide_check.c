/* decide_check.c - lost attempts, recorded in one decision. */
#include "decide_check.h"
#include "decide.h"
#include "err.h"
#include "sysinfo.h" /* enum wr_proc: what the probe says */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

const char *wr_attempt_lost_reason(const struct wr_attempt *a, int64_t now, const struct wr_check_req *req)
{
	if (a->finished)
		return NULL;
	int same_host = req->host && a->host && !strcmp(a->host, req->host);
	if (same_host && a->boot_id && req->boot_id && *req->boot_id && strcmp(a->boot_id, req->boot_id))
		return "host rebooted since the attempt started (boot_id changed)";
	if (same_host && req->proc) {
		switch (req->proc(a->pid, a->pid_start)) {
		case WR_PROC_GONE:
			return "supervisor process is gone (pid dead)";
		case WR_PROC_REUSED:
			return "supervisor process is gone (pid reused by another process)";
		case WR_PROC_ALIVE:
			return NULL; /* alive here: never lost, whatever the lease */
		default:
			break;
		}
	}
	if (a->lease_until && now > a->lease_until)
		return "lease expired (no heartbeat)";
	return NULL;
}

int64_t wr_expect_missed(const struct wr_workflow *w, int64_t now, int64_t *due)
{
	*due = 0;
	if (!w || w->expect_every_ms <= 0)
		return 0;
	int64_t every = w->expect_every_ms;
	int64_t base = w->last_success_ts > w->expect_since ? w->last_success_ts : w->expect_since;
	int64_t late = now - base - w->expect_grace_ms;
	int64_t missed = late > 0 ? (late - 1) / every : 0;
	*due = base + (missed ? missed : 1) * every;
	return missed;
}

int wr_expect_event(const struct wr_workflow *w, const char *workflow, int64_t every_ms, int64_t grace_ms,
		    json_t *events)
{
	if (!every_ms)
		grace_ms = 0;
	int64_t cur_every = w ? w->expect_every_ms : 0, cur_grace = w ? w->expect_grace_ms : 0;
	if (cur_every == every_ms && cur_grace == grace_ms)
		return 0;
	json_t *ev = wr_event_new(WR_EV_WORKFLOW_EXPECTED);
	wr_jset_str(ev, "workflow", workflow);
	wr_jset_int(ev, "every_ms", every_ms);
	wr_jset_int(ev, "grace_ms", grace_ms);
	json_array_append_new(events, ev);
	return 1;
}

int wr_decide_expect(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	(void)now;
	struct wr_expect_req *q = reqp;
	q->changed = wr_expect_event(wr_state_workflow(st, q->workflow), q->workflow, q->every_ms, q->grace_ms,
				     out->events);
	return 0;
}

/* The events of one missed period: workflow.overdue and its outbox entry. */
static void overdue_events(const struct wr_workflow *w, int64_t due, int64_t period, json_t *events)
{
	char ts[WR_TS_LEN], every[32], msg[512];
	json_t *ev = wr_event_new(WR_EV_WORKFLOW_OVERDUE);
	wr_jset_str(ev, "workflow", w->name);
	wr_jset_str(ev, "due", wr_ts_format(due, ts));
	wr_jset_int(ev, "period", period);
	json_array_append_new(events, ev);
	wr_dur_format(w->expect_every_ms, every, sizeof every);
	if (w->last_success_ts)
		snprintf(msg, sizeof msg, "workflow %s is overdue: expected to succeed every %s, no success since %s",
			 w->name, every, wr_ts_format(w->last_success_ts, ts));
	else
		snprintf(msg, sizeof msg, "workflow %s is overdue: expected to succeed every %s, no success yet",
			 w->name, every);
	json_t *det = json_object();
	wr_jset_str(det, "due", wr_ts_format(due, ts));
	wr_jset_int(det, "period", period);
	wr_jset_int(det, "every_ms", w->expect_every_ms);
	wr_jset_int(det, "grace_ms", w->expect_grace_ms);
	wr_outbox_enqueue(events, "overdue", msg, NULL, NULL, w->name, det);
}

static void check_overdue(const struct wr_state *st, int64_t now, struct wr_check_req *req, json_t *events)
{
	for (size_t i = 0; !req->run && i < st->workflows.n; i++) {
		const struct wr_workflow *w = wr_map_at(&st->workflows, i);
		if (req->workflow && strcmp(req->workflow, w->name))
			continue;
		int64_t due, period = wr_expect_missed(w, now, &due);
		if (!period)
			continue;
		int record = period > w->overdue_period && !req->dry_run;
		if (record)
			overdue_events(w, due, period, events);
		if (!req->overdue)
			continue;
		char ts[WR_TS_LEN];
		json_t *f = json_object();
		wr_jset_str(f, "kind", "overdue");
		wr_jset_str(f, "workflow", w->name);
		wr_jset_str(f, "due", wr_ts_format(due, ts));
		wr_jset_int(f, "period", period);
		wr_jset_int(f, "every_ms", w->expect_every_ms);
		wr_jset_int(f, "grace_ms", w->expect_grace_ms);
		wr_jset(f, "last_success", w->last_success_ts ? json_string(wr_ts_format(w->last_success_ts, ts)) : json_null());
		wr_jset(f, "recorded", json_boolean(record));
		json_array_append_new(req->overdue, f);
	}
}

int wr_decide_check(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_check_req *req = reqp;
	/* Decided again after another writer came first (a stream's
	 * compare-and-append): only what this decision records is found. */
	if (req->found)
		json_array_clear(req->found);
	if (req->overdue)
		json_array_clear(req->overdue);
	check_overdue(st, now, req, out->events);
	for (size_t i = 0; i < st->runs.n; i++) {
		const struct wr_run *r = wr_map_at(&st->runs, i);
		if (!wr_run_live(r))
			continue;
		if (req->workflow && strcmp(req->workflow, r->workflow))
			continue;
		if (req->run && strcmp(req->run, r->id))
			continue;
		const struct wr_attempt *a = wr_run_current(r);
		const char *why = wr_attempt_lost_reason(a, now, req);
		if (!why)
			continue;
		if (req->found) {
			json_t *f = json_object();
			wr_jset_str(f, "kind", "lost");
			wr_jset_str(f, "run", r->id);
			wr_jset_str(f, "workflow", r->workflow);
			wr_jset_int(f, "attempt", a->n);
			wr_jset_str(f, "host", a->host);
			wr_jset_int(f, "pid", a->pid);
			if (a->pgid > 0)
				wr_jset_int(f, "pgid", a->pgid);
			wr_jset_str(f, "reason", why);
			json_array_append_new(req->found, f);
		}
		if (req->dry_run)
			continue;
		struct wr_finish fin = {.attempt = a->n, .outcome = WR_OUT_LOST, .exit_code = -1, .duration_ms = -1,
					.cpu_ms = -1, .max_rss_kb = -1, .output_bytes = -1, .reason = why};
		fin.output = req->output ? req->output(req->output_ctx, r->id, a->n) : NULL;
		int fr = wr_finish_events(st, r, &fin, now, out->events);
		json_decref(fin.output);
		if (fr < 0)
			return -1;
	}
	return 0;
}
