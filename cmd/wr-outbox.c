/* wr-outbox - notifications that always reach someone.
 *
 * The other tools enqueue outbox entries in the same decision as what they
 * report; this tool lists them, adds and imports entries, and delivers them:
 * it claims one due entry at a time under a lease (a decision), runs the
 * user's COMMAND with the entry's JSON on stdin (an argv, never a shell),
 * and records delivered, failed (with backoff) or dead. Delivery is
 * at-least-once; the entry id is the idempotency key. The decisions
 * themselves are in core/decide_outbox.c. */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compact.h"
#include "decide_outbox.h"
#include "deliverer.h"
#include "cli.h"
#include "err.h"
#include "suggest.h"
#include "event.h"
#include "follow.h"
#include "ledger.h"
#include "workrail.h"
#include "output.h"
#include "proc.h"
#include "random.h"
#include "sanitize.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"
#include "view_outbox.h"
#include "uuid.h"

static const char usage[] =
	"Usage: wr-outbox [--ledger PATH] [--json] COMMAND [ARGS]\n"
	"\n"
	"Notifications from the ledger, delivered at least once.\n"
	"\n"
	"Commands:\n"
	"  list [--pending|--dead|--all] [--format workrail]\n"
	"            entries not done yet (pending, claimed, dead); --pending: pending\n"
	"            and claimed; --dead; --all: delivered and acked too\n"
	"  add --kind KIND --message TEXT [--reason TEXT] [--run RUN] [--workflow W]\n"
	"      [--field K=V]...\n"
	"            enqueue an entry and print its id; KIND is one of stuck, timeout,\n"
	"            lost, failed, escalated, breaker_open, recovered, cancelled, custom\n"
	"  deliver [--max-attempts N] [--backoff INITIAL[,FACTOR[,MAX]]] [--timeout DUR]\n"
	"          [--kill-after DUR] [--lease DUR] [--limit N] -- COMMAND [ARG]...\n"
	"            claim each due entry under a lease and run COMMAND (no shell) with\n"
	"            the entry's JSON on stdin and WR_OUTBOX_ID in its environment;\n"
	"            exit 0 delivered, failed with backoff otherwise, dead after N\n"
	"            attempts. Defaults: 5 attempts, backoff 30s,2,1h (+-20% jitter),\n"
	"            timeout 60s, kill-after 5s, lease timeout+kill-after+30s\n"
	"  ack ID     mark an entry as handled (any state)\n"
	"  retry ID   bring a dead entry back to pending, its attempts reset\n"
	"  follow [--format workrail]\n"
	"            print entries as they are enqueued and change state\n"
	"  import FILE\n"
	"            enqueue workrail outbox.jsonl lines, idempotent by id ('-': stdin)\n"
	"\n"
	"ID is a full id, an unambiguous prefix, or the short id that list shows.\n"
	"\n"
	"Options:\n"
	"  --ledger PATH   the ledger (default $WR_LEDGER, else\n"
	"                  ${XDG_STATE_HOME:-~/.local/state}/wr/ledger.jsonl)\n"
	"  --json          one JSON object per line on stdout\n"
	"  -h, --help      show this help\n"
	"      --version   show the version\n"
	"\n"
	"Exit status: 0 done; 1 something needs attention (deliver: an entry failed\n"
	"or went dead; import: a bad line; retry: the entry is not dead); 2 usage,\n"
	"unknown or ambiguous ID; 74 I/O or ledger error (or no ledger);\n"
	"75 lock wait timed out.\n"
	"\n"
	"Examples:\n"
	"  wr-outbox deliver -- " WR_DATADIR "/notifiers/wr-notify-file ~/notifications.jsonl\n"
	"  wr-outbox deliver --max-attempts 8 --backoff 1m,2,6h -- curl -fsS --data-binary @- https://hooks.example/wr\n"
	"  wr-outbox list --json | jq -r 'select(.state == \"dead\") | .id'\n"
	"\n"
	"Notifiers (file, mail, webhook): " WR_DATADIR "/notifiers\n";

static int json_out;
static const char *ledger_opt;
static int fmt_workrail;

enum { O_FORMAT = 1000, O_PENDING, O_DEAD, O_ALL, O_KIND, O_MESSAGE, O_REASON,
       O_RUN, O_WORKFLOW, O_FIELD, O_MAX_ATTEMPTS, O_BACKOFF, O_TIMEOUT, O_KILL_AFTER, O_LEASE, O_LIMIT };


