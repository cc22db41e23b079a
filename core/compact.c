/* compact.c - compaction markers, the archive chain, and wr_ledger_compact. */
#include "compact.h"
#include "seed.h"
#include "err.h"
#include "fsmode.h"
#include "map.h"
#include "replace.h"
#include "scan.h"
#include "stats.h"
#include "timefmt.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- archive chain ---- */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? wr_xstrndup(path, (size_t)(slash - path) + (slash == path)) : wr_xstrdup(".");
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* The first line of a file, if it is a compaction marker: its "archive"
 * (newly allocated), else NULL. */
static char *marker_archive(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct wr_buf b = {0};
	char chunk[65536];
	char *nl = NULL;
	for (;;) {
		ssize_t r = wr_read(fd, chunk, sizeof chunk);
		if (r <= 0)
			break;
		wr_buf_add(&b, chunk, (size_t)r);
		if ((nl = memchr(b.p, '\n', b.len)) || b.len > WR_LINE_MAX)
			break;
	}
	close(fd);
	char *res = NULL;
	struct wr_event ev;
	struct wr_decode_err err;
	if (nl && wr_event_decode(b.p, (size_t)(nl - b.p), &ev, &err) == 0) {
		const char *a = wr_ev_str(&ev, "archive");
		if (wr_event_is_marker(&ev) && a && *a && !strchr(a, '/'))
			res = wr_xstrdup(a);
		wr_event_clear(&ev);
	}
	wr_buf_free(&b);
	return res;
}

char **wr_ledger_archives(const char *path, size_t *n)
{
	char **v = NULL;
	size_t cap = 0;
	*n = 0;
	char *dir = dir_of(path);
	char *name = marker_archive(path);
	/* Newest first along the chain; a loop (a hand-made file) ends it. */
	while (name && *n < 100000) {
		char *p = wr_xasprintf("%s/%s", dir, name);
		free(name);
		name = NULL;
		int seen = 0;
		for (size_t i = 0; i < *n; i++)
			seen |= !strcmp(v[i], p);
		if (seen || access(p, R_OK) < 0) {
			free(p);
			break;
		}
		WR_GROW(v, cap, *n + 1);
		v[(*n)++] = p;
		name = marker_archive(p);
	}
	free(name);
	free(dir);
	for (size_t i = 0; i < *n / 2; i++) {
		char *t = v[i];
		v[i] = v[*n - 1 - i];
		v[*n - 1 - i] = t;
	}
	return v;
}

int wr_ledger_replay_archives(struct wr_ledger *l)
{
	size_t n;
	char **v = wr_ledger_archives(l->path, &n);
	int rc = 0;
	l->flags |= WR_LEDGER_NOSNAP; /* the live replay goes on top of these */
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && wr_ledger_scan_file(l, v[i], 1) < 0)
			rc = -1;
		free(v[i]);
	}
	free(v);
	return rc < 0 ? -1 : (int)n;
}

char *wr_archive_find_run(const char *path, const char *arg, char **id)
{
	size_t n;
	char **v = wr_ledger_archives(path, &n);
	char *found = NULL;
	*id = NULL;
	for (size_t i = n; i-- > 0;) {
		struct wr_ledger a;
		int ambiguous;
		if (!found) { /* a segment that cannot be read is passed over */
			const struct wr_run *r = NULL;
			if (wr_ledger_open(&a, v[i], WR_LEDGER_QUIET | WR_LEDGER_NOSNAP) == 0)
				r = wr_state_find_run(&a.st, arg, &ambiguous);
			if (r) {
				*id = wr_xstrdup(r->id);
				found = wr_xstrdup(v[i]);
			}
			wr_ledger_close(&a); /* also after a failed open */
		}
		free(v[i]);
	}
	free(v);
	return found;
}

/* Next free segment number: one more than any PATH.archive.N present. */
static long next_archive(const char *path)
{
	char *dir = dir_of(path);
	const char *base = base_of(path);
	size_t bl = strlen(base);
	long max = 0;
	DIR *d = opendir(dir);
	free(dir);
	if (!d)
		return 1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, base, bl) || strncmp(e->d_name + bl, ".archive.", 9))
			continue;
		char *end;
		long k = strtol(e->d_name + bl + 9, &end, 10);
		if (!*end && k > max)
			max = k;
	}
	closedir(d);
	return max + 1;
}

