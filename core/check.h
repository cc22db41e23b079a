/* check.h - the check for lost attempts, run on a ledger (wr-watch check
 * and every wr-recover pass): the decision is core/decide_check.h; this is
 * the procedure that gives it this host's facts and commits it. */
#ifndef WR_CHECK_H
#define WR_CHECK_H

#include "decide_check.h"
#include "ledger.h"

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
/* wr_attempt_kill_group for every lost attempt of this host in the hot
 * runs (of workflow, or all when NULL), whatever became of the run since:
 * whoever recorded it lost (a pass on another host, whose lease check
 * only fences it), its leftovers stop now, not when the backoff ends, and
 * also when another host launched or ended its successor meanwhile.
 * Returns how many groups were killed. */
int wr_kill_lost_leftovers(const struct wr_state *st, const char *workflow);

#endif
