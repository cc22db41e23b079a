/* wr-watch - see and detect: what runs need eyes, one run's timeline, the
 * live stream of events, lost attempts, and per-workflow figures.
 *
 * Every command but check only reads the ledger. check records its finds
 * (attempt.finished outcome lost, the breaker's reaction, an outbox entry)
 * in one decision through core/decide_check.c, so that any number of
 * concurrent checks (and wr-recover passes) record one loss per attempt.
 *
 * --json schemas:
 *   status  one object per run: wr_run_to_json() (core/state.c):
 *           {run, workflow, status, argv, cwd, labels, policy{...},
 *            created, updated, attempt (attempts started), max_attempts,
 *            attempts[{attempt, started, finished, outcome, exit_code,
 *              signal, duration_ms, cpu_ms, max_rss_kb, output_bytes,
 *              reason, host, pid, pgid, lease_until, stuck, turns,
 *              tool_calls, metrics{name: sum}}],
 *            stages_done[], stage, recoveries, lease_until, next_retry,
 *            launch{attempt, at, host, pid, lease_until, forced, launches}
 *            (a launch of the next attempt not started yet) or null,
 *            deadline, reason, note, stale_events}
 *           times are RFC 3339 strings or null.
 *   show    the run's events as recorded, each with "stale": true|false,
 *           plus "stale_reason" (stale) or "invalid" (breaks an invariant)
 *   follow  the events as recorded, one per line
 *   check   one object per lost attempt: {run, workflow, attempt, host,
 *           pid, reason, recorded} (recorded is false with --dry-run), then
 *           one per overdue workflow: {workflow, overdue: true, due,
 *           period, every_ms, grace_ms, last_success, recorded}
 *   expect  one object per expectation: {workflow, every_ms, grace_ms,
 *           since, last_success, next_due, overdue, period}
 *   stats   one object per workflow: see core/stats.h and stats_json()
 *
 * plot writes an SVG (core/plot.h), report an HTML page (core/report.h). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compact.h"
#include "actions.h"
#include "check.h"
#include "decide_check.h"
#include "cli.h"
#include "err.h"
#include "follow.h"
#include "suggest.h"
#include "labels.h"
#include "ledger.h"
#include "output.h"
#include "outlog.h"
#include "prom.h"
#include "sanitize.h"
#include "plot.h"
#include "report.h"
#include "stats.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"
#include "view.h"

/* In two parts: C11 compilers need not take string literals over 4095
 * bytes. */
static const char usage[] =
	"Usage: wr-watch [status] [--all] [--workflow W] [--status S[,S...]] [--label K=V]\n"
	"       wr-watch show RUN\n"
	"       wr-watch logs RUN [--attempt N] [--stream stdout|stderr] [--follow]\n"
	"       wr-watch follow [--from-start] [--workflow W] [--run RUN] [--label K=V]\n"
	"       wr-watch check [--dry-run] [--workflow W] [--run RUN]\n"
	"       wr-watch expect [WORKFLOW --every DUR [--grace DUR] | WORKFLOW --clear]\n"
	"       wr-watch stats [--since DUR] [--workflow W] [--label K=V]\n"
	"       wr-watch stats --format prometheus [--workflow W] [--output FILE]\n"
	"       wr-watch plot [--since DUR] [--workflow W] [--label K=V] > runs.svg\n"
	"       wr-watch report [--since DUR] > report.html\n"
	"\n"
	"See supervised work in the wr ledger, and detect what went missing.\n"
	"\n"
	"Commands:\n"
	"  status    runs that need eyes (running, failed, retry_wait, blocked):\n"
	"            short id, workflow, status, attempt/max, created, current\n"
	"            stage, lease (running) or next retry (retry_wait), note\n"
	"  show      one run's timeline: every event with its offset from the\n"
	"            run's creation; stale (fenced-off) events are marked. RUN is\n"
	"            an id, an unambiguous prefix, or the short id of the table\n"
	"  logs      what an attempt printed (the last attempt unless --attempt):\n"
	"            the last 64 KiB of its stdout on stdout and of its stderr on\n"
	"            stderr, as wr-run kept them beside the ledger; --follow goes on\n"
	"            while the attempt runs and ends when it ends\n"
	"  follow    print events as they are appended (from the end unless\n"
	"            --from-start); keeps going when the file is compacted or\n"
	"            replaced, like tail -F; SIGINT/SIGTERM end it with status 0\n"
	"  check     record attempts whose supervisor is gone as lost: pid dead or\n"
	"            reused or host rebooted (this host), lease expired (any host).\n"
	"            An attempt whose wr-run is alive here is never lost.\n"
	"            Also records workflows overdue (see expect), once per missed\n"
	"            period. Exit 0 nothing found, 1 lost attempts found or any\n"
	"            workflow overdue (a monitoring check)\n"
	"  expect    expected schedules (a dead-man's switch): WORKFLOW --every DUR\n"
	"            expects a success every DUR (plus --grace); 'check' records\n"
	"            it overdue when none came. --clear removes it. Without\n"
	"            WORKFLOW: the expectations and when each is next due\n"
	"  stats     per workflow: runs, success rate (of ended runs), attempts per\n"
	"            run, p50/p95 duration of successful attempts (nearest rank),\n"
	"            MTTR (first failure to success), recoveries by action (ok when\n"
	"            the next attempt succeeded), stuck/timeout/lost, stale events,\n"
	"            breaker opens, an agent's turns, tool calls and metrics summed;\n"
	"            --since counts runs created in the window.\n"
	"            --format prometheus: the metrics in Prometheus's text format\n"
	"            (counters kept across compaction; see wr-watch(1))\n"
	"  plot      one SVG on stdout: a row per run, grouped by workflow, each\n"
	"            attempt a bar coloured by outcome, retries linked, markers\n"
	"            for stuck, timeout, lost, blocked and escalated, tooltips;\n"
	"            a workflow with many runs folds into one lane\n"
	"  report    one HTML page on stdout, no script or network needed: what\n"
	"            needs a human (blocked runs, dead notifications, breakers\n"
	"            not closed, expired leases), a table of the workflows (as\n"
	"            stats), the timeline; light, dark and print styles\n"
	"\n";

