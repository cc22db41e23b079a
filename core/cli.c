/* cli.c - shared command-line parsing and exit statuses (see cli.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "labels.h"
#include "output.h"
#include "suggest.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"

static int wrapping;

static const struct {
	int tool, wrapper;
} exits[] = {
	[WR_CLI_USAGE] = {WR_EXIT_USAGE, 125},
	[WR_CLI_NO_RUN] = {WR_EXIT_USAGE, 125},
	[WR_CLI_IO] = {WR_EXIT_IO, 125},
	[WR_CLI_LOCKED] = {WR_EXIT_TEMPFAIL, 125},
	[WR_CLI_REJECTED] = {WR_EXIT_TEMPFAIL, 75},
};

void wr_cli_init(const char *prog, int wrapper)
{
	wr_prog = prog;
	wrapping = wrapper;
	wr_exit_failure = wrapper ? 125 : WR_EXIT_IO;
	opterr = 0;
}

int wr_cli_exit(enum wr_cli_outcome o)
{
	return wrapping ? exits[o].wrapper : exits[o].tool;
}

void wr_cli_color(const char *when)
{
	if (!strcmp(when, "always"))
		wr_out_set_color(1);
	else if (!strcmp(when, "never"))
		wr_out_set_color(0);
	else if (!strcmp(when, "auto"))
		wr_out_set_color(-1);
	else
		wr_usage_error(wr_cli_exit(WR_CLI_USAGE), "invalid value '%s' for --color (auto, always or never)", when);
}

/* Exits 0 once what --help or --version printed is written. */
static noreturn void exit_printed(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		wr_warnsys("unable to write standard output");
		exit(wr_cli_exit(WR_CLI_IO));
	}
	exit(0);
}

void wr_cli_common_opt(const struct wr_cli_common *co, int c, char **argv, const struct option *opts)
{
	switch (c) {
	case WR_CLI_O_LEDGER:
		*co->ledger = optarg;
		return;
	case WR_CLI_O_JSON:
		*co->json = 1;
		return;
	case WR_CLI_O_COLOR:
		wr_cli_color(optarg);
		return;
	case 'h':
		for (int i = 0; i < 3 && co->help[i]; i++)
			fputs(co->help[i], stdout);
		exit_printed();
	case WR_CLI_O_VERSION:
		wr_print_version();
		exit_printed();
	case ':':
		wr_usage_error(wr_cli_exit(WR_CLI_USAGE), "option '%s' needs a value", argv[optind - 1]);
	default:
		wr_die_unknown_option(wr_cli_exit(WR_CLI_USAGE), argv, opts);
	}
}

int wr_cli_next(const struct wr_cli_common *co, int argc, char **argv, const char *shortopts,
		const struct option *opts)
{
	for (;;) {
		int c = getopt_long(argc, argv, shortopts, opts, NULL);
		switch (c) {
		case WR_CLI_O_LEDGER:
		case WR_CLI_O_JSON:
		case WR_CLI_O_COLOR:
		case WR_CLI_O_VERSION:
		case 'h':
		case ':':
		case '?':
			wr_cli_common_opt(co, c, argv, opts);
			continue;
		default:
			return c;
		}
	}
}

int64_t wr_cli_duration(const char *opt, const char *s, enum wr_cli_dur kind)
{
	int64_t ms;
	const char *why;
	if (wr_dur_parse_why(s, &ms, &why) < 0)
		wr_usage_error(wr_cli_exit(WR_CLI_USAGE),
			       "option '--%s': invalid duration '%s': %s (write 90s, 5m, 1h30m, 2.5e1m, 250ms)", opt, s, why);
	if (kind == WR_CLI_DUR_POSITIVE && ms == 0)
		wr_usage_error(wr_cli_exit(WR_CLI_USAGE), "option '--%s': the duration must be more than 0, not '%s'", opt,
			       s);
	if (kind == WR_CLI_DUR_OFF && ms >= WR_DUR_FOREVER)
		ms = 0;
	return ms;
}

int64_t wr_cli_int(const char *opt, const char *s, int64_t min, int64_t max)
{
	int64_t v;
	if (wr_parse_int(s, min, max, &v) < 0)
		wr_usage_error(wr_cli_exit(WR_CLI_USAGE), "option '--%s': expected a whole number from %lld to %lld, not '%s'",
			       opt, (long long)min, (long long)max, s);
	return v;
}

