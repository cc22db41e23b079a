/* test-decide-expect - expected schedules: when a workflow is overdue
 * (wr_expect_missed), the check decision's workflow.overdue once per missed
 * period with its outbox entry, the expect and start decisions recording a
 * setting only when it changes, and the finish decision's recovered entry. */
#include "tap.h"
#include "helpers.h"

#include "decide.h"
#include "decide_check.h"
#include "decide_run.h"
#include "timefmt.h"


static size_t count_type(json_t *events, const char *type, const char *kind)
{
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "type")), type))
			continue;
		if (!kind || !strcmp(json_string_value(json_object_get(e, "kind")), kind))
			n++;
	}
	return n;
}

/* Sets an expectation through the expect decision at ts; returns changed. */
static int expect(struct wr_state *st, const char *wf, int64_t every, int64_t grace, int64_t ts)
{
	struct wr_expect_req q = {.workflow = wf, .every_ms = every, .grace_ms = grace};
	struct wr_batch b = {json_array(), 0};
	wr_decide_expect(st, ts, &q, &b);
	t_apply_all(st, b.events, ts);
	json_decref(b.events);
	return q.changed;
}

/* Runs the check decision at now, applies what it appends; returns the
 * events (caller frees) and sets *n to the overdue workflows reported. */
static json_t *check(struct wr_state *st, int64_t now, size_t *n)
{
	struct wr_check_req q = {.host = "h", .boot_id = "b", .overdue = json_array()};
	struct wr_batch b = {json_array(), 0};
	ok(wr_decide_check(st, now, &q, &b) == 0, "check decides");
	ok(t_apply_all(st, b.events, now) == 0, "its events apply");
	*n = json_array_size(q.overdue);
	json_decref(q.overdue);
	return b.events;
}

static void missed(void)
{
	struct wr_state st;
	wr_state_init(&st);
	int64_t due;
	is_int(wr_expect_missed(NULL, T0, &due), 0, "no workflow: not overdue");
	ok(expect(&st, "wf", 10 * SEC, 2 * SEC, T0), "an expectation is recorded");
	const struct wr_workflow *w = wr_state_workflow(&st, "wf");
	is_int(wr_expect_missed(w, T0 + 12 * SEC, &due), 0, "at due + grace: not yet overdue");
	is_int(due, T0 + 10 * SEC, "  next due: set time + every");
	is_int(wr_expect_missed(w, T0 + 12 * SEC + 1, &due), 1, "past due + grace: period 1 missed");
	is_int(due, T0 + 10 * SEC, "  due: the missed period's due time");
	is_int(wr_expect_missed(w, T0 + 35 * SEC, &due), 3, "three periods missed");
	is_int(due, T0 + 30 * SEC, "  due: the latest missed period");
	ok(!expect(&st, "wf", 10 * SEC, 2 * SEC, T0 + 5 * SEC), "the same setting again records nothing");
	is_int(w->expect_since, T0, "  and does not restart the clock");
	ok(expect(&st, "wf", 0, 0, T0 + 5 * SEC), "clearing is recorded");
	is_int(wr_expect_missed(w, T0 + 100 * SEC, &due), 0, "a cleared expectation is never overdue");
	ok(!expect(&st, "wf", 0, 0, T0 + 5 * SEC), "clearing twice records nothing");
	wr_state_free(&st);
}

static void once_per_period(void)
{
	struct wr_state st;
	wr_state_init(&st);
	expect(&st, "wf", 10 * SEC, 0, T0);
	size_t n;
	json_t *ev = check(&st, T0 + 10 * SEC, &n);
	is_int(json_array_size(ev), 0, "on time: nothing recorded");
	is_int(n, 0, "  nothing reported");
	json_decref(ev);
	ev = check(&st, T0 + 11 * SEC, &n);
	is_int(count_type(ev, "workflow.overdue", NULL), 1, "period 1 missed: workflow.overdue");
	is_int(count_type(ev, "outbox.enqueued", "overdue"), 1, "  with an overdue outbox entry");
	is_int(json_array_size(ev), 2, "  in one batch, nothing else");
	is_int(json_integer_value(json_object_get(json_array_get(ev, 0), "period")), 1, "  period 1");
	is_str(json_string_value(json_object_get(json_array_get(ev, 1), "workflow")), "wf", "  entry for the workflow");
	is_int(n, 1, "  reported");
	json_decref(ev);
	ev = check(&st, T0 + 19 * SEC, &n);
	is_int(json_array_size(ev), 0, "the same period again: nothing more");
	is_int(n, 1, "  still reported overdue");
	json_decref(ev);
	ev = check(&st, T0 + 21 * SEC, &n);
	is_int(count_type(ev, "workflow.overdue", NULL), 1, "the next missed period: recorded once more");
	json_decref(ev);
	is_int(wr_state_workflow(&st, "wf")->overdue_period, 2, "state: period 2 recorded");

	struct wr_check_req q = {.host = "h", .boot_id = "b", .run = "some-run", .overdue = json_array()};
	struct wr_batch b = {json_array(), 0};
	wr_decide_check(&st, T0 + 100 * SEC, &q, &b);
	is_int(json_array_size(b.events), 0, "a check of one run leaves workflows alone");
	json_decref(b.events);
	q.run = NULL;
	q.workflow = "other";
	wr_decide_check(&st, T0 + 100 * SEC, &q, &b);
	is_int(json_array_size(q.overdue), 0, "a check of another workflow does not report it");
	q.workflow = NULL;
	q.dry_run = 1;
	b.events = json_array();
	wr_decide_check(&st, T0 + 100 * SEC, &q, &b);
	is_int(json_array_size(b.events), 0, "dry run: nothing appended");
	ok(json_is_false(json_object_get(json_array_get(q.overdue, 0), "recorded")), "  reported as not recorded");
	json_decref(b.events);
	json_decref(q.overdue);
	wr_state_free(&st);
}

