/* view_outbox.h - the outbox for people (wr-outbox list and follow): a
 * table of entries, a line per outbox event; or as JSON, or as workrail
 * outbox.jsonl lines (core/workrail.h). Like every view (view.h) it reads
 * the state and writes to one stream; strings from the ledger are made
 * safe for a terminal on their way into a cell or a line. */
#ifndef WR_VIEW_OUTBOX_H
#define WR_VIEW_OUTBOX_H

#include <stdint.h>

#include "event.h"
#include "state.h"
#include "view.h"

/* The outbox entries whose state is in mask (a bit per enum
 * wr_outbox_state): a table (ID, STATE, KIND, TRIES, CREATED, NEXT,
 * WORKFLOW, MESSAGE), or each entry's object (v->json), or its workrail
 * line (workrail). Returns how many. */
size_t wr_view_outbox(const struct wr_view *v, const struct wr_state *st, unsigned mask, int workrail, int64_t now);
/* The event ev of the entry o (as the state has it after ev): "TS KIND ID
 * words", or the entry's object with event, seq and ts (v->json), or with
 * workrail the entry's workrail line when ev enqueued it (else nothing). */
void wr_view_outbox_event(const struct wr_view *v, const struct wr_event *ev, const struct wr_outbox *o, int workrail);

#endif
