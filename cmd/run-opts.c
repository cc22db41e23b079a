/* run-opts.c - wr-run's usage and options. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "suggest.h"
#include "output.h"
#include "text.h"
#include "signame.h"
#include "timefmt.h"
#include "run.h"

static const char usage_head[] =
	"Usage: wr-run [options] -- COMMAND [ARG]...\n"
	"       wr-run [options] --run ID [-- COMMAND [ARG]...]\n"
	"\n"
	"Run COMMAND once, supervised, and record the attempt in the ledger:\n"
	"run.created (a new run) or the next attempt of --run ID, attempt.started,\n"
	"heartbeats, progress and attempt.finished with its resource usage.\n"
	"COMMAND is executed directly (PATH lookup, never a shell) in its own process\n"
	"group; its stdout and stderr pass through byte for byte.\n"
	"\n"
	"Options:\n"
	"  --workflow NAME       workflow of a new run (default: COMMAND's basename)\n"
	"  --run ID              continue run ID (a unique prefix, or the short id of\n"
	"                        wr-watch tables) as its next attempt, with the\n"
	"                        policy, command and directory it was created with;\n"
	"                        policy options are refused then; before the run's\n"
	"                        retry is due it starts nothing and exits 75\n"
	"                        ('wr-recover retry ID' starts it at once)\n"
	"  --attempt N           with --run: start attempt N or nothing (exit 75 when\n"
	"                        the run's next attempt is another): wr-recover\n"
	"                        launches retries so, and two launches start one\n"
	"  --timeout DUR         kill the attempt DUR after it started (absolute:\n"
	"                        heartbeats and progress never extend it); also bounds\n"
	"                        the wait for a concurrency slot (default, and 0: none)\n"
	"  -s, --signal SIG      the signal sent at the timeout, the deadline and a\n"
	"                        stuck abort: a name (TERM, HUP, KILL) or number (TERM)\n"
	"  -k, --kill-after DUR  grace between that signal and SIGKILL (default 10s;\n"
	"                        0: SIGKILL at once)\n"
	"  --preserve-status     exit with COMMAND's status even when it timed out\n"
	"  --foreground          leave COMMAND in wr-run's process group, so that it\n"
	"                        can read the terminal and gets job-control signals;\n"
	"                        its own children are then neither timed out nor\n"
	"                        killed when it ends (see wr-run(1))\n"
	"  -v, --verbose         say on stderr each signal sent to COMMAND\n"

	"  --heartbeat DUR       record a heartbeat every DUR (default 30s)\n"
	"  --lease DUR           each heartbeat extends the lease by DUR; an attempt\n"
	"                        whose lease ran out may be declared lost (default 2m)\n"
	"  --stuck-repeat N      stuck when the same output line comes N times in a row\n"
	"                        on stdout or on stderr (each stream on its own)\n"
	"  --no-progress DUR     stuck when no progress line came for DUR\n"
	"  --stuck-repeat-tool N stuck (repeated_tool_call) when the same tool call,\n"
	"                        name and arguments, comes N times in a row on the\n"
	"                        progress fd\n"
	"  --no-progress-turns N stuck (no_progress) when N turns ended without a\n"
	"                        stage line\n"
	"  --no-output DUR       stuck when neither stdout nor stderr got a byte for DUR\n"
	"  --stuck-action A      abort (default: kill, outcome stuck, exit 123) or\n"
	"                        notify (record it, enqueue a notification, go on);\n"
	"                        for every stuck detector\n"
	"  --max-turns N         end the attempt when turn N ended: outcome timeout,\n"
	"                        reason_code max_turns, exit 124\n"
	"  --max-attempts N      attempts for the run in all, for wr-recover (default 3)\n"
	"  --backoff I[,F[,M]]   retry backoff: initial, factor, max (30s,2,1h);\n"
	"                        0 retries at once\n"
	"  --deadline DUR        the whole run, across all attempts, ends DUR after it\n"
	"                        was created\n"
	"  --no-retry-on CODES   exit codes that are final, e.g. 2,64 (126 and 127\n"
	"                        always are)\n"
	"  --concurrency N       at most N running attempts of the workflow; at the\n"
	"                        limit, --wait (default) queues and --no-wait rejects\n"
	"  --wait, --no-wait\n";

static const char usage_more[] =
	"  --quiet-on-success    print nothing when the attempt succeeds; else print\n"
	"                        its whole output afterwards (as chronic)\n"
	"  --print-id            say the run id on stderr as the attempt starts\n"
	"                        (always on a terminal, unless --quiet-on-success)\n"
	"  --expect-every DUR    expect the workflow to succeed every DUR: 'wr-watch\n"
	"                        check' records it overdue when no attempt succeeded\n"
	"                        within DUR plus --grace (the latest setting wins)\n"
	"  --grace DUR           slack after each due time (default 0)\n"
	"  --log FILE            append the output to FILE as well (created 0600)\n"
	"  --label K=V           a label of the new run (repeatable)\n"
	"  --ledger PATH         the ledger (default $WR_LEDGER, else\n"
	"                        ${XDG_STATE_HOME:-~/.local/state}/wr/ledger.jsonl)\n"
	"  -h, --help            show this help\n"
	"      --version         show the version\n";

static const char usage_tail[] =
	"\n"
	"Durations, as timeout(1): a number, maybe with a fraction or an exponent,\n"
	"and a unit s (the default), m, h, d or ms: 90, 1.5h, 2.5e1m, 250ms; units\n"
	"add up: 1h30m. Below 1 ms is 1 ms; too large to represent, or inf, is for\n"
	"ever.\n"
	"\n"
	"COMMAND gets WR_LEDGER, WR_RUN, WR_WORKFLOW, WR_ATTEMPT, WR_STAGES_DONE\n"
	"(comma-separated stages done by earlier attempts), WR_PROGRESS_FD=3, a pipe\n"
	"for progress lines, and WR_PROGRESS_VERSION=2, their protocol:\n"
	"  {\"stage\":\"fetch\",\"status\":\"started|done\"}   a step (v1)\n"
	"  {\"turn\":N}                                  turn N ended (v2)\n"
	"  {\"tool\":\"NAME\",\"args\":\"...\"}                a tool call (v2)\n"
	"  {\"metric\":\"NAME\",\"value\":N}                 summed per attempt (v2)\n"
	"Turns, tool calls and metrics are recorded as totals in heartbeats and in\n"
	"attempt.finished; bad lines are reported and ignored.\n"
	"\n"
	"Signals TERM, INT, HUP and QUIT (and ALRM, XCPU, XFSZ, VTALRM, PROF, PWR)\n"
	"are passed to COMMAND's process group and end the attempt as cancelled;\n"
	"USR1 and USR2 are passed on. A signal that\n"
	"was ignored when wr-run started (nohup, trap '' HUP) stays ignored, in\n"
	"wr-run and in COMMAND. When COMMAND ends, what is left of its process\n"
	"group is killed too. When wr-run dies, COMMAND gets TERM.\n"
	"\n"
	"Exit status:\n"
	"  N        COMMAND's exit status\n"
	"  128+N    COMMAND died of signal N, or wr-run was cancelled by signal N\n"
	"           (or 'wr-recover cancel' stopped COMMAND with it)\n"
	"  123      stuck, aborted\n"
	"  124      timed out, the run's deadline or --max-turns reached, and COMMAND\n"
	"           ended after the first signal\n"
	"  137      timed out, and COMMAND had to be killed with SIGKILL\n"
	"  125      wr-run itself failed (usage, ledger I/O such as ENOSPC, a refused\n"
	"           --run, a --run whose directory is gone: recorded as a failed\n"
	"           attempt); when the start cannot be recorded COMMAND never runs\n"
	"  126      COMMAND cannot be executed (never retried)\n"
	"  127      COMMAND not found (never retried)\n"
	"  75       rejected: the workflow's circuit breaker is open, or the\n"
	"           concurrency limit was reached (--no-wait, or --timeout passed);\n"
	"           a new run then ends in status rejected: never retried; or\n"
	"           --run before the retry is due, or --attempt is not the next:\n"
	"           nothing started, nothing recorded\n"
	"While the lock is busy as the command ends, wr-run keeps trying to record\n"
	"the end. A late end of an attempt that another process ended (lost,\n"
	"cancelled) is recorded as stale; wr-run exits with the command's status.\n"
	"\n"
	"Examples:\n"
	"  wr-run --timeout 1h --stuck-repeat 50 -- ./nightly-import.sh\n"
	"  wr-run --workflow backup --concurrency 1 --no-wait -- restic backup /srv\n"
	"  wr-run --quiet-on-success --no-output 10m -- ./cron-job.sh\n"
	"  wr-run --run 0193a1b2 -- ./nightly-import.sh\n";

static void parse_codes(struct wr_policy *p, const char *s)
{
	char *copy = wr_xstrdup(s), *save = NULL;
	wr_policy_free(p);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int64_t v = wr_cli_int("no-retry-on", t, 0, 255);
		p->no_retry_on = wr_xrealloc(p->no_retry_on, (p->n_no_retry_on + 1) * sizeof *p->no_retry_on);
		p->no_retry_on[p->n_no_retry_on++] = (int)v;
	}
	if (!p->n_no_retry_on)
		wr_usage_error(EXIT_FAILED, "option '--no-retry-on': expected exit codes, e.g. 2,64");
	free(copy);
}

enum {
	O_WORKFLOW = 256, O_RUN, O_TIMEOUT, O_KILL_AFTER, O_HEARTBEAT, O_LEASE, O_STUCK_REPEAT, O_NO_PROGRESS,
	O_STUCK_ACTION, O_MAX_ATTEMPTS, O_BACKOFF, O_DEADLINE, O_NO_RETRY_ON, O_CONCURRENCY, O_WAIT, O_NO_WAIT,
	O_LOG, O_LABEL, O_LEDGER, O_MAX_TURNS, O_STUCK_REPEAT_TOOL, O_NO_PROGRESS_TURNS, O_SIGNAL, O_PRESERVE,
	O_FOREGROUND, O_VERBOSE, O_QUIET, O_PRINT_ID, O_NO_OUTPUT, O_EXPECT_EVERY, O_GRACE, O_VERSION, O_ATTEMPT,
};

static const struct option long_opts[] = {
	{"workflow", required_argument, NULL, O_WORKFLOW},
	{"run", required_argument, NULL, O_RUN},
	{"attempt", required_argument, NULL, O_ATTEMPT},
	{"timeout", required_argument, NULL, O_TIMEOUT},
	{"kill-after", required_argument, NULL, O_KILL_AFTER},
	{"heartbeat", required_argument, NULL, O_HEARTBEAT},
	{"lease", required_argument, NULL, O_LEASE},
	{"stuck-repeat", required_argument, NULL, O_STUCK_REPEAT},
	{"no-progress", required_argument, NULL, O_NO_PROGRESS},
	{"stuck-action", required_argument, NULL, O_STUCK_ACTION},
	{"max-attempts", required_argument, NULL, O_MAX_ATTEMPTS},
	{"backoff", required_argument, NULL, O_BACKOFF},
	{"deadline", required_argument, NULL, O_DEADLINE},
	{"no-retry-on", required_argument, NULL, O_NO_RETRY_ON},
	{"concurrency", required_argument, NULL, O_CONCURRENCY},
	{"wait", no_argument, NULL, O_WAIT},
	{"no-wait", no_argument, NULL, O_NO_WAIT},
	{"log", required_argument, NULL, O_LOG},
	{"label", required_argument, NULL, O_LABEL},
	{"ledger", required_argument, NULL, O_LEDGER},
	{"signal", required_argument, NULL, O_SIGNAL},
	{"preserve-status", no_argument, NULL, O_PRESERVE},
	{"foreground", no_argument, NULL, O_FOREGROUND},
	{"verbose", no_argument, NULL, O_VERBOSE},
	{"quiet-on-success", no_argument, NULL, O_QUIET},
	{"print-id", no_argument, NULL, O_PRINT_ID},
	{"no-output", required_argument, NULL, O_NO_OUTPUT},
	{"max-turns", required_argument, NULL, O_MAX_TURNS},
	{"stuck-repeat-tool", required_argument, NULL, O_STUCK_REPEAT_TOOL},
	{"no-progress-turns", required_argument, NULL, O_NO_PROGRESS_TURNS},
	{"expect-every", required_argument, NULL, O_EXPECT_EVERY},
	{"grace", required_argument, NULL, O_GRACE},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0},
};

/* The options that set the run's policy (refused with --run); 1 when c
 * was one of them. */
