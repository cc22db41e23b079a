/* census.h - what a ledger holds, counted (wr-ledger stats): its size,
 * events and their span, runs by status, outbox entries by state, events
 * by type, and what the replay passed over (stale, invalid, bad lines,
 * repairs, a torn tail).
 *
 * The tool fills in what only the file knows and sets wr_census_on_events
 * as the ledger's on_events callback before the replay (open with
 * WR_LEDGER_LAZY, then refresh), so that the oldest event is seen; the
 * rest is read from the state at the end. */
#ifndef WR_CENSUS_H
#define WR_CENSUS_H

#include <jansson.h>
#include <stdint.h>

#include "event.h"
#include "state.h"
#include "util.h"

struct wr_census {
	const char *path;           /* the ledger */
	int64_t bytes;              /* its size as read */
	int64_t bad_lines;          /* lines the replay could not decode */
	int torn;                   /* a torn tail at the end */
	int64_t first_ts;           /* the oldest event's time (0: none), by wr_census_on_events */
};

/* A ledger's on_events callback (ctx: struct wr_census). */
void wr_census_on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			 const char *const *why, int64_t line);
/* {file, bytes, events, last_seq, oldest, newest, types{type: n, unknown},
 * runs{status: n}, workflows, outbox{state: n}, stale, invalid, bad_lines,
 * repairs, torn_tail}. */
json_t *wr_census_json(const struct wr_census *c, const struct wr_state *st);
/* The same for people, a "KEY  VALUE" line each (WR_CENSUS_KEY bytes of
 * key, for wr_out_wrapped), then the events by type. */
#define WR_CENSUS_KEY 12
void wr_census_text(struct wr_buf *b, const struct wr_census *c, const struct wr_state *st);

#endif
