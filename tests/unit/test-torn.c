/* test-torn - a 3-event decision torn at every byte offset: readers never
 * apply part of it, the next writer moves it to PATH.quarantine (exactly
 * its bytes), records ledger.repaired, and the ledger is clean after. */
#include "tap.h"
#include "helpers.h"

#include "timefmt.h"

#define RUN "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

/* Counts failed checks without printing thousands of lines: the loop
 * reports once per offset class. */
#define CHECK(cond, ...)                                             \
	do {                                                         \
		if (!(cond)) {                                       \
			bad++;                                       \
			if (bad <= 10) {                             \
				printf("# k=%zu: ", k);              \
				printf(__VA_ARGS__);                 \
				printf("\n");                        \
			}                                            \
		}                                                    \
	} while (0)

int main(void)
{
	t_tmpdir("torn");
	const char *base = t_path("base.jsonl");
	struct wr_ledger l;
	if (!ok(wr_ledger_open(&l, base, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "create a ledger: %s", wr_errmsg()))
		return done_testing();
	ok(t_commit1(&l, t_json("{\"v\":1,\"type\":\"run.created\",\"run\":\"" RUN "\",\"workflow\":\"nightly\","
				"\"argv\":[\"make\"],\"cwd\":\"/srv\",\"policy\":{\"max_attempts\":3}}")) == 0,
	   "commit run.created");
	ok(t_commit1(&l, t_json("{\"v\":1,\"type\":\"attempt.started\",\"run\":\"" RUN "\",\"attempt\":1,\"host\":\"h\","
				"\"pid\":42,\"lease_until\":\"2030-01-01T00:00:00.000Z\"}")) == 0,
	   "commit attempt.started");
	ok(t_commit1(&l, t_json("{\"v\":1,\"type\":\"attempt.heartbeat\",\"run\":\"" RUN "\",\"attempt\":1,"
				"\"lease_until\":\"2030-01-01T00:02:00.000Z\"}")) == 0,
	   "commit a heartbeat");
	size_t plen;
	char *prefix = t_read(base, &plen);
	char *before = t_state_print(&l.st);
	json_t *batch = json_array();
	json_array_append_new(batch, t_json("{\"v\":1,\"type\":\"attempt.finished\",\"run\":\"" RUN "\",\"workflow\":\"nightly\","
					    "\"attempt\":1,\"outcome\":\"error\",\"exit_code\":2,\"duration_ms\":1500}"));
	json_array_append_new(batch, t_json("{\"v\":1,\"type\":\"recovery.decided\",\"run\":\"" RUN "\",\"attempt\":1,"
					    "\"action\":\"retry\",\"recoveries\":1,\"not_before\":\"2030-01-01T00:05:00.000Z\"}"));
	json_array_append_new(batch, t_json("{\"v\":1,\"type\":\"outbox.enqueued\",\"id\":\"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60\","
					    "\"kind\":\"failed\",\"message\":\"nightly failed (exit 2), retry in 5m\","
					    "\"run\":\"" RUN "\",\"workflow\":\"nightly\"}"));
	ok(t_commit(&l, batch) == 0, "commit a decision of 3 events");
	char *after = t_state_print(&l.st);
	wr_ledger_close(&l);
	size_t flen;
	char *full = t_read(base, &flen);
	ok(flen > plen && !memcmp(full, prefix, plen), "the decision was appended after the prefix");
	const char *bb = full + plen;
	size_t blen = flen - plen;
	int nl = 0;
	for (size_t i = 0; i < blen; i++)
		nl += bb[i] == '\n';
	is_int(nl, 3, "the decision is 3 lines (%zu bytes)", blen);
	ok(strstr(bb, "\"batch\":[1,3]") && strstr(bb, "\"batch\":[3,3]"), "marked as a batch of 3");
	ok(strcmp(before, after) != 0, "the decision changes the state (so a partial apply would show)");

	const char *path = t_path("t.jsonl");
	char *qpath = wr_xasprintf("%s.quarantine", path);
	char *lockpath = wr_xasprintf("%s.lock", path);
	char *buf = wr_xmalloc(flen);
	memcpy(buf, prefix, plen);

	/* the whole decision is read whole: the checks below can tell */
	{
		struct t_errs errs;
		t_write(path, full, flen);
		t_open_counting(&l, path, 0, &errs);
		char *s = t_state_print(&l.st);
		ok(!l.scan.torn && errs.n == 0 && !strcmp(s, after), "whole, the decision is applied");
		free(s);
		wr_ledger_close(&l);
	}

	/* the writer says on stderr what it moved: keep that out of the TAP
	 * output, and check it once */
	const char *errpath = t_path("stderr");
	fflush(stderr);
	int saved_err = dup(2), errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(errfd, 2);
	close(errfd);
	int bad = 0;
	int64_t t0 = wr_mono_ms();
	size_t k;
	for (k = 1; k < blen; k++) {
		unlink(path);
		unlink(qpath);
		unlink(lockpath);
		memcpy(buf + plen, bb, k);
		t_write(path, buf, plen + k);

		/* a reader: nothing of the decision, a torn tail, no error */
		struct t_errs errs;
		CHECK(t_open_counting(&l, path, 0, &errs) == 0, "open read-only: %s", wr_errmsg());
		char *s = t_state_print(&l.st);
		CHECK(!strcmp(s, before), "reader state differs from the state before the decision");
		CHECK(l.scan.torn, "reader: torn not set");
		CHECK(errs.n == 0, "reader: %d errors, first: %s", errs.n, errs.msg[0]);
		CHECK(l.scan.off == (off_t)plen, "reader consumed %lld bytes, want %zu", (long long)l.scan.off, plen);
		free(s);
		wr_ledger_close(&l);
		CHECK(t_size(path) == (off_t)(plen + k), "the reader changed the file");
		CHECK(t_size(qpath) == -1, "the reader made a quarantine file");

		/* a writer: repair (even k) or commit (odd k) quarantines it */
		int use_commit = k % 2;
		CHECK(wr_ledger_open(&l, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "open to write: %s", wr_errmsg());
		s = t_state_print(&l.st);
		CHECK(!strcmp(s, before), "writer state before repair differs");
		free(s);
		if (use_commit) {
			CHECK(t_commit1(&l, t_json("{\"v\":1,\"type\":\"attempt.heartbeat\",\"run\":\"" RUN "\",\"attempt\":1,"
						   "\"lease_until\":\"2030-01-01T00:04:00.000Z\"}")) == 0,
			      "commit: %s", wr_errmsg());
		} else {
			CHECK(wr_ledger_repair(&l) == 1, "repair did not say it repaired");
			CHECK(wr_ledger_repair(&l) == 0, "second repair found something");
		}
		CHECK(l.st.repaired == 1, "writer's state has no ledger.repaired");
		struct wr_run *r = wr_state_run(&l.st, RUN);
		CHECK(r && r->status == WR_ST_RUNNING && r->natt == 1 && !r->att[0].finished,
		      "writer applied part of the decision");
		CHECK(l.st.outbox.n == 0, "writer applied the outbox entry");
		wr_ledger_close(&l);

		size_t qlen = 0;
		char *q = t_read(qpath, &qlen);
		CHECK(q && qlen == k && !memcmp(q, bb, k), "quarantine holds %zu bytes, want exactly the %zu torn ones", qlen, k);
		free(q);
		struct stat qsb;
		CHECK(stat(qpath, &qsb) == 0 && (qsb.st_mode & 0777) == 0600, "quarantine mode is not 0600");

		size_t nlen = 0;
		char *now = t_read(path, &nlen);
		CHECK(nlen > plen && !memcmp(now, prefix, plen), "the ledger lost its prefix");
		const char *rep = now + plen;
		CHECK(!strncmp(rep, "{\"v\":1,\"seq\":4,", 15) && strstr(rep, "\"type\":\"ledger.repaired\""),
		      "next line is not ledger.repaired with seq 4: %.80s", rep);
		char want_q[1200];
		snprintf(want_q, sizeof want_q, "\"quarantine\":\"%s\"", qpath);
		char want_b[64];
		snprintf(want_b, sizeof want_b, "\"bytes\":%zu", k);
		CHECK(strstr(rep, want_q) && strstr(rep, "\"offset\":0") && strstr(rep, want_b),
		      "ledger.repaired does not say where and what: %.200s", rep);
		int lines = 0;
		for (size_t i = plen; i < nlen; i++)
			lines += now[i] == '\n';
		CHECK(lines == 1 + use_commit, "%d lines after the prefix, want %d", lines, 1 + use_commit);
		CHECK(now[nlen - 1] == '\n', "the ledger does not end with a newline");
		free(now);

		/* verify would be clean: no bad line, no torn tail, seq whole */
		CHECK(t_open_counting(&l, path, 0, &errs) == 0, "reopen");
		CHECK(errs.n == 0, "after repair: %d errors, first line %lld: %s", errs.n, (long long)errs.line[0], errs.msg[0]);
		CHECK(!l.scan.torn, "after repair: still torn");
		CHECK(l.st.last_seq == 4 + use_commit, "after repair: last seq %lld", (long long)l.st.last_seq);
		CHECK(l.st.invalid == 0 && l.st.stale == 0, "after repair: invalid or stale events");
		r = wr_state_run(&l.st, RUN);
		CHECK(r && r->status == WR_ST_RUNNING, "after repair: run not running");
		wr_ledger_close(&l);
	}
	fflush(stderr);
	dup2(saved_err, 2);
	close(saved_err);
	printf("# %zu offsets in %lld ms\n", blen - 1, (long long)(wr_mono_ms() - t0));
	{
		char *said = t_read(errpath, NULL);
		char want[1200];
		snprintf(want, sizeof want, "%s: moved a torn tail of 1 bytes (offset %zu) to %s\n", path, plen, qpath);
		ok(said && strstr(said, want), "the writer says what it moved and where");
		free(said);
	}
	is_int(bad, 0, "torn at each of the %zu offsets: never applied in part, quarantined exactly, clean after", blen - 1);

	/* a second torn tail later: quarantined after the first, offsets add up */
	{
		fflush(stderr);
		saved_err = dup(2);
		errfd = open(errpath, O_WRONLY | O_TRUNC);
		dup2(errfd, 2);
		close(errfd);
		unlink(path);
		unlink(qpath);
		memcpy(buf + plen, bb, 10);
		t_write(path, buf, plen + 10);
		ok(wr_ledger_open(&l, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0 && wr_ledger_repair(&l) == 1,
		   "first repair");
		wr_ledger_close(&l);
		int fd = open(path, O_WRONLY | O_APPEND);
		wr_write_all(fd, bb, 25);
		close(fd);
		ok(wr_ledger_open(&l, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0 && wr_ledger_repair(&l) == 1,
		   "second repair");
		is_int(l.st.repaired, 2, "two ledger.repaired recorded");
		wr_ledger_close(&l);
		size_t qlen;
		char *q = t_read(qpath, &qlen);
		ok(qlen == 35 && !memcmp(q, bb, 10) && !memcmp(q + 10, bb, 25), "the quarantine file keeps both tails, in order");
		free(q);
		char *now = t_read(path, NULL);
		ok(strstr(now, "\"offset\":10,\"bytes\":25") || (strstr(now, "\"offset\":10") && strstr(now, "\"bytes\":25")),
		   "the second ledger.repaired says where in the quarantine file it starts");
		free(now);
		fflush(stderr);
		dup2(saved_err, 2);
		close(saved_err);
	}
	free(buf);
	free(full);
	free(prefix);
	free(before);
	free(after);
	free(qpath);
	free(lockpath);
	return done_testing();
}
