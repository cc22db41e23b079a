/* view.h - the state for people: the tables and lines in which the tools
 * show runs, workflows and events (wr-watch status, show, follow, expect).
 *
 * A view reads the state and writes to one stream; it changes nothing and
 * reads no ledger: the tool opens the ledger, gives the view the state
 * (and, for a timeline, the events gathered during the replay) and says
 * what the exit status is. Every string from the ledger goes through the
 * one sanitizer (sanitize.h) on its way into a cell or a line; --json
 * prints the objects as the state or the ledger has them (jansson escapes
 * them). Words about what a tool's options do ("--all shows them") stay
 * with the tool: a view returns the counts it needs for them. */
#ifndef WR_VIEW_H
#define WR_VIEW_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "event.h"
#include "labels.h"
#include "state.h"
#include "util.h"

/* How a view is shown, and of what. */
struct wr_view {
	FILE *f;                    /* where it goes */
	int json;                   /* one JSON object per line instead of text */
	int relative;               /* times as "3m ago" (a person at a terminal), else RFC 3339 */
	int color;                  /* ANSI colour in lines (tables ask wr_out_color themselves) */
	const char *workflow;       /* only this workflow; NULL: every one */
	const char *run;            /* events: only this run (a full id); NULL: every one */
	const struct wr_label_filter *labels; /* only runs that match; NULL: every run */
};

/* The colour of a status in tables and lines. */
const char *wr_view_status_color(enum wr_status s);
/* A time cell: NULL for 0; relative in two units ("1d15h ago", "in 44m26s")
 * or RFC 3339 (buf at least WR_TS_LEN bytes). */
const char *wr_view_when(const struct wr_view *v, int64_t now, int64_t ts, char *buf, size_t n);

/* ---- runs (wr-watch status) ---- */

/* What the runs table left out, for the tool's hints. */
struct wr_view_count {
	size_t total;               /* runs of the workflow and labels asked for */
	size_t shown;               /* of those, with a status in the mask */
	size_t rejected;            /* of those not shown, rejected ones */
};

/* A run's NOTE: why it is where it is, in a few words (newly allocated),
 * or NULL when there is nothing to say. */
char *wr_view_run_note(const struct wr_run *r, int64_t now);
/* The runs of st whose status is in mask (a bit per enum wr_status): a
 * table (RUN, WORKFLOW, STATUS, ATTEMPT, CREATED, STAGE, LEASE/RETRY,
 * NOTE) or wr_run_to_json() per run. */
void wr_view_runs(const struct wr_view *v, const struct wr_state *st, unsigned mask, int64_t now,
		  struct wr_view_count *count);
/* Text only: a line per overdue workflow, then one per workflow whose
 * breaker is not closed (under the runs table). */
void wr_view_workflows(const struct wr_view *v, const struct wr_state *st, int64_t now);

/* ---- expectations (wr-watch expect) ---- */

/* {workflow, every_ms, grace_ms, since, last_success, next_due, overdue,
 * period} of a workflow with an expectation. */
json_t *wr_view_expect_json(const struct wr_workflow *w, int64_t now);
/* The workflows with an expectation: a table (WORKFLOW, EVERY, GRACE, LAST
 * SUCCESS, NEXT DUE, STATE) or their objects. Returns how many. */
size_t wr_view_expectations(const struct wr_view *v, const struct wr_state *st, int64_t now);

/* ---- one run (wr-watch show) ---- */

/* An event of the run as the replay applied it. */
struct wr_view_event {
	struct wr_event ev;         /* a reference of its own (wr_event_copy) */
	int applied;                /* wr_state_apply's result */
	const char *why;            /* static strings of the reducer */
};

/* The events of one run: its own and those of its outbox entries (which
 * name only the entry after the first). */
struct wr_view_events {
	const char *run;            /* the run's full id; set before the replay */
	struct wr_map outbox;       /* ids of the run's outbox entries */
	struct wr_view_event *evs;
	size_t n, cap;
};

/* A ledger's on_events callback (ctx: struct wr_view_events, zeroed but
 * for run) that keeps the run's events. */
void wr_view_events_on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			      const char *const *why, int64_t line);
void wr_view_events_free(struct wr_view_events *c);
/* Text only: the run's header (id, workflow, status, reason, note,
 * command, cwd, labels, agent counts, its workflow's breaker when w is not
 * NULL and not closed, created, the archive it was read from). */
void wr_view_run(const struct wr_view *v, const struct wr_run *r, const struct wr_workflow *w, const char *archive,
		 int64_t now);
/* The timeline: a row per event (OFFSET from the run's creation, SEQ,
 * EVENT, DETAIL; a stretch of heartbeats in one row; stale and invalid
 * events marked), or each event's object with "stale" (and
 * "stale_reason", "invalid", "archive"). */
void wr_view_timeline(const struct wr_view *v, const struct wr_run *r, struct wr_view_events *c,
		      const char *archive);

/* ---- events as they come (wr-watch follow) ---- */

/* "TS #SEQ TYPE RUN WORKFLOW: words [stale: why] -> status" (no newline):
 * r is the event's run in the state after it (NULL: none), wf its
 * workflow; the status is said after the last event of an applied
 * decision. */
void wr_view_event_line(struct wr_buf *b, const struct wr_event *ev, const struct wr_run *r, const char *wf,
			int applied, const char *why, int last, int color);
/* An event appended to the ledger whose state is st: its line, or its
 * object with --json, when it is of v's run, workflow and labels. */
void wr_view_event(const struct wr_view *v, const struct wr_state *st, const struct wr_event *ev, int applied,
		   const char *why, int last);

#endif
