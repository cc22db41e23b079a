/* test-snapshot.c - snapshots and compaction markers in the core.
 *
 * The property: replaying a ledger from a snapshot taken at any decision
 * boundary gives a state identical, field by field (wr_state_dump), to a
 * full replay; a snapshot that does not match its ledger is ignored. And a
 * compacted ledger replays to the same state for everything it keeps. */
#include "tap.h"
#include "helpers.h"

#include "compact.h"
#include "replace.h"
#include "snapshot.h"
#include "timefmt.h"

#define R1 "01900000-0000-7000-8000-000000000001"
#define R2 "01900000-0000-7000-8000-000000000002"
#define R3 "01900000-0000-7000-8000-000000000003"
#define R4 "01900000-0000-7000-8000-000000000004"
#define O1 "01900000-0000-7000-8000-0000000000a1"
#define O2 "01900000-0000-7000-8000-0000000000a2"
#define POLICY                                                                                                   \
	"\"policy\":{\"timeout_ms\":null,\"kill_after_ms\":10000,\"heartbeat_ms\":30000,\"lease_ms\":120000,"    \
	"\"max_attempts\":2,\"backoff\":{\"initial_ms\":1000,\"factor\":1.5,\"max_ms\":60000},\"stuck\":{\"repeat\":" \
	"5,\"no_progress_ms\":null,\"action\":\"notify\"},\"concurrency\":2,\"deadline_ms\":86400000,"            \
	"\"no_retry_on\":[2,3]}"

static struct wr_buf fx;
static int64_t fseq, fts;

/* One line of the fixture: common fields, then the body. */
static void L(const char *type, const char *body)
{
	char ts[WR_TS_LEN];
	fts += 1000;
	wr_buf_addf(&fx, "{\"v\":1,\"seq\":%lld,\"ts\":\"%s\",\"type\":\"%s\",\"by\":\"test/1\"%s%s}\n",
		    (long long)++fseq, wr_ts_format(fts, ts), type, *body ? "," : "", body);
}
static void raw(const char *s)
{
	wr_buf_addstr(&fx, s);
}

/* A fixture with every event type, stale and invalid events, bad lines, a
 * broken batch and unknown types: everything the reducer keeps. */
