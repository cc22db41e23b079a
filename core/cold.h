/* cold.h - ended runs out of the heap: the cold part of the state.
 *
 * A run that ended (succeeded, cancelled, rejected) never changes again but
 * for a stale event now and then, and most of a long ledger's runs have
 * ended. The state keeps them here, encoded, instead of as structs: first
 * in a pending buffer, then in immutable segments, each memory-mapped and
 * read lazily. A record becomes a struct wr_run only when a lookup or an
 * iteration asks for it.
 *
 * A segment is a file beside the ledger (PATH.cold.HEX, written by the
 * holder of the lock and named in PATH.snapshot) or, while a process
 * replays, an anonymous one (memfd) that only it sees. Layout (native byte
 * order, checked): a 64-byte header (magic "WRCOLD\r\n", u32 version, u32
 * byte-order probe, u64 records, u64 end of the record area, u64 file
 * size, u64 hash of the block hashes, u64 random tag, u64 hash of the
 * header), the records in creation order (ord), then the index: a u64
 * offset per record, sorted by run id, and a u64 hash of each block of 512
 * entries. The header and the block hashes are checked at open, a block
 * of the index when a lookup first reads it, so that opening a segment
 * costs the same whatever its size. A record is a 24-byte head (u32 length, u32
 * tag, i64 ord, u64 hash of ord and payload) and the run encoded as
 * snapshots encode it (core/snapshot.h), padded to 8 bytes.
 *
 * Newer segments shadow older ones (a run evicted again after a stale
 * event); the pending buffer shadows every segment. Merging keeps the
 * newest copy of each run. Every read is bounds-checked: a damaged or
 * foreign segment is refused at open, a record whose hash is wrong, or an
 * index block whose hash is, is never used (wr_cold_damaged() tells). */
#ifndef WR_COLD_H
#define WR_COLD_H

#include <stddef.h>
#include <stdint.h>

#include "map.h"
#include "state.h"
#include "util.h"

#define WR_COLD_VERSION 2

struct wr_cold_seg {
	char *path;                /* the file; NULL: anonymous */
	int fd;
	unsigned char *map;
	size_t size;
	uint64_t n;                /* records */
	uint64_t recs_end;         /* end of the record area */
	uint64_t tag;              /* what a snapshot names it by */
	unsigned char *iok;        /* per block of the index: checked */
	int bad;                   /* a block failed its hash */
};

struct wr_cold_pend {
	size_t off;                /* of the record's head in buf */
	int64_t ord;
};

struct wr_cold {
	struct wr_cold_seg *seg;   /* oldest first */
	size_t nseg, capseg;
	struct wr_buf buf;         /* pending records */
	struct wr_cold_pend *pend;
	size_t npend, cappend;
	struct wr_map pidx;        /* id -> index in pend + 1 (the latest) */
	struct wr_map live;        /* id -> struct wr_run *, materialised */
	int keep;                  /* keep evicted structs (pointers handed out) */
	int damaged;               /* a record failed its hash or decoding */
	int64_t seal_bytes;        /* pending bytes that make an anonymous segment */
	/* The outbox entries' file (LEDGER.cold.HEX too), NULL: none. */
	char *ob_path;
	uint64_t ob_tag, ob_n;
};

struct wr_cold *wr_cold_new(void);
void wr_cold_free(struct wr_cold *c);
/* Gives st the store c (st owns it from then on). */
void wr_cold_bind(struct wr_state *st, struct wr_cold *c);

/* Stores run r (ended) as the newest copy of its id. With c->keep the
 * struct r stays valid (held in c->live) and c owns it; else it is freed.
 * Returns nothing: the pending buffer grows, or becomes a segment. */
void wr_cold_evict(struct wr_cold *c, struct wr_run *r);
/* The newest copy of id re-encoded after a change to its materialised
 * struct (a stale event). */
void wr_cold_update(struct wr_cold *c, const struct wr_run *r);

/* The run id, materialised (kept in c->live until c is freed), or NULL.
 * *ord (may be NULL) gets its creation order. */
struct wr_run *wr_cold_get(struct wr_cold *c, const char *id, int64_t *ord);
/* 1 when c holds id, without decoding it. */
int wr_cold_has(struct wr_cold *c, const char *id);
/* The only run whose id starts with prefix (suffix != 0: ends with it),
 * materialised; NULL with *count set to how many matched (0 or > 1). */
struct wr_run *wr_cold_find(struct wr_cold *c, const char *part, int suffix, size_t *count);
int wr_cold_damaged(const struct wr_cold *c);

/* Iteration in creation order, the newest copy of each run once. */
struct wr_cold_iter {
	struct wr_cold *c;
	size_t *porder;            /* pending records (latest copies) by ord */
	size_t np, ip;
	size_t *soff;              /* per segment: offset of the next record */
	struct wr_run *scratch;
};
void wr_cold_iter_init(struct wr_cold_iter *it, struct wr_cold *c);
/* The ord of the next run, or INT64_MAX at the end. */
int64_t wr_cold_iter_peek(struct wr_cold_iter *it);
/* The next run (a scratch struct valid until the next call, or the kept
 * one), or NULL at the end. */
const struct wr_run *wr_cold_iter_next(struct wr_cold_iter *it);
void wr_cold_iter_free(struct wr_cold_iter *it);

/* Makes every anonymous segment and the pending records one segment file
 * beside ledger (LEDGER.cold.HEX), then merges file segments so that each
 * is more than twice the size of the next newer one. Returns how many
 * files it wrote, or -1 with wr_errmsg() (c unchanged but for what was
 * done). */
int wr_cold_persist(struct wr_cold *c, const char *ledger);
/* 1 when nothing is anonymous or pending (the snapshot can name it all). */
int wr_cold_persisted(const struct wr_cold *c);
/* 0 when a segment file of c was removed (another writer merged it away
 * after c was loaded): a snapshot must not name it. */
int wr_cold_files_exist(const struct wr_cold *c);
/* Adds the segment file path as the newest; refuses (-1) a file that is
 * not a whole segment of this format with that tag and record count. */
int wr_cold_attach(struct wr_cold *c, const char *path, uint64_t tag, uint64_t n);
/* Writes st's outbox entries to a file of their own when they changed and
 * are more than WR_COLD_OUTBOX_INLINE (else the snapshot holds them).
 * Returns 1 when it wrote one, 0 when not, -1 with wr_errmsg(). */
#define WR_COLD_OUTBOX_INLINE 256
int wr_cold_persist_outbox(struct wr_state *st, const char *ledger);
/* Removes the LEDGER.cold.* files that no segment of c is (nor its
 * outbox file). Returns how
 * many. */
int wr_cold_gc(const struct wr_cold *c, const char *ledger);

#endif
