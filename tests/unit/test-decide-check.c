/* test-decide-check - lost attempts (core/decide_check.c), every branch of
 * wr_attempt_lost_reason (finished, rebooted host, supervisor gone, pid
 * reused, alive whatever the lease, lease expired, unknown probe result,
 * another host) and of the decision (workflow and run filters, found list,
 * dry run, one batch for several runs). */
#include "tap.h"
#include "helpers.h"

#include "decide_check.h"
#include "sysinfo.h"

static int probe_result = WR_PROC_GONE;
static int64_t probed_pid, probed_start;

static int probe(int64_t pid, int64_t pid_start)
{
	probed_pid = pid;
	probed_start = pid_start;
	return probe_result;
}

static struct wr_check_req req(void)
{
	struct wr_check_req q;
	memset(&q, 0, sizeof q);
	q.host = "h";
	q.boot_id = "boot-1";
	q.proc = probe;
	return q;
}

static void reasons(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{}");
	fx_started(&f, T0, "r1", 1); /* host h, boot-1, pid 101/1001, lease T0+2m */
	const struct wr_attempt *a = wr_run_current(fx_run(&f, "r1"));
	struct wr_check_req q = req();

	probe_result = WR_PROC_GONE;
	is_str(wr_attempt_lost_reason(a, T0, &q), "supervisor process is gone (pid dead)", "pid dead on this host");
	ok(probed_pid == 101 && probed_start == 1001, "the recorded pid and start time are probed");
	probe_result = WR_PROC_REUSED;
	is_str(wr_attempt_lost_reason(a, T0, &q), "supervisor process is gone (pid reused by another process)",
	       "pid reused");
	probe_result = WR_PROC_ALIVE;
	ok(wr_attempt_lost_reason(a, T0 + HOUR, &q) == NULL, "alive on this host: never lost, even past its lease");
	probe_result = WR_PROC_UNKNOWN;
	ok(wr_attempt_lost_reason(a, T0 + MIN, &q) == NULL, "probe unsure, lease running: not lost");
	is_str(wr_attempt_lost_reason(a, T0 + HOUR, &q), "lease expired (no heartbeat)", "probe unsure: the lease decides");

	q.boot_id = "boot-2";
	is_str(wr_attempt_lost_reason(a, T0, &q), "host rebooted since the attempt started (boot_id changed)",
	       "another boot of this host");
	q.boot_id = "";
	probe_result = WR_PROC_ALIVE;
	ok(wr_attempt_lost_reason(a, T0, &q) == NULL, "no boot id known here: the probe decides");

	q = req();
	q.host = "elsewhere";
	probe_result = WR_PROC_GONE;
	ok(wr_attempt_lost_reason(a, T0 + MIN, &q) == NULL, "another host, lease running: not lost");
	is_int(probed_pid, 101, "another host's pid is never probed here");
	is_str(wr_attempt_lost_reason(a, T0 + 2 * MIN + 1, &q), "lease expired (no heartbeat)", "another host: lease");
	ok(wr_attempt_lost_reason(a, T0 + 2 * MIN, &q) == NULL, "the lease's last millisecond still counts");

	fx_finished(&f, T0 + SEC, "r1", 1, "success", 0);
	ok(wr_attempt_lost_reason(a, T0 + HOUR, &q) == NULL, "a finished attempt is never lost");
	fx_free(&f);
}

