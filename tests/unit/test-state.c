/* test-state - the reducer: statuses after each event type, fencing of
 * stale events, invariants, stages, breaker changes and the outbox. */
#include "tap.h"
#include "helpers.h"

#include "timefmt.h"


static int64_t seq;
static const char *why;

/* Applies one event given as the JSON fields after the common ones, at
 * time ts. Returns enum wr_apply, or -1 when the line does not decode. */
__attribute__((format(printf, 4, 5))) static int ap(struct wr_state *st, int64_t ts, const char *type, const char *fmt, ...)
{
	char fields[4096];
	va_list va;
	va_start(va, fmt);
	vsnprintf(fields, sizeof fields, fmt, va);
	va_end(va);
	return fx_apply_fields(st, &seq, ts, type, fields, &why);
}

#define OK(x, ...) is_int((x), WR_APPLY_OK, __VA_ARGS__)
#define STALE(x, ...) is_int((x), WR_APPLY_STALE, __VA_ARGS__)
#define INVALID(x, ...) is_int((x), WR_APPLY_INVALID, __VA_ARGS__)

static int created(struct wr_state *st, const char *run, const char *wf, int max)
{
	return ap(st, T0, "run.created", "\"run\":\"%s\",\"workflow\":\"%s\",\"argv\":[\"x\"],\"cwd\":\"/\",\"policy\":{\"max_attempts\":%d}",
		  run, wf, max);
}

static int started(struct wr_state *st, int64_t ts, const char *run, int n)
{
	char lease[WR_TS_LEN];
	return ap(st, ts, "attempt.started", "\"run\":\"%s\",\"attempt\":%d,\"host\":\"h\",\"pid\":%d,\"lease_until\":\"%s\"",
		  run, n, 100 + n, wr_ts_format(ts + 120000, lease));
}

static int finished(struct wr_state *st, int64_t ts, const char *run, int n, const char *outcome, int code)
{
	return ap(st, ts, "attempt.finished", "\"run\":\"%s\",\"attempt\":%d,\"outcome\":\"%s\",\"exit_code\":%d", run, n, outcome,
		  code);
}

static int heartbeat(struct wr_state *st, int64_t ts, const char *run, int n, int64_t lease)
{
	char l[WR_TS_LEN];
	return ap(st, ts, "attempt.heartbeat", "\"run\":\"%s\",\"attempt\":%d,\"lease_until\":\"%s\"", run, n, wr_ts_format(lease, l));
}

