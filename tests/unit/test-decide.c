/* test-decide - the decision pieces shared by the tools (core/decide.c):
 * the one backoff rule, when a failure is final, short ids, and how an
 * attempt ends (wr_finish_events): every outcome's notification, the
 * recovered notice, a failure with and without a retry to follow, stale
 * finishes refused, durations and the optional figures. */
#include "tap.h"
#include "helpers.h"

#include "decide.h"

static void backoff(void)
{
	is_int(wr_backoff(1000, 2, 60000, 1, 0.5), 1000, "after the first failure: initial");
	is_int(wr_backoff(1000, 2, 60000, 0, 0.5), 1000, "n 0 counts as the first");
	is_int(wr_backoff(1000, 2, 60000, 4, 0.5), 8000, "after the 4th: initial * factor^3");
	is_int(wr_backoff(1000, 2, 60000, 40, 0.5), 60000, "capped at max");
	is_int(wr_backoff(1000, 1e300, 60000, 9, 0.5), 60000, "an overflow is capped at max");
	is_int(wr_backoff(1000, 0.5, 60000, 3, 0.5), 1000, "a factor below 1 counts as 1");
	is_int(wr_backoff(1000, 2, 60000, 1, 0), 800, "jitter 0: -20%%");
	is_int(wr_backoff(1000, 2, 60000, 1, 0.99999), 1199, "jitter near 1: +20%%");
	is_int(wr_backoff(1000, 2, 60000, 1, 1), 1000, "jitter 1 is out of range: none");
	is_int(wr_backoff(1000, 2, 60000, 1, -0.1), 1000, "a negative jitter: none");
	is_int(wr_backoff(1000, 2, 60000, 1, 0.0 / 0.0), 1000, "NaN jitter: none");
	is_int(wr_backoff(0, 2, 60000, 5, 0.9), 0, "initial 0: no wait");
	is_int(wr_backoff(-5, 2, 60000, 1, 0.5), 0, "a negative delay is 0");
	int64_t lo = INT64_MAX, hi = 0;
	for (int i = 0; i < 100; i++) {
		int64_t d = wr_backoff(30000, 2, HOUR, 2, i / 100.0);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	ok(lo == 48000 && hi == 71760, "over the jitter range: 48s .. 71.76s for 60s (%lld..%lld)", (long long)lo,
	   (long long)hi);
}

static void final_and_short(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{\"max_attempts\":3,\"no_retry_on\":[4],\"deadline_ms\":60000}");
	const struct wr_run *r = fx_run(&f, "r1");
	ok(!wr_failure_is_final(r, 1, 1, T0), "attempt 1 of 3, exit 1: a retry may follow");
	ok(wr_failure_is_final(r, 3, 1, T0), "attempt 3 of 3: final");
	ok(wr_failure_is_final(r, 1, 4, T0), "an exit code in no_retry_on: final");
	ok(!wr_failure_is_final(r, 1, -1, T0), "no exit code (killed): not no_retry_on");
	ok(wr_failure_is_final(r, 1, 1, T0 + MIN), "the deadline passed: final");
	ok(!wr_failure_is_final(r, 1, 1, T0 + MIN - 1), "just before the deadline: not final");
	is_str(wr_short_id("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60"), "2e3f4a60", "short id: the last 8 characters");
	is_str(wr_short_id("abc"), "abc", "a short id is itself");
	fx_free(&f);
}

/* Ends attempt 1 of a fresh run (policy) with fin at now; returns the
 * batch, *rc the result. */
static json_t *finish(struct t_fx *f, const char *policy, const struct wr_finish *fin, int64_t now, int *rc)
{
	fx_init(f);
	fx_created(f, T0, "run-00000001", "wf", policy);
	fx_started(f, T0, "run-00000001", 1);
	json_t *evs = json_array();
	*rc = wr_finish_events(&f->st, fx_run(f, "run-00000001"), fin, now, evs);
	return evs;
}

/* The notification kind (or "-") and its message for an outcome. */
static void notifies(enum wr_outcome o, int64_t code, int64_t sig, const char *reason, const char *policy,
		     const char *kind, const char *msg)
{
	struct t_fx f;
	struct wr_finish fin = {.attempt = 1, .outcome = o, .exit_code = code, .signal = sig, .duration_ms = -1,
				.cpu_ms = -1, .max_rss_kb = -1, .output_bytes = -1, .reason = reason};
	int rc;
	json_t *evs = finish(&f, policy, &fin, T0 + 90 * SEC, &rc);
	json_t *n = fx_find(evs, "outbox.enqueued", 0);
	is_str(n ? fx_str(n, "kind") : "-", kind, "%s: notification %s", wr_outcome_name(o), kind);
	if (n) {
		is_str(fx_str(n, "message"), msg, "%s: message", wr_outcome_name(o));
		ok(!json_object_get(n, "id"), "%s: the id is the commit's", wr_outcome_name(o));
		is_str(fx_str(n, "run"), "run-00000001", "%s: the notification names the run", wr_outcome_name(o));
	}
	json_decref(evs);
	fx_free(&f);
}

static void outcomes(void)
{
	notifies(WR_OUT_SUCCESS, 0, 0, NULL, "{}", "-", NULL);
	notifies(WR_OUT_TIMEOUT, -1, 9, NULL, "{}", "timeout", "run 00000001 (wf) attempt 1 timed out after 1m30s");
	notifies(WR_OUT_STUCK, -1, 15, "the same line 50 times", "{}", "stuck",
		 "run 00000001 (wf) attempt 1 was stuck and aborted after 1m30s: the same line 50 times");
	notifies(WR_OUT_STUCK, -1, 15, NULL, "{}", "stuck", "run 00000001 (wf) attempt 1 was stuck and aborted after 1m30s");
	notifies(WR_OUT_LOST, -1, 0, NULL, "{}", "lost", "run 00000001 (wf) attempt 1 was lost: its supervisor is gone");
	notifies(WR_OUT_LOST, -1, 0, "lease expired", "{}", "lost", "run 00000001 (wf) attempt 1 was lost: lease expired");
	notifies(WR_OUT_CANCELLED, -1, 0, "not needed", "{}", "cancelled",
		 "run 00000001 (wf) attempt 1 was cancelled: not needed");
	notifies(WR_OUT_CANCELLED, -1, 0, NULL, "{}", "cancelled", "run 00000001 (wf) attempt 1 was cancelled");
	notifies(WR_OUT_ERROR, 1, 0, NULL, "{\"max_attempts\":3}", "-", NULL);
	notifies(WR_OUT_ERROR, 1, 0, NULL, "{\"max_attempts\":1}", "failed",
		 "run 00000001 (wf) attempt 1 failed with exit code 1; no retry will follow");
	notifies(WR_OUT_ERROR, -1, 9, NULL, "{\"max_attempts\":1}", "failed",
		 "run 00000001 (wf) attempt 1 died of signal 9; no retry will follow");
	notifies(WR_OUT_NONE, -1, 0, NULL, "{}", "-", NULL);
}

static void finished_event(void)
{
	struct t_fx f;
	struct wr_finish fin = {.attempt = 1, .outcome = WR_OUT_ERROR, .exit_code = 2, .duration_ms = -1,
				.cpu_ms = 250, .max_rss_kb = 9000, .output_bytes = 77, .reason = "boom"};
	int rc;
	json_t *evs = finish(&f, "{\"max_attempts\":1}", &fin, T0 + 5 * SEC, &rc);
	is_int(rc, 0, "a live attempt ends");
	json_t *e = fx_find(evs, "attempt.finished", 0);
	ok(json_integer_value(json_object_get(e, "duration_ms")) == 5000, "duration from the start when not given");
	ok(json_integer_value(json_object_get(e, "exit_code")) == 2 && json_is_null(json_object_get(e, "signal")),
	   "exit code; signal null");
	ok(json_integer_value(json_object_get(e, "cpu_ms")) == 250 && json_integer_value(json_object_get(e, "max_rss_kb")) == 9000 &&
		   json_integer_value(json_object_get(e, "output_bytes")) == 77,
	   "the figures given");
	is_str(fx_str(e, "reason"), "boom", "reason");
	json_t *det = json_object_get(fx_find(evs, "outbox.enqueued", 0), "details");
	ok(json_integer_value(json_object_get(det, "exit_code")) == 2 && !json_object_get(det, "signal") &&
		   json_integer_value(json_object_get(det, "duration_ms")) == 5000,
	   "details: exit code and duration");
	is_int(fx_apply_all(&f, evs, T0 + 5 * SEC), 0, "the batch applies");
	json_decref(evs);
	/* ended now: a second finish is refused */
	evs = json_array();
	is_int(wr_finish_events(&f.st, fx_run(&f, "run-00000001"), &fin, T0 + 6 * SEC, evs), -1, "a finished attempt is not live");
	ok(strstr(wr_errmsg(), "is not live") && json_array_size(evs) == 0, "nothing appended: %s", wr_errmsg());
	fin.attempt = 2;
	is_int(wr_finish_events(&f.st, fx_run(&f, "run-00000001"), &fin, T0 + 6 * SEC, evs), -1, "another attempt number");
	json_decref(evs);
	fx_free(&f);

	struct wr_finish given = {.attempt = 1, .outcome = WR_OUT_SUCCESS, .duration_ms = 1234, .cpu_ms = -1,
				.max_rss_kb = -1, .output_bytes = -1};
	evs = finish(&f, "{}", &given, T0 + 5 * SEC, &rc);
	e = fx_find(evs, "attempt.finished", 0);
	ok(json_integer_value(json_object_get(e, "duration_ms")) == 1234, "a duration given is kept");
	ok(!json_object_get(e, "cpu_ms") && !json_object_get(e, "max_rss_kb") && !json_object_get(e, "output_bytes"),
	   "unknown figures are left out");
	json_decref(evs);
	fx_free(&f);

	struct wr_finish early = {.attempt = 1, .outcome = WR_OUT_SUCCESS, .duration_ms = -1, .cpu_ms = -1,
				.max_rss_kb = -1, .output_bytes = -1};
	evs = finish(&f, "{}", &early, T0 - 5 * SEC, &rc);
	ok(json_integer_value(json_object_get(fx_find(evs, "attempt.finished", 0), "duration_ms")) == 0,
	   "a clock behind the start gives duration 0, never negative");
	json_decref(evs);
	fx_free(&f);
}

static void recovered(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{\"max_attempts\":3}");
	fx_attempt(&f, T0, "r1", 1, "error", 1);
	fx_started(&f, T0 + MIN, "r1", 2);
	struct wr_finish fin = {.attempt = 2, .outcome = WR_OUT_SUCCESS, .duration_ms = -1, .cpu_ms = -1,
				.max_rss_kb = -1, .output_bytes = -1};
	json_t *evs = json_array();
	is_int(wr_finish_events(&f.st, fx_run(&f, "r1"), &fin, T0 + 2 * MIN, evs), 0, "attempt 2 succeeds");
	json_t *n = fx_find(evs, "outbox.enqueued", 0);
	is_str(fx_str(n, "kind"), "recovered", "a success after failures notifies recovered");
	is_str(fx_str(n, "message"), "run r1 (wf) attempt 2 succeeded after earlier failures", "its message");
	json_decref(evs);
	fx_free(&f);
}

/* The breaker's reaction comes in the same batch. */
static void with_breaker(void)
{
	struct t_fx f;
	fx_init(&f);
	char id[16];
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof id, "r%d", i);
		fx_created(&f, T0, id, "wf", "{}");
		fx_attempt(&f, T0, id, 1, "error", 1);
	}
	fx_created(&f, T0, "r9", "wf", "{}");
	fx_started(&f, T0, "r9", 1);
	struct wr_finish fin = {.attempt = 1, .outcome = WR_OUT_ERROR, .exit_code = 1, .duration_ms = -1,
				.cpu_ms = -1, .max_rss_kb = -1, .output_bytes = -1};
	json_t *evs = json_array();
	wr_finish_events(&f.st, fx_run(&f, "r9"), &fin, T0 + MIN, evs);
	is_str(fx_types(evs), "attempt.finished breaker.changed outbox.enqueued",
	       "the fifth failure: finished, the breaker opens, its notification");
	json_decref(evs);
	fx_free(&f);
}

int main(void)
{
	backoff();
	final_and_short();
	outcomes();
	finished_event();
	recovered();
	with_breaker();
	return done_testing();
}
