/* ledger.h - the ledger file: where it is, reading it, committing to it.
 *
 * The commit protocol (docs/DESIGN.md "The commit protocol"):
 *   1. flock a sidecar PATH.lock (it survives compaction's rename);
 *   2. bring the in-memory state up to date: replay what was appended since
 *      this handle last looked (all of it when the file was replaced);
 *      a torn tail is moved to PATH.quarantine and ledger.repaired recorded;
 *   3. run the caller's pure decide(state, now, request) -> events;
 *   4. give the events seq, ts, by and batch marks (and an id to each
 *      outbox.enqueued the decision left without one), write them with one
 *      write(2) on an O_APPEND fd (the directory is synced when the file was
 *      created); if the write fails, truncate back to where it was;
 *   5. apply them to the state (a snapshot, when due, fdatasyncs the file
 *      first: it never covers bytes that are not durable), unlock;
 *   6. group commit: fdatasync after the unlock (concurrent writers' syncs
 *      overlap), unless the decision is heartbeats alone decided on bytes
 *      this handle synced; also when it wrote nothing or was refused but
 *      was decided on bytes no sync of this handle covered. Only then
 *      return success (or the refusal): a caller acts on a decision only
 *      once it is durable, with everything written before it. Others may
 *      read it, and decide on top of it, before: they sync before they
 *      act. A failed sync cuts the decision back when nothing was appended
 *      after it (the lock taken again), else it stays, and says so.
 *
 * A handle keeps its state between commits, so a process that commits many
 * times (wr-run's heartbeats) replays only what others appended meanwhile.
 *
 * Files are refused unless they are regular, owned by the caller's uid and
 * not writable by group or others, in a directory only the caller (or
 * root) can write to; the lock file must not be a symbolic link. */
#ifndef WR_LEDGER_H
#define WR_LEDGER_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "decision.h"
#include "scan.h"
#include "state.h"
#include "store.h"

/* The WR_LEDGER_* flags of wr_ledger_open are in store.h. */

/* Tolerated skew between the clocks of hosts sharing a ledger. */
#define WR_CLOCK_SKEW_MS 5000

/* The events from the future a handle has seen: count, the most ahead. */
struct wr_future {
	int64_t events;
	int64_t skew_ms;        /* how far the most ahead one was ahead */
	int64_t ahead_ts;       /* its stamp */
	int64_t line, seq;      /* where the first one is */
	char host[128];         /* its host when known, else "" */
	char by[64];
	char type[32];
	int warned;
	int64_t clock;          /* this host's clock at the last look */
};

struct wr_ledger {
	char *path, *qpath;     /* path: the file, or the stream's URL */
	int flags;
	struct wr_store store;  /* where the decisions are kept (core/store.h) */
	struct wr_state st;
	struct wr_scan scan;
	char by[64];            /* "wr-run/4242" */
	int64_t bad_lines;      /* bad lines seen by this handle */
	/* Called for each bad line; the default prints it on stderr. */
	void (*on_error)(void *ctx, const struct wr_scan_error *e);
	void *on_error_ctx;
	/* Called now and then during long reads (replay, compaction) with the
	 * bytes done of total, for a progress bar (may be NULL). */
	void (*on_progress)(void *ctx, off_t done, off_t total);
	void *on_progress_ctx;
	/* Called for each whole decision as it is applied (may be NULL); the
	 * result of wr_state_apply for each event is in applied[], its reason
	 * (stale, invalid) in why[]. */
	void (*on_events)(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			  const char *const *why, int64_t line);
	void *on_events_ctx;
	/* Snapshots (core/snapshot.h): loaded when the replay starts from the
	 * beginning and no on_events callback wants every event; written when
	 * snap_every bytes were replayed since the last one (after a commit,
	 * an open or a refresh). Never a reason for a call to fail. */
	off_t snap_off;         /* offset of the snapshot loaded or written, 0 none */
	off_t snap_size;        /* its size in bytes */
	int64_t commits;        /* decisions this handle appended */
	int snap_loaded;        /* the last full replay started from a snapshot */
	int snap_warned;
	/* Events stamped later than this host's clock (+ WR_CLOCK_SKEW_MS):
	 * another host's clock runs ahead. Decisions use this host's clock
	 * all the same; a handle without WR_LEDGER_QUIET warns once. */
	struct wr_future future;
	/* The end of the bytes this handle may act on: made durable by a sync
	 * of its own, or its own heartbeats (wr_ledger_commit). */
	off_t sure_off;
};

/* What a tool reads of a handle: cmd/ goes through these, never through
 * the members (tests/cli/harness/modules.sh checks it). The state is the
 * handle's, valid until the next call that reads or commits. */
