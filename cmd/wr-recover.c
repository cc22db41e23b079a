/* wr-recover - scheduled recovery: one pass for cron, and the manual verbs.
 *
 * A pass: the lost-attempt check of wr-watch check (one decision), then
 * for each failed run a decision of its own under the lock
 * (core/decide_recover.c: retry after backoff, escalate, or wait while the
 * breaker is open), then the launch of every run whose retry is due:
 * `wr-run --run RUN` detached in its own session, in the run's recorded
 * cwd, output to LEDGER.logs/RUN/ATTEMPT.launch.log.
 *
 * A launch is a decision in the ledger (core/decide_recover.c,
 * wr_decide_launch): wr-run is started held before exec, run.launched is
 * recorded with its pid, then it is let go; no pass launches a run whose
 * launch is live, and wr-run --attempt N starts attempt N or nothing, so a
 * wr-run launched for attempt n+1 can never start late, after attempt n+1
 * has come and gone, as an attempt nobody decided. On this host launches
 * are also serialised per run by a launch lock (LEDGER.launch/RUN.lock)
 * that a small babysitter holds for as long as the launched wr-run lives.
 * Before a lost attempt's successor starts, the lost attempt's process
 * group is killed when it still runs on this host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsmode.h"
#include "actions.h"
#include "check.h"
#include "decide_recover.h"
#include "breaker.h"
#include "cli.h"
#include "outlog.h"
#include "err.h"
#include "suggest.h"
#include "ledger.h"
#include "proc.h"
#include "random.h"
#include "store.h"
#include "sysinfo.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"
#include "words.h"

static const char usage[] =
	"Usage: wr-recover [OPTIONS]                     one recovery pass (for cron)\n"
	"       wr-recover [OPTIONS] retry [--force] RUN\n"
	"       wr-recover [OPTIONS] unblock RUN [--note TEXT]\n"
	"       wr-recover [OPTIONS] cancel RUN [--reason TEXT]\n"
	"       wr-recover [OPTIONS] breaker WORKFLOW reset\n"
	"\n"
	"A pass records lost attempts (as 'wr-watch check' does), then decides\n"
	"about each failed run, one locked decision per run and at most one per\n"
	"attempt: retry after backoff min(initial*factor^(n-1), max) +-20% jitter\n"
	"after the n-th failure (the rule of wr-outbox deliver too);\n"
	"escalate (run blocked, outbox 'escalated') when max attempts are used,\n"
	"the exit code is in no_retry_on or the deadline passed; wait, recording\n"
	"nothing, while the workflow's breaker is open. Due retries are launched\n"
	"as 'wr-run --run RUN --attempt N', detached, in the run's cwd, output to\n"
	"LEDGER.logs/RUN/ATTEMPT.launch.log (wr-run keeps the command's last\n"
	"output in ATTEMPT.log beside it); a lost attempt's process group still\n"
	"alive on this host is killed first.\n"
	"A launch is recorded (run.launched, with the held wr-run's pid) before\n"
	"wr-run goes on: no pass launches a run whose launch is live; a launch\n"
	"whose wr-run ended before its start is launched once more, and when\n"
	"that one is lost too the run is blocked (reason launch_lost).\n"
	"\n"
	"Verbs:\n"
	"  retry RUN          launch now, ignoring backoff (a forced launch: its\n"
	"                     wr-run may start before not_before); a blocked run,\n"
	"                     or one whose failure is final, only with --force\n"
	"  unblock RUN        a human fixed it: recoveries reset, retry due now\n"
	"  cancel RUN         end the run (its live attempt's group is killed when\n"
	"                     it runs on this host); outbox 'cancelled'\n"
	"  breaker WF reset   close the workflow's circuit breaker (says what it was)\n"
	"RUN is a run id, an unambiguous prefix or the short id of tables.\n"
	"\n"
	"Options:\n"
	"  --ledger PATH     the ledger (default $WR_LEDGER, else\n"
	"                    ${XDG_STATE_HOME:-~/.local/state}/wr/ledger.jsonl)\n"
	"  --dry-run         print the decisions, append nothing, launch nothing\n"
	"  --json            one JSON object per decision: run, workflow, attempt,\n"
	"                    action, reason, recoveries, not_before, launched\n"
	"  --workflow W      pass: only runs of workflow W\n"
	"  --limit N         pass: act on at most N runs\n"
	"  --force           retry: also a blocked run or a final failure\n"
	"  --note TEXT       unblock (and retry --force): what the human did\n"
	"  --reason TEXT     cancel: why\n"
	"  -h, --help        show this help\n"
	"      --version     show the version\n"
	"\n"
	"Actions printed: lost, retry, escalate, wait (breaker open: nothing\n"
	"recorded), launch, unblock, cancel, breaker.\n"
	"\n"
	"Files: LEDGER.logs/RUN/ATTEMPT.launch.log (0600, 0660 in a shared ledger\n"
	"directory; removed with the run by\n"
	"wr-ledger compact); LEDGER.launch/RUN.lock, held while a launched wr-run lives, so\n"
	"that overlapping passes launch a run once. A stream's are this host's, under\n"
	"${XDG_STATE_HOME:-~/.local/state}/wr/nats/STREAM.\n"
	"\n"
	"Exit status: 0 done; 1 a run was blocked in this pass (it needs a\n"
	"human), or a verb was refused (its state forbids it); 2 usage, also a\n"
	"RUN that names no run or several; 74 I/O or ledger error (or no\n"
	"ledger); 75 lock wait timed out (retry later).\n"
	"\n"
	"Examples:\n"
	"  */5 * * * * wr-recover            (crontab: a pass every 5 minutes)\n"
	"  wr-recover --dry-run --json | jq -r .action\n"
	"  wr-recover unblock 3f9c2a1b --note 'disk cleaned up'\n";