/* The options every command takes. */
static const struct wr_cli_common co = {&ledger_opt, &json_out, {usage, NULL, NULL}};

/* The next of a command's own options (wr_cli_next). */
static int next_opt(int argc, char **argv, const char *shortopts, const struct option *opts)
{
	return wr_cli_next(&co, argc, argv, shortopts, opts);
}

/* The options of a command that has none of its own. */
static void shared_opts(int argc, char **argv, const char *shortopts)
{
	static const struct option opts[] = {WR_CLI_OPTS_END};
	next_opt(argc, argv, shortopts, opts); /* -1: every option was a shared one */
}

static void set_format(const char *f)
{
	if (!strcmp(f, "workrail"))
		fmt_workrail = 1;
	else if (!strcmp(f, "json"))
		json_out = 1;
	else if (strcmp(f, "human"))
		wr_usage_error(WR_EXIT_USAGE, "unknown format '%s' (workrail, json or human)", f);
}

static void no_more_args(int argc, char **argv)
{
	if (optind < argc)
		wr_usage_error(WR_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
}

static void open_ledger(struct wr_ledger *l, int flags)
{
	if (wr_ledger_open(l, ledger_opt, flags) < 0)
		wr_die(wr_ledger_exit_status(), "%s", wr_errmsg());
}

/* A decision, or the end: by its exit status, or, when a signal stopped
 * deliver's wait on the ledger's servers, by that signal, as deliver ends
 * on one. */
static void commit(struct wr_ledger *l, wr_decide_fn fn, void *req, const char *what)
{
	if (wr_ledger_commit(l, fn, req) == 0)
		return;
	int sig = wr_deliverer_stopped();
	if (!sig)
		wr_die(wr_ledger_exit_status(), "%s: %s", what, wr_errmsg());
	wr_warn("%s: %s", what, wr_errmsg());
	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
	wr_die(128 + sig, "%s", strsignal(sig));
}

/* Where and how the outbox is shown (core/view_outbox.h). */
static struct wr_view view(void)
{
	struct wr_view v = {.f = stdout, .json = json_out, .relative = wr_out_tty()};
	return v;
}

/* ---- list ---- */

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pending", no_argument, NULL, O_PENDING}, {"dead", no_argument, NULL, O_DEAD},
		{"all", no_argument, NULL, O_ALL},         {"format", required_argument, NULL, O_FORMAT},
		WR_CLI_OPTS_END,
	};
	/* bit per state: pending, claimed, delivered, dead, acked */
	unsigned want = 1u << WR_OB_PENDING | 1u << WR_OB_CLAIMED | 1u << WR_OB_DEAD;
	int c;
	while ((c = next_opt(argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case O_PENDING:
			want = 1u << WR_OB_PENDING | 1u << WR_OB_CLAIMED;
			break;
		case O_DEAD:
			want = 1u << WR_OB_DEAD;
			break;
		case O_ALL:
			want = ~0u;
			break;
		case O_FORMAT:
			set_format(optarg);
			break;
		}
	}
	no_more_args(argc, argv);
	struct wr_ledger l;
	open_ledger(&l, 0);
	struct wr_view v = view();
	if (!wr_view_outbox(&v, wr_ledger_state(&l), want, fmt_workrail, wr_now_ms()) && !json_out && !fmt_workrail &&
	    wr_out_tty())
		printf("no outbox entries%s\n", want == ~0u ? "" : " to show (--all shows every entry)");
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* ---- add ---- */

/* An id-like option: valid UTF-8, NFC, 1 to 256 bytes. Dies otherwise. */
static char *id_arg(const char *opt, const char *s)
{
	char *n = wr_id_nfc(s);
	if (!n)
		wr_usage_error(WR_EXIT_USAGE, "%s: not valid UTF-8", opt);
	if (!*n || strlen(n) > 256)
		wr_usage_error(WR_EXIT_USAGE, "%s: must be 1 to 256 bytes", opt);
	return n;
}

static void text_arg(const char *opt, const char *s)
{
	if (!wr_utf8_valid(s, strlen(s)))
		wr_usage_error(WR_EXIT_USAGE, "%s: not valid UTF-8", opt);
}

static int cmd_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{"kind", required_argument, NULL, O_KIND},         {"message", required_argument, NULL, O_MESSAGE},
		{"reason", required_argument, NULL, O_REASON},     {"run", required_argument, NULL, O_RUN},
		{"workflow", required_argument, NULL, O_WORKFLOW}, {"field", required_argument, NULL, O_FIELD},
		WR_CLI_OPTS_END,
	};
	struct wr_outbox_add_req req = {0};
	char *run = NULL, *wf = NULL;
	json_t *details = NULL;
	int c;
	while ((c = next_opt(argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case O_KIND:
			req.kind = optarg;
			break;
		case O_MESSAGE:
			text_arg("--message", optarg);
			req.message = optarg;
			break;
		case O_REASON:
			text_arg("--reason", optarg);
			req.reason = optarg;
			break;
		case O_RUN:
			free(run);
			run = id_arg("--run", optarg);
			break;
		case O_WORKFLOW:
			free(wf);
			wf = id_arg("--workflow", optarg);
			break;
		case O_FIELD: {
			text_arg("--field", optarg);
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				wr_usage_error(WR_EXIT_USAGE, "--field '%s': expected KEY=VALUE", optarg);
			char *k = wr_xstrndup(optarg, (size_t)(eq - optarg));
			if (!details)
				details = json_object();
			json_object_set_new(details, k, json_string(eq + 1));
			free(k);
			break;
		}
		}
	}
	no_more_args(argc, argv);
	if (!req.kind)
		wr_usage_error(WR_EXIT_USAGE, "add: --kind is required");
	if (!wr_outbox_kind_valid(req.kind))
		wr_usage_error(WR_EXIT_USAGE,
			       "unknown kind '%s' (stuck, timeout, lost, failed, escalated, breaker_open, recovered, "
			       "cancelled or custom)",
			       req.kind);
	if (!req.message || !*req.message)
		wr_usage_error(WR_EXIT_USAGE, "add: --message TEXT is required");
	char id[WR_UUID_LEN];
	req.id = wr_uuid7(id);
	req.run = run;
	req.workflow = wf;
	req.details = details;
	struct wr_ledger l;
	open_ledger(&l, WR_LEDGER_WRITE);
	commit(&l, wr_decide_outbox_add, &req, "unable to enqueue the entry");
	const struct wr_outbox *o = wr_state_outbox(wr_ledger_state(&l), id);
	if (json_out && o)
		wr_out_json(wr_outbox_to_json(o));
	else
		printf("%s\n", id);
	json_decref(details);
	free(run);
	free(wf);
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* ---- ack, retry ---- */

static int cmd_one(int argc, char **argv, int retry)
{
	shared_opts(argc, argv, ":h");
	const char *what = retry ? "retry" : "ack";
	if (optind >= argc)
		wr_usage_error(WR_EXIT_USAGE, "%s: missing ID (see 'wr-outbox list')", what);
	struct wr_outbox_id_req req = {argv[optind], 0, NULL, WR_OB_PENDING};
	optind++;
	no_more_args(argc, argv);
	struct wr_ledger l;
	open_ledger(&l, WR_LEDGER_WRITE | WR_LEDGER_EXISTING);
	commit(&l, retry ? wr_decide_outbox_retry : wr_decide_outbox_ack, &req,
	       retry ? "unable to retry the entry" : "unable to acknowledge the entry");
	int rc = WR_EXIT_OK;
	char *shown = wr_xstrclean(req.id); /* an imported id is data */
	switch (req.found) {
	case WR_OBF_UNKNOWN:
		wr_die(WR_EXIT_USAGE, "%s: no outbox entry '%s' (see 'wr-outbox list --all')", what, req.key);
	case WR_OBF_AMBIGUOUS:
		wr_die(WR_EXIT_USAGE, "%s: '%s' names several outbox entries; type more of the id", what, req.key);
	case WR_OBF_NOOP:
		wr_warn("%s: entry %s was already acknowledged", what, shown);
		break;
	case WR_OBF_REFUSED:
		wr_warn("%s: entry %s is %s, not dead: only dead entries can be retried", what, shown,
			wr_outbox_state_name(req.was));
		rc = WR_EXIT_ATTENTION;
		break;
	case WR_OBF_OK:
		break;
	}
	const struct wr_outbox *o = wr_state_outbox(wr_ledger_state(&l), req.id);
	if (json_out && o)
		wr_out_json(wr_outbox_to_json(o));
	else if (req.found == WR_OBF_OK)
		printf("%s %s (was %s)\n", retry ? "retried" : "acked", shown, wr_outbox_state_name(req.was));
	free(shown);
	free(req.id);
	wr_ledger_close(&l);
	return rc;
}

static int cmd_ack(int argc, char **argv)
{
	return cmd_one(argc, argv, 0);
}

static int cmd_retry(int argc, char **argv)
{
	return cmd_one(argc, argv, 1);
}

/* ---- import ---- */

#define IMPORT_BATCH 500

/* Ids of the outbox entries compaction moved to the archive segments, so
 * that an entry delivered and archived is not imported again. */
static json_t *archived_ids(const char *path)
{
	json_t *ids = json_object();
	size_t n = 0;
	char **segs = wr_ledger_archives(path, &n);
	for (size_t i = 0; i < n; i++)
		free(segs[i]);
	free(segs);
	if (!n)
		return ids;
	struct wr_ledger a;
	if (wr_ledger_open(&a, path, WR_LEDGER_LAZY | WR_LEDGER_QUIET | WR_LEDGER_MISSING_OK) < 0 || wr_ledger_replay_archives(&a) < 0)
		wr_die(WR_EXIT_IO, "unable to read the archives of %s: %s", path, wr_errmsg());
	for (size_t i = 0; i < wr_state_outboxes(wr_ledger_state(&a))->n; i++)
		json_object_set_new(ids, wr_map_key_at(wr_state_outboxes(wr_ledger_state(&a)), i), json_true());
	wr_ledger_close(&a);
	return ids;
}

static void import_flush(struct wr_ledger *l, json_t *batch, int64_t *added, int64_t *skipped)
{
	if (!json_array_size(batch))
		return;
	/* The lock from here to the end of the commit (which takes it again on
	 * the same descriptor, then drops it): no compaction in between. */
	if (wr_ledger_lock(l) < 0)
		wr_die(wr_ledger_exit_status(), "unable to import: %s", wr_errmsg());
	struct wr_outbox_import_req req = {batch, archived_ids(wr_ledger_name(l)), 0, 0};
	commit(l, wr_decide_outbox_import, &req, "unable to import");
	json_decref(req.archived);
	*added += req.added;
	*skipped += req.skipped;
	json_array_clear(batch);
}

static int cmd_import(int argc, char **argv)
{
	shared_opts(argc, argv, ":h");
	if (optind >= argc)
		wr_usage_error(WR_EXIT_USAGE, "import: missing FILE (a workrail outbox.jsonl, or - for stdin)");
	const char *file = argv[optind++];
	no_more_args(argc, argv);
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!f)
		wr_diesys(WR_EXIT_IO, "unable to open %s", file);
	const char *name = f == stdin ? "(stdin)" : file;
	struct wr_ledger l;
	open_ledger(&l, WR_LEDGER_WRITE);
	json_t *batch = json_array();
	int64_t added = 0, skipped = 0, bad = 0, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		size_t len = (size_t)n;
		if (len && line[len - 1] == '\n')
			len--;
		if (len && line[len - 1] == '\r')
			len--;
		size_t sp = 0;
		while (sp < len && (line[sp] == ' ' || line[sp] == '\t'))
			sp++;
		if (sp == len)
			continue;
		char why[300];
		json_t *ev = wr_workrail_entry(line, len, why, sizeof why);
		if (!ev) {
			wr_sanitize(why, strlen(why)); /* it may quote the bad bytes */
			wr_warn("%s:%lld: %s", name, (long long)lineno, why);
			bad++;
			continue;
		}
		json_array_append_new(batch, ev);
		if (json_array_size(batch) >= IMPORT_BATCH)
			import_flush(&l, batch, &added, &skipped);
	}
	if (ferror(f))
		wr_diesys(WR_EXIT_IO, "unable to read %s", name);
	import_flush(&l, batch, &added, &skipped);
	free(line);
	json_decref(batch);
	if (f != stdin)
		fclose(f);
	if (json_out) {
		json_t *o = json_object();
		wr_jset_str(o, "file", name);
		wr_jset_int(o, "imported", added);
		wr_jset_int(o, "skipped", skipped);
		wr_jset_int(o, "bad_lines", bad);
		wr_out_json(o);
	} else {
		printf("%s: %lld imported, %lld already there, %lld bad line%s\n", name, (long long)added,
		       (long long)skipped, (long long)bad, bad == 1 ? "" : "s");
	}
	wr_ledger_close(&l);
	return bad ? WR_EXIT_ATTENTION : WR_EXIT_OK;
}

