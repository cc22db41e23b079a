/* test-breaker - the circuit breaker's decisions: when it opens, its
 * cooldown and doubling, admission while open and half open, closing. */
#include "tap.h"
#include "helpers.h"

#include "breaker.h"
#include "timefmt.h"


static int nrun;

/* A new run of wf with one attempt started at ts; returns its id. */
static const char *start_run(struct wr_state *st, const char *wf, int64_t ts)
{
	static char id[32];
	snprintf(id, sizeof id, "run-%d", ++nrun);
	json_t *c = t_json("{\"v\":1,\"type\":\"run.created\",\"run\":\"%s\",\"workflow\":\"%s\",\"argv\":[\"x\"],\"cwd\":\"/\","
			   "\"policy\":{}}", id, wf);
	t_apply_obj(st, c, ts);
	json_decref(c);
	c = t_json("{\"v\":1,\"type\":\"attempt.started\",\"run\":\"%s\",\"attempt\":1,\"host\":\"h\",\"pid\":1,"
		   "\"lease_until\":\"2030-01-01T00:00:00Z\"}", id);
	t_apply_obj(st, c, ts);
	json_decref(c);
	return id;
}

static void finish_run(struct wr_state *st, const char *id, const char *outcome, int64_t ts)
{
	json_t *c = t_json("{\"v\":1,\"type\":\"attempt.finished\",\"run\":\"%s\",\"attempt\":1,\"outcome\":\"%s\"}", id, outcome);
	t_apply_obj(st, c, ts);
	json_decref(c);
}

/* Records outcomes ("FFSS..." F failure, S success) for wf. */
static void outcomes(struct wr_state *st, const char *wf, const char *seqs, int64_t ts)
{
	for (const char *p = seqs; *p; p++)
		finish_run(st, start_run(st, wf, ts), *p == 'F' ? "error" : "success", ts);
}

/* The breaker change in events, or NULL. */
static json_t *change_in(json_t *events)
{
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e) if (!strcmp(json_string_value(json_object_get(e, "type")), "breaker.changed")) return e;
	return NULL;
}

/* After window `before` (oldest first), does one more outcome open it? */
static void opens_after(const char *before, int failure, int want)
{
	struct wr_state st;
	wr_state_init(&st);
	outcomes(&st, "wf", before, T0);
	json_t *ev = json_array();
	wr_breaker_after(&st, "wf", failure ? WR_OUT_ERROR : WR_OUT_SUCCESS, T0, ev);
	json_t *c = change_in(ev);
	ok(want ? c != NULL : json_array_size(ev) == 0, "%s + %s: %s", *before ? before : "(none)", failure ? "F" : "S",
	   want ? "opens" : "stays closed");
	if (want && c) {
		is_str(json_string_value(json_object_get(c, "from")), "closed", "  from closed");
		is_str(json_string_value(json_object_get(c, "to")), "open", "  to open");
	}
	json_decref(ev);
	wr_state_free(&st);
}

