/* timeline.h - the moments of a run that the state folds away.
 *
 * The state keeps each attempt's start, finish and outcome, but not when an
 * attempt was reported stuck, when a run was blocked, escalated, rejected,
 * cancelled or unblocked. A picture of the runs (core/plot.h) needs those
 * times: wr_timeline_on_events, set as the ledger's on_events callback
 * before the replay (open with WR_LEDGER_LAZY, then refresh), records them
 * per run, for the events the reducer accepted. At most WR_TL_MAX_MARKS
 * marks are kept per run (the first ones); `dropped` counts the rest. */
#ifndef WR_TIMELINE_H
#define WR_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "map.h"

#define WR_TL_MAX_MARKS 64

enum wr_mark_kind {
	WR_MARK_STUCK,       /* attempt.stuck */
	WR_MARK_BLOCKED,     /* run.blocked */
	WR_MARK_UNBLOCKED,   /* run.unblocked */
	WR_MARK_ESCALATED,   /* recovery.decided, action escalate */
	WR_MARK_REJECTED,    /* attempt.rejected */
	WR_MARK_CANCELLED,   /* run.cancelled */
	WR_MARK__COUNT
};

struct wr_mark {
	int64_t ts;
	int64_t attempt;     /* 0 when the event names none */
	enum wr_mark_kind kind;
	char *why;           /* reason (or note), NULL when none */
};

struct wr_marks {
	struct wr_mark *m;
	size_t n, cap;
	size_t dropped;
};

struct wr_timeline {
	struct wr_map runs;  /* run id -> struct wr_marks */
};

void wr_timeline_init(struct wr_timeline *tl);
void wr_timeline_free(struct wr_timeline *tl);
/* A ledger on_events callback; ctx is the struct wr_timeline. */
void wr_timeline_on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			   const char *const *why, int64_t line);
/* The marks of a run, in ledger order, or NULL when it has none. */
const struct wr_marks *wr_timeline_marks(const struct wr_timeline *tl, const char *run);
const char *wr_mark_name(enum wr_mark_kind k);

#endif