static int json_out, dry_run, force;
static const char *ledger_opt, *workflow_opt, *note_opt, *reason_opt;
static int64_t limit_opt = -1;
static struct wr_ledger L;
static char *self_dir;          /* directory of this binary, for wr-run */

/* ---- output ---- */

static void emit(const char *run, const char *wf, int64_t attempt, const char *action, const char *reason,
		 int64_t recoveries, int64_t not_before, int launched, const char *extra)
{
	struct wr_view v = {.f = stdout, .json = json_out};
	struct wr_action a = {action, run, wf, attempt, reason, recoveries, not_before, launched, extra, dry_run};
	wr_action_print(&v, &a);
}

static noreturn void die_ledger(void)
{
	fflush(stdout);
	wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
}

/* ---- decisions, real or dry ---- */

/* This host's clock, never the ledger's last stamp: one event from a host
 * whose clock runs ahead must not hold back every retry here. */
static int64_t now_ms(void)
{
	return wr_now_ms();
}

/* One decision: committed under the lock, or in a dry run decided on the
 * state as read and applied in memory only. Returns 0 or -1 (wr_errmsg). */
static int decide(wr_decide_fn fn, void *req)
{
	if (!dry_run)
		return wr_ledger_commit(&L, fn, req);
	struct wr_batch b = {json_array(), 0};
	int64_t now = now_ms();
	int r = fn(wr_ledger_state(&L), now, req, &b);
	if (r < 0)
		wr_seterrkind(WR_E_REFUSED);
	else
		wr_ledger_apply_dry(&L, b.events, now);
	json_decref(b.events);
	return r;
}

/* ---- processes ---- */

/* The group of an attempt, when something of it still runs on this host
 * and boot (its leader, or what the leader left in its group). 0 when not. */
static pid_t group_here(const char *host, const char *boot_id, int64_t pgid, int64_t pgid_start)
{
	if (pgid <= 1 || !pgid_start || !host || strcmp(host, wr_hostname()))
		return 0;
	if (!boot_id || !*wr_boot_id() || strcmp(boot_id, wr_boot_id()))
		return 0;
	return wr_group_members(pgid, pgid_start) > 0 ? (pid_t)pgid : 0;
}

/* A run id made safe as a file name. */
static char *file_name(const char *id)
{
	char *s = wr_xstrdup(id);
	for (char *p = s; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20 || (p == s && *p == '.'))
			*p = '_';
	return s;
}

/* The launch lock of a run, taken without waiting: an fd (O_CLOEXEC), or
 * -1 when another launch of the run holds it (or on error, warned). Beside
 * the ledger's local name: a stream's are this host's, under
 * XDG_STATE_HOME with its output logs (not a directory named after its
 * URL in the working directory). */
