/* wr-ledger - the ledger file itself: verify, repair, compact, stats. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compact.h"
#include "census.h"
#include "cli.h"
#include "retain.h"
#include "err.h"
#include "suggest.h"
#include "ledger.h"
#include "ledger_io.h"
#include "output.h"
#include "timefmt.h"
#include "util.h"
#include "verify.h"

static const char usage[] =
	"Usage: wr-ledger [--ledger PATH|URL] [--json] COMMAND [FILE]\n"
	"\n"
	"Keep the ledger healthy; move it in and out of a JetStream stream.\n"
	"\n"
	"Commands:\n"
	"  verify    check every line, seq continuity, whole decisions and the\n"
	"            invariants of runs and attempts; print each problem with its\n"
	"            line number (exit 0 clean, 1 problems found); archive\n"
	"            segments no compaction reaches (orphans) are problems too\n"
	"  repair    move a torn tail (a crash's half-written decision) to\n"
	"            PATH.quarantine and record ledger.repaired; remove orphan\n"
	"            archive segments (their events are in the chain or the ledger)\n"
	"  compact   move the events of runs that ended (succeeded or cancelled)\n"
	"            and of delivered or acked notifications, older than --keep,\n"
	"            to an archive PATH.archive.N beside the ledger, and remove\n"
	"            their output logs (PATH.logs/RUN); the state of everything\n"
	"            kept is unchanged. --archives-keep also deletes the archive\n"
	"            segments older than DUR (the totals stay in the ledger)\n"
	"  stats     events by type, runs by status, outbox by state, size, span\n"
	"  init      create the ledger: a JetStream stream (--ledger nats://...)\n"
	"            with --replicas copies (a stream is never created otherwise);\n"
	"            an existing one is checked and refused when set up otherwise;\n"
	"            a file is created empty\n"
	"  export    write the ledger's whole decisions as JSONL on stdout (a\n"
	"            stream: what a file ledger would hold, byte for byte)\n"
	"  import FILE\n"
	"            append the decisions of the ledger file FILE to an empty\n"
	"            ledger (a stream), keeping every seq and id; run again, it\n"
	"            skips what is there and adds the rest\n"
	"\n"
	"Options:\n"
	"  --ledger PATH|URL\n"
	"                  the ledger: a file, or a JetStream stream\n"
	"                  nats://HOST:PORT[,HOST:PORT...]/STREAM (default\n"
	"                  $WR_LEDGER, else ${XDG_STATE_HOME:-~/.local/state}/wr/ledger.jsonl)\n"
	"  --json          one JSON object per line on stdout\n"
	"  --keep DUR      compact: keep what ended less than DUR ago (default 7d)\n"
	"  --archives-keep DUR\n"
	"                  compact: delete archive segments whose newest event is\n"
	"                  older than DUR (never the newest segment)\n"
	"  --replicas N    init: the copies of a stream, 1 to 5 (default 1; 3 for\n"
	"                  a cluster, see wr(7))\n"
	"  --deep          verify: also compare the state the snapshot gives with a\n"
	"                  full replay, naming what differs\n"
	"  -h, --help      show this help\n"
	"      --version   show the version\n"
	"\n"
	"Exit status: 0 done (verify: clean), 1 problems found (import: the\n"
	"file or the ledger refused), 2 usage, 74 I/O or ledger error (or no\n"
	"ledger), 75 lock wait timed out, NATS out of reach: retry later.\n"
	"\n"
	"Examples:\n"
	"  wr-ledger verify\n"
	"  wr-ledger --json verify |\n"
	"  jq -r 'if .line then \"\\(.line): \\(.message)\" else \"\\(.problems) problems\" end'\n"
	"  wr-ledger stats --json | jq .runs\n"
	"  wr-ledger compact --keep 30d\n"
	"  wr-ledger compact --keep 7d --archives-keep 365d\n"
	"  wr-ledger init --ledger nats://n1:4222,n2:4222,n3:4222/WR --replicas 3\n"
	"  wr-ledger import ~/.local/state/wr/ledger.jsonl --ledger nats://n1:4222/WR\n";

static int json_out;
static const char *ledger_opt;
static const char *replicas_opt;

/* A progress bar on stderr, for long reads of big ledgers on a terminal
 * only: never in a pipe, a log or cron's mail. */
