/* test-decide-run - wr-run's decisions (core/decide_run.c), every branch:
 * start of a new run and of a continued one (each refusal), the
 * concurrency limit (wait, give up, reject), the breaker gate, resume
 * stages; heartbeat and progress (nosync only for a bare heartbeat); stuck
 * with abort and notify; finish, fenced as superseded or as ended. */
#include "tap.h"
#include "helpers.h"

#include "decide_run.h"

static struct wr_policy pol;

static void new_req(struct wr_start_req *q, const char *run, const char *wf)
{
	memset(q, 0, sizeof *q);
	q->run = run;
	q->is_new = 1;
	q->workflow = wf;
	q->argv = json_pack("[s]", "job");
	q->cwd = "/srv";
	q->policy = &pol;
	q->host = "h";
	q->boot_id = "boot-1";
	q->pid = 42;
	q->pid_start = 4242;
	q->pgid = 43;
	q->pgid_start = 4343;
}

static void req_free(struct wr_start_req *q)
{
	json_decref(q->argv);
	wr_start_req_free(q);
}

static void start_new(void)
{
	struct t_fx f;
	fx_init(&f);
	struct wr_start_req q;
	new_req(&q, "r1", "wf");
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_run_start, T0, &q, &rc);
	is_int(rc, 0, "a new run starts");
	is_str(fx_types(evs), "run.created attempt.started", "run.created and attempt.started in one batch");
	is_int(q.result, WR_START_STARTED, "result started");
	is_str(q.run_id, "r1", "run id out");
	is_str(q.run_workflow, "wf", "workflow out");
	is_int(q.attempt, 1, "attempt 1");
	is_int(q.lease_until, T0 + pol.lease_ms, "lease from the policy");
	is_int(q.deadline_at, 0, "no deadline");
	is_int(json_array_size(q.resume), 0, "nothing to resume");
	json_t *s = fx_find(evs, "attempt.started", 0);
	ok(json_integer_value(json_object_get(s, "pgid")) == 43 && json_integer_value(json_object_get(s, "pid")) == 42,
	   "pid and pgid recorded");
	is_str(fx_str(s, "boot_id"), "boot-1", "boot id recorded");
	ok(json_is_object(json_object_get(fx_find(evs, "run.created", 0), "labels")), "labels default to {}");
	ok(wr_run_live(fx_run(&f, "r1")), "the run is live after the batch");
	json_decref(evs);

	/* the same id again: an internal error, nothing appended */
	evs = fx_decide(&f, wr_decide_run_start, T0, &q, &rc);
	is_int(rc, -1, "a new run with an id that exists is refused");
	ok(strstr(wr_errmsg(), "exists already") != NULL, "why: %s", wr_errmsg());
	is_int(json_array_size(evs), 0, "nothing appended");
	json_decref(evs);

	/* no boot id, no pgid: left out */
	struct wr_start_req q2;
	new_req(&q2, "r2", "wf");
	q2.boot_id = "";
	q2.pgid = 0;
	pol.deadline_ms = HOUR;
	evs = fx_decide(&f, wr_decide_run_start, T0, &q2, &rc);
	s = fx_find(evs, "attempt.started", 0);
	ok(s && !json_object_get(s, "boot_id") && !json_object_get(s, "pgid"), "no boot_id, no pgid when unknown");
	is_int(q2.deadline_at, T0 + HOUR, "a new run's deadline counts from now");
	pol.deadline_ms = 0;
	json_decref(evs);
	req_free(&q);
	req_free(&q2);
	fx_free(&f);
}

/* Continues run r of f with --run KEY at now; returns rc. */
static int cont(struct t_fx *f, const char *key, int64_t now, struct wr_start_req *q, json_t **evs)
{
	memset(q, 0, sizeof *q);
	q->run = key;
	q->host = "h";
	q->pid = 50;
	int rc;
	*evs = fx_decide(f, wr_decide_run_start, now, q, &rc);
	return rc;
}