static int launch_lock(const char *run)
{
	char *local = wr_store_local(wr_ledger_name(&L));
	char *dir = wr_xasprintf("%s.launch", local);
	free(local);
	if (wr_fs_mkdirs(dir, 0700) < 0) {
		wr_warnsys("unable to create directory %s", dir);
		free(dir);
		return -1;
	}
	char *name = file_name(run);
	char *path = wr_xasprintf("%s/%s.lock", dir, name);
	free(name);
	free(dir);
	int fd = wr_fs_open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		wr_warnsys("unable to open launch lock %s", path);
		free(path);
		return -1;
	}
	free(path);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			wr_warnsys("unable to lock the launch of run %s", run);
		close(fd);
		return -1;
	}
	return fd;
}

/* Where wr-run is: next to this binary, else on PATH. */
static const char *wr_run_path(void)
{
	static char *path;
	if (!path && self_dir) {
		char *p = wr_xasprintf("%s/wr-run", self_dir);
		if (access(p, X_OK) == 0)
			path = p;
		else
			free(p);
	}
	return path;
}

/* The attempt's log, opened for appending; *created says it is new. */
static int open_log(const struct wr_run *r, char **logpath, int *created)
{
	*logpath = NULL;
	/* Beside the ledger, with the run's output logs (core/outlog.h). */
	char *dir = wr_outlog_run_dir(wr_ledger_name(&L), r->id);
	if (!dir) {
		wr_warn("%s", wr_errmsg());
		return -1;
	}
	char *log = wr_xasprintf("%s/%zu.launch.log", dir, r->natt + 1);
	free(dir);
	*created = 1;
	int fd = wr_fs_open(log, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == EEXIST) {
		*created = 0;
		fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		wr_warnsys("unable to open log file %s", log);
		free(log);
		return -1;
	}
	*logpath = log;
	return fd;
}

/* Starts `wr-run --ledger L --run RUN --attempt N` detached and held
 * before exec: a babysitter in a new session (stdin /dev/null, output to
 * logfd, in the run's cwd) holds lockfd and waits for wr-run, so the
 * launch lock lasts as long as wr-run. The caller records the launch with
 * c->pid, then releases or cancels it; nothing is left for it to reap.
 * Returns 0, or -1 (warned). */
static int launch_held(const struct wr_run *r, int lockfd, int logfd, struct wr_child *c)
{
	/* wr-run --run changes to the recorded directory itself; when that
	 * is gone it records a failed attempt, which counts towards the run's
	 * max attempts and ends in an escalation instead of a retry that
	 * never starts, pass after pass. */
	int cwdfd = open(r->cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwdfd < 0)
		cwdfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwdfd < 0) {
		wr_warnsys("run %s: unable to open a directory to launch it from", r->id);
		return -1;
	}
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0) {
		wr_warnsys("unable to launch run %s", r->id);
		close(cwdfd);
		return -1;
	}
	static char attempt[32];
	snprintf(attempt, sizeof attempt, "%zu", r->natt + 1);
	static char *argv[] = {"wr-run", "--ledger", NULL, "--run", NULL, "--attempt", attempt, NULL};
	argv[2] = (char *)wr_ledger_name(&L);
	argv[4] = r->id;
	static char *env[] = {"WR_RUN", "WR_WORKFLOW", "WR_ATTEMPT", "WR_STAGES_DONE", "WR_PROGRESS_FD", NULL};
	*c = (struct wr_child)WR_CHILD_INIT;
	c->argv = argv;
	c->path = wr_run_path();
	c->env = env;
	c->in = nullfd;
	c->out = logfd;
	c->err_to_out = 1;
	c->dir_fd = cwdfd;
	c->detach = 1;
	c->hold = 1;
	c->keep_fd = lockfd;
	int ok = -1;
	if (wr_proc_start(c) < 0)
		wr_warnsys("unable to launch run %s: fork", r->id);
	else if (c->exec_stage)
		wr_warn("unable to launch run %s: the launcher failed", r->id);
	else
		ok = 0;
	close(nullfd);
	close(cwdfd);
	return ok;
}

/* Lets the held wr-run go; 0 when it was executed, -1 (warned) when not. */
static int launch_release(const char *id, struct wr_child *c)
{
	wr_proc_release(c, NULL);
	if (c->exec_stage == WR_PROC_EXEC) {
		errno = c->exec_errno;
		wr_warnsys("unable to run wr-run for run %s", id);
		return -1;
	}
	if (c->exec_stage) {
		wr_warn("unable to launch run %s: the launcher failed", id);
		return -1;
	}
	return 0;
}

/* The kill before a successor: the lost current attempt's group, when it
 * still runs on this host. 0 when nothing runs any more, -1 when it
 * survived. *killed is set when something was killed. */