#define PROGRESS_MIN_BYTES (16 << 20)

struct progress {
	const char *what;
	int shown;
	int64_t last_ms;
};

static void progress_show(void *ctx, off_t done, off_t total)
{
	struct progress *p = ctx;
	if (total < PROGRESS_MIN_BYTES)
		return;
	int64_t now = wr_mono_ms();
	if (p->shown && now - p->last_ms < 200)
		return;
	p->last_ms = now;
	p->shown = 1;
	int pct = (int)(done * 100 / total), bar = pct * 30 / 100;
	fprintf(stderr, "\r%s: %s %3d%% [%.*s%*s] %lld of %lld MB", wr_prog, p->what, pct, bar,
		"==============================", 30 - bar, "", (long long)(done >> 20), (long long)(total >> 20));
}

/* Sets up the bar on l when stderr is a terminal. */
static void progress_start(struct wr_ledger *l, struct progress *p, const char *what)
{
	p->what = what;
	p->shown = 0;
	if (!isatty(STDERR_FILENO))
		return;
	wr_ledger_on_progress(l, progress_show, p);
}

static void progress_end(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = 0;
}

static struct progress bar;
static const char *keep_opt, *archives_keep_opt;
static int deep_opt;

/* A problem (or the note of clock skew) for people or as JSON. */
static void problem(void *ctx, const struct wr_problem *p)
{
	(void)ctx;
	progress_end(&bar); /* the problem's line, not the bar, stays on screen */
	if (json_out) {
		wr_out_json(wr_problem_json(p));
		return;
	}
	struct wr_buf b = {0};
	wr_problem_text(&b, p);
	fputs(wr_buf_str(&b), stdout);
	wr_buf_free(&b);
}