static void start_continue(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "run-aa", "wf", "{\"max_attempts\":3,\"lease_ms\":60000,\"deadline_ms\":3600000}");
	fx_created(&f, T0, "run-ab", "wf", "{}");
	fx_started(&f, T0, "run-aa", 1);
	fx_ev(&f, T0 + SEC, "attempt.progress", "\"run\":\"run-aa\",\"attempt\":1,\"stage\":\"fetch\",\"status\":\"done\"");
	struct wr_start_req q;
	json_t *evs;

	is_int(cont(&f, "run-aa", T0 + 2 * SEC, &q, &evs), -1, "a running run is refused");
	ok(strstr(wr_errmsg(), "is running") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);
	wr_start_req_free(&q);

	is_int(cont(&f, "run-a", T0, &q, &evs), -1, "an ambiguous prefix is refused");
	ok(strstr(wr_errmsg(), "matches several") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);
	is_int(cont(&f, "nosuch", T0, &q, &evs), -1, "an unknown run is refused");
	ok(strstr(wr_errmsg(), "no run 'nosuch'") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);

	fx_finished(&f, T0 + 3 * SEC, "run-aa", 1, "error", 1);
	is_int(cont(&f, "run-aa", T0 + 4 * SEC, &q, &evs), 0, "a failed run continues");
	is_int(q.attempt, 2, "as attempt 2");
	is_str(fx_types(evs), "attempt.started", "attempt.started alone");
	is_int(q.lease_until, T0 + 4 * SEC + 60000, "lease from the run's policy");
	is_int(q.deadline_at, T0 + HOUR, "deadline from the run's creation");
	ok(json_array_size(q.resume) == 1 && !strcmp(json_string_value(json_array_get(q.resume, 0)), "fetch"),
	   "stages done are resumed");
	ok(json_equal(json_object_get(fx_find(evs, "attempt.started", 0), "resume"), q.resume), "and recorded");
	json_decref(evs);
	wr_start_req_free(&q);

	fx_finished(&f, T0 + 5 * SEC, "run-aa", 2, "error", 1);
	is_int(cont(&f, "run-aa", T0 + HOUR, &q, &evs), -1, "a run past its deadline is refused");
	ok(strstr(wr_errmsg(), "deadline") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);
	wr_start_req_free(&q);

	/* succeeded, cancelled, blocked */
	fx_attempt(&f, T0, "run-ab", 1, "success", 0);
	is_int(cont(&f, "run-ab", T0 + MIN, &q, &evs), -1, "a succeeded run is refused");
	ok(strstr(wr_errmsg(), "already succeeded") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);
	wr_start_req_free(&q);
	fx_created(&f, T0, "run-c", "wf", "{}");
	fx_ev(&f, T0, "run.cancelled", "\"run\":\"run-c\",\"reason\":\"no longer needed\"");
	is_int(cont(&f, "run-c", T0 + MIN, &q, &evs), -1, "a cancelled run is refused");
	ok(strstr(wr_errmsg(), "cancelled: no longer needed") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);
	wr_start_req_free(&q);
	fx_created(&f, T0, "run-d", "wf", "{}");
	fx_attempt(&f, T0, "run-d", 1, "error", 1);
	fx_ev(&f, T0 + 2 * SEC, "run.blocked", "\"run\":\"run-d\",\"reason\":\"max_attempts\"");
	is_int(cont(&f, "run-d", T0 + MIN, &q, &evs), -1, "a blocked run is refused");
	ok(strstr(wr_errmsg(), "unblock it first") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);
	wr_start_req_free(&q);
	fx_free(&f);
}

static void start_limit(void)
{
	struct t_fx f;
	fx_init(&f);
	pol.concurrency = 1;
	struct wr_start_req a, b;
	int rc;
	new_req(&a, "r1", "wf");
	json_decref(fx_decide(&f, wr_decide_run_start, T0, &a, &rc));
	is_int(a.result, WR_START_STARTED, "the first takes the one slot");

	new_req(&b, "r2", "wf");
	b.wait = 1;
	json_t *evs = fx_decide(&f, wr_decide_run_start, T0, &b, &rc);
	is_int(b.result, WR_START_BUSY, "a waiting second is busy");
	is_int(json_array_size(evs), 0, "and appends nothing");
	is_int(b.running, 1, "it saw one running");
	json_decref(evs);

	b.give_up = 1;
	evs = fx_decide(&f, wr_decide_run_start, T0, &b, &rc);
	is_int(b.result, WR_START_LIMIT, "one that gave up waiting is rejected");
	is_str(fx_types(evs), "run.created attempt.rejected", "its run is created and rejected");
	is_str(fx_str(fx_find(evs, "attempt.rejected", 0), "reason"), "concurrency_limit", "reason concurrency_limit");
	json_decref(evs);

	/* r2's only start was rejected: it has ended, --run refuses it */
	struct wr_start_req c;
	memset(&c, 0, sizeof c);
	c.run = "r2";
	evs = fx_decide(&f, wr_decide_run_start, T0, &c, &rc);
	is_int(rc, -1, "a run whose only start was rejected is not continued");
	ok(strstr(wr_errmsg(), "was rejected") != NULL, "why: %s", wr_errmsg());
	is_int(json_array_size(evs), 0, "nothing appended");
	json_decref(evs);
	wr_start_req_free(&c);

	/* --run at the limit without waiting: rejected, no run.created */
	fx_created(&f, T0, "r3", "wf", "{\"concurrency\":1}");
	fx_attempt(&f, T0, "r3", 1, "error", 1);
	memset(&c, 0, sizeof c);
	c.run = "r3";
	evs = fx_decide(&f, wr_decide_run_start, T0 + 2 * SEC, &c, &rc);
	is_int(c.result, WR_START_LIMIT, "a continued run at the limit is rejected");
	is_str(fx_types(evs), "attempt.rejected", "attempt.rejected alone");
	json_decref(evs);
	wr_start_req_free(&c);
	pol.concurrency = 0;
	req_free(&a);
	req_free(&b);
	fx_free(&f);
}

