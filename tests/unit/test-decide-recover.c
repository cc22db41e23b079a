/* test-decide-recover - wr-recover's decisions (core/decide_recover.c),
 * every branch: the pass (nothing to decide, retry with the one backoff,
 * wait while the breaker is open, escalate for max_attempts, no_retry_on
 * and the deadline, each outcome's words), due runs, the manual retry
 * (running, ended, blocked with and without --force, a final failure with
 * and without --force, a plain relaunch), unblock, cancel (live attempt,
 * no live attempt, ended) and the breaker reset. */
#include "tap.h"
#include "helpers.h"

#include "decide_recover.h"

static struct wr_recover_req rq(const char *run)
{
	struct wr_recover_req q;
	memset(&q, 0, sizeof q);
	q.run = run;
	q.jitter = 0.5;
	return q;
}

static void pass(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{\"max_attempts\":3,\"backoff\":{\"initial_ms\":1000,\"factor\":3,\"max_ms\":60000}}");
	fx_started(&f, T0, "r1", 1);
	struct wr_recover_req q = rq("r1");
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_recover, T0, &q, &rc);
	ok(rc == 0 && q.action == WR_RA_NONE && !json_array_size(evs), "a running run needs no decision");
	json_decref(evs);
	q.run = "nosuch";
	json_decref(fx_decide(&f, wr_decide_recover, T0, &q, &rc));
	ok(rc == 0 && q.action == WR_RA_NONE, "an unknown run: nothing");

	fx_finished(&f, T0 + SEC, "r1", 1, "error", 1);
	ok(wr_run_needs_decision(fx_run(&f, "r1")), "a failure needs a decision");
	q = rq("r1");
	evs = fx_decide(&f, wr_decide_recover, T0 + 2 * SEC, &q, &rc);
	is_int(q.action, WR_RA_RETRY, "retry");
	is_str(q.reason, "error", "reason: the outcome");
	is_int(q.recoveries, 1, "recoveries after the decision");
	is_int(q.not_before, T0 + 2 * SEC + 1000, "first retry after initial (jitter 0.5: none)");
	json_t *d = fx_find(evs, "recovery.decided", 0);
	ok(d && !strcmp(fx_str(d, "action"), "retry") && json_integer_value(json_object_get(d, "attempt")) == 1,
	   "recovery.decided retry about attempt 1");
	is_str(wr_status_name(fx_run(&f, "r1")->status), "retry_wait", "the run waits");
	ok(!wr_run_due(fx_run(&f, "r1"), T0 + 2 * SEC) && wr_run_due(fx_run(&f, "r1"), T0 + 3 * SEC),
	   "due at not_before");
	json_decref(evs);
	evs = fx_decide(&f, wr_decide_recover, T0 + 3 * SEC, &q, &rc);
	ok(q.action == WR_RA_NONE && !json_array_size(evs), "decided once per attempt");
	json_decref(evs);

	fx_attempt(&f, T0 + 4 * SEC, "r1", 2, "timeout", -1);
	q = rq("r1");
	q.jitter = 0.999;
	evs = fx_decide(&f, wr_decide_recover, T0 + 6 * SEC, &q, &rc);
	is_int(q.not_before - (T0 + 6 * SEC), 3598, "second retry: initial * factor, +20%% at the top of the jitter");
	json_decref(evs);

	/* third attempt fails: max attempts, escalate */
	fx_attempt(&f, T0 + 10 * SEC, "r1", 3, "stuck", -1);
	q = rq("r1");
	evs = fx_decide(&f, wr_decide_recover, T0 + 12 * SEC, &q, &rc);
	is_int(q.action, WR_RA_ESCALATE, "escalate after the last attempt");
	is_str(q.reason, "max_attempts", "reason max_attempts");
	is_int(q.blocked, 1, "blocked");
	is_str(fx_types(evs), "recovery.decided run.blocked outbox.enqueued", "decided, blocked, escalated in one batch");
	is_str(fx_str(fx_find(evs, "run.blocked", 0), "reason"), "attempt 3 of 3 was stuck; max attempts used",
	       "the blocked reason in words");
	json_t *o = fx_find(evs, "outbox.enqueued", 0);
	is_str(fx_str(o, "kind"), "escalated", "an escalated notification");
	ok(strstr(fx_str(o, "message"), "is blocked and needs a human") != NULL, "message: %s", fx_str(o, "message"));
	is_str(wr_status_name(fx_run(&f, "r1")->status), "blocked", "the run is blocked");
	json_decref(evs);
	fx_free(&f);
}