static void opening(void)
{
	opens_after("", 1, 0);
	opens_after("FFF", 1, 0);            /* 4 outcomes: below the minimum */
	opens_after("FFFF", 1, 1);           /* 5 of 5 */
	opens_after("SFFF", 1, 1);           /* 4 of 5 */
	opens_after("SSFF", 1, 1);           /* 3 of 5 = 60% */
	opens_after("SSSF", 1, 0);           /* 2 of 5 = 40% */
	opens_after("SSSFF", 1, 1);          /* 3 of 6 = 50%: at the threshold */
	opens_after("SSSSF", 1, 0);          /* 2 of 6 */
	opens_after("FFFFF", 0, 0);          /* a success never opens it */
	opens_after("SSSSSFFFF", 1, 1);      /* 5 of 10 */
	opens_after("FFFFFSSSSS", 1, 1);     /* window full: oldest F drops, 5 of 10 */
	opens_after("FFFFSSSSSS", 1, 0);     /* oldest F drops: 4 of 10 */
	opens_after("FFFFFFFFSSSSSSSSSSSS", 1, 0); /* old failures are out of the window */
	opens_after("SSSSSSSSSSFFFF", 1, 1);  /* recent failures: F F F F + F of 10 = 50% */
	{
		/* cancelled outcomes are not outcomes of the breaker */
		struct wr_state st;
		wr_state_init(&st);
		outcomes(&st, "wf", "FFFF", T0);
		json_t *ev = json_array();
		wr_breaker_after(&st, "wf", WR_OUT_CANCELLED, T0, ev);
		is_int(json_array_size(ev), 0, "a cancelled attempt does not count");
		wr_breaker_after(&st, "other", WR_OUT_ERROR, T0, ev);
		is_int(json_array_size(ev), 0, "another workflow's window is its own");
		wr_breaker_after(&st, "wf", WR_OUT_LOST, T0, ev);
		json_t *c = change_in(ev);
		ok(c != NULL, "lost counts as a failure");
		double rate = json_real_value(json_object_get(c, "failure_rate"));
		ok(rate > 0.99 && rate < 1.01, "failure_rate recorded (%.2f)", rate);
		is_str(json_string_value(json_object_get(c, "open_until")), "2026-11-20T22:36:05.000Z", "open for 5m");
		json_t *ob = json_array_get(ev, 1);
		ok(ob && !strcmp(json_string_value(json_object_get(ob, "type")), "outbox.enqueued"), "an outbox entry with it");
		is_str(json_string_value(json_object_get(ob, "kind")), "breaker_open", "kind breaker_open");
		is_str(json_string_value(json_object_get(ob, "workflow")), "wf", "for the workflow");
		ok(strstr(json_string_value(json_object_get(ob, "message")), "5m") != NULL, "message says for how long: %s",
		   json_string_value(json_object_get(ob, "message")));
		is_int(t_apply_all(&st, ev, T0), 0, "the decision applies");
		struct wr_workflow *w = wr_state_workflow(&st, "wf");
		is_str(wr_breaker_name(w->breaker), "open", "the workflow's breaker is open");
		json_decref(ev);
		wr_state_free(&st);
	}
}

