/* decide_run.h - the decisions of wr-run: start, heartbeat, progress,
 * stuck and finish of one supervised attempt.
 *
 * Each is a pure function (state, now, request) -> events for
 * wr_ledger_commit; facts from outside the ledger (pids, host, the run id
 * of a new run) come in the request, results go back in its out fields.
 *
 * Start: a new run records run.created and attempt.started in one batch;
 * --run continues an existing run as attempt n+1 and is refused (commit
 * fails with WR_E_REFUSED, nothing written) when the run is running,
 * succeeded, cancelled or blocked. Before the run's not_before (a retry
 * waiting for its backoff) it starts nothing (WR_START_NOT_YET) unless the
 * launch of that attempt was forced (`wr-recover retry`); with a wanted
 * attempt (wr-run --attempt, as wr-recover launches it) it starts that
 * attempt or nothing (WR_START_SUPERSEDED), so two launches of one retry
 * start it once. The concurrency limit and the circuit
 * breaker are checked inside the same decision, so no number of concurrent
 * wr-run processes can exceed them. At the limit, holders of the
 * workflow's slots whose supervisor is gone (wr_attempt_lost_reason: on
 * this host a dead or reused wr-run pid, another boot; anywhere an expired
 * lease) are recorded lost in the same decision and free their slots, so
 * SIGKILLed wr-runs never block a limit until a check runs. */
#ifndef WR_DECIDE_RUN_H
#define WR_DECIDE_RUN_H

#include <jansson.h>
#include <stdint.h>

#include "decide.h"
#include "decide_check.h"
#include "decision.h"
#include "state.h"

enum wr_start_result {
	WR_START_STARTED = 0,      /* attempt.started appended */
	WR_START_BREAKER,          /* attempt.rejected breaker_open appended */
	WR_START_LIMIT,            /* attempt.rejected concurrency_limit appended */
	WR_START_BUSY,             /* at the limit and waiting: nothing appended */
	WR_START_NOT_YET,          /* --run before the retry's not_before: nothing appended */
	WR_START_SUPERSEDED,       /* the wanted attempt is not the run's next: nothing appended */
};

struct wr_start_req {
	/* in */
	const char *run;           /* new run: its fresh id; else the --run id or prefix */
	int is_new;
	const char *workflow;      /* new run only */
	json_t *argv;              /* new run only: array of strings (borrowed) */
	const char *cwd;           /* new run only */
	json_t *labels;            /* new run only: object or NULL (borrowed) */
	const struct wr_policy *policy; /* new run only */
	int wait;                  /* at the concurrency limit: 1 wait (BUSY), 0 reject */
	int give_up;               /* waited long enough: reject at the limit even when wait */
	int64_t want_attempt;      /* --run: start this attempt or nothing; 0 any */
	const char *host, *boot_id;
	int64_t pid, pid_start;    /* the supervisor: wr-run itself */
	int64_t pgid, pgid_start;  /* the command's process group leader */
	/* Probe of a process on this host (wr_proc_check, or a test double);
	 * NULL: holders are not checked. */
	int (*proc)(int64_t pid, int64_t pid_start);
	/* --expect-every: record this expectation for the workflow (when it
	 * differs from the current one) in the same decision */
	int expect;
	int64_t expect_every_ms, expect_grace_ms;
	/* out */
	enum wr_start_result result;
	char *run_id;              /* full id (malloc'd) */
	char *run_workflow;        /* the run's workflow (malloc'd) */
	int64_t attempt;
	int64_t lease_until;
	int64_t deadline_at;       /* the run's deadline (ms since epoch), 0 none */
	json_t *resume;            /* stages already done (new reference) */
	int64_t running;           /* running attempts of the workflow seen */
	int64_t lost;              /* dead holders recorded lost by this decision */
	int64_t not_before;        /* NOT_YET: when the retry may start */
	int64_t next_attempt;      /* SUPERSEDED: the run's next attempt now */
};

int wr_decide_run_start(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);
void wr_start_req_free(struct wr_start_req *r);

/* Heartbeat (nosync) and progress. fenced is set when the attempt is no
 * longer the run's live attempt: another process ended it (lost). */
struct wr_progress_item {
	char *stage;
	int done;                  /* 1 done, 0 started */
	char *detail;              /* may be NULL */
};

struct wr_beat_req {
	const char *run;
	int64_t attempt;
	int64_t lease_ms;          /* heartbeat: lease_until = now + lease_ms; 0: no heartbeat */
	const struct wr_progress_item *items;
	size_t nitems;
	const struct wr_agent_counts *agent; /* heartbeat: counts so far, or NULL */
	/* out */
	int fenced;
};

int wr_decide_run_beat(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* Stuck: attempt.stuck, and with notify an outbox entry of kind stuck. */
struct wr_stuck_req {
	const char *run;
	int64_t attempt;
	const char *reason;        /* a stuck wr_reason_name() */
	const char *detail;
	int abort;
	const struct wr_agent_counts *agent; /* counts so far, or NULL */
	json_t *output;            /* the output's tail (borrowed) for the entry, or NULL */
	/* out */
	int fenced;
};

int wr_decide_run_stuck(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* Finish: wr_finish_events for the attempt. fenced when it was ended
 * already (recorded lost or cancelled by another process) or superseded
 * by a later attempt: then its attempt.finished alone is recorded with
 * "stale" saying why, so that the real outcome stays in the ledger; the
 * reducer fences it (counted stale, nothing changes). */
struct wr_end_req {
	const char *run;
	struct wr_finish fin;
	/* out */
	int fenced;
	char *fenced_why;          /* malloc'd: how it had ended */
	enum wr_outcome fenced_outcome; /* how it had ended; NONE when superseded */
};

int wr_decide_run_finish(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

#endif