/* One run failing its first attempt with outcome and code; the escalation's
 * blocked reason. */
static void escalation(const char *policy, const char *outcome, int code, int64_t now, const char *want_why,
		       const char *want_text)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", policy);
	fx_started(&f, T0, "r1", 1);
	fx_finished(&f, T0 + SEC, "r1", 1, outcome, code);
	struct wr_recover_req q = rq("r1");
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_recover, now, &q, &rc);
	is_str(q.reason, want_why, "escalation %s", want_why);
	is_str(fx_str(fx_find(evs, "run.blocked", 0), "reason"), want_text, "blocked reason for %s (%s)", want_why,
	       outcome);
	json_decref(evs);
	fx_free(&f);
}

static void escalations(void)
{
	escalation("{\"max_attempts\":3,\"no_retry_on\":[2,3]}", "error", 3, T0 + MIN, "no_retry_on",
		   "attempt 1 failed with exit code 3; exit code 3 is in no_retry_on");
	escalation("{\"max_attempts\":3,\"deadline_ms\":60000}", "lost", -1, T0 + MIN, "deadline",
		   "attempt 1 was lost; the run's deadline passed at 2026-11-20T22:32:05.000Z");
	escalation("{\"max_attempts\":1}", "error", 1, T0 + MIN, "max_attempts",
		   "attempt 1 of 1 failed with exit code 1; max attempts used");
	escalation("{\"max_attempts\":1}", "timeout", -1, T0 + MIN, "max_attempts",
		   "attempt 1 of 1 timed out; max attempts used");

	/* died of a signal: the words from the attempt's signal */
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{\"max_attempts\":1}");
	fx_started(&f, T0, "r1", 1);
	fx_ev(&f, T0 + SEC, "attempt.finished", "\"run\":\"r1\",\"attempt\":1,\"outcome\":\"error\",\"signal\":9");
	struct wr_recover_req q = rq("r1");
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_recover, T0 + MIN, &q, &rc);
	is_str(fx_str(fx_find(evs, "run.blocked", 0), "reason"), "attempt 1 of 1 died of signal 9; max attempts used",
	       "a signal in words");
	json_t *det = json_object_get(fx_find(evs, "outbox.enqueued", 0), "details");
	ok(json_integer_value(json_object_get(det, "signal")) == 9 && !json_object_get(det, "exit_code"),
	   "details: the signal, no exit code");
	json_decref(evs);
	fx_free(&f);
}

static void breaker_wait(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{}");
	fx_attempt(&f, T0, "r1", 1, "error", 1);
	fx_ev(&f, T0 + SEC, "breaker.changed", "\"workflow\":\"wf\",\"from\":\"closed\",\"to\":\"open\",\"open_until\":\"%s\"",
	      "2026-11-20T22:36:05.000Z");
	ok(wr_breaker_is_open(&f.st, "wf", T0 + MIN) && !wr_breaker_is_open(&f.st, "wf", T0 + 5 * MIN),
	   "open until its cooldown ends");
	ok(!wr_breaker_is_open(&f.st, "nosuch", T0), "an unknown workflow has no open breaker");
	struct wr_recover_req q = rq("r1");
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_recover, T0 + MIN, &q, &rc);
	is_int(q.action, WR_RA_WAIT, "wait while the breaker is open");
	is_str(q.reason, "breaker_open", "reason breaker_open");
	is_int(q.not_before, T0 + 5 * MIN, "until its cooldown ends");
	is_int(json_array_size(evs), 0, "nothing recorded");
	json_decref(evs);
	evs = fx_decide(&f, wr_decide_recover, T0 + 5 * MIN, &q, &rc);
	is_int(q.action, WR_RA_RETRY, "after the cooldown: retry");
	json_decref(evs);
	fx_free(&f);
}

static void due_rejected(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{}");
	fx_attempt(&f, T0, "r1", 1, "error", 1);
	struct wr_recover_req q = rq("r1");
	int rc;
	json_decref(fx_decide(&f, wr_decide_recover, T0 + 2 * SEC, &q, &rc));
	fx_ev(&f, T0 + HOUR, "attempt.rejected", "\"run\":\"r1\",\"reason\":\"concurrency_limit\"");
	ok(wr_run_due(fx_run(&f, "r1"), T0 + HOUR), "a retry that wr-run rejected after the decision is due");
	fx_created(&f, T0, "r2", "wf", "{}");
	fx_ev(&f, T0, "attempt.rejected", "\"run\":\"r2\",\"reason\":\"breaker_open\"");
	ok(!wr_run_due(fx_run(&f, "r2"), T0 + HOUR), "a run rejected before its first attempt is never due");
	fx_free(&f);
}