/* ---- follow ---- */

static void follow_event(void *ctx, const struct wr_event *ev, int applied, const char *why, int last)
{
	struct wr_ledger *l = ctx;
	(void)why;
	(void)last;
	if (applied != WR_APPLY_OK || ev->type < WR_EV_OUTBOX_ENQUEUED || ev->type > WR_EV_OUTBOX_RETRIED)
		return;
	const struct wr_outbox *o = wr_state_outbox(wr_ledger_state(l), wr_ev_str(ev, "id"));
	struct wr_view v = view();
	if (o)
		wr_view_outbox_event(&v, ev, o, fmt_workrail);
}

static int cmd_follow(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, O_FORMAT},
		WR_CLI_OPTS_END,
	};
	int c;
	while ((c = next_opt(argc, argv, ":h", opts)) != -1) {
		set_format(optarg); /* O_FORMAT */
	}
	no_more_args(argc, argv);
	struct wr_ledger l;
	/* As wr-watch follow and tail -F: a ledger not there yet is waited
	 * for, and said so once. */
	open_ledger(&l, WR_LEDGER_LAZY | WR_LEDGER_MISSING_OK);
	if (!wr_ledger_present(&l)) {
		wr_ledger_seterr_missing(ledger_opt, wr_ledger_name(&l));
		wr_warn("%s; waiting for it", wr_errmsg());
	}
	struct wr_follow fw = {.l = &l, .on_event = follow_event, .ctx = &l};
	if (wr_follow_run(&fw) < 0)
		wr_die(WR_EXIT_IO, "%s", wr_errmsg());
	wr_ledger_close(&l);
	return WR_EXIT_OK;
}