size_t wr_archive_segment_max(void)
{
	const char *e = getenv("WR_ARCHIVE_SEGMENT_BYTES");
	char *end;
	unsigned long long v = e && *e ? strtoull(e, &end, 10) : 0;
	return e && *e && !*end && v > 0 ? (size_t)v : WR_ARCHIVE_SEGMENT_MAX;
}

/* Segment numbers present beside the ledger: calls fn for each
 * PATH.archive.N (N digits only). */
static void each_segment(const char *path, void (*fn)(void *ctx, const char *seg), void *ctx)
{
	char *dir = dir_of(path);
	const char *base = base_of(path);
	size_t bl = strlen(base);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *num = e->d_name + bl + 9;
		if (strncmp(e->d_name, base, bl) || strncmp(e->d_name + bl, ".archive.", 9) || !*num ||
		    strspn(num, "0123456789") != strlen(num))
			continue;
		char *p = wr_xasprintf("%s/%s", dir, e->d_name);
		fn(ctx, p);
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
}

struct orphans {
	char **chain, **out;
	size_t nchain, n, cap;
};

static void orphan_check(void *ctx, const char *seg)
{
	struct orphans *o = ctx;
	for (size_t i = 0; i < o->nchain; i++)
		if (!strcmp(o->chain[i], seg))
			return;
	WR_GROW(o->out, o->cap, o->n + 1);
	o->out[o->n++] = wr_xstrdup(seg);
}

char **wr_ledger_orphans(const char *path, size_t *n, char **broken)
{
	struct orphans o = {0};
	*broken = NULL;
	o.chain = wr_ledger_archives(path, &o.nchain);
	/* The walk ends at the oldest segment, which names none; a name that
	 * leads nowhere means a segment is missing: then nothing is called an
	 * orphan, since what is left may be the only copy of its history. */
	char *last = marker_archive(o.nchain ? o.chain[0] : path);
	if (last) {
		*broken = wr_xasprintf("%s names %s, which is missing", o.nchain ? o.chain[0] : path, last);
		free(last);
	} else {
		each_segment(path, orphan_check, &o);
	}
	for (size_t i = 0; i < o.nchain; i++)
		free(o.chain[i]);
	free(o.chain);
	*n = o.n;
	return o.out;
}

int wr_ledger_remove_orphans(struct wr_ledger *l, char ***removed, size_t *n)
{
	*removed = NULL;
	*n = 0;
	if (wr_ledger_lock(l) < 0)
		return -1;
	char *broken;
	size_t k;
	char **v = wr_ledger_orphans(l->path, &k, &broken);
	int rc = 0;
	for (size_t i = 0; i < k; i++) {
		if (rc == 0 && unlink(v[i]) < 0) {
			wr_seterrsys("unable to remove orphan archive segment %s", v[i]);
			rc = -1;
		}
		if (rc == 0)
			(*n)++;
	}
	if (*n && wr_fsync_dir_of(l->path) < 0 && rc == 0) {
		wr_seterrsys("unable to sync the directory of %s", l->path);
		rc = -1;
	}
	wr_ledger_unlock(l);
	free(broken);
	*removed = v;
	return rc;
}

/* ---- compaction ---- */

struct line {
	off_t off;
	uint32_t len;
	int32_t ent;      /* -1 none, 0 the pin (always kept), else entity */
	int32_t dec;      /* decision index, -1: not part of a whole decision (kept) */
};

struct cctx {
	const struct wr_state *st;
	struct wr_map ents;       /* "r\x1fID" / "o\x1fID" -> index */
	int32_t *parent;
	int64_t *last_ts;
	unsigned char *ok;        /* may move, as far as its own state goes */
	size_t nent, capent, cap2, cap3;
};

