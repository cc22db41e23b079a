/* test-view - the state for people (core/view.c): runs table and notes,
 * workflow lines, expectations, a run's timeline, an event's line. */
#include "helpers.h"
#include "tap.h"
#include "view.h"

static char *runs_text(struct t_fx *f, unsigned mask, const char *wf, int json, struct wr_view_count *n)
{
	struct t_out o;
	struct wr_view v = {.f = t_out_open(&o), .json = json, .workflow = wf};
	wr_view_runs(&v, &f->st, mask, T0 + HOUR, n);
	return t_out_text(&o);
}

static void test_runs(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "01-run-a", "backup", "{\"max_attempts\":3}");
	fx_attempt(&f, T0, "01-run-a", 1, "error", 3);
	fx_created(&f, T0, "02-run-b", "build", "{}");
	fx_started(&f, T0, "02-run-b", 1);
	fx_created(&f, T0, "03-run-c", "backup", "{}");
	fx_attempt(&f, T0, "03-run-c", 1, "success", 0);

	struct wr_view_count n;
	char *s = runs_text(&f, ~0u, NULL, 0, &n);
	is_int(n.total, 3, "every run counts");
	is_int(n.shown, 3, "every status shown");
	ok(strstr(s, "RUN") && strstr(s, "LEASE/RETRY") && strstr(s, "NOTE"), "the table has its head");
	ok(strstr(s, "error, exit 3") != NULL, "a failed attempt's note: outcome and exit code");
	ok(strstr(s, "success after 1s") != NULL, "a success's note: its duration");
	ok(strstr(s, "1/3") != NULL, "ATTEMPT is started of max");
	ok(strstr(s, "2026-11-20T22:31:05.000Z") != NULL, "off a terminal times are RFC 3339");
	free(s);

	s = runs_text(&f, 1u << WR_ST_RUNNING, NULL, 0, &n);
	is_int(n.total, 3, "the mask does not change the total");
	is_int(n.shown, 1, "only the running run");
	ok(strstr(s, "build") && !strstr(s, "backup"), "the table holds the running run only");
	free(s);

	s = runs_text(&f, ~0u, "backup", 1, &n);
	is_int(n.total, 2, "the workflow filter");
	is_int(t_count(s, "\n"), 2, "JSON: a line per run");
	ok(strstr(s, "\"run\":\"01-run-a\"") && strstr(s, "\"run\":\"03-run-c\""), "JSON: the state's objects");
	free(s);
	fx_free(&f);
}

static void test_note(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{}");
	char *s = wr_view_run_note(fx_run(&f, "r1"), T0);
	is_str(s, "waiting to start", "a run not started yet");
	free(s);
	fx_started(&f, T0, "r1", 1);
	ok(wr_view_run_note(fx_run(&f, "r1"), T0 + MIN) == NULL, "a live attempt in its lease: nothing to say");
	s = wr_view_run_note(fx_run(&f, "r1"), T0 + HOUR);
	is_str(s, "lease expired; see wr-watch check", "a lease expired");
	free(s);
	fx_free(&f);
}

static void test_workflows(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_ev(&f, T0, "workflow.expected", "\"workflow\":\"nightly\",\"every_ms\":%lld,\"grace_ms\":0", HOUR);
	struct t_out o;
	struct wr_view v = {.f = t_out_open(&o)};
	wr_view_workflows(&v, &f.st, T0 + 3 * HOUR + MIN);
	char *s = t_out_text(&o);
	ok(strstr(s, "overdue: nightly was due") != NULL, "an overdue workflow's line");
	ok(strstr(s, "3 periods missed") != NULL, "the periods missed");
	free(s);

	v.f = t_out_open(&o);
	is_int(wr_view_expectations(&v, &f.st, T0 + 30 * MIN), 1, "one expectation");
	s = t_out_text(&o);
	ok(strstr(s, "nightly") && strstr(s, "1h") && strstr(s, " ok"), "its row: workflow, every, state");
	free(s);

	json_t *j = wr_view_expect_json(wr_state_workflow(&f.st, "nightly"), T0 + 3 * HOUR + MIN);
	ok(json_is_true(json_object_get(j, "overdue")), "JSON: overdue");
	is_int(json_integer_value(json_object_get(j, "period")), 3, "JSON: the period");
	json_decref(j);
	fx_free(&f);
}

static void test_when(void)
{
	char b[64];
	struct wr_view v = {.relative = 1};
	is_str(wr_view_when(&v, T0, T0 - (39 * HOUR + 20 * MIN), b, sizeof b), "1d15h ago", "two units, rounded");
	is_str(wr_view_when(&v, T0, T0 + 44 * MIN + 26 * SEC, b, sizeof b), "in 44m26s", "the future");
	ok(wr_view_when(&v, T0, 0, b, sizeof b) == NULL, "no time: NULL");
	v.relative = 0;
	is_str(wr_view_when(&v, T0, T0, b, sizeof b), "2026-11-20T22:31:05.000Z", "absolute: RFC 3339");
}

