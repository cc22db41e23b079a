/* decide_recover.h - the decisions of wr-recover.
 *
 * Each function here is a wr_decide_fn: a pure function of (state, now,
 * request) run by wr_ledger_commit under the lock, so everything it checks
 * is checked again inside the decision that acts on it. Randomness (the
 * backoff's jitter) is drawn by the caller and passed in the request.
 *
 * About one failed attempt (wr_decide_recover), at most one decision is
 * ever recorded: the decision is taken only while the run's
 * decided_attempt is below its latest attempt, and it moves decided_attempt
 * to that attempt. Any number of concurrent passes therefore record one
 * recovery.decided per attempt, and recoveries never exceed
 * max_attempts - 1.
 *
 * Backoff: wr_backoff (decide.h) after the (recoveries + 1)th failure:
 * min(initial * factor^recoveries, max), jittered uniformly by +-20%, so
 * passes of many runs that failed together do not relaunch them in step. */
#ifndef WR_DECIDE_RECOVER_H
#define WR_DECIDE_RECOVER_H

#include <jansson.h>
#include <stdint.h>

#include "decision.h"
#include "state.h"

enum wr_recover_action {
	WR_RA_NONE,        /* nothing to decide (or already decided) */
	WR_RA_RETRY,       /* recovery.decided retry */
	WR_RA_ESCALATE,    /* recovery.decided escalate + run.blocked + outbox escalated */
	WR_RA_WAIT,        /* breaker open: nothing recorded, decided after the cooldown */
	WR_RA_UNBLOCK,     /* run.unblocked */
	WR_RA_CANCEL,      /* run.cancelled (+ attempt.finished cancelled) + outbox */
	WR_RA_LAUNCH,      /* nothing to record, the run is due: launch it */
	WR_RA__COUNT
};

/* String table (strtable.h): NULL out of range, -1 when unknown. */
const char *wr_recover_action_name(enum wr_recover_action a);
int wr_recover_action_from_name(const char *s);

struct wr_recover_req {
	const char *run;           /* the run's full id */
	double jitter;             /* uniform in [0, 1), drawn by the caller */
	int force;                 /* retry: also a blocked run or a final failure */
	const char *note;          /* unblock: the human's note; cancel: the reason */
	/* The tail of attempt output_attempt's output (core/outlog.h),
	 * borrowed, or NULL: an escalation about that attempt carries it in
	 * its entry's details.output. */
	json_t *output;
	int64_t output_attempt;
	/* Out, filled by the decision: */
	enum wr_recover_action action;
	const char *reason;        /* static or owned by the state; may be NULL */
	int64_t attempt;           /* the attempt decided about */
	int64_t recoveries;        /* after the decision */
	int64_t not_before;        /* retry: when it may start; 0 none */
	int blocked;               /* 1 when the decision blocked the run */
	int64_t kill_pgid, kill_pgid_start; /* cancel: the live attempt's group */
	const char *kill_host, *kill_boot_id;
	int64_t kill_after_ms;
};

/* 1 when r's latest attempt has failed and no decision was taken about
 * it yet (status failed, outcome not success or cancelled). */
int wr_run_needs_decision(const struct wr_run *r);

/* 1 when r waits for a relaunch that is due at now: retry_wait with its
 * not_before passed, or a retry that wr-run rejected (breaker, concurrency)
 * after the decision. A run rejected before its first attempt is its
 * caller's (wr-run exited 75 to it), never relaunched by a pass. */
int wr_run_due(const struct wr_run *r, int64_t now);

/* What a pass would do about r's latest failed attempt, for the people
 * watching: 1 when it would retry it, with *not_before the earliest time
 * (the backoff at its shortest, after the breaker's cooldown when it is
 * open); 0 when
 * the failure is final (it escalates) or nothing is to be decided. */
int wr_recover_would_retry(const struct wr_state *st, const struct wr_run *r, int64_t now, int64_t *not_before);

