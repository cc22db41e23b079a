/* retain.h - retention: what wr-ledger compact deletes on purpose.
 *
 * --keep DUR moves ended runs to the archive (core/compact.h); their
 * output logs (core/outlog.h) go with them: wr_outlog_prune removes the
 * logs of the runs a compaction archived. --archives-keep DUR deletes
 * the oldest archive segments whose newest event is older than now - DUR,
 * never the newest segment (the one the live ledger names). The oldest
 * segment kept starts with the compaction marker that named the deleted
 * one: it is rewritten (temp file, fsync, rename, fsync of the directory)
 * without that link and with "pruned": {"at", "older_than", "archives"},
 * so the chain ends there and verify finds it whole; its "state" holds
 * the totals of everything before it, so figures that come from the
 * totals (workflow counters, wr-watch stats --format prometheus) keep the
 * deleted history. Then the deleted segments are unlinked; a crash
 * between the two leaves them orphans (verify reports them, repair
 * removes them). All of it under the ledger's lock. */
#ifndef WR_RETAIN_H
#define WR_RETAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "state.h"

struct wr_prune_result {
	int64_t segments;          /* archive segments deleted */
	int64_t bytes;             /* their size */
	char **names;              /* their paths (the caller frees each, then names) */
};

/* Deletes the archive segments of l older than keep_ms as above. Returns
 * the number deleted (0: none old enough), or -1 with wr_errmsg(). */
int wr_ledger_prune_archives(struct wr_ledger *l, int64_t keep_ms, struct wr_prune_result *res);
void wr_prune_result_free(struct wr_prune_result *res);

/* The ids of the runs in st (newly allocated, *n of them), to compare a
 * state before a compaction with the one after. */
char **wr_run_ids(const struct wr_state *st, size_t *n);
/* Removes the logs of the runs among ids that after no longer has (the
 * ones a compaction archived). Returns how many runs had logs, or -1
 * with wr_errmsg() (the others are still removed). */
int64_t wr_outlog_prune(const char *ledger, char **ids, size_t n, const struct wr_state *after);

#endif
