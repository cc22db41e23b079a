/* report.h - one self-contained HTML page about the ledger (wr-watch
 * report).
 *
 * wr_report_html is a pure function of (state, timeline marks, stats,
 * options) to an HTML 5 document appended to a buffer: no script, no
 * network, no file beside it; it reads no clock (opts->now) and no
 * environment but the local time zone (TZ). In order:
 *   1. what needs a human: runs blocked (since when, why), notifications
 *      that were given up on (outbox entries dead), breakers not closed,
 *      running attempts whose lease expired (wr-watch check would mark
 *      them lost); or a line saying nothing does;
 *   2. a table of the workflows from core/stats.h: runs, success rate,
 *      attempts per run, p50 and p95 duration, MTTR, recoveries by action,
 *      stuck/timeout/lost, breaker;
 *   3. the timeline of core/plot.h, inline.
 * Light and dark follow prefers-color-scheme; printed, it is black on
 * white on landscape pages. Every ledger string is escaped by
 * core/markup.h. */
#ifndef WR_REPORT_H
#define WR_REPORT_H

#include <stdint.h>

#include "stats.h"
#include "state.h"
#include "timeline.h"
#include "util.h"

struct wr_report_opts {
	int64_t now;            /* ms since the epoch */
	int64_t since;          /* ms since the epoch; 0: all of the ledger */
	const char *ledger;     /* the ledger's path, shown in the header */
	const char *host;       /* this host's name, shown; NULL: none */
};

/* Appends the page to out. s: figures gathered over the same replay (its
 * since is the window of the workflow table). Returns the number of
 * items that need a human. */
size_t wr_report_html(const struct wr_state *st, const struct wr_timeline *tl, const struct wr_stats *s,
		      const struct wr_report_opts *opts, struct wr_buf *out);

#endif
