/* decision.h - what a decision is: the contract between the decisions
 * (core/decide*.c, breaker.c) and the ledger that runs them.
 *
 * A decision is a pure function of (state, now, request): it reads the
 * derived state and the request, appends the events it wants committed to
 * out->events, and puts what it found in the request's out fields. It
 * reads no clock, no file, no process table and draws no random number:
 * what it needs from outside comes in the request (pids, hosts, the jitter,
 * the ids a caller must know), and the ids of the notifications it raises
 * are drawn by the commit (wr_events_draw_ids). wr_ledger_commit runs it
 * under the lock; a test runs it on a state it built. The decisions depend
 * on this header, the events and the state, never on the ledger. */
#ifndef WR_DECISION_H
#define WR_DECISION_H

#include <jansson.h>
#include <stdint.h>

#include "state.h"

struct wr_batch {
	json_t *events;         /* array of event objects from wr_event_new */
	int nosync;             /* 1: no fdatasync (heartbeats only) */
};

/* decide: a pure function of (state, now, request). Appends the events it
 * wants committed to out->events (none is fine). Returns 0, or -1 with
 * wr_seterr() to refuse (nothing is written; the commit returns -1 with
 * kind WR_E_REFUSED). */
typedef int (*wr_decide_fn)(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

#endif
