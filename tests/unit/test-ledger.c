/* test-ledger - the commit protocol: concurrent writers, refusals, empty
 * decisions, the lock across a compaction-style rename, and file modes and
 * ownership. */
#include "tap.h"
#include "helpers.h"

#include "timefmt.h"
#include "uuid.h"

#include <grp.h>
#include <sys/wait.h>

#define NPROC 8
#define NCOMMIT 500

/* Decision of the concurrency test: one or two outbox entries that say
 * who wrote them and in which commit. */
struct conc_req {
	int proc, i;
};

static int nevents_of(int i)
{
	return i % 3 == 0 ? 2 : 1;
}

static int decide_conc(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	(void)st;
	(void)now;
	struct conc_req *r = req;
	for (int j = 0; j < nevents_of(r->i); j++) {
		char id[WR_UUID_LEN], msg[64];
		snprintf(msg, sizeof msg, "p%d i%d j%d", r->proc, r->i, j);
		json_t *ev = wr_event_new(WR_EV_OUTBOX_ENQUEUED);
		wr_jset_str(ev, "id", wr_uuid7(id));
		wr_jset_str(ev, "kind", "custom");
		wr_jset_str(ev, "message", msg);
		json_array_append_new(out->events, ev);
	}
	out->nosync = r->i % 2; /* half of them without fdatasync: faster, same protocol */
	return 0;
}

static void concurrent(void)
{
	const char *path = t_path("conc/ledger.jsonl");
	pid_t pids[NPROC];
	int64_t t0 = wr_mono_ms();
	for (int p = 0; p < NPROC; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			struct wr_ledger l;
			if (wr_ledger_open(&l, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) < 0) {
				fprintf(stderr, "child %d: %s\n", p, wr_errmsg());
				_exit(2);
			}
			for (int i = 0; i < NCOMMIT; i++) {
				struct conc_req r = {p, i};
				if (wr_ledger_commit(&l, decide_conc, &r) < 0) {
					fprintf(stderr, "child %d commit %d: %s\n", p, i, wr_errmsg());
					_exit(1);
				}
			}
			wr_ledger_close(&l);
			_exit(0);
		}
	}
	int failed = 0;
	for (int p = 0; p < NPROC; p++) {
		int status;
		waitpid(pids[p], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	printf("# %d processes x %d commits in %lld ms\n", NPROC, NCOMMIT, (long long)(wr_mono_ms() - t0));
	is_int(failed, 0, "%d processes committed %d decisions each", NPROC, NCOMMIT);

	int per_proc = 0;
	for (int i = 0; i < NCOMMIT; i++)
		per_proc += nevents_of(i);
	int64_t want = (int64_t)NPROC * per_proc;

	size_t len;
	char *buf = t_read(path, &len);
	if (!ok(buf != NULL, "the ledger exists"))
		return;
	ok(len > 0 && buf[len - 1] == '\n', "it ends with a newline");
	int64_t n = 0, bad_line = 0, bad_seq = 0, interleaved = 0, bad_order = 0, unknown = 0;
	int count[NPROC] = {0}, next_i[NPROC] = {0}, next_j[NPROC] = {0};
	char pending_by[64] = "";
	int pending = 0;
	pid_t by_pid[NPROC];
	for (int p = 0; p < NPROC; p++)
		by_pid[p] = pids[p];
	char *p = buf, *end = buf + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		n++;
		struct wr_event ev;
		struct wr_decode_err err;
		if (wr_event_decode(p, (size_t)(nl - p), &ev, &err) < 0) {
			if (bad_line++ < 3)
				printf("# line %lld: %s\n", (long long)n, err.msg);
			p = nl + 1;
			continue;
		}
		if (ev.seq != n && bad_seq++ < 3)
			printf("# line %lld has seq %lld\n", (long long)n, (long long)ev.seq);
		const char *by = wr_ev_str(&ev, "by"), *msg = wr_ev_str(&ev, "message");
		long pid = atol(strchr(by, '/') + 1);
		int proc = -1;
		for (int k = 0; k < NPROC; k++)
			if (by_pid[k] == pid)
				proc = k;
		int mp = -1, mi = -1, mj = -1;
		if (ev.type != WR_EV_OUTBOX_ENQUEUED || !msg || sscanf(msg, "p%d i%d j%d", &mp, &mi, &mj) != 3)
			mp = -1;
		if (proc < 0 || mp != proc) {
			unknown++;
		} else {
			count[proc]++;
			/* each process's decisions in its order, none missing */
			if (mi != next_i[proc] || mj != next_j[proc])
				bad_order++;
			if (mj + 1 < nevents_of(mi)) {
				next_j[proc] = mj + 1;
			} else {
				next_i[proc] = mi + 1;
				next_j[proc] = 0;
			}
		}
		/* a batch's lines are together, from one writer, in order */
		if (pending) {
			if (strcmp(by, pending_by) || ev.batch_i != 2 || ev.batch_n != 2)
				interleaved++;
			pending = 0;
		} else if (ev.batch_n) {
			if (ev.batch_i != 1 || ev.batch_n != 2)
				interleaved++;
			snprintf(pending_by, sizeof pending_by, "%s", by);
			pending = 1;
		}
		if ((ev.batch_n != 0) != (nevents_of(mi) == 2))
			interleaved++;
		wr_event_clear(&ev);
		p = nl + 1;
	}
	is_int(n, want, "%lld lines: nothing lost, nothing extra", (long long)want);
	is_int(bad_line, 0, "every line is a valid event");
	is_int(bad_seq, 0, "seq is exactly 1..%lld", (long long)want);
	is_int(unknown, 0, "every line comes from one of the writers");
	int counts_ok = 1;
	for (int k = 0; k < NPROC; k++)
		counts_ok &= count[k] == per_proc && next_i[k] == NCOMMIT;
	ok(counts_ok, "each process has its %d events", per_proc);
	is_int(bad_order, 0, "each process's decisions are in its order, none lost");
	is_int(interleaved, 0, "no decision is interleaved with another");
	ok(!pending, "no decision is left open at the end");
	free(buf);

	struct wr_ledger l;
	struct t_errs errs;
	ok(t_open_counting(&l, path, 0, &errs) == 0, "open it as a ledger");
	is_int(errs.n, 0, "no error on reading");
	ok(!l.scan.torn, "no torn tail");
	is_int(l.st.events, want, "every event applied");
	is_int(l.st.last_seq, want, "last seq");
	is_int((int64_t)wr_state_outboxes(&l.st)->n, want, "every outbox entry distinct");
	wr_ledger_close(&l);
}