static int kill_superseded(const struct wr_run *r, pid_t *killed)
{
	*killed = 0;
	const struct wr_attempt *a = wr_run_current(r);
	if (!a || !a->finished || a->outcome != WR_OUT_LOST)
		return 0;
	int64_t g = wr_attempt_kill_group(a, r->policy.kill_after_ms);
	if (g < 0) {
		wr_warn("run %s: process group %lld of lost attempt %lld survived SIGKILL; not launching its successor",
			r->id, (long long)a->pgid, (long long)a->n);
		return -1;
	}
	*killed = (pid_t)g;
	return 0;
}

/* The launch decision for the held wr-run c: records run.launched, or
 * says why not (q->action). Dies on a ledger error, the held wr-run
 * cancelled. */
static void decide_launch(const char *id, int manual, struct wr_child *c, struct wr_launch_req *q)
{
	*q = (struct wr_launch_req){0};
	q->run = id;
	q->manual = manual;
	q->host = wr_hostname();
	q->boot_id = wr_boot_id();
	q->pid = c->pid;
	q->pid_start = (int64_t)wr_pid_start(c->pid);
	q->proc = wr_proc_probe;
	if (wr_ledger_commit(&L, wr_decide_launch, q) < 0) {
		wr_proc_cancel(c);
		die_ledger();
	}
}

/* Launch step for one run: under its launch lock, re-read the ledger; if
 * the run is still due (or manual), kill a lost predecessor's group, start
 * wr-run held, record the launch (a decision: no other pass launches the
 * run while it is live) and let wr-run go. Returns 1 launched, 0 not (not
 * due, a launch under way), 2 the run was blocked (its launches were
 * lost), -1 failed. */
static int launch_run(const char *id, int manual, int64_t *attempt, char *extra, size_t nextra)
{
	int fd = launch_lock(id);
	if (fd < 0) {
		snprintf(extra, nextra, "a launch of this run is under way");
		return 0;
	}
	int ret = 0, logfd = -1, created = 0;
	char *log = NULL;
	if (wr_ledger_refresh(&L) < 0) {
		close(fd);
		die_ledger();
	}
	const struct wr_run *r = wr_state_run(wr_ledger_state(&L), id);
	if (!r || !(manual ? !wr_run_live(r) && !wr_status_ended(r->status) && r->status != WR_ST_BLOCKED
			   : wr_run_due(r, now_ms())))
		goto out;
	*attempt = (int64_t)r->natt + 1;
	pid_t killed;
	struct wr_child c;
	ret = -1;
	if (kill_superseded(r, &killed) < 0 || (logfd = open_log(r, &log, &created)) < 0 ||
	    launch_held(r, fd, logfd, &c) < 0)
		goto out;
	struct wr_launch_req q;
	decide_launch(id, manual, &c, &q);
	if (q.action != WR_RA_LAUNCH) {
		wr_proc_cancel(&c);
		ret = q.action == WR_RA_ESCALATE ? 2 : 0;
		if (q.action == WR_RA_WAIT)
			snprintf(extra, nextra, "a launch of this run is under way (wr-run pid %lld)", (long long)q.live_pid);
		else if (q.action == WR_RA_ESCALATE)
			snprintf(extra, nextra, "attempt %lld was launched %lld times and never started: blocked",
				 (long long)q.attempt, (long long)q.count);
		goto out;
	}
	if (launch_release(id, &c) < 0)
		goto out;
	created = 0;
	if (killed)
		snprintf(extra, nextra, "killed process group %ld of the lost attempt; attempt %lld, log %s",
			 (long)killed, (long long)*attempt, log);
	else if (q.count > 1)
		snprintf(extra, nextra, "attempt %lld launched again (the launch before ended before its start), log %s",
			 (long long)*attempt, log);
	else
		snprintf(extra, nextra, "attempt %lld, log %s", (long long)*attempt, log);
	ret = 1;
out:
	if (logfd >= 0)
		close(logfd);
	if (created)
		unlink(log); /* nothing was launched into it */
	free(log);
	close(fd);
	return ret;
}

/* What a launch would do, for a dry run: launch, or wait for a live one. */
static void dry_launch(const struct wr_run *r, char *extra, size_t nextra)
{
	if (wr_launch_live(r, now_ms(), wr_hostname(), wr_boot_id(), wr_proc_probe))
		snprintf(extra, nextra, "a launch of this run is under way (wr-run pid %lld)", (long long)r->launch.pid);
	else
		snprintf(extra, nextra, "would launch attempt %zu", r->natt + 1);
}

