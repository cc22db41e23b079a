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

#include <stdint.h>

#include "state.h"

enum wr_cli_outcome {
	WR_CLI_USAGE,
	WR_CLI_NO_RUN,
	WR_CLI_IO,
	WR_CLI_LOCKED,
	WR_CLI_REJECTED,
};

/* Sets the tool's name (wr_prog) and kind: wrapper 1 for wr-run. */
void wr_cli_init(const char *prog, int wrapper);
/* The exit status of an outcome in this tool (the table above). */
int wr_cli_exit(enum wr_cli_outcome o);

/* What 0 and WR_DUR_FOREVER ("inf") mean for an option's duration. */
enum wr_cli_dur {
	WR_CLI_DUR_POSITIVE,       /* 0 refused */
	WR_CLI_DUR_ZERO,           /* 0 is a value: "at once" */
	WR_CLI_DUR_OFF,            /* 0 and for ever both mean off: returned as 0 */
};

/* A duration for option opt ("timeout"), as kind says. */
int64_t wr_cli_duration(const char *opt, const char *s, enum wr_cli_dur kind);
/* A whole number from min to max for option opt. */
int64_t wr_cli_int(const char *opt, const char *s, int64_t min, int64_t max);
/* --backoff: fills what s gives; the rest keeps its value (the defaults). */
void wr_cli_backoff(const char *s, int64_t *initial_ms, double *factor, int64_t *max_ms);
/* --label K=V: sets the NFC key to the value in labels (a JSON object). */
void wr_cli_label(const char *s, json_t *labels);

/* The run that RUN (a full id, an unambiguous prefix, or the short id of
 * the tables) names; dies with WR_CLI_NO_RUN's status, listing the
 * candidates, when it names none or several. */
struct wr_run *wr_cli_find_run(const struct wr_state *st, const char *arg, const char *ledger_path);

#endif