static void fixture_all(void)
{
	fx.len = 0;
	fseq = 0;
	fts = 1767225600000;
	L("run.created", "\"run\":\"" R1 "\",\"workflow\":\"w\xc3\xa9\",\"argv\":[\"/bin/x\",\"a b\"],\"cwd\":\"/t\","
			 "\"labels\":{\"k\":\"v\",\"n\":\"2\"}," POLICY);
	L("attempt.started", "\"run\":\"" R1 "\",\"attempt\":1,\"host\":\"h\",\"boot_id\":\"b\",\"pid\":10,\"pid_start\":5,"
			     "\"pgid\":11,\"pgid_start\":6,\"lease_until\":\"2026-01-01T00:10:00Z\"");
	L("attempt.heartbeat", "\"run\":\"" R1 "\",\"attempt\":1,\"lease_until\":\"2026-01-01T00:12:00Z\"");
	L("attempt.progress", "\"run\":\"" R1 "\",\"attempt\":1,\"stage\":\"fetch\",\"status\":\"started\"");
	L("attempt.progress", "\"run\":\"" R1 "\",\"attempt\":1,\"stage\":\"fetch\",\"status\":\"done\",\"detail\":\"ok\"");
	L("attempt.progress", "\"run\":\"" R1 "\",\"attempt\":1,\"stage\":\"build\",\"status\":\"started\"");
	L("attempt.stuck", "\"run\":\"" R1 "\",\"attempt\":1,\"reason\":\"repeated_output\",\"action\":\"notify\"");
	raw("this is not json\n");
	L("attempt.finished", "\"run\":\"" R1 "\",\"attempt\":1,\"outcome\":\"error\",\"exit_code\":1,\"duration_ms\":5000,"
			      "\"cpu_ms\":20,\"max_rss_kb\":3000,\"output_bytes\":99,\"reason\":\"exit 1\"");
	L("attempt.heartbeat", "\"run\":\"" R1 "\",\"attempt\":1,\"lease_until\":\"2026-01-01T00:12:00Z\""); /* stale */
	L("recovery.decided", "\"run\":\"" R1 "\",\"attempt\":1,\"action\":\"retry\",\"reason\":\"error\",\"recoveries\":1,"
			      "\"not_before\":\"2026-01-01T01:00:00Z\"");
	L("attempt.started", "\"run\":\"" R1 "\",\"attempt\":2,\"host\":\"h2\",\"pid\":12,\"lease_until\":\"2026-01-01T01:10:00Z\"");
	L("attempt.finished", "\"run\":\"" R1 "\",\"attempt\":2,\"outcome\":\"timeout\",\"signal\":15,\"reason\":\"late\"");
	L("run.blocked", "\"run\":\"" R1 "\",\"reason\":\"max attempts\"");
	L("run.unblocked", "\"run\":\"" R1 "\",\"note\":\"fixed \xe2\x9c\x93\"");
	L("run.created", "\"run\":\"" R2 "\",\"workflow\":\"w2\",\"argv\":[\"/bin/y\"],\"cwd\":\"/\"," POLICY);
	L("attempt.rejected", "\"run\":\"" R2 "\",\"reason\":\"breaker_open\"");
	L("run.cancelled", "\"run\":\"" R2 "\",\"reason\":\"op\"");
	L("breaker.changed", "\"workflow\":\"w2\",\"from\":\"closed\",\"to\":\"open\",\"failure_rate\":0.6,"
			     "\"open_until\":\"2026-01-01T02:00:00Z\"");
	L("breaker.changed", "\"workflow\":\"w2\",\"from\":\"open\",\"to\":\"half_open\"");
	L("outbox.enqueued", "\"id\":\"" O1 "\",\"kind\":\"failed\",\"message\":\"m\",\"reason\":\"r\",\"run\":\"" R1 "\","
			     "\"workflow\":\"w\xc3\xa9\",\"details\":{\"a\":[1,2.5,true,null,{\"x\":\"y\"}]}");
	L("outbox.claimed", "\"id\":\"" O1 "\",\"delivery\":\"d1\",\"lease_until\":\"2026-01-01T03:00:00Z\"");
	L("outbox.failed", "\"id\":\"" O1 "\",\"delivery\":\"d1\",\"error\":\"e\",\"next_at\":\"2026-01-01T04:00:00Z\"");
	L("outbox.dead", "\"id\":\"" O1 "\",\"error\":\"gave up\"");
	L("outbox.retried", "\"id\":\"" O1 "\"");
	L("outbox.enqueued", "\"id\":\"" O2 "\",\"kind\":\"custom\",\"message\":\"n\"");
	L("outbox.delivered", "\"id\":\"" O2 "\"");
	L("outbox.acked", "\"id\":\"" O2 "\"");
	L("ledger.repaired", "\"quarantine\":\"/q\",\"offset\":0,\"bytes\":3");
	L("some.future.type", "\"run\":\"" R2 "\",\"x\":1");
	L("attempt.heartbeat", "\"run\":\"" R4 "\",\"attempt\":1,\"lease_until\":\"2026-01-01T00:12:00Z\""); /* invalid */
	/* a decision of three, then a broken one (its second event missing) */
	{
		char ts[WR_TS_LEN];
		fts += 1000;
		wr_ts_format(fts, ts);
		wr_buf_addf(&fx,
			    "{\"v\":1,\"seq\":%lld,\"ts\":\"%s\",\"type\":\"run.created\",\"by\":\"t/1\",\"batch\":[1,3],"
			    "\"run\":\"" R3 "\",\"workflow\":\"w\",\"argv\":[],\"cwd\":\"/\"," POLICY "}\n"
			    "{\"v\":1,\"seq\":%lld,\"ts\":\"%s\",\"type\":\"attempt.started\",\"by\":\"t/1\",\"batch\":[2,3],"
			    "\"run\":\"" R3 "\",\"attempt\":1,\"host\":\"h\",\"pid\":1,\"lease_until\":\"%s\"}\n"
			    "{\"v\":1,\"seq\":%lld,\"ts\":\"%s\",\"type\":\"attempt.finished\",\"by\":\"t/1\",\"batch\":[3,3],"
			    "\"run\":\"" R3 "\",\"attempt\":1,\"outcome\":\"success\",\"exit_code\":0}\n",
			    (long long)fseq + 1, ts, (long long)fseq + 2, ts, ts, (long long)fseq + 3, ts);
		fseq += 3;
		wr_buf_addf(&fx,
			    "{\"v\":1,\"seq\":%lld,\"ts\":\"%s\",\"type\":\"run.cancelled\",\"by\":\"t/1\",\"batch\":[1,2],"
			    "\"run\":\"" R3 "\"}\n",
			    (long long)++fseq, ts);
	}
	L("attempt.progress", "\"run\":\"" R1 "\",\"attempt\":9,\"stage\":\"s\",\"status\":\"done\""); /* invalid */
	L("run.created", "\"run\":\"" R4 "\",\"workflow\":\"w3\",\"argv\":[\"z\"],\"cwd\":\"/\"," POLICY);
	L("attempt.started", "\"run\":\"" R4 "\",\"attempt\":1,\"host\":\"h\",\"pid\":1,\"lease_until\":\"2026-01-01T05:00:00Z\"");
}