/* ---- the pass ---- */

static int proc_probe(int64_t pid, int64_t pid_start)
{
	return (int)wr_proc_check(pid, pid_start);
}

/* 1. Lost attempts, one decision, each said; then the leftovers of the
 * attempts recorded lost before this pass stop. */
static void pass_lost(void)
{
	struct wr_check_req creq = {0};
	creq.workflow = workflow_opt;
	creq.found = json_array();
	if (dry_run) {
		/* wr_check_lost's own dry run records nothing: decide on the
		 * state as read and apply the result in memory instead. */
		creq.host = wr_hostname();
		creq.boot_id = wr_boot_id();
		creq.proc = proc_probe;
		if (wr_ledger_refresh(&L) < 0)
			die_ledger();
		struct wr_batch b = {json_array(), 0};
		int64_t now = now_ms();
		if (wr_decide_check(wr_ledger_state(&L), now, &creq, &b) == 0)
			wr_ledger_apply_dry(&L, b.events, now);
		json_decref(b.events);
	} else if (wr_check_lost(&L, &creq) < 0) {
		die_ledger();
	}
	struct wr_view v = {.f = stdout, .json = json_out};
	size_t i;
	json_t *f;
	json_array_foreach(creq.found, i, f)
	{
		wr_action_lost(&v, f, dry_run);
	}
	json_decref(creq.found);
	if (dry_run)
		return;
	if (wr_ledger_refresh(&L) < 0)
		die_ledger();
	/* Attempts recorded lost before this pass (by wr-watch check, or a
	 * wr-run that found a dead slot holder): their leftovers stop now. */
	wr_kill_lost_leftovers(wr_ledger_state(&L), workflow_opt);
}

/* How the pass ended with a run. */
enum { RUN_GOES_ON, RUN_DONE, RUN_ACTED };

/* The decision on a run whose failure is undecided, into q: escalated or
 * waiting for the breaker is the end of the run in this pass. */
static int pass_decide(const char *id, struct wr_recover_req *q, int *blocked)
{
	const struct wr_run *r = wr_state_run(wr_ledger_state(&L), id);
	q->run = id;
	q->jitter = wr_random_unit();
	/* What the failed attempt printed, for an escalation. */
	q->output_attempt = (int64_t)r->natt;
	q->output = wr_outlog_tail_of(wr_ledger_name(&L), id, q->output_attempt);
	int dr = decide(wr_decide_recover, q);
	json_decref(q->output);
	if (dr < 0)
		die_ledger();
	r = wr_state_run(wr_ledger_state(&L), id);
	if (!r)
		return RUN_DONE;
	if (q->action == WR_RA_ESCALATE) {
		*blocked = 1;
		emit(r->id, r->workflow, q->attempt, "escalate", q->reason, q->recoveries, 0, 0, r->reason);
		return RUN_ACTED;
	}
	if (q->action == WR_RA_WAIT) {
		emit(r->id, r->workflow, q->attempt, "wait", q->reason, q->recoveries, q->not_before, 0,
		     "the workflow's breaker is open; decided after its cooldown");
		return RUN_DONE;
	}
	return RUN_GOES_ON;
}

/* 2. One run: a decision when its failure is undecided, then the launch
 * when its retry is due and the breaker admits it (trial: the workflows
 * whose breaker trial this pass launched). */