static int32_t find(struct cctx *c, int32_t e)
{
	while (c->parent[e] != e) {
		c->parent[e] = c->parent[c->parent[e]];
		e = c->parent[e];
	}
	return e;
}

static void unite(struct cctx *c, int32_t a, int32_t b)
{
	a = find(c, a);
	b = find(c, b);
	if (a == b)
		return;
	if (a == 0 || (b != 0 && a < b))
		c->parent[b] = a;
	else
		c->parent[a] = b;
}

static int32_t entity(struct cctx *c, char kind, const char *id, int64_t ts)
{
	char key[300];
	snprintf(key, sizeof key, "%c\x1f%s", kind, id);
	void *v = wr_map_get(&c->ents, key);
	int32_t e;
	if (v) {
		e = (int32_t)(uintptr_t)v;
	} else {
		e = (int32_t)c->nent;
		WR_GROW(c->parent, c->capent, c->nent + 1);
		WR_GROW(c->last_ts, c->cap2, c->nent + 1);
		WR_GROW(c->ok, c->cap3, c->nent + 1);
		c->nent++;
		c->parent[e] = e;
		c->last_ts[e] = ts;
		unsigned char ok = 0;
		if (kind == 'r') {
			struct wr_run *r = wr_state_run(c->st, id);
			ok = r && wr_status_ended(r->status) && !wr_run_live(r);
		} else {
			struct wr_outbox *o = wr_state_outbox(c->st, id);
			ok = o && (o->state == WR_OB_DELIVERED || o->state == WR_OB_ACKED);
		}
		c->ok[e] = ok;
		wr_map_put(&c->ents, key, (void *)(uintptr_t)e);
	}
	if (ts > c->last_ts[e])
		c->last_ts[e] = ts;
	return e;
}

static int is_outbox(enum wr_type t)
{
	return t >= WR_EV_OUTBOX_ENQUEUED && t <= WR_EV_OUTBOX_RETRIED;
}

/* The entity an event belongs to; -1 for events whose effect is all in
 * the marker's totals (breaker changes, repairs, old markers). */
static int32_t event_entity(struct cctx *c, const struct wr_event *ev)
{
	if (is_outbox(ev->type)) {
		int32_t e = entity(c, 'o', wr_ev_str(ev, "id"), ev->ts);
		if (ev->type == WR_EV_OUTBOX_ENQUEUED && ev->run)
			unite(c, e, entity(c, 'r', ev->run, ev->ts)); /* a run goes with its notifications */
		return e;
	}
	if (ev->type == WR_EV_BREAKER_CHANGED || ev->type == WR_EV_LEDGER_REPAIRED || wr_event_is_marker(ev))
		return -1;
	if (ev->run)
		return entity(c, 'r', ev->run, ev->ts);
	return 0; /* an unknown type about no run: stays live */
}

static int write_file(const char *tmp, const char *const *parts, const size_t *lens, size_t n, struct stat *sb)
{
	int fd = wr_fs_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		wr_seterrsys("unable to create %s", tmp);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (lens[i] && wr_write_all(fd, parts[i], lens[i]) < 0)
			goto fail;
	if (fsync(fd) < 0 || (sb && fstat(fd, sb) < 0))
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	wr_seterrsys("unable to write %s", tmp);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* Reads a whole archive segment of at most max bytes into b. -1 when it
 * is missing, unreadable, refused or too big (then b is empty). */
static int read_segment(const char *path, size_t max, struct wr_buf *b)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0 || wr_fs_check_file(fd, path, "archive", 0) < 0 || (size_t)sb.st_size > max || (size_t)sb.st_size > (size_t)1 << 40) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char chunk[65536];
	ssize_t r;
	while ((r = wr_read(fd, chunk, sizeof chunk)) > 0)
		wr_buf_add(b, chunk, (size_t)r);
	close(fd);
	if (r < 0 || b->len != (size_t)sb.st_size || (b->len && b->p[b->len - 1] != '\n')) {
		wr_buf_free(b);
		memset(b, 0, sizeof *b);
		return -1;
	}
	return 0;
}

