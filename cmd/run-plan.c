/* run-plan.c - what wr-run runs (a new run, or the next attempt of --run)
 * and how an attempt ends once the command is gone. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "sysinfo.h"
#include "text.h"
#include "timefmt.h"
#include "uuid.h"
#include "run.h"

/* ---- what to run ---- */

/* COMMAND given with --run must be the recorded one; without COMMAND the
 * recorded one runs. */
static char **recorded_argv(const struct wr_run *r, char **cmd, int ncmd)
{
	size_t n = json_array_size(r->argv);
	if (n == 0)
		wr_die(EXIT_FAILED, "run %s has no command recorded", r->id);
	if (ncmd) {
		int same = (size_t)ncmd == n;
		for (size_t i = 0; same && i < n; i++)
			same = !strcmp(json_string_value(json_array_get(r->argv, i)), cmd[i]);
		if (!same)
			wr_die(EXIT_FAILED, "run %s was created with another command; leave out COMMAND to run the "
					    "recorded one (see 'wr-watch show %s')",
			       r->id, r->id);
		return cmd;
	}
	char **argv = wr_xcalloc(n + 1, sizeof *argv);
	for (size_t i = 0; i < n; i++)
		argv[i] = wr_xstrdup(json_string_value(json_array_get(r->argv, i)));
	return argv;
}

void plan_continue(struct opts *o, struct sup *S, struct job *j, char **cmd, int ncmd)
{
	/* The run's command, directory and policy are fixed at creation:
	 * read them here; the decision checks its status under the lock. */
	if (o->policy_opt)
		wr_usage_error(EXIT_FAILED,
			       "--%s cannot be used with --run: a run keeps the policy and labels it was created "
			       "with (see 'wr-watch show %s')",
			       o->policy_opt, o->run);
	struct wr_run *r = wr_cli_find_run(wr_ledger_state(&S->l), o->run, wr_ledger_name(&S->l));
	if (o->workflow) {
		char *w = wr_id_nfc(o->workflow);
		if (!w || strcmp(w, r->workflow))
			wr_die(EXIT_FAILED, "run %s belongs to workflow %s, not %s; leave out --workflow", r->id,
			       r->workflow, o->workflow);
		free(w);
	}
	j->argv = recorded_argv(r, cmd, ncmd);
	/* The child changes to it: when it is gone, that is a failed attempt
	 * (recorded, counted, escalated in the end), not a retry that
	 * silently never starts. */
	j->dir = wr_xstrdup(r->cwd);
	json_t *pj = wr_policy_to_json(&r->policy);
	wr_policy_free(&o->pol);
	wr_policy_from_json(&o->pol, pj);
	json_decref(pj);
	j->q.run = o->run;
}

void plan_new(struct opts *o, struct job *j, char **cmd, int ncmd)
{
	j->argv = cmd;
	json_t *jargv = argv_json(cmd, ncmd);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		wr_diesys(EXIT_FAILED, "unable to get the current directory");
	if (!wr_utf8_valid(cwd, strlen(cwd)))
		wr_die(EXIT_FAILED, "the current directory's name is not valid UTF-8; the ledger records it as UTF-8");
	const char *wf = o->workflow;
	if (!wf) {
		const char *slash = strrchr(cmd[0], '/');
		wf = slash && slash[1] ? slash + 1 : cmd[0];
	}
	char *workflow = wr_id_nfc(wf);
	if (!workflow || !*workflow || strlen(workflow) > 256)
		wr_die(EXIT_FAILED, "invalid workflow name '%s': it must be 1 to 256 bytes of UTF-8%s", wf,
		       o->workflow ? "" : "; name one with --workflow");
	j->q.run = wr_uuid7(j->run_id);
	j->q.is_new = 1;
	j->q.workflow = workflow;
	j->q.argv = jargv;
	j->q.cwd = cwd;
	j->q.labels = o->labels;
	j->q.policy = &o->pol;
}

void plan_facts(struct job *j, const struct sup *S, const struct opts *o)
{
	struct wr_start_req *q = &j->q;
	q->wait = o->wait;
	q->want_attempt = o->attempt;
	q->expect = o->expect;
	q->expect_every_ms = o->expect_every_ms;
	q->expect_grace_ms = o->expect_grace_ms;
	q->host = wr_hostname();
	q->boot_id = wr_boot_id();
	q->pid = getpid();
	q->pid_start = (int64_t)wr_pid_start(getpid());
	/* With --foreground the command is in wr-run's own group: nobody may
	 * kill that group for it later. */
	q->pgid = o->foreground ? 0 : S->c.pid;
	q->pgid_start = o->foreground ? 0 : (int64_t)wr_pid_start(S->c.pid);
	q->proc = wr_proc_probe;
}

/* ---- the end of the attempt ---- */