static int manual(struct t_fx *f, const char *run, int force, struct wr_recover_req *q, json_t **evs)
{
	*q = rq(run);
	q->force = force;
	int rc;
	*evs = fx_decide(f, wr_decide_retry_manual, T0 + HOUR, q, &rc);
	return rc;
}

static void retry_manual(void)
{
	struct t_fx f;
	fx_init(&f);
	struct wr_recover_req q;
	json_t *evs;
	is_int(manual(&f, "nosuch", 0, &q, &evs), -1, "retry of an unknown run is refused");
	ok(strstr(wr_errmsg(), "no run nosuch") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);

	fx_created(&f, T0, "run", "wf", "{\"max_attempts\":2}");
	fx_started(&f, T0, "run", 1);
	is_int(manual(&f, "run", 0, &q, &evs), -1, "a running run is refused");
	ok(strstr(wr_errmsg(), "is running (attempt 1)") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);

	fx_finished(&f, T0 + SEC, "run", 1, "error", 1);
	is_int(manual(&f, "run", 0, &q, &evs), 0, "a failure with retries left");
	ok(q.action == WR_RA_RETRY && !strcmp(q.reason, "manual") && q.recoveries == 1 && q.not_before == T0 + HOUR,
	   "decided retry now, a recovery counted");
	is_str(fx_str(fx_find(evs, "recovery.decided", 0), "reason"), "manual", "recorded as manual");
	json_decref(evs);
	is_int(manual(&f, "run", 0, &q, &evs), 0, "a run decided already");
	ok(q.action == WR_RA_LAUNCH && !json_array_size(evs), "is launched, nothing recorded");
	json_decref(evs);

	fx_attempt(&f, T0 + 2 * SEC, "run", 2, "error", 1); /* final: max attempts */
	is_int(manual(&f, "run", 0, &q, &evs), -1, "a final failure needs --force");
	ok(strstr(wr_errmsg(), "no retry may follow attempt 2 (max_attempts)") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);
	is_int(manual(&f, "run", 1, &q, &evs), 0, "with --force");
	ok(q.action == WR_RA_RETRY && !strcmp(q.reason, "manual_forced") && q.recoveries == 0,
	   "a new budget: recoveries 0");
	json_decref(evs);

	fx_created(&f, T0, "blk", "wf", "{\"max_attempts\":1}");
	fx_attempt(&f, T0, "blk", 1, "error", 1);
	fx_ev(&f, T0 + 2 * SEC, "run.blocked", "\"run\":\"blk\",\"reason\":\"max attempts used\"");
	is_int(manual(&f, "blk", 0, &q, &evs), -1, "a blocked run needs --force");
	ok(strstr(wr_errmsg(), "is blocked (max attempts used)") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);
	is_int(manual(&f, "blk", 1, &q, &evs), 0, "with --force");
	is_str(fx_types(evs), "run.unblocked", "it is unblocked");
	is_str(fx_str(json_array_get(evs, 0), "note"), "wr-recover retry --force", "with a note");
	ok(q.action == WR_RA_UNBLOCK && !strcmp(q.reason, "manual_forced"), "action unblock");
	json_decref(evs);

	fx_created(&f, T0, "ok", "wf", "{}");
	fx_attempt(&f, T0, "ok", 1, "success", 0);
	is_int(manual(&f, "ok", 1, &q, &evs), -1, "a succeeded run is refused, even with --force");
	ok(strstr(wr_errmsg(), "has ended (succeeded)") != NULL, "why: %s", wr_errmsg());
	json_decref(evs);
	fx_free(&f);
}