int64_t wr_archive_segment_span(void)
{
	const char *e = getenv("WR_ARCHIVE_SEGMENT_SPAN");
	int64_t v;
	return e && *e && wr_dur_parse(e, &v) == 0 && v > 0 ? v : WR_ARCHIVE_SEGMENT_SPAN_MS;
}

/* The ts of the event on the line p[0..n), or -1. */
static int64_t line_ts(const char *p, size_t n)
{
	struct wr_event ev;
	struct wr_decode_err err;
	if (n == 0 || wr_event_decode(p, n, &ev, &err) < 0)
		return -1;
	int64_t ts = ev.ts;
	wr_event_clear(&ev);
	return ts;
}

/* 1 when the head segment (its first line) and the moved lines (their
 * last) would span more than wr_archive_segment_span(): then a new
 * segment starts, so that retention can delete old history by segment. */
static int span_too_long(const struct wr_buf *head, const struct wr_buf *moved)
{
	const char *nl = head->len ? memchr(head->p, '\n', head->len) : NULL;
	if (!nl || moved->len < 2)
		return 0;
	const char *end = moved->p + moved->len - 1, *s = end;
	while (s > moved->p && s[-1] != '\n')
		s--;
	int64_t first = line_ts(head->p, (size_t)(nl - head->p)), last = line_ts(s, (size_t)(end - s));
	return first >= 0 && last >= 0 && last - first > wr_archive_segment_span();
}

/* Copies the chosen lines of map into a buffer, in order. */
static void gather(struct wr_buf *b, const char *map, const struct line *ln, size_t nl, const unsigned char *arch,
		   int want)
{
	for (size_t i = 0; i < nl; i++)
		if (arch[i] == want)
			wr_buf_add(b, map + ln[i].off, (size_t)ln[i].len + 1);
}

struct archiving {
	struct cctx *c;
	int32_t pin;
};

static int run_archived(const char *run, void *ctx)
{
	struct archiving *a = ctx;
	char key[300];
	snprintf(key, sizeof key, "r\x1f%s", run);
	void *v = wr_map_get(&a->c->ents, key);
	int32_t e = (int32_t)(uintptr_t)v;
	return v && e && find(a->c, e) != a->pin;
}

/* The marker's seed of st, with the statistics of the runs that move
 * (their recovery decisions read from the moved lines) added to each
 * workflow's archived totals, so that stats survive the archive. */
static json_t *seed_with_archived(const struct wr_state *st, struct archiving *a, const char *map,
				  const struct line *ln, size_t nl, const unsigned char *arch)
{
	struct wr_stats s;
	wr_stats_init(&s, 0);
	s.st = st;
	for (size_t i = 0; i < nl; i++) {
		struct wr_event ev;
		struct wr_decode_err err;
		if (arch[i] != 1 || ln[i].len > WR_LINE_MAX || wr_event_decode(map + ln[i].off, ln[i].len, &ev, &err) < 0)
			continue;
		int ok = WR_APPLY_OK;
		if (ev.type == WR_EV_RECOVERY_DECIDED)
			wr_stats_on_events(&s, &ev, 1, &ok, NULL, 0);
		wr_event_clear(&ev);
	}
	json_t *totals = wr_stats_archive(&s, st, run_archived, a);
	wr_stats_free(&s);
	json_t *seed = wr_compact_seed_json(st);
	size_t i;
	json_t *j;
	json_array_foreach(json_object_get(seed, "workflows"), i, j)
	{
		json_t *t = json_object_get(totals, json_string_value(json_object_get(j, "workflow")));
		if (t)
			wr_jset(j, "archived", json_incref(t));
	}
	json_decref(totals);
	return seed;
}

/* A compaction under way: the mapped ledger, its lines, their entities
 * and decisions, and which lines move (arch: 1 to the archive, 0 kept,
 * 2 neither: the old marker when its segment is extended). */
struct plan {
	char *map;
	size_t size;
	struct line *ln;
	size_t nl, capl;
	unsigned char *arch;
	int32_t *dec_root;        /* each whole decision's entity (-1: none) */
	size_t ndec, capd;
	struct cctx c;
	int32_t pin;
	int64_t cutoff;
	char *apath, *hpath;      /* the new segment; the one it extends */
	struct wr_buf hb, ab;     /* their contents */
};