void wr_cli_backoff(const char *s, int64_t *initial_ms, double *factor, int64_t *max_ms)
{
	char *copy = wr_xstrdup(s), *save = NULL;
	char *parts[4] = {0};
	int n = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (n < 4)
			parts[n++] = t;
	if (n < 1 || n > 3 || (s[0] == ',' || strstr(s, ",,") || s[strlen(s) - 1] == ','))
		wr_usage_error(wr_cli_exit(WR_CLI_USAGE), "option '--backoff': expected INITIAL[,FACTOR[,MAX]], e.g. 30s,2,1h");
	*initial_ms = wr_cli_duration("backoff", parts[0], WR_CLI_DUR_ZERO);
	if (n > 1) {
		char *end;
		errno = 0;
		double f = strtod(parts[1], &end);
		if (errno || *end || !isfinite(f) || f < 1.0 || f > 1000.0)
			wr_usage_error(wr_cli_exit(WR_CLI_USAGE),
				       "option '--backoff': factor must be a number from 1 to 1000, not '%s'", parts[1]);
		*factor = f;
	}
	if (n > 2) {
		*max_ms = wr_cli_duration("backoff", parts[2], WR_CLI_DUR_ZERO);
		if (*max_ms < *initial_ms)
			wr_usage_error(wr_cli_exit(WR_CLI_USAGE), "option '--backoff': MAX must not be less than INITIAL");
	} else if (*max_ms < *initial_ms) {
		*max_ms = *initial_ms;
	}
	free(copy);
}

void wr_cli_label(const char *s, json_t *labels)
{
	char *k, *v;
	if (wr_label_parse(s, &k, &v) < 0)
		wr_usage_error(wr_cli_exit(WR_CLI_USAGE), "option '--label': %s", wr_errmsg());
	json_object_set_new(labels, k, json_string(v));
	free(k);
	free(v);
}

/* "\n  ID  WORKFLOW" for the first ten runs that arg could mean. */
static void candidates(const struct wr_state *st, const char *arg, struct wr_buf *b)
{
	size_t n = strlen(arg), shown = 0, total = 0;
	int by_prefix = 0;
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *c; (c = wr_runs_next(&it));)
		by_prefix |= !strncmp(c->id, arg, n);
	wr_runs_begin(&it, st);
	for (const struct wr_run *c; (c = wr_runs_next(&it));) {
		size_t k = strlen(c->id);
		int match = by_prefix ? !strncmp(c->id, arg, n) : k >= n && !strcmp(c->id + k - n, arg);
		if (!match)
			continue;
		total++;
		if (shown++ < 10) {
			wr_buf_addstr(b, "\n  ");
			wr_buf_addclean(b, c->id);
			wr_buf_addstr(b, "  ");
			wr_buf_addclean(b, c->workflow);
		}
	}
	if (total > shown)
		wr_buf_addf(b, "\n  ... and %zu more", total - shown);
}

struct wr_run *wr_cli_find_run(const struct wr_state *st, const char *arg, const char *ledger_path)
{
	/* Static: what the message holds stays reachable while it dies. */
	static char *id;
	static struct wr_buf shown, b;
	id = wr_id_nfc(arg);
	if (!id)
		wr_usage_error(wr_cli_exit(WR_CLI_USAGE), "run '%s' is not valid UTF-8", arg);
	int ambiguous;
	struct wr_run *r = wr_state_find_run(st, id, &ambiguous);
	if (r) {
		free(id);
		id = NULL;
		return r;
	}
	wr_buf_addclean(&shown, id);
	if (!ambiguous)
		wr_die(wr_cli_exit(WR_CLI_NO_RUN), "no run '%s' in the ledger %s; 'wr-watch status --all' lists the runs",
		       wr_buf_str(&shown), ledger_path);
	candidates(st, id, &b);
	wr_die(wr_cli_exit(WR_CLI_NO_RUN), "run '%s' is ambiguous; type more of the id. It matches:%s", wr_buf_str(&shown),
	       wr_buf_str(&b));
}

int wr_cli_run_cmd(const struct wr_cli_cmd *cmds, const char *name, int argc, char **argv)
{
	const char *names[32];
	size_t n = 0;
	for (const struct wr_cli_cmd *c = cmds; c->name; c++) {
		if (!strcmp(c->name, name))
			return c->run ? c->run(argc, argv) : c->run_noargs();
		if (n + 1 < sizeof names / sizeof *names)
			names[n++] = c->name;
	}
	names[n] = NULL;
	wr_die_unknown_command(WR_EXIT_USAGE, name, names);
}
