/* test-event - schema-1 events: round trip of every type through a real
 * ledger, and every class of bad input named by field or column. */
#include "tap.h"
#include "helpers.h"

#include "event.h"
#include "ledger.h"
#include "timefmt.h"

#define RUN "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define OBX "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60"
#define DLV "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a61"
#define TS1 "2026-11-20T22:33:05.123Z"

/* An event of type t with every field its schema knows, or NULL. */
static json_t *sample(enum wr_type t)
{
	json_t *e = wr_event_new(t);
	json_t *f = NULL;
	switch (t) {
	case WR_EV_RUN_CREATED:
		f = t_json("{\"run\":\"" RUN "\",\"workflow\":\"nightly-caf\xc3\xa9\",\"argv\":[\"make\",\"-j\",\"4\",\"\xe6\x97\xa5\"],"
			   "\"cwd\":\"/srv/build\",\"labels\":{\"team\":\"infra\",\"deep\":{\"a\":[1,2,{\"b\":null}]}},"
			   "\"policy\":{\"timeout_ms\":600000,\"kill_after_ms\":10000,\"heartbeat_ms\":30000,\"lease_ms\":120000,"
			   "\"max_attempts\":3,\"backoff\":{\"initial_ms\":30000,\"factor\":2.5,\"max_ms\":3600000},"
			   "\"stuck\":{\"repeat\":50,\"no_progress_ms\":null,\"action\":\"notify\"},\"concurrency\":2,"
			   "\"deadline_ms\":86400000,\"no_retry_on\":[2,64]}}");
		break;
	case WR_EV_ATTEMPT_STARTED:
		f = t_json("{\"run\":\"" RUN "\",\"workflow\":\"nightly\",\"attempt\":2,\"host\":\"build-1\",\"boot_id\":\"b0\","
			   "\"pid\":4242,\"pid_start\":123456789,\"pgid\":4243,\"pgid_start\":123456790,"
			   "\"lease_until\":\"" TS1 "\",\"resume\":[\"fetch\",\"compile\"]}");
		break;
	case WR_EV_ATTEMPT_HEARTBEAT:
		f = t_json("{\"run\":\"" RUN "\",\"attempt\":2,\"lease_until\":\"" TS1 "\"}");
		break;
	case WR_EV_ATTEMPT_PROGRESS:
		f = t_json("{\"run\":\"" RUN "\",\"attempt\":2,\"stage\":\"fetch\",\"status\":\"done\",\"detail\":\"12 files\"}");
		break;
	case WR_EV_ATTEMPT_STUCK:
		f = t_json("{\"run\":\"" RUN "\",\"attempt\":2,\"reason\":\"repeated_output\",\"detail\":\"same line 50 times\","
			   "\"action\":\"abort\"}");
		break;
	case WR_EV_ATTEMPT_FINISHED:
		f = t_json("{\"run\":\"" RUN "\",\"workflow\":\"nightly\",\"attempt\":2,\"outcome\":\"timeout\",\"exit_code\":null,"
			   "\"signal\":15,\"duration_ms\":600001,\"cpu_ms\":5000,\"max_rss_kb\":20480,\"output_bytes\":777,"
			   "\"reason\":\"timed out after 10m\"}");
		break;
	case WR_EV_ATTEMPT_REJECTED:
		f = t_json("{\"run\":\"" RUN "\",\"workflow\":\"nightly\",\"reason\":\"concurrency_limit\"}");
		break;
	case WR_EV_RECOVERY_DECIDED:
		f = t_json("{\"run\":\"" RUN "\",\"attempt\":2,\"action\":\"retry\",\"reason\":\"lost\",\"recoveries\":2,"
			   "\"not_before\":\"" TS1 "\"}");
		break;
	case WR_EV_RUN_BLOCKED:
		f = t_json("{\"run\":\"" RUN "\",\"reason\":\"max attempts used\"}");
		break;
	case WR_EV_RUN_UNBLOCKED:
		f = t_json("{\"run\":\"" RUN "\",\"note\":\"disk replaced \xe2\x9c\x93\"}");
		break;
	case WR_EV_RUN_CANCELLED:
		f = t_json("{\"run\":\"" RUN "\",\"reason\":\"by operator\"}");
		break;
	case WR_EV_BREAKER_CHANGED:
		f = t_json("{\"workflow\":\"nightly\",\"from\":\"closed\",\"to\":\"open\",\"failure_rate\":0.6,"
			   "\"open_until\":\"" TS1 "\"}");
		break;
	case WR_EV_OUTBOX_ENQUEUED:
		f = t_json("{\"id\":\"" OBX "\",\"kind\":\"stuck\",\"message\":\"run is stuck\",\"reason\":\"repeated_output\","
			   "\"run\":\"" RUN "\",\"workflow\":\"nightly\",\"details\":{\"attempt\":2,\"tail\":[\"x\",\"y\"]}}");
		break;
	case WR_EV_OUTBOX_CLAIMED:
		f = t_json("{\"id\":\"" OBX "\",\"delivery\":\"" DLV "\",\"lease_until\":\"" TS1 "\"}");
		break;
	case WR_EV_OUTBOX_DELIVERED:
	case WR_EV_OUTBOX_DEAD:
	case WR_EV_OUTBOX_ACKED:
		f = t_json("{\"id\":\"" OBX "\",\"delivery\":\"" DLV "\"}");
		break;
	case WR_EV_OUTBOX_FAILED:
		f = t_json("{\"id\":\"" OBX "\",\"delivery\":\"" DLV "\",\"error\":\"exit 1\",\"next_at\":\"" TS1 "\"}");
		break;
	case WR_EV_OUTBOX_RETRIED:
		f = t_json("{\"id\":\"" OBX "\"}");
		break;
	case WR_EV_LEDGER_REPAIRED:
		f = t_json("{\"quarantine\":\"/x/ledger.jsonl.quarantine\",\"offset\":0,\"bytes\":17}");
		break;
	case WR_EV_WORKFLOW_EXPECTED:
		f = t_json("{\"workflow\":\"nightly\",\"every_ms\":86400000,\"grace_ms\":7200000}");
		break;
	case WR_EV_WORKFLOW_OVERDUE:
		f = t_json("{\"workflow\":\"nightly\",\"due\":\"" TS1 "\",\"period\":2}");
		break;
	case WR_EV_RUN_LAUNCHED:
		f = t_json("{\"run\":\"" RUN "\",\"workflow\":\"nightly\",\"attempt\":3,\"host\":\"build-1\",\"boot_id\":\"b0\","
			   "\"pid\":4244,\"pid_start\":123456791,\"lease_until\":\"" TS1 "\",\"mode\":\"forced\"}");
		break;
	default:
		json_decref(e);
		return NULL;
	}
	json_object_update(e, f);
	json_decref(f);
	return e;
}

