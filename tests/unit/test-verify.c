/* test-verify - the checks of a ledger: a clean one has no problem; a bad
 * line, a broken invariant and a torn tail are each a problem of their
 * kind at their line; the problems are counted. */
#include <string.h>

#include "tap.h"
#include "helpers.h"

#include "verify.h"

#define TS "2026-11-20T22:31:05.123Z"
#define R1 "0190aaaa-0000-7000-8000-00000000aa01"
#define CREATED                                                                                                \
	"{\"v\":1,\"seq\":1,\"ts\":\"" TS "\",\"type\":\"run.created\",\"by\":\"wr-test/1\",\"run\":\"" R1 "\","     \
	"\"workflow\":\"nightly\",\"argv\":[\"make\"],\"cwd\":\"/srv\",\"policy\":{\"max_attempts\":3}}\n"

struct seen {
	int n;
	char kind[8][16];
	int64_t line[8];
};

static void on_problem(void *ctx, const struct wr_problem *p)
{
	struct seen *s = ctx;
	if (s->n < 8) {
		snprintf(s->kind[s->n], sizeof s->kind[0], "%s", p->kind);
		s->line[s->n] = p->line;
	}
	s->n++;
}

static int64_t check(const char *text, struct seen *s)
{
	const char *path = t_path("ledger.jsonl");
	t_write(path, text, strlen(text));
	memset(s, 0, sizeof *s);
	struct wr_ledger l;
	struct wr_verify v = {0, on_problem, s, 0};
	if (wr_ledger_open(&l, path, WR_LEDGER_QUIET | WR_LEDGER_LAZY | WR_LEDGER_NOSNAP) < 0)
		return -1;
	int r = wr_verify_run(&l, &v);
	wr_ledger_close(&l);
	return r < 0 ? -1 : v.problems;
}

/* A problem for people and as JSON (wr-ledger verify prints them). */
static void test_problem_print(void)
{
	struct wr_problem p = {.file = "/l.jsonl", .line = 7, .column = 12, .field = "seq", .kind = "invalid",
			       .msg = "field \"seq\": not \x1b[2Jan integer"};
	struct wr_buf b = {0};
	wr_problem_text(&b, &p);
	is_str(wr_buf_str(&b), "/l.jsonl:7:12: field \"seq\": not ?[2Jan integer\n", "text: file:line:column, made safe");
	wr_buf_free(&b);
	json_t *o = wr_problem_json(&p);
	is_int(json_integer_value(json_object_get(o, "column")), 12, "JSON: the column");
	is_str(json_string_value(json_object_get(o, "field")), "seq", "JSON: the field");
	ok(!json_object_get(o, "skew_ms"), "JSON: no skew but for clock_skew");
	json_decref(o);

	struct wr_problem f = {.file = "/l.jsonl", .kind = "clock_skew", .msg = "a clock runs ahead", .skew_ms = 5000};
	wr_problem_text(&b, &f);
	is_str(wr_buf_str(&b), "/l.jsonl: a clock runs ahead\n", "text: the file as a whole");
	wr_buf_free(&b);
	o = wr_problem_json(&f);
	ok(json_is_null(json_object_get(o, "line")) && json_is_null(json_object_get(o, "column")) &&
		   json_is_null(json_object_get(o, "field")),
	   "JSON: no line, column or field");
	ok(json_is_null(json_object_get(o, "host")) && json_integer_value(json_object_get(o, "skew_ms")) == 5000,
	   "JSON: a clock skew's host and how far ahead");
	json_decref(o);
}

int main(void)
{
	struct seen s;
	test_problem_print();
	t_tmpdir("verify");
	is_int(check(CREATED, &s), 0, "a clean ledger: no problem");
	is_int(s.n, 0, "and nothing said");

	is_int(check(CREATED "{\"v\":1,\"seq\":2,\"ts\":\n", &s), 1, "a line that is no JSON: one problem");
	is_str(s.kind[0], "invalid", "of kind invalid");
	is_int(s.line[0], 2, "at its line");

	is_int(check(CREATED "{\"v\":1,\"seq\":2,\"ts\":\"" TS "\",\"type\":\"attempt.heartbeat\",\"by\":\"wr-test/1\","
			     "\"run\":\"" R1 "\",\"attempt\":1,\"lease_until\":\"" TS "\"}\n",
		     &s),
	       1, "a heartbeat of an attempt never started: one problem");
	is_str(s.kind[0], "invariant", "of kind invariant");
	is_int(s.line[0], 2, "at its line");

	is_int(check(CREATED "{\"v\":1,\"seq\":2", &s), 1, "a torn tail, the lock free: one problem");
	is_str(s.kind[0], "torn", "of kind torn");
	return done_testing();
}