static void decision(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{\"max_attempts\":1}");
	fx_created(&f, T0, "r2", "other", "{}");
	fx_created(&f, T0, "r3", "wf", "{}");
	fx_started(&f, T0, "r1", 1);
	fx_started(&f, T0, "r2", 1);
	fx_attempt(&f, T0, "r3", 1, "success", 0);
	probe_result = WR_PROC_GONE;

	struct wr_check_req q = req();
	q.found = json_array();
	q.dry_run = 1;
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_check, T0 + SEC, &q, &rc);
	ok(rc == 0 && json_array_size(evs) == 0, "a dry run appends nothing");
	is_int(json_array_size(q.found), 2, "but finds both live attempts");
	json_t *x = json_array_get(q.found, 0);
	ok(!strcmp(fx_str(x, "run"), "r1") && !strcmp(fx_str(x, "host"), "h") &&
		   json_integer_value(json_object_get(x, "pid")) == 101 && !strcmp(fx_str(x, "workflow"), "wf"),
	   "found: run, workflow, host, pid");
	is_str(fx_str(x, "reason"), "supervisor process is gone (pid dead)", "found: reason");
	json_decref(evs);

	json_array_clear(q.found);
	q.dry_run = 0;
	q.workflow = "other";
	evs = fx_decide(&f, wr_decide_check, T0 + SEC, &q, &rc);
	is_int(json_array_size(q.found), 1, "the workflow filter");
	is_str(fx_str(fx_find(evs, "attempt.finished", 0), "run"), "r2", "only r2 ended");
	is_str(fx_str(fx_find(evs, "attempt.finished", 0), "outcome"), "lost", "as lost");
	is_str(fx_str(fx_find(evs, "outbox.enqueued", 0), "kind"), "lost", "with a lost notification");
	json_decref(evs);

	json_array_clear(q.found);
	q.workflow = NULL;
	q.run = "nosuch";
	evs = fx_decide(&f, wr_decide_check, T0 + SEC, &q, &rc);
	ok(json_array_size(evs) == 0 && json_array_size(q.found) == 0, "the run filter");
	json_decref(evs);

	q.run = NULL;
	json_decref(q.found);
	q.found = NULL;
	evs = fx_decide(&f, wr_decide_check, T0 + SEC, &q, &rc);
	is_int(fx_count(evs, "attempt.finished"), 1, "without a found list: r1 ends (r2 already did)");
	ok(wr_run_current(fx_run(&f, "r1"))->outcome == WR_OUT_LOST, "r1's attempt is lost in the state");
	json_decref(evs);

	evs = fx_decide(&f, wr_decide_check, T0 + 2 * SEC, &q, &rc);
	is_int(json_array_size(evs), 0, "a second check finds nothing more");
	json_decref(evs);
	fx_free(&f);
}

/* A decision made again after another writer came first (a stream's
 * compare-and-append) finds only what it records itself, not what the try
 * before found: the caller reports found and kills their groups. */
static void decided_again(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{}");
	fx_started(&f, T0, "r1", 1);
	probe_result = WR_PROC_GONE;
	struct wr_check_req q = req();
	q.found = json_array();
	q.dry_run = 1; /* the first try: its events never reached the ledger */
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_check, T0 + SEC, &q, &rc);
	is_int(json_array_size(q.found), 1, "the first try finds r1 lost");
	json_decref(evs);
	fx_finished(&f, T0 + SEC, "r1", 1, "timeout", 124); /* another writer came first */
	q.dry_run = 0;
	evs = fx_decide(&f, wr_decide_check, T0 + SEC, &q, &rc);
	ok(rc == 0 && json_array_size(evs) == 0, "decided again: r1 ended meanwhile, nothing to record");
	is_int(json_array_size(q.found), 0, "and nothing found: not the first try's r1");
	json_decref(evs);
	json_decref(q.found);
	fx_free(&f);
}

/* Several lost attempts end in one batch, each counted by the breaker. */
static void one_batch(void)
{
	struct t_fx f;
	fx_init(&f);
	char id[16];
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "r%d", i);
		fx_created(&f, T0, id, "wf", "{\"max_attempts\":1}");
		fx_started(&f, T0, id, 1);
	}
	struct wr_check_req q = req();
	probe_result = WR_PROC_GONE;
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_check, T0 + SEC, &q, &rc);
	is_int(fx_count(evs, "attempt.finished"), 5, "five lost attempts in one decision");
	is_int(fx_count(evs, "breaker.changed"), 1, "the fifth failure opens the breaker in the same batch");
	ok(wr_state_workflow(&f.st, "wf")->breaker == WR_BR_OPEN, "open in the state");
	json_decref(evs);
	fx_free(&f);
}

int main(void)
{
	reasons();
	decision();
	decided_again();
	one_batch();
	return done_testing();
}
