/* breaker.h - the per-workflow circuit breaker, as decisions.
 *
 * The reducer keeps each workflow's window of recent outcomes and the
 * breaker's state from breaker.changed events; these helpers are the
 * decision side: pure functions that append breaker.changed (and the
 * breaker_open outbox entry) to a batch. Policy (docs/DESIGN.md
 * "Policies"): over the last 10 outcomes, open at >= 50% failures with at
 * least 5 outcomes; cooldown 5m, doubling on each re-open without a
 * success, at most 1h; after the cooldown one trial runs (half_open); its
 * success closes, its failure re-opens. */
#ifndef WR_BREAKER_H
#define WR_BREAKER_H

#include <jansson.h>
#include <stdint.h>

#include "state.h"

/* May an attempt of workflow wf start now? Returns 1 yes, 0 no (breaker
 * open, or half open with its one trial under way). When the cooldown has
 * passed it appends open -> half_open to events and says yes. */
int wr_breaker_admit(const struct wr_state *st, const char *wf, int64_t now, json_t *events);

/* After an attempt of wf ends with outcome o: appends the breaker change
 * that outcome causes, if any, with an outbox entry when it opens. */
void wr_breaker_after(const struct wr_state *st, const char *wf, enum wr_outcome o, int64_t now, json_t *events);

/* Appends breaker.changed from -> closed (manual reset); 0, or -1 when it
 * is already closed. */
int wr_breaker_reset(const struct wr_state *st, const char *wf, json_t *events);

/* Why a due launch of a run of workflow w (NULL: none yet) waits now, or
 * NULL when the breaker admits it: closed admits; open admits after its
 * cooldown, half open admits one trial (the token "breaker_open" with
 * *until the end of the cooldown, "breaker_trial_running" while a trial
 * runs, "breaker_trial_launched" when trial_launched says one was launched
 * already, as a pass launches at most one per workflow). */
const char *wr_breaker_launch_wait(const struct wr_workflow *w, int64_t now, int trial_launched, int64_t *until);

/* Cooldown of the next open of w. */
int64_t wr_breaker_cooldown(const struct wr_workflow *w);

/* Appends an outbox.enqueued event without an id (the commit draws it:
 * wr_events_draw_ids); returns it (borrowed). details may be NULL (stolen
 * otherwise). */
json_t *wr_outbox_enqueue(json_t *events, const char *kind, const char *message, const char *reason,
			  const char *run, const char *workflow, json_t *details);

#endif
