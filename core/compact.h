/* compact.h - compaction: moving ended runs out of the live ledger.
 *
 * wr-ledger compact --keep DUR moves the events of runs that ended (status
 * succeeded or cancelled, no live attempt) and of outbox entries that are
 * done (delivered or acked), whose last event is older than now - DUR, to
 * an archive segment PATH.archive.N beside the ledger. A run and the outbox
 * entries enqueued for it, and everything that shares a decision (batch)
 * with them, move together or not at all, so that no decision is split.
 *
 * File format. The new live ledger is
 *
 *   {"seq":L+1,"type":"ledger.compacted","through":L,"archive":"NAME",
 *    "state":{totals of workflows and counters as of seq L},...}
 *   the kept lines, byte for byte, with their original seqs (<= L)
 *   appends from seq L+2 on
 *
 * The marker is ledger metadata, not a state event: the reducer never sees
 * it. Replay seeds workflows and the global counters from its "state" and
 * then applies the kept events with seq <= L to runs and the outbox only
 * (their workflow and counter effects are in the totals already), so the
 * derived state of everything kept is identical before and after. Gaps in
 * seq below L+1 are the archived events, not a loss (core/scan.h).
 *
 * The archive holds the moved lines byte for byte in ledger order, the old
 * marker (if any) first; "archive" in each marker names the segment written
 * with it, so the segments form a chain from the live ledger backwards. A
 * segment no marker reaches (a crash between writing it and renaming the
 * new ledger into place) is ignored: its events are still in the ledger.
 *
 * While the newest segment is under WR_ARCHIVE_SEGMENT_MAX and its first
 * event is less than WR_ARCHIVE_SEGMENT_SPAN_MS older than the last moved
 * one (so that wr-ledger compact --archives-keep, core/retain.h, can
 * delete old history a segment at a time), a compaction
 * writes a new segment holding it plus the moved lines, and removes the
 * old one after the new ledger is in place, so the chain stays short (a
 * reader walking the chain at that moment may see it end early).
 *
 * Order of writes, under the ledger lock: the archive (temp, fsync,
 * rename, fsync dir), then the new ledger (temp, fsync, rename over PATH,
 * fsync dir), then the superseded segment removed, then a snapshot. Nothing is deleted. A
 * writer blocked on the lock notices the rename (other inode) and replays
 * the new file. */
#ifndef WR_COMPACT_H
#define WR_COMPACT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "ledger.h"
#include "seed.h"
#include "state.h"

/* The size up to which compaction extends the newest archive segment
 * instead of starting a new one: 64 MiB ($WR_ARCHIVE_SEGMENT_BYTES, for
 * tests). With it the chain has one segment per 64 MiB of history. */
#define WR_ARCHIVE_SEGMENT_MAX ((size_t)64 << 20)
/* The time a segment spans at most when extended: 30 days
 * ($WR_ARCHIVE_SEGMENT_SPAN, a duration, for tests). */
#define WR_ARCHIVE_SEGMENT_SPAN_MS (30LL * 86400000)
int64_t wr_archive_segment_span(void);
size_t wr_archive_segment_max(void);

/* The archive segments beside the ledger at path that its chain does not
 * reach (leftovers of killed compactions: their events are in the chain
 * or the live ledger). None when the chain is broken (a segment it names
 * is missing): then *broken says so (newly allocated), else NULL. The
 * array and strings are the caller's. Call with the lock held, or a
 * compaction under way could look like an orphan. */
char **wr_ledger_orphans(const char *path, size_t *n, char **broken);
/* Under the lock: removes the orphan segments. *removed lists them (the
 * caller frees), *n how many were removed. 0 or -1 with wr_errmsg(). */
int wr_ledger_remove_orphans(struct wr_ledger *l, char ***removed, size_t *n);

struct wr_compact_result {
	int64_t through;           /* L: seqs up to it were considered */
	int64_t archived_events, kept_events;
	int64_t archived_runs, archived_outbox;
	char archive[4096];        /* path of the new segment, "" when none */
};

/* Compacts the ledger of l (opened with WR_LEDGER_WRITE): takes the lock,
 * repairs a torn tail, moves what ended before now - keep_ms. Returns 1
 * when it compacted, 0 when nothing was old enough (no file written), -1
 * with wr_errmsg() on error (the ledger is then untouched). */
int wr_ledger_compact(struct wr_ledger *l, int64_t keep_ms, struct wr_compact_result *res);

/* The archive segments of the ledger at path (absolute), oldest first,
 * following the markers' chain from the live ledger. *n is set; the array
 * and its strings are the caller's (free each, then the array). */
char **wr_ledger_archives(const char *path, size_t *n);
/* The newest archive segment of the ledger at path that holds a run arg
 * names (id, prefix or short id): its path, and the run's id in *id (both
 * newly allocated); NULL when none does. */
char *wr_archive_find_run(const char *path, const char *arg, char **id);

/* Replays the archive segments of l into l->st through l's callbacks, for
 * a complete history (wr-watch show/stats --archives). Call it on a handle
 * opened with WR_LEDGER_LAZY (callbacks set), then wr_ledger_refresh() to
 * replay the live ledger on top. The result is the state of the ledger as
 * if it had never been compacted (runs in archive order first). Returns
 * the number of segments read, or -1 with wr_errmsg(). */
int wr_ledger_replay_archives(struct wr_ledger *l);

#endif