/* The events of r1 gathered as the ledger's replay gives them. */
static void gather(struct wr_view_events *c, struct t_fx *f, const char *type, const char *fields, int64_t ts)
{
	char *s = wr_xasprintf("{\"type\":\"%s\",%s}", type, fields);
	json_t *o = t_json("%s", s);
	free(s);
	int r = fx_apply(f, o, ts);
	json_decref(o);
	/* the line as the ledger has it now, decoded again */
	char t[WR_TS_LEN];
	json_t *line = t_json("{\"v\":1,\"seq\":%lld,\"ts\":\"%s\",\"by\":\"t/1\",\"type\":\"%s\",%s}", (long long)f->seq,
			      wr_ts_format(ts, t), type, fields);
	char *text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	struct wr_event ev;
	struct wr_decode_err err;
	if (wr_event_decode(text, strlen(text), &ev, &err) == 0) {
		const char *why = f->why;
		wr_view_events_on_events(c, &ev, 1, &r, &why, f->seq);
		wr_event_clear(&ev);
	}
	free(text);
}

static void test_timeline(void)
{
	struct t_fx f;
	fx_init(&f);
	struct wr_view_events c = {.run = "r1"};
	gather(&c, &f, "run.created", "\"run\":\"r1\",\"workflow\":\"wf\",\"argv\":[\"make\",\"all\"],\"cwd\":\"/src\",\"policy\":{}", T0);
	gather(&c, &f, "run.created", "\"run\":\"r2\",\"workflow\":\"wf\",\"argv\":[\"x\"],\"cwd\":\"/\",\"policy\":{}", T0);
	gather(&c, &f, "attempt.started", "\"run\":\"r1\",\"attempt\":1,\"host\":\"h\",\"pid\":5,\"lease_until\":\"2026-11-20T23:31:05.000Z\"", T0 + SEC);
	for (int i = 0; i < 3; i++)
		gather(&c, &f, "attempt.heartbeat", "\"run\":\"r1\",\"attempt\":1,\"lease_until\":\"2026-11-20T23:31:05.000Z\"",
		       T0 + (30 + 30 * i) * SEC);
	is_int(c.n, 5, "the run's events only, not r2's");

	struct t_out o;
	struct wr_view v = {.f = t_out_open(&o)};
	const struct wr_run *r = fx_run(&f, "r1");
	wr_view_run(&v, r, NULL, NULL, T0 + 2 * MIN);
	wr_view_timeline(&v, r, &c, NULL);
	char *s = t_out_text(&o);
	ok(strstr(s, "command   make all") != NULL, "the header's command");
	ok(strstr(s, "cwd       /src") != NULL, "the header's cwd");
	ok(strstr(s, "attempt.heartbeat x3") != NULL, "three heartbeats in one row");
	ok(strstr(s, "4-6") != NULL, "the stretch's seqs");
	ok(strstr(s, "+1.0s") != NULL, "an offset from the creation");
	free(s);

	v.f = t_out_open(&o);
	v.json = 1;
	wr_view_timeline(&v, r, &c, "ledger.archive.1");
	s = t_out_text(&o);
	is_int(t_count(s, "\n"), 5, "JSON: every event, heartbeats too");
	is_int(t_count(s, "\"stale\":false"), 5, "JSON: each marked not stale");
	is_int(t_count(s, "\"archive\":\"ledger.archive.1\""), 5, "JSON: the archive named");
	free(s);
	wr_view_events_free(&c);
	fx_free(&f);
}

static void test_event_line(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "0190abcd-run", "night\\u001b[31mly", "{}");
	char *text = wr_xasprintf("{\"v\":1,\"seq\":7,\"ts\":\"2026-11-20T22:31:05.000Z\",\"by\":\"t/1\","
				  "\"type\":\"run.cancelled\",\"run\":\"0190abcd-run\",\"reason\":\"no\"}");
	struct wr_event ev;
	struct wr_decode_err err;
	ok(wr_event_decode(text, strlen(text), &ev, &err) == 0, "the event decodes");
	struct wr_buf b = {0};
	const struct wr_run *r = fx_run(&f, "0190abcd-run");
	wr_view_event_line(&b, &ev, r, r->workflow, WR_APPLY_OK, NULL, 1, 0);
	ok(!strncmp(wr_buf_str(&b), "2026-11-20T22:31:05.000Z #7 run.cancelled", 41), "time, seq and type first");
	ok(strstr(b.p, "night?[31mly: ") != NULL, "the workflow, made safe for a terminal");
	char want[64];
	snprintf(want, sizeof want, " -> %s", wr_status_name(r->status));
	ok(strstr(b.p, want) != NULL, "the run's status after the decision");
	wr_buf_free(&b);
	wr_view_event_line(&b, &ev, r, r->workflow, WR_APPLY_STALE, "fenced", 1, 0);
	ok(strstr(wr_buf_str(&b), " [stale: fenced]") && !strstr(b.p, " -> "), "a stale event: marked, no status");
	wr_buf_free(&b);

	struct t_out o;
	struct wr_view v = {.f = t_out_open(&o), .workflow = "other"};
	wr_view_event(&v, &f.st, &ev, WR_APPLY_OK, NULL, 1);
	v.workflow = NULL;
	v.run = "another-run";
	wr_view_event(&v, &f.st, &ev, WR_APPLY_OK, NULL, 1);
	v.run = NULL;
	v.json = 1;
	wr_view_event(&v, &f.st, &ev, WR_APPLY_OK, NULL, 1);
	char *s = t_out_text(&o);
	is_int(t_count(s, "\n"), 1, "another workflow's and another run's events are left out");
	ok(strstr(s, "\"seq\":7") != NULL, "JSON: the event as recorded");
	free(s);
	wr_event_clear(&ev);
	free(text);
	fx_free(&f);
}

int main(void)
{
	test_runs();
	test_note();
	test_workflows();
	test_when();
	test_timeline();
	test_event_line();
	return done_testing();
}