static int cmd_verify(void)
{
	struct wr_ledger l;
	struct wr_verify v = {deep_opt, problem, NULL, 0};
	memset(&l, 0, sizeof l);
	if (wr_ledger_open(&l, ledger_opt, WR_LEDGER_QUIET | WR_LEDGER_LAZY | WR_LEDGER_NOSNAP) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	progress_start(&l, &bar, "verifying");
	int rr = wr_verify_run(&l, &v);
	progress_end(&bar);
	if (rr < 0)
		wr_die(WR_EXIT_IO, "%s", wr_errmsg());
	const struct wr_state *st = wr_ledger_state(&l);
	if (json_out) {
		json_t *o = json_object();
		wr_jset_str(o, "file", wr_ledger_name(&l));
		wr_jset_int(o, "events", st->events);
		wr_jset_int(o, "last_seq", st->last_seq);
		wr_jset_int(o, "stale", st->stale);
		wr_jset_int(o, "future", wr_ledger_future(&l)->events);
		wr_jset_int(o, "problems", v.problems);
		wr_jset(o, "ok", json_boolean(v.problems == 0));
		wr_out_json(o);
	} else {
		printf("%s: %lld events, last seq %lld, %lld stale, %lld problem%s\n", wr_ledger_name(&l),
		       (long long)st->events, (long long)st->last_seq, (long long)st->stale, (long long)v.problems,
		       v.problems == 1 ? "" : "s");
	}
	wr_ledger_close(&l);
	return v.problems ? WR_EXIT_ATTENTION : WR_EXIT_OK;
}

static int cmd_repair(void)
{
	struct wr_ledger l;
	/* Never creates one: repairing a path with a typo must not look
	 * like a repaired ledger. */
	if (wr_ledger_open(&l, ledger_opt, WR_LEDGER_WRITE | WR_LEDGER_EXISTING | WR_LEDGER_QUIET) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	off_t before = wr_ledger_scan(&l)->end - wr_ledger_scan(&l)->off;
	int r = wr_ledger_repair(&l);
	if (r < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	char **orphans;
	size_t norphans;
	if (wr_ledger_remove_orphans(&l, &orphans, &norphans) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	for (size_t i = 0; i < norphans; i++) {
		if (!json_out)
			printf("%s: removed orphan archive segment %s\n", wr_ledger_name(&l), orphans[i]);
	}
	if (json_out) {
		json_t *o = json_object();
		wr_jset_str(o, "file", wr_ledger_name(&l));
		wr_jset(o, "repaired", json_boolean(r == 1));
		wr_jset_int(o, "bytes", r == 1 ? (int64_t)before : 0);
		wr_jset(o, "quarantine", r == 1 ? json_string(wr_ledger_quarantine_path(&l)) : json_null());
		json_t *rm = json_array();
		for (size_t i = 0; i < norphans; i++)
			json_array_append_new(rm, json_string(orphans[i]));
		wr_jset(o, "removed_orphans", rm);
		wr_out_json(o);
	} else if (r == 0 && norphans) {
		/* the removals were printed */
	} else if (r == 0) {
		printf("%s: nothing to repair\n", wr_ledger_name(&l));
	} else {
		printf("%s: torn tail moved to %s; recorded as ledger.repaired\n", wr_ledger_name(&l),
		       wr_ledger_quarantine_path(&l));
	}
	for (size_t i = 0; i < norphans; i++)
		free(orphans[i]);
	free(orphans);
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* Deletes the archive segments older than --archives-keep; says so. */
static void prune_archives(struct wr_ledger *l, int64_t keep, json_t *o)
{
	struct wr_prune_result pr;
	if (wr_ledger_prune_archives(l, keep, &pr) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	json_t *names = json_array();
	for (int64_t i = 0; i < pr.segments; i++)
		json_array_append_new(names, json_string(pr.names[i]));
	if (o) {
		wr_jset(o, "archives_deleted", names);
		wr_jset_int(o, "archives_deleted_bytes", pr.bytes);
	} else {
		if (pr.segments)
			printf("%s: deleted %lld archive segment%s (%lld bytes) older than %s, oldest first:", wr_ledger_name(l),
			       (long long)pr.segments, pr.segments == 1 ? "" : "s", (long long)pr.bytes, archives_keep_opt);
		else
			printf("%s: no archive segment is older than %s; none deleted\n", wr_ledger_name(l), archives_keep_opt);
		for (int64_t i = 0; i < pr.segments; i++)
			printf(" %s%s", pr.names[i], i + 1 < pr.segments ? "" : "\n");
		json_decref(names);
	}
	wr_prune_result_free(&pr);
}

static int cmd_compact(void)
{
	int64_t keep = 7 * 86400000LL, akeep = 0;
	if (keep_opt)
		keep = wr_cli_duration("keep", keep_opt, WR_CLI_DUR_ZERO);
	if (archives_keep_opt)
		akeep = wr_cli_duration("archives-keep", archives_keep_opt, WR_CLI_DUR_ZERO);
	struct wr_ledger l;
	if (wr_ledger_open(&l, ledger_opt, WR_LEDGER_WRITE | WR_LEDGER_EXISTING | WR_LEDGER_LAZY) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	struct wr_compact_result res;
	progress_start(&l, &bar, "compacting");
	/* The runs before, to remove the logs of those the compaction archives. */
	if (wr_ledger_refresh(&l) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	size_t nids;
	char **ids = wr_run_ids(wr_ledger_state(&l), &nids);
	int r = wr_ledger_compact(&l, keep, &res);
	progress_end(&bar);
	if (r < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	int64_t logs = r == 1 ? wr_outlog_prune(wr_ledger_name(&l), ids, nids, wr_ledger_state(&l)) : 0;
	if (logs < 0)
		wr_warn("%s; some output logs of the archived runs are left in %s.logs", wr_errmsg(), wr_ledger_name(&l));
	for (size_t i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	if (json_out) {
		json_t *o = json_object();
		wr_jset_str(o, "file", wr_ledger_name(&l));
		wr_jset(o, "compacted", json_boolean(r == 1));
		wr_jset(o, "archive", r == 1 ? json_string(res.archive) : json_null());
		wr_jset_int(o, "archived_events", res.archived_events);
		wr_jset_int(o, "archived_runs", res.archived_runs);
		wr_jset_int(o, "archived_outbox", res.archived_outbox);
		wr_jset_int(o, "kept_events", res.kept_events);
		wr_jset_int(o, "through_seq", res.through);
		wr_jset_int(o, "logs_removed", logs < 0 ? 0 : logs);
		if (archives_keep_opt)
			prune_archives(&l, akeep, o);
		wr_out_json(o);
	} else {
		if (r == 0)
			printf("%s: nothing ended before the last %s; nothing moved\n", wr_ledger_name(&l), keep_opt ? keep_opt : "7d");
		else
			printf("%s: moved %lld events (%lld runs, %lld notifications) to %s; %lld events kept", wr_ledger_name(&l),
			       (long long)res.archived_events, (long long)res.archived_runs, (long long)res.archived_outbox,
			       res.archive, (long long)res.kept_events);
		if (r == 1 && logs > 0)
			printf("; removed the output logs of %lld run%s", (long long)logs, logs == 1 ? "" : "s");
		if (r == 1)
			putchar('\n');
		if (archives_keep_opt)
			prune_archives(&l, akeep, NULL);
	}
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

static int cmd_stats(void)
{
	struct wr_ledger l;
	struct wr_census c = {0};
	memset(&l, 0, sizeof l);
	if (wr_ledger_open(&l, ledger_opt, WR_LEDGER_QUIET | WR_LEDGER_LAZY) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	progress_start(&l, &bar, "reading");
	wr_ledger_on_events(&l, wr_census_on_events, &c);
	int rr = wr_ledger_refresh(&l);
	progress_end(&bar);
	if (rr < 0)
		wr_die(WR_EXIT_IO, "%s", wr_errmsg());
	c.path = wr_ledger_name(&l);
	c.bytes = (int64_t)wr_ledger_scan(&l)->end;
	c.bad_lines = wr_ledger_bad_lines(&l);
	c.torn = wr_ledger_scan(&l)->torn;
	if (json_out) {
		wr_out_json(wr_census_json(&c, wr_ledger_state(&l)));
	} else {
		struct wr_buf b = {0};
		wr_census_text(&b, &c, wr_ledger_state(&l));
		wr_out_wrapped(stdout, wr_buf_str(&b), WR_CENSUS_KEY);
		wr_buf_free(&b);
	}
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

static int cmd_init(void)
{
	int replicas = 1, created;
	if (replicas_opt) {
		char *end;
		long v = strtol(replicas_opt, &end, 10);
		if (*end || end == replicas_opt || v < 1 || v > 5)
			wr_usage_error(WR_EXIT_USAGE, "bad --replicas '%s': a number of copies from 1 to 5", replicas_opt);
		replicas = (int)v;
	}
	char *where = wr_ledger_path(ledger_opt);
	if (wr_store_init(where, replicas_opt ? replicas : 0, &created) < 0) {
		free(where);
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	}
	if (json_out) {
		json_t *o = json_object();
		wr_jset_str(o, "ledger", where);
		wr_jset(o, "created", json_boolean(created));
		wr_out_json(o);
	} else {
		printf("%s: %s\n", where, created ? "created" : "exists, set up for a ledger");
	}
	free(where);
	return WR_EXIT_OK;
}

static int cmd_export(void)
{
	struct wr_ledger l;
	if (wr_ledger_open(&l, ledger_opt, WR_LEDGER_QUIET | WR_LEDGER_NOSNAP) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	if (wr_ledger_export(&l, STDOUT_FILENO) < 0)
		wr_die(WR_EXIT_IO, "%s", wr_errmsg());
	if (wr_ledger_scan(&l)->torn)
		wr_warn("%s: a torn tail after line %lld is not exported", wr_ledger_name(&l),
			(long long)wr_ledger_scan(&l)->line - 1);
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* wr-ledger import FILE */
static int cmd_import(int argc, char **argv)
{
	(void)argc;
	const char *file = argv[1];
	struct wr_ledger l;
	if (wr_ledger_open(&l, ledger_opt, WR_LEDGER_WRITE | WR_LEDGER_EXISTING | WR_LEDGER_QUIET | WR_LEDGER_LAZY) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
	struct wr_import_result res;
	if (wr_ledger_import(&l, file, &res) < 0)
		wr_die(wr_errkind() == WR_E_INPUT || wr_errkind() == WR_E_REFUSED ? WR_EXIT_ATTENTION
										   : wr_ledger_exit_status(),
		       "%s", wr_errmsg());
	if (json_out) {
		json_t *o = json_object();
		wr_jset_str(o, "ledger", wr_ledger_name(&l));
		wr_jset_str(o, "file", file);
		wr_jset_int(o, "decisions", res.decisions);
		wr_jset_int(o, "skipped", res.skipped);
		wr_jset_int(o, "appended", res.appended);
		wr_out_json(o);
	} else {
		printf("%s: imported %lld decision%s of %s", wr_ledger_name(&l), (long long)res.appended,
		       res.appended == 1 ? "" : "s", file);
		if (res.skipped)
			printf(" (%lld there already)", (long long)res.skipped);
		putchar('\n');
	}
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

int wr_main(int argc, char **argv)
{
	wr_cli_init("wr-ledger", 0);
	static const struct option opts[] = {
		{"keep", required_argument, NULL, 'k'},
		{"archives-keep", required_argument, NULL, 'K'},
		{"deep", no_argument, NULL, 'D'},
		{"replicas", required_argument, NULL, 'R'},
		WR_CLI_OPTS_END,
	};
	static const struct wr_cli_common co = {&ledger_opt, &json_out, {usage, NULL, NULL}};
	int c;
	while ((c = wr_cli_next(&co, argc, argv, ":h", opts)) != -1) {
		if (c == 'k')
			keep_opt = optarg;
		else if (c == 'K')
			archives_keep_opt = optarg;
		else if (c == 'R')
			replicas_opt = optarg;
		else
			deep_opt = 1; /* 'D' */
	}
	if (optind >= argc)
		wr_usage_error(WR_EXIT_USAGE, "missing command: verify, repair, compact, stats, init, export or import");
	const char *cmd = argv[optind];
	int nargs = !strcmp(cmd, "import");
	if (nargs && optind + 1 >= argc)
		wr_usage_error(WR_EXIT_USAGE, "missing FILE: write 'wr-ledger import FILE'");
	if (optind + 1 + nargs < argc)
		wr_usage_error(WR_EXIT_USAGE, "unexpected argument '%s'", argv[optind + 1 + nargs]);
	if (replicas_opt && strcmp(cmd, "init"))
		wr_usage_error(WR_EXIT_USAGE, "--replicas goes with init only");
	if (keep_opt && strcmp(cmd, "compact"))
		wr_usage_error(WR_EXIT_USAGE, "--keep goes with compact only");
	if (archives_keep_opt && strcmp(cmd, "compact"))
		wr_usage_error(WR_EXIT_USAGE, "--archives-keep goes with compact only");
	if (deep_opt && strcmp(cmd, "verify"))
		wr_usage_error(WR_EXIT_USAGE, "--deep goes with verify only");
	static const struct wr_cli_cmd cmds[] = {
		{"verify", NULL, cmd_verify}, {"repair", NULL, cmd_repair}, {"compact", NULL, cmd_compact},
		{"stats", NULL, cmd_stats},   {"init", NULL, cmd_init},     {"export", NULL, cmd_export},
		{"import", cmd_import, NULL}, {NULL, NULL, NULL},
	};
	return wr_cli_run_cmd(cmds, cmd, argc - optind, argv + optind);
}
