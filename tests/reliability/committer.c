/* committer.c - a minimal ledger writer and reader for the reliability tests.
 *
 *   committer commit [--ledger P] [--count N] [--batch K] [--by BY] [--mark M]
 *       commits N decisions (0: until killed) of K outbox.enqueued events
 *       (K 0: 1 to 3 at random); every event of a decision carries the
 *       decision's mark in details {"b": MARK, "n": K}. After each commit
 *       returns it prints "SEQ MARK" (the decision's last seq) and flushes:
 *       (marks are M-1, M-2 ...; by default M is p<pid>; --by sets "by")
 *       a printed line is a promise that the decision is in the ledger.
 *       WR_COMMITTER_PAUSE_MS=N pauses N ms after each decision (a writer
 *       that leaves others room, for long runs that stay small).
 *   committer check [--ledger P] [--printed FILE]...
 *       replays the ledger as a reader (no lock) and fails when the reduced
 *       state holds part of a decision (a mark with fewer than n entries),
 *       or when a printed "SEQ MARK" is not in the ledger as that event.
 *
 *   committer tear [--ledger P] [--every N]
 *       a crash at every byte offset of a 3-event decision (fault builds:
 *       WR_FAULT_TEAR_AT), each followed by a reader, the next writer's
 *       repair and checks; wr-ledger verify (from PATH) runs at every N-th
 *       offset and at line ends.
 *
 * Exit: 0, 1 a promise broken, 2 usage, 74/75 ledger errors (as the tools). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "event.h"
#include "ledger.h"
#include "random.h"
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

static int cmd_commit(const char *ledger, long count, int batch, const char *by, const char *markp)
{
	struct wr_ledger l;
	if (wr_ledger_open(&l, ledger, WR_LEDGER_WRITE) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	if (by)
		snprintf(l.by, sizeof l.by, "%s", by);
	/* The pid alone is not unique: with pid_max 32768 a busy machine reuses
	 * the pid of a killed committer within one test, and its ids with it. */
	unsigned long long tag = (unsigned long long)wr_random_below(1LL << 40);
	const char *pause = getenv("WR_COMMITTER_PAUSE_MS");
	long pause_ms = pause ? atol(pause) : 0;
	for (long i = 1; count == 0 || i <= count; i++) {
		char mark[64];
		if (markp)
			snprintf(mark, sizeof mark, "%s-%ld", markp, i);
		else
			snprintf(mark, sizeof mark, "p%ld.%llx-%ld", (long)getpid(), tag, i);
		struct req r = {batch ? batch : 1 + (int)wr_random_below(3), mark};
		if (wr_ledger_commit(&l, decide, &r) < 0)
			wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
		printf("%lld %s\n", (long long)l.st.last_seq, mark);
		if (fflush(stdout) != 0)
			wr_diesys(WR_EXIT_IO, "unable to write standard output");
		if (pause_ms > 0) {
			struct timespec ts = {pause_ms / 1000, pause_ms % 1000 * 1000000L};
			nanosleep(&ts, NULL);
		}
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
	json_t *d = wr_ev_json(&evs[n - 1], "details");
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

struct result {
	size_t decisions;     /* whole decisions with a mark in the state */
	int64_t events, bad_lines, invalid, last_seq;
	int torn;
};

/* Replays the ledger as a reader. Returns 1 when a promise is broken. */
static int check(const char *ledger, char **printed, int nprinted, struct result *res, int print)
{
	struct wr_ledger l;
	struct seen s = {json_object()};
	if (wr_ledger_open(&l, ledger, WR_LEDGER_QUIET | WR_LEDGER_LAZY | WR_LEDGER_MISSING_OK) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	l.on_events = on_events;
	l.on_events_ctx = &s;
	if (wr_ledger_refresh(&l) < 0)
		wr_die(WR_EXIT_IO, "%s", wr_errmsg());
	/* Count the entries of each decision mark in the reduced state. */
	json_t *count = json_object(), *want = json_object();
	for (size_t i = 0; i < l.st.outbox.n; i++) {
		struct wr_outbox *o = wr_map_at(&l.st.outbox, i);
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
	struct result r = {json_object_size(count), l.st.events, l.bad_lines, l.st.invalid, l.st.last_seq, l.scan.torn};
	if (res)
		*res = r;
	if (print)
		printf("%s: %zu decisions, %lld events, last seq %lld, %lld bad lines, %lld invalid, torn %d\n",
		       bad ? "FAIL" : "ok", r.decisions, (long long)r.events, (long long)r.last_seq,
		       (long long)r.bad_lines, (long long)r.invalid, r.torn);
	json_decref(count);
	json_decref(want);
	json_decref(s.by_seq);
	wr_ledger_close(&l);
	return bad;
}

static int cmd_check(const char *ledger, char **printed, int nprinted)
{
	return check(ledger, printed, nprinted, NULL, 1);
}

/* The whole file, or NULL with *len 0 when it does not exist. */
static char *slurp(const char *path, size_t *len)
{
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return NULL;
		wr_diesys(WR_EXIT_IO, "unable to open %s", path);
	}
	struct wr_buf b = {0};
	char chunk[65536];
	ssize_t r;
	while ((r = wr_read(fd, chunk, sizeof chunk)) > 0)
		wr_buf_add(&b, chunk, (size_t)r);
	if (r < 0)
		wr_diesys(WR_EXIT_IO, "unable to read %s", path);
	close(fd);
	*len = b.len;
	return b.p ? b.p : wr_xstrdup("");
}

static void spew(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || wr_write_all(fd, p, n) < 0 || close(fd) < 0)
		wr_diesys(WR_EXIT_IO, "unable to write %s", path);
}

/* Runs a commit in a child (tear: WR_FAULT_TEAR_AT, -1 none) and returns
 * its exit status, or 128+N when it died of signal N. */
static int child_commit(const char *ledger, int batch, const char *by, const char *mark, long tear)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		wr_diesys(WR_EXIT_IO, "fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		if (tear >= 0) {
			char k[32];
			snprintf(k, sizeof k, "%ld", tear);
			setenv("WR_FAULT_TEAR_AT", k, 1);
		}
		_exit(cmd_commit(ledger, 1, batch, by, mark));
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			wr_diesys(WR_EXIT_IO, "waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs "wr-ledger --ledger L verify" (from PATH); returns its exit status
 * and leaves its output in out. */
static int run_verify(const char *ledger, const char *out)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		wr_diesys(WR_EXIT_IO, "fork");
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("wr-ledger", "wr-ledger", "--ledger", ledger, "verify", (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			wr_diesys(WR_EXIT_IO, "waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define TEAR_FAIL(...)                                                                                  \
	do {                                                                                            \
		printf("offset %ld: ", k);                                                              \
		printf(__VA_ARGS__);                                                                    \
		printf("\n");                                                                           \
		return 1;                                                                               \
	} while (0)

/* A crash at every byte offset of one 3-event decision appended to the
 * ledger at path (it must exist and hold whole decisions only). Needs the
 * WR_FAULT_TEAR_AT hook. Every `every` offsets (and at line ends) the real
 * wr-ledger verify runs as well. */
static int cmd_tear(const char *ledger, long every)
{
	char *lpath = wr_ledger_path(ledger);
	char *qpath = wr_xasprintf("%s.quarantine", lpath);
	char *vout = wr_xasprintf("%s.verify", lpath);
	size_t blen, len, qlen;
	char *base = slurp(lpath, &blen);
	struct result r0, r;
	if (!base || check(lpath, NULL, 0, &r0, 0) || r0.torn || r0.bad_lines)
		wr_die(2, "tear: %s must exist and be clean", lpath);
	/* The decision whole, to learn its length and line ends. */
	if (child_commit(lpath, 3, "c/1", "torn", -1) != 0)
		wr_die(1, "tear: the untorn commit failed");
	char *whole = slurp(lpath, &len);
	long n = (long)(len - blen), k = 0;
	free(whole);
	printf("# base %zu bytes, decision %ld bytes\n", blen, n);
	for (k = 0; k <= n; k++) {
		spew(lpath, base, blen);
		unlink(qpath);
		int rc = child_commit(lpath, 3, "c/1", "torn", k);
		if (rc != 99)
			TEAR_FAIL("the tearing commit exited %d, not 99", rc);
		char *torn = slurp(lpath, &len);
		if (len != blen + (size_t)k || memcmp(torn, base, blen))
			TEAR_FAIL("%zu bytes after the tear, want %zu with the prefix intact", len, blen + (size_t)k);
		int mid = k > 0 && k < n;
		int line_end = k > 0 && torn[len - 1] == '\n';
		int full_verify = k % every == 0 || line_end || k == 1 || k == n - 1;
		/* A reader (no lock): none of the decision, or all of it. */
		if (check(lpath, NULL, 0, &r, 0))
			TEAR_FAIL("a reader applied part of the decision");
		if (r.decisions != r0.decisions + (k == n) || r.torn != mid || r.bad_lines)
			TEAR_FAIL("reader saw %zu decisions, torn %d, %lld bad lines", r.decisions, r.torn,
				  (long long)r.bad_lines);
		if (mid && full_verify) {
			rc = run_verify(lpath, vout);
			size_t vlen;
			char *v = slurp(vout, &vlen);
			if (rc != 1 || !strstr(v, "torn tail"))
				TEAR_FAIL("wr-ledger verify exited %d and said: %s", rc, v);
			free(v);
		}
		/* The next writer (a new handle) repairs and commits. */
		struct wr_ledger l;
		struct req next = {1, "next-1"};
		if (wr_ledger_open(&l, lpath, WR_LEDGER_WRITE | WR_LEDGER_QUIET) < 0 ||
		    wr_ledger_commit(&l, decide, &next) < 0)
			TEAR_FAIL("the next writer failed: %s", wr_errmsg());
		wr_ledger_close(&l);
		char *after = slurp(lpath, &len);
		if (len < blen || memcmp(after, base, blen))
			TEAR_FAIL("the next writer changed the prefix");
		free(after);
		char *q = slurp(qpath, &qlen);
		if (mid && (!q || qlen != (size_t)k || memcmp(q, torn + blen, (size_t)k)))
			TEAR_FAIL("quarantine holds %zu bytes, not the %ld torn ones", qlen, k);
		if (!mid && q)
			TEAR_FAIL("a quarantine file without a torn tail");
		free(q);
		free(torn);
		if (check(lpath, NULL, 0, &r, 0))
			TEAR_FAIL("after repair a reader applied part of a decision");
		if (r.decisions != r0.decisions + 1 + (k == n) || r.torn || r.bad_lines || r.invalid)
			TEAR_FAIL("after repair: %zu decisions, torn %d, %lld bad lines, %lld invalid", r.decisions,
				  r.torn, (long long)r.bad_lines, (long long)r.invalid);
		if (full_verify && (rc = run_verify(lpath, vout)) != 0) {
			size_t vlen;
			TEAR_FAIL("wr-ledger verify after repair exited %d: %s", rc, slurp(vout, &vlen));
		}
	}
	printf("ok: a crash at each of the %ld offsets of a %ld-byte decision\n", n + 1, n);
	spew(lpath, base, blen);
	unlink(qpath);
	unlink(vout);
	free(base);
	free(lpath);
	free(qpath);
	free(vout);
	return 0;
}

static noreturn void usage(void)
{
	fputs("usage: committer commit [--ledger P] [--count N] [--batch K] [--by BY] [--mark M]\n"
	      "       committer check [--ledger P] [--printed FILE]...\n"
	      "       committer tear [--ledger P] [--every N]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	wr_prog = "committer";
	if (argc < 2)
		usage();
	const char *ledger = NULL, *by = NULL, *markp = NULL;
	long count = 1;
	int batch = 0, nprinted = 0;
	long every = 1;
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
		else if (!strcmp(argv[i], "--every"))
			every = atol(argv[++i]) > 0 ? atol(argv[i]) : 1;
		else if (!strcmp(argv[i], "--mark"))
			markp = argv[++i];
		else if (!strcmp(argv[i], "--printed"))
			printed[nprinted++] = argv[++i];
		else
			usage();
	}
	int r;
	if (!strcmp(argv[1], "commit"))
		r = cmd_commit(ledger, count, batch, by, markp);
	else if (!strcmp(argv[1], "tear"))
		r = cmd_tear(ledger, every);
	else if (!strcmp(argv[1], "check"))
		r = cmd_check(ledger, printed, nprinted);
	else
		usage();
	free(printed);
	return r;
}