static const char usage_options[] =
	"Options:\n"
	"  --ledger PATH       the ledger (default $WR_LEDGER, else\n"
	"                      ${XDG_STATE_HOME:-~/.local/state}/wr/ledger.jsonl)\n"
	"  --json              one JSON object per line on stdout\n"
	"  -a, --all           status: every run, ended ones too\n"
	"  -w, --workflow W    only workflow W\n"
	"  -s, --status S      status: only these statuses (running, succeeded,\n"
	"                      failed, retry_wait, blocked, cancelled, rejected)\n"
	"  -l, --label K=V     status, stats, follow, plot: only runs labelled K=V (by\n"
	"                      wr-run --label); repeat it: a key given twice\n"
	"                      matches either value, different keys must all match\n"
	"  -r, --run RUN       follow, check: only this run\n"
	"      --from-start    follow: print the events already there first\n"
	"      --attempt N     logs: attempt N (default the last)\n"
	"      --stream S      logs: only stdout or stderr, on stdout\n"
	"      --follow        logs: print the output as it comes until the attempt ends\n"
	"  -n, --dry-run       check: show what would be recorded, record nothing\n"
	"      --every DUR     expect: a success is due every DUR\n"
	"      --grace DUR     expect: slack after each due time (default 0)\n"
	"      --clear         expect: remove the workflow's expectation\n"
	"      --since DUR     stats: runs created in the last DUR (90s, 5m, 2d);\n"
	"                      plot, report: the last DUR\n"
	"      --format FMT    stats: text (default; JSON with --json) or prometheus\n"
	"  -o, --output FILE   stats --format prometheus: replace FILE atomically\n"
	"                      (for node_exporter's textfile collector)\n"
	"      --color WHEN    auto (default: on a terminal), always or never;\n"
	"                      NO_COLOR set means never\n"
	"  -h, --help          show this help\n"
	"      --version       show the version\n"
	"\n"
	"Exit status: 0 done, 1 check found lost attempts or overdue workflows,\n"
	"2 usage (also: RUN unknown or ambiguous), 74 I/O or ledger error (or no\n"
	"ledger), 75 lock wait timed out.\n"
	"\n"
	"Examples:\n"
	"  wr-watch                                  # what needs eyes now\n"
	"  wr-watch show 4f2a9c1e                    # a run's timeline\n"
	"  wr-watch logs 4f2a9c1e --stream stderr    # what its last attempt said\n"
	"  wr-watch follow --json | jq -c 'select(.type == \"attempt.finished\")'\n"
	"  wr-watch check --dry-run                  # would anything be marked lost?\n"
	"  wr-watch expect backup --every 1d --grace 2h\n"
	"  wr-watch stats --since 7d --workflow backup\n"
	"  wr-watch stats --format prometheus --output /var/lib/prometheus/node-exporter/wr.prom\n"
	"  wr-watch plot --since 1d > runs.svg         # last night, in a browser\n"
	"  wr-watch report --since 7d > report.html\n"
	"\n"
	"jq filters for the --json output: " WR_DATADIR "/jq\n";

enum {
	O_ALL = 1 << 0,
	O_WORKFLOW = 1 << 1,
	O_STATUS = 1 << 2,
	O_RUN = 1 << 3,
	O_FROM_START = 1 << 4,
	O_DRY_RUN = 1 << 5,
	O_SINCE = 1 << 6,
	O_LABEL = 1 << 7,
	O_FORMAT = 1 << 8,
	O_OUTPUT = 1 << 9,
	O_EVERY = 1 << 10,
	O_GRACE = 1 << 11,
	O_CLEAR = 1 << 12,
	O_ATTEMPT = 1 << 13,
	O_STREAM = 1 << 14,
	O_FOLLOW = 1 << 15,
	O__COUNT = 16
};

