/* test-jsonfast.c - the fast reader of ledger lines (simdjson) against
 * jansson, the decoder of record: over the fuzzer's seed ledgers, lines of
 * every kind of doubt, and many lines made from them by small changes,
 * both decoders must accept the same lines as the same events and refuse
 * the same lines with the same message, column and field. */
#include "jsonfast.h"
#include "event.h"
#include "tap.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t compared, accepted, fast_read;

static char *dump(const struct wr_event *ev)
{
	return json_dumps(wr_ev_obj(ev), JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

/* Both decoders on one line; 1 when they agree. */
static int agree(const char *line, size_t len)
{
	struct wr_event a, b;
	struct wr_decode_err ea, eb;
	memset(&ea, 0, sizeof ea);
	memset(&eb, 0, sizeof eb);
	int ra = wr_event_decode(line, len, &a, &ea), rb = wr_event_decode_ref(line, len, &b, &eb);
	int same = ra == rb;
	compared++;
	if (same && ra < 0)
		same = ea.column == eb.column && !strcmp(ea.field, eb.field) && !strcmp(ea.msg, eb.msg);
	if (same && ra == 0) {
		accepted++;
		char *da = dump(&a), *db = dump(&b);
		same = wr_event_equal(&a, &b) && da && db && !strcmp(da, db);
		free(da);
		free(db);
	}
	struct wr_ev_fields *d = wr_jsonfast_fields(line, len, WR_MAX_DEPTH);
	if (d) {
		fast_read++;
		/* what simdjson reads, jansson reads too */
		if (rb < 0 && !strstr(eb.msg, "field") && !strstr(eb.msg, "nesting"))
			same = 0;
		struct wr_event f = {0};
		f.fields = d;
		wr_event_clear(&f);
	}
	if (ra == 0)
		wr_event_clear(&a);
	if (rb == 0)
		wr_event_clear(&b);
	if (!same)
		printf("# they differ on: %.*s\n#   fast %d %d:%s:%s\n#   ref  %d %d:%s:%s\n", (int)(len < 400 ? len : 400),
		       line, ra, ea.column, ea.field, ea.msg, rb, eb.column, eb.field, eb.msg);
	return same;
}

#define HB "{\"v\":1,\"seq\":5,\"ts\":\"2026-11-20T22:31:05.123Z\",\"type\":\"attempt.heartbeat\",\"by\":\"wr-run/1\","
#define A8 "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
#define HB_END "\"run\":\"r1\",\"attempt\":1,\"lease_until\":\"2026-11-20T22:33:05.123Z\"}"

/* Lines of every doubt simdjson must leave to jansson, or read alike. */
static const char *const doubts[] = {
	HB HB_END,
	HB "\"seq\":6," HB_END,                                        /* duplicate key */
	HB "\"x\":{\"a\":1,\"a\":2}," HB_END,                          /* duplicate inside */
	HB "\"x\":[{\"b\":[{\"a\":1,\"\\u0061\":2}]}]," HB_END,         /* duplicate, escaped, deep */
	HB "\"x\":\"a\\u0000b\"," HB_END,                              /* \u0000 */
	HB "\"x\":{\"k\\u0000\":1}," HB_END,                           /* \u0000 in a key */
	HB "\"\\u0000\":1," HB_END,
	HB "\"x\":9223372036854775808," HB_END,                        /* beyond int64: kept as text */
	HB "\"x\":-9223372036854775809," HB_END,
	HB "\"x\":[18446744073709551616]," HB_END,
	HB "\"x\":9223372036854775807,\"y\":-9223372036854775808," HB_END,
	HB "\"turns\":9223372036854775808," HB_END,                    /* a known field beyond int64 */
	HB "\"x\":1e400," HB_END,
	HB "\"x\":1e-400,\"y\":-0,\"z\":-0.0,\"w\":1E2,\"u\":2.5e-3," HB_END,
	HB "\"x\":\"\\ud800\"," HB_END,                                /* lone surrogates */
	HB "\"x\":\"\\udc00\"," HB_END,
	HB "\"x\":\"\\ud83d\\ude00\\u00e9\\/\\b\\f\\n\\r\\t\\\"\\\\\"," HB_END,
	HB "\"x\":\"\xed\xa0\x80\"," HB_END,                           /* a surrogate in UTF-8 */
	HB "\"x\":\"\xc0\xaf\"," HB_END,                               /* overlong */
	HB "\"x\":\"\xf4\x90\x80\x80\"," HB_END,                       /* beyond U+10FFFF */
	HB "\"x\":\"\xef\xbf\xbf\xf0\x9f\x98\x80\"," HB_END,
	HB "\"x\":\"\t\"," HB_END,                                     /* a raw control character */
	HB "\"x\":\"\x7f\"," HB_END,
	"\xef\xbb\xbf" HB HB_END,                                      /* a byte order mark */
	" \t" HB HB_END " \t",
	HB HB_END " x",
	HB HB_END "}",
	HB HB_END "{}",
	"[" HB HB_END "]",
	"\"text\"",
	"42",
	"null",
	"{}",
	HB "\"x\":[1,]," HB_END,
	HB "\"x\":01," HB_END,
	HB "\"x\":1.," HB_END,
	HB "\"x\":.5," HB_END,
	HB "\"x\":tru," HB_END,
	HB "\"x\":nul," HB_END,
	HB "\"x\":\"\\x\"," HB_END,
	HB "\"x\":" "[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]" "," HB_END,          /* 16 levels */
	HB "\"x\":" "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]" "," HB_END,        /* 17 */
	HB "\"x\":" A8 A8 "{}" "}}}}}}}}" "}}}}}}}}" "," HB_END,            /* 17 */
	HB "\"turns\":-1," HB_END,                                     /* the field table */
	HB "\"turns\":1.0," HB_END,
	HB "\"turns\":null," HB_END,
	HB "\"metrics\":{\"a\":1,\"b\":-1}," HB_END,
	HB "\"metrics\":{\"\":1}," HB_END,
	HB "\"batch\":[1,2]," HB_END,
	HB "\"batch\":[2,1]," HB_END,
	HB "\"batch\":[1,2,3]," HB_END,
	HB "\"run\":\"\"," HB_END,
	HB "\"run\":{}," HB_END,
	HB "\"v\":2," HB_END,
	"{\"v\":1,\"seq\":5,\"ts\":\"2026-02-30T00:00:00Z\",\"type\":\"x\",\"by\":\"b\"}",
	"{\"v\":1,\"seq\":5,\"ts\":\"2026-01-01T00:00:00+01:00\",\"type\":\"x\",\"by\":\"b\",\"t\":true,\"f\":false,\"n\":null}",
	"{\"v\":1,\"seq\":5,\"ts\":\"2026-01-01T00:00:00Z\",\"by\":\"b\"}",
	"{\"v\":1,\"seq\":1,\"ts\":\"2026-01-01T00:00:00.021Z\",\"type\":\"run.created\",\"by\":\"wr-run/4242\","
	"\"run\":\"019b76da-a800-7766-a04d-4601baf1c748\",\"workflow\":\"crawler\",\"argv\":[\"/usr/local/bin/crawler\","
	"\"--target\",\"t13\"],\"cwd\":\"/srv/jobs/crawler\",\"labels\":{\"team\":\"infra\",\"env\":\"prod\"},\"policy\":"
	"{\"timeout_ms\":3600000,\"kill_after_ms\":10000,\"heartbeat_ms\":30000,\"lease_ms\":120000,\"max_attempts\":3,"
	"\"backoff\":{\"initial_ms\":30000,\"factor\":2.0,\"max_ms\":3600000},\"stuck\":{\"repeat\":null,"
	"\"no_progress_ms\":null,\"action\":\"abort\"},\"concurrency\":null,\"deadline_ms\":null,\"no_retry_on\":[]}}",
};

/* Lines no sure reader may take: simdjson must leave them to jansson. */
static const int declined[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  11, 12, 14, 15, 17, 18, 19, 21, 23,
			       25, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36, 37, 38, 39, 41, 42};

struct lines {
	char **p;
	size_t n, cap;
};

static void add(struct lines *L, const char *s, size_t len)
{
	if (L->n == L->cap) {
		L->cap = L->cap ? 2 * L->cap : 64;
		L->p = realloc(L->p, L->cap * sizeof *L->p);
	}
	char *c = malloc(len + 1);
	memcpy(c, s, len);
	c[len] = 0;
	L->p[L->n++] = c;
}

static void read_corpus(struct lines *L, const char dir[4096])
{
	DIR *d = opendir(dir);
	if (!ok(d != NULL, "the seed ledgers are in %s", dir))
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strstr(e->d_name, ".jsonl"))
			continue;
		char path[4096 + 256];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "r");
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		while (f && (n = getline(&line, &cap, f)) > 0)
			add(L, line, (size_t)n - (line[n - 1] == '\n'));
		free(line);
		if (f)
			fclose(f);
	}
	closedir(d);
}