static int decide_refuse(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	(void)st;
	(void)now;
	(void)req;
	json_array_append_new(out->events, t_json("{\"v\":1,\"type\":\"run.cancelled\",\"run\":\"r1\"}"));
	wr_seterr("run r1 is not yours to cancel");
	return -1;
}

static int decide_nothing(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	(void)now;
	(void)out;
	int *seen = req;
	*seen = (int)st->last_seq;
	return 0;
}

static int decide_invalid(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out)
{
	(void)st;
	(void)now;
	(void)req;
	json_array_append_new(out->events, t_json("{\"v\":1,\"type\":\"run.blocked\",\"run\":\"r1\"}"));
	json_array_append_new(out->events, t_json("{\"v\":1,\"type\":\"attempt.heartbeat\",\"run\":\"r1\",\"attempt\":-1}"));
	return 0;
}

#define CREATE_R(id) "{\"v\":1,\"type\":\"run.created\",\"run\":\"" id "\",\"workflow\":\"w\",\"argv\":[\"x\"],\"cwd\":\"/\",\"policy\":{}}"

static void refusals(void)
{
	const char *path = t_path("refuse.jsonl");
	struct wr_ledger l;
	ok(wr_ledger_open(&l, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "open");
	ok(t_commit1(&l, t_json(CREATE_R("r1"))) == 0, "commit run.created");
	off_t size = t_size(path);
	int r = wr_ledger_commit(&l, decide_refuse, NULL);
	is_int(r, -1, "a decide that returns -1 fails the commit");
	is_int(wr_errkind(), WR_E_REFUSED, "with kind WR_E_REFUSED");
	is_str(wr_errmsg(), "run r1 is not yours to cancel", "and the decide's message");
	is_int(t_size(path), size, "nothing is written, not even the events it appended");
	ok(wr_state_run(&l.st, "r1")->status == WR_ST_RUNNING, "nothing applied");
	int seen = -1;
	is_int(wr_ledger_commit(&l, decide_nothing, &seen), 0, "a decide that appends nothing succeeds");
	is_int(seen, 1, "decide saw the state up to date");
	is_int(t_size(path), size, "and nothing is written");
	is_int(l.st.last_seq, 1, "seq unchanged");
	r = wr_ledger_commit(&l, decide_invalid, NULL);
	is_int(r, -1, "a decision with an invalid event fails");
	ok(strstr(wr_errmsg(), "attempt") != NULL, "naming what is wrong: %s", wr_errmsg());
	is_int(t_size(path), size, "and writes nothing of it (all or nothing)");
	ok(t_commit1(&l, t_json("{\"v\":1,\"type\":\"run.blocked\",\"run\":\"r1\"}")) == 0, "the next commit works");
	is_int(l.st.last_seq, 2, "with the next seq");
	wr_ledger_close(&l);

	/* a read-only handle cannot commit */
	ok(wr_ledger_open(&l, path, WR_LEDGER_QUIET) == 0, "open read-only");
	is_int(wr_ledger_commit(&l, decide_nothing, &seen), -1, "commit on a read-only handle fails");
	is_int(wr_ledger_repair(&l), -1, "repair on a read-only handle fails");
	wr_ledger_close(&l);

	/* a missing ledger is an error for a reader (a wrong path must not
	 * look like an empty ledger), an empty one with MISSING_OK; a reader
	 * and an EXISTING writer create nothing */
	ok(wr_ledger_open(&l, t_path("nowhere/none.jsonl"), WR_LEDGER_QUIET) == -1, "a missing ledger is an error for a reader");
	is_int(wr_errkind(), WR_E_NOLEDGER, "of kind 'no ledger'");
	ok(strstr(wr_errmsg(), "no ledger at ") && strstr(wr_errmsg(), "nowhere/none.jsonl") &&
		   strstr(wr_errmsg(), "WR_LEDGER") && strstr(wr_errmsg(), "XDG_STATE_HOME"),
	   "the message names the path and where it comes from: %s", wr_errmsg());
	wr_ledger_close(&l);
	ok(wr_ledger_open(&l, t_path("nowhere/none.jsonl"), WR_LEDGER_QUIET | WR_LEDGER_MISSING_OK) == 0,
	   "with MISSING_OK it opens for reading");
	is_int(l.st.events, 0, "empty");
	wr_ledger_close(&l);
	ok(wr_ledger_open(&l, t_path("nowhere/none.jsonl"), WR_LEDGER_QUIET | WR_LEDGER_WRITE | WR_LEDGER_EXISTING) == -1,
	   "an EXISTING writer does not create it");
	is_int(wr_errkind(), WR_E_NOLEDGER, "of kind 'no ledger'");
	wr_ledger_close(&l);
	is_int(t_size(t_path("nowhere")), -1, "a reader creates nothing");
}

static void renamed(void)
{
	const char *path = t_path("compact.jsonl");
	struct wr_ledger a, ro;
	ok(wr_ledger_open(&a, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "writer A opens");
	t_commit1(&a, t_json(CREATE_R("r1")));
	t_commit1(&a, t_json("{\"v\":1,\"type\":\"run.blocked\",\"run\":\"r1\"}"));
	t_commit1(&a, t_json("{\"v\":1,\"type\":\"run.unblocked\",\"run\":\"r1\"}"));
	ok(wr_ledger_open(&ro, path, WR_LEDGER_QUIET) == 0, "reader opens");
	int old = open(path, O_RDONLY);
	off_t old_size = t_size(path);

	/* another process writes a replacement and renames it over the path */
	pid_t pid = fork();
	if (pid == 0) {
		const char *tmp = t_path("compact.jsonl.tmp");
		size_t n;
		char *c = t_read(path, &n);
		t_write(tmp, c, n);
		struct wr_ledger b;
		if (wr_ledger_open(&b, tmp, WR_LEDGER_WRITE | WR_LEDGER_QUIET) < 0)
			_exit(2);
		if (t_commit1(&b, t_json(CREATE_R("r2"))) < 0 || t_commit1(&b, t_json(CREATE_R("r3"))) < 0)
			_exit(3);
		wr_ledger_close(&b);
		if (rename(tmp, path) < 0)
			_exit(4);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "another process replaced the file by rename");

	ok(t_commit1(&a, t_json(CREATE_R("r4"))) == 0, "A commits again: %s", wr_errmsg());
	is_int(a.st.last_seq, 6, "A's seq continues from the new file (3 + 2 + 1)");
	ok(wr_state_run(&a.st, "r2") && wr_state_run(&a.st, "r3"), "A's state has the new file's runs");
	is_int(wr_state_nruns(&a.st), 4, "and its own, once each");
	is_int(t_size(path) > old_size, 1, "the event went into the new file");
	struct stat sb;
	fstat(old, &sb);
	is_int(sb.st_size, old_size, "not into the replaced one");
	close(old);
	{
		struct wr_ledger c;
		struct t_errs errs;
		t_open_counting(&c, path, 0, &errs);
		ok(errs.n == 0 && c.st.last_seq == 6 && c.st.events == 6 && !c.scan.torn, "the new file is whole: seq 1..6");
		wr_ledger_close(&c);
	}
	is_int(wr_ledger_refresh(&ro), 1, "a reader's refresh says the file was replaced");
	is_int(ro.st.events, 6, "and replays it from the start");
	is_int(wr_state_nruns(&ro.st), 4, "without counting anything twice");
	wr_ledger_close(&ro);

	/* the lock is on PATH.lock: a holder keeps others out across a rename */
	int pfd[2], qfd[2];
	if (pipe(pfd) < 0 || pipe(qfd) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct wr_ledger h;
		char c = 0;
		if (wr_ledger_open(&h, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) < 0 || wr_ledger_lock(&h) < 0)
			_exit(2);
		/* replace the file while holding the lock, as compaction does */
		const char *tmp = t_path("compact.jsonl.tmp2");
		size_t n;
		char *content = t_read(path, &n);
		t_write(tmp, content, n);
		rename(tmp, path);
		if (write(pfd[1], "L", 1) != 1)
			_exit(3);
		if (read(qfd[0], &c, 1) != 1)
			_exit(4);
		wr_ledger_unlock(&h);
		_exit(0);
	}
	char c;
	ok(read(pfd[0], &c, 1) == 1, "another process holds the lock and replaced the file");
	a.store.lock_timeout_ms = 300;
	int64_t t0 = wr_mono_ms();
	int r = t_commit1(&a, t_json(CREATE_R("r5")));
	int64_t waited = wr_mono_ms() - t0;
	is_int(r, -1, "a commit meanwhile waits and times out");
	is_int(wr_errkind(), WR_E_LOCK_TIMEOUT, "as a lock timeout");
	ok(strstr(wr_errmsg(), "retry later") != NULL, "saying to retry later: %s", wr_errmsg());
	ok(waited >= 250 && waited < 5000, "after the lock timeout (%lld ms)", (long long)waited);
	is_int(wr_ledger_exit_status(), WR_EXIT_TEMPFAIL, "which tools exit with 75");
	if (write(qfd[1], "U", 1) != 1)
		return;
	waitpid(pid, &status, 0);
	a.store.lock_timeout_ms = 5000;
	ok(t_commit1(&a, t_json(CREATE_R("r5"))) == 0, "after the holder unlocks, the commit goes through");
	is_int(a.st.last_seq, 7, "with seq 7, in the replaced file");
	wr_ledger_close(&a);
	close(pfd[0]);
	close(pfd[1]);
	close(qfd[0]);
	close(qfd[1]);
}

static void refused_open(const char *path, int flags, const char *what, const char *want1, const char *want2)
{
	struct wr_ledger l;
	int r = wr_ledger_open(&l, path, flags | WR_LEDGER_QUIET);
	if (!ok(r == -1, "%s: refused", what)) {
		wr_ledger_close(&l);
		return;
	}
	is_int(wr_errkind(), WR_E_REFUSED, "%s: kind refused", what);
	ok(strstr(wr_errmsg(), path) != NULL, "%s: message names the file: %s", what, wr_errmsg());
	if (want1)
		ok(strstr(wr_errmsg(), want1) != NULL, "%s: message says %s", what, want1);
	if (want2)
		ok(strstr(wr_errmsg(), want2) != NULL, "%s: message says %s", what, want2);
	wr_ledger_close(&l);
}

static void modes(void)
{
	/* created 0600 in a 0700 directory, whatever the umask */
	mode_t um = umask(0);
	const char *path = t_path("state/wr/deep/ledger.jsonl");
	struct wr_ledger l;
	ok(wr_ledger_open(&l, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "create a ledger in new directories");
	umask(um);
	/* stat first, then report: an argument list has no order of evaluation */
	struct stat sb = {0};
	int r = stat(path, &sb);
	ok(r == 0 && (sb.st_mode & 07777) == 0600, "the ledger is 0600 (%04o)", (unsigned)(sb.st_mode & 07777));
	r = stat(t_path("state/wr/deep"), &sb);
	ok(r == 0 && (sb.st_mode & 07777) == 0700, "its directory is 0700 (%04o)", (unsigned)(sb.st_mode & 07777));
	r = stat(t_path("state/wr"), &sb);
	ok(r == 0 && (sb.st_mode & 07777) == 0700, "and the directories above it it made (%04o)",
	   (unsigned)(sb.st_mode & 07777));
	ok(t_commit1(&l, t_json(CREATE_R("r1"))) == 0, "commit");
	ok(stat(l.store.lockpath, &sb) == 0 && (sb.st_mode & 07777) == 0600, "the lock file is 0600");
	wr_ledger_close(&l);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600, "still 0600 after a commit");

	/* group- or other-writable: refused, saying how to fix it */
	chmod(path, 0664);
	refused_open(path, 0, "mode 0664 (read)", "chmod", "writable by group");
	refused_open(path, WR_LEDGER_WRITE, "mode 0664 (write)", "chmod", "0664");
	chmod(path, 0602);
	refused_open(path, 0, "mode 0602", "chmod", NULL);
	chmod(path, 0644);
	ok(wr_ledger_open(&l, path, WR_LEDGER_QUIET) == 0, "mode 0644 is fine");
	wr_ledger_close(&l);
	chmod(path, 0600);

	/* not a regular file */
	refused_open(t_path("state"), 0, "a directory", "not a regular file", NULL);
	const char *fifo = t_path("fifo.jsonl");
	ok(mkfifo(fifo, 0600) == 0, "a FIFO at the ledger path");
	alarm(10); /* a reader that waits for a FIFO's writer dies here */
	refused_open(fifo, 0, "a FIFO (read)", "not a regular file", NULL);
	refused_open(fifo, WR_LEDGER_WRITE, "a FIFO (write)", "not a regular file", NULL);
	alarm(0);

	/* another user's file, directly or through a symlink */
	if (geteuid() != 0) {
		printf("ok %d # SKIP not root: cannot make a file owned by another user\n", ++tap_n);
		return;
	}
	const char *other = t_path("other.jsonl");
	size_t n;
	char *c = t_read(path, &n);
	t_write(other, c, n);
	free(c);
	ok(chown(other, 65534, 65534) == 0, "chown a copy to nobody (65534)");
	{
		struct wr_ledger r; /* root reads any user's ledger, never writes to it */
		ok(wr_ledger_open(&r, other, WR_LEDGER_QUIET) == 0, "owned by another user (read): root reads it");
		ok(r.st.last_seq > 0, "and replays it (last seq %lld)", (long long)r.st.last_seq);
		wr_ledger_close(&r);
	}
	refused_open(other, WR_LEDGER_WRITE, "owned by another user (write)", "not by you", NULL);
	const char *link = t_path("link.jsonl");
	ok(symlink(other, link) == 0, "a symlink to it");
	refused_open(link, 0, "symlink to another user's file (read)", "symbolic link", NULL);
	refused_open(link, WR_LEDGER_WRITE, "symlink to another user's file (write)", "symbolic link", NULL);
	/* its lock file owned by another: commits refused */
	ok(wr_ledger_open(&l, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "open my own ledger");
	ok(chown(l.store.lockpath, 65534, 65534) == 0, "give its lock file to nobody");
	is_int(t_commit1(&l, t_json(CREATE_R("r9"))), -1, "a commit is refused");
	ok(strstr(wr_errmsg(), "lock file") && strstr(wr_errmsg(), "65534"), "naming the lock file: %s", wr_errmsg());
	wr_ledger_close(&l);
}

/* A writer whose ledger was deleted starts the file the path names now,
 * instead of appending to the unlinked inode where nobody would read it. */
static void deleted(void)
{
	const char *path = t_path("deleted.jsonl");
	struct wr_ledger a;
	ok(wr_ledger_open(&a, path, WR_LEDGER_WRITE | WR_LEDGER_QUIET) == 0, "writer opens");
	t_commit1(&a, t_json(CREATE_R("r1")));
	ok(unlink(path) == 0, "the ledger is deleted");
	ok(t_commit1(&a, t_json(CREATE_R("r2"))) == 0, "the next commit works: %s", wr_errmsg());
	ok(t_size(path) > 0, "and went into a new file at the path");
	is_int(a.st.last_seq, 1, "which starts at seq 1");
	ok(!wr_state_run(&a.st, "r1") && wr_state_run(&a.st, "r2"), "with only what was written to it");
	wr_ledger_close(&a);
}

int main(void)
{
	t_tmpdir("ledger");
	refusals();
	renamed();
	deleted();
	modes();
	concurrent();
	return done_testing();
}
