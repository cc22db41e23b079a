/* snapshot.h - the state cache PATH.snapshot beside the ledger.
 *
 * A snapshot holds the derived state (struct wr_state, every field of every
 * run, attempt, workflow and outbox entry) after replaying the ledger up to
 * a byte offset, with the scan position there (offset, line, seq) and the
 * ledger's bad-line count. Opening a ledger loads it when it matches and
 * replays only what follows; the state is then identical to a full replay.
 *
 * It is a cache, never the truth: it is trusted only when it matches the
 * open ledger file, checked by
 *   - magic, format version, byte order, the sizes of the state's arrays,
 *     a signature of the records' field lists (core/state_fields.h: a
 *     build whose records have other fields), and a 64-bit hash of its
 *     whole body (a corrupt or truncated snapshot);
 *   - the ledger's device and inode (a replaced file: compaction, restore,
 *     an editor's save) and a size of at least the offset (truncation);
 *   - hashes of the ledger's first 4 KiB, of the 4 KiB before the offset
 *     (the last line(s) it covers) and of 16 blocks of 256 bytes spread over
 *     the prefix (an edit in place).
 * Anything else is ignored and rebuilt by a full replay. Deleting it is
 * always safe. An in-place edit of the prefix that keeps the inode and
 * misses every sampled block goes unnoticed: the ledger is append-only and
 * no wr tool edits it in place; `wr-ledger verify` never uses snapshots.
 *
 * Format (native byte order, checked): a 32-byte header (magic
 * "WRSNAP\r\n", u32 version, u32 byte-order probe, u64 body length, u64
 * body hash), then the body: ledger identity and checks, scan position,
 * counters, a table of the JSON values (argv, labels, details; equal values
 * stored once and shared read-only after loading) in a compact binary
 * encoding, then workflows, runs and outbox entries in map order, strings
 * length-prefixed.
 *
 * Written atomically: PATH.snapshot.tmp.PID, fsync, rename, fsync dir. */
#ifndef WR_SNAPSHOT_H
#define WR_SNAPSHOT_H

#include <stdint.h>

#include <sys/types.h>

#include "scan.h"
#include "state.h"
#include "util.h"

#define WR_SNAPSHOT_VERSION 9 /* 9: the field lists' signature (core/state_fields.h); 8: hot runs only, the cold segments named; 2: agent counts and limits; 3: agent totals per workflow; 4: no_output_ms, signal; 5: expected schedules; 6: archived statistics; 7: launches */
#define WR_SNAPSHOT_BYTES_DEFAULT (256 * 1024)
/* The least a lock holder appends between two snapshots (core/ledger.c). */
#define WR_SNAPSHOT_MIN (4 * 1024)
/* ... or that part of the last snapshot's size, when more, for a handle
 * that appended at most WR_SNAPSHOT_FEW decisions (core/ledger.c). */
#define WR_SNAPSHOT_PART 8
#define WR_SNAPSHOT_FEW 8
/* A catch-up loads a newer snapshot instead of decoding the lines it
 * covers when they are at least 1/WR_SNAPSHOT_JUMP of its size (core/ledger.c):
 * a byte of snapshot loads several times faster than one of lines decodes. */
#define WR_SNAPSHOT_JUMP 4

/* What a snapshot is of: a ledger file open on fd (path, identity), how far
 * it was read, the state derived and the bad lines seen so far. The ledger
 * lends its handle's parts (wr_ledger_snapshot_write), so this module does
 * not depend on the ledger's. */
struct wr_snap_of {
	const char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	struct wr_scan *scan;
	struct wr_state *st;
	int64_t *bad_lines;
	/* The caller's own record of what it read (the ledger's events from
	 * the future), kept as bytes: written, and loaded when its length
	 * matches. */
	void *extra;
	size_t extra_len;
	/* Set, when not NULL, to PATH.snapshot's size by a load that loaded
	 * it and by a write (no stat of the file afterwards). */
	off_t *size;
};

/* Writes PATH.snapshot for the state at scan->off. Refuses (-1) while a
 * torn tail is pending. Returns 0, or -1 with wr_errmsg(); the temp file is
 * removed on failure. */
int wr_snapshot_write(const struct wr_snap_of *l);

/* The ledger offset PATH.snapshot (path: the ledger's) says it covers,
 * when it is of the file (dev, ino) in this format, and its size in *size;
 * else -1. Its body is not checked: a hint (when to write the next one),
 * never a reason to trust it. */
off_t wr_snapshot_peek(const char *path, dev_t dev, ino_t ino, off_t *size);
/* Loads PATH.snapshot into *st, *scan and *bad_lines when it matches the
 * open file. Returns 1 loaded, 0 missing or ignored (nothing changed). */
int wr_snapshot_load(const struct wr_snap_of *l);

/* Bytes replayed after which a handle writes a new snapshot:
 * $WR_SNAPSHOT_BYTES, else WR_SNAPSHOT_BYTES_DEFAULT; -1 when snapshots are
 * off (WR_SNAPSHOT_BYTES=off). */
int64_t wr_snapshot_threshold(void);

/* The snapshot's 64-bit hash of n bytes (not cryptographic). */
uint64_t wr_snapshot_hash(const void *p, size_t n);
/* A run encoded alone, JSON values in place (a cold record, core/cold.h),
 * and decoded back: NULL when the n bytes are not exactly one run. */
void wr_snapshot_put_run(struct wr_buf *b, const struct wr_run *r);
struct wr_run *wr_snapshot_get_run(const unsigned char *p, size_t n);

/* Outbox entries alone, JSON values in place (the cold store's outbox
 * file), and decoded back into m: 0, or -1 when the n bytes are not
 * exactly that. */
void wr_snapshot_put_outboxes(struct wr_buf *b, const struct wr_map *m);
int wr_snapshot_get_outboxes(const unsigned char *p, size_t n, struct wr_map *m);

/* A text dump of every field of the state, one line per workflow, run and
 * outbox entry, for tests and the benchmark driver: two states are the same
 * when their dumps are. */
void wr_state_dump(const struct wr_state *st, struct wr_buf *out);
/* The same as a string, newly allocated. */
char *wr_state_dump_text(const struct wr_state *st);

#endif