static void start_breaker(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_ev(&f, T0, "breaker.changed", "\"workflow\":\"wf\",\"from\":\"closed\",\"to\":\"open\",\"open_until\":\"%s\"",
	      "2026-11-20T22:36:05.000Z");
	struct wr_start_req q;
	new_req(&q, "r1", "wf");
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_run_start, T0 + MIN, &q, &rc);
	is_int(q.result, WR_START_BREAKER, "an open breaker rejects");
	is_str(fx_types(evs), "run.created attempt.rejected", "the run is created and rejected");
	is_str(fx_str(fx_find(evs, "attempt.rejected", 0), "reason"), "breaker_open", "reason breaker_open");
	json_decref(evs);
	req_free(&q);

	new_req(&q, "r2", "wf");
	evs = fx_decide(&f, wr_decide_run_start, T0 + 6 * MIN, &q, &rc);
	is_int(q.result, WR_START_STARTED, "after the cooldown one trial starts");
	is_str(fx_types(evs), "run.created breaker.changed attempt.started", "with open -> half_open in its batch");
	json_decref(evs);
	req_free(&q);
	fx_free(&f);
}

static void beat(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{}");
	fx_started(&f, T0, "r1", 1);
	struct wr_beat_req q = {.run = "r1", .attempt = 1, .lease_ms = MIN};
	struct wr_batch b = {json_array(), 0};
	is_int(wr_decide_run_beat(&f.st, T0 + 30 * SEC, &q, &b), 0, "a heartbeat");
	is_str(fx_types(b.events), "attempt.heartbeat", "attempt.heartbeat");
	is_str(fx_str(json_array_get(b.events, 0), "lease_until"), "2026-11-20T22:32:35.000Z", "lease now + lease_ms");
	is_int(b.nosync, 1, "a bare heartbeat needs no fdatasync");
	is_int(q.fenced, 0, "not fenced");
	json_decref(b.events);

	struct wr_progress_item items[] = {{"fetch", 1, "3 files"}, {"build", 0, NULL}};
	q.lease_ms = 0;
	q.items = items;
	q.nitems = 2;
	b = (struct wr_batch){json_array(), 0};
	wr_decide_run_beat(&f.st, T0 + 31 * SEC, &q, &b);
	is_str(fx_types(b.events), "attempt.progress attempt.progress", "progress only (lease_ms 0: no heartbeat)");
	is_str(fx_str(json_array_get(b.events, 0), "status"), "done", "done");
	is_str(fx_str(json_array_get(b.events, 0), "detail"), "3 files", "with its detail");
	is_str(fx_str(json_array_get(b.events, 1), "status"), "started", "started");
	ok(!json_object_get(json_array_get(b.events, 1), "detail"), "no detail when none");
	is_int(b.nosync, 0, "a stage done is synced");
	is_int(fx_apply_all(&f, b.events, T0 + 31 * SEC), 0, "the events apply");
	json_decref(b.events);

	q.attempt = 2;
	b = (struct wr_batch){json_array(), 0};
	wr_decide_run_beat(&f.st, T0 + 32 * SEC, &q, &b);
	ok(q.fenced && json_array_size(b.events) == 0, "another attempt number is fenced, nothing appended");
	json_decref(b.events);
	fx_finished(&f, T0 + 33 * SEC, "r1", 1, "success", 0);
	q.attempt = 1;
	b = (struct wr_batch){json_array(), 0};
	wr_decide_run_beat(&f.st, T0 + 34 * SEC, &q, &b);
	ok(q.fenced && json_array_size(b.events) == 0, "a finished attempt is fenced");
	json_decref(b.events);
	fx_free(&f);
}

