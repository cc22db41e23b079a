/* store.c - the store interface (store.h): picks the backend by the name
 * of the ledger and passes each call on to it. */
#include "store.h"
#include "store_impl.h"
#include "err.h"
#include "timefmt.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_LOCK_TIMEOUT_MS 30000

int wr_store_is_nats(const char *where)
{
	return where && !strncmp(where, "nats://", 7);
}

void wr_store_identify(struct wr_store *s)
{
	struct stat sb;
	if (fstat(s->fd, &sb) == 0) {
		s->dev = sb.st_dev;
		s->ino = sb.st_ino;
	}
}

int wr_store_open(struct wr_store *s, const char *where, int flags)
{
	memset(s, 0, sizeof *s);
	s->fd = s->lockfd = -1;
	s->watch_fd = -2; /* not opened yet */
	s->watch_dir = -1;
	s->limit = -1;
	s->flags = flags;
	s->path = wr_xstrdup(where);
	s->lock_timeout_ms = DEFAULT_LOCK_TIMEOUT_MS;
	const char *lt = getenv("WR_LOCK_TIMEOUT");
	int64_t ms;
	if (lt && wr_dur_parse(lt, &ms) == 0)
		s->lock_timeout_ms = ms;
	s->kind = wr_store_is_nats(where) ? WR_STORE_NATS : WR_STORE_FILE;
	return s->kind == WR_STORE_NATS ? wr_nats_open(s) : wr_sfile_open(s);
}

void wr_store_close(struct wr_store *s)
{
	if (!s->path)
		return;
	if (s->kind == WR_STORE_NATS)
		wr_nats_close(s);
	else
		wr_sfile_close(s);
	free(s->path);
	memset(s, 0, sizeof *s);
	s->fd = s->lockfd = s->watch_fd = s->watch_dir = -1;
	s->limit = -1;
}

int wr_store_catch_up(struct wr_store *s, off_t off)
{
	return s->kind == WR_STORE_NATS ? wr_nats_catch_up(s, off) : wr_sfile_catch_up(s, off);
}

int wr_store_append(struct wr_store *s, const char *p, size_t n, off_t at, int nosync)
{
	if (s->kind == WR_STORE_NATS)
		return wr_nats_append(s, p, n, at); /* the server syncs as it is set up to */
	/* A file's append is conditional by the lock its writers hold. */
	return wr_sfile_append(s, p, n, nosync);
}

int wr_store_sync(struct wr_store *s, int mine)
{
	return s->kind == WR_STORE_NATS ? 0 : wr_sfile_sync(s, mine);
}

int wr_store_cut(struct wr_store *s, off_t off)
{
	if (s->kind == WR_STORE_NATS) {
		wr_seterr("refusing to cut %s: a stream keeps every message it acknowledged", s->path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	return wr_sfile_cut(s, off);
}

/* A stream needs no lock: its append is conditional by itself. */
int wr_store_lock(struct wr_store *s)
{
	s->unknown = 0;
	if (s->kind == WR_STORE_NATS)
		return s->locked = 1, 0;
	return wr_sfile_lock(s);
}

int wr_store_trylock(struct wr_store *s)
{
	if (s->kind == WR_STORE_NATS)
		return s->locked = 1;
	return wr_sfile_trylock(s);
}

void wr_store_unlock(struct wr_store *s)
{
	if (s->kind == WR_STORE_NATS)
		s->locked = 0;
	else
		wr_sfile_unlock(s);
}

int wr_store_watch(struct wr_store *s)
{
	return s->kind == WR_STORE_NATS ? wr_nats_watch(s) : wr_sfile_watch(s);
}

void wr_store_watch_drain(struct wr_store *s)
{
	if (s->kind == WR_STORE_NATS)
		wr_nats_watch_drain(s);
	else
		wr_sfile_watch_drain(s);
}

int wr_store_init(const char *where, int replicas, int *created)
{
	struct wr_store s;
	*created = 0;
	if (!wr_store_is_nats(where)) {
		/* A file: created empty, as its first writer would. */
		if (wr_store_open(&s, where, WR_LEDGER_WRITE) < 0)
			return -1;
		*created = s.created;
		wr_store_close(&s);
		return 0;
	}
	memset(&s, 0, sizeof s);
	s.fd = s.lockfd = s.watch_fd = s.watch_dir = -1;
	s.kind = WR_STORE_NATS;
	s.path = wr_xstrdup(where);
	int r = wr_nats_init(&s, replicas, created);
	wr_store_close(&s);
	return r;
}

char *wr_store_local(const char *where)
{
	if (!wr_store_is_nats(where))
		return wr_xstrdup(where);
	char **servers, *stream;
	int n;
	if (wr_nats_parse(where, &servers, &n, &stream) < 0)
		return wr_xstrdup(where);
	for (int i = 0; i < n; i++)
		free(servers[i]);
	free(servers);
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *r = xdg && *xdg == '/' ? wr_xasprintf("%s/wr/nats/%s", xdg, stream)
				     : wr_xasprintf("%s/.local/state/wr/nats/%s", home && *home ? home : "", stream);
	free(stream);
	return r;
}