static int pass_run(const char *id, json_t *trial, int *blocked)
{
	const struct wr_run *r = wr_state_run(wr_ledger_state(&L), id);
	if (!r || (workflow_opt && strcmp(r->workflow, workflow_opt)))
		return RUN_DONE;
	struct wr_recover_req q = {0};
	if (wr_run_needs_decision(r)) {
		int d = pass_decide(id, &q, blocked);
		if (d != RUN_GOES_ON)
			return d;
		r = wr_state_run(wr_ledger_state(&L), id);
	}
	int decided = q.action == WR_RA_RETRY;
	int64_t now = now_ms();
	if (!wr_run_due(r, now)) {
		if (!decided)
			return RUN_DONE;
		emit(r->id, r->workflow, q.attempt, "retry", q.reason, q.recoveries, q.not_before, 0, NULL);
		return RUN_ACTED;
	}
	const struct wr_workflow *w = wr_state_workflow(wr_ledger_state(&L), r->workflow);
	int64_t wait_until = 0;
	const char *wait = wr_breaker_launch_wait(w, now, json_object_get(trial, r->workflow) != NULL, &wait_until);
	int64_t att = decided ? q.attempt : (int64_t)r->natt;
	const char *action = decided ? "retry" : "launch";
	const char *reason = decided ? q.reason : (r->rejected ? "relaunch after rejection" : "due");
	int64_t nb = decided ? q.not_before : r->next_retry_ts;
	int64_t rec = r->recoveries;
	if (wait) {
		if (decided)
			emit(r->id, r->workflow, att, action, reason, rec, nb, 0, NULL);
		emit(r->id, r->workflow, att, "wait", wait, rec, wait_until, 0, "the launch waits for the breaker");
		return RUN_DONE;
	}
	if (w && w->breaker != WR_BR_CLOSED)
		json_object_set_new(trial, r->workflow, json_true());
	char extra[PATH_MAX + 128] = "";
	int launched = 0;
	if (dry_run) {
		dry_launch(r, extra, sizeof extra);
	} else {
		int64_t next = 0;
		int lr = launch_run(id, 0, &next, extra, sizeof extra);
		launched = lr == 1;
		r = wr_state_run(wr_ledger_state(&L), id);
		if (!r)
			return RUN_DONE;
		if (lr == 2) {
			*blocked = 1;
			emit(r->id, r->workflow, next, "escalate", "launch_lost", rec, 0, 0, extra);
			return RUN_ACTED;
		}
	}
	emit(r->id, r->workflow, att, action, reason, rec, nb, launched, extra[0] ? extra : NULL);
	return RUN_ACTED;
}

