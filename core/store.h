/* store.h - where a ledger's decisions are kept, behind one interface.
 *
 * A ledger is a sequence of decisions, each one or more JSONL lines. A
 * store keeps them and offers what the commit protocol (core/ledger.h)
 * needs, whatever keeps the bytes:
 *   - a readable fd with the decisions caught up so far, which core/scan
 *     reads from any offset (the file itself, or a local copy of a stream);
 *   - catch up: make what others appended readable through that fd;
 *   - conditional append: one decision's bytes, stored only if nothing was
 *     appended since the position (offset) the decision was made at;
 *   - a wait for new entries: an fd to poll, readable when there may be;
 *   - the lock, for the backends whose conditional append is a lock: a
 *     file's append is conditional because every writer holds flock on it.
 *
 * Backends: a file (core/store_file.c; flock, O_APPEND, cut back when the
 * write fails, fdatasync under the lock or after it: wr_store_sync), and a NATS JetStream stream (core/store_nats.c; a publish
 * that expects the stream's last sequence) when the ledger is named
 * nats://HOST:PORT[,HOST:PORT...]/STREAM. The tools never know which. */
#ifndef WR_STORE_H
#define WR_STORE_H

#include <stdint.h>
#include <sys/types.h>

/* How a ledger is opened (wr_ledger_open, wr_store_open). */
enum {
	WR_LEDGER_WRITE = 1,    /* create when missing; commits allowed */
	WR_LEDGER_QUIET = 2,    /* do not print bad lines on stderr */
	WR_LEDGER_LAZY = 4,     /* do not replay yet: set callbacks, then refresh */
	WR_LEDGER_NOSNAP = 8,   /* neither load nor write PATH.snapshot (verify) */
	WR_LEDGER_EXISTING = 16, /* with WRITE: never create the file (repair) */
	WR_LEDGER_MISSING_OK = 32, /* a reader: a missing file is an empty ledger */
};

enum wr_store_kind { WR_STORE_FILE, WR_STORE_NATS };

/* What wr_store_append returns when another append came first. */
#define WR_STORE_CONFLICT 1

struct wr_nats;

struct wr_store {
	int kind;
	char *path;             /* the file, or the stream's URL */
	int flags;              /* WR_LEDGER_* (core/ledger.h) */
	int fd;                 /* the decisions, readable; -1: none yet (no file) */
	dev_t dev;              /* of fd when opened */
	ino_t ino;
	int created;            /* this handle created the file */
	int locked;             /* between wr_store_lock and wr_store_unlock */
	off_t wrote_from, wrote_to; /* this handle's last append (a file) */
	int64_t lock_timeout_ms;
	char *lockpath;         /* a file's sidecar PATH.lock (survives compaction's rename) */
	int lockfd;
	dev_t lock_dev;         /* of lockfd when opened */
	ino_t lock_ino;
	int watch_fd, watch_dir; /* the wait for new entries (inotify for a file) */
	struct wr_nats *nats;   /* the JetStream backend's state */
	/* A stream: the bytes of fd that are whole messages (core/scan reads
	 * no further: another process on this host may be appending to the
	 * shared copy), and that copy's path, beside which the state cache
	 * goes (NULL: a copy of this process's own, no state cache). A file:
	 * limit -1 (to its end) and cache NULL. */
	off_t limit;
	const char *cache;
	/* A stream: the decision of the last failed append may be in it (it
	 * was sent and never answered); 0: a failed one is known not to be. */
	int unknown;
};

/* 1 when where names a JetStream stream (nats://...). */
int wr_store_is_nats(const char *where);

/* Opens the store at where (an absolute path, or a nats:// URL) with
 * WR_LEDGER_* flags. A file: a writer creates a missing file (and its
 * directory) unless WR_LEDGER_EXISTING; a reader finds a missing file as
 * fd -1 and success (the caller decides). 0, or -1 with wr_errmsg(). */
int wr_store_open(struct wr_store *s, const char *where, int flags);
void wr_store_close(struct wr_store *s);

/* Makes what was appended since off (the end of what the caller read)
 * readable through s->fd. Returns 0, 1 when the bytes were replaced (the
 * file compacted, deleted or cut: read again from offset 0), or -1. */
int wr_store_catch_up(struct wr_store *s, off_t off);

/* Appends one decision's bytes; at is the end of what it was decided on.
 * Returns 0 once stored (a file: synced unless nosync; a stream: the
 * server's acknowledgment), WR_STORE_CONFLICT when the store no longer
 * ends at at (catch up and decide again), or -1 with wr_errmsg(): nothing
 * of it was stored. The bytes are then readable through s->fd, by others
 * too: with nosync they are not durable until wr_store_sync. */
int wr_store_append(struct wr_store *s, const char *p, size_t n, off_t at, int nosync);
/* Makes every byte of the file durable (fdatasync; with or without the
 * lock), among them this handle's last append when mine. 0; -1 with
 * wr_errmsg() (kind WR_E_IO) when the disk refused: the last append, when
 * mine, stays (others appended after it); -2 when it was cut back (the
 * lock taken again, nothing after it). A stream: 0 (the acknowledgment of
 * the append is its durability). */
int wr_store_sync(struct wr_store *s, int mine);
/* Cuts the bytes back to off (a file's torn tail, under the lock). 0/-1. */
int wr_store_cut(struct wr_store *s, off_t off);

/* The lock (a no-op for a stream, whose append is conditional by itself).
 * wr_store_trylock: 1 locked, 0 busy, -1 error. */
int wr_store_lock(struct wr_store *s);
int wr_store_trylock(struct wr_store *s);
void wr_store_unlock(struct wr_store *s);

/* The wait for new entries: an fd that becomes readable when there may be
 * new entries, or -1 when there is none to wait on (then poll with a
 * timeout); wr_store_watch_drain consumes what made it readable. */
int wr_store_watch(struct wr_store *s);
void wr_store_watch_drain(struct wr_store *s);

/* wr-ledger init: creates the store (a stream: with replicas copies, at
 * least 1; a file: empty). An existing one is checked: *created 0. 0, or
 * -1 with wr_errmsg() (an existing stream set up otherwise: what is
 * wrong). */
int wr_store_init(const char *where, int replicas, int *created);

/* The local path the files of a ledger are named from (output logs): the
 * file itself, or ${XDG_STATE_HOME:-~/.local/state}/wr/nats/STREAM for a
 * stream. Newly allocated. */
char *wr_store_local(const char *where);


#endif