/* A handle's state and scan position, every field. */
static char *dump_handle(struct wr_ledger *l)
{
	struct wr_buf b = {0};
	wr_state_dump(&l->st, &b);
	wr_buf_addf(&b, "scan off=%lld line=%lld seq=%lld cseq=%lld bad=%lld\n", (long long)l->scan.off,
		    (long long)l->scan.line, (long long)l->scan.last_seq, (long long)l->scan.compact_seq,
		    (long long)l->bad_lines);
	return (char *)wr_buf_str(&b);
}

static char *dump_of(const char *path, int flags, int *loaded)
{
	struct wr_ledger l;
	if (wr_ledger_open(&l, path, WR_LEDGER_QUIET | flags) < 0)
		return wr_xstrdup(wr_errmsg());
	char *d = dump_handle(&l);
	if (loaded)
		*loaded = l.snap_loaded;
	wr_ledger_close(&l);
	return d;
}

/* Writes a snapshot of path as it is now. */
static int snap(const char *path)
{
	struct wr_ledger l;
	if (wr_ledger_open(&l, path, WR_LEDGER_QUIET | WR_LEDGER_NOSNAP) < 0)
		return -1;
	int r = wr_ledger_snapshot_write(&l);
	wr_ledger_close(&l);
	return r;
}

static void append_bytes(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0 || wr_write_all(fd, p, n) < 0 || close(fd) < 0)
		exit(99);
}

/* For every line boundary k: snapshot the first k bytes, append the rest,
 * replay from the snapshot: the same dump as a full replay. */
static void every_boundary(const char *name, const char *data, size_t len)
{
	const char *full = t_path("%s.full", name), *part = t_path("%s.part", name);
	t_write(full, data, len);
	char *want = dump_of(full, WR_LEDGER_NOSNAP, NULL);
	int bad = 0, loaded_all = 1, n = 0;
	for (size_t k = 0; k <= len; k++) {
		if (k && data[k - 1] != '\n')
			continue;
		unlink(part);
		char *sp = wr_xasprintf("%s.snapshot", part);
		unlink(sp);
		free(sp);
		t_write(part, data, k);
		if (snap(part) < 0) {
			/* inside a decision: a torn tail for that prefix, refused */
			if (!strstr(wr_errmsg(), "torn tail")) {
				printf("# no snapshot at byte %zu: %s\n", k, wr_errmsg());
				bad++;
			}
			continue;
		}
		append_bytes(part, data + k, len - k);
		int loaded = 0;
		char *got = dump_of(part, 0, &loaded);
		n++;
		if (k > 0 && !loaded)
			loaded_all = 0;
		if (strcmp(got, want)) {
			if (!bad)
				printf("# differs with a snapshot at byte %zu:\n# want %s\n# got  %s\n", k, want, got);
			bad++;
		}
		free(got);
	}
	ok(bad == 0, "%s: from a snapshot at each of %d line boundaries, the state is the full replay's", name, n);
	ok(loaded_all, "%s: every snapshot was used", name);
	free(want);
}

static int64_t loaded_after(const char *path)
{
	int loaded = -1;
	char *d = dump_of(path, 0, &loaded);
	free(d);
	return loaded;
}

