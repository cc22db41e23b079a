/* seed.h - the state of a compacted ledger.
 *
 * A compacted ledger starts with its ledger.compacted marker, whose "state"
 * holds the totals of workflows and the global counters as of seq L; the
 * kept events with seq <= L then apply to runs and outbox entries only
 * (core/compact.h has the whole format). These functions are the state
 * layer's side of it: the ledger's replay uses them, compaction writes the
 * marker with wr_compact_seed_json. */
#ifndef WR_SEED_H
#define WR_SEED_H

#include <jansson.h>

#include "event.h"
#include "state.h"

/* wr_state_apply as ledger replay needs it: events at or before a
 * compaction point touch runs and outbox entries only. */
int wr_state_apply_ledger(struct wr_state *st, const struct wr_event *ev, const char **why);

/* Seeds workflows and counters from a compaction marker. Returns 0, or -1
 * (state unchanged) when the marker is malformed. */
int wr_compact_seed(struct wr_state *st, const struct wr_event *marker);
/* The "state" object of a marker for st (new reference). */
json_t *wr_compact_seed_json(const struct wr_state *st);

#endif