/* 1 when wf's breaker is open and its cooldown still runs at now. */
int wr_breaker_is_open(const struct wr_state *st, const char *wf, int64_t now);

/* Decision of a pass about run req->run: escalate when the failure is
 * final (reason cannot_run for exit 126/127, max_attempts, no_retry_on,
 * deadline: wr_failure_is_final), else
 * wait while the workflow's breaker is open, else retry after backoff.
 * Nothing when the run no longer needs a decision. */
int wr_decide_recover(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* Decision of `wr-recover retry RUN`: what is needed so that the run may
 * be launched now (its backoff ignored). A blocked run, or a failure that
 * is final, needs req->force: the run is unblocked (run.unblocked with a
 * note) or its failure decided retry with recoveries reset, so that the
 * ledger explains the relaunch. Refuses (wr_seterr, -1) a run that is
 * running, succeeded or cancelled. */
int wr_decide_retry_manual(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* Decision of `wr-recover unblock RUN --note TEXT`: run.unblocked (the
 * reducer resets recoveries and makes the run due now). Refuses a run
 * that is not blocked. */
int wr_decide_unblock(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* Decision of `wr-recover cancel RUN`: a live attempt ends cancelled
 * (attempt.finished, with the cancelled outbox entry), then run.cancelled;
 * a run without a live attempt gets run.cancelled and the outbox entry.
 * The live attempt's group is reported in req->kill_* for the caller to
 * kill after the commit (its supervisor's late finish is then stale).
 * Refuses a run that has ended. */
int wr_decide_cancel(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* ---- launches ----
 *
 * A launch of a run's next attempt is a decision of its own
 * (run.launched): the pass, or `wr-recover retry`, starts wr-run held
 * before exec, records the launch with that wr-run's pid, then lets it go.
 * While the launch is live (below) no other pass launches the run. When
 * the launched wr-run dies before it records its start, the launch has
 * expired and one later pass launches the attempt again; when that second
 * launch expires too, the next pass blocks the run (reason launch_lost)
 * instead of launching it forever. A manual retry always launches. */

#define WR_LAUNCH_LEASE_MS 10000   /* a launch's lease, for where its pid cannot be checked */
#define WR_LAUNCH_MAX 2            /* launches of one attempt before launch_lost */

/* 1 while r's launch of its next attempt may still start it: on this host
 * (and boot) while the launched wr-run lives, elsewhere until its lease
 * ends. proc probes a pid of this host (wr_proc_probe, or a test double). */
int wr_launch_live(const struct wr_run *r, int64_t now, const char *host, const char *boot_id,
		   int (*proc)(int64_t pid, int64_t pid_start));

struct wr_launch_req {
	const char *run;           /* the run's full id */
	int manual;                /* wr-recover retry: forced, never launch_lost */
	const char *host, *boot_id;
	int64_t pid, pid_start;    /* the launched wr-run, held before exec */
	int (*proc)(int64_t pid, int64_t pid_start);
	/* Out: LAUNCH recorded (go), WAIT a live launch (reason
	 * launch_under_way), ESCALATE run blocked (launch_lost), NONE not due. */
	enum wr_recover_action action;
	const char *reason;
	int64_t attempt;           /* the attempt launched */
	int64_t count;             /* launches of it, this one included */
	int64_t live_pid;          /* WAIT: the live launch's wr-run */
};

/* Decision of a launch of req->run's next attempt: the run must still be
 * due (wr_run_due; manual: neither live, ended nor blocked) and have no
 * live launch. */
int wr_decide_launch(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

struct wr_breaker_req {
	const char *workflow;
	int changed;               /* out: 1 when a reset was recorded */
	const char *from;          /* out: the state it was in */
};

/* Decision of `wr-recover breaker WF reset`: breaker.changed to closed,
 * nothing when it is closed already. */
int wr_decide_breaker_reset(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

#endif
