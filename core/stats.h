/* stats.h - per-workflow figures over the ledger (wr-watch stats).
 *
 * Most figures come from the derived state at the end of the replay; the
 * few that need the events themselves (recovery decisions, breaker opens)
 * are gathered by wr_stats_on_events, set as the ledger's on_events
 * callback before the replay (open with WR_LEDGER_LAZY, then refresh).
 *
 * Definitions (the man page and wr-watch --help repeat them):
 *   window        runs created at or after `since` (0: all runs); breaker
 *                 opens counted by the time of the breaker.changed event
 *   success_rate  succeeded / ended runs (succeeded, failed, blocked,
 *                 cancelled); null when none ended
 *   attempts_per_run  attempts started / runs that started one
 *   duration      p50 and p95 of duration_ms of successful attempts,
 *                 nearest rank: the value at rank ceil(p/100 * n) of the
 *                 sorted list
 *   mttr          mean, over runs that failed and then succeeded, of
 *                 (finish of the success - first failure)
 *   recoveries    recovery.decided by action; a decision about attempt n
 *                 succeeded when attempt n+1 ended in success
 *   stuck, timeout, lost   attempt outcomes
 *   stale_events  stale events of the runs in the window
 *   labels        with a label filter, only the runs it matches count, and
 *                 workflows without such a run are left out (breaker opens
 *                 are the workflow's, whatever the labels)
 *   archived      runs moved to archives by compaction count with the
 *                 totals their workflow keeps (wr_stats_archive), over
 *                 all of history only: a window or a label filter counts
 *                 the live ledger's runs
 *   agent         over the attempts (finished or live) of those runs that
 *                 reported turns, tool calls or metrics on the progress
 *                 channel: attempts, turns, tool_calls, metrics (each
 *                 metric summed by name); sums saturate at INT64_MAX */
#ifndef WR_STATS_H
#define WR_STATS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "labels.h"
#include "map.h"
#include "state.h"
#include "util.h"

struct wr_stats {
	int64_t since;            /* ms since the epoch; 0: everything */
	const struct wr_state *st; /* the ledger's state (for decisions that do
				    * not name their attempt); may be NULL */
	const struct wr_label_filter *labels; /* only runs it matches; NULL: all */
	struct wr_map decisions;  /* run id -> struct wr_stats_decisions */
	struct wr_map opens;      /* workflow -> int64_t * (breaker opens) */
};

void wr_stats_init(struct wr_stats *s, int64_t since);
void wr_stats_free(struct wr_stats *s);
/* A ledger on_events callback; ctx is the struct wr_stats. */
void wr_stats_on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			const char *const *why, int64_t line);
/* One object per workflow (by name), only workflow when not NULL; an array
 * the caller owns. Workflows with nothing in the window are left out. */
json_t *wr_stats_workflows(const struct wr_stats *s, const struct wr_state *st, const char *workflow);
/* For compaction: the archived totals (struct wr_workflow.archived, see
 * stats.c) of each workflow that has runs for which archived(id, ctx) is
 * true, those runs' figures added to what was archived before; an object
 * workflow name -> totals, the caller's. s holds the recovery decisions of
 * those runs (wr_stats_on_events). wr_stats_workflows adds the archived
 * totals when it counts all of history (no window, no label filter). */
json_t *wr_stats_archive(const struct wr_stats *s, const struct wr_state *st,
			 int (*archived)(const char *run, void *ctx), void *ctx);
/* One object of wr_stats_workflows in words for people (wr-watch stats):
 * the workflow and its breaker, then lines for runs, attempts, duration,
 * recovery, trouble, and the agent's counts when it has any. cols > 0 (a
 * terminal's width) cuts the workflow's name with an ellipsis so that its
 * line fits; 0 keeps it whole. The other lines are "KEY VALUE" lines with
 * WR_STATS_KEY bytes of key, for wr_out_wrapped. */
#define WR_STATS_KEY 14
void wr_stats_text(struct wr_buf *b, json_t *o, size_t cols);
/* Nearest-rank percentile of v[0..n) (sorted ascending), p in (0, 100]. */
int64_t wr_percentile(const int64_t *v, size_t n, double p);

#endif
