/* store.c - the store interface (store.h): picks the backend by the name
 * of the ledger and passes each call on to it. */
#include "store.h"
#include "store_impl.h"
#include "err.h"
#include "timefmt.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_LOCK_TIMEOUT_MS 30000

int wr_store_is_nats(const char *where)
{
	return where && !strncmp(where, "nats://", 7);
}

int wr_store_open(struct wr_store *s, const char *where, int flags)
{
	memset(s, 0, sizeof *s);
	s->fd = s->lockfd = -1;
	s->watch_fd = -2; /* not opened yet */
	s->watch_dir = -1;
	s->flags = flags;
	s->path = wr_xstrdup(where);
	s->lock_timeout_ms = DEFAULT_LOCK_TIMEOUT_MS;
	const char *lt = getenv("WR_LOCK_TIMEOUT");
	int64_t ms;
	if (lt && wr_dur_parse(lt, &ms) == 0)
		s->lock_timeout_ms = ms;
	s->kind = WR_STORE_FILE;
	return wr_sfile_open(s);
}

void wr_store_close(struct wr_store *s)
{
	if (!s->path)
		return;
	wr_sfile_close(s);
	free(s->path);
	memset(s, 0, sizeof *s);
	s->fd = s->lockfd = s->watch_fd = s->watch_dir = -1;
}

int wr_store_catch_up(struct wr_store *s, off_t off)
{
	return wr_sfile_catch_up(s, off);
}

int wr_store_append(struct wr_store *s, const char *p, size_t n, off_t at, int nosync)
{
	(void)at; /* the lock makes a file's append conditional */
	return wr_sfile_append(s, p, n, nosync);
}

int wr_store_cut(struct wr_store *s, off_t off)
{
	return wr_sfile_cut(s, off);
}

int wr_store_lock(struct wr_store *s)
{
	return wr_sfile_lock(s);
}

int wr_store_trylock(struct wr_store *s)
{
	return wr_sfile_trylock(s);
}

void wr_store_unlock(struct wr_store *s)
{
	wr_sfile_unlock(s);
}

int wr_store_watch(struct wr_store *s)
{
	return wr_sfile_watch(s);
}

void wr_store_watch_drain(struct wr_store *s)
{
	wr_sfile_watch_drain(s);
}
