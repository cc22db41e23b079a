/* test-scan - the streaming reader: bad lines reported with their line
 * number while reading goes on, seq gaps and repeats, batches, torn tails,
 * long lines and a 50 MB ledger read in bounded state. */
#include "tap.h"
#include "helpers.h"

#include "scan.h"
#include "timefmt.h"

#define TS "2026-11-20T22:31:05.123Z"
#define R1 "\"run\":\"r1\""

/* One event line (with '\n') appended to b. */
static void line(struct wr_buf *b, int64_t seq, const char *type, const char *extra)
{
	wr_buf_addf(b, "{\"v\":1,\"seq\":%lld,\"ts\":\"" TS "\",\"type\":\"%s\",\"by\":\"t/1\"%s%s}\n", (long long)seq, type,
		    extra && *extra ? "," : "", extra ? extra : "");
}

static void raw(struct wr_buf *b, const char *s)
{
	wr_buf_addstr(b, s);
}

#define CREATED_X R1 ",\"workflow\":\"w\",\"argv\":[\"true\"],\"cwd\":\"/\",\"policy\":{}"
#define STARTED_X R1 ",\"attempt\":1,\"host\":\"h\",\"pid\":1,\"lease_until\":\"" TS "\""
#define HB_X R1 ",\"attempt\":1,\"lease_until\":\"" TS "\""

/* What a scan delivered. */
struct seen {
	int ndec;              /* decisions */
	int nev;               /* events */
	int64_t dec_line[64];
	int64_t dec_n[64];
	int64_t seqs[256];
	struct t_errs errs;
};

static void on_events(void *ctx, const struct wr_event *evs, size_t n, int64_t line, off_t off)
{
	struct seen *s = ctx;
	(void)off;
	if (s->ndec < 64) {
		s->dec_line[s->ndec] = line;
		s->dec_n[s->ndec] = (int64_t)n;
	}
	s->ndec++;
	for (size_t i = 0; i < n; i++)
		if (s->nev < 256)
			s->seqs[s->nev++] = evs[i].seq;
}

static void on_error(void *ctx, const struct wr_scan_error *e)
{
	struct seen *s = ctx;
	t_on_error(&s->errs, e);
}

static int scan_file(const char *path, struct wr_scan *sc, struct seen *s, int fresh)
{
	struct wr_scan_cb cb = {s, on_events, on_error, NULL};
	memset(s, 0, sizeof *s);
	if (fresh) {
		int fd = open(path, O_RDONLY);
		wr_scan_init(sc, fd, path);
	}
	return wr_scan_run(sc, &cb);
}

static void expect_err(const struct seen *s, int i, int64_t line, const char *field, const char *msg)
{
	if (!ok(i < s->errs.n, "error %d reported", i + 1))
		return;
	is_int(s->errs.line[i], line, "error %d is on line %lld", i + 1, (long long)line);
	if (field)
		is_str(s->errs.field[i], field, "error %d names field %s", i + 1, field);
	ok(s->errs.column[i] >= 1, "error %d has a column (%d)", i + 1, s->errs.column[i]);
	if (msg && !ok(strstr(s->errs.msg[i], msg) != NULL, "error %d says %s", i + 1, msg))
		printf("#   message: %s\n", s->errs.msg[i]);
}