/* The same changes every run: random(3) seeded in main. */
static uint64_t next(void)
{
	return (uint64_t)random();
}

/* What a change puts in a line: bytes and tokens of doubt. */
static const char *const snippets[] = {
	"\"", "\\", "{", "}", "[", "]", ",", ":", "\\u0000", "\\ud800", "\xff", "\xc3", "\xed\xa0\x80", "\t", "\n", "\r",
	"9223372036854775808", "-0", "1e999", "0.5", "null", "true", "\"v\":1,", "\"seq\":1,", "\"x\":[1,{\"a\":2,\"a\":3}],",
	"\"turns\":-5,", "\"run\":\"\",", "\"batch\":[1,1],", " ", "\"\\u0041\"", "\"\xe2\x82\xac\"",
};

/* A line made from s by one small change. */
static size_t mutate(const char *s, size_t len, char *out, size_t cap)
{
	size_t at = len ? next() % len : 0, n = 0;
	switch (next() % 4) {
	case 0: /* one byte replaced */
		memcpy(out, s, len);
		if (len)
			out[at] = (char)(next() % 255 + 1);
		return len;
	case 1: /* cut */
		memcpy(out, s, at);
		return at;
	case 2: { /* a snippet put in */
		const char *p = snippets[next() % (sizeof snippets / sizeof *snippets)];
		size_t pl = strlen(p);
		if (len + pl > cap)
			return 0;
		memcpy(out, s, at);
		memcpy(out + at, p, pl);
		memcpy(out + at + pl, s + at, len - at);
		return len + pl;
	}
	default: /* a span removed */
		n = len - at ? next() % (len - at) + 1 : 0;
		memcpy(out, s, at);
		memcpy(out + at, s + at + n, len - at - n);
		return len - n;
	}
}

