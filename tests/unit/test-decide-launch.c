/* test-decide-launch - a retry's launch as a decision: run.launched and its
 * reducer, when a launch is live (wr_launch_live: the launched wr-run's pid
 * on this host, the lease elsewhere), one relaunch after a lost launch and
 * launch_lost after the second, the forced launch of a manual retry, and
 * the start decision's refusals before not_before and of a superseded
 * --attempt. */
#include "tap.h"
#include "helpers.h"

#include "decide.h"
#include "decide_recover.h"
#include "decide_run.h"
#include "sysinfo.h"
#include "timefmt.h"

#define T0 1795213865000LL
#define SEC 1000LL
#define RUN "0193a1b2-0000-7000-8000-00000000beef"

static int probe_result = WR_PROC_ALIVE;

static int probe(int64_t pid, int64_t pid_start)
{
	(void)pid;
	(void)pid_start;
	return probe_result;
}

static size_t count_type(json_t *events, const char *type)
{
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(events, i, e) n += !strcmp(json_string_value(json_object_get(e, "type")), type);
	return n;
}

static void apply(struct wr_state *st, const char *json, int64_t ts)
{
	json_t *o = t_json(json);
	if (t_apply_obj(st, o, ts) != WR_APPLY_OK)
		printf("# did not apply: %s\n", json);
	json_decref(o);
}

/* A run whose attempt 1 failed and whose retry is due at T0 + 60s. */
static void failed_run(struct wr_state *st)
{
	wr_state_init(st);
	apply(st, "{\"type\":\"run.created\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"argv\":[\"true\"],\"cwd\":\"/\","
		  "\"policy\":{\"max_attempts\":5}}", T0);
	apply(st, "{\"type\":\"attempt.started\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":1,\"host\":\"h\","
		  "\"boot_id\":\"b\",\"pid\":10,\"pid_start\":1,\"lease_until\":\"2026-11-20T22:31:05.000Z\"}", T0);
	apply(st, "{\"type\":\"attempt.finished\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":1,"
		  "\"outcome\":\"error\",\"exit_code\":1}", T0 + SEC);
	char ev[512], ts[WR_TS_LEN];
	snprintf(ev, sizeof ev, "{\"type\":\"recovery.decided\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":1,"
		 "\"action\":\"retry\",\"reason\":\"error\",\"recoveries\":1,\"not_before\":\"%s\"}",
		 wr_ts_format(T0 + 60 * SEC, ts));
	apply(st, ev, T0 + 2 * SEC);
}

/* The launch decision at now from host h (boot b) with pid; its events
 * applied; returns them (caller frees). */
static json_t *launch(struct wr_state *st, int64_t now, const char *host, int manual, int64_t pid,
		      struct wr_launch_req *q)
{
	*q = (struct wr_launch_req){.run = RUN, .manual = manual, .host = host, .boot_id = "b", .pid = pid,
				    .pid_start = 77, .proc = probe};
	struct wr_batch b = {json_array(), 0};
	ok(wr_decide_launch(st, now, q, &b) == 0, "the launch decides");
	ok(t_apply_all(st, b.events, now) == 0, "  its events apply");
	return b.events;
}