/* The start decision of a new run of wf with --expect-every; then its
 * finish (success) through wr_finish_events. Returns the finish's events. */
static json_t *run_once(struct wr_state *st, const char *wf, int expect_it, int64_t every, int64_t ts,
			size_t *nexpected)
{
	static int nrun;
	char id[32];
	snprintf(id, sizeof id, "run-%d", ++nrun);
	struct wr_policy pol;
	wr_policy_defaults(&pol);
	json_t *argv = json_pack("[s]", "x");
	struct wr_start_req q = {.run = id, .is_new = 1, .workflow = wf, .argv = argv, .cwd = "/", .policy = &pol,
				 .host = "h", .boot_id = "b", .pid = 1, .expect = expect_it, .expect_every_ms = every};
	struct wr_batch b = {json_array(), 0};
	ok(wr_decide_run_start(st, ts, &q, &b) == 0 && q.result == WR_START_STARTED, "%s started", id);
	*nexpected = count_type(b.events, "workflow.expected", NULL);
	t_apply_all(st, b.events, ts);
	json_decref(b.events);
	wr_start_req_free(&q);
	json_decref(argv);
	wr_policy_free(&pol);
	struct wr_finish f = {.attempt = 1, .outcome = WR_OUT_SUCCESS, .exit_code = 0, .duration_ms = 1, .cpu_ms = -1,
			      .max_rss_kb = -1, .output_bytes = -1};
	json_t *ev = json_array();
	ok(wr_finish_events(st, wr_state_run(st, id), &f, ts + 1, ev) == 0, "%s finished", id);
	t_apply_all(st, ev, ts + 1);
	return ev;
}

static void start_and_recover(void)
{
	struct wr_state st;
	wr_state_init(&st);
	size_t ne, n;
	json_t *ev = run_once(&st, "wf", 1, 10 * SEC, T0, &ne);
	is_int(ne, 1, "--expect-every on a new workflow: workflow.expected in the start decision");
	is_int(count_type(ev, "outbox.enqueued", NULL), 0, "a plain success enqueues nothing");
	json_decref(ev);
	ev = run_once(&st, "wf", 1, 10 * SEC, T0 + SEC, &ne);
	is_int(ne, 0, "the same setting again: nothing recorded");
	json_decref(ev);
	is_int(wr_state_workflow(&st, "wf")->last_success_ts, T0 + SEC + 1, "the last success moves the base");
	json_decref(check(&st, T0 + 20 * SEC, &n));
	is_int(n, 1, "no success for a period: overdue");
	ev = run_once(&st, "wf", 0, 0, T0 + 30 * SEC, &ne);
	is_int(ne, 0, "without --expect-every the expectation stays");
	is_int(count_type(ev, "outbox.enqueued", "recovered"), 1, "the next success: a recovered entry in the finish");
	json_t *det = json_object_get(json_array_get(ev, 1), "details");
	is_int(json_integer_value(json_object_get(det, "overdue_period")), 1, "  it names the periods missed");
	json_decref(ev);
	ok(!wr_state_workflow(&st, "wf")->overdue, "no longer overdue");
	json_decref(check(&st, T0 + 31 * SEC, &n));
	is_int(n, 0, "the check finds nothing now");

	json_decref(check(&st, T0 + 60 * SEC, &n));
	ev = run_once(&st, "wf", 1, 3600 * SEC, T0 + 70 * SEC, &ne);
	is_int(ne, 1, "a new setting while overdue is recorded");
	is_int(count_type(ev, "outbox.enqueued", "recovered"), 1, "  and the success still says recovered");
	json_decref(ev);
	wr_state_free(&st);
}

int main(void)
{
	missed();
	once_per_period();
	start_and_recover();
	return done_testing();
}