/* Whether this process has mapped a file whose name holds what. */
static int mapped(const char *what)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int found = 0;
	while (f && fgets(line, sizeof line, f))
		found |= strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* A scan about to read 64 KiB or more loads the module at once, one of
 * less does not; in a child, so that the parent starts without it. */
static void eager(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		wr_jsonfast_expect(64 * 1024 - 1);
		int before = mapped("wr-jsonfast.so");
		wr_jsonfast_expect(64 * 1024);
		_exit(before ? 1 : mapped("wr-jsonfast.so") && mapped("libsimdjson") ? 0 : 2);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) != 1, "a scan of less than 64 KiB ahead does not load the module");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "one of 64 KiB loads it at once");
}

/* The module is loaded at the 128th line a process decodes, not before. */
static void lazy(void)
{
	const char *line = doubts[0];
	struct wr_event ev;
	struct wr_decode_err err;
	int decoded = 1, fast = 0;
	ok(!mapped("wr-jsonfast.so") && !mapped("libsimdjson"), "a process starts without simdjson");
	for (int i = 0; i < 100; i++) {
		decoded &= wr_event_decode(line, strlen(line), &ev, &err) == 0;
		wr_event_clear(&ev);
	}
	ok(decoded && !mapped("wr-jsonfast.so") && !mapped("libsimdjson"), "100 lines are read by jansson alone");
	for (int i = 0; i < 100; i++) {
		struct wr_ev_fields *d = wr_jsonfast_fields(line, strlen(line), WR_MAX_DEPTH);
		struct wr_event f = {0};
		fast += d != NULL;
		f.fields = d;
		wr_event_clear(&f);
	}
	ok(mapped("wr-jsonfast.so") && mapped("libsimdjson") && fast >= 70,
	   "from the 128th line simdjson reads them (%d of the next 100)", fast);
	ok(wr_jsonfast_load() == 0, "the module of this build is the one loaded");
}