static void bad_lines_in_the_middle(void)
{
	struct wr_buf b = {0};
	line(&b, 1, "run.created", CREATED_X);                         /* 1 */
	raw(&b, "{\"v\":1,\n");                                        /* 2 invalid JSON */
	line(&b, 2, "attempt.started", STARTED_X);                     /* 3 */
	raw(&b, "\n");                                                 /* 4 empty */
	line(&b, 3, "attempt.heartbeat", HB_X);                        /* 5 */
	raw(&b, "{\"v\":1,\"seq\":\"4\",\"ts\":\"" TS "\",\"type\":\"x\",\"by\":\"t/1\"}\n"); /* 6 seq a string */
	line(&b, 4, "attempt.progress", R1 ",\"attempt\":1,\"stage\":\"s1\",\"status\":\"done\""); /* 7 */
	raw(&b, "{\"v\":1,\"run\":\"\xff\"}\n");                      /* 8 invalid UTF-8 */
	raw(&b, "{\"v\":1,\"seq\":5,\"ts\":\"" TS "\",\"type\":\"attempt.heartbeat\",\"by\":\"t/1\"," HB_X "}\r\n"); /* 9 CRLF */
	line(&b, 5, "attempt.finished", R1 ",\"attempt\":1,\"outcome\":\"success\"");            /* 10 */
	raw(&b, "{\"v\":1,\"seq\":6,\"ts\":\"" TS "\",\"type\":\"attempt.heartbeat\",\"by\":\"t/1\"," R1 ",\"attempt\":-1}\n"); /* 11 */
	raw(&b, "{\"v\":1,\"seq\":6,\"seq\":6}\n");                   /* 12 duplicate key */
	raw(&b, "{\"v\":1,\"seq\":99999999999999999999}\n");          /* 13 overflow */
	raw(&b, "{\"v\":1,\"run\":\"a\\u0000\"}\n");                  /* 14 \u0000 */
	line(&b, 6, "run.cancelled", R1);                              /* 15 */
	const char *path = t_path("middle.jsonl");
	t_write(path, b.p, b.len);

	struct wr_scan sc;
	struct seen s;
	ok(scan_file(path, &sc, &s, 1) == 0, "scan a ledger with bad lines in the middle");
	is_int(s.errs.n, 9, "nine bad lines reported");
	expect_err(&s, 0, 2, "", "invalid JSON");
	expect_err(&s, 1, 4, "", "empty line");
	expect_err(&s, 2, 6, "seq", "integer");
	expect_err(&s, 3, 8, "", "invalid JSON");
	expect_err(&s, 4, 9, "", "CRLF");
	expect_err(&s, 5, 11, "attempt", NULL);
	expect_err(&s, 6, 12, "", "duplicate");
	expect_err(&s, 7, 13, "seq", "integer"); /* beyond int64 in a known field: named */
	expect_err(&s, 8, 14, "", "invalid JSON");
	is_int(s.nev, 6, "the six good events delivered");
	static const int64_t want_lines[] = {1, 3, 5, 7, 10, 15};
	int lines_ok = s.ndec == 6;
	for (int i = 0; i < 6 && lines_ok; i++)
		lines_ok = s.dec_line[i] == want_lines[i] && s.seqs[i] == i + 1;
	ok(lines_ok, "each with its own line number and seq");
	ok(!sc.torn, "no torn tail");
	is_int(sc.off, (int64_t)b.len, "consumed to the end");
	is_int(sc.line, 16, "next line is 16");
	is_int(sc.last_seq, 6, "last seq 6");

	/* more lines appended: a second scan reads only them, numbering on */
	struct wr_buf more = {0};
	raw(&more, "not json\n");                                      /* 16 */
	line(&more, 7, "run.blocked", R1);                             /* 17 */
	int fd = open(path, O_WRONLY | O_APPEND);
	wr_write_all(fd, more.p, more.len);
	close(fd);
	ok(scan_file(path, &sc, &s, 0) == 0, "scan again after an append");
	is_int(s.errs.n, 1, "one new bad line");
	expect_err(&s, 0, 16, "", "invalid JSON");
	ok(s.nev == 1 && s.seqs[0] == 7 && s.dec_line[0] == 17, "the new event, on line 17");
	close(sc.fd);

	/* the same through a ledger handle: state from the good lines only */
	struct wr_ledger l;
	struct t_errs errs;
	ok(t_open_counting(&l, path, 0, &errs) == 0, "open as a ledger");
	is_int(errs.n, 10, "ledger reports the ten bad lines");
	is_int(l.bad_lines, 10, "and counts them");
	is_int(l.st.events, 7, "seven events applied");
	struct wr_run *r = wr_state_run(&l.st, "r1");
	ok(r && r->status == WR_ST_SUCCEEDED, "the run succeeded (cancel and block of an ended run are stale)");
	ok(r && r->nstages == 1, "its stage is done");
	wr_ledger_close(&l);
	wr_buf_free(&b);
	wr_buf_free(&more);
}