/* ---- deliver ---- */

struct deliver_opts {
	int64_t max_attempts;
	int64_t backoff_initial_ms, backoff_max_ms;
	double backoff_factor;
	int64_t timeout_ms, kill_after_ms, lease_ms;
	int64_t limit;
	char **argv;
	const char *ledger;            /* for the command's WR_LEDGER */
};

/* Runs COMMAND for the entry o with input on its stdin (see deliverer.h). */
static void run_command(const struct deliver_opts *d, const char *input, size_t len, const struct wr_outbox *o,
			const char *delivery, struct wr_delivered *res)
{
	char *env[] = {
		wr_xasprintf("WR_OUTBOX_ID=%s", o->id),
		wr_xasprintf("WR_OUTBOX_DELIVERY=%s", delivery),
		wr_xasprintf("WR_OUTBOX_ATTEMPT=%lld", (long long)o->attempts),
		wr_xasprintf("WR_OUTBOX_KIND=%s", o->kind),
		wr_xasprintf("WR_LEDGER=%s", d->ledger),
		NULL,
	};
	struct wr_deliverer dv = {d->argv, env, d->timeout_ms, d->kill_after_ms};
	int r = wr_deliverer_run(&dv, input, len, res);
	for (char **e = env; *e; e++)
		free(*e);
	if (r < 0)
		wr_die(WR_EXIT_IO, "%s", wr_errmsg());
}