static int policy_opt(struct opts *o, int c, const char *name, const char *arg)
{
	struct wr_policy *p = &o->pol;
	switch (c) {
	case O_TIMEOUT:
		p->timeout_ms = wr_cli_duration(name, arg, WR_CLI_DUR_OFF);
		break;
	case O_KILL_AFTER:
		p->kill_after_ms = wr_cli_duration(name, arg, WR_CLI_DUR_ZERO);
		break;
	case O_HEARTBEAT:
		p->heartbeat_ms = wr_cli_duration(name, arg, WR_CLI_DUR_POSITIVE);
		o->heartbeat_set = 1;
		break;
	case O_LEASE:
		p->lease_ms = wr_cli_duration(name, arg, WR_CLI_DUR_POSITIVE);
		o->lease_set = 1;
		break;
	case O_STUCK_REPEAT:
		p->stuck_repeat = wr_cli_int(name, arg, 2, 1000000000);
		break;
	case O_NO_PROGRESS:
		p->no_progress_ms = wr_cli_duration(name, arg, WR_CLI_DUR_OFF);
		break;
	case O_NO_OUTPUT:
		p->no_output_ms = wr_cli_duration(name, arg, WR_CLI_DUR_OFF);
		break;
	case O_STUCK_ACTION:
		if (strcmp(arg, "abort") && strcmp(arg, "notify"))
			wr_usage_error(EXIT_FAILED, "option '--stuck-action': expected abort or notify, not '%s'", arg);
		p->stuck_abort = !strcmp(arg, "abort");
		break;
	case O_SIGNAL: {
		int sig = wr_sig_parse(arg);
		if (sig < 0)
			wr_usage_error(EXIT_FAILED, "option '--signal': unknown signal '%s' (write TERM, HUP, KILL, 9 or 0)",
				       arg);
		p->term_signal = sig;
		break;
	}
	case O_MAX_ATTEMPTS:
		p->max_attempts = wr_cli_int(name, arg, 1, 1000000);
		break;
	case O_BACKOFF:
		wr_cli_backoff(arg, &p->backoff_initial_ms, &p->backoff_factor, &p->backoff_max_ms);
		break;
	case O_DEADLINE:
		p->deadline_ms = wr_cli_duration(name, arg, WR_CLI_DUR_OFF);
		break;
	case O_NO_RETRY_ON:
		parse_codes(p, arg);
		break;
	case O_CONCURRENCY:
		p->concurrency = wr_cli_int(name, arg, 1, 1000000);
		break;
	case O_LABEL:
		wr_cli_label(arg, o->labels);
		break;
	case O_MAX_TURNS:
		p->max_turns = wr_cli_int(name, arg, 1, 1000000000);
		break;
	case O_STUCK_REPEAT_TOOL:
		p->stuck_repeat_tool = wr_cli_int(name, arg, 2, 1000000000);
		break;
	case O_NO_PROGRESS_TURNS:
		p->no_progress_turns = wr_cli_int(name, arg, 1, 1000000000);
		break;
	default:
		return 0;
	}
	if (!o->policy_opt)
		o->policy_opt = name;
	return 1;
}