static void seq_gaps_and_repeats(void)
{
	struct wr_buf b = {0};
	line(&b, 1, "run.created", CREATED_X);
	line(&b, 2, "run.blocked", R1);
	line(&b, 4, "run.unblocked", R1);     /* gap: 3 missing */
	line(&b, 4, "run.cancelled", R1);     /* repeat */
	line(&b, 3, "run.cancelled", R1);     /* goes back */
	line(&b, 5, "run.blocked", R1);
	line(&b, 9, "run.unblocked", R1);     /* gap of 3 */
	const char *path = t_path("seq.jsonl");
	t_write(path, b.p, b.len);
	struct wr_scan sc;
	struct seen s;
	scan_file(path, &sc, &s, 1);
	close(sc.fd);
	is_int(s.errs.n, 4, "four seq problems");
	expect_err(&s, 0, 3, "seq", "gap: expected 3, found 4");
	expect_err(&s, 1, 4, "seq", "repeats");
	expect_err(&s, 2, 5, "seq", "seq 3");
	expect_err(&s, 3, 7, "seq", "expected 6, found 9");
	ok(s.nev == 5 && s.seqs[2] == 4 && s.seqs[3] == 5 && s.seqs[4] == 9, "gapped events applied, repeats not");
	is_int(sc.last_seq, 9, "last seq 9");

	/* a first seq other than 1 is not a gap for an incremental reader,
	 * but the ledger starts at 1 */
	struct wr_ledger l;
	struct t_errs errs;
	t_open_counting(&l, path, 0, &errs);
	ok(l.st.by_type[WR_EV_RUN_CANCELLED] == 0, "the repeated and the backward events were not applied");
	struct wr_run *r = wr_state_run(&l.st, "r1");
	ok(r && r->status == WR_ST_RETRY_WAIT, "state follows the applied ones (unblocked last)");
	wr_ledger_close(&l);
	wr_buf_free(&b);
}

static void batches(void)
{
	struct wr_buf b = {0};
	line(&b, 1, "run.created", CREATED_X ",\"batch\":[1,2]");
	line(&b, 2, "attempt.started", STARTED_X ",\"batch\":[2,2]");                    /* whole: 1-2 */
	line(&b, 3, "attempt.heartbeat", HB_X ",\"batch\":[1,3]");
	line(&b, 4, "attempt.heartbeat", HB_X ",\"batch\":[2,3]");
	line(&b, 5, "attempt.heartbeat", HB_X);                                           /* cuts 3-4 short */
	line(&b, 6, "attempt.heartbeat", HB_X ",\"batch\":[2,2]");                       /* no start */
	line(&b, 7, "attempt.heartbeat", HB_X ",\"batch\":[1,2]");
	line(&b, 8, "attempt.heartbeat", HB_X ",\"batch\":[1,2]");                       /* restarts */
	line(&b, 9, "attempt.heartbeat", HB_X ",\"batch\":[2,3]");                       /* wrong n */
	line(&b, 10, "attempt.heartbeat", HB_X ",\"batch\":[1,3]");
	raw(&b, "garbage\n");                                                             /* bad line inside */
	line(&b, 11, "attempt.heartbeat", HB_X ",\"batch\":[2,3]");
	line(&b, 12, "attempt.heartbeat", HB_X ",\"batch\":[1,3]");
	line(&b, 13, "attempt.heartbeat", HB_X ",\"batch\":[2,3]");
	line(&b, 14, "attempt.heartbeat", HB_X ",\"batch\":[3,3]");                      /* whole: 12-14 */
	const char *path = t_path("batch.jsonl");
	t_write(path, b.p, b.len);
	struct wr_scan sc;
	struct seen s;
	scan_file(path, &sc, &s, 1);
	close(sc.fd);
	ok(s.ndec == 3, "three whole decisions delivered (got %d)", s.ndec);
	ok(s.dec_n[0] == 2 && s.dec_line[0] == 1, "the first, 2 events from line 1");
	ok(s.dec_n[1] == 1 && s.seqs[2] == 5, "the lone event 5");
	ok(s.dec_n[2] == 3 && s.dec_line[2] == 13 && s.seqs[3] == 12 && s.seqs[5] == 14, "the last, 3 events from line 13");
	is_int(s.nev, 6, "no event of a broken decision delivered");
	int incomplete = 0, order = 0;
	for (int i = 0; i < s.errs.n && i < 64; i++) {
		incomplete += strstr(s.errs.msg[i], "incomplete decision") != NULL;
		order += strstr(s.errs.msg[i], "order") != NULL;
	}
	ok(incomplete >= 4, "incomplete decisions reported (%d)", incomplete);
	ok(order >= 2, "events out of their decision's order reported (%d)", order);
	ok(!sc.torn, "a broken decision in the middle is not a torn tail");
	wr_buf_free(&b);
}