static void report(const struct wr_outbox_done_req *dr, const struct wr_delivered *cr, const char *error,
		   const char *delivery, int64_t attempt)
{
	static const char *const names[] = {"none", "delivered", "failed", "dead"};
	char ts[WR_TS_LEN], dur[32];
	if (json_out) {
		json_t *o = json_object();
		wr_jset_str(o, "id", dr->id);
		wr_jset_str(o, "delivery", delivery);
		wr_jset_int(o, "attempt", attempt);
		wr_jset_str(o, "result", names[dr->result]);
		int exited = !cr->exec_errno && WIFEXITED(cr->status);
		wr_jset(o, "exit_code", exited ? json_integer(WEXITSTATUS(cr->status)) : json_null());
		wr_jset(o, "signal", !cr->exec_errno && WIFSIGNALED(cr->status) ? json_integer(WTERMSIG(cr->status))
										 : json_null());
		wr_jset(o, "timed_out", json_boolean(cr->timed_out));
		wr_jset_int(o, "duration_ms", cr->ms);
		wr_jset(o, "error", error ? json_string(error) : json_null());
		wr_jset(o, "next_at", dr->next_at ? json_string(wr_ts_format(dr->next_at, ts)) : json_null());
		wr_jset(o, "note", dr->why ? json_string(dr->why) : json_null());
		wr_out_json(o);
	} else {
		char *sid = wr_xstrclean(wr_short_id(dr->id)); /* an imported id is data */
		wr_dur_format(cr->ms, dur, sizeof dur);
		switch (dr->result) {
		case WR_OBR_DELIVERED:
			printf("delivered %s attempt %lld in %s\n", sid, (long long)attempt, dur);
			break;
		case WR_OBR_FAILED: {
			char in[32];
			wr_dur_format(dr->next_at - wr_now_ms() > 0 ? dr->next_at - wr_now_ms() : 0, in, sizeof in);
			printf("failed    %s attempt %lld: %s; next in %s\n", sid, (long long)attempt, error, in);
			break;
		}
		case WR_OBR_DEAD:
			printf("dead      %s attempt %lld: %s\n", sid, (long long)attempt, error);
			break;
		default:
			printf("%s %s attempt %lld: %s%s%s\n", error ? "failed   " : "delivered", sid, (long long)attempt,
			       error ? error : "", error ? "; " : "", dr->why ? dr->why : "");
		}
		free(sid);
	}
	fflush(stdout);
}