static void plan_free(struct plan *p)
{
	if (p->map)
		munmap(p->map, p->size);
	wr_buf_free(&p->ab);
	wr_buf_free(&p->hb);
	free(p->hpath);
	free(p->apath);
	free(p->ln);
	free(p->arch);
	free(p->dec_root);
	free(p->c.parent);
	free(p->c.last_ts);
	free(p->c.ok);
	wr_map_free(&p->c.ents, NULL);
}

/* Lines [first, p->nl) are a whole decision: their entities are joined
 * and it gets the next decision index. */
static void whole_decision(struct plan *p, size_t first)
{
	int32_t root = -1;
	for (size_t i = first; i < p->nl; i++) {
		p->ln[i].dec = (int32_t)p->ndec;
		if (p->ln[i].ent < 0)
			continue;
		if (root < 0)
			root = p->ln[i].ent;
		else
			unite(&p->c, root, p->ln[i].ent);
	}
	WR_GROW(p->dec_root, p->capd, p->ndec + 1);
	p->dec_root[p->ndec++] = root;
}

/* One pass over the mapped ledger: its lines, their entity, and whole
 * decisions (as scan.c assembles them; what is not part of a whole
 * decision stays). */
static void read_lines(struct wr_ledger *l, struct plan *p)
{
	size_t pend = 0; /* index of the first line of a pending batch */
	int want = 0, have = 0;
	for (size_t pos = 0; pos < p->size;) {
		if (l->on_progress && (p->nl & 0xffff) == 0)
			l->on_progress(l->on_progress_ctx, (off_t)pos, (off_t)p->size);
		const char *nlp = memchr(p->map + pos, '\n', p->size - pos);
		if (!nlp)
			break; /* cannot happen: scan.off ends a line */
		size_t len = (size_t)(nlp - (p->map + pos));
		WR_GROW(p->ln, p->capl, p->nl + 1);
		struct line *L = &p->ln[p->nl];
		*L = (struct line){(off_t)pos, (uint32_t)len, 0, -1};
		pos += len + 1;
		struct wr_event ev;
		struct wr_decode_err err;
		if (len > WR_LINE_MAX || wr_event_decode(p->map + L->off, len, &ev, &err) < 0) {
			want = 0; /* a bad line: it and any pending batch stay */
			p->nl++;
			continue;
		}
		L->ent = event_entity(&p->c, &ev);
		int bi = ev.batch_i, bn = ev.batch_n;
		wr_event_clear(&ev);
		if (bn == 0 || bi == 1) {
			want = bn;
			have = 1;
			pend = p->nl;
		} else if (want && bi == have + 1 && bn == want) {
			have++;
		} else {
			want = 0;
			p->nl++;
			continue;
		}
		p->nl++;
		if (want && have < want)
			continue;
		whole_decision(p, want ? pend : p->nl - 1);
		want = 0;
	}
}

/* What moves: every entity that ended before the cutoff, with all it
 * shares a decision with; the counts in res. 0 when only ledger metadata
 * would move (an old marker, breaker changes): not worth a segment. */
static int choose(struct plan *p, struct wr_compact_result *res)
{
	for (size_t e = 1; e < p->c.nent; e++)
		if (!p->c.ok[e] || p->c.last_ts[e] >= p->cutoff)
			unite(&p->c, (int32_t)e, 0);
	p->arch = wr_xcalloc(p->nl ? p->nl : 1, 1);
	p->pin = find(&p->c, 0);
	for (size_t i = 0; i < p->nl; i++) {
		if (p->ln[i].dec < 0)
			continue;
		int32_t root = p->dec_root[p->ln[i].dec];
		p->arch[i] = root < 0 || find(&p->c, root) != p->pin;
		if (p->arch[i])
			res->archived_events++;
	}
	res->kept_events = (int64_t)p->nl - res->archived_events;
	for (size_t i = 0; i < p->c.ents.n; i++) {
		int32_t e = (int32_t)(uintptr_t)wr_map_at(&p->c.ents, i);
		if (e && find(&p->c, e) != p->pin) {
			if (wr_map_key_at(&p->c.ents, i)[0] == 'r')
				res->archived_runs++;
			else
				res->archived_outbox++;
		}
	}
	if (res->archived_runs + res->archived_outbox == 0) {
		res->archived_events = 0;
		res->kept_events = (int64_t)p->nl;
		return 0;
	}
	return 1;
}