static void torn_reads(void)
{
	struct wr_buf b = {0};
	line(&b, 1, "run.created", CREATED_X);
	size_t whole = b.len;
	const char *half = "{\"v\":1,\"seq\":2,\"ts\":\"" TS "\",\"ty";
	raw(&b, half);
	const char *path = t_path("torn.jsonl");
	t_write(path, b.p, b.len);
	struct wr_scan sc;
	struct seen s;
	scan_file(path, &sc, &s, 1);
	ok(sc.torn, "a last line without newline is a torn tail");
	is_int(s.errs.n, 0, "not an error for a reader");
	is_int(s.nev, 1, "not delivered");
	is_int(sc.off, (int64_t)whole, "not consumed");
	/* the writer finishes its line: the next scan delivers it */
	int fd = open(path, O_WRONLY | O_APPEND);
	const char *rest = "pe\":\"run.blocked\",\"by\":\"t/1\"," R1 "}\n";
	wr_write_all(fd, rest, strlen(rest));
	close(fd);
	scan_file(path, &sc, &s, 0);
	ok(!sc.torn && s.nev == 1 && s.seqs[0] == 2 && s.dec_line[0] == 2 && s.errs.n == 0,
	   "completed, the line is read whole on line 2");
	close(sc.fd);
	/* half a batch with all its lines whole is torn too */
	wr_buf_free(&b);
	line(&b, 1, "run.created", CREATED_X);
	line(&b, 2, "run.blocked", R1 ",\"batch\":[1,2]");
	t_write(path, b.p, b.len);
	scan_file(path, &sc, &s, 1);
	ok(sc.torn && s.nev == 1 && s.errs.n == 0, "a batch missing its last event is a torn tail, not an error");
	is_int(sc.last_seq, 1, "seq continuity restarts from the last whole decision");
	close(sc.fd);
	wr_buf_free(&b);
}

static void long_lines(void)
{
	struct wr_buf b = {0};
	line(&b, 1, "run.created", CREATED_X);
	/* a valid 2 MB line (crosses the reader's 1 MiB chunks) */
	size_t big = 2 * 1024 * 1024 + 17;
	char *s = wr_xmalloc(big + 1);
	memset(s, 'd', big);
	s[big] = 0;
	char *x = wr_xasprintf(R1 ",\"reason\":\"%s\"", s);
	line(&b, 2, "run.blocked", x);
	free(x);
	/* a 17 MB line: beyond WR_LINE_MAX, skipped with an error */
	size_t huge = (size_t)WR_LINE_MAX + 1024 * 1024;
	char *h = wr_xmalloc(huge + 1);
	memset(h, 'x', huge);
	h[huge] = '\n';
	wr_buf_add(&b, h, huge + 1);
	free(h);
	line(&b, 3, "run.unblocked", R1 ",\"note\":\"after the huge line\"");
	const char *path = t_path("long.jsonl");
	t_write(path, b.p, b.len);
	wr_buf_free(&b);
	struct wr_ledger l;
	struct t_errs errs;
	ok(t_open_counting(&l, path, 0, &errs) == 0, "read a ledger with a 2 MB and a 17 MB line");
	is_int(errs.n, 1, "only the 17 MB line is an error");
	is_int(errs.line[0], 3, "on line 3");
	ok(strstr(errs.msg[0], "16 MiB") != NULL, "saying it is too long: %s", errs.msg[0]);
	is_int(l.st.events, 3, "the other three are read");
	struct wr_run *r = wr_state_run(&l.st, "r1");
	ok(r && r->status == WR_ST_RETRY_WAIT && r->note && !strcmp(r->note, "after the huge line"),
	   "the line after the huge one is applied");
	ok(r && r->reason && strlen(r->reason) == big, "the 2 MB field is whole");
	ok(!l.scan.torn, "no torn tail");
	wr_ledger_close(&l);
	free(s);
	unlink(path);
}

