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

#include "decision.h"
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
	/* The tail of what an attempt printed (core/outlog.h; a new reference,
	 * or NULL), for the lost entry's details.output; NULL: none. */
	json_t *(*output)(void *ctx, const char *run, int64_t attempt);
	void *output_ctx;
	/* Out: what was found (array of objects {run, workflow, attempt, reason}),
	 * owned by the caller, filled by the decision. */
	json_t *found;
	/* Out, when not NULL: every overdue workflow (objects {workflow, due,
	 * period, every_ms, grace_ms, last_success, recorded}); recorded is
	 * true when this decision recorded the period missed. */
	json_t *overdue;
};

/* Expected schedules. A workflow with an expectation (every > 0) is due
 * every ms after its base, the later of its last success and when the
 * expectation was set: period k is due at base + k * every and missed
 * once now passes that plus grace. Returns the number of the latest missed
 * period (0: none, not overdue) and sets *due to its due time, or, when
 * none is missed, to the next due time (0 without an expectation). */
int64_t wr_expect_missed(const struct wr_workflow *w, int64_t now, int64_t *due);

/* Request of wr-watch expect: set (every > 0) or clear (every 0) the
 * expectation of a workflow. The decision records workflow.expected only
 * when the setting differs from the current one (changed is set), so
 * repeating it does not restart the clock. */
struct wr_expect_req {
	const char *workflow;
	int64_t every_ms, grace_ms;
	int changed;               /* out */
};

/* Appends workflow.expected for q's setting when it differs from w's
 * (w may be NULL: no such workflow yet). Returns 1 when appended. */
int wr_expect_event(const struct wr_workflow *w, const char *workflow, int64_t every_ms, int64_t grace_ms,
		    json_t *events);
int wr_decide_expect(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* Why attempt a of a run is lost, or NULL when its supervisor may be alive. */
const char *wr_attempt_lost_reason(const struct wr_attempt *a, int64_t now, const struct wr_check_req *req);

/* Decision: attempt.finished outcome lost (with the breaker's reaction and
 * a "lost" outbox entry) for every lost attempt, and, unless req->run,
 * workflow.overdue with an "overdue" outbox entry for every workflow that
 * missed a period not yet recorded (once per missed period), in one
 * batch. */
int wr_decide_check(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

#endif