/* The options of this invocation only; 1 when c was one of them. */
static int run_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case O_WORKFLOW:
		o->workflow = arg;
		break;
	case O_RUN:
		o->run = arg;
		break;
	case O_ATTEMPT:
		o->attempt = wr_cli_int("attempt", arg, 1, INT64_MAX);
		break;
	case O_WAIT:
	case O_NO_WAIT:
		o->wait = c == O_WAIT;
		break;
	case O_LOG:
		o->log = arg;
		break;
	case O_LEDGER:
		o->ledger = arg;
		break;
	case O_PRESERVE:
		o->preserve_status = 1;
		break;
	case O_FOREGROUND:
		o->foreground = 1;
		break;
	case 'v':
	case O_VERBOSE:
		o->verbose = 1;
		break;
	case O_QUIET:
		o->quiet_on_success = 1;
		break;
	case O_PRINT_ID:
		o->print_id = 1;
		break;
	case O_EXPECT_EVERY:
		o->expect_every_ms = wr_cli_duration("expect-every", arg, WR_CLI_DUR_POSITIVE);
		o->expect = 1;
		break;
	case O_GRACE:
		o->expect_grace_ms = wr_cli_duration("grace", arg, WR_CLI_DUR_ZERO);
		o->grace_set = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

static const char *opt_name(int c)
{
	if (c == 'k')
		return "kill-after";
	if (c == 's')
		return "signal";
	for (size_t i = 0; long_opts[i].name; i++)
		if (long_opts[i].val == c)
			return long_opts[i].name;
	return "";
}

