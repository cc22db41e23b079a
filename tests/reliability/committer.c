/* committer.c - a minimal ledger writer and reader for the reliability tests.
 *
 *   committer commit [--ledger P] [--count N] [--batch K] [--by BY]
 *       commits N decisions (0: until killed) of K outbox.enqueued events
 *       (K 0: 1 to 3 at random); every event of a decision carries the
 *       decision's mark in details {"b": MARK, "n": K}. After each commit
 *       returns it prints "SEQ MARK" (the decision's last seq) and flushes:
 *       a printed line is a promise that the decision is in the ledger.
 *   committer check [--ledger P] [--printed FILE]...
 *       replays the ledger as a reader (no lock) and fails when the reduced
 *       state holds part of a decision (a mark with fewer than n entries),
 *       or when a printed "SEQ MARK" is not in the ledger as that event.
 *
 * Exit: 0, 1 a promise broken, 2 usage, 74/75 ledger errors (as the tools). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "event.h"
#include "ledger.h"
#include "state.h"
#include "util.h"

struct req {
	int k;
	const char *mark;
};

static int decide(const struct wr_state *st, int64_t now, void *vreq, struct wr_batch *out)
{
	struct req *r = vreq;
	(void)st;
	(void)now;
	for (int j = 1; j <= r->k; j++) {
		json_t *ev = wr_event_new(WR_EV_OUTBOX_ENQUEUED);
		char *id = wr_xasprintf("%s-%d", r->mark, j);
		wr_jset_str(ev, "id", id);
		free(id);
		wr_jset_str(ev, "kind", "custom");
		wr_jset_str(ev, "message", "reliability");
		json_t *d = json_object();
		wr_jset_str(d, "b", r->mark);
		wr_jset_int(d, "n", r->k);
		wr_jset(ev, "details", d);
		json_array_append_new(out->events, ev);
	}
	return 0;
}

static int cmd_commit(const char *ledger, long count, int batch, const char *by)
{
	struct wr_ledger l;
	if (wr_ledger_open(&l, ledger, WR_LEDGER_WRITE) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	if (by)
		snprintf(l.by, sizeof l.by, "%s", by);
	srand((unsigned)getpid());
	for (long i = 1; count == 0 || i <= count; i++) {
		char mark[64];
		snprintf(mark, sizeof mark, "p%ld-%ld", (long)getpid(), i);
		struct req r = {batch ? batch : 1 + rand() % 3, mark};
		if (wr_ledger_commit(&l, decide, &r) < 0)
			wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
		printf("%lld %s\n", (long long)l.st.last_seq, mark);
		if (fflush(stdout) != 0)
			wr_diesys(WR_EXIT_IO, "unable to write standard output");
	}
	wr_ledger_close(&l);
	return 0;
}

struct seen {
	json_t *by_seq;       /* "SEQ" -> mark of the last event of its decision */
};

static void on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied, const char *const *why,
		      int64_t line)
{
	struct seen *s = ctx;
	(void)applied;
	(void)why;
	(void)line;
	json_t *d = json_object_get(evs[n - 1].obj, "details");
	const char *b = json_string_value(json_object_get(d, "b"));
	if (b) {
		char k[32];
		snprintf(k, sizeof k, "%lld", (long long)evs[n - 1].seq);
		json_object_set_new(s->by_seq, k, json_string(b));
	}
}

static int check_printed(json_t *by_seq, const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f)
		wr_diesys(WR_EXIT_IO, "unable to open %s", file);
	char line[256];
	int bad = 0;
	long n = 0;
	while (fgets(line, sizeof line, f)) {
		char seq[32], mark[128];
		if (sscanf(line, "%31s %127s", seq, mark) != 2)
			continue; /* a line cut by the kill is no promise */
		if (!strchr(line, '\n'))
			continue;
		n++;
		const char *got = json_string_value(json_object_get(by_seq, seq));
		if (!got || strcmp(got, mark)) {
			printf("printed seq %s (%s) is not in the ledger as such (found %s)\n", seq, mark,
			       got ? got : "nothing");
			bad = 1;
		}
	}
	fclose(f);
	return bad;
}

static int cmd_check(const char *ledger, char **printed, int nprinted)
{
	struct wr_ledger l;
	struct seen s = {json_object()};
	if (wr_ledger_open(&l, ledger, WR_LEDGER_QUIET | WR_LEDGER_LAZY) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	l.on_events = on_events;
	l.on_events_ctx = &s;
	if (wr_ledger_refresh(&l) < 0)
		wr_die(WR_EXIT_IO, "%s", wr_errmsg());
	/* Count the entries of each decision mark in the reduced state. */
	json_t *count = json_object(), *want = json_object();
	for (size_t i = 0; i < l.st.outbox.n; i++) {
		struct wr_outbox *o = l.st.outbox.ent[i].val;
		const char *b = json_string_value(json_object_get(o->details, "b"));
		if (!b)
			continue;
		json_t *c = json_object_get(count, b);
		json_object_set_new(count, b, json_integer(c ? json_integer_value(c) + 1 : 1));
		json_object_set(want, b, json_object_get(o->details, "n"));
	}
	int bad = 0;
	const char *b;
	json_t *c;
	json_object_foreach(count, b, c)
	{
		json_int_t w = json_integer_value(json_object_get(want, b));
		if (json_integer_value(c) != w) {
			printf("partial decision %s applied: %lld of %lld events\n", b, (long long)json_integer_value(c),
			       (long long)w);
			bad = 1;
		}
	}
	for (int i = 0; i < nprinted; i++)
		bad |= check_printed(s.by_seq, printed[i]);
	printf("%s: %zu decisions, %lld events, last seq %lld, %lld bad lines, torn %d\n", bad ? "FAIL" : "ok",
	       json_object_size(count), (long long)l.st.events, (long long)l.st.last_seq, (long long)l.bad_lines,
	       l.scan.torn);
	json_decref(count);
	json_decref(want);
	json_decref(s.by_seq);
	wr_ledger_close(&l);
	return bad;
}

static noreturn void usage(void)
{
	fputs("usage: committer commit [--ledger P] [--count N] [--batch K] [--by BY]\n"
	      "       committer check [--ledger P] [--printed FILE]...\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	wr_prog = "committer";
	if (argc < 2)
		usage();
	const char *ledger = NULL, *by = NULL;
	long count = 1;
	int batch = 0, nprinted = 0;
	char **printed = wr_xcalloc((size_t)argc, sizeof *printed);
	for (int i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--ledger"))
			ledger = argv[++i];
		else if (!strcmp(argv[i], "--count"))
			count = atol(argv[++i]);
		else if (!strcmp(argv[i], "--batch"))
			batch = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--by"))
			by = argv[++i];
		else if (!strcmp(argv[i], "--printed"))
			printed[nprinted++] = argv[++i];
		else
			usage();
	}
	int r;
	if (!strcmp(argv[1], "commit"))
		r = cmd_commit(ledger, count, batch, by);
	else if (!strcmp(argv[1], "check"))
		r = cmd_check(ledger, printed, nprinted);
	else
		usage();
	free(printed);
	return r;
}