static int pass(void)
{
	int blocked = 0;
	int64_t acted = 0;
	pass_lost();
	/* Ids are copied: a compaction may replace the state under a commit.
	 * The hot runs hold every run a pass can act on (ended ones are
	 * never retried or launched). */
	size_t n = wr_ledger_state(&L)->runs.n;
	char **ids = wr_xcalloc(n + 1, sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = wr_xstrdup(wr_map_key_at(&wr_ledger_state(&L)->runs, i));
	json_t *trial = json_object();
	for (size_t i = 0; i < n && (limit_opt < 0 || acted < limit_opt); i++)
		acted += pass_run(ids[i], trial, &blocked) == RUN_ACTED;
	json_decref(trial);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return blocked ? WR_EXIT_ATTENTION : WR_EXIT_OK;
}

/* ---- the verbs ---- */

static const struct wr_run *find_run(const char *arg)
{
	return wr_cli_find_run(wr_ledger_state(&L), arg, wr_ledger_name(&L));
}

static int refused(void)
{
	if (wr_errkind() != WR_E_REFUSED)
		die_ledger();
	fflush(stdout);
	wr_warn("%s", wr_errmsg());
	return WR_EXIT_ATTENTION;
}

/* A verb's decision fn on the run arg names, with q: 0 and *id the run's
 * full id (the caller frees it), or the exit status of a refusal. */
static int verb_decide(const char *arg, wr_decide_fn fn, struct wr_recover_req *q, char **id)
{
	*id = wr_xstrdup(find_run(arg)->id);
	q->run = *id;
	if (decide(fn, q) == 0)
		return 0;
	free(*id);
	*id = NULL;
	return refused();
}

static int cmd_retry(const char *arg)
{
	char *id;
	struct wr_recover_req q = {.force = force, .note = note_opt, .jitter = wr_random_unit()};
	int vr = verb_decide(arg, wr_decide_retry_manual, &q, &id);
	if (vr)
		return vr;
	const struct wr_run *r = wr_state_run(wr_ledger_state(&L), id);
	if (q.action == WR_RA_UNBLOCK)
		emit(id, r->workflow, q.attempt, "unblock", note_opt ? note_opt : "wr-recover retry --force", 0, q.not_before,
		     0, NULL);
	char extra[PATH_MAX + 128] = "";
	int launched = 0, rc = WR_EXIT_OK;
	int64_t next = (int64_t)r->natt + 1;
	if (dry_run) {
		dry_launch(r, extra, sizeof extra);
	} else {
		int lr = launch_run(id, 1, &next, extra, sizeof extra);
		launched = lr == 1;
		if (lr == 0 && !extra[0])
			snprintf(extra, sizeof extra, "not launched: the run is no longer waiting for a retry");
		if (!launched)
			rc = WR_EXIT_ATTENTION;
		r = wr_state_run(wr_ledger_state(&L), id);
	}
	emit(id, r ? r->workflow : NULL, q.attempt, q.action == WR_RA_RETRY ? "retry" : "launch", q.reason,
	     r ? r->recoveries : q.recoveries, q.not_before, launched, extra);
	free(id);
	return rc;
}

static int cmd_unblock(const char *arg)
{
	char *id;
	struct wr_recover_req q = {.note = note_opt};
	int vr = verb_decide(arg, wr_decide_unblock, &q, &id);
	if (vr)
		return vr;
	const struct wr_run *r = wr_state_run(wr_ledger_state(&L), id);
	const struct wr_workflow *w = wr_state_workflow(wr_ledger_state(&L), r->workflow);
	struct wr_buf b = {0};
	if (w && w->breaker != WR_BR_CLOSED) {
		/* the pass would wait, and say nothing: say it now */
		wr_buf_addstr(&b, "the workflow's breaker is ");
		wr_words_breaker(&b, w, wr_now_ms());
		wr_buf_addstr(&b, "; the retry waits for it ('wr-recover breaker ");
		wr_buf_addstr(&b, r->workflow);
		wr_buf_addstr(&b, " reset' closes it now)");
	} else {
		wr_buf_addstr(&b, "the next pass retries it");
	}
	emit(id, r->workflow, q.attempt, "unblock", note_opt, 0, q.not_before, 0, wr_buf_str(&b));
	wr_buf_free(&b);
	free(id);
	return WR_EXIT_OK;
}

static int cmd_cancel(const char *arg)
{
	char *id;
	struct wr_recover_req q = {.note = reason_opt};
	int vr = verb_decide(arg, wr_decide_cancel, &q, &id);
	if (vr)
		return vr;
	const struct wr_run *r = wr_state_run(wr_ledger_state(&L), id);
	char extra[256] = "";
	pid_t g = q.kill_pgid ? group_here(q.kill_host, q.kill_boot_id, q.kill_pgid, q.kill_pgid_start) : 0;
	if (g && dry_run) {
		snprintf(extra, sizeof extra, "would kill process group %ld", (long)g);
	} else if (g) {
		if (wr_group_kill(g, q.kill_pgid_start, q.kill_after_ms) < 0)
			wr_warn("run %s: process group %ld survived SIGKILL", id, (long)g);
		snprintf(extra, sizeof extra, "killed process group %ld", (long)g);
	} else if (q.kill_host && strcmp(q.kill_host, wr_hostname())) {
		snprintf(extra, sizeof extra, "its live attempt runs on host %.64s, not on this host: not killed",
			 q.kill_host);
	} else if (q.kill_host) {
		snprintf(extra, sizeof extra, "its live attempt's process group is not running here: nothing killed");
	}
	emit(id, r->workflow, q.attempt, "cancel", reason_opt, q.recoveries, 0, 0, extra[0] ? extra : NULL);
	free(id);
	return WR_EXIT_OK;
}

static int cmd_breaker(const char *wf, const char *verb)
{
	if (strcmp(verb, "reset"))
		wr_usage_error(WR_EXIT_USAGE, "unknown breaker verb '%s' (say 'wr-recover breaker %s reset')", verb, wf);
	char *name = wr_id_nfc(wf);
	if (!name)
		wr_usage_error(WR_EXIT_USAGE, "workflow '%s' is not valid UTF-8", wf);
	struct wr_breaker_req q = {name, 0, NULL};
	if (decide(wr_decide_breaker_reset, &q) < 0) {
		free(name);
		return refused();
	}
	char what[64];
	snprintf(what, sizeof what, "was %s, now closed", q.changed && q.from ? q.from : "closed");
	for (char *u = strchr(what, '_'); u; u = strchr(u, '_'))
		*u = ' '; /* half_open: half open */
	emit(NULL, name, 0, "breaker", q.changed ? what : "already closed: nothing changed", 0, 0, 0,
	     q.changed ? "starts are admitted again" : NULL);
	free(name);
	return WR_EXIT_OK;
}

static char *dir_of_self(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	return wr_xstrdup(buf[0] ? buf : "/");
}

/* The options into the globals; returns the index of the verb. */
static int recover_opts(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"workflow", required_argument, NULL, 'w'},
		{"limit", required_argument, NULL, 'l'},
		{"force", no_argument, NULL, 'f'},
		{"note", required_argument, NULL, 'N'},
		{"reason", required_argument, NULL, 'R'},
		WR_CLI_OPTS_END,
	};
	static const struct wr_cli_common co = {&ledger_opt, &json_out, {usage, NULL, NULL}};
	int c;
	while ((c = wr_cli_next(&co, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 'n':
			dry_run = 1;
			break;
		case 'w':
			workflow_opt = optarg;
			break;
		case 'l':
			limit_opt = wr_cli_int("limit", optarg, 0, INT64_MAX);
			break;
		case 'f':
			force = 1;
			break;
		case 'N':
			note_opt = optarg;
			break;
		case 'R':
			reason_opt = optarg;
			break;
		}
	}
	if (note_opt && !wr_utf8_valid(note_opt, strlen(note_opt)))
		wr_usage_error(WR_EXIT_USAGE, "--note is not valid UTF-8");
	if (reason_opt && !wr_utf8_valid(reason_opt, strlen(reason_opt)))
		wr_usage_error(WR_EXIT_USAGE, "--reason is not valid UTF-8");
	return optind;
}