/* 50 MB of heartbeats for three runs: the state holds three runs. */
static void big_ledger(void)
{
	const char *path = t_path("big.jsonl");
	FILE *f = fopen(path, "w");
	int64_t seq = 0;
	static const char *const runs[] = {"run-a", "run-b", "run-c"};
	for (int i = 0; i < 3; i++) {
		fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":\"" TS "\",\"type\":\"run.created\",\"by\":\"t/1\",\"run\":\"%s\","
			   "\"workflow\":\"w\",\"argv\":[\"x\"],\"cwd\":\"/\",\"policy\":{}}\n", (long long)++seq, runs[i]);
		fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":\"" TS "\",\"type\":\"attempt.started\",\"by\":\"t/1\",\"run\":\"%s\","
			   "\"attempt\":1,\"host\":\"h\",\"pid\":1,\"lease_until\":\"" TS "\"}\n", (long long)++seq, runs[i]);
	}
	int64_t ms = 1795213865123LL;
	char ts[WR_TS_LEN];
	while (ftell(f) < 50L * 1000 * 1000) {
		ms += 1000;
		seq++;
		wr_ts_format(ms, ts);
		fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":\"%s\",\"type\":\"attempt.heartbeat\",\"by\":\"wr-run/4242\",\"run\":\"%s\","
			   "\"attempt\":1,\"lease_until\":\"%s\"}\n", (long long)seq, ts, runs[seq % 3], ts);
	}
	fprintf(f, "oops\n");
	fclose(f);
	off_t size = t_size(path);
	struct wr_ledger l;
	struct t_errs errs;
	int64_t t0 = wr_mono_ms();
	ok(t_open_counting(&l, path, 0, &errs) == 0, "read a %lld byte ledger", (long long)size);
	int64_t took = wr_mono_ms() - t0;
	printf("# read %lld events in %lld ms\n", (long long)l.st.events, (long long)took);
	is_int(l.st.events, seq, "every event applied");
	is_int(l.st.last_seq, seq, "last seq");
	is_int(wr_state_nruns(&l.st), 3, "the state holds three runs, whatever the file size");
	is_int(l.st.workflows.n, 1, "and one workflow");
	is_int(l.st.outbox.n, 0, "and no outbox entry");
	int natt = 0;
	struct wr_runs_iter it;
	wr_runs_begin(&it, &l.st);
	for (const struct wr_run *x; (x = wr_runs_next(&it));)
		natt += (int)x->natt;
	is_int(natt, 3, "one attempt each: heartbeats add nothing");
	struct wr_run *r = wr_state_run(&l.st, runs[seq % 3]);
	ok(r && r->att[0].lease_until == ms, "the last heartbeat's lease is kept");
	is_int(errs.n, 1, "the bad last line is reported");
	is_int(errs.line[0], seq + 1, "with its line number after 50 MB (%lld)", (long long)seq + 1);
	wr_ledger_close(&l);
	unlink(path);
}

/* Over 4 MiB a helper thread decodes every other batch of lines: the
 * result must be exactly that of reading the same file a little at a time
 * (each read small, decoded by one thread): state, errors and the tail. */