/* The archive first, complete and durable, under its final name. The
 * newest segment (the one the live marker names) is extended while it
 * stays under the size and span limits, so the chain stays short: a copy
 * of it plus the moved lines (not the old marker: it names that segment)
 * goes in as a new segment, and the old one is removed once the new
 * ledger is in place. 0 or -1 with wr_errmsg(). */
static int write_archive(struct wr_ledger *l, struct plan *p, struct wr_compact_result *res)
{
	long k = next_archive(l->path);
	p->apath = wr_xasprintf("%s.archive.%ld", l->path, k);
	char *head = marker_archive(l->path);
	if (head) {
		char *dir = dir_of(l->path);
		p->hpath = wr_xasprintf("%s/%s", dir, head);
		free(dir);
		free(head);
		if (p->ln[0].dec >= 0)
			p->arch[0] = 2; /* the old marker goes to neither file */
		gather(&p->ab, p->map, p->ln, p->nl, p->arch, 1);
		size_t max = wr_archive_segment_max();
		if (p->ab.len >= max || read_segment(p->hpath, max - p->ab.len, &p->hb) < 0 ||
		    span_too_long(&p->hb, &p->ab)) {
			wr_buf_free(&p->hb);
			memset(&p->hb, 0, sizeof p->hb);
			free(p->hpath);
			p->hpath = NULL;
			p->arch[0] = 1;
			wr_buf_free(&p->ab);
			memset(&p->ab, 0, sizeof p->ab);
		}
	}
	if (!p->hpath)
		gather(&p->ab, p->map, p->ln, p->nl, p->arch, 1);
	char *atmp = wr_temp_path(p->apath);
	const char *ap[2] = {p->hb.p, p->ab.p};
	size_t al[2] = {p->hb.len, p->ab.len};
	int rc = -1;
	if (write_file(atmp, ap, al, 2, NULL) < 0) {
		;
	} else if (rename(atmp, p->apath) < 0 || wr_fsync_dir_of(p->apath) < 0) {
		wr_seterrsys("unable to put the archive in place as %s", p->apath);
		unlink(atmp);
	} else {
		snprintf(res->archive, sizeof res->archive, "%s", p->apath);
		rc = 0;
	}
	free(atmp);
	return rc;
}

/* The first line of the new live ledger (ledger.compacted), without its
 * newline. Newly allocated. */
static char *marker_line(struct wr_ledger *l, struct plan *p, const struct wr_compact_result *res, int64_t keep_ms)
{
	json_t *m = json_object();
	int64_t now = wr_now_ms();
	if (now < l->st.last_ts)
		now = l->st.last_ts;
	wr_jset_int(m, "v", WR_SCHEMA);
	wr_jset_int(m, "seq", l->st.last_seq + 1);
	wr_jset_ts(m, "ts", now);
	wr_jset_str(m, "type", WR_COMPACTED_TYPE);
	wr_jset_str(m, "by", l->by);
	wr_jset_int(m, "through", l->st.last_seq);
	wr_jset_str(m, "archive", base_of(p->apath));
	wr_jset_int(m, "archived_events", res->archived_events);
	wr_jset_int(m, "kept_events", res->kept_events);
	wr_jset_int(m, "keep_ms", keep_ms);
	wr_jset_ts(m, "cutoff", p->cutoff > 0 ? p->cutoff : 0);
	struct archiving moving = {&p->c, p->pin};
	wr_jset(m, "state", seed_with_archived(&l->st, &moving, p->map, p->ln, p->nl, p->arch));
	char *ms = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(m);
	if (!ms)
		wr_die(wr_exit_failure, "out of memory");
	return ms;
}

