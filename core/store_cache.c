/* store_cache.c - the local copy of a stream's messages, kept between
 * processes (store_impl.h), so that opening a stream fetches only the
 * messages appended since the last process on this host looked.
 *
 * ${XDG_CACHE_HOME:-~/.cache}/wr/nats/STREAM-ID.jsonl holds the messages
 * 1..seq of one stream, in order, as the memory copy of a process without
 * a cache would; ID is a hash of the stream's identity (its cluster, its
 * name and its creation time), so a stream deleted and created again under
 * the same name never meets the copy of the old one. Beside it:
 *   .meta  what the copy holds: the identity, the file's device and inode,
 *          seq, its size, where message seq begins and a hash of it (to be
 *          checked against the stream), and a hash of the whole file (64 KiB
 *          blocks chained, so that an append rehashes at most one block);
 *          replaced atomically, never synced: a copy it does not describe is
 *          made again. An open checks the file's last block against it
 *          (the bytes after the whole blocks): its cost does not grow with
 *          the copy; one that replays every decision anyway (verify,
 *          export) checks the whole chain;
 *   .lock  flock held while the copy or its .meta changes;
 *   .snapshot, .cold.HEX  the state cache of the copy (core/snapshot.h).
 * A file is only ever appended to at the size .meta gives, under the lock:
 * bytes past it (a process that died between the two) make the copy be made
 * again, in a new file renamed over it, so that a process still reading the
 * old one keeps whole messages. A cache: deleting it costs a fetch. */
#include "err.h"
#include "fsmode.h"
#include "replace.h"
#include "snapshot.h"
#include "store_impl.h"
#include "timefmt.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (64 * 1024)
#define META_MAGIC "wr-nats-cache 1"

/* hash64 of the 16 bytes (chain, h): the chain of the blocks so far. */
static uint64_t chain(uint64_t c, uint64_t h)
{
	uint64_t v[2] = {c, h};
	return wr_snapshot_hash(v, sizeof v);
}

