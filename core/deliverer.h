/* deliverer.h - one run of an outbox deliverer (wr-outbox deliver's
 * COMMAND): the claimed entry on its stdin, its stdout and stderr passed on
 * to ours (cron mails a failure's output) with the end kept for the
 * recorded error, in its own process group, killed (TERM, then KILL after
 * the grace) on its timeout or when the deliverer is told to stop. It never
 * leaves a zombie, and a command that does not read its stdin cannot kill
 * the deliverer (SIGPIPE is ignored while it runs). */
#ifndef WR_DELIVERER_H
#define WR_DELIVERER_H

#include <stddef.h>
#include <stdint.h>

/* How much of a failed deliverer's output goes into its recorded error. */
#define WR_DELIVERER_TAIL 300

struct wr_deliverer {
	char **argv;
	char **env;                /* added to ours: WR_OUTBOX_ID and the like */
	int64_t timeout_ms;        /* 0: none */
	int64_t kill_after_ms;     /* the grace between TERM and KILL */
};

struct wr_delivered {
	int status;                /* from waitpid */
	int timed_out;
	int interrupted;           /* the signal that stopped the deliverer, or 0 */
	int exec_errno;            /* could not start COMMAND */
	int64_t ms;
	/* The end of what the command wrote on stdout and stderr. */
	char out[WR_DELIVERER_TAIL + 1];
	size_t outlen;
};

/* Catches SIGTERM, SIGINT and SIGHUP (they stop the deliveries: the one
 * under way is killed and recorded) and SIGCHLD. 0, or -1 (wr_errmsg). */
int wr_deliverer_signals(void);
/* The stop signal caught, or 0. */
int wr_deliverer_stopped(void);
/* Runs d with input[0..len) on its stdin; fills res. 0, or -1 with
 * wr_errmsg() when it could not be started at all. */
int wr_deliverer_run(const struct wr_deliverer *d, const char *input, size_t len, struct wr_delivered *res);
/* Why the delivery failed ("curl exited with status 22: curl: (22) ..."),
 * with the end of the command's output as one clean line; NULL when it
 * succeeded. cmd names the command; newly allocated. */
char *wr_delivered_error(const char *cmd, int64_t timeout_ms, const struct wr_delivered *r);

#endif
