/* cli.h - what the tools' command lines share, parsed once: durations,
 * whole numbers, --backoff, --label, a RUN argument, and one table of exit
 * statuses for the outcomes every tool can meet.
 *
 * Exit statuses (docs and every man page say the same):
 *
 *   outcome                          wr-watch, wr-recover,     wr-run (as
 *                                    wr-outbox, wr-ledger      timeout(1))
 *   usage error                      2                         125
 *   RUN names no run, or several     2                         125
 *   I/O or ledger error              74                        125
 *   ledger lock not taken in time    75                        125
 *   rejected (breaker, limit)        75                        75
 *
 * A RUN that names no run is a mistake in the command line, so it is a
 * usage-level error; wr-run reports all its own failures as 125 so that
 * they never look like the command's status.
 *
 * --backoff INITIAL[,FACTOR[,MAX]] (wr-run and wr-outbox deliver): INITIAL
 * and MAX are durations (0 allowed: retry at once), FACTOR a number from 1
 * to 1000. An explicit MAX below INITIAL is refused; without one, MAX is
 * at least INITIAL.
 *
 * The parsers die with a usage error naming the option and what to write;
 * they are for option parsing only. */
#ifndef WR_CLI_H
#define WR_CLI_H

#include <getopt.h>
#include <stdint.h>

#include "state.h"

enum wr_cli_outcome {
	WR_CLI_USAGE,
	WR_CLI_NO_RUN,
	WR_CLI_IO,
	WR_CLI_LOCKED,
	WR_CLI_REJECTED,
};

/* Sets the tool's name (wr_prog) and kind: wrapper 1 for wr-run; getopt
 * says nothing itself (opterr 0): the tool's own messages do. */
void wr_cli_init(const char *prog, int wrapper);
/* The exit status of an outcome in this tool (the table above). */
int wr_cli_exit(enum wr_cli_outcome o);

/* What 0 and WR_DUR_FOREVER ("inf") mean for an option's duration. */
enum wr_cli_dur {
	WR_CLI_DUR_POSITIVE,       /* 0 refused */
	WR_CLI_DUR_ZERO,           /* 0 is a value: "at once" */
	WR_CLI_DUR_OFF,            /* 0 and for ever both mean off: returned as 0 */
};

/* The options the tools share (all but wr-run, which passes everything
 * after its own options to COMMAND), for their struct option tables:
 * --ledger FILE, --json, --color WHEN (and --colour), --help, --version. */
enum { WR_CLI_O_LEDGER = 0x10000, WR_CLI_O_JSON, WR_CLI_O_COLOR, WR_CLI_O_VERSION };
#define WR_CLI_OPT_LEDGER {"ledger", required_argument, NULL, WR_CLI_O_LEDGER}
#define WR_CLI_OPT_JSON {"json", no_argument, NULL, WR_CLI_O_JSON}
#define WR_CLI_OPT_COLOR {"color", required_argument, NULL, WR_CLI_O_COLOR}, {"colour", required_argument, NULL, WR_CLI_O_COLOR}
#define WR_CLI_OPT_HELP {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, WR_CLI_O_VERSION}
/* The end of a tool's table: --ledger, --json, --help, --version. */
#define WR_CLI_OPTS_END WR_CLI_OPT_LEDGER, WR_CLI_OPT_JSON, WR_CLI_OPT_HELP, {NULL, 0, NULL, 0}

/* Where a tool keeps what the shared options say. */
struct wr_cli_common {
	const char **ledger;       /* --ledger */
	int *json;                 /* --json */
	const char *help[3];       /* --help prints these (NULL ends), then exits 0 */
};

/* For getopt's c that is none of the tool's own options: sets what a
 * shared option says; --help and --version print and exit (74 when stdout
 * cannot be written); a missing value (':') and an unknown option die with
 * a usage error (the unknown one with a suggestion from opts). */
void wr_cli_common_opt(const struct wr_cli_common *co, int c, char **argv, const struct option *opts);
/* The next of the tool's own options in argv (getopt_long with shortopts
 * and opts), or -1 at their end: the shared options are done with on the
 * way (wr_cli_common_opt), so that a tool's loop holds only its own:
 *   while ((c = wr_cli_next(&co, argc, argv, ":h", opts)) != -1)
 *           switch (c) { case 'k': ... }
 * A table of the shared options only: wr_cli_next returns -1. */
int wr_cli_next(const struct wr_cli_common *co, int argc, char **argv, const char *shortopts,
		const struct option *opts);
/* --color WHEN: auto, always or never. */
void wr_cli_color(const char *when);

/* A duration for option opt ("timeout"), as kind says. */
int64_t wr_cli_duration(const char *opt, const char *s, enum wr_cli_dur kind);
/* A whole number from min to max for option opt. */
int64_t wr_cli_int(const char *opt, const char *s, int64_t min, int64_t max);
/* --backoff: fills what s gives; the rest keeps its value (the defaults). */
void wr_cli_backoff(const char *s, int64_t *initial_ms, double *factor, int64_t *max_ms);
/* --label K=V: sets the NFC key to the value in labels (a JSON object). */
void wr_cli_label(const char *s, json_t *labels);

/* A tool's commands (wr-outbox list, add, ...): a name and the function
 * that runs it, with the command's own argc, argv (argv[0] its name), or
 * run_noargs for a command that takes none. The table ends with a NULL
 * name. */
struct wr_cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	int (*run_noargs)(void);
};
/* Runs the command of cmds called name and returns its exit status; an
 * unknown name is a usage error that suggests or lists the names. */
int wr_cli_run_cmd(const struct wr_cli_cmd *cmds, const char *name, int argc, char **argv);

/* The run that RUN (a full id, an unambiguous prefix, or the short id of
 * the tables) names; dies with WR_CLI_NO_RUN's status, listing the
 * candidates, when it names none or several. */
struct wr_run *wr_cli_find_run(const struct wr_state *st, const char *arg, const char *ledger_path);

#endif