static void flip(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	unsigned char c;
	if (pread(fd, &c, 1, at) != 1)
		exit(99);
	c ^= 0x20;
	if (pwrite(fd, &c, 1, at) != 1)
		exit(99);
	close(fd);
}

static void mismatches(void)
{
	fixture_all();
	const char *p = t_path("mm.jsonl");
	char *sp = wr_xasprintf("%s.snapshot", p);
	t_write(p, fx.p, fx.len);
	char *want = dump_of(p, WR_LEDGER_NOSNAP, NULL);
	ok(snap(p) == 0, "write a snapshot");
	ok(loaded_after(p) == 1, "a matching snapshot is used");

	/* an edit of the last line before the offset, in place */
	flip(p, (off_t)fx.len - 5);
	ok(loaded_after(p) == 0, "edited last line: snapshot ignored");
	t_write(p, fx.p, fx.len); /* same inode, content back */
	ok(loaded_after(p) == 1, "content restored in place: used again");
	flip(p, 10);
	ok(loaded_after(p) == 0, "edited first line: snapshot ignored");
	t_write(p, fx.p, fx.len);
	flip(p, (off_t)fx.len / 17 * 5 + 3); /* a sampled block */
	ok(loaded_after(p) == 0, "edited a line in the middle: snapshot ignored");
	t_write(p, fx.p, fx.len);

	/* replaced by a file with the same content (another inode) */
	const char *q = t_path("mm.new");
	t_write(q, fx.p, fx.len);
	rename(q, p);
	ok(loaded_after(p) == 0, "replaced file: snapshot ignored");
	char *got = dump_of(p, 0, NULL);
	is_str(got, want, "replaced file: the state is the full replay's");
	free(got);

	ok(snap(p) == 0, "a new snapshot");
	ok(truncate(p, (off_t)fx.len - 10) == 0 && loaded_after(p) == 0, "truncated ledger: snapshot ignored");
	t_write(p, fx.p, fx.len);
	ok(loaded_after(p) == 1, "whole again: used");

	size_t sl;
	char *s = t_read(sp, &sl);
	flip(sp, (off_t)sl - 3);
	ok(loaded_after(p) == 0, "corrupt snapshot body: ignored");
	t_write(sp, s, sl);
	ok(loaded_after(p) == 1, "snapshot restored: used");
	flip(sp, 8);
	ok(loaded_after(p) == 0, "other format version: ignored");
	t_write(sp, s, sl);
	flip(sp, 2);
	ok(loaded_after(p) == 0, "bad magic: ignored");
	t_write(sp, s, sl / 2);
	ok(loaded_after(p) == 0, "truncated snapshot: ignored");
	t_write(sp, s, 0);
	ok(loaded_after(p) == 0, "empty snapshot: ignored");
	unlink(sp);
	ok(loaded_after(p) == 0, "no snapshot: a full replay");
	got = dump_of(p, 0, NULL);
	is_str(got, want, "and the same state");
	free(got);
	/* garbage of the right size with a valid header would still fail the
	 * hash; a snapshot written with 0644 by someone else is refused */
	t_write(sp, s, sl);
	chmod(sp, 0666);
	ok(loaded_after(p) == 0, "a group-writable snapshot is not trusted");
	chmod(sp, 0600);
	free(s);
	free(want);
	free(sp);
}

/* Writers: a snapshot after enough bytes, never a failed commit. */
static int decide_hb(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	(void)st;
	(void)req;
	json_t *e = wr_event_new(WR_EV_OUTBOX_ENQUEUED);
	char id[64];
	static int n;
	snprintf(id, sizeof id, "id-%d-%lld", ++n, (long long)now);
	wr_jset_str(e, "id", id);
	wr_jset_str(e, "kind", "custom");
	wr_jset_str(e, "message", "hello");
	json_array_append_new(out->events, e);
	return 0;
}

