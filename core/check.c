/* check.c - lost attempts found and recorded on a ledger, and what is
 * left of their process groups on this host stopped (procedures: they use
 * the ledger, the clock and the process table; the decision itself is
 * core/decide_check.c). */
#include "check.h"
#include "outlog.h"
#include "sysinfo.h"
#include "timefmt.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

int wr_attempt_here(const struct wr_attempt *a)
{
	return a->host && !strcmp(a->host, wr_hostname()) && a->boot_id && *wr_boot_id() &&
	       !strcmp(a->boot_id, wr_boot_id());
}

int64_t wr_attempt_kill_group(const struct wr_attempt *a, int64_t grace_ms)
{
	if (a->pgid <= 1 || !a->pgid_start || !wr_attempt_here(a))
		return 0;
	int r = wr_group_kill(a->pgid, a->pgid_start, grace_ms);
	return r < 0 ? -1 : r ? a->pgid : 0;
}

int wr_kill_lost_leftovers(const struct wr_state *st, const char *workflow)
{
	int n = 0;
	for (size_t i = 0; i < st->runs.n; i++) {
		const struct wr_run *r = wr_map_at(&st->runs, i);
		if (workflow && strcmp(r->workflow, workflow))
			continue;
		/* Every lost attempt of the run, not only its latest: another
		 * host may have recorded it lost and launched (or even ended)
		 * its successor before a pass here saw it. */
		for (size_t k = 0; k < r->natt; k++) {
			const struct wr_attempt *a = &r->att[k];
			if (!a->finished || a->outcome != WR_OUT_LOST || a->pgid <= 1 || !wr_attempt_here(a))
				continue;
			if (kill(-(pid_t)a->pgid, 0) < 0 && errno == ESRCH)
				continue; /* nothing in the group: no /proc walk */
			n += wr_attempt_kill_group(a, r->policy.kill_after_ms) > 0;
		}
	}
	return n;
}

/* The groups of the attempts found lost, on this host: killed now. */
static void kill_found(const struct wr_state *st, json_t *found)
{
	size_t i;
	json_t *f;
	json_array_foreach(found, i, f)
	{
		const struct wr_run *r = wr_state_run(st, json_string_value(json_object_get(f, "run")));
		int64_t n = json_integer_value(json_object_get(f, "attempt"));
		if (!r || n < 1 || (size_t)n > r->natt)
			continue;
		int64_t k = wr_attempt_kill_group(&r->att[n - 1], r->policy.kill_after_ms);
		if (k > 0)
			wr_jset_int(f, "killed", k);
		else if (k < 0)
			wr_jset(f, "survived", json_true());
	}
}

/* What a lost attempt printed, from its log (the last live save). */
static json_t *lost_output(void *ctx, const char *run, int64_t attempt)
{
	return wr_outlog_tail_of(ctx, run, attempt);
}

int wr_check_lost(struct wr_ledger *l, struct wr_check_req *req)
{
	if (!req->host)
		req->host = wr_hostname();
	if (!req->boot_id)
		req->boot_id = wr_boot_id();
	if (!req->proc)
		req->proc = wr_proc_probe;
	if (!req->output) {
		req->output = lost_output;
		req->output_ctx = l->path;
	}
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
	kill_found(&l->st, req->found);
	return (int)json_array_size(req->found);
}