int main(void)
{
	eager();
	lazy();
	const char *src = getenv("WR_SRC");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus", src ? src : ".");
	struct lines L = {0};
	read_corpus(&L, dir);
	ok(L.n >= 40, "the seed ledgers have %zu lines", L.n);
	size_t base = L.n;
	for (size_t i = 0; i < sizeof doubts / sizeof *doubts; i++)
		add(&L, doubts[i], strlen(doubts[i]));

	int all = 1;
	for (size_t i = 0; i < L.n; i++)
		all &= agree(L.p[i], strlen(L.p[i]));
	ok(all, "the seed lines and the lines of doubt: both decoders agree (%zu lines, %zu accepted)", L.n, accepted);

	/* simdjson reads the plain lines and declines the doubtful ones. */
	struct wr_event plain = {0};
	plain.fields = wr_jsonfast_fields(doubts[0], strlen(doubts[0]), WR_MAX_DEPTH);
	ok(plain.fields != NULL, "simdjson reads a plain heartbeat");
	wr_event_clear(&plain);
	int none = 1;
	for (size_t i = 0; i < sizeof declined / sizeof *declined; i++) {
		const char *l = doubts[declined[i]];
		struct wr_ev_fields *d = wr_jsonfast_fields(l, strlen(l), WR_MAX_DEPTH);
		if (d) {
			printf("# simdjson read line of doubt %d: %s\n", declined[i], l);
			struct wr_event f = {0};
			f.fields = d;
			wr_event_clear(&f);
			none = 0;
		}
	}
	ok(none, "simdjson leaves every line of doubt to jansson");
	size_t seeds_fast = fast_read;
	ok(seeds_fast * 2 > base, "simdjson reads most seed lines (%zu of %zu lines in all)", seeds_fast, L.n);

	/* Many small changes of every line. */
	char *buf = malloc(1 << 16);
	srandom(1);
	size_t before = compared, bad = 0;
	for (int round = 0; round < 60; round++)
		for (size_t i = 0; i < L.n; i++) {
			size_t len = strlen(L.p[i]);
			if (len + 64 > (1 << 16))
				continue;
			size_t n = mutate(L.p[i], len, buf, 1 << 16);
			if (!agree(buf, n))
				bad++;
		}
	ok(bad == 0, "%zu changed lines: both decoders agree on every one (%zu differ)", compared - before, bad);

	/* A second reference lives on; the object is built once. */
	struct wr_event a, b;
	struct wr_decode_err err;
	ok(wr_event_decode(doubts[0], strlen(doubts[0]), &a, &err) == 0, "decode a heartbeat");
	wr_event_copy(&b, &a);
	json_t *o = wr_ev_obj(&a);
	wr_event_clear(&a);
	ok(wr_ev_obj(&b) == o && json_integer_value(json_object_get(o, "seq")) == 5, "the copy keeps the event and its object");
	is_str(wr_ev_str(&b, "run"), "r1", "and its fields");
	ok(wr_ev_json(&b, "run") == NULL && wr_ev_str(&b, "attempt") == NULL && wr_ev_int(&b, "run", -7) == -7,
	   "an accessor of another kind finds nothing");
	wr_event_clear(&b);

	for (size_t i = 0; i < L.n; i++)
		free(L.p[i]);
	free(L.p);
	free(buf);
	return done_testing();
}