static void stuck(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{}");
	fx_started(&f, T0, "r1", 1);
	struct wr_stuck_req q = {.run = "r1", .attempt = 1, .reason = "repeated_output", .detail = "the same line", .abort = 1};
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_run_stuck, T0 + MIN, &q, &rc);
	is_str(fx_types(evs), "attempt.stuck", "abort: attempt.stuck alone (the finish notifies)");
	is_str(fx_str(json_array_get(evs, 0), "action"), "abort", "action abort");
	json_decref(evs);
	q.abort = 0;
	q.reason = "no_progress";
	evs = fx_decide(&f, wr_decide_run_stuck, T0 + 2 * MIN, &q, &rc);
	is_str(fx_types(evs), "attempt.stuck outbox.enqueued", "notify: and a stuck notification");
	json_t *o = fx_find(evs, "outbox.enqueued", 0);
	is_str(fx_str(o, "kind"), "stuck", "kind stuck");
	ok(strstr(fx_str(o, "message"), "looks stuck (no_progress): the same line; it goes on running") != NULL,
	   "message: %s", fx_str(o, "message"));
	ok(!json_object_get(o, "id"), "the decision leaves the id to the commit");
	json_decref(evs);
	q.detail = NULL;
	evs = fx_decide(&f, wr_decide_run_stuck, T0 + 3 * MIN, &q, &rc);
	ok(strstr(fx_str(fx_find(evs, "outbox.enqueued", 0), "message"), "(no_progress); it goes") != NULL,
	   "no detail, no colon");
	json_decref(evs);
	q.attempt = 9;
	evs = fx_decide(&f, wr_decide_run_stuck, T0 + 3 * MIN, &q, &rc);
	ok(q.fenced && json_array_size(evs) == 0, "stuck of another attempt is fenced");
	json_decref(evs);
	fx_free(&f);
}

static void finish(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{\"max_attempts\":3}");
	fx_started(&f, T0, "r1", 1);
	struct wr_end_req q;
	memset(&q, 0, sizeof q);
	q.run = "nosuch";
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_run_finish, T0 + MIN, &q, &rc);
	is_int(rc, -1, "the finish of an unknown run is an internal error");
	json_decref(evs);

	q.run = "r1";
	q.fin = (struct wr_finish){.attempt = 1, .outcome = WR_OUT_SUCCESS, .duration_ms = -1, .cpu_ms = -1,
				   .max_rss_kb = -1, .output_bytes = -1};
	evs = fx_decide(&f, wr_decide_run_finish, T0 + MIN, &q, &rc);
	is_int(rc, 0, "a live attempt finishes");
	is_int(q.fenced, 0, "not fenced");
	is_str(fx_types(evs), "attempt.finished", "attempt.finished");
	json_decref(evs);

	/* again: fenced as ended, with how it had ended */
	q.fin.outcome = WR_OUT_ERROR;
	evs = fx_decide(&f, wr_decide_run_finish, T0 + 2 * MIN, &q, &rc);
	ok(rc == 0 && q.fenced, "a second finish is fenced");
	ok(json_array_size(evs) == 1 && !strcmp(fx_str(json_array_get(evs, 0), "stale"), "it was recorded as success"),
	   "its attempt.finished alone is recorded, marked stale");
	is_int(fx_run(&f, "r1")->att[0].outcome, WR_OUT_SUCCESS, "the first finish still wins");
	is_int(q.fenced_outcome, WR_OUT_SUCCESS, "fenced_outcome: how it ended");
	is_str(q.fenced_why, "it was recorded as success", "fenced_why");
	json_decref(evs);

	/* superseded */
	fx_created(&f, T0, "r2", "wf", "{\"max_attempts\":3}");
	fx_started(&f, T0, "r2", 1);
	fx_finished(&f, T0 + SEC, "r2", 1, "lost", -1);
	fx_started(&f, T0 + 2 * SEC, "r2", 2);
	q.run = "r2";
	q.fin.attempt = 1;
	evs = fx_decide(&f, wr_decide_run_finish, T0 + 3 * SEC, &q, &rc);
	ok(q.fenced && fx_count(evs, "attempt.finished") == 1 &&
		   !strcmp(fx_str(json_array_get(evs, 0), "stale"), "attempt 2 has superseded it"),
	   "the late finish of a superseded attempt is fenced, recorded stale");
	is_int(q.fenced_outcome, WR_OUT_NONE, "superseded: no outcome");
	is_str(q.fenced_why, "attempt 2 has superseded it", "fenced_why names the successor");
	json_decref(evs);
	free(q.fenced_why);
	fx_free(&f);
}

int main(void)
{
	wr_policy_defaults(&pol);
	start_new();
	start_continue();
	start_limit();
	start_breaker();
	beat();
	stuck();
	finish();
	return done_testing();
}