static struct {
	const char *ledger;
	int json, all, from_start, dry_run;
	const char *workflow, *run;
	unsigned status_mask;       /* bit per enum wr_status; 0: default */
	int64_t since_ms;           /* --since */
	struct wr_label_filter labels; /* --label */
	unsigned given;             /* O_* options given */
	const char *given_name[O__COUNT]; /* their spelling, for errors */
	int prometheus;             /* --format prometheus */
	const char *output;         /* --output */
	int64_t every_ms, grace_ms; /* expect --every, --grace */
	int64_t attempt;            /* logs --attempt; 0: the last */
	int stream;                 /* logs --stream: -1 both, else WR_OUTLOG_STDOUT or _STDERR */
	int follow;                 /* logs --follow */
} opt = {.stream = -1};

/* Time columns: relative ("3m ago") for people at a terminal, RFC 3339
 * for pipes and files, where a later reader has no "now". */
static int relative_times;

static void die_ledger(void)
{
	wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
}

static void open_ledger(struct wr_ledger *l, int flags)
{
	if (wr_ledger_open(l, opt.ledger, flags) < 0)
		die_ledger();
}

/* ---- status ---------------------------------------------------------- */

/* The view of the state as the options ask for it (core/view.h). */
static struct wr_view view(void)
{
	struct wr_view v = {.f = stdout, .json = opt.json, .relative = relative_times, .color = wr_out_color(stdout),
			    .workflow = opt.workflow, .labels = &opt.labels};
	return v;
}