static void unblock_cancel(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "blk", "wf", "{\"max_attempts\":1}");
	fx_attempt(&f, T0, "blk", 1, "error", 1);
	struct wr_recover_req q = rq("blk");
	q.note = "fixed the disk";
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_unblock, T0 + MIN, &q, &rc);
	ok(rc == -1 && strstr(wr_errmsg(), "is failed, not blocked"), "unblock of a run that is not blocked: %s",
	   wr_errmsg());
	json_decref(evs);
	fx_ev(&f, T0 + 2 * SEC, "run.blocked", "\"run\":\"blk\",\"reason\":\"x\"");
	evs = fx_decide(&f, wr_decide_unblock, T0 + MIN, &q, &rc);
	ok(rc == 0 && q.action == WR_RA_UNBLOCK && !strcmp(q.reason, "fixed the disk") && q.attempt == 1,
	   "unblock with a note");
	is_str(fx_str(fx_find(evs, "run.unblocked", 0), "note"), "fixed the disk", "recorded");
	json_decref(evs);
	q.run = "nosuch";
	json_decref(fx_decide(&f, wr_decide_unblock, T0, &q, &rc));
	is_int(rc, -1, "unblock of an unknown run");

	/* cancel a live attempt */
	fx_created(&f, T0, "live", "wf", "{\"kill_after_ms\":5000}");
	fx_started(&f, T0, "live", 1);
	q = rq("live");
	q.note = "not needed";
	evs = fx_decide(&f, wr_decide_cancel, T0 + MIN, &q, &rc);
	is_int(q.action, WR_RA_CANCEL, "cancel");
	is_str(fx_types(evs), "run.cancelled attempt.finished outbox.enqueued",
	       "run.cancelled first, then the attempt ends cancelled with its notification");
	is_str(fx_str(fx_find(evs, "attempt.finished", 0), "reason"), "not needed", "the reason on the finish");
	ok(q.kill_pgid == 201 && q.kill_pgid_start == 2001 && !strcmp(q.kill_host, "h") && q.kill_after_ms == 5000,
	   "the group to kill is reported");
	is_str(wr_status_name(fx_run(&f, "live")->status), "cancelled", "the run is cancelled");
	json_decref(evs);
	evs = fx_decide(&f, wr_decide_cancel, T0 + MIN, &q, &rc);
	ok(rc == -1 && strstr(wr_errmsg(), "has ended (cancelled)"), "a cancelled run cannot be cancelled again");
	json_decref(evs);

	/* cancel without a live attempt */
	fx_created(&f, T0, "idle", "wf", "{}");
	fx_attempt(&f, T0, "idle", 1, "error", 1);
	q = rq("idle");
	evs = fx_decide(&f, wr_decide_cancel, T0 + MIN, &q, &rc);
	is_str(fx_types(evs), "run.cancelled outbox.enqueued", "no live attempt: run.cancelled and its notification");
	json_t *o = fx_find(evs, "outbox.enqueued", 0);
	ok(strstr(fx_str(o, "message"), "was cancelled") && !strstr(fx_str(o, "message"), "cancelled:"),
	   "message without a reason: %s", fx_str(o, "message"));
	is_int(q.kill_pgid, 0, "nothing to kill");
	json_decref(evs);
	q.run = "nosuch";
	json_decref(fx_decide(&f, wr_decide_cancel, T0, &q, &rc));
	is_int(rc, -1, "cancel of an unknown run");
	fx_free(&f);
}

static void breaker_reset(void)
{
	struct t_fx f;
	fx_init(&f);
	struct wr_breaker_req q = {"wf", 0, NULL};
	int rc;
	json_decref(fx_decide(&f, wr_decide_breaker_reset, T0, &q, &rc));
	ok(rc == -1 && strstr(wr_errmsg(), "no workflow wf"), "an unknown workflow");
	fx_created(&f, T0, "r1", "wf", "{}");
	json_t *evs = fx_decide(&f, wr_decide_breaker_reset, T0, &q, &rc);
	ok(rc == 0 && !q.changed && !strcmp(q.from, "closed") && !json_array_size(evs), "closed: nothing to reset");
	json_decref(evs);
	fx_ev(&f, T0, "breaker.changed", "\"workflow\":\"wf\",\"from\":\"closed\",\"to\":\"open\",\"open_until\":\"%s\"",
	      "2026-11-20T22:36:05.000Z");
	evs = fx_decide(&f, wr_decide_breaker_reset, T0, &q, &rc);
	ok(q.changed && !strcmp(q.from, "open"), "open: reset");
	is_str(fx_str(json_array_get(evs, 0), "to"), "closed", "breaker.changed to closed");
	json_decref(evs);
	fx_free(&f);
}

static void names(void)
{
	for (int a = 0; a < WR_RA__COUNT; a++)
		ok(wr_recover_action_from_name(wr_recover_action_name((enum wr_recover_action)a)) == a, "action %s",
		   wr_recover_action_name((enum wr_recover_action)a));
	ok(wr_recover_action_name(WR_RA__COUNT) == NULL, "out of range action");
}

int main(void)
{
	pass();
	escalations();
	breaker_wait();
	due_rejected();
	retry_manual();
	unblock_cancel();
	breaker_reset();
	names();
	return done_testing();
}
