/* actions.h - what a check or a recovery pass found and did, for people
 * and as JSON: the lost attempts and overdue workflows of wr-watch check
 * (core/check.h's finds), and the action lines of wr-recover (lost,
 * retry, escalate, wait, launch, unblock, cancel, breaker).
 *
 * Like a view (view.h) an action is printed to v->f, as text or (v->json)
 * one object per line; strings from the ledger are made safe for a
 * terminal on their way into a line or a cell. */
#ifndef WR_ACTIONS_H
#define WR_ACTIONS_H

#include <jansson.h>
#include <stdint.h>

#include "view.h"

/* The lost attempts a check found (found: the array of struct
 * wr_check_req): a table (RUN, WORKFLOW, ATTEMPT, HOST, PID, REASON), a
 * line saying what was recorded in ledger (or nothing, dry_run), then a
 * line per process group of them killed or surviving here; or each find's
 * object with "recorded". */
void wr_actions_lost(const struct wr_view *v, json_t *found, int dry_run, const char *ledger);
/* The overdue workflows a check found: a line each ("overdue: W was due T
 * (period N), last success T; recorded"), or their objects with "overdue":
 * true. Returns how many. */
size_t wr_actions_overdue(const struct wr_view *v, json_t *overdue);

/* One action of a recovery pass or verb. */
struct wr_action {
	const char *action;         /* lost, retry, escalate, wait, launch, ... */
	const char *run, *workflow; /* workflow may be NULL */
	int64_t attempt;            /* 0: none */
	const char *reason;         /* may be NULL */
	int64_t recoveries;
	int64_t not_before;         /* 0: none */
	int launched;               /* a wr-run was started for it */
	const char *extra;          /* more words, or NULL */
	int dry_run;                /* decided, not recorded */
};

/* "ACTION RUN (WORKFLOW) attempt N: reason; recoveries N; not before T;
 * extra; launched (dry run)", or {run, workflow, attempt, action, reason,
 * recoveries, not_before, launched, dry_run}. */
void wr_action_print(const struct wr_view *v, const struct wr_action *a);
/* The action "lost" of one find of a check (an element of found), with
 * what became of its process group here. */
void wr_action_lost(const struct wr_view *v, json_t *find, int dry_run);

#endif