static int cmd_status(void)
{
	struct wr_ledger l;
	open_ledger(&l, 0);
	unsigned mask = opt.status_mask;
	if (!mask)
		mask = opt.all ? ~0u
			       : (1u << WR_ST_RUNNING) | (1u << WR_ST_FAILED) | (1u << WR_ST_RETRY_WAIT) |
					 (1u << WR_ST_BLOCKED);
	int64_t now = wr_now_ms();
	struct wr_view v = view();
	struct wr_view_count n;
	wr_view_runs(&v, wr_ledger_state(&l), mask, now, &n);
	if (!opt.json)
		wr_view_workflows(&v, wr_ledger_state(&l), now);
	/* Decorations only for a person at a terminal; pipes get the table. */
	if (!opt.json && wr_out_tty()) {
		size_t all = wr_state_nruns(wr_ledger_state(&l));
		if (!all)
			printf("no runs in %s\n", wr_ledger_name(&l));
		else if (!n.total)
			printf("no runs of that workflow or label (%zu run%s in all; 'wr-watch --all' shows them)\n", all,
			       all == 1 ? "" : "s");
		else if (!n.shown && opt.status_mask)
			printf("no runs with that status (%zu run%s in all; --all shows them)\n", n.total,
			       n.total == 1 ? "" : "s");
		else if (!n.shown)
			printf("no runs need attention (%zu run%s in all; --all shows them)\n", n.total,
			       n.total == 1 ? "" : "s");
		else if (n.shown < n.total && !opt.status_mask && !opt.all)
			printf("%zu of %zu runs shown; --all shows every run\n", n.shown, n.total);
		if (n.rejected && !opt.status_mask && !opt.all)
			printf("%zu run%s rejected (breaker open or concurrency limit, never started): --status rejected "
			       "shows %s\n", n.rejected, n.rejected == 1 ? " was" : "s were", n.rejected == 1 ? "it" : "them");
	}
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* ---- show ------------------------------------------------------------ */

static int cmd_show(const char *arg)
{
	struct wr_ledger l;
	/* First pass: which run the argument names (prefixes need every id). */
	open_ledger(&l, WR_LEDGER_QUIET);
	int ambiguous;
	char *id = NULL, *archive = NULL;
	if (!wr_state_find_run(wr_ledger_state(&l), arg, &ambiguous) && !ambiguous)
		archive = wr_archive_find_run(wr_ledger_name(&l), arg, &id); /* compacted away */
	if (!archive)
		id = wr_xstrdup(wr_cli_find_run(wr_ledger_state(&l), arg, wr_ledger_name(&l))->id);
	wr_ledger_close(&l);
	if (archive)
		opt.ledger = archive; /* the timeline is the segment's */

	/* Second pass: the run's events with the reducer's verdict on each. */
	struct wr_view_events c = {.run = id};
	open_ledger(&l, WR_LEDGER_LAZY);
	wr_ledger_on_events(&l, wr_view_events_on_events, &c);
	if (wr_ledger_refresh(&l) < 0)
		die_ledger();
	const struct wr_run *r = wr_state_run(wr_ledger_state(&l), id);
	if (!r) /* replaced by a file without it between the passes */
		wr_die(WR_EXIT_IO, "run %s vanished from %s while reading it", id, wr_ledger_name(&l));
	struct wr_view v = view();
	if (!opt.json)
		/* an archive's breaker is history: only the live one is shown */
		wr_view_run(&v, r, archive ? NULL : wr_state_workflow(wr_ledger_state(&l), r->workflow), archive, wr_now_ms());
	wr_view_timeline(&v, r, &c, archive);
	wr_view_events_free(&c);
	free(id);
	wr_ledger_close(&l);
	free(archive);
	return WR_EXIT_OK;
}

/* ---- follow ---------------------------------------------------------- */

struct follow_ctx {
	struct wr_ledger *l;
	struct wr_view v;
};

static void follow_event(void *ctx, const struct wr_event *ev, int applied, const char *why, int last)
{
	struct follow_ctx *f = ctx;
	wr_view_event(&f->v, wr_ledger_state(f->l), ev, applied, why, last);
}

static int cmd_follow(void)
{
	struct wr_ledger l;
	struct follow_ctx f = {&l, view()};
	char *run = NULL;
	if (opt.run) {
		/* Resolve a prefix on what is there now; a run created later
		 * must be named in full. */
		open_ledger(&l, WR_LEDGER_QUIET | WR_LEDGER_MISSING_OK);
		int amb;
		struct wr_run *r = wr_state_find_run(wr_ledger_state(&l), opt.run, &amb);
		if (!r && amb)
			wr_cli_find_run(wr_ledger_state(&l), opt.run, wr_ledger_name(&l));
		f.v.run = run = wr_xstrdup(r ? r->id : opt.run);
		wr_ledger_close(&l);
	}
	/* As tail -F: a ledger that is not there yet is waited for, and said
	 * so once, since a wrong path would otherwise wait in silence. */
	open_ledger(&l, WR_LEDGER_LAZY | WR_LEDGER_MISSING_OK);
	if (!wr_ledger_present(&l)) {
		wr_ledger_seterr_missing(opt.ledger, wr_ledger_name(&l));
		wr_warn("%s; waiting for it", wr_errmsg());
	}
	struct wr_follow fw = {.l = &l, .from_start = opt.from_start, .on_event = follow_event, .ctx = &f};
	if (wr_follow_run(&fw) < 0)
		die_ledger();
	free(run);
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* ---- check ----------------------------------------------------------- */

static int cmd_check(void)
{
	/* A check never creates a ledger: a missing one is a wrong path
	 * (cron's HOME), not "nothing lost". */
	struct wr_ledger l;
	open_ledger(&l, opt.dry_run ? 0 : WR_LEDGER_WRITE | WR_LEDGER_EXISTING);
	struct wr_check_req req = {0};
	req.workflow = opt.workflow;
	req.dry_run = opt.dry_run;
	req.overdue = json_array();
	char *run = NULL;
	if (opt.run)
		req.run = run = wr_xstrdup(wr_cli_find_run(wr_ledger_state(&l), opt.run, wr_ledger_name(&l))->id);
	int n = wr_check_lost(&l, &req);
	if (n < 0)
		die_ledger();
	struct wr_view v = view();
	wr_actions_lost(&v, req.found, opt.dry_run, wr_ledger_name(&l));
	if (!n && !opt.json && wr_out_tty() && !json_array_size(req.overdue))
		/* Quiet otherwise: cron mails whatever a job prints. */
		printf("no lost attempts\n");
	size_t nover = wr_actions_overdue(&v, req.overdue);
	json_decref(req.found);
	json_decref(req.overdue);
	free(run);
	wr_ledger_close(&l);
	return n || nover ? WR_EXIT_ATTENTION : WR_EXIT_OK;
}

/* ---- logs ------------------------------------------------------------ */

/* A command's output as it was; on a terminal each line sanitized (tabs
 * kept), so that it cannot drive the terminal. */
static void put_output(FILE *to, const char *p, size_t n)
{
	if (!isatty(fileno(to))) {
		fwrite(p, 1, n, to);
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t seg = 0;
		while (i + seg < n && p[i + seg] != '\n' && p[i + seg] != '\t')
			seg++;
		char *piece = wr_xmalloc(seg + 1);
		memcpy(piece, p + i, seg); /* NUL bytes too: each becomes '?' */
		fwrite(piece, 1, wr_sanitize(piece, seg), to);
		free(piece);
		i += seg;
		if (i < n)
			fputc(p[i++], to);
	}
}

/* Prints what the log holds beyond at[] (stream positions), and moves
 * them on; a gap (output no longer kept) is said on a terminal. */
static void logs_print(const struct wr_outlog_file *f, int64_t at[2])
{
	for (int i = 0; i < 2; i++) {
		if (opt.stream >= 0 && opt.stream != i)
			continue;
		int64_t from = f->bytes[i] - (int64_t)f->kept[i];
		if (at[i] < from && isatty(STDERR_FILENO))
			wr_warn("(%lld bytes of %s not kept: the last %zu follow)", (long long)(from - at[i]),
				i ? "stderr" : "stdout", f->kept[i]);
		if (at[i] < from)
			at[i] = from;
		if (at[i] < f->bytes[i])
			put_output(opt.stream >= 0 || i == 0 ? stdout : stderr, f->data[i] + (at[i] - from),
				   (size_t)(f->bytes[i] - at[i]));
		at[i] = f->bytes[i];
	}
	fflush(stdout);
	fflush(stderr);
}

static volatile sig_atomic_t logs_stop;

static void on_logs_stop(int sig)
{
	logs_stop = sig;
	wr_stop_note(sig); /* a wait on a ledger's servers gives up (err.h) */
}

/* The attempt as the ledger has it now (refreshed), or NULL. A refresh a
 * stop cut short ends the follow as the stop does: with status 0. */
static const struct wr_attempt *logs_attempt(struct wr_ledger *l, const char *id, int64_t n)
{
	int rr = wr_ledger_refresh(l);
	if (rr < 0 && logs_stop) {
		fflush(stdout);
		exit(WR_EXIT_OK);
	}
	if (rr < 0)
		die_ledger();
	const struct wr_run *r = wr_state_run(wr_ledger_state(l), id);
	return r && n <= (int64_t)r->natt ? &r->att[n - 1] : NULL;
}

static int cmd_logs(const char *arg)
{
	struct wr_ledger l;
	open_ledger(&l, WR_LEDGER_QUIET);
	const struct wr_run *r = wr_cli_find_run(wr_ledger_state(&l), arg, wr_ledger_name(&l));
	char *id = wr_xstrdup(r->id);
	int64_t n = opt.attempt ? opt.attempt : (int64_t)r->natt;
	if (!r->natt)
		wr_die(1, "run %s has not started an attempt: no output", id);
	if (n > (int64_t)r->natt)
		wr_usage_error(WR_EXIT_USAGE, "run %s has no attempt %lld (attempts 1 to %zu)", id, (long long)n, r->natt);
	char *path = wr_outlog_path(wr_ledger_name(&l), id, n);
	struct sigaction sa = {0};
	sa.sa_handler = on_logs_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	int64_t at[2] = {0, 0};
	int rc = WR_EXIT_OK, printed = 0;
	for (int last = 0; !logs_stop;) {
		struct wr_outlog_file f;
		const struct wr_attempt *a = opt.follow ? logs_attempt(&l, id, n) : NULL;
		int ended = !opt.follow || !a || a->finished;
		if (!path || wr_outlog_read(path, &f) < 0) {
			if (path && errno != ENOENT)
				wr_die(WR_EXIT_IO, "%s", wr_errmsg());
			if (ended && !printed) {
				if (path)
					wr_warn("no output kept for attempt %lld of run %s (no %s)", (long long)n, id, path);
				else
					wr_warn("no output kept for attempt %lld of run %s", (long long)n, id);
				rc = 1;
				break;
			}
		} else {
			logs_print(&f, at);
			printed = 1;
			ended |= !f.live;
			wr_outlog_file_free(&f);
		}
		/* Ended by the ledger but the log still live: one more read (wr-run
		 * saves the final log before it records the end). */
		if (ended && (last++ || !opt.follow))
			break;
		if (!ended)
			last = 0;
		struct timespec ts = {0, 200 * 1000000L};
		nanosleep(&ts, NULL);
	}
	free(path);
	free(id);
	wr_ledger_close(&l);
	return rc;
}

/* ---- expect ---------------------------------------------------------- */

static int expect_list(void)
{
	struct wr_ledger l;
	open_ledger(&l, 0);
	struct wr_view v = view();
	if (!wr_view_expectations(&v, wr_ledger_state(&l), wr_now_ms()) && !opt.json && wr_out_tty())
		printf("no expectations in %s; set one with 'wr-watch expect WORKFLOW --every DUR'\n", wr_ledger_name(&l));
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

static int cmd_expect(const char *workflow)
{
	if (!workflow) {
		if (opt.given & (O_EVERY | O_GRACE | O_CLEAR))
			wr_usage_error(WR_EXIT_USAGE, "--every, --grace and --clear need a WORKFLOW");
		return expect_list();
	}
	int clear = !!(opt.given & O_CLEAR);
	if (clear == !!(opt.given & O_EVERY))
		wr_usage_error(WR_EXIT_USAGE, "expect %s needs --every DUR or --clear (one of them)", workflow);
	if (clear && (opt.given & O_GRACE))
		wr_usage_error(WR_EXIT_USAGE, "--grace goes with --every, not --clear");
	char *wf = wr_id_nfc(workflow);
	if (!wf || !*wf || strlen(wf) > 256)
		wr_usage_error(WR_EXIT_USAGE, "invalid workflow name '%s': it must be 1 to 256 bytes of UTF-8", workflow);
	struct wr_ledger l;
	open_ledger(&l, WR_LEDGER_WRITE);
	struct wr_expect_req q = {.workflow = wf, .every_ms = clear ? 0 : opt.every_ms, .grace_ms = clear ? 0 : opt.grace_ms};
	if (wr_ledger_commit(&l, wr_decide_expect, &q) < 0)
		die_ledger();
	const struct wr_workflow *w = wr_state_workflow(wr_ledger_state(&l), wf);
	if (opt.json) {
		json_t *o = w && w->expect_every_ms ? wr_view_expect_json(w, wr_now_ms()) : json_object();
		if (!json_object_size(o))
			wr_jset_str(o, "workflow", wf);
		wr_jset(o, "changed", json_boolean(q.changed));
		wr_out_json(o);
	} else if (clear) {
		printf("%s: %s\n", wf, q.changed ? "expectation removed" : "no expectation to remove");
	} else {
		char every[32], grace[32], next[WR_TS_LEN];
		int64_t due;
		wr_expect_missed(w, wr_now_ms(), &due);
		printf("%s: %s every %s, grace %s; next due %s\n", wf, q.changed ? "expected" : "already expected",
		       wr_dur_format(opt.every_ms, every, sizeof every), wr_dur_format(opt.grace_ms, grace, sizeof grace),
		       wr_ts_format(due, next));
	}
	free(wf);
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* ---- stats ----------------------------------------------------------- */

/* One workflow's figures for people, a blank line between two. */
static void stats_print(json_t *o, int first)
{
	struct wr_buf b = {0};
	if (!first)
		wr_buf_addstr(&b, "\n");
	wr_stats_text(&b, o, wr_out_tty() ? (size_t)wr_out_columns() : 0);
	wr_out_wrapped(stdout, wr_buf_str(&b), WR_STATS_KEY);
	wr_buf_free(&b);
}

static int cmd_stats(void)
{
	struct wr_ledger l;
	struct wr_stats s;
	wr_stats_init(&s, opt.since_ms ? wr_now_ms() - opt.since_ms : 0);
	open_ledger(&l, WR_LEDGER_LAZY);
	s.st = wr_ledger_state(&l);
	s.labels = &opt.labels;
	wr_ledger_on_events(&l, wr_stats_on_events, &s);
	if (wr_ledger_refresh(&l) < 0)
		die_ledger();
	json_t *arr = wr_stats_workflows(&s, wr_ledger_state(&l), opt.workflow);
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		if (opt.json)
			wr_out_json(json_incref(o));
		else
			stats_print(o, i == 0);
	}
	if (!opt.json && !json_array_size(arr) && wr_out_tty())
		printf("no runs%s\n", opt.since_ms ? " in that window" : "");
	json_decref(arr);
	wr_stats_free(&s);
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* The exposition on stdout, or replacing --output whole: a collector
 * reading the file sees the old metrics or the new, never half. */
static int cmd_stats_prometheus(void)
{
	struct wr_ledger l;
	open_ledger(&l, 0);
	struct wr_buf b = {0};
	wr_prom_write(&b, wr_ledger_state(&l), opt.workflow, wr_now_ms());
	wr_ledger_close(&l);
	if (opt.output) {
		if (wr_replace_file(opt.output, b.p, b.len, 0644) < 0)
			wr_die(WR_EXIT_IO, "unable to write %s: %s", opt.output, strerror(errno));
	} else {
		fwrite(b.p, 1, b.len, stdout);
	}
	wr_buf_free(&b);
	return WR_EXIT_OK;
}

/* ---- plot ------------------------------------------------------------ */

static int keep_labels(const struct wr_run *r, void *ctx)
{
	return wr_label_filter_match(ctx, r->labels);
}

/* A picture is no use on a terminal: say where it should go instead. */
static void refuse_tty(const char *cmd, const char *file)
{
	if (isatty(STDOUT_FILENO))
		wr_usage_error(WR_EXIT_USAGE, "%s writes a file to standard output; redirect it: wr-watch %s > %s", cmd, cmd,
			       file);
}

static int cmd_plot(void)
{
	refuse_tty("plot", "runs.svg");
	struct wr_ledger l;
	struct wr_timeline tl;
	wr_timeline_init(&tl);
	open_ledger(&l, WR_LEDGER_LAZY);
	wr_ledger_on_events(&l, wr_timeline_on_events, &tl);
	if (wr_ledger_refresh(&l) < 0)
		die_ledger();
	int64_t now = wr_now_ms();
	struct wr_plot_opts po = {.now = now,
				  .since = opt.since_ms ? now - opt.since_ms : 0,
				  .workflow = opt.workflow,
				  .keep = opt.labels.n ? keep_labels : NULL,
				  .keep_ctx = &opt.labels};
	struct wr_buf b = {0};
	wr_plot_svg(wr_ledger_state(&l), &tl, &po, &b);
	fwrite(b.p, 1, b.len, stdout);
	wr_buf_free(&b);
	wr_timeline_free(&tl);
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* ---- report ---------------------------------------------------------- */

struct report_ctx {
	struct wr_timeline tl;
	struct wr_stats s;
};

static void report_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			  const char *const *why, int64_t line)
{
	struct report_ctx *c = ctx;
	wr_timeline_on_events(&c->tl, evs, n, applied, why, line);
	wr_stats_on_events(&c->s, evs, n, applied, why, line);
}

static int cmd_report(void)
{
	refuse_tty("report", "report.html");
	struct wr_ledger l;
	struct report_ctx c;
	int64_t now = wr_now_ms();
	int64_t since = opt.since_ms ? now - opt.since_ms : 0;
	wr_timeline_init(&c.tl);
	wr_stats_init(&c.s, since);
	open_ledger(&l, WR_LEDGER_LAZY);
	c.s.st = wr_ledger_state(&l);
	wr_ledger_on_events(&l, report_events, &c);
	if (wr_ledger_refresh(&l) < 0)
		die_ledger();
	char host[256] = "";
	if (gethostname(host, sizeof host - 1) < 0)
		host[0] = 0;
	struct wr_report_opts ro = {.now = now, .since = since, .ledger = wr_ledger_name(&l), .host = *host ? host : NULL};
	struct wr_buf b = {0};
	wr_report_html(wr_ledger_state(&l), &c.tl, &c.s, &ro, &b);
	fwrite(b.p, 1, b.len, stdout);
	wr_buf_free(&b);
	wr_timeline_free(&c.tl);
	wr_stats_free(&c.s);
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* ---- options --------------------------------------------------------- */

static void parse_status(const char *arg)
{
	char *copy = wr_xstrdup(arg), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int s = wr_status_from_name(tok);
		if (s < 0)
			wr_usage_error(WR_EXIT_USAGE,
				       "unknown status '%s' (running, succeeded, failed, retry_wait, blocked or cancelled)",
				       tok);
		opt.status_mask |= 1u << s;
	}
	free(copy);
	if (!opt.status_mask)
		wr_usage_error(WR_EXIT_USAGE, "--status needs a status");
}

static void given(unsigned bit, const char *name)
{
	opt.given |= bit;
	for (int i = 0; i < O__COUNT; i++)
		if (bit == 1u << i)
			opt.given_name[i] = name;
}

/* Refuses options that mean nothing to the command, rather than ignore
 * what the user believes is in effect. */
static void only(const char *cmd, unsigned allowed)
{
	unsigned extra = opt.given & ~allowed;
	for (int i = 0; i < O__COUNT; i++)
		if (extra & (1u << i))
			wr_usage_error(WR_EXIT_USAGE, "option '%s' does not apply to '%s'", opt.given_name[i], cmd);
}

/* The options of expect (--every, --grace, --clear) and logs (--attempt,
 * --stream, --follow). */
static void expect_logs_opt(int c)
{
	switch (c) {
	case 'E':
		opt.every_ms = wr_cli_duration("every", optarg, WR_CLI_DUR_POSITIVE);
		given(O_EVERY, "--every");
		break;
	case 'G':
		opt.grace_ms = wr_cli_duration("grace", optarg, WR_CLI_DUR_ZERO);
		given(O_GRACE, "--grace");
		break;
	case 'X':
		given(O_CLEAR, "--clear");
		break;
	case 'A':
		if (wr_parse_int(optarg, 1, INT64_MAX, &opt.attempt) < 0)
			wr_usage_error(WR_EXIT_USAGE, "invalid value '%s' for --attempt (1, 2, ...)", optarg);
		given(O_ATTEMPT, "--attempt");
		break;
	case 'T':
		opt.stream = !strcmp(optarg, "stdout") ? WR_OUTLOG_STDOUT : !strcmp(optarg, "stderr") ? WR_OUTLOG_STDERR : -2;
		if (opt.stream == -2)
			wr_usage_error(WR_EXIT_USAGE, "invalid value '%s' for --stream (stdout or stderr)", optarg);
		given(O_STREAM, "--stream");
		break;
	case 'W':
		opt.follow = 1;
		given(O_FOLLOW, "--follow");
		break;
	}
}

/* The options into opt; returns the index of the command. */
static int watch_opts(int argc, char **argv)
{
	static const struct option opts[] = {
		{"all", no_argument, NULL, 'a'},
		{"workflow", required_argument, NULL, 'w'},
		{"status", required_argument, NULL, 's'},
		{"run", required_argument, NULL, 'r'},
		{"label", required_argument, NULL, 'l'},
		{"from-start", no_argument, NULL, 'F'},
		{"dry-run", no_argument, NULL, 'n'},
		{"since", required_argument, NULL, 'S'},
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"every", required_argument, NULL, 'E'},
		{"grace", required_argument, NULL, 'G'},
		{"clear", no_argument, NULL, 'X'},
		{"attempt", required_argument, NULL, 'A'},
		{"stream", required_argument, NULL, 'T'},
		{"follow", no_argument, NULL, 'W'},
		WR_CLI_OPT_COLOR,
		WR_CLI_OPTS_END,
	};
	static const struct wr_cli_common co = {&opt.ledger, &opt.json, {usage, usage_options, NULL}};
	int c;
	while ((c = wr_cli_next(&co, argc, argv, ":haw:s:r:l:no:", opts)) != -1) {
		switch (c) {
		case 'a':
			opt.all = 1;
			given(O_ALL, "--all");
			break;
		case 'w':
			opt.workflow = optarg;
			given(O_WORKFLOW, "--workflow");
			break;
		case 's':
			parse_status(optarg);
			given(O_STATUS, "--status");
			break;
		case 'r':
			opt.run = optarg;
			given(O_RUN, "--run");
			break;
		case 'l':
			if (wr_label_filter_add(&opt.labels, optarg) < 0)
				wr_usage_error(WR_EXIT_USAGE, "option '--label': %s", wr_errmsg());
			given(O_LABEL, "--label");
			break;
		case 'F':
			opt.from_start = 1;
			given(O_FROM_START, "--from-start");
			break;
		case 'n':
			opt.dry_run = 1;
			given(O_DRY_RUN, "--dry-run");
			break;
		case 'S':
			opt.since_ms = wr_cli_duration("since", optarg, WR_CLI_DUR_POSITIVE);
			given(O_SINCE, "--since");
			break;
		case 'f':
			if (!strcmp(optarg, "prometheus"))
				opt.prometheus = 1;
			else if (strcmp(optarg, "text"))
				wr_usage_error(WR_EXIT_USAGE, "invalid value '%s' for --format (text or prometheus)", optarg);
			given(O_FORMAT, "--format");
			break;
		case 'o':
			opt.output = optarg;
			given(O_OUTPUT, "--output");
			break;
		default:
			expect_logs_opt(c);
		}
	}
	return optind;
}

/* Runs cmd with its nargs arguments args, refusing the options that do
 * not apply to it. */
static int run_cmd(const char *cmd, int nargs, char **args)
{
	if (!strcmp(cmd, "show")) {
		only(cmd, 0);
		if (nargs != 1)
			wr_usage_error(WR_EXIT_USAGE, nargs ? "show takes one RUN" : "show needs a RUN (an id or its start)");
		return cmd_show(args[0]);
	}
	if (!strcmp(cmd, "logs")) {
		only(cmd, O_ATTEMPT | O_STREAM | O_FOLLOW);
		if (nargs != 1)
			wr_usage_error(WR_EXIT_USAGE, nargs ? "logs takes one RUN" : "logs needs a RUN (an id or its start)");
		return cmd_logs(args[0]);
	}
	if (!strcmp(cmd, "expect")) {
		only(cmd, O_EVERY | O_GRACE | O_CLEAR);
		if (nargs > 1)
			wr_usage_error(WR_EXIT_USAGE, "unexpected argument '%s'", args[1]);
		return cmd_expect(nargs ? args[0] : NULL);
	}
	if (nargs)
		wr_usage_error(WR_EXIT_USAGE, "unexpected argument '%s'", args[0]);
	if (!strcmp(cmd, "status")) {
		only(cmd, O_ALL | O_WORKFLOW | O_STATUS | O_LABEL);
		return cmd_status();
	}
	if (!strcmp(cmd, "follow")) {
		only(cmd, O_WORKFLOW | O_RUN | O_FROM_START | O_LABEL);
		return cmd_follow();
	}
	if (!strcmp(cmd, "check")) {
		only(cmd, O_WORKFLOW | O_RUN | O_DRY_RUN);
		return cmd_check();
	}
	if (!strcmp(cmd, "stats")) {
		if (opt.prometheus) {
			/* Counters are totals since the ledger began: a window or a
			 * label subset would make them go back. */
			only("stats --format prometheus", O_WORKFLOW | O_FORMAT | O_OUTPUT);
			if (opt.json)
				wr_usage_error(WR_EXIT_USAGE, "--json and --format prometheus are two formats: choose one");
			return cmd_stats_prometheus();
		}
		if (opt.output)
			wr_usage_error(WR_EXIT_USAGE, "--output is for --format prometheus");
		only(cmd, O_WORKFLOW | O_SINCE | O_LABEL | O_FORMAT);
		return cmd_stats();
	}
	if (!strcmp(cmd, "plot")) {
		only(cmd, O_WORKFLOW | O_SINCE | O_LABEL);
		return cmd_plot();
	}
	if (!strcmp(cmd, "report")) {
		only(cmd, O_SINCE);
		return cmd_report();
	}
	static const char *const cmds[] = {"status", "show", "logs", "follow", "check", "expect", "stats", "plot", "report", NULL};
	wr_die_unknown_command(WR_EXIT_USAGE, cmd, cmds);
}

int wr_main(int argc, char **argv)
{
	wr_cli_init("wr-watch", 0);
	int first = watch_opts(argc, argv);
	relative_times = wr_out_tty() && !opt.json;
	const char *cmd = first < argc ? argv[first++] : "status";
	return run_cmd(cmd, argc - first, argv + first);
}