/* The verb (NULL: a pass) takes its arguments and the options given. */
static void check_verb(const char *verb, int nargs, char **args)
{
	int want = -1;
	if (!verb)
		want = 0;
	else if (!strcmp(verb, "retry") || !strcmp(verb, "unblock") || !strcmp(verb, "cancel"))
		want = 1;
	else if (!strcmp(verb, "breaker"))
		want = 2;
	else {
		static const char *const verbs[] = {"retry", "unblock", "cancel", "breaker", NULL};
		const char *s = wr_suggest(verb, verbs);
		if (s)
			wr_usage_error(WR_EXIT_USAGE, "unknown command '%s'; did you mean '%s'?", verb, s);
		wr_usage_error(WR_EXIT_USAGE, "unknown command '%s' (retry, unblock, cancel or breaker; none for a pass)",
			       verb);
	}
	if (nargs != want) {
		if (want == 2)
			wr_usage_error(WR_EXIT_USAGE, "usage: wr-recover breaker WORKFLOW reset");
		if (nargs < want)
			wr_usage_error(WR_EXIT_USAGE, "%s needs a RUN", verb);
		wr_usage_error(WR_EXIT_USAGE, "unexpected argument '%s'", args[want]);
	}
	if (force && (!verb || strcmp(verb, "retry")))
		wr_usage_error(WR_EXIT_USAGE, "--force goes with retry");
	if (note_opt && (!verb || (strcmp(verb, "unblock") && strcmp(verb, "retry"))))
		wr_usage_error(WR_EXIT_USAGE, "--note goes with unblock (or retry --force)");
	if (reason_opt && (!verb || strcmp(verb, "cancel")))
		wr_usage_error(WR_EXIT_USAGE, "--reason goes with cancel");
	if ((workflow_opt || limit_opt >= 0) && verb)
		wr_usage_error(WR_EXIT_USAGE, "--workflow and --limit go with a pass, not with %s", verb);
}

int wr_main(int argc, char **argv)
{
	wr_cli_init("wr-recover", 0);
	int first = recover_opts(argc, argv);
	const char *verb = first < argc ? argv[first] : NULL;
	int nargs = argc - first - (verb ? 1 : 0);
	char **args = argv + first + (verb ? 1 : 0);
	char *wf = NULL;
	if (workflow_opt && !(wf = wr_id_nfc(workflow_opt)))
		wr_usage_error(WR_EXIT_USAGE, "--workflow is not valid UTF-8");
	workflow_opt = wf;
	check_verb(verb, nargs, args);

	self_dir = dir_of_self();
	/* A pass creates no ledger: a missing one is a wrong path (cron's
	 * HOME), and saying "nothing to recover" would hide it. */
	if (wr_ledger_open(&L, ledger_opt, dry_run ? 0 : WR_LEDGER_WRITE | WR_LEDGER_EXISTING) < 0)
		die_ledger();
	int rc;
	if (!verb)
		rc = pass();
	else if (!strcmp(verb, "retry"))
		rc = cmd_retry(args[0]);
	else if (!strcmp(verb, "unblock"))
		rc = cmd_unblock(args[0]);
	else if (!strcmp(verb, "cancel"))
		rc = cmd_cancel(args[0]);
	else
		rc = cmd_breaker(args[0], args[1]);
	wr_ledger_close(&L);
	free(wf);
	free(self_dir);
	return rc;
}