static void once_then_lost(void)
{
	struct wr_state st;
	failed_run(&st);
	struct wr_launch_req q;
	json_t *ev = launch(&st, T0 + 30 * SEC, "h", 0, 500, &q);
	is_int(q.action, WR_RA_NONE, "before not_before a pass launches nothing");
	is_int(json_array_size(ev), 0, "  and records nothing");
	json_decref(ev);

	ev = launch(&st, T0 + 60 * SEC, "h", 0, 500, &q);
	is_int(q.action, WR_RA_LAUNCH, "when due: launch");
	is_int(q.attempt, 2, "  of attempt 2");
	is_int(q.count, 1, "  the first launch of it");
	is_str(q.reason, "due", "  reason due");
	is_int(count_type(ev, "run.launched"), 1, "  run.launched recorded");
	json_t *l = json_array_get(ev, 0);
	is_int(json_integer_value(json_object_get(l, "pid")), 500, "  with the held wr-run's pid");
	is_str(json_string_value(json_object_get(l, "mode")), "due", "  mode due");
	json_decref(ev);
	const struct wr_run *r = wr_state_run(&st, RUN);
	is_int(r->launch.attempt, 2, "the state holds the launch of attempt 2");
	is_int(r->launch.lease_until, T0 + 60 * SEC + WR_LAUNCH_LEASE_MS, "  its lease");
	is_int(r->status, WR_ST_RETRY_WAIT, "  the status is unchanged");

	probe_result = WR_PROC_ALIVE;
	ok(wr_launch_live(r, T0 + 3600 * SEC, "h", "b", probe), "live while its wr-run lives, lease or not");
	ev = launch(&st, T0 + 3600 * SEC, "h", 0, 501, &q);
	is_int(q.action, WR_RA_WAIT, "a second pass sees the live launch");
	is_str(q.reason, "launch_under_way", "  launch_under_way");
	is_int(q.live_pid, 500, "  naming its wr-run");
	is_int(json_array_size(ev), 0, "  and records nothing");
	json_decref(ev);
	ev = launch(&st, T0 + 3600 * SEC, "h", 1, 501, &q);
	is_int(q.action, WR_RA_WAIT, "a manual retry does not launch over a live launch either");
	json_decref(ev);

	probe_result = WR_PROC_GONE;
	ok(!wr_launch_live(r, T0 + 61 * SEC, "h", "b", probe), "its wr-run gone: expired at once, lease or not");
	probe_result = WR_PROC_REUSED;
	ok(!wr_launch_live(r, T0 + 61 * SEC, "h", "b", probe), "  so with its pid reused");
	probe_result = WR_PROC_ALIVE;
	ok(!wr_launch_live(r, T0 + 61 * SEC, "h", "other-boot", probe), "  and after a reboot");
	probe_result = WR_PROC_GONE;
	ev = launch(&st, T0 + 70 * SEC, "h", 0, 502, &q);
	is_int(q.action, WR_RA_LAUNCH, "a lost launch: the next pass launches again");
	is_str(q.reason, "relaunch", "  reason relaunch");
	is_int(q.count, 2, "  the second launch of attempt 2");
	json_decref(ev);
	is_int(wr_state_run(&st, RUN)->launch.count, 2, "the state counts two launches");

	ev = launch(&st, T0 + 80 * SEC, "h", 0, 503, &q);
	is_int(q.action, WR_RA_ESCALATE, "the second launch lost too: escalate, not a third launch");
	is_str(q.reason, "launch_lost", "  reason launch_lost");
	is_int(count_type(ev, "run.launched"), 0, "  no launch recorded");
	is_int(count_type(ev, "run.blocked"), 1, "  run.blocked");
	is_int(count_type(ev, "outbox.enqueued"), 1, "  and an escalated entry");
	is_str(json_string_value(json_object_get(json_array_get(ev, 1), "reason")), "launch_lost", "  reason launch_lost");
	json_decref(ev);
	r = wr_state_run(&st, RUN);
	is_int(r->status, WR_ST_BLOCKED, "the run is blocked");
	is_int(r->launch.attempt, 0, "  and its launch cleared");
	ev = launch(&st, T0 + 90 * SEC, "h", 0, 504, &q);
	is_int(q.action, WR_RA_NONE, "a blocked run is not launched");
	json_decref(ev);

	apply(&st, "{\"type\":\"run.unblocked\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"note\":\"fixed\"}", T0 + 100 * SEC);
	ev = launch(&st, T0 + 100 * SEC, "h", 0, 505, &q);
	is_int(q.action, WR_RA_LAUNCH, "unblocked: launched again");
	is_int(q.count, 1, "  counting from one");
	json_decref(ev);
	apply(&st, "{\"type\":\"attempt.started\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":2,\"host\":\"h\","
		   "\"pid\":505,\"lease_until\":\"2026-11-20T22:31:05.000Z\"}", T0 + 101 * SEC);
	is_int(wr_state_run(&st, RUN)->launch.attempt, 0, "its start ends the launch");
	wr_state_free(&st);
}

