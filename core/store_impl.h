/* store_impl.h - the backends behind core/store.h (store.c dispatches). */
#ifndef WR_STORE_IMPL_H
#define WR_STORE_IMPL_H

#include <stddef.h>
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

#endif