static void lifecycle(void)
{
	struct wr_state st;
	wr_state_init(&st);
	OK(created(&st, "r1", "wf", 3), "run.created");
	struct wr_run *r = wr_state_run(&st, "r1");
	if (!ok(r != NULL, "the run exists"))
		return;
	is_str(wr_status_name(r->status), "running", "a new run is running");
	is_int(r->policy.max_attempts, 3, "policy read");
	is_int(r->policy.lease_ms, WR_DEF_LEASE_MS, "policy defaults filled");
	struct wr_workflow *w = wr_state_workflow(&st, "wf");
	ok(w && w->runs == 1 && w->running == 0, "workflow counts the run");

	OK(started(&st, T0 + 1000, "r1", 1), "attempt 1 started");
	is_int(r->natt, 1, "one attempt");
	is_int(w->running, 1, "the workflow has one running attempt");
	ok(wr_run_live(r), "the run is live");
	is_int(r->att[0].lease_until, T0 + 121000, "lease from attempt.started");
	OK(heartbeat(&st, T0 + 30000, "r1", 1, T0 + 150000), "heartbeat");
	is_int(r->att[0].lease_until, T0 + 150000, "heartbeat extends the lease");
	OK(ap(&st, T0 + 31000, "attempt.progress", "\"run\":\"r1\",\"attempt\":1,\"stage\":\"fetch\",\"status\":\"started\""),
	   "progress started");
	is_str(r->stage, "fetch", "current stage");
	OK(ap(&st, T0 + 32000, "attempt.progress", "\"run\":\"r1\",\"attempt\":1,\"stage\":\"fetch\",\"status\":\"done\""),
	   "progress done");
	OK(ap(&st, T0 + 33000, "attempt.progress", "\"run\":\"r1\",\"attempt\":1,\"stage\":\"build\",\"status\":\"done\""),
	   "another stage done");
	OK(ap(&st, T0 + 34000, "attempt.progress", "\"run\":\"r1\",\"attempt\":1,\"stage\":\"fetch\",\"status\":\"done\""),
	   "a stage done twice");
	ok(r->nstages == 2 && !strcmp(r->stages_done[0], "fetch") && !strcmp(r->stages_done[1], "build"),
	   "stages_done: fetch, build, once each, in order");
	ok(r->stage == NULL, "no current stage once done");
	OK(ap(&st, T0 + 35000, "attempt.stuck", "\"run\":\"r1\",\"attempt\":1,\"reason\":\"no_progress\",\"action\":\"notify\""),
	   "attempt.stuck");
	is_int(r->att[0].stuck, 1, "stuck counted on the attempt");
	is_str(wr_status_name(r->status), "running", "still running after a stuck notice");

	OK(finished(&st, T0 + 40000, "r1", 1, "error", 2), "attempt 1 finished: error");
	is_str(wr_status_name(r->status), "failed", "an error fails the run");
	is_int(r->att[0].exit_code, 2, "exit code kept");
	is_int(r->att[0].duration_ms, 39000, "duration from start to finish when not given");
	is_int(w->running, 0, "no running attempt");
	is_int(r->first_failure_ts, T0 + 40000, "first failure time");

	/* fencing: after the finish */
	STALE(heartbeat(&st, T0 + 41000, "r1", 1, T0 + 200000), "heartbeat after finish is stale");
	ok(why && strstr(why, "finished"), "why: %s", why ? why : "");
	is_int(r->att[0].lease_until, T0 + 150000, "the stale heartbeat changed nothing");
	STALE(finished(&st, T0 + 42000, "r1", 1, "success", 0), "a second finish is stale");
	ok(why && strstr(why, "second finish"), "why: %s", why ? why : "");
	is_str(wr_status_name(r->status), "failed", "the first outcome wins");
	is_int(r->att[0].outcome, WR_OUT_ERROR, "outcome still error");
	is_int(r->att[0].exit_code, 2, "exit code still 2");
	is_int(w->succeeded, 0, "the stale success is not counted");
	STALE(ap(&st, T0 + 42500, "attempt.progress", "\"run\":\"r1\",\"attempt\":1,\"stage\":\"late\",\"status\":\"done\""),
	      "progress after finish is stale");
	is_int(r->nstages, 2, "no stage added");
	is_int(r->stale, 3, "three stale events on the run");
	is_int(st.stale, 3, "and in the state");

	/* recovery: retry */
	OK(ap(&st, T0 + 43000, "recovery.decided",
	      "\"run\":\"r1\",\"attempt\":1,\"action\":\"retry\",\"recoveries\":1,\"not_before\":\"2026-11-20T22:32:35.000Z\""),
	   "recovery.decided retry");
	is_str(wr_status_name(r->status), "retry_wait", "retry_wait");
	is_int(r->next_retry_ts, T0 + 90000, "next retry time from not_before");
	is_int(r->recoveries, 1, "recoveries counted");
	STALE(ap(&st, T0 + 43500, "recovery.decided", "\"run\":\"r1\",\"attempt\":1,\"action\":\"retry\",\"recoveries\":2"),
	      "a second decision about the same attempt is stale");
	is_int(r->recoveries, 1, "recoveries unchanged");

	OK(started(&st, T0 + 90000, "r1", 2), "attempt 2 started");
	is_str(wr_status_name(r->status), "running", "running again");
	is_int(r->next_retry_ts, 0, "no next retry while running");
	/* fencing: a superseded attempt */
	STALE(heartbeat(&st, T0 + 91000, "r1", 1, T0 + 300000), "heartbeat of the superseded attempt is stale");
	ok(why && strstr(why, "superseded"), "why: %s", why ? why : "");
	STALE(finished(&st, T0 + 92000, "r1", 1, "success", 0), "finish of the superseded attempt is stale");
	STALE(ap(&st, T0 + 92500, "attempt.stuck", "\"run\":\"r1\",\"attempt\":1,\"reason\":\"no_progress\",\"action\":\"abort\""),
	      "stuck of the superseded attempt is stale");
	ok(wr_run_live(r) && r->att[1].stuck == 0, "attempt 2 untouched");
	STALE(ap(&st, T0 + 93000, "recovery.decided", "\"run\":\"r1\",\"attempt\":2,\"action\":\"retry\",\"recoveries\":2"),
	      "a decision while the attempt is live is stale");
	is_int(r->stale, 8, "eight stale events on the run");
	is_int(st.stale, 8, "and in the state");
	OK(ap(&st, T0 + 94000, "attempt.progress", "\"run\":\"r1\",\"attempt\":2,\"stage\":\"test\",\"status\":\"done\""),
	   "progress of attempt 2");
	is_int(r->nstages, 3, "stages carry over attempts");

	/* invariants */
	INVALID(started(&st, T0 + 95000, "r1", 2), "attempt started twice is invalid");
	INVALID(started(&st, T0 + 95000, "r1", 1), "an older attempt started again is invalid");
	INVALID(started(&st, T0 + 95000, "r1", 4), "a skipped attempt number is invalid");
	INVALID(finished(&st, T0 + 95000, "r1", 3, "error", 1), "finish of an attempt that never started is invalid");
	INVALID(heartbeat(&st, T0 + 95000, "r1", 3, T0), "heartbeat of an attempt that never started is invalid");
	INVALID(heartbeat(&st, T0 + 95000, "nope", 1, T0), "an event of an unknown run is invalid");
	ok(why && strstr(why, "unknown run"), "why: %s", why ? why : "");
	INVALID(created(&st, "r1", "wf", 3), "a run created twice is invalid");
	INVALID(ap(&st, T0, "run.unblocked", "\"run\":\"r1\""), "unblock of a run that is not blocked is invalid");
	is_int(st.invalid, 8, "eight invalid events counted");
	is_int(r->natt, 2, "none changed the attempts");
	ok(wr_run_live(r), "attempt 2 still live");

	/* attempt 2 ends: timeout; then escalation */
	OK(finished(&st, T0 + 100000, "r1", 2, "timeout", -1), "attempt 2 timed out");
	is_str(wr_status_name(r->status), "failed", "timeout fails the run");
	OK(ap(&st, T0 + 100001, "recovery.decided", "\"run\":\"r1\",\"attempt\":2,\"action\":\"escalate\",\"recoveries\":2"),
	   "escalate decision");
	is_str(wr_status_name(r->status), "failed", "escalate alone keeps it failed");
	OK(ap(&st, T0 + 100002, "run.blocked", "\"run\":\"r1\",\"reason\":\"max attempts used\""), "run.blocked");
	is_str(wr_status_name(r->status), "blocked", "blocked");
	is_str(r->reason, "max attempts used", "block reason");
	OK(ap(&st, T0 + 200000, "run.unblocked", "\"run\":\"r1\",\"note\":\"fixed the disk\""), "run.unblocked");
	is_str(wr_status_name(r->status), "retry_wait", "unblocked -> retry_wait");
	is_int(r->recoveries, 0, "recoveries reset by unblock");
	is_int(r->next_retry_ts, T0 + 200000, "retry due at once");
	is_str(r->note, "fixed the disk", "note kept");
	OK(started(&st, T0 + 210000, "r1", 3), "attempt 3");
	OK(finished(&st, T0 + 220000, "r1", 3, "success", 0), "attempt 3 succeeded");
	is_str(wr_status_name(r->status), "succeeded", "succeeded");
	is_int(w->succeeded, 1, "workflow counts the success");
	INVALID(started(&st, T0 + 230000, "r1", 4), "a start after success is invalid");
	STALE(ap(&st, T0 + 230001, "run.cancelled", "\"run\":\"r1\""), "cancel of a succeeded run is stale");
	STALE(ap(&st, T0 + 230002, "run.blocked", "\"run\":\"r1\""), "block of a succeeded run is stale");
	is_str(wr_status_name(r->status), "succeeded", "still succeeded");
	is_int(w->finished[WR_OUT_ERROR], 1, "outcomes by kind: 1 error");
	is_int(w->finished[WR_OUT_TIMEOUT], 1, "1 timeout");
	is_int(w->finished[WR_OUT_SUCCESS], 1, "1 success");
	is_int(w->nwindow, 3, "three outcomes in the breaker window");
	ok(w->window[0] == 1 && w->window[1] == 1 && w->window[2] == 0, "window: failure, failure, success");
	{
		json_t *j = wr_run_to_json(r);
		is_str(json_string_value(json_object_get(j, "status")), "succeeded", "json status");
		is_int(json_integer_value(json_object_get(j, "stale_events")), r->stale, "json stale count");
		is_int(json_array_size(json_object_get(j, "attempts")), 3, "json attempts");
		is_int(json_array_size(json_object_get(j, "stages_done")), 3, "json stages_done");
		json_decref(j);
	}

	/* cancel, and cancelled outcome */
	OK(created(&st, "r2", "wf", 3), "run 2");
	OK(ap(&st, T0 + 1, "run.cancelled", "\"run\":\"r2\",\"reason\":\"not needed\""), "run.cancelled");
	r = wr_state_run(&st, "r2");
	is_str(wr_status_name(r->status), "cancelled", "cancelled");
	INVALID(started(&st, T0 + 2, "r2", 1), "start of a cancelled run is invalid");
	OK(created(&st, "r3", "wf", 3), "run 3");
	OK(started(&st, T0 + 3, "r3", 1), "its attempt");
	OK(finished(&st, T0 + 4, "r3", 1, "cancelled", -1), "finished as cancelled");
	r = wr_state_run(&st, "r3");
	is_str(wr_status_name(r->status), "cancelled", "an attempt cancelled cancels the run");
	is_int(w->nwindow, 3, "a cancelled outcome is not in the breaker window");
	/* rejected */
	OK(created(&st, "r4", "wf", 3), "run 4");
	OK(ap(&st, T0 + 5, "attempt.rejected", "\"run\":\"r4\",\"reason\":\"breaker_open\""), "attempt.rejected");
	r = wr_state_run(&st, "r4");
	is_str(wr_status_name(r->status), "rejected", "a run rejected before its first attempt has ended rejected");
	ok(wr_status_ended(r->status), "rejected is an ended status");
	is_int(r->rejected, 1, "rejected by the breaker");
	INVALID(started(&st, T0 + 5, "r4", 1), "start of a rejected run is invalid");
	STALE(ap(&st, T0 + 5, "run.blocked", "\"run\":\"r4\",\"reason\":\"x\""), "block of a rejected run is stale");
	STALE(ap(&st, T0 + 5, "attempt.rejected", "\"run\":\"r4\",\"reason\":\"breaker_open\""),
	      "a second rejection of an ended run is stale");
	/* a continued run (attempts behind it) that is rejected waits for its relaunch */
	OK(created(&st, "r4b", "wf", 3), "run 4b");
	OK(started(&st, T0 + 5, "r4b", 1), "its attempt");
	OK(finished(&st, T0 + 5, "r4b", 1, "error", 1), "fails");
	OK(ap(&st, T0 + 5, "attempt.rejected", "\"run\":\"r4b\",\"reason\":\"concurrency_limit\""), "--run rejected");
	r = wr_state_run(&st, "r4b");
	is_str(wr_status_name(r->status), "failed", "a continued run that is rejected stays failed");
	is_int(r->rejected, 2, "rejected by the limit");
	/* lost */
	OK(created(&st, "r5", "wf", 3), "run 5");
	OK(started(&st, T0 + 6, "r5", 1), "its attempt");
	OK(finished(&st, T0 + 7, "r5", 1, "lost", -1), "lost");
	is_str(wr_status_name(wr_state_run(&st, "r5")->status), "failed", "a lost attempt fails the run");
	STALE(heartbeat(&st, T0 + 8, "r5", 1, T0 + 999999), "the lost attempt's late heartbeat is stale");

	/* unknown types are ignored, counted */
	is_int(ap(&st, T0, "future.event", "\"run\":\"r1\""), WR_APPLY_IGNORED, "an unknown type is ignored");
	is_int(st.unknown_types, 1, "and counted");
	int ambiguous;
	ok(wr_state_find_run(&st, "r", &ambiguous) == NULL && ambiguous, "a prefix of several runs is ambiguous");
	ok(wr_state_find_run(&st, "r5", &ambiguous) == wr_state_run(&st, "r5"), "an exact id is found");
	is_int(st.runs.n, 6, "six runs");
	ok(!strcmp(wr_map_key_at(&st.runs, 0), "r1") && !strcmp(wr_map_key_at(&st.runs, 5), "r5"), "runs in creation order");
	is_int(st.last_seq, seq, "last seq follows the events");
	wr_state_free(&st);
}

