/* state_diff.h - comparing two derived states (wr-ledger verify --deep).
 *
 * Built on wr_state_dump (core/snapshot.h), which prints every field of
 * the state, one line per workflow, run and outbox entry: whatever fields
 * the state gains, the dump has them, so this comparison follows. */
#ifndef WR_STATE_DIFF_H
#define WR_STATE_DIFF_H

#include "state.h"
#include "util.h"

/* Compares a and b (named aname and bname in the report). For each
 * difference appends one line to out: what differs (the totals, or the
 * workflow, run or outbox entry by its id), the first field that differs
 * and both values, or that only one side has it. At most max lines (then
 * a last line says how many more). Returns the number of differences, 0
 * when the states are the same. */
size_t wr_state_diff(const struct wr_state *a, const char *aname, const struct wr_state *b, const char *bname,
		     size_t max, struct wr_buf *out);

#endif