static void cycle(void)
{
	struct wr_state st;
	wr_state_init(&st);
	outcomes(&st, "wf", "FFFF", T0);
	json_t *ev = json_array();
	wr_breaker_after(&st, "wf", WR_OUT_ERROR, T0, ev);
	t_apply_all(&st, ev, T0);
	json_decref(ev);
	struct wr_workflow *w = wr_state_workflow(&st, "wf");
	is_int(w->open_until, T0 + 5 * MIN, "first open: 5m cooldown");

	int64_t now = T0;
	static const int64_t want_cd[] = {10, 20, 40, 60, 60};
	for (int round = 0; round < 5; round++) {
		int64_t until = w->open_until;
		ev = json_array();
		is_int(wr_breaker_admit(&st, "wf", until - 1, ev), 0, "round %d: refused while open", round + 1);
		is_int(json_array_size(ev), 0, "  and nothing appended");
		is_int(wr_breaker_admit(&st, "wf", until, ev), 1, "  after the cooldown: admitted");
		json_t *c = change_in(ev);
		ok(c && !strcmp(json_string_value(json_object_get(c, "to")), "half_open"), "  as open -> half_open");
		now = until;
		t_apply_all(&st, ev, now);
		json_decref(ev);
		is_str(wr_breaker_name(w->breaker), "half_open", "  half open");
		ev = json_array();
		is_int(wr_breaker_admit(&st, "wf", now, ev), 1, "  the trial may start");
		is_int(json_array_size(ev), 0, "  without another change");
		const char *id = start_run(&st, "wf", now);
		is_int(wr_breaker_admit(&st, "wf", now + 1, ev), 0, "  one trial at a time: a second is refused");
		is_int(wr_breaker_admit(&st, "wf", now + 24 * 60 * MIN, ev), 0, "  however long it takes");
		/* the trial fails: re-open, cooldown doubled, at most 1h */
		wr_breaker_after(&st, "wf", WR_OUT_ERROR, now + 1000, ev);
		c = change_in(ev);
		ok(c && !strcmp(json_string_value(json_object_get(c, "from")), "half_open") &&
			   !strcmp(json_string_value(json_object_get(c, "to")), "open"),
		   "  the trial fails: half_open -> open");
		json_t *ob = json_array_get(ev, 1);
		is_str(ob ? json_string_value(json_object_get(ob, "reason")) : NULL, "trial_failed", "  outbox says the trial failed");
		finish_run(&st, id, "error", now + 1000);
		t_apply_all(&st, ev, now + 1000);
		json_decref(ev);
		is_int(w->open_until - (now + 1000), want_cd[round] * MIN, "  cooldown now %lldm", (long long)want_cd[round]);
	}
	is_int(wr_breaker_cooldown(w), 60 * MIN, "cooldown stays at 1h");

	/* a successful trial closes it; the next opening starts at 5m again */
	now = w->open_until;
	ev = json_array();
	wr_breaker_admit(&st, "wf", now, ev);
	t_apply_all(&st, ev, now);
	json_decref(ev);
	const char *id = start_run(&st, "wf", now);
	ev = json_array();
	wr_breaker_after(&st, "wf", WR_OUT_SUCCESS, now + 1, ev);
	json_t *c = change_in(ev);
	ok(c && !strcmp(json_string_value(json_object_get(c, "to")), "closed"), "a successful trial closes it");
	is_int(json_array_size(ev), 1, "without an outbox entry");
	finish_run(&st, id, "success", now + 1);
	t_apply_all(&st, ev, now + 1);
	json_decref(ev);
	is_str(wr_breaker_name(w->breaker), "closed", "closed");
	ev = json_array();
	is_int(wr_breaker_admit(&st, "wf", now + 2, ev), 1, "closed admits");
	is_int(json_array_size(ev), 0, "without a change");
	json_decref(ev);
	is_int(wr_breaker_cooldown(w), 5 * MIN, "a success resets the doubling: 5m");
	is_int(w->nwindow, 0, "and the window");
	ev = json_array();
	outcomes(&st, "wf", "FFF", now + 3);
	wr_breaker_after(&st, "wf", WR_OUT_ERROR, now + 4, ev);
	is_int(json_array_size(ev), 0, "after closing, old failures do not count: 4 outcomes stay closed");
	json_decref(ev);
	wr_state_free(&st);
}

static void in_one_batch(void)
{
	/* admit and after in the same decision see each other's change */
	struct wr_state st;
	wr_state_init(&st);
	outcomes(&st, "wf", "FFFF", T0);
	json_t *ev = json_array();
	wr_breaker_after(&st, "wf", WR_OUT_ERROR, T0, ev);
	t_apply_all(&st, ev, T0);
	json_decref(ev);
	ev = json_array();
	int64_t now = T0 + 5 * MIN;
	is_int(wr_breaker_admit(&st, "wf", now, ev), 1, "admitted after the cooldown");
	wr_breaker_after(&st, "wf", WR_OUT_SUCCESS, now, ev);
	is_int(json_array_size(ev), 2, "open -> half_open then half_open -> closed in one batch");
	is_str(json_string_value(json_object_get(json_array_get(ev, 1), "from")), "half_open", "the second starts where the first ended");
	is_int(t_apply_all(&st, ev, now), 0, "both apply in order");
	is_str(wr_breaker_name(wr_state_workflow(&st, "wf")->breaker), "closed", "closed");
	json_decref(ev);

	/* manual reset */
	ev = json_array();
	is_int(wr_breaker_reset(&st, "wf", ev), -1, "reset of a closed breaker: -1");
	is_int(json_array_size(ev), 0, "nothing appended");
	is_int(wr_breaker_reset(&st, "nope", ev), -1, "reset of an unknown workflow: -1");
	outcomes(&st, "wf", "FFFF", now);
	wr_breaker_after(&st, "wf", WR_OUT_ERROR, now, ev);
	t_apply_all(&st, ev, now);
	json_decref(ev);
	ev = json_array();
	is_int(wr_breaker_reset(&st, "wf", ev), 0, "reset of an open breaker");
	json_t *c = change_in(ev);
	ok(c && !strcmp(json_string_value(json_object_get(c, "from")), "open") && !strcmp(json_string_value(json_object_get(c, "to")), "closed"),
	   "appends open -> closed");
	is_int(t_apply_all(&st, ev, now), 0, "applies");
	json_decref(ev);
	ev = json_array();
	is_int(wr_breaker_admit(&st, "wf", now, ev), 1, "admits at once after a reset");
	json_decref(ev);
	wr_state_free(&st);
}