static void breaker_events(void)
{
	struct wr_state st;
	wr_state_init(&st);
	OK(ap(&st, T0, "breaker.changed", "\"workflow\":\"wf\",\"from\":\"closed\",\"to\":\"open\",\"failure_rate\":0.6,"
					 "\"open_until\":\"2026-11-20T22:36:05.000Z\""),
	   "breaker closed -> open");
	struct wr_workflow *w = wr_state_workflow(&st, "wf");
	is_str(wr_breaker_name(w->breaker), "open", "open");
	is_int(w->open_until, T0 + 300000, "open until");
	ok(w->opens == 1 && w->reopens == 1, "opens counted");
	INVALID(ap(&st, T0, "breaker.changed", "\"workflow\":\"wf\",\"from\":\"closed\",\"to\":\"open\""),
		"a change from a state it is not in is invalid");
	is_str(wr_breaker_name(w->breaker), "open", "still open");
	OK(ap(&st, T0 + 300000, "breaker.changed", "\"workflow\":\"wf\",\"from\":\"open\",\"to\":\"half_open\""), "open -> half_open");
	is_int(w->open_until, 0, "no open_until when half open");
	OK(created(&st, "t1", "wf", 1), "a trial run");
	OK(started(&st, T0 + 300001, "t1", 1), "its attempt");
	is_int(w->half_open_trial, 1, "the trial is counted");
	OK(finished(&st, T0 + 300002, "t1", 1, "error", 1), "the trial fails");
	OK(ap(&st, T0 + 300003, "breaker.changed", "\"workflow\":\"wf\",\"from\":\"half_open\",\"to\":\"open\","
						   "\"open_until\":\"2026-11-20T22:46:05.000Z\""),
	   "half_open -> open");
	ok(w->opens == 2 && w->reopens == 2 && w->half_open_trial == 0, "re-open counted, trial reset");
	OK(ap(&st, T0 + 900000, "breaker.changed", "\"workflow\":\"wf\",\"from\":\"open\",\"to\":\"half_open\""), "half open again");
	OK(ap(&st, T0 + 900001, "breaker.changed", "\"workflow\":\"wf\",\"from\":\"half_open\",\"to\":\"closed\""), "-> closed");
	ok(w->breaker == WR_BR_CLOSED && w->reopens == 0 && w->nwindow == 0, "closed: reopens and window reset");
	is_int(w->opens, 2, "opens in all kept");
	/* the window holds the last 10 outcomes */
	for (int i = 0; i < 12; i++) {
		char id[16];
		snprintf(id, sizeof id, "w%d", i);
		created(&st, id, "wf", 1);
		started(&st, T0 + 1000000 + i, id, 1);
		finished(&st, T0 + 1000000 + i, id, 1, i < 3 ? "error" : "success", i < 3);
	}
	is_int(w->nwindow, WR_BREAKER_WINDOW, "the window keeps 10");
	ok(w->window[0] == 1 && w->window[1] == 0 && w->window[9] == 0, "the oldest two dropped: 1 failure left, first");
	json_t *j = wr_workflow_to_json(w);
	is_int(json_integer_value(json_object_get(j, "window_failures")), 1, "json window failures");
	json_decref(j);
	wr_state_free(&st);
}