/* deliver's options into d; d->argv is the deliverer. */
static void deliver_opts(int argc, char **argv, struct deliver_opts *d)
{
	static const struct option opts[] = {
		{"max-attempts", required_argument, NULL, O_MAX_ATTEMPTS},
		{"backoff", required_argument, NULL, O_BACKOFF},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"kill-after", required_argument, NULL, O_KILL_AFTER},
		{"lease", required_argument, NULL, O_LEASE},
		{"limit", required_argument, NULL, O_LIMIT},
		WR_CLI_OPTS_END,
	};
	int c;
	while ((c = next_opt(argc, argv, "+:h", opts)) != -1) {
		switch (c) {
		case O_MAX_ATTEMPTS:
			d->max_attempts = wr_cli_int("max-attempts", optarg, 1, 1000000);
			break;
		case O_BACKOFF:
			wr_cli_backoff(optarg, &d->backoff_initial_ms, &d->backoff_factor, &d->backoff_max_ms);
			break;
		case O_TIMEOUT:
			d->timeout_ms = wr_cli_duration("timeout", optarg, WR_CLI_DUR_POSITIVE);
			break;
		case O_KILL_AFTER:
			d->kill_after_ms = wr_cli_duration("kill-after", optarg, WR_CLI_DUR_ZERO);
			break;
		case O_LEASE:
			d->lease_ms = wr_cli_duration("lease", optarg, WR_CLI_DUR_POSITIVE);
			break;
		case O_LIMIT:
			d->limit = wr_cli_int("limit", optarg, 1, INT64_MAX);
			break;
		}
	}
	if (optind >= argc)
		wr_usage_error(WR_EXIT_USAGE, "deliver: missing COMMAND (wr-outbox deliver [options] -- COMMAND [ARG]...)");
	d->argv = argv + optind;
	if (!d->lease_ms)
		d->lease_ms = d->timeout_ms + d->kill_after_ms + 30000;
	else if (d->lease_ms < d->timeout_ms + d->kill_after_ms)
		wr_warn("--lease is shorter than --timeout plus --kill-after: a slow delivery may be claimed again "
			"by another deliverer and delivered twice");
	if (!wr_proc_findable(d->argv[0]) && !strncmp(d->argv[0], "wr-notify-", 10))
		/* the shipped notifiers are installed beside the data, not on PATH */
		wr_die(WR_EXIT_USAGE,
		       "deliver: cannot run '%s': not an executable file on PATH; the notifiers that come with wr "
		       "are in " WR_DATADIR "/notifiers: give the full path, " WR_DATADIR "/notifiers/%s",
		       d->argv[0], d->argv[0]);
	if (!wr_proc_findable(d->argv[0]))
		wr_die(WR_EXIT_USAGE, "deliver: cannot run '%s': not an executable file%s", d->argv[0],
		       strchr(d->argv[0], '/') ? "" : " on PATH");
}

/* What the deliverer reads on stdin: the claimed entry as one JSON line,
 * with the delivery, its attempt and the attempts allowed. */