/* Every field of want is in got with an equal value. */
static int fields_equal(json_t *want, json_t *got, const char *what)
{
	const char *k;
	json_t *v;
	int good = 1;
	json_object_foreach(want, k, v)
	{
		if (!json_equal(v, json_object_get(got, k))) {
			printf("# %s: field %s differs\n", what, k);
			good = 0;
		}
	}
	json_object_foreach(got, k, v)
	{
		if (!json_object_get(want, k) && strcmp(k, "seq") && strcmp(k, "ts") && strcmp(k, "by") &&
		    strcmp(k, "batch")) {
			printf("# %s: unexpected field %s\n", what, k);
			good = 0;
		}
	}
	return good;
}

/* Splits buf into lines (modifies it); returns the count. */
static size_t split_lines(char *buf, size_t n, char **lines, size_t *lens, size_t max)
{
	size_t k = 0;
	char *p = buf, *end = buf + n;
	while (p < end && k < max) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		lines[k] = p;
		lens[k] = (size_t)(nl - p);
		k++;
		p = nl + 1;
	}
	return k;
}

static void check_decoded(const struct wr_event *ev, json_t *want, enum wr_type t, int64_t seq, int bi, int bn,
			  int64_t t0, int64_t t1, const char *by)
{
	const char *name = wr_type_name(t);
	is_int(ev->type, t, "%s: type decoded", name);
	is_str(ev->type_name, name, "%s: type name", name);
	is_int(ev->seq, seq, "%s: seq %lld", name, (long long)seq);
	ok(ev->ts >= t0 && ev->ts <= t1, "%s: ts is the commit time", name);
	is_str(wr_ev_str(ev, "by"), by, "%s: by names the writer", name);
	is_int(wr_ev_int(ev, "v", 0), 1, "%s: v is 1", name);
	is_str(ev->run, json_string_value(json_object_get(want, "run")), "%s: run", name);
	is_str(ev->workflow, json_string_value(json_object_get(want, "workflow")), "%s: workflow", name);
	is_int(ev->attempt, json_integer_value(json_object_get(want, "attempt")), "%s: attempt", name);
	is_int(ev->batch_i, bi, "%s: batch place", name);
	is_int(ev->batch_n, bn, "%s: batch size", name);
	ok(fields_equal(want, wr_ev_obj(ev), name), "%s: every field round trips", name);
}