static void other_host(void)
{
	struct wr_state st;
	failed_run(&st);
	struct wr_launch_req q;
	probe_result = WR_PROC_GONE;
	json_decref(launch(&st, T0 + 60 * SEC, "h", 0, 500, &q));
	const struct wr_run *r = wr_state_run(&st, RUN);
	ok(wr_launch_live(r, T0 + 61 * SEC, "elsewhere", "b", probe), "from another host: live within the lease");
	ok(!wr_launch_live(r, T0 + 60 * SEC + WR_LAUNCH_LEASE_MS, "elsewhere", "b", probe), "  expired at its end");
	json_t *ev = launch(&st, T0 + 61 * SEC, "elsewhere", 0, 600, &q);
	is_int(q.action, WR_RA_WAIT, "a pass on another host waits for the lease");
	json_decref(ev);
	ev = launch(&st, T0 + 60 * SEC + WR_LAUNCH_LEASE_MS, "elsewhere", 0, 600, &q);
	is_int(q.action, WR_RA_LAUNCH, "  and launches once it ended");
	is_int(q.count, 2, "  as the second launch");
	json_decref(ev);
	wr_state_free(&st);
}

static void manual(void)
{
	struct wr_state st;
	failed_run(&st);
	struct wr_launch_req q;
	probe_result = WR_PROC_GONE;
	json_t *ev = launch(&st, T0 + 10 * SEC, "h", 1, 700, &q);
	is_int(q.action, WR_RA_LAUNCH, "a manual retry launches before not_before");
	is_str(json_string_value(json_object_get(json_array_get(ev, 0), "mode")), "forced", "  mode forced");
	json_decref(ev);
	ok(wr_state_run(&st, RUN)->launch.forced, "the state says forced");
	json_decref(launch(&st, T0 + 11 * SEC, "h", 1, 701, &q));
	json_decref(launch(&st, T0 + 12 * SEC, "h", 1, 702, &q));
	is_int(q.action, WR_RA_LAUNCH, "a manual retry is never launch_lost");
	is_int(q.count, 3, "  it counts its launches");

	/* the reducer's fences */
	apply(&st, "{\"type\":\"attempt.started\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":2,\"host\":\"h\","
		   "\"pid\":702,\"lease_until\":\"2026-11-20T22:31:05.000Z\"}", T0 + 13 * SEC);
	json_t *o = t_json("{\"type\":\"run.launched\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":3,\"host\":\"h\","
			   "\"pid\":9,\"lease_until\":\"2026-11-20T22:31:05.000Z\",\"mode\":\"due\"}");
	is_int(t_apply_obj(&st, o, T0 + 14 * SEC), WR_APPLY_STALE, "a launch while an attempt is live is stale");
	json_decref(o);
	apply(&st, "{\"type\":\"attempt.finished\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":2,"
		   "\"outcome\":\"error\",\"exit_code\":1}", T0 + 15 * SEC);
	o = t_json("{\"type\":\"run.launched\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":2,\"host\":\"h\","
		   "\"pid\":9,\"lease_until\":\"2026-11-20T22:31:05.000Z\",\"mode\":\"due\"}");
	is_int(t_apply_obj(&st, o, T0 + 16 * SEC), WR_APPLY_STALE, "a launch of an attempt that is not the next is stale");
	json_decref(o);
	wr_state_free(&st);
}

/* The start decision of `wr-run --run RUN [--attempt want]` at now. */
static json_t *start(struct wr_state *st, int64_t now, int64_t want, struct wr_start_req *q)
{
	memset(q, 0, sizeof *q);
	q->run = RUN;
	q->want_attempt = want;
	q->host = "h";
	q->boot_id = "b";
	q->pid = 800;
	q->pid_start = 1;
	struct wr_batch b = {json_array(), 0};
	ok(wr_decide_run_start(st, now, q, &b) == 0, "the start decides");
	t_apply_all(st, b.events, now);
	return b.events;
}