static char *delivery_input(const struct wr_outbox *o, const char *delivery, int64_t max_attempts)
{
	json_t *j = wr_outbox_to_json(o);
	wr_jset_str(j, "delivery", delivery);
	wr_jset_int(j, "attempt", o->attempts);
	wr_jset_int(j, "max_attempts", max_attempts);
	char *in = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!in)
		wr_die(WR_EXIT_IO, "out of memory");
	char *line = wr_xasprintf("%s\n", in);
	free(in);
	return line;
}

/* Claims one entry and delivers it; returns 0 when none was due, else 1,
 * counting what failed (and what went dead) in *failures. */
static int deliver_one(struct wr_ledger *l, const struct deliver_opts *d, int *failures)
{
	char delivery[WR_UUID_LEN];
	struct wr_outbox_claim_req cr = {wr_uuid7(delivery), d->lease_ms, d->max_attempts, NULL, 0};
	commit(l, wr_decide_outbox_claim, &cr, "unable to claim an entry");
	if (cr.dead) {
		wr_warn("%lld entr%s went dead: the deliverer of its last attempt vanished", (long long)cr.dead,
			cr.dead == 1 ? "y" : "ies");
		(*failures)++;
	}
	if (!cr.id)
		return 0;
	const struct wr_outbox *o = wr_state_outbox(wr_ledger_state(l), cr.id);
	if (!o || o->state != WR_OB_CLAIMED || !o->delivery || strcmp(o->delivery, delivery))
		wr_die(WR_EXIT_IO, "internal error: claim of %s not in the state", cr.id);
	int64_t attempt = o->attempts;
	char *in = delivery_input(o, delivery, d->max_attempts);
	struct wr_delivered res;
	run_command(d, in, strlen(in), o, delivery, &res);
	free(in);
	char *error = wr_delivered_error(d->argv[0], d->timeout_ms, &res);
	struct wr_outbox_done_req dr = {cr.id,
					delivery,
					error == NULL,
					error,
					d->max_attempts,
					d->backoff_initial_ms,
					d->backoff_max_ms,
					d->backoff_factor,
					wr_random_unit(),
					WR_OBR_NONE,
					0,
					0,
					NULL};
	commit(l, wr_decide_outbox_done, &dr, "unable to record the delivery");
	report(&dr, &res, error, delivery, attempt);
	if (error)
		(*failures)++;
	free(error);
	free(cr.id);
	return 1;
}

static int cmd_deliver(int argc, char **argv)
{
	struct deliver_opts d = {5, 30000, 3600000, 2.0, 60000, 5000, 0, 0, NULL, NULL};
	deliver_opts(argc, argv, &d);
	if (wr_deliverer_signals() < 0)
		wr_die(WR_EXIT_IO, "%s", wr_errmsg());
	struct wr_ledger l;
	open_ledger(&l, WR_LEDGER_WRITE | WR_LEDGER_EXISTING);
	d.ledger = wr_ledger_name(&l);
	int failures = 0;
	for (int64_t n = 0; !wr_deliverer_stopped() && (!d.limit || n < d.limit) && deliver_one(&l, &d, &failures);
	     n++)
		;
	wr_ledger_close(&l);
	int sig = wr_deliverer_stopped();
	if (sig) {
		fflush(stdout);
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return failures ? WR_EXIT_ATTENTION : WR_EXIT_OK;
}

int wr_main(int argc, char **argv)
{
	wr_cli_init("wr-outbox", 0);
	shared_opts(argc, argv, "+:h");
	if (optind >= argc)
		wr_usage_error(WR_EXIT_USAGE, "missing command: list, add, deliver, ack, retry, follow or import");
	const char *cmd = argv[optind];
	/* Each command parses its own options from its name on. */
	argc -= optind;
	argv += optind;
	optind = 0; /* glibc: start again, argv[0] being the command */
	static const struct wr_cli_cmd cmds[] = {
		{"list", cmd_list, NULL},     {"add", cmd_add, NULL},       {"deliver", cmd_deliver, NULL},
		{"ack", cmd_ack, NULL},       {"retry", cmd_retry, NULL},   {"follow", cmd_follow, NULL},
		{"import", cmd_import, NULL}, {NULL, NULL, NULL},
	};
	return wr_cli_run_cmd(cmds, cmd, argc, argv);
}
