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
#include <fcntl.h>
#include <sys/prctl.h>

#include "cli.h"
#include "err.h"
#include "run.h"

static void open_log(struct sup *S, const char *log)
{
	S->logfd = -1;
	if (!log)
		return;
	S->logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (S->logfd < 0)
		wr_diesys(EXIT_FAILED, "unable to open log file %s", log);
}

int wr_main(int argc, char **argv)
{
	wr_cli_init("wr-run", 1);
	/* wr_main runs once per process; what it sets up lives until exit
	 * (static, so reachable for the leak checker after it returns). */
	static struct opts o;
	static struct sup S;
	static struct job j;
	static struct wr_end_req end;
	int first = parse_opts(argc, argv, &o);
	if (!o.run && first == argc)
		wr_usage_error(EXIT_FAILED, "missing COMMAND: write 'wr-run [options] -- COMMAND [ARG]...'");
	signals_at_start();
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* A new run's command is forked before the ledger is read: the copy
	 * is of a small process, and the state read after it is the parent's
	 * own, not pages shared and copied on write (1000 runs, 50 at a
	 * time: 6% less time, BENCHMARKS.md). Whatever refuses the run from
	 * here on closes the hold pipe unwritten: the command never runs. A
	 * run continued with --run has its command in the ledger. */
	if (!o.run)
		spawn_held(&S.c, argv + first, NULL, o.foreground);
	if (wr_ledger_open(&S.l, o.ledger, WR_LEDGER_WRITE) < 0)
		wr_die(EXIT_FAILED, "%s", wr_errmsg());
	if (o.run)
		plan_continue(&o, &S, &j, argv + first, argc - first);
	else
		plan_new(&o, &j, argv + first, argc - first);
	S.pol = o.pol;
	open_log(&S, o.log);

	setup_signals();
	S.foreground = o.foreground;
	S.verbose = o.verbose;
	S.cmd_name = j.argv[0];
	if (o.run)
		spawn_held(&S.c, j.argv, j.dir, o.foreground);
	plan_facts(&j, &S, &o);
	int rc = run_start(&S, &j.q, o.wait);
	if (rc)
		return rc;
	if (tell_id_wanted(&o))
		tell_started(&S);
	outlog_start(&S);

	int64_t t0 = run_release(&S, &j.q);
	int64_t hard_end = attempt_hard_end(&S, &j.q, t0);
	streams_init(&S);
	if (o.quiet_on_success)
		S.quiet = quiet_new(wr_ledger_name(&S.l));
	if (S.c.exec_errno)
		rc = attempt_unrun(&S, &j, &end, t0);
	else
		rc = attempt_supervised(&S, &end, t0, hard_end, o.preserve_status);
	rc = run_finish(&S, &end, rc);
	/* Printed once the end is recorded: what the command wrote, unless it
	 * succeeded (chronic). */
	quiet_end(S.quiet, end.fin.outcome != WR_OUT_SUCCESS);
	S.quiet = NULL;
	if (end.fin.outcome != WR_OUT_SUCCESS && !end.fenced)
		tell_retry(&S);
	return rc;
}