static inline const struct wr_state *wr_ledger_state(const struct wr_ledger *l)
{
	return &l->st;
}
/* The ledger as messages name it: its file, or the stream's URL. */
static inline const char *wr_ledger_name(const struct wr_ledger *l)
{
	return l->path;
}
/* Where a torn tail is moved (PATH.quarantine). */
static inline const char *wr_ledger_quarantine_path(const struct wr_ledger *l)
{
	return l->qpath;
}
/* How far the handle read: offset, line, seq, a torn tail. */
static inline const struct wr_scan *wr_ledger_scan(const struct wr_ledger *l)
{
	return &l->scan;
}
/* Bad lines this handle saw. */
static inline int64_t wr_ledger_bad_lines(const struct wr_ledger *l)
{
	return l->bad_lines;
}
/* Events stamped ahead of this host's clock that the handle saw. */
static inline const struct wr_future *wr_ledger_future(const struct wr_ledger *l)
{
	return &l->future;
}
/* The "by" this handle's events carry ("wr-run/4242"). */
static inline const char *wr_ledger_by(const struct wr_ledger *l)
{
	return l->by;
}
/* 0 when a reader opened with WR_LEDGER_MISSING_OK found no ledger there. */
static inline int wr_ledger_present(const struct wr_ledger *l)
{
	return l->store.fd >= 0;
}
/* 1 when the decision of the last failed commit may be in the ledger all
 * the same (a stream's publish that was never answered); 0 when it is
 * known not to be. */
static inline int wr_ledger_unknown(const struct wr_ledger *l)
{
	return l->store.unknown;
}

/* The callbacks of a handle (the fields above), set before the replay
 * (WR_LEDGER_LAZY) by tools that watch it; fn NULL removes one. */
void wr_ledger_on_error(struct wr_ledger *l, void (*fn)(void *ctx, const struct wr_scan_error *e), void *ctx);
void wr_ledger_on_progress(struct wr_ledger *l, void (*fn)(void *ctx, off_t done, off_t total), void *ctx);
void wr_ledger_on_events(struct wr_ledger *l,
			 void (*fn)(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
				    const char *const *why, int64_t line),
			 void *ctx);

/* The ledger path: opt (--ledger), else $WR_LEDGER, else
 * ${XDG_STATE_HOME:-$HOME/.local/state}/wr/ledger.jsonl. Newly allocated. */
char *wr_ledger_path(const char *opt);

/* Opens the ledger and replays it. A writer (WR_LEDGER_WRITE) creates a
 * missing file and its directory, unless WR_LEDGER_EXISTING; for anyone
 * else a missing file is an error (kind WR_E_NOLEDGER, "no ledger at
 * PATH" and where to look), unless WR_LEDGER_MISSING_OK makes it an empty
 * ledger. Returns 0, or -1 with wr_errmsg() set. */
int wr_ledger_open(struct wr_ledger *l, const char *path, int flags);
/* Replays what was appended since the last look, without the lock. A
 * replaced file (compaction) is reopened and replayed from the start.
 * Returns 0, 1 when the file was replaced, or -1. */
int wr_ledger_refresh(struct wr_ledger *l);
/* One decision under the lock. Returns 0, or -1 with wr_errmsg() and
 * wr_errkind() (WR_E_IO, WR_E_LOCK_TIMEOUT, WR_E_REFUSED). */
int wr_ledger_commit(struct wr_ledger *l, wr_decide_fn decide, void *req);
/* A dry run's decision: its events (ids drawn, stamped now with the next
 * seq and the handle's by) applied to the handle's state in memory only,
 * as a commit would, so that later decisions of the same dry pass see
 * them. Nothing is written. */
void wr_ledger_apply_dry(struct wr_ledger *l, json_t *events, int64_t now);
/* Takes the lock, repairs a torn tail if there is one. Returns 1 when it
 * repaired, 0 when there was nothing to do, -1 on error. */
int wr_ledger_repair(struct wr_ledger *l);
void wr_ledger_close(struct wr_ledger *l);

/* Lock helpers, for tools that hold the lock across several steps. */
int wr_ledger_lock(struct wr_ledger *l);
void wr_ledger_unlock(struct wr_ledger *l);
/* Takes the lock only if it is free now (readers that want a moment of
 * quiet, never a wait). Returns 1 locked, 0 busy, -1 error. */
int wr_ledger_trylock(struct wr_ledger *l);

/* With the lock held: catch up with the file and repair a torn tail
 * (steps 1-2 of the commit protocol, for compaction). 0 or -1. */
int wr_ledger_sync_locked(struct wr_ledger *l);
/* Replays another file (an archive segment when archive != 0: seq gaps
 * expected) into l's state through l's callbacks. 0 or -1. */
int wr_ledger_scan_file(struct wr_ledger *l, const char *path, int archive);

/* 1 when path names an archive segment (NAME.archive.N): read as a ledger,
 * its seq gaps are expected; never written. */
int wr_ledger_is_archive(const char *path);
/* Sets the "no ledger at PATH" error (kind WR_E_NOLEDGER): which of
 * --ledger (opt), WR_LEDGER, XDG_STATE_HOME, HOME gave the path. */
void wr_ledger_seterr_missing(const char *opt, const char *path);

/* Writes a snapshot of l's state (core/snapshot.h). 0, or -1 with
 * wr_errmsg(). */
int wr_ledger_snapshot_write(struct wr_ledger *l);

/* Exit status for a failed ledger call in a tool other than wr-run. */
int wr_ledger_exit_status(void);

#endif