int64_t attempt_hard_end(struct sup *S, const struct wr_start_req *q, int64_t t0)
{
	/* The timeout counts from the start; the run's deadline caps it. */
	int64_t hard_end = S->pol.timeout_ms ? t0 + S->pol.timeout_ms : 0;
	if (q->deadline_at) {
		int64_t d = t0 + (q->deadline_at - wr_now_ms());
		S->by_deadline = !hard_end || d < hard_end;
		hard_end = min_t(hard_end, d);
	}
	return hard_end;
}

static void end_init(const struct sup *S, struct wr_end_req *end)
{
	end->run = S->run;
	end->fin.attempt = S->attempt;
	end->fin.cpu_ms = end->fin.max_rss_kb = end->fin.output_bytes = -1;
}

int attempt_unrun(struct sup *S, const struct job *j, struct wr_end_req *end, int64_t t0)
{
	int rc, err = S->c.exec_errno;
	end_init(S, end);
	while (waitpid(S->c.pid, &S->status, 0) < 0 && errno == EINTR)
		;
	S->reaped = 1;
	if (S->c.exec_stage == WR_PROC_CHDIR) {
		rc = EXIT_FAILED;
		wr_warn("unable to change to the run's directory %s: %s", j->dir, strerror(err));
		S->end_reason = wr_xasprintf("cannot change to the run's directory %s: %s", j->dir, strerror(err));
		end->fin.exit_code = -1; /* the command never ran */
	} else {
		rc = err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
		wr_warn("unable to run %s: %s", j->argv[0], strerror(err));
		S->end_reason = wr_xasprintf("%s %s: %s", rc == EXIT_NOTFOUND ? "command not found:" : "cannot execute",
					     j->argv[0], strerror(err));
		end->fin.exit_code = rc;
	}
	end->fin.outcome = WR_OUT_ERROR;
	end->fin.duration_ms = wr_mono_ms() - t0;
	end->fin.output_bytes = 0;
	return rc;
}

/* The outcome of a supervised attempt into fin, and wr-run's exit status:
 * timeout(1)'s 124, or 137 when the command had to be killed with SIGKILL
 * (the ledger says timeout either way, with the signal); with
 * --preserve-status the command's own status. */
static int attempt_outcome(struct sup *S, struct wr_finish *fin, int preserve_status)
{
	int own = WIFEXITED(S->status) ? WEXITSTATUS(S->status) : 128 + WTERMSIG(S->status);
	int by_kill = WIFSIGNALED(S->status) && WTERMSIG(S->status) == SIGKILL;
	switch (S->ending) {
	case WR_OUT_TIMEOUT:
		fin->outcome = WR_OUT_TIMEOUT;
		if (S->killed && by_kill) {
			char *r = wr_xasprintf("%s; killed with SIGKILL after the grace of %lldms", S->end_reason,
					       (long long)S->pol.kill_after_ms);
			free(S->end_reason);
			S->end_reason = r;
		}
		return preserve_status || by_kill ? own : EXIT_TIMEOUT;
	case WR_OUT_STUCK:
		fin->outcome = WR_OUT_STUCK;
		return EXIT_STUCK;
	case WR_OUT_CANCELLED:
		/* Stopped because another process ended the attempt: what the
		 * command itself did (run_finish). */
		fin->outcome = WR_OUT_CANCELLED;
		return S->fenced ? command_status(S, 128 + SIGTERM) : 128 + S->cancel_sig;
	default:
		if (WIFEXITED(S->status)) {
			fin->outcome = own == 0 ? WR_OUT_SUCCESS : WR_OUT_ERROR;
		} else {
			fin->outcome = WR_OUT_ERROR;
			S->end_reason = wr_xasprintf("died of signal %d (%s)", WTERMSIG(S->status),
						     strsignal(WTERMSIG(S->status)));
		}
		return own;
	}
}

int attempt_supervised(struct sup *S, struct wr_end_req *end, int64_t t0, int64_t hard_end, int preserve_status)
{
	end_init(S, end);
	supervise(S, t0, hard_end);
	end->fin.duration_ms = wr_mono_ms() - t0;
	end->fin.cpu_ms = ((int64_t)S->ru.ru_utime.tv_sec + S->ru.ru_stime.tv_sec) * 1000 +
			  ((int64_t)S->ru.ru_utime.tv_usec + S->ru.ru_stime.tv_usec) / 1000;
	end->fin.max_rss_kb = S->ru.ru_maxrss;
	end->fin.output_bytes = S->output_bytes;
	end->fin.exit_code = WIFEXITED(S->status) ? WEXITSTATUS(S->status) : -1;
	end->fin.signal = WIFSIGNALED(S->status) ? WTERMSIG(S->status) : 0;
	return attempt_outcome(S, &end->fin, preserve_status);
}