static void cancelled_trial(void)
{
	/* a half-open trial that is cancelled gives no verdict: another trial may run */
	struct wr_state st;
	wr_state_init(&st);
	outcomes(&st, "wf", "FFFF", T0);
	json_t *ev = json_array();
	wr_breaker_after(&st, "wf", WR_OUT_ERROR, T0, ev);
	int64_t now = T0 + 5 * MIN;
	wr_breaker_admit(&st, "wf", now, ev);
	t_apply_all(&st, ev, T0);
	json_decref(ev);
	const char *id = start_run(&st, "wf", now);
	ev = json_array();
	is_int(wr_breaker_admit(&st, "wf", now, ev), 0, "trial running: refused");
	wr_breaker_after(&st, "wf", WR_OUT_CANCELLED, now + 1, ev);
	is_int(json_array_size(ev), 0, "a cancelled trial changes nothing");
	finish_run(&st, id, "cancelled", now + 1);
	is_int(wr_breaker_admit(&st, "wf", now + 2, ev), 1, "a new trial may start after a cancelled one");
	json_decref(ev);
	wr_state_free(&st);
}

static void launch_wait(void)
{
	/* what a recovery pass's due launch waits for, in each breaker state */
	struct wr_workflow w = {0};
	int64_t until = -1;
	ok(wr_breaker_launch_wait(NULL, T0, 0, &until) == NULL, "no workflow yet: admitted");
	is_int(until, 0, "no wait: no time");
	w.breaker = WR_BR_CLOSED;
	ok(wr_breaker_launch_wait(&w, T0, 1, &until) == NULL, "closed: admitted, trials or not");
	w.breaker = WR_BR_OPEN;
	w.open_until = T0 + MIN;
	is_str(wr_breaker_launch_wait(&w, T0, 0, &until), "breaker_open", "open in its cooldown: waits");
	is_int(until, T0 + MIN, "until the cooldown ends");
	ok(wr_breaker_launch_wait(&w, T0 + MIN, 0, &until) == NULL, "open after its cooldown: the trial is admitted");
	is_int(until, 0, "no wait: no time");
	is_str(wr_breaker_launch_wait(&w, T0 + MIN, 1, &until), "breaker_trial_launched",
	       "open after its cooldown, a trial launched in this pass: waits");
	w.breaker = WR_BR_HALF_OPEN;
	ok(wr_breaker_launch_wait(&w, T0, 0, &until) == NULL, "half open, no trial: admitted");
	is_str(wr_breaker_launch_wait(&w, T0, 1, &until), "breaker_trial_launched", "half open, one launched: waits");
	w.half_open_trial = 1;
	is_str(wr_breaker_launch_wait(&w, T0, 0, &until), "breaker_trial_running", "half open, a trial runs: waits");
}

int main(void)
{
	launch_wait();
	opening();
	cycle();
	in_one_batch();
	cancelled_trial();
	return done_testing();
}
