/* decide_check.h - finding attempts whose supervisor is gone.
 *
 * Shared by wr-watch check and wr-recover. A live attempt is lost when
 *   - it ran on this host and boot, and its wr-run (pid, pid_start) is dead
 *     or the pid now belongs to another process;
 *   - it ran on this host before a reboot (boot_id differs);
 *   - on any host, its lease has expired (no heartbeat for lease_ms).
 * An attempt whose supervisor is alive on this host is never lost, however
 * long it runs: its own timeout governs it. */
#ifndef WR_DECIDE_CHECK_H
#define WR_DECIDE_CHECK_H

#include <jansson.h>
#include <stdint.h>

#include "ledger.h"
#include "state.h"

/* Facts the check needs from outside the ledger; the decision itself stays
 * a function of (state, now, request). */
struct wr_check_req {
	const char *host;          /* this host, wr_hostname() */
	const char *boot_id;       /* wr_boot_id() */
	/* Probe of a process on this host: wr_proc_check, or a test double. */
	int (*proc)(int64_t pid, int64_t pid_start);
	const char *workflow;      /* only this workflow, or NULL */
	const char *run;           /* only this run, or NULL */
	int dry_run;               /* decide, but append nothing */
	/* Out: what was found (array of objects {run, workflow, attempt, reason}),
	 * owned by the caller, filled by the decision. */
	json_t *found;
};

/* Why attempt a of a run is lost, or NULL when its supervisor may be alive. */
const char *wr_attempt_lost_reason(const struct wr_attempt *a, int64_t now, const struct wr_check_req *req);

/* Decision: attempt.finished outcome lost (with the breaker's reaction and
 * a "lost" outbox entry) for every lost attempt, in one batch. */
int wr_decide_check(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* Runs the check decision on an open writable ledger (dry_run: on the
 * state as read, no lock). After the commit, what is left of each lost
 * attempt's process group on this host is killed at once
 * (wr_attempt_kill_group), so a command whose wr-run died does not run on
 * unsupervised; its found entry gets "killed": the group's id (or
 * "survived": true). Returns the number of lost attempts found, or -1
 * with wr_errmsg(). */
int wr_check_lost(struct wr_ledger *l, struct wr_check_req *req);

/* 1 when attempt a ran on this host and boot. */
int wr_attempt_here(const struct wr_attempt *a);
/* Kills what is left of attempt a's process group when it ran on this
 * host and boot (wr_group_kill: TERM, KILL after grace_ms). Returns the
 * group's id when something was killed, 0 when nothing of it runs here,
 * -1 when some of it survived SIGKILL. */
int64_t wr_attempt_kill_group(const struct wr_attempt *a, int64_t grace_ms);
/* wr_attempt_kill_group for every run (of workflow, or all when NULL)
 * waiting for a retry decision or a relaunch whose latest attempt was
 * lost: whoever recorded it lost, its leftovers stop now, not when the
 * backoff ends. Returns how many groups were killed. */
int wr_kill_lost_leftovers(const struct wr_state *st, const char *workflow);

#endif
