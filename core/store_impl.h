/* store_impl.h - the backends behind core/store.h (store.c dispatches). */
#ifndef WR_STORE_IMPL_H
#define WR_STORE_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct wr_store;

/* Records the identity (device, inode) of s->fd as opened. */
void wr_store_identify(struct wr_store *s);

int wr_sfile_open(struct wr_store *s);
void wr_sfile_close(struct wr_store *s);
int wr_sfile_catch_up(struct wr_store *s, off_t off);
int wr_sfile_append(struct wr_store *s, const char *p, size_t n, int nosync);
int wr_sfile_cut(struct wr_store *s, off_t off);
int wr_sfile_sync(struct wr_store *s, int mine);
int wr_sfile_lock(struct wr_store *s);
int wr_sfile_trylock(struct wr_store *s);
void wr_sfile_unlock(struct wr_store *s);
int wr_sfile_watch(struct wr_store *s);
void wr_sfile_watch_drain(struct wr_store *s);

int wr_nats_open(struct wr_store *s);
void wr_nats_close(struct wr_store *s);
int wr_nats_catch_up(struct wr_store *s, off_t off);
int wr_nats_append(struct wr_store *s, const char *p, size_t n, off_t at);
int wr_nats_watch(struct wr_store *s);
void wr_nats_watch_drain(struct wr_store *s);
int wr_nats_init(struct wr_store *s, int replicas, int *created);
/* The servers and the stream of a nats:// URL; 0, or -1 with wr_errmsg(). */
int wr_nats_parse(const char *url, char ***servers, int *n, char **stream);

/* The local copy of a stream (core/store_cache.c): what its .meta says. */
struct wr_ncache_meta {
	uint64_t seq;           /* the file holds the messages 1..seq */
	off_t size;             /* their bytes */
	off_t last_off;         /* where message seq begins */
	uint64_t last_hash;     /* the hash of its data as the stream has it */
	off_t full_off;         /* the whole 64 KiB blocks end there */
	uint64_t full_chain;    /* their hashes chained */
	uint64_t tail_hash;     /* the hash of the bytes after them */
	dev_t dev;              /* the file described */
	ino_t ino;
};

struct wr_ncache {
	char *stream, *dir, *path, *meta_path, *lock_path;
	char *tmp;              /* a copy being made, renamed to path by save */
	uint64_t id;            /* the hash of the stream's identity */
	int lockfd, locked;
	struct wr_ncache_meta m;
};

/* The cache of the stream stream (of cluster, created at created, in ns),
 * or NULL when there is none (WR_NATS_CACHE=off, no XDG_CACHE_HOME nor
 * HOME). Nothing is opened yet. */
struct wr_ncache *wr_ncache_new(const char *stream, const char *cluster, int64_t created);
void wr_ncache_free(struct wr_ncache *c);
/* The lock (made with its directory, as core/fsmode trusts them), waited
 * for timeout_ms at most. 0, or -1 with wr_errmsg(). */
int wr_ncache_lock(struct wr_ncache *c, int64_t timeout_ms);
void wr_ncache_unlock(struct wr_ncache *c);
/* Under the lock: opens the copy when its .meta describes it (device,
 * inode, size) and its last block matches its hash (the bytes after the
 * whole 64 KiB blocks), or, deep, the whole file; c->m is then what it
 * holds. The fd, or -1 with *why (a reason to make it again). */
int wr_ncache_load(struct wr_ncache *c, int deep, const char **why);
/* Under the lock: a new empty copy (a temp file save renames). fd or -1. */
int wr_ncache_create(struct wr_ncache *c);
/* Message p, n (its data as the stream has it) was written to the copy,
 * which now ends at end. */
void wr_ncache_kept(struct wr_ncache *c, const char *p, size_t n, off_t end);
/* Under the lock: the copy open at fd renamed into place if new, its .meta
 * written. 0, or -1 with wr_errmsg(). */
int wr_ncache_save(struct wr_ncache *c, int fd);
/* Under the lock: when .meta still describes the file open at fd and holds
 * at least *seq messages (*end bytes), what others appended is taken:
 * *seq and *end set from it, 0. -1: the copy is no longer this fd's. */
int wr_ncache_adopt(struct wr_ncache *c, int fd, uint64_t *seq, off_t *end);

#endif