static void writers(void)
{
	const char *p = t_path("w.jsonl");
	char *sp = wr_xasprintf("%s.snapshot", p);
	setenv("WR_SNAPSHOT_BYTES", "1000", 1);
	struct wr_ledger l;
	ok(wr_ledger_open(&l, p, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "open a new ledger");
	for (int i = 0; i < 5; i++)
		wr_ledger_commit(&l, decide_hb, NULL);
	ok(t_size(sp) < 0, "no snapshot before 1000 bytes");
	for (int i = 0; i < 10; i++)
		wr_ledger_commit(&l, decide_hb, NULL);
	ok(t_size(sp) > 0, "a snapshot once 1000 bytes were replayed");
	ok(l.snap_off > 0 && l.snap_off <= l.scan.off, "its offset is recorded");
	/* a snapshot that cannot be written makes no commit fail */
	unlink(sp);
	char *tmp = wr_temp_path(sp);
	mkdir(tmp, 0700);
	char *blk = wr_xasprintf("%s/x", tmp);
	t_write(blk, "x", 1); /* a non-empty directory: unlink and open fail */
	int fails = 0;
	for (int i = 0; i < 20; i++)
		fails += wr_ledger_commit(&l, decide_hb, NULL) < 0;
	is_int(fails, 0, "commits succeed when the snapshot cannot be written");
	ok(t_size(sp) < 0, "and no snapshot appeared");
	unlink(blk);
	rmdir(tmp);
	free(blk);
	free(tmp);
	wr_ledger_close(&l);
	/* a fresh process loads the snapshot and replays only the tail */
	ok(wr_ledger_open(&l, p, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "reopen");
	wr_ledger_commit(&l, decide_hb, NULL);
	wr_ledger_close(&l);
	ok(wr_ledger_open(&l, p, WR_LEDGER_QUIET) == 0 && l.snap_loaded, "the next open starts from the snapshot");
	int64_t events = l.st.events;
	wr_ledger_close(&l);
	char *cold = dump_of(p, WR_LEDGER_NOSNAP, NULL), *warm = dump_of(p, 0, NULL);
	is_str(warm, cold, "and has the state of a full replay (%lld events)", (long long)events);
	free(cold);
	free(warm);
	/* a torn tail is never snapshotted */
	append_bytes(p, "{\"v\":1,", 7);
	ok(wr_ledger_open(&l, p, WR_LEDGER_QUIET) == 0 && l.scan.torn, "torn tail seen");
	ok(wr_ledger_snapshot_write(&l) < 0, "no snapshot with a torn tail pending");
	wr_ledger_close(&l);
	unsetenv("WR_SNAPSHOT_BYTES");
	free(sp);
}

/* An outbox entry whose message is *req bytes long. */
static int decide_msg(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	char msg[2048];
	size_t n = *(size_t *)req < sizeof msg ? *(size_t *)req : sizeof msg - 1;
	memset(msg, 'm', n);
	msg[n] = 0;
	decide_hb(st, now, NULL, out);
	wr_jset_str(json_array_get(out->events, 0), "message", msg);
	return 0;
}

/* The lock holder's rule: a handle that appended few decisions writes a
 * snapshot once the lines since the last are an eighth of its size, a
 * long-lived one once they are as long as it. */
static void eighth(void)
{
	const char *p = t_path("eighth.jsonl");
	char *sp = wr_xasprintf("%s.snapshot", p);
	struct wr_ledger l;
	size_t len = 300;
	ok(wr_ledger_open(&l, p, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "open a new ledger");
	for (int i = 0; i < 200; i++)
		wr_ledger_commit(&l, decide_msg, &len);
	ok(wr_ledger_snapshot_write(&l) == 0, "a snapshot of 200 outbox entries");
	wr_ledger_close(&l);
	off_t size = t_size(sp);
	ok(size / 8 > WR_SNAPSHOT_MIN, "larger than 8 x %d bytes (%lld)", WR_SNAPSHOT_MIN, (long long)size);
	ok(wr_ledger_open(&l, p, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0 && l.snap_loaded, "a fresh handle loads it");
	off_t at = l.snap_off;
	len = (size_t)size / 8 / WR_SNAPSHOT_FEW + 64;
	for (int i = 0; i < WR_SNAPSHOT_FEW && l.snap_off == at; i++)
		wr_ledger_commit(&l, decide_msg, &len);
	ok(l.snap_off > at && l.scan.off - at < size, "within %d decisions of its own, an eighth of it: a new one",
	   WR_SNAPSHOT_FEW);
	len = 300;
	while (l.commits <= WR_SNAPSHOT_FEW)
		wr_ledger_commit(&l, decide_msg, &len);
	at = l.snap_off;
	size = l.snap_size;
	while (l.scan.off - at < size / 2)
		wr_ledger_commit(&l, decide_msg, &len);
	ok(l.snap_off == at, "past that, half its size of lines: none yet");
	wr_ledger_close(&l);
	free(sp);
}

static void count_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			 const char *const *why, int64_t line)
{
	(void)evs, (void)applied, (void)why, (void)line;
	*(size_t *)ctx += n;
}

/* A catch-up over lines a newer snapshot covers starts from it when they
 * are long enough, with the state of a full replay; one over a few lines,
 * a handle that sees every event and a snapshot that does not match
 * decode the lines. */
static void jumps(void)
{
	fixture_all();
	const char *p = t_path("jump.jsonl");
	char *sp = wr_xasprintf("%s.snapshot", p);
	t_write(p, fx.p, fx.len);
	setenv("WR_SNAPSHOT_BYTES", "off", 1); /* only the snapshots written here */
	struct wr_ledger a, e, b;
	size_t len = 300, seen = 0;
	ok(wr_ledger_open(&a, p, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "a handle reads the fixture");
	ok(wr_ledger_open(&e, p, WR_LEDGER_QUIET | WR_LEDGER_LAZY) == 0, "another sees every event");
	wr_ledger_on_events(&e, count_events, &seen);
	int rr = wr_ledger_refresh(&e);
	ok(rr >= 0 && seen > 0, "it read the fixture's %zu events", seen);
	ok(wr_ledger_open(&b, p, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "a writer opens it");
	for (int i = 0; i < 60; i++)
		wr_ledger_commit(&b, decide_msg, &len);
	append_bytes(p, "not a ledger line\n", 18);
	for (int i = 0; i < 5; i++)
		wr_ledger_commit(&b, decide_msg, &len);
	ok(wr_ledger_snapshot_write(&b) == 0, "and writes a snapshot after 65 decisions and a bad line");
	off_t at = b.scan.off;
	for (int i = 0; i < 3; i++)
		wr_ledger_commit(&b, decide_msg, &len);
	ok(wr_ledger_refresh(&a) == 0 && a.snap_loaded && a.snap_off == at, "the first handle's catch-up starts from it");
	is_int(a.scan.lines_read, 3, "and decodes only the lines after it");
	char *want = dump_of(p, WR_LEDGER_NOSNAP, NULL), *got = dump_handle(&a);
	is_str(got, want, "its state, bad lines and position are a full replay's");
	free(got);
	size_t before = seen;
	rr = wr_ledger_refresh(&e);
	ok(rr >= 0 && seen - before == 68 && e.scan.lines_read == 69, "the handle that sees every event gets each (%zu)",
	   seen - before);
	got = dump_handle(&e);
	is_str(got, want, "with the same state");
	free(got);
	free(want);

	/* a few short lines ahead: decoded, though a snapshot covers them */
	len = 10;
	wr_ledger_commit(&b, decide_msg, &len);
	ok(wr_ledger_snapshot_write(&b) == 0, "a snapshot one short decision later");
	at = a.snap_off;
	ok(wr_ledger_refresh(&a) == 0 && a.snap_off == at && a.scan.lines_read == 1,
	   "less than %d bytes ahead: the line is decoded", WR_SNAPSHOT_MIN);

	/* a snapshot that does not match: the lines are decoded */
	len = 300;
	for (int i = 0; i < 60; i++)
		wr_ledger_commit(&b, decide_msg, &len);
	ok(wr_ledger_snapshot_write(&b) == 0, "a snapshot 60 decisions later");
	size_t sl;
	char *s = t_read(sp, &sl);
	flip(sp, (off_t)sl - 3);
	ok(wr_ledger_refresh(&a) == 0 && a.snap_off == at && a.scan.lines_read == 60,
	   "its body damaged: the 60 lines are decoded");
	want = dump_of(p, WR_LEDGER_NOSNAP, NULL);
	got = dump_handle(&a);
	is_str(got, want, "to the state of a full replay");
	free(got);
	free(want);
	free(s);
	wr_ledger_close(&b);
	wr_ledger_close(&e);
	wr_ledger_close(&a);
	unsetenv("WR_SNAPSHOT_BYTES");
	free(sp);
}

/* A compacted ledger: kept state identical, seq gaps accepted, snapshots
 * at every boundary of the new file. */
static void compaction(void)
{
	fixture_all();
	const char *p = t_path("c.jsonl");
	t_write(p, fx.p, fx.len);
	char *before = dump_of(p, WR_LEDGER_NOSNAP, NULL);
	struct wr_ledger l;
	ok(wr_ledger_open(&l, p, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "open the fixture");
	struct wr_compact_result res;
	int r = wr_ledger_compact(&l, 0, &res);
	is_int(r, 1, "compacted: %s", r < 0 ? wr_errmsg() : "");
	ok(res.archived_runs >= 2 && res.archived_outbox >= 1, "moved %lld runs, %lld entries, %lld events",
	   (long long)res.archived_runs, (long long)res.archived_outbox, (long long)res.archived_events);
	wr_ledger_close(&l);
	struct t_errs errs;
	ok(t_open_counting(&l, p, WR_LEDGER_NOSNAP, &errs) == 0, "reopen the compacted ledger");
	/* the fixture's own problems (bad line, broken batch) stay; no gap is reported */
	int gaps = 0;
	for (int i = 0; i < errs.n && i < 64; i++)
		gaps += strstr(errs.msg[i], "gap") != NULL || strstr(errs.msg[i], "repeats") != NULL;
	is_int(gaps, 0, "no seq gap or repeat reported");
	ok(wr_state_run(&l.st, R1) && wr_state_run(&l.st, R4), "blocked-then-unblocked and running runs kept");
	ok(!wr_state_run(&l.st, R2) && !wr_state_run(&l.st, R3), "cancelled runs moved");
	ok(wr_state_outbox(&l.st, O1) && !wr_state_outbox(&l.st, O2), "pending entry kept, acked one moved");
	wr_ledger_close(&l);
	char *after = dump_of(p, WR_LEDGER_NOSNAP, NULL);
	/* every line of after but the last two (state, scan) is in before */
	char *save, *line = strtok_r(after, "\n", &save);
	int missing = 0, lines = 0, archived = 0;
	for (; line; line = strtok_r(NULL, "\n", &save)) {
		/* the archived runs' statistics are new: they were runs before */
		archived += !strncmp(line, "archived", 8);
		if (!strncmp(line, "state", 5) || !strncmp(line, "scan", 4) || !strncmp(line, "archived", 8))
			continue;
		lines++;
		if (!strstr(before, line)) {
			printf("# not in the state before: %s\n", line);
			missing++;
		}
	}
	is_int(missing, 0, "every workflow, run and entry kept is identical (%d lines)", lines);
	ok(archived > 0, "the workflows of the moved runs keep their statistics (%d)", archived);
	free(after);
	/* counters identical, last seq is the marker's */
	after = dump_of(p, WR_LEDGER_NOSNAP, NULL);
	const char *sb = strstr(before, " last_ts="), *sa = strstr(after, " last_ts=");
	const char *eb = strstr(before, " compacted_through="), *tb = strstr(before, " by_type="),
		   *ta = strstr(after, " by_type=");
	ok(sb && sa && eb && tb && ta && !strncmp(sb, sa, (size_t)(eb - sb)) &&
		   !strncmp(tb, ta, (size_t)(strchr(tb, '\n') - tb)),
	   "counters identical");
	free(after);
	/* the archives and the live ledger replay to the uncompacted state */
	ok(wr_ledger_open(&l, p, WR_LEDGER_QUIET | WR_LEDGER_LAZY) == 0, "open lazily");
	is_int(wr_ledger_replay_archives(&l), 1, "one archive segment");
	wr_ledger_refresh(&l);
	is_int(wr_state_nruns(&l.st), 4, "all four runs with --archives");
	is_int(l.st.outbox.n, 2, "both entries with --archives");
	wr_ledger_close(&l);
	size_t len;
	char *data = t_read(p, &len);
	every_boundary("compacted", data, len);
	free(data);
	free(before);
}

int main(void)
{
	wr_prog = "test-snapshot";
	t_tmpdir("snapshot");
	unsetenv("WR_SNAPSHOT_BYTES");
	fixture_all();
	every_boundary("all-types", fx.p, fx.len);
	mismatches();
	writers();
	eighth();
	compaction();
	jumps();
	wr_buf_free(&fx);
	return done_testing();
}
