/* test-census - what a ledger holds, counted (core/census.c). */
#include "census.h"
#include "helpers.h"
#include "tap.h"

int main(void)
{
	struct t_fx f;
	fx_init(&f);
	fx_created(&f, T0, "r1", "wf", "{}");
	fx_attempt(&f, T0, "r1", 1, "success", 0);
	fx_created(&f, T0 + MIN, "r2", "wf", "{}");
	fx_ev(&f, T0 + 2 * MIN, "run.cancelled", "\"run\":\"r2\",\"reason\":\"no\"");
	fx_ev(&f, T0 + 3 * MIN, "thing.unknown", "\"x\":1");

	struct wr_census c = {.path = "/l.jsonl", .bytes = 1234, .bad_lines = 2, .torn = 1};
	struct wr_event ev = {.ts = T0};
	int applied = WR_APPLY_OK;
	const char *why = NULL;
	wr_census_on_events(&c, &ev, 1, &applied, &why, 1);
	ev.ts = T0 + HOUR;
	wr_census_on_events(&c, &ev, 1, &applied, &why, 2);
	is_int(c.first_ts, T0, "the oldest event is the first one seen");

	json_t *o = wr_census_json(&c, &f.st);
	is_str(json_string_value(json_object_get(o, "file")), "/l.jsonl", "JSON: the file");
	is_int(json_integer_value(json_object_get(o, "events")), 6, "JSON: every event");
	is_str(json_string_value(json_object_get(o, "oldest")), "2026-11-20T22:31:05.000Z", "JSON: the oldest");
	is_int(json_integer_value(json_object_get(json_object_get(o, "runs"), "succeeded")), 1, "JSON: runs by status");
	is_int(json_integer_value(json_object_get(json_object_get(o, "runs"), "cancelled")), 1, "JSON: cancelled");
	is_int(json_integer_value(json_object_get(json_object_get(o, "runs"), "blocked")), 0, "JSON: every status, 0 too");
	is_int(json_integer_value(json_object_get(json_object_get(o, "types"), "run.created")), 2, "JSON: by type");
	is_int(json_integer_value(json_object_get(json_object_get(o, "types"), "unknown")), 1, "JSON: unknown types");
	ok(json_object_get(json_object_get(o, "types"), "attempt.stuck") == NULL, "JSON: types not seen are left out");
	is_int(json_integer_value(json_object_get(o, "bad_lines")), 2, "JSON: bad lines");
	ok(json_is_true(json_object_get(o, "torn_tail")), "JSON: the torn tail");
	json_decref(o);

	struct wr_buf b = {0};
	wr_census_text(&b, &c, &f.st);
	const char *s = wr_buf_str(&b);
	ok(strstr(s, "size        1234 bytes\n") != NULL, "text: the size");
	ok(strstr(s, "runs        2: succeeded 1 cancelled 1\n") != NULL, "text: runs, only the statuses there are");
	ok(strstr(s, "span        2026-11-20T22:31:05.000Z .. 2026-11-20T22:34:05.000Z\n") != NULL, "text: the span");
	ok(strstr(s, "  run.created          2\n") != NULL, "text: by type");
	ok(strstr(s, "  (unknown types)      1\n") != NULL, "text: unknown types");
	wr_buf_free(&b);

	struct wr_census none = {.path = "/e"};
	struct wr_state empty;
	wr_state_init(&empty);
	wr_census_text(&b, &none, &empty);
	ok(strstr(wr_buf_str(&b), "span        - .. -\n") != NULL, "an empty ledger has no span");
	wr_buf_free(&b);
	o = wr_census_json(&none, &empty);
	ok(json_is_null(json_object_get(o, "oldest")) && json_is_null(json_object_get(o, "newest")), "JSON: nulls");
	json_decref(o);
	wr_state_free(&empty);
	fx_free(&f);
	return done_testing();
}
