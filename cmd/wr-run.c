/* wr-run - one supervised attempt of a command, recorded in the ledger.
 *
 * Order of work: the child is forked first and held before exec (it blocks
 * reading a pipe), so that attempt.started can carry its process group;
 * only after that decision is committed does the parent release it, sending
 * the WR_* environment down the same pipe. A failed commit closes the pipe
 * unwritten and the command never runs. Then one poll() loop passes the
 * child's output through, reads progress lines, heartbeats, and enforces
 * the timeout, the stuck rules and forwarded signals, until the child is
 * reaped and its process group is gone; wait4 gives the rusage for
 * attempt.finished. All decisions are in core/decide_run.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "output.h"
#include "sysinfo.h"
#include "text.h"
#include "timefmt.h"
#include "uuid.h"
#include "run.h"

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

int wr_main(int argc, char **argv)
{
	wr_cli_init("wr-run", 1);
	/* wr_main runs once per process; what it sets up lives until exit
	 * (static, so reachable for the leak checker after it returns). */
	static struct opts o;
	int first = parse_opts(argc, argv, &o);
	char **cmd = argv + first;
	int ncmd = argc - first;
	if (!o.run && ncmd == 0)
		wr_usage_error(EXIT_FAILED, "missing COMMAND: write 'wr-run [options] -- COMMAND [ARG]...'");

	static struct sup S;
	memset(&S, 0, sizeof S);
	S.logfd = -1;
	if (wr_ledger_open(&S.l, o.ledger, WR_LEDGER_WRITE) < 0)
		wr_die(EXIT_FAILED, "%s", wr_errmsg());

	static struct wr_start_req q;
	static char run_id[WR_UUID_LEN];
	static json_t *jargv;
	static char *cwd, *workflow, *run_dir;
	static char **exec_argv;
	exec_argv = cmd;
	if (o.run) {
		/* The run's command, directory and policy are fixed at creation:
		 * read them here; the decision checks its status under the lock. */
		if (o.policy_opt)
			wr_usage_error(EXIT_FAILED,
				       "--%s cannot be used with --run: a run keeps the policy and labels it was created "
				       "with (see 'wr-watch show %s')",
				       o.policy_opt, o.run);
		struct wr_run *r = wr_cli_find_run(&S.l.st, o.run, S.l.path);
		if (o.workflow) {
			char *w = wr_id_nfc(o.workflow);
			if (!w || strcmp(w, r->workflow))
				wr_die(EXIT_FAILED, "run %s belongs to workflow %s, not %s; leave out --workflow", r->id,
				       r->workflow, o.workflow);
			free(w);
		}
		size_t n = json_array_size(r->argv);
		if (ncmd) {
			int same = (size_t)ncmd == n;
			for (size_t i = 0; same && i < n; i++)
				same = !strcmp(json_string_value(json_array_get(r->argv, i)), cmd[i]);
			if (!same)
				wr_die(EXIT_FAILED, "run %s was created with another command; leave out COMMAND to run the "
						    "recorded one (see 'wr-watch show %s')",
				       r->id, r->id);
		} else {
			exec_argv = wr_xcalloc(n + 1, sizeof *exec_argv);
			for (size_t i = 0; i < n; i++)
				exec_argv[i] = wr_xstrdup(json_string_value(json_array_get(r->argv, i)));
		}
		if (n == 0)
			wr_die(EXIT_FAILED, "run %s has no command recorded", r->id);
		/* The child changes to it: when it is gone, that is a failed
		 * attempt (recorded, counted, escalated in the end), not a retry
		 * that silently never starts. */
		run_dir = wr_xstrdup(r->cwd);
		json_t *pj = wr_policy_to_json(&r->policy);
		wr_policy_free(&o.pol);
		wr_policy_from_json(&o.pol, pj);
		json_decref(pj);
		q.run = o.run;
	} else {
		jargv = argv_json(cmd, ncmd);
		cwd = getcwd(NULL, 0);
		if (!cwd)
			wr_diesys(EXIT_FAILED, "unable to get the current directory");
		if (!wr_utf8_valid(cwd, strlen(cwd)))
			wr_die(EXIT_FAILED, "the current directory's name is not valid UTF-8; the ledger records it as UTF-8");
		const char *wf = o.workflow;
		if (!wf) {
			const char *slash = strrchr(cmd[0], '/');
			wf = slash && slash[1] ? slash + 1 : cmd[0];
		}
		workflow = wr_id_nfc(wf);
		if (!workflow || !*workflow || strlen(workflow) > 256)
			wr_die(EXIT_FAILED, "invalid workflow name '%s': it must be 1 to 256 bytes of UTF-8%s", wf,
			       o.workflow ? "" : "; name one with --workflow");
		q.run = wr_uuid7(run_id);
		q.is_new = 1;
		q.workflow = workflow;
		q.argv = jargv;
		q.cwd = cwd;
		q.labels = o.labels;
		q.policy = &o.pol;
	}
	S.pol = o.pol;
	if (o.log) {
		S.logfd = open(o.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (S.logfd < 0)
			wr_diesys(EXIT_FAILED, "unable to open log file %s", o.log);
	}

	setup_signals();
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	S.foreground = o.foreground;
	S.verbose = o.verbose;
	S.cmd_name = exec_argv[0];
	spawn_held(&S.c, exec_argv, run_dir, o.foreground);
	q.wait = o.wait;
	q.want_attempt = o.attempt;
	q.expect = o.expect;
	q.expect_every_ms = o.expect_every_ms;
	q.expect_grace_ms = o.expect_grace_ms;
	q.host = wr_hostname();
	q.boot_id = wr_boot_id();
	q.pid = getpid();
	q.pid_start = (int64_t)wr_pid_start(getpid());
	/* With --foreground the command is in wr-run's own group: nobody may
	 * kill that group for it later. */
	q.pgid = o.foreground ? 0 : S.c.pid;
	q.pgid_start = o.foreground ? 0 : (int64_t)wr_pid_start(S.c.pid);
	q.proc = wr_proc_probe;

	int rc = run_start(&S, &q, o.wait);
	if (rc)
		return rc;

	int64_t t0 = run_release(&S, &q);
	int exec_errno = S.c.exec_errno;

	/* The timeout counts from the start; the run's deadline caps it. */
	int64_t hard_end = S.pol.timeout_ms ? t0 + S.pol.timeout_ms : 0;
	if (q.deadline_at) {
		int64_t d = t0 + (q.deadline_at - wr_now_ms());
		S.by_deadline = !hard_end || d < hard_end;
		hard_end = min_t(hard_end, d);
	}

	S.st[0] = (struct stream){.name = "stdout", .fd = S.c.out};
	stream_dest(&S.st[0], 1);
	S.nstreams = 1;
	if (S.c.err >= 0) {
		S.st[1] = (struct stream){.name = "stderr", .fd = S.c.err};
		stream_dest(&S.st[1], 2);
		S.nstreams = 2;
	}
	for (int i = 0; i < S.nstreams; i++) {
		S.st[i].buf = wr_xmalloc(IOBUF);
		S.st[i].cur_match = 1;
		if (S.pol.stuck_repeat) {
			S.st[i].cur = wr_xmalloc(LINE_CAP);
			S.st[i].prev = wr_xmalloc(LINE_CAP);
		}
	}
	S.pline = wr_xmalloc(PROGRESS_CAP);

	static struct wr_end_req end;
	end.run = S.run;
	end.fin.attempt = S.attempt;
	end.fin.cpu_ms = end.fin.max_rss_kb = end.fin.output_bytes = -1;
	if (exec_errno) {
		while (waitpid(S.c.pid, &S.status, 0) < 0 && errno == EINTR)
			;
		S.reaped = 1;
		if (S.c.exec_stage == WR_PROC_CHDIR) {
			rc = EXIT_FAILED;
			wr_warn("unable to change to the run's directory %s: %s", run_dir, strerror(exec_errno));
			S.end_reason = wr_xasprintf("cannot change to the run's directory %s: %s", run_dir,
						    strerror(exec_errno));
			end.fin.exit_code = -1; /* the command never ran */
		} else {
			rc = exec_errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
			wr_warn("unable to run %s: %s", exec_argv[0], strerror(exec_errno));
			S.end_reason = wr_xasprintf("%s %s: %s",
						    rc == EXIT_NOTFOUND ? "command not found:" : "cannot execute",
						    exec_argv[0], strerror(exec_errno));
			end.fin.exit_code = rc;
		}
		end.fin.outcome = WR_OUT_ERROR;
		end.fin.duration_ms = wr_mono_ms() - t0;
		end.fin.output_bytes = 0;
	} else {
		supervise(&S, t0, hard_end);
		end.fin.duration_ms = wr_mono_ms() - t0;
		end.fin.cpu_ms = ((int64_t)S.ru.ru_utime.tv_sec + S.ru.ru_stime.tv_sec) * 1000 +
				 ((int64_t)S.ru.ru_utime.tv_usec + S.ru.ru_stime.tv_usec) / 1000;
		end.fin.max_rss_kb = S.ru.ru_maxrss;
		end.fin.output_bytes = S.output_bytes;
		end.fin.exit_code = WIFEXITED(S.status) ? WEXITSTATUS(S.status) : -1;
		end.fin.signal = WIFSIGNALED(S.status) ? WTERMSIG(S.status) : 0;
		rc = attempt_outcome(&S, &end.fin, o.preserve_status);
	}
	return run_finish(&S, &end, rc);
}