/* Then the new live ledger: the marker, then the kept lines, renamed over
 * the ledger. 0 or -1 with wr_errmsg() (the ledger is unchanged). */
static int write_live(struct wr_ledger *l, struct plan *p, const struct wr_compact_result *res, int64_t keep_ms)
{
	struct wr_buf live = {0};
	char *ms = marker_line(l, p, res, keep_ms);
	wr_buf_addstr(&live, ms);
	wr_buf_add(&live, "\n", 1);
	free(ms);
	gather(&live, p->map, p->ln, p->nl, p->arch, 0);
	char *ltmp = wr_temp_path(l->path);
	unlink(ltmp);
	const char *lp[1] = {live.p};
	size_t ll[1] = {live.len};
	int rc = -1;
	if (write_file(ltmp, lp, ll, 1, NULL) < 0) {
		;
	} else if (rename(ltmp, l->path) < 0) {
		wr_seterrsys("unable to rename %s to %s", ltmp, l->path);
		unlink(ltmp);
	} else {
		if (wr_fsync_dir_of(l->path) < 0)
			wr_warnsys("unable to sync the directory of %s", l->path);
		rc = 0;
	}
	free(ltmp);
	wr_buf_free(&live);
	return rc;
}

/* After the new ledger is in place: the segment it extended is in the new
 * one now and no marker names it (a crash here leaves it an orphan:
 * verify reports it, repair removes it); our handle follows the rename and
 * leaves a snapshot of the new file, so that the next reader does not
 * replay it from scratch. */
static void after_replace(struct wr_ledger *l, struct plan *p)
{
	if (p->hpath && (unlink(p->hpath) < 0 || wr_fsync_dir_of(p->hpath) < 0))
		wr_warnsys("unable to remove the superseded archive segment %s", p->hpath);
	if (wr_ledger_refresh(l) < 0) {
		wr_warn("%s", wr_errmsg());
	} else if (wr_ledger_snapshot_write(l) < 0) {
		wr_warn("%s", wr_errmsg());
	} else {
		l->snap_off = l->scan.off;
	}
}

/* Under the lock, with the handle caught up: maps the ledger and
 * compacts it. Returns 1 compacted, 0 nothing to do, -1 error. */
static int compact_locked(struct wr_ledger *l, int64_t keep_ms, struct wr_compact_result *res, struct plan *p)
{
	p->c.st = &l->st;
	p->size = (size_t)l->scan.off;
	res->through = l->st.last_seq;
	if (p->size == 0)
		return 0;
	p->map = mmap(NULL, p->size, PROT_READ, MAP_PRIVATE, l->store.fd, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		wr_seterrsys("unable to map ledger %s", l->path);
		return -1;
	}
	entity(&p->c, 'p', "", 0); /* entity 0: the pin */
	p->c.ok[0] = 0;
	p->cutoff = wr_now_ms() - keep_ms;
	read_lines(l, p);
	if (!choose(p, res))
		return 0;
	if (write_archive(l, p, res) < 0)
		return -1;
	if (write_live(l, p, res, keep_ms) < 0) {
		/* The ledger still holds every event: the segment would
		 * duplicate them. No marker names it, so it is ignored even if
		 * this fails. */
		unlink(p->apath);
		res->archive[0] = 0;
		return -1;
	}
	after_replace(l, p);
	return 1;
}

int wr_ledger_compact(struct wr_ledger *l, int64_t keep_ms, struct wr_compact_result *res)
{
	memset(res, 0, sizeof *res);
	if (l->store.kind != WR_STORE_FILE) {
		wr_seterr("refusing to compact %s: a stream keeps every message; compaction is for a file ledger", l->path);
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	if (wr_ledger_lock(l) < 0)
		return -1;
	struct plan p = {0};
	int rc = wr_ledger_sync_locked(l) < 0 ? -1 : compact_locked(l, keep_ms, res, &p);
	wr_ledger_unlock(l);
	plan_free(&p);
	return rc;
}
