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

int main(void)
{
	struct seen s;
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