#define OB "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60"
#define OB2 "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a70"

static void outbox(void)
{
	struct wr_state st;
	wr_state_init(&st);
	OK(ap(&st, T0, "outbox.enqueued", "\"id\":\"" OB "\",\"kind\":\"stuck\",\"message\":\"m\",\"run\":\"r1\",\"workflow\":\"wf\","
					 "\"details\":{\"a\":1}"),
	   "enqueued");
	struct wr_outbox *o = wr_state_outbox(&st, OB);
	if (!ok(o != NULL, "the entry exists"))
		return;
	is_str(wr_outbox_state_name(o->state), "pending", "pending");
	ok(o->run && !strcmp(o->run, "r1") && o->details, "run and details kept");
	INVALID(ap(&st, T0, "outbox.enqueued", "\"id\":\"" OB "\",\"kind\":\"stuck\",\"message\":\"m\""), "enqueued twice is invalid");
	INVALID(ap(&st, T0, "outbox.acked", "\"id\":\"nope\""), "an unknown entry is invalid");
	OK(ap(&st, T0 + 1000, "outbox.claimed", "\"id\":\"" OB "\",\"delivery\":\"d1\",\"lease_until\":\"2026-11-20T22:32:05.000Z\""),
	   "claimed by d1");
	is_str(wr_outbox_state_name(o->state), "claimed", "claimed");
	is_int(o->attempts, 1, "one delivery attempt");
	is_int(o->lease_until, T0 + 60000, "claim lease");
	STALE(ap(&st, T0 + 2000, "outbox.claimed", "\"id\":\"" OB "\",\"delivery\":\"d9\",\"lease_until\":\"2026-11-20T22:33:05.000Z\""),
	      "a second claim while the lease runs is stale");
	is_str(o->delivery, "d1", "d1 keeps the claim");
	OK(ap(&st, T0 + 3000, "outbox.failed", "\"id\":\"" OB "\",\"delivery\":\"d1\",\"error\":\"exit 1\","
					  "\"next_at\":\"2026-11-20T22:31:35.000Z\""),
	   "failed by d1");
	is_str(wr_outbox_state_name(o->state), "pending", "failed -> pending");
	is_int(o->next_at, T0 + 30000, "next delivery time");
	is_str(o->error, "exit 1", "error kept");
	OK(ap(&st, T0 + 30000, "outbox.claimed", "\"id\":\"" OB "\",\"delivery\":\"d2\",\"lease_until\":\"2026-11-20T22:32:05.000Z\""),
	   "claimed by d2");
	is_int(o->attempts, 2, "two delivery attempts");
	/* d2 dies; its lease runs out; d3 reclaims */
	OK(ap(&st, T0 + 61000, "outbox.claimed", "\"id\":\"" OB "\",\"delivery\":\"d3\",\"lease_until\":\"2026-11-20T22:33:05.000Z\""),
	   "an expired claim is reclaimed by d3");
	is_str(o->delivery, "d3", "d3 holds the claim");
	int64_t stale0 = st.stale;
	STALE(ap(&st, T0 + 62000, "outbox.failed", "\"id\":\"" OB "\",\"delivery\":\"d2\",\"error\":\"late\","
					   "\"next_at\":\"2026-11-20T22:40:05.000Z\""),
	      "a failure from the expired claim d2 is fenced");
	ok(why && strstr(why, "no longer valid"), "why: %s", why ? why : "");
	is_str(wr_outbox_state_name(o->state), "claimed", "still claimed by d3");
	is_str(o->error, "exit 1", "the late error is not recorded");
	is_int(st.stale, stale0 + 1, "counted stale");
	STALE(ap(&st, T0 + 62001, "outbox.dead", "\"id\":\"" OB "\",\"delivery\":\"d2\""), "dead from the expired claim is fenced");
	OK(ap(&st, T0 + 63000, "outbox.delivered", "\"id\":\"" OB "\",\"delivery\":\"d3\""), "delivered by d3");
	is_str(wr_outbox_state_name(o->state), "delivered", "delivered");
	is_int(o->delivered_ts, T0 + 63000, "delivery time");
	STALE(ap(&st, T0 + 64000, "outbox.delivered", "\"id\":\"" OB "\",\"delivery\":\"d2\""), "delivered twice is stale");
	STALE(ap(&st, T0 + 64001, "outbox.failed", "\"id\":\"" OB "\",\"delivery\":\"d3\",\"error\":\"x\""),
	      "a failure after delivery is stale");
	STALE(ap(&st, T0 + 64002, "outbox.claimed", "\"id\":\"" OB "\",\"delivery\":\"d4\",\"lease_until\":\"2026-11-20T22:40:05.000Z\""),
	      "a delivered entry is not claimed again");
	OK(ap(&st, T0 + 65000, "outbox.acked", "\"id\":\"" OB "\""), "acked");
	is_str(wr_outbox_state_name(o->state), "acked", "acked");
	STALE(ap(&st, T0 + 65001, "outbox.acked", "\"id\":\"" OB "\""), "acked twice is stale");

	/* dead and retried */
	OK(ap(&st, T0, "outbox.enqueued", "\"id\":\"" OB2 "\",\"kind\":\"custom\",\"message\":\"m2\""), "second entry");
	struct wr_outbox *o2 = wr_state_outbox(&st, OB2);
	STALE(ap(&st, T0 + 1, "outbox.retried", "\"id\":\"" OB2 "\""), "retry of an entry that is not dead is stale");
	OK(ap(&st, T0 + 2, "outbox.claimed", "\"id\":\"" OB2 "\",\"delivery\":\"e1\",\"lease_until\":\"2026-11-20T22:32:05.000Z\""),
	   "claimed");
	OK(ap(&st, T0 + 3, "outbox.dead", "\"id\":\"" OB2 "\",\"delivery\":\"e1\",\"error\":\"gave up\""), "dead");
	is_str(wr_outbox_state_name(o2->state), "dead", "dead");
	is_str(o2->error, "gave up", "error kept");
	STALE(ap(&st, T0 + 4, "outbox.dead", "\"id\":\"" OB2 "\""), "dead twice is stale");
	OK(ap(&st, T0 + 5, "outbox.retried", "\"id\":\"" OB2 "\""), "retried");
	is_str(wr_outbox_state_name(o2->state), "pending", "retried -> pending");
	ok(o2->attempts == 0 && o2->next_at == 0, "attempts reset, due now");
	OK(ap(&st, T0 + 6, "outbox.acked", "\"id\":\"" OB2 "\""), "a pending entry can be acked");
	is_str(wr_outbox_state_name(o2->state), "acked", "acked");
	is_int(st.outbox.n, 2, "two entries");
	json_t *j = wr_outbox_to_json(o2);
	is_str(json_string_value(json_object_get(j, "state")), "acked", "json state");
	json_decref(j);
	wr_state_free(&st);
}

int main(void)
{
	lifecycle();
	breaker_events();
	outbox();
	is_str(wr_status_name(WR_ST_RETRY_WAIT), "retry_wait", "status names");
	is_int(wr_status_from_name("blocked"), WR_ST_BLOCKED, "status from name");
	is_int(wr_status_from_name("nope"), -1, "unknown status");
	is_int(wr_outcome_from_name("lost"), WR_OUT_LOST, "outcome from name");
	is_int(wr_outcome_from_name(""), -1, "empty outcome is unknown");
	is_int(wr_breaker_from_name("half_open"), WR_BR_HALF_OPEN, "breaker from name");
	return done_testing();
}