/* A lease no longer than the heartbeat runs out between heartbeats. */
static void check_lease(const struct opts *o)
{
	if (o->pol.lease_ms > o->pol.heartbeat_ms || !(o->heartbeat_set || o->lease_set))
		return;
	char h[32], l[32], t[32];
	wr_usage_error(EXIT_FAILED,
		       "--lease (%s) must be longer than --heartbeat (%s), or the lease runs out between "
		       "heartbeats; try --lease %s",
		       wr_dur_format(o->pol.lease_ms, l, sizeof l), wr_dur_format(o->pol.heartbeat_ms, h, sizeof h),
		       wr_dur_format(o->pol.heartbeat_ms * 4, t, sizeof t));
}

int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;
	wr_policy_defaults(&o->pol);
	o->labels = json_object();
	o->wait = 1;
	/* '+': stop at COMMAND, so its own options are left alone. */
	while ((c = getopt_long(argc, argv, "+:hk:s:v", long_opts, NULL)) != -1) {
		int pc = c == 'k' ? O_KILL_AFTER : c == 's' ? O_SIGNAL : c;
		if (policy_opt(o, pc, opt_name(c), optarg) || run_opt(o, c, optarg))
			continue;
		switch (c) {
		case 'h':
			fputs(usage_head, stdout);
			fputs(usage_more, stdout);
			fputs(usage_tail, stdout);
			exit(0);
		case O_VERSION:
			wr_print_version();
			exit(0);
		case ':':
			wr_usage_error(EXIT_FAILED, "option '%s' needs a value", argv[optind - 1]);
		default:
			wr_die_unknown_option(EXIT_FAILED, argv, long_opts);
		}
	}
	if (o->attempt && !o->run)
		wr_usage_error(EXIT_FAILED, "option '--attempt' goes with --run ID");
	if (o->grace_set && !o->expect)
		wr_usage_error(EXIT_FAILED, "option '--grace' needs --expect-every");
	check_lease(o);
	return optind;
}