static void parallel_equals_sequential(void)
{
	const char *path = t_path("par.jsonl"), *copy = t_path("par-copy.jsonl");
	struct wr_buf b = {0};
	int64_t seq = 0;
	char extra[512];
	for (int i = 0; b.len < 6u << 20; i++) {
		/* decisions of 1, 2 and 3 events, so that some straddle the
		 * decoding batches; a bad line now and then; a gap once */
		snprintf(extra, sizeof extra,
			 "\"batch\":[1,2],\"run\":\"r%d\",\"workflow\":\"w%d\",\"argv\":[\"x\"],\"cwd\":\"/\",\"policy\":{}", i, i % 7);
		line(&b, ++seq, "run.created", extra);
		snprintf(extra, sizeof extra,
			 "\"batch\":[2,2],\"run\":\"r%d\",\"attempt\":1,\"host\":\"h\",\"pid\":1,\"lease_until\":\"" TS "\"", i);
		line(&b, ++seq, "attempt.started", extra);
		for (int k = 0; k < i % 5; k++) {
			snprintf(extra, sizeof extra, "\"run\":\"r%d\",\"attempt\":1,\"lease_until\":\"" TS "\"", i);
			line(&b, ++seq, "attempt.heartbeat", extra);
		}
		if (i % 3 == 0) {
			snprintf(extra, sizeof extra,
				 "\"batch\":[1,3],\"run\":\"r%d\",\"attempt\":1,\"outcome\":\"error\",\"exit_code\":1", i);
			line(&b, ++seq, "attempt.finished", extra);
			snprintf(extra, sizeof extra, "\"batch\":[2,3],\"run\":\"r%d\",\"action\":\"retry\",\"recoveries\":1", i);
			line(&b, ++seq, "recovery.decided", extra);
			snprintf(extra, sizeof extra, "\"batch\":[3,3],\"id\":\"o%d\",\"kind\":\"failed\",\"message\":\"m\"", i);
			line(&b, ++seq, "outbox.enqueued", extra);
		} else {
			snprintf(extra, sizeof extra, "\"run\":\"r%d\",\"attempt\":1,\"outcome\":\"success\",\"exit_code\":0", i);
			line(&b, ++seq, "attempt.finished", extra);
		}
		if (i % 2500 == 1234)
			raw(&b, "{\"v\":1,\"seq\":\"not a number\"}\n");
		if (i % 4000 == 3999) {
			snprintf(extra, sizeof extra, "\"run\":\"r%d\",\"attempt\":1,\"lease_until\":\"" TS "\"", i);
			line(&b, ++seq, "attempt.heartbeat", extra); /* a second finish's kin: stale */
			seq += 5;                                    /* and a gap */
		}
	}
	/* a torn tail: two events of a three-event decision */
	line(&b, ++seq, "run.blocked", "\"batch\":[1,3],\"run\":\"r1\"");
	line(&b, ++seq, "run.unblocked", "\"batch\":[2,3],\"run\":\"r1\"");
	t_write(path, b.p, b.len);

	struct wr_ledger a, c;
	struct t_errs ea, ec;
	ok(t_open_counting(&a, path, WR_LEDGER_NOSNAP, &ea) == 0, "read %zu bytes at once (decoded by two threads)", b.len);
	/* the same bytes, appended and read 256 KiB at a time */
	t_write(copy, "", 0);
	ok(t_open_counting(&c, copy, WR_LEDGER_NOSNAP, &ec) == 0, "and a copy growing 256 KiB at a time");
	int fd = open(copy, O_WRONLY | O_APPEND);
	for (size_t at = 0; at < b.len; at += 256u << 10) {
		size_t n = b.len - at < 256u << 10 ? b.len - at : 256u << 10;
		if (wr_write_all(fd, b.p + at, n) < 0 || wr_ledger_refresh(&c) < 0)
			break;
	}
	close(fd);
	is_int(a.st.events, c.st.events, "the same events applied (%lld)", (long long)a.st.events);
	is_int(a.st.last_seq, c.st.last_seq, "the same last seq");
	is_int(a.st.stale, c.st.stale, "the same stale count (%lld)", (long long)a.st.stale);
	is_int(a.st.invalid, c.st.invalid, "the same invalid count");
	is_int(a.scan.off, c.scan.off, "they stop at the same offset");
	ok(a.scan.torn && c.scan.torn, "both see the torn tail");
	is_int(ea.n, ec.n, "the same number of errors (%d)", ea.n);
	int same = ea.n == ec.n;
	for (int i = 0; same && i < ea.n && i < 64; i++)
		same = ea.line[i] == ec.line[i] && !strcmp(ea.msg[i], ec.msg[i]);
	ok(same, "on the same lines, saying the same");
	char *pa = t_state_print(&a.st), *pc = t_state_print(&c.st);
	ok(!strcmp(pa, pc), "the same derived state, run by run");
	free(pa);
	free(pc);
	wr_ledger_close(&a);
	wr_ledger_close(&c);
	wr_buf_free(&b);
	unlink(path);
	unlink(copy);
}

int main(void)
{
	t_tmpdir("scan");
	parallel_equals_sequential();
	bad_lines_in_the_middle();
	seq_gaps_and_repeats();
	batches();
	torn_reads();
	long_lines();
	big_ledger();
	return done_testing();
}