static void start_not_before(void)
{
	struct wr_state st;
	failed_run(&st);
	struct wr_start_req q;
	json_t *ev = start(&st, T0 + 10 * SEC, 0, &q);
	is_int(q.result, WR_START_NOT_YET, "--run before not_before: not yet");
	is_int(q.not_before, T0 + 60 * SEC, "  saying when");
	is_int(json_array_size(ev), 0, "  recording nothing");
	json_decref(ev);
	wr_start_req_free(&q);
	ev = start(&st, T0 + 60 * SEC, 3, &q);
	is_int(q.result, WR_START_SUPERSEDED, "--attempt 3 when attempt 2 is next: superseded");
	is_int(q.next_attempt, 2, "  naming the next attempt");
	is_int(json_array_size(ev), 0, "  recording nothing");
	json_decref(ev);
	wr_start_req_free(&q);
	ev = start(&st, T0 + 60 * SEC, 2, &q);
	is_int(q.result, WR_START_STARTED, "--attempt 2 when due: started");
	is_int(count_type(ev, "attempt.started"), 1, "  attempt.started");
	json_decref(ev);
	wr_start_req_free(&q);
	ev = start(&st, T0 + 61 * SEC, 2, &q);
	is_int(q.result, WR_START_SUPERSEDED, "a second launch of attempt 2 starts nothing");
	json_decref(ev);
	wr_start_req_free(&q);
	wr_state_free(&st);

	failed_run(&st);
	struct wr_launch_req lq;
	json_decref(launch(&st, T0 + 10 * SEC, "h", 1, 900, &lq));
	ev = start(&st, T0 + 10 * SEC, 2, &q);
	is_int(q.result, WR_START_STARTED, "a forced launch starts before not_before");
	json_decref(ev);
	wr_start_req_free(&q);
	wr_state_free(&st);
}

/* What wr-run says at the terminal after a failure: would a pass retry it? */
static void would_retry(void)
{
	struct wr_state st;
	wr_state_init(&st);
	apply(&st, "{\"type\":\"run.created\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"argv\":[\"true\"],\"cwd\":\"/\","
		   "\"policy\":{\"max_attempts\":2,\"backoff\":{\"initial_ms\":10000,\"factor\":2.0,\"max_ms\":60000}}}", T0);
	apply(&st, "{\"type\":\"attempt.started\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":1,\"host\":\"h\","
		   "\"pid\":10,\"lease_until\":\"2026-11-20T22:31:05.000Z\"}", T0);
	int64_t nb;
	is_int(wr_recover_would_retry(&st, wr_state_run(&st, RUN), T0, &nb), 0, "a running attempt: nothing to say");
	apply(&st, "{\"type\":\"attempt.finished\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":1,"
		   "\"outcome\":\"error\",\"exit_code\":1}", T0 + SEC);
	is_int(wr_recover_would_retry(&st, wr_state_run(&st, RUN), T0 + SEC, &nb), 1, "a failure with attempts left: retried");
	is_int(nb, T0 + SEC + 8 * SEC, "  not before the shortest backoff (10s less 20%%)");
	apply(&st, "{\"type\":\"attempt.started\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":2,\"host\":\"h\","
		   "\"pid\":11,\"lease_until\":\"2026-11-20T22:31:05.000Z\"}", T0 + 2 * SEC);
	apply(&st, "{\"type\":\"attempt.finished\",\"run\":\"" RUN "\",\"workflow\":\"wf\",\"attempt\":2,"
		   "\"outcome\":\"error\",\"exit_code\":1}", T0 + 3 * SEC);
	is_int(wr_recover_would_retry(&st, wr_state_run(&st, RUN), T0 + 3 * SEC, &nb), 0, "max attempts used: not retried");
	is_int(nb, 0, "  and no time");
	wr_state_free(&st);
}

int main(void)
{
	would_retry();
	once_then_lost();
	other_host();
	manual();
	start_not_before();
	return done_testing();
}
