/* decide_check.c - lost attempts, recorded in one decision. */
#include "decide_check.h"
#include "decide.h"
#include "err.h"
#include "sysinfo.h"
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

int wr_decide_check(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_check_req *req = reqp;
	for (size_t i = 0; i < st->runs.n; i++) {
		const struct wr_run *r = st->runs.ent[i].val;
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
			wr_jset_str(f, "run", r->id);
			wr_jset_str(f, "workflow", r->workflow);
			wr_jset_int(f, "attempt", a->n);
			wr_jset_str(f, "host", a->host);
			wr_jset_int(f, "pid", a->pid);
			wr_jset_str(f, "reason", why);
			json_array_append_new(req->found, f);
		}
		if (req->dry_run)
			continue;
		struct wr_finish fin = {.attempt = a->n, .outcome = WR_OUT_LOST, .exit_code = -1, .duration_ms = -1,
					.cpu_ms = -1, .max_rss_kb = -1, .output_bytes = -1, .reason = why};
		if (wr_finish_events(st, r, &fin, now, out->events) < 0)
			return -1;
	}
	return 0;
}

static int proc_probe(int64_t pid, int64_t pid_start)
{
	return (int)wr_proc_check(pid, pid_start);
}

int wr_check_lost(struct wr_ledger *l, struct wr_check_req *req)
{
	if (!req->host)
		req->host = wr_hostname();
	if (!req->boot_id)
		req->boot_id = wr_boot_id();
	if (!req->proc)
		req->proc = proc_probe;
	if (!req->found)
		req->found = json_array();
	json_array_clear(req->found);
	if (req->dry_run) {
		if (wr_ledger_refresh(l) < 0)
			return -1;
		struct wr_batch b = {json_array(), 0};
		int r = wr_decide_check(&l->st, wr_now_ms(), req, &b);
		json_decref(b.events);
		return r < 0 ? -1 : (int)json_array_size(req->found);
	}
	if (wr_ledger_commit(l, wr_decide_check, req) < 0)
		return -1;
	return (int)json_array_size(req->found);
}