static void round_trip(void)
{
	struct wr_ledger l;
	const char *path = t_path("rt.jsonl");
	if (!ok(wr_ledger_open(&l, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "open a new ledger: %s", wr_errmsg()))
		return;
	char by[64];
	snprintf(by, sizeof by, "%s/%ld", wr_prog, (long)getpid());
	json_t *samples[WR_EV__COUNT] = {0};
	int64_t t0 = wr_now_ms();
	int n = 0;
	for (int t = 1; t < WR_EV__COUNT; t++) {
		samples[t] = sample((enum wr_type)t);
		if (!ok(samples[t] != NULL, "a sample of %s", wr_type_name((enum wr_type)t)))
			continue;
		struct wr_decode_err err;
		ok(wr_event_check(samples[t], 1, &err) == 0, "%s built in memory checks (partial): %s",
		   wr_type_name((enum wr_type)t), err.msg);
		ok(t_commit1(&l, json_deep_copy(samples[t])) == 0, "commit %s alone: %s", wr_type_name((enum wr_type)t),
		   wr_errmsg());
		n++;
	}
	/* and all of them again, as one decision */
	json_t *all = json_array();
	for (int t = 1; t < WR_EV__COUNT; t++)
		json_array_append_new(all, json_deep_copy(samples[t]));
	ok(t_commit(&l, all) == 0, "commit all %d types as one decision: %s", n, wr_errmsg());
	int64_t t1 = wr_now_ms();
	wr_ledger_close(&l);

	size_t len = 0;
	char *buf = t_read(path, &len);
	char *lines[64];
	size_t lens[64];
	size_t k = split_lines(buf, len, lines, lens, 64);
	is_int(k, 2 * n, "%d lines written", 2 * n);
	ok(len > 0 && buf[len - 1] == '\n', "the file ends with a newline");
	for (size_t i = 0; i < k; i++) {
		ok(memchr(lines[i], '\r', lens[i]) == NULL && lines[i][0] == '{', "line %zu is one compact object", i + 1);
		int t = (int)(i % (size_t)n) + 1;
		struct wr_event ev;
		struct wr_decode_err err = {0};
		int rc = wr_event_decode(lines[i], lens[i], &ev, &err);
		if (!ok(rc == 0, "line %zu decodes%s%s", i + 1, rc ? ": " : "", rc ? err.msg : ""))
			continue;
		int batch = i >= (size_t)n;
		check_decoded(&ev, samples[t], (enum wr_type)t, (int64_t)i + 1, batch ? t : 0, batch ? n : 0, t0, t1, by);
		wr_event_clear(&ev);
	}
	free(buf);
	for (int t = 1; t < WR_EV__COUNT; t++)
		json_decref(samples[t]);

	/* the ledger reads back clean */
	struct t_errs errs;
	ok(t_open_counting(&l, path, 0, &errs) == 0, "reopen");
	is_int(errs.n, 0, "no bad line");
	is_int(l.st.events, 2 * n, "every event delivered to the reducer");
	is_int(l.st.last_seq, 2 * n, "last seq");
	ok(!l.scan.torn, "no torn tail");
	wr_ledger_close(&l);
}

#define GOOD_HB "{\"v\":1,\"seq\":7,\"ts\":\"2026-11-20T22:31:05.123Z\",\"type\":\"attempt.heartbeat\",\"by\":\"wr-run/1\",\"run\":\"r1\",\"attempt\":1,\"lease_until\":\"" TS1 "\"}"

/* A line that must be refused: the error names field (or "" when it is
 * not about a field), a column (0: only that it is >= 1) and says msg. */
static void bad_n(const char *what, const char *line, size_t len, const char *field, int column, const char *msg)
{
	struct wr_event ev;
	struct wr_decode_err err;
	memset(&err, 0x55, sizeof err);
	int r = wr_event_decode(line, len, &ev, &err);
	if (!ok(r == -1, "%s: refused", what)) {
		wr_event_clear(&ev);
		return;
	}
	ok(ev.fields == NULL, "%s: nothing to free", what);
	ok(memchr(err.field, 0, sizeof err.field) && memchr(err.msg, 0, sizeof err.msg), "%s: strings terminated", what);
	if (field)
		is_str(err.field, field, "%s: names field", what);
	if (column)
		is_int(err.column, column, "%s: column", what);
	else
		ok(err.column >= 1 && (size_t)err.column <= len + 1, "%s: column %d within the line", what, err.column);
	if (msg && !ok(strstr(err.msg, msg) != NULL, "%s: says \"%s\"", what, msg))
		printf("#   message: %s\n", err.msg);
}

static void bad(const char *what, const char *line, const char *field, int column, const char *msg)
{
	bad_n(what, line, strlen(line), field, column, msg);
}

/* GOOD_HB with one field replaced by raw JSON text. */
static char *with(const char *base, const char *key, const char *raw)
{
	json_t *o = json_loads(base, 0, NULL);
	json_object_del(o, key);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	/* insert before the closing brace */
	char *r = wr_xasprintf("%.*s,\"%s\":%s}", (int)strlen(s) - 1, s, key, raw);
	free(s);
	return r;
}

static void bad_field(const char *base, const char *key, const char *raw, const char *field, const char *msg)
{
	char *line = with(base, key, raw);
	char what[200];
	snprintf(what, sizeof what, "%s = %.40s", key, raw);
	bad(what, line, field, 1, msg);
	free(line);
}

static void good(const char *what, const char *line, size_t len)
{
	struct wr_event ev;
	struct wr_decode_err err = {0};
	int r = wr_event_decode(line, len, &ev, &err);
	ok(r == 0, "%s: accepted (%s)", what, r ? err.msg : "");
	if (r == 0)
		wr_event_clear(&ev);
}

static char *nest(int levels, const char *open, const char *leaf, const char *close)
{
	struct wr_buf b = {0};
	for (int i = 0; i < levels; i++)
		wr_buf_addstr(&b, open);
	wr_buf_addstr(&b, leaf);
	for (int i = 0; i < levels; i++)
		wr_buf_addstr(&b, close);
	return (char *)wr_buf_str(&b);
}

#define CREATED "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-20T22:31:05.123Z\",\"type\":\"run.created\",\"by\":\"wr-run/1\",\"run\":\"r1\",\"workflow\":\"w\",\"argv\":[\"true\"],\"cwd\":\"/\",\"policy\":{}}"

static void bad_inputs(void)
{
	good("the base heartbeat", GOOD_HB, strlen(GOOD_HB));
	good("the base run.created", CREATED, strlen(CREATED));
	{
		struct wr_event ev;
		struct wr_decode_err err;
		ok(wr_event_decode(GOOD_HB, strlen(GOOD_HB), &ev, &err) == 0, "decode the base");
		is_int(ev.seq, 7, "seq");
		is_int(ev.ts, 1795213865123LL, "ts in ms");
		is_int(ev.attempt, 1, "attempt");
		is_str(ev.run, "r1", "run");
		ok(ev.workflow == NULL, "absent workflow is NULL");
		is_int(wr_ev_ts(&ev, "lease_until", 0), 1795213985123LL, "wr_ev_ts");
		is_int(wr_ev_int(&ev, "nope", -5), -5, "wr_ev_int default");
		wr_event_clear(&ev);
	}

	/* invalid JSON, several kinds; the column points at the trouble */
	bad("unterminated object", "{", "", 0, "invalid JSON");
	bad("trailing comma", "{\"v\":1,}", "", 8, "invalid JSON");
	bad("single quotes", "{'v':1}", "", 2, "invalid JSON");
	bad("missing colon", "{\"v\" 1}", "", 0, "invalid JSON");
	bad("garbage after the object", "{\"v\":1} x", "", 9, "invalid JSON");
	bad("two objects on a line", "{\"v\":1}{\"v\":1}", "", 8, "invalid JSON");
	bad("NaN", "{\"v\":NaN}", "", 0, "invalid JSON");
	bad("leading zero", "{\"v\":01}", "", 0, "invalid JSON");
	bad("bare word", "hello", "", 0, "invalid JSON");
	bad("a string, not an object", "\"x\"", "", 0, "invalid JSON");
	bad("an array, not an object", "[1,2]", "", 1, "object");
	bad("a number", "42", "", 0, NULL);
	bad("unterminated string", "{\"v\":\"abc", "", 0, "invalid JSON");
	bad("control character in a string", "{\"v\":\"a\tb\"}", "", 0, "invalid JSON");
	bad("bad escape", "{\"v\":\"\\q\"}", "", 0, "invalid JSON");
	bad("lone surrogate escape", "{\"v\":\"\\ud800\"}", "", 0, "invalid JSON");

	/* invalid UTF-8 */
	bad("invalid UTF-8 in a value", "{\"v\":1,\"run\":\"ab\xff\"}", "", 0, "invalid JSON");
	bad("overlong UTF-8 in a value", "{\"run\":\"\xc0\xaf\"}", "", 0, "invalid JSON");
	bad("invalid UTF-8 in a key", "{\"r\xe9n\":1}", "", 0, "invalid JSON");
	bad("truncated UTF-8 at the end of a string", "{\"run\":\"\xe6\x97\"}", "", 0, "invalid JSON");
	{
		/* the column points into the line where the bad byte is */
		const char *l = "{\"v\":1,\"seq\":1,\"run\":\"abc\xff\"}";
		struct wr_event ev;
		struct wr_decode_err err;
		ok(wr_event_decode(l, strlen(l), &ev, &err) == -1 && err.column >= 20 && err.column <= 27,
		   "invalid UTF-8: column %d near byte 26", err.column);
	}

	/* duplicate keys */
	bad("duplicate seq", "{\"v\":1,\"seq\":1,\"seq\":2}", "", 0, "seq");
	bad("duplicate key in a nested object",
	    "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-20T22:31:05.123Z\",\"type\":\"x\",\"by\":\"a\",\"labels\":{\"a\":1,\"a\":2}}", "", 0,
	    "duplicate");

	/* wrong field types, each named */
	bad_field(GOOD_HB, "seq", "\"7\"", "seq", "integer");
	bad_field(GOOD_HB, "seq", "0", "seq", "1 or more");
	bad_field(GOOD_HB, "seq", "-3", "seq", "1 or more");
	bad_field(GOOD_HB, "seq", "7.0", "seq", "integer");
	bad_field(GOOD_HB, "seq", "null", "seq", "null");
	bad_field(GOOD_HB, "attempt", "-1", "attempt", "1 or more");
	bad_field(GOOD_HB, "attempt", "0", "attempt", "1 or more");
	bad_field(GOOD_HB, "attempt", "\"1\"", "attempt", "integer");
	bad_field(GOOD_HB, "attempt", "1.5", "attempt", "integer");
	bad_field(GOOD_HB, "ts", "\"yesterday\"", "ts", "RFC 3339");
	bad_field(GOOD_HB, "ts", "\"2026-11-20 22:31:05Z\"", "ts", "RFC 3339");
	bad_field(GOOD_HB, "ts", "\"2026-02-30T00:00:00Z\"", "ts", "RFC 3339");
	bad_field(GOOD_HB, "ts", "1795213865123", "ts", "RFC 3339");
	bad_field(GOOD_HB, "lease_until", "\"soon\"", "lease_until", "RFC 3339");
	bad_field(GOOD_HB, "v", "2", "v", "version");
	bad_field(GOOD_HB, "v", "\"1\"", "v", "integer");
	bad_field(GOOD_HB, "type", "5", "type", "string");
	bad_field(GOOD_HB, "by", "[]", "by", "string");
	bad_field(GOOD_HB, "run", "\"\"", "run", "id");
	bad_field(GOOD_HB, "run", "42", "run", "id");
	bad_field(GOOD_HB, "workflow", "{}", "workflow", "id");
	bad_field(GOOD_HB, "batch", "[3,2]", "batch", "[i, n]");
	bad_field(GOOD_HB, "batch", "[1,1]", "batch", "[i, n]");
	bad_field(GOOD_HB, "batch", "1", "batch", "[i, n]");
	{
		char big[400];
		memset(big, 'x', 300);
		big[300] = 0;
		char *raw = wr_xasprintf("\"%s\"", big);
		bad_field(GOOD_HB, "run", raw, "run", "256");
		free(raw);
	}
	{
		/* missing required fields */
		json_t *o = json_loads(GOOD_HB, 0, NULL);
		static const char *const req[] = {"v", "seq", "ts", "type", "by", "run", "attempt", "lease_until"};
		for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
			json_t *c = json_deep_copy(o);
			json_object_del(c, req[i]);
			char *s = json_dumps(c, JSON_COMPACT);
			char what[64];
			snprintf(what, sizeof what, "missing %s", req[i]);
			bad(what, s, req[i], 1, "missing required field");
			free(s);
			json_decref(c);
		}
		json_decref(o);
	}
	bad_field(CREATED, "argv", "[\"make\",1]", "argv", "array of strings");
	bad_field(CREATED, "argv", "\"make all\"", "argv", "array");
	bad_field(CREATED, "argv", "[[\"x\"]]", "argv", "array of strings");
	bad_field(CREATED, "cwd", "null", "cwd", "null");
	bad_field(CREATED, "labels", "[]", "labels", "object");
	bad_field(CREATED, "policy", "{\"max_attempts\":0}", "policy.max_attempts", "1 or more");
	bad_field(CREATED, "policy", "{\"timeout_ms\":-1}", "policy.timeout_ms", "negative");
	bad_field(CREATED, "policy", "{\"backoff\":{\"factor\":\"x\"}}", "policy.backoff.factor", "number");
	bad_field(CREATED, "policy", "{\"stuck\":{\"action\":\"explode\"}}", "policy.stuck.action", "unknown value");
	bad_field(CREATED, "policy", "{\"no_retry_on\":[\"2\"]}", "policy.no_retry_on", "integers");
	{
		/* bad enum values of each enumerated field */
		char *fin = with(GOOD_HB, "type", "\"attempt.finished\"");
		bad_field(fin, "outcome", "\"boom\"", "outcome", "unknown value");
		bad_field(fin, "outcome", "\"Success\"", "outcome", "unknown value");
		char *fin2 = with(fin, "outcome", "\"error\"");
		good("finished with outcome error", fin2, strlen(fin2));
		bad_field(fin2, "exit_code", "\"1\"", "exit_code", "integer");
		bad_field(fin2, "signal", "-9", "signal", "negative");
		free(fin);
		free(fin2);
		char *pr = with(GOOD_HB, "type", "\"attempt.progress\"");
		char *pr2 = with(pr, "stage", "\"fetch\"");
		bad_field(pr2, "status", "\"finished\"", "status", "unknown value");
		free(pr);
		free(pr2);
		const char *br = "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-20T22:31:05.123Z\",\"type\":\"breaker.changed\",\"by\":\"x/1\","
				 "\"workflow\":\"w\",\"from\":\"closed\",\"to\":\"open\"}";
		good("breaker.changed", br, strlen(br));
		bad_field(br, "to", "\"ajar\"", "to", "unknown value");
		bad_field(br, "from", "1", "from", "string");
		const char *ob = "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-20T22:31:05.123Z\",\"type\":\"outbox.enqueued\",\"by\":\"x/1\","
				 "\"id\":\"i1\",\"kind\":\"custom\",\"message\":\"m\"}";
		good("outbox.enqueued", ob, strlen(ob));
		bad_field(ob, "kind", "\"spam\"", "kind", "unknown value");
		bad_field(ob, "details", "\"x\"", "details", "object");
		const char *rd = "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-20T22:31:05.123Z\",\"type\":\"recovery.decided\",\"by\":\"x/1\","
				 "\"run\":\"r\",\"action\":\"retry\",\"recoveries\":1}";
		good("recovery.decided", rd, strlen(rd));
		bad_field(rd, "action", "\"panic\"", "action", "unknown value");
		bad_field(rd, "recoveries", "-1", "recoveries", "negative");
		bad_field(rd, "not_before", "\"later\"", "not_before", "RFC 3339");
	}

	/* integer overflow: beyond int64 */
	/* in a known field it names the field; in an unknown one it is kept
	 * and ignored (forward compatibility) */
	bad("seq beyond int64", "{\"v\":1,\"seq\":9223372036854775808}", "seq", 0, "expected an integer");
	bad_field(GOOD_HB, "attempt", "123456789012345678901234567890", "attempt", "expected");
	bad("negative beyond int64", "{\"v\":1,\"seq\":-9223372036854775809}", "seq", 0, "expected an integer");
	{
		char *a = with(GOOD_HB, "future", "18446744073709551616");
		char *b = with(GOOD_HB, "future", "{\"n\":[-99999999999999999999,1e400]}");
		good("an integer beyond int64 in an unknown field", a, strlen(a));
		good("numbers beyond double in an unknown object", b, strlen(b));
		free(a);
		free(b);
	}
	bad("beyond int64, then broken", "{\"v\":1,\"x\":18446744073709551616,}", "", 33, "invalid JSON");
	{
		char *l = with(GOOD_HB, "seq", "9223372036854775807");
		good("seq at int64 max", l, strlen(l));
		free(l);
	}

	/* nesting: 16 levels are enough for any event; deeper is refused */
	{
		char *inner = nest(14, "{\"a\":", "1", "}");          /* labels at 2, 15 more objects: 16 */
		char *raw = wr_xasprintf("{\"x\":%s}", inner);
		char *l = with(CREATED, "labels", raw);
		good("16 levels of nesting", l, strlen(l));
		free(inner);
		free(raw);
		free(l);
		inner = nest(15, "{\"a\":", "1", "}");                 /* 17 levels */
		raw = wr_xasprintf("{\"x\":%s}", inner);
		l = with(CREATED, "labels", raw);
		bad("17 levels of nesting", l, NULL, 0, "nesting");
		free(inner);
		free(raw);
		free(l);
		inner = nest(15, "[", "", "]");                         /* 17 levels, empty at the bottom */
		raw = wr_xasprintf("{\"x\":%s}", inner);
		l = with(CREATED, "labels", raw);
		bad("17 levels of nesting, empty innermost", l, NULL, 0, "nesting");
		free(inner);
		free(raw);
		free(l);
		inner = nest(16, "{\"a\":", "1", "}");                 /* 18 levels */
		raw = wr_xasprintf("{\"x\":%s}", inner);
		l = with(CREATED, "labels", raw);
		bad("18 levels of nesting", l, NULL, 0, "nesting");
		free(inner);
		free(raw);
		free(l);
		inner = nest(30, "[", "", "]");
		l = with(GOOD_HB, "extra", inner);
		bad("deep arrays in an unknown field", l, NULL, 0, "nesting");
		free(inner);
		free(l);
		inner = nest(100000, "[", "1", "]");
		l = with(GOOD_HB, "extra", inner);
		bad("100000 levels: refused without a crash", l, NULL, 0, NULL);
		free(inner);
		free(l);
		inner = nest(1000000, "{\"a\":", "1", "}");
		bad("a million unclosed-looking levels", inner, NULL, 0, NULL);
		free(inner);
	}

	/* \u0000 */
	bad("\\u0000 in a value", "{\"v\":1,\"run\":\"a\\u0000b\"}", "", 0, "invalid JSON");
	bad("\\u0000 in a key", "{\"a\\u0000\":1}", "", 0, "invalid JSON");
	bad_n("raw NUL byte in a string", "{\"run\":\"a\0b\"}", 13, "", 10, "NUL byte in the line");
	bad_n("raw NUL byte after the object", GOOD_HB "\0", strlen(GOOD_HB) + 1, "", (int)strlen(GOOD_HB) + 1,
	      "NUL byte in the line");
	bad_n("a line of NUL bytes", "\0\0\0\0", 4, "", 1, "a line of 4 NUL bytes");

	/* a 2 MB line: valid is read; invalid is refused, no crash */
	{
		size_t big = 2 * 1024 * 1024;
		char *s = wr_xmalloc(big + 1);
		memset(s, 'a', big);
		s[big] = 0;
		char *raw = wr_xasprintf("\"%s\"", s);
		char *l = with(CREATED, "cwd", raw);
		struct wr_event ev;
		struct wr_decode_err err;
		int r = wr_event_decode(l, strlen(l), &ev, &err);
		ok(r == 0, "a valid 2 MB line is read (%zu bytes)", strlen(l));
		if (r == 0) {
			is_int(strlen(wr_ev_str(&ev, "cwd")), big, "its 2 MB field is whole");
			wr_event_clear(&ev);
		}
		free(l);
		/* invalid: the string never ends */
		l = wr_xasprintf("{\"v\":1,\"cwd\":\"%s", s);
		bad("a 2 MB unterminated string", l, "", 0, "invalid JSON");
		free(l);
		/* invalid: a bad byte at the very end of 2 MB */
		s[big - 1] = (char)0xff;
		l = wr_xasprintf("{\"v\":1,\"cwd\":\"%s\"}", s);
		bad("2 MB with invalid UTF-8 at its end", l, "", 0, "invalid JSON");
		free(l);
		/* 2 MB of opening brackets */
		memset(s, '[', big);
		s[big - 1] = '[';
		bad("2 MB of '['", s, "", 0, NULL);
		free(s);
		free(raw);
	}

	/* empty line, CRLF, whitespace */
	bad_n("empty line", "", 0, "", 1, "empty");
	{
		char *l = wr_xasprintf("%s\r", GOOD_HB);
		bad("CRLF line ending", l, "", (int)strlen(l), "CRLF");
		free(l);
	}
	bad("a lone CR", "\r", "", 1, "CR");
	bad("only spaces", "   ", "", 0, "invalid JSON");

	/* forward compatibility: unknown types and fields are kept */
	{
		const char *l = "{\"v\":1,\"seq\":3,\"ts\":\"2026-11-20T22:31:05.123Z\",\"type\":\"future.thing\",\"by\":\"x/1\","
				"\"shiny\":{\"new\":[1,2]}}";
		struct wr_event ev;
		struct wr_decode_err err;
		ok(wr_event_decode(l, strlen(l), &ev, &err) == 0, "an unknown type decodes");
		is_int(ev.type, WR_EV_UNKNOWN, "as WR_EV_UNKNOWN");
		is_str(ev.type_name, "future.thing", "keeping its name");
		ok(json_is_object(wr_ev_json(&ev, "shiny")), "and its unknown field");
		wr_event_clear(&ev);
		char *l2 = with(GOOD_HB, "color", "\"blue\"");
		ok(wr_event_decode(l2, strlen(l2), &ev, &err) == 0, "an unknown field of a known type is accepted");
		is_str(wr_ev_str(&ev, "color"), "blue", "and kept");
		wr_event_clear(&ev);
		free(l2);
	}

	/* type names */
	for (int t = 1; t < WR_EV__COUNT; t++)
		ok(wr_type_from_name(wr_type_name((enum wr_type)t)) == t, "type %s names itself",
		   wr_type_name((enum wr_type)t));
	is_int(wr_type_from_name("run.Created"), -1, "names are case-sensitive");
	is_int(wr_type_from_name(""), -1, "the empty name of WR_EV_UNKNOWN is no name");
	is_int(wr_type_from_name(NULL), -1, "NULL is no name");
	ok(wr_type_name(WR_EV__COUNT) == NULL, "out of range type has no name");
	ok(wr_type_name((enum wr_type)-1) == NULL, "a negative type has no name");
	is_str(wr_type_name(WR_EV_UNKNOWN), "", "WR_EV_UNKNOWN is the empty name");
}

