/* plot.h - a timeline of runs as one self-contained SVG (wr-watch plot).
 *
 * wr_plot_svg is a pure function of (state, timeline marks, options) to an
 * SVG document appended to a buffer; it reads no file, no clock and no
 * environment but the local time zone (TZ), used for the axis.
 *
 * The picture: a header (what is shown, the window), a legend, a time axis
 * with ticks at round local times, then one group per workflow (by name)
 * with one row per run (by creation). Each attempt is a bar from its start
 * to its finish (to opts->now while it runs), filled by outcome; a dashed
 * line joins an attempt to the retry after it; a thin line shows the wait
 * from creation to the first start. Markers: stuck (diamond, at the time
 * of the report), timeout (hourglass) and lost (cross) at the finish,
 * blocked (square; a dashed red line follows while the run stays
 * blocked), escalated (triangle). Every bar and marker carries a <title>
 * (the tooltip): run, attempt, outcome, exit status or signal, duration,
 * reason, times. A workflow with more runs than lane_limit folds into one
 * lane (its bars overlap, failures drawn over successes); when the rows of
 * all workflows would pass max_rows, the largest workflows fold first.
 *
 * Colours are looked up by the outcome's or status's name (success, error,
 * timeout, stuck, lost, cancelled, rejected, running); an unknown name is
 * drawn grey. Every ledger string goes through wr_xml_add (core/markup.h).
 * Text and background follow prefers-color-scheme; bar colours do not. */
#ifndef WR_PLOT_H
#define WR_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "timeline.h"
#include "util.h"

struct wr_plot_opts {
	int64_t now;            /* ms since the epoch: running bars end here */
	int64_t since;          /* ms since the epoch; 0: from the first run */
	const char *workflow;   /* only this workflow; NULL: all */
	/* Runs for which keep returns 0 are left out (NULL: keep all). */
	int (*keep)(const struct wr_run *r, void *ctx);
	void *keep_ctx;
	int width;              /* pixels; 0: 1200 */
	int lane_limit;         /* 0: 24 */
	int max_rows;           /* 0: 300 */
	int embed;              /* 1: no XML declaration (inside HTML) */
	const char *title;      /* NULL: "wr runs" */
};

/* Appends the SVG to out. Returns the number of runs drawn. */
size_t wr_plot_svg(const struct wr_state *st, const struct wr_timeline *tl, const struct wr_plot_opts *opts,
		   struct wr_buf *out);
/* The fill for an outcome or status name ("#2da44e"); grey when unknown. */
const char *wr_plot_color(const char *name);

#endif