struct wr_ncache *wr_ncache_new(const char *stream, const char *cluster, int64_t created)
{
	const char *off = getenv("WR_NATS_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (off && !strcmp(off, "off"))
		return NULL;
	char *dir;
	if (xdg && *xdg == '/')
		dir = wr_xasprintf("%s/wr/nats", xdg);
	else if (home && *home == '/')
		dir = wr_xasprintf("%s/.cache/wr/nats", home);
	else
		return NULL;
	struct wr_ncache *c = wr_xcalloc(1, sizeof *c);
	/* Names have no new line (wr_nats_parse, the server's rules). The
	 * cluster's hash first: the copies of one stream name on one cluster
	 * share their first 8 hex digits (remove_others). */
	const char *cl = cluster ? cluster : "";
	char *idtext = wr_xasprintf("%s\n%s\n%" PRId64, stream, cl, created);
	c->id = (wr_snapshot_hash(cl, strlen(cl)) & 0xffffffff00000000ULL) |
		(wr_snapshot_hash(idtext, strlen(idtext)) & 0xffffffffULL);
	free(idtext);
	c->stream = wr_xstrdup(stream);
	c->dir = dir;
	c->path = wr_xasprintf("%s/%s-%016" PRIx64 ".jsonl", dir, stream, c->id);
	c->meta_path = wr_xasprintf("%s.meta", c->path);
	c->lock_path = wr_xasprintf("%s.lock", c->path);
	c->lockfd = -1;
	return c;
}

void wr_ncache_free(struct wr_ncache *c)
{
	if (!c)
		return;
	wr_ncache_unlock(c);
	if (c->lockfd >= 0)
		close(c->lockfd);
	if (c->tmp) {
		unlink(c->tmp);
		free(c->tmp);
	}
	free(c->stream);
	free(c->dir);
	free(c->path);
	free(c->meta_path);
	free(c->lock_path);
	free(c);
}

/* The directory and the lock file, as fsmode trusts them. 0 or -1. */
static int open_lock(struct wr_ncache *c)
{
	if (c->lockfd >= 0)
		return 0;
	if (wr_fs_mkdirs(c->dir, 0700) < 0) {
		wr_seterrsys("unable to create directory %s", c->dir);
		return -1;
	}
	if (wr_fs_check_dir(c->path, 0) < 0)
		return -1;
	int fd = wr_fs_open(c->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		wr_fs_seterr_open(c->lock_path, "cache lock file");
		return -1;
	}
	if (wr_fs_check_file(fd, c->lock_path, "cache lock file", 0) < 0) {
		close(fd);
		return -1;
	}
	c->lockfd = fd;
	return 0;
}

int wr_ncache_lock(struct wr_ncache *c, int64_t timeout_ms)
{
	if (c->locked)
		return 0;
	if (open_lock(c) < 0)
		return -1;
	int64_t until = wr_mono_ms() + timeout_ms;
	while (flock(c->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			wr_seterrsys("unable to lock %s", c->lock_path);
			return -1;
		}
		if (wr_mono_ms() >= until) {
			wr_seterr("the cache %s stayed locked for %" PRId64 " ms", c->path, timeout_ms);
			return -1;
		}
		struct timespec ts = {0, 2 * 1000000L};
		nanosleep(&ts, NULL);
	}
	/* The lock file removed or replaced meanwhile (the cache deleted):
	 * another process may hold the new one. */
	struct stat a, b;
	if (fstat(c->lockfd, &a) < 0 || stat(c->lock_path, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(c->lockfd);
		c->lockfd = -1;
		if (wr_mono_ms() >= until) {
			wr_seterr("the lock of the cache %s kept being replaced", c->path);
			return -1;
		}
		return wr_ncache_lock(c, until - wr_mono_ms());
	}
	c->locked = 1;
	return 0;
}

void wr_ncache_unlock(struct wr_ncache *c)
{
	if (c->locked && c->lockfd >= 0)
		flock(c->lockfd, LOCK_UN);
	c->locked = 0;
}

/* Reads .meta into *m; 0, or -1 with *why. */
static int read_meta(struct wr_ncache *c, struct wr_ncache_meta *m, const char **why)
{
	int fd = open(c->meta_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*why = errno == ENOENT ? "no cache yet" : "its description cannot be opened";
		return -1;
	}
	char buf[512];
	ssize_t n = wr_fs_check_file(fd, c->meta_path, "cache file", 0) < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		*why = "its description is not to be trusted (owner or mode)";
		return -1;
	}
	buf[n] = 0;
	uint64_t id = 0;
	int64_t dev, ino;
	int used = 0;
	memset(m, 0, sizeof *m);
	if (sscanf(buf,
		   META_MAGIC " %" SCNx64 " %" SCNd64 " %" SCNd64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNx64
			      " %" SCNd64 " %" SCNx64 " %" SCNx64 "\n%n",
		   &id, &dev, &ino, &m->seq, &m->size, &m->last_off, &m->last_hash, &m->full_off, &m->full_chain,
		   &m->tail_hash, &used) != 10 ||
	    used != n || id != c->id || m->size < 0 || m->last_off < 0 || m->last_off > m->size || m->full_off < 0 ||
	    m->full_off > m->size || m->full_off % BLOCK || (m->seq == 0) != (m->size == 0)) {
		*why = "its description is damaged";
		return -1;
	}
	m->dev = (dev_t)dev;
	m->ino = (ino_t)ino;
	return 0;
}

/* The hashes of fd's bytes from m->full_off to m->size, m->full_chain and
 * m->tail_hash extended: 0, or -1 when they cannot be read. */
static int hash_from(int fd, struct wr_ncache_meta *m, uint64_t *full_chain, uint64_t *tail_hash)
{
	char *buf = wr_xmalloc(BLOCK);
	uint64_t ch = m->full_chain;
	off_t at = m->full_off;
	int r = 0;
	*tail_hash = 0;
	while (at < m->size) {
		size_t want = (size_t)(m->size - at) < BLOCK ? (size_t)(m->size - at) : BLOCK;
		if (pread(fd, buf, want, at) != (ssize_t)want) {
			r = -1;
			break;
		}
		if (want < BLOCK) {
			*tail_hash = wr_snapshot_hash(buf, want);
			break;
		}
		ch = chain(ch, wr_snapshot_hash(buf, want));
		at += BLOCK;
	}
	free(buf);
	*full_chain = ch;
	m->full_off = at;
	return r;
}

/* 1 when the bytes after the copy's whole blocks (its last block, at most
 * 64 KiB) match their hash. */
static int end_matches(int fd, const struct wr_ncache_meta *m)
{
	size_t n = (size_t)(m->size - m->full_off);
	if (!n)
		return 1;
	char *buf = wr_xmalloc(n);
	int r = pread(fd, buf, n, m->full_off) == (ssize_t)n && wr_snapshot_hash(buf, n) == m->tail_hash;
	free(buf);
	return r;
}

/* 1 when the whole file matches its chain of block hashes. */
static int whole_matches(int fd, const struct wr_ncache_meta *m)
{
	struct wr_ncache_meta whole = *m;
	whole.full_off = 0;
	whole.full_chain = 0;
	uint64_t fc, th;
	return hash_from(fd, &whole, &fc, &th) == 0 && fc == m->full_chain && th == m->tail_hash &&
	       whole.full_off == m->full_off;
}

int wr_ncache_load(struct wr_ncache *c, int deep, const char **why)
{
	struct wr_ncache_meta m;
	if (read_meta(c, &m, why) < 0)
		return -1;
	int fd = open(c->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0 || wr_fs_check_file(fd, c->path, "cache file", 0) < 0) {
		*why = fd < 0 ? "its file cannot be opened" : "its file is not to be trusted (owner or mode)";
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (sb.st_dev != m.dev || sb.st_ino != m.ino || sb.st_size != m.size) {
		*why = sb.st_dev != m.dev || sb.st_ino != m.ino ? "its description is of another file"
								 : "its file is not as long as described";
		close(fd);
		return -1;
	}
	/* Its last block against its hash (an open reads 64 KiB at most,
	 * whatever the copy's length), or, deep, the whole file: a copy found
	 * damaged is made again, never read. */
	if (!end_matches(fd, &m) || (deep && !whole_matches(fd, &m))) {
		*why = "its file does not match its hash (damaged)";
		close(fd);
		return -1;
	}
	/* Held shared while open, so that no process removes it meanwhile
	 * (remove_others); one removing it now: a new copy. */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		*why = "it is being removed";
		close(fd);
		return -1;
	}
	c->m = m;
	wr_temp_clean(c->path);
	return fd;
}

int wr_ncache_create(struct wr_ncache *c)
{
	if (c->tmp) {
		unlink(c->tmp);
		free(c->tmp);
	}
	c->tmp = wr_temp_path(c->path);
	int fd = wr_fs_open(c->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		wr_seterrsys("unable to create %s", c->tmp);
		free(c->tmp);
		c->tmp = NULL;
		return -1;
	}
	flock(fd, LOCK_SH | LOCK_NB); /* as wr_ncache_load's (no one else has it yet) */
	memset(&c->m, 0, sizeof c->m);
	return fd;
}

void wr_ncache_kept(struct wr_ncache *c, const char *p, size_t n, off_t end)
{
	c->m.last_off = c->m.size;
	c->m.size = end;
	c->m.seq++;
	c->m.last_hash = wr_snapshot_hash(p, n);
}

/* Removes the copy name of c's directory (and what goes with it: .meta,
 * the state cache, .lock last) unless a process holds it: its lock, or
 * the file open (the shared lock of wr_ncache_load). */
static void remove_copy(const struct wr_ncache *c, const char *name)
{
	char *path = wr_xasprintf("%s/%s", c->dir, name), *lock = wr_xasprintf("%s.lock", path);
	int lfd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	int no_lock = lfd < 0 && errno == ENOENT;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int free_to_go = (lfd >= 0 || no_lock) && fd >= 0 && (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) == 0) &&
			 flock(fd, LOCK_EX | LOCK_NB) == 0;
	DIR *d = free_to_go ? opendir(c->dir) : NULL;
	size_t nl = strlen(name);
	for (struct dirent *e; d && (e = readdir(d));)
		if (!strncmp(e->d_name, name, nl) && e->d_name[nl] == '.' && strcmp(e->d_name + nl, ".lock") &&
		    !strstr(e->d_name + nl, ".tmp."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d) {
		closedir(d);
		wr_temp_clean(path);
		unlink(path);
		unlink(lock);
	}
	if (getenv("WR_NATS_TRACE"))
		fprintf(stderr, "%s: cache %s of a stream created again: %s\n", wr_prog, path,
			d ? "removed" : "kept (in use)");
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	free(lock);
	free(path);
}

/* Removes the copies of this stream name and cluster with another
 * identity (the stream deleted and created again), unless held. */
static void remove_others(const struct wr_ncache *c)
{
	DIR *d = opendir(c->dir);
	if (!d)
		return;
	char mine[17];
	snprintf(mine, sizeof mine, "%016" PRIx64, c->id);
	size_t sl = strlen(c->stream), n = 0;
	char **names = NULL;
	for (struct dirent *e; (e = readdir(d));) {
		const char *nm = e->d_name, *hex = nm + sl + 1;
		if (strlen(nm) == sl + 1 + 16 + strlen(".jsonl") && !strncmp(nm, c->stream, sl) && nm[sl] == '-' &&
		    strspn(hex, "0123456789abcdef") == 16 && !strcmp(hex + 16, ".jsonl") && !strncmp(hex, mine, 8) &&
		    strncmp(hex, mine, 16)) {
			names = wr_xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = wr_xstrdup(nm);
		}
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		remove_copy(c, names[i]);
		free(names[i]);
	}
	free(names);
}

int wr_ncache_save(struct wr_ncache *c, int fd)
{
	uint64_t fc, th;
	if (hash_from(fd, &c->m, &fc, &th) < 0) {
		wr_seterrsys("unable to read %s", c->tmp ? c->tmp : c->path);
		return -1;
	}
	c->m.full_chain = fc;
	c->m.tail_hash = th;
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		wr_seterrsys("unable to keep %s", c->path);
		return -1;
	}
	c->m.dev = sb.st_dev;
	c->m.ino = sb.st_ino;
	if (c->tmp) {
		if (rename(c->tmp, c->path) < 0) {
			wr_seterrsys("unable to rename %s to %s", c->tmp, c->path);
			return -1;
		}
		free(c->tmp);
		c->tmp = NULL;
		remove_others(c); /* a new copy: those of the stream's former selves go */
	}
	char buf[512];
	int n = snprintf(buf, sizeof buf,
			 META_MAGIC " %" PRIx64 " %" PRId64 " %" PRId64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRIx64
				    " %" PRId64 " %" PRIx64 " %" PRIx64 "\n",
			 c->id, (int64_t)c->m.dev, (int64_t)c->m.ino, c->m.seq, (int64_t)c->m.size,
			 (int64_t)c->m.last_off, c->m.last_hash, (int64_t)c->m.full_off, c->m.full_chain, c->m.tail_hash);
	char *tmp = wr_temp_path(c->meta_path);
	int mfd = wr_fs_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	int r = mfd >= 0 && wr_write_all(mfd, buf, (size_t)n) == 0 ? 0 : -1;
	if (mfd >= 0 && close(mfd) < 0)
		r = -1;
	if (r == 0 && rename(tmp, c->meta_path) < 0)
		r = -1;
	if (r < 0) {
		wr_seterrsys("unable to write %s", c->meta_path);
		unlink(tmp);
	}
	free(tmp);
	return r;
}

int wr_ncache_adopt(struct wr_ncache *c, int fd, uint64_t *seq, off_t *end)
{
	struct wr_ncache_meta m;
	const char *why;
	struct stat sb;
	if (read_meta(c, &m, &why) < 0 || fstat(fd, &sb) < 0 || sb.st_dev != m.dev || sb.st_ino != m.ino ||
	    sb.st_size != m.size || m.seq < *seq || m.size < *end)
		return -1;
	c->m = m;
	*seq = m.seq;
	*end = m.size;
	return 0;
}