/* The commit draws the ids the decisions leave out. */
static void draw_ids(void)
{
	json_t *evs = json_array();
	json_t *a = wr_event_new(WR_EV_OUTBOX_ENQUEUED), *b = wr_event_new(WR_EV_OUTBOX_ENQUEUED);
	json_t *c = wr_event_new(WR_EV_RUN_BLOCKED);
	wr_jset_str(b, "id", "given");
	json_array_append_new(evs, a);
	json_array_append_new(evs, b);
	json_array_append_new(evs, c);
	wr_events_draw_ids(evs, 1795213865000LL);
	const char *id = json_string_value(json_object_get(a, "id"));
	ok(id && strlen(id) == 36 && id[14] == '7', "an outbox.enqueued without an id gets a UUIDv7: %s", id ? id : "");
	ok(id && !strncmp(id, "01a1fb15-b028-7", 15), "of the commit's time");
	is_str(json_string_value(json_object_get(b, "id")), "given", "an id the decision gave is kept");
	ok(!json_object_get(c, "id"), "other events get none");
	json_decref(evs);
}

/* The string tables of the schema's enums (strtable.h): both directions,
 * bounds checked. */
static void string_tables(void)
{
	for (int o = 1; o < WR_OUT__COUNT; o++)
		ok(wr_outcome_from_name(wr_outcome_name((enum wr_outcome)o)) == o, "outcome %s names itself",
		   wr_outcome_name((enum wr_outcome)o));
	is_int(wr_outcome_from_name(""), -1, "WR_OUT_NONE has no name");
	ok(wr_outcome_name(WR_OUT__COUNT) == NULL, "out of range outcome");
	for (int b = 0; b < WR_BR__COUNT; b++)
		ok(wr_breaker_from_name(wr_breaker_name((enum wr_breaker_state)b)) == b, "breaker %s names itself",
		   wr_breaker_name((enum wr_breaker_state)b));
	ok(wr_breaker_name(WR_BR__COUNT) == NULL, "out of range breaker state");
	is_int(wr_breaker_from_name("half-open"), -1, "unknown breaker state");
	is_int(wr_outbox_kind_from_name("custom"), 8, "outbox kind custom");
	is_int(wr_outbox_kind_from_name("stuck"), 0, "outbox kind stuck");
	is_int(wr_outbox_kind_from_name("nosuch"), -1, "unknown outbox kind");
	is_int(wr_outbox_kind_from_name("overdue"), 9, "outbox kind overdue");
	ok(wr_outbox_kind_name(10) == NULL, "out of range outbox kind");
}

/* An agent's counts: turns and tool_calls non-negative integers, metrics
 * an object of short names to integers; the reason tokens' one table. */
static void agent_counts(void)
{
	char *h = with(GOOD_HB, "turns", "3");
	char *h2 = with(h, "tool_calls", "0");
	char *h3 = with(h2, "metrics", "{\"tokens\":0,\"cost\":9007199254740993}");
	good("a heartbeat with an agent's counts", h3, strlen(h3));
	free(h);
	free(h2);
	free(h3);
	bad_field(GOOD_HB, "turns", "-1", "turns", "negative");
	bad_field(GOOD_HB, "tool_calls", "1.0", "tool_calls", "integer");
	bad_field(GOOD_HB, "metrics", "[1]", "metrics", "metric name -> integer");
	bad_field(GOOD_HB, "metrics", "{\"t\":-1}", "metrics", "metric name -> integer");
	bad_field(GOOD_HB, "metrics", "{\"t\":\"1\"}", "metrics", "metric name -> integer");
	bad_field(GOOD_HB, "metrics", "{\"\":1}", "metrics", "metric name -> integer");
	char *long_name = wr_xasprintf("{\"%065d\":1}", 0);
	bad_field(GOOD_HB, "metrics", long_name, "metrics", "metric name -> integer");
	free(long_name);
	char *ok64 = wr_xasprintf("{\"%064d\":1}", 0);
	char *line = with(GOOD_HB, "metrics", ok64);
	good("a metric name of 64 bytes", line, strlen(line));
	free(line);
	free(ok64);
	for (int r = 0; r < WR_REASON__COUNT; r++) {
		const char *n = wr_reason_name((enum wr_reason)r);
		if (r == WR_REASON__STUCK)
			ok(!*n && wr_reason_from_name(n) == -1, "the end of the stuck reasons has no name");
		else
			ok(*n && wr_reason_from_name(n) == r, "reason %d is %s and back", r, n);
	}
	ok(wr_reason_from_name("bored") == -1 && wr_reason_from_name(NULL) == -1, "an unknown token is -1");
	ok(!strcmp(wr_reason_name(WR_REASON_REPEATED_TOOL_CALL), "repeated_tool_call") &&
	       !strcmp(wr_reason_name(WR_REASON_MAX_TURNS), "max_turns") &&
	       !strcmp(wr_reason_name(WR_REASON_NO_PROGRESS), "no_progress"),
	   "workrail's tokens are spelled as workrail spells them");
}

int main(void)
{
	t_tmpdir("event");
	string_tables();
	draw_ids();
	round_trip();
	bad_inputs();
	agent_counts();
	return done_testing();
}
