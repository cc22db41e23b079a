/* cold.c - pending records, segments, lookups, iteration and merges. */
#include "cold.h"
#include "err.h"
#include "fsmode.h"
#include "random.h"
#include "replace.h"
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "WRCOLD\r\n"
#define PROBE 0x01020304u
#define HDR 64
#define RHEAD 24
#define RTAG 0x43525752u /* "WRRC" */
#define SEAL_DEFAULT (4 << 20)
#define RELEASE (1 << 20) /* bytes read in order before they are let go */
#define IBLOCK 512          /* index entries hashed together (4 KiB) */

/* ---- records ---- */

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static uint64_t rec_hash(int64_t ord, const unsigned char *p, size_t n)
{
	return wr_snapshot_hash(p, n) ^ ((uint64_t)ord * 0x9e3779b185ebca87ull);
}

/* Appends run r as a record to b; returns the record's offset in b. */
static size_t rec_put(struct wr_buf *b, const struct wr_run *r, int64_t ord)
{
	size_t at = b->len;
	char head[RHEAD] = {0};
	wr_buf_add(b, head, RHEAD);
	wr_snapshot_put_run(b, r);
	size_t len = b->len - at - RHEAD;
	static const char zero[8];
	wr_buf_add(b, zero, pad8(len) - len);
	uint32_t l32 = (uint32_t)len, tag = RTAG;
	uint64_t h = rec_hash(ord, (unsigned char *)b->p + at + RHEAD, len);
	memcpy(b->p + at, &l32, 4);
	memcpy(b->p + at + 4, &tag, 4);
	memcpy(b->p + at + 8, &ord, 8);
	memcpy(b->p + at + 16, &h, 8);
	return at;
}

/* The record at off of [base, base+end): its payload length and ord; 0
 * when it does not fit or is not a record. */
static int rec_at(const unsigned char *base, size_t end, size_t off, uint32_t *len, int64_t *ord)
{
	uint32_t tag;
	if (off % 8 || off > end || end - off < RHEAD)
		return 0;
	memcpy(len, base + off, 4);
	memcpy(&tag, base + off + 4, 4);
	memcpy(ord, base + off + 8, 8);
	return tag == RTAG && *len <= end - off - RHEAD && pad8(*len) <= end - off - RHEAD;
}

static size_t rec_size(uint32_t len)
{
	return RHEAD + pad8(len);
}

/* The id of a record in place (the payload starts with it). */
static const char *rec_id(const unsigned char *base, size_t off, uint32_t len, uint32_t *idlen)
{
	if (len < 4)
		return NULL;
	memcpy(idlen, base + off + RHEAD, 4);
	if (*idlen > len - 4)
		return NULL;
	return (const char *)base + off + RHEAD + 4;
}

static int id_cmp(const char *a, uint32_t alen, const char *b)
{
	size_t blen = strlen(b);
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen < blen ? -1 : alen > blen);
}

/* Decodes the record at off, checking its hash; NULL (c->damaged) when bad. */
static struct wr_run *rec_decode(struct wr_cold *c, const unsigned char *base, size_t end, size_t off)
{
	uint32_t len = 0;
	int64_t ord = 0;
	uint64_t h;
	if (!rec_at(base, end, off, &len, &ord)) {
		c->damaged = 1;
		return NULL;
	}
	memcpy(&h, base + off + 16, 8);
	struct wr_run *r = NULL;
	if (h == rec_hash(ord, base + off + RHEAD, len))
		r = wr_snapshot_get_run(base + off + RHEAD, len);
	if (!r)
		c->damaged = 1;
	return r;
}

/* ---- segments ---- */

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint64_t iblocks(uint64_t n)
{
	return (n + IBLOCK - 1) / IBLOCK;
}

/* Entry i of the index: its block checked against its hash the first time
 * (a lookup reads log2(n) entries, not the whole index). 0 (no record's
 * offset) when the block fails: the segment is bad. */
static uint64_t idx_at(struct wr_cold_seg *s, uint64_t i)
{
	uint64_t b = i / IBLOCK;
	if (!s->iok[b]) {
		const unsigned char *ix = s->map + s->recs_end;
		uint64_t from = b * IBLOCK, to = from + IBLOCK < s->n ? from + IBLOCK : s->n;
		if (wr_snapshot_hash(ix + 8 * from, 8 * (to - from)) != get64(ix + 8 * s->n + 8 * b)) {
			s->bad = 1;
			return 0;
		}
		s->iok[b] = 1;
	}
	return get64(s->map + s->recs_end + 8 * i);
}

/* Checks the mapped file as a segment: header, and the table of the index
 * blocks' hashes (each block is checked when first read). 0 or -1. */
static int seg_check(struct wr_cold_seg *s)
{
	const unsigned char *m = s->map;
	uint32_t v, probe;
	if (s->size < HDR || memcmp(m, MAGIC, 8))
		return -1;
	memcpy(&v, m + 8, 4);
	memcpy(&probe, m + 12, 4);
	uint64_t n = get64(m + 16), end = get64(m + 24), size = get64(m + 32), ih = get64(m + 40);
	if (v != WR_COLD_VERSION || probe != PROBE || size != s->size || end < HDR || end % 8 || end > size ||
	    n > (size - end) / 8 || (size - end) % 8 || (size - end) / 8 - n != iblocks(n) ||
	    get64(m + 56) != wr_snapshot_hash(m, 56))
		return -1;
	if (wr_snapshot_hash(m + end + 8 * n, 8 * iblocks(n)) != ih)
		return -1;
	s->n = n;
	s->recs_end = end;
	s->tag = get64(m + 48);
	s->iok = wr_xcalloc(iblocks(n) + 1, 1);
	return 0;
}

static void seg_close(struct wr_cold_seg *s)
{
	if (s->map)
		munmap(s->map, s->size);
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s->iok);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

/* Maps fd, of size bytes, as a segment. 0, or -1 (fd left open). */
static int seg_map_size(struct wr_cold_seg *s, int fd, off_t size)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	if (size < HDR)
		return -1;
	s->size = (size_t)size;
	void *m = mmap(NULL, s->size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -1;
	s->map = m;
	if (seg_check(s) < 0) {
		munmap(s->map, s->size);
		s->map = NULL;
		return -1;
	}
	s->fd = fd;
	return 0;
}

static int seg_map(struct wr_cold_seg *s, int fd)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		memset(s, 0, sizeof *s);
		s->fd = -1;
		return -1;
	}
	return seg_map_size(s, fd, sb.st_size);
}

/* Index of the first entry whose id is >= key (prefix: compared on
 * strlen(key) bytes at most when prefix). */
static uint64_t seg_lower(struct wr_cold_seg *s, const char *key, int prefix)
{
	uint64_t lo = 0, hi = s->n;
	size_t klen = strlen(key);
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		uint32_t len = 0, idlen = 0;
		int64_t ord = 0;
		size_t off = (size_t)idx_at(s, mid);
		const char *id = rec_at(s->map, s->recs_end, off, &len, &ord) ? rec_id(s->map, off, len, &idlen) : NULL;
		int c = -1;
		if (id && prefix && idlen > klen)
			c = memcmp(id, key, klen) < 0 ? -1 : (memcmp(id, key, klen) > 0 ? 1 : 0);
		else if (id)
			c = id_cmp(id, idlen, key);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The offset of id's record in s, or 0. */
static size_t seg_find(struct wr_cold_seg *s, const char *id)
{
	uint64_t i = seg_lower(s, id, 0);
	if (i >= s->n)
		return 0;
	size_t off = (size_t)idx_at(s, i);
	uint32_t len = 0, idlen = 0;
	int64_t ord = 0;
	const char *k = rec_at(s->map, s->recs_end, off, &len, &ord) ? rec_id(s->map, off, len, &idlen) : NULL;
	return k && !id_cmp(k, idlen, id) ? off : 0;
}

/* ---- the store ---- */

struct wr_cold *wr_cold_new(void)
{
	struct wr_cold *c = wr_xcalloc(1, sizeof *c);
	c->seal_bytes = SEAL_DEFAULT;
	return c;
}

void wr_cold_free(struct wr_cold *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nseg; i++)
		seg_close(&c->seg[i]);
	free(c->seg);
	wr_buf_free(&c->buf);
	free(c->pend);
	wr_map_free(&c->pidx, NULL);
	wr_map_free(&c->live, wr_run_free);
	free(c->ob_path);
	free(c);
}

int wr_cold_damaged(const struct wr_cold *c)
{
	return c && c->damaged;
}

static void add_seg(struct wr_cold *c, const struct wr_cold_seg *s)
{
	WR_GROW(c->seg, c->capseg, c->nseg + 1);
	c->seg[c->nseg++] = *s;
}

struct idxent {
	const char *id;
	uint32_t idlen;
	uint64_t off;
};

static int idxent_cmp(const void *a, const void *b)
{
	const struct idxent *x = a, *y = b;
	int c = memcmp(x->id, y->id, x->idlen < y->idlen ? x->idlen : y->idlen);
	return c ? c : (x->idlen < y->idlen ? -1 : x->idlen > y->idlen);
}

/* The writer of a segment: records appended in ord order through a
 * buffer, then the index and the header. */
struct segw {
	int fd;
	struct wr_buf out;
	uint64_t at;               /* file offset of out.p[0] */
	struct idxent *ix;
	size_t n, cap;
	struct wr_buf ids;         /* copies of the ids (sources are let go) */
	int err;
};

static void segw_flush(struct segw *w)
{
	if (w->out.len && !w->err && wr_write_all(w->fd, w->out.p, w->out.len) < 0)
		w->err = errno ? errno : EIO;
	w->at += w->out.len;
	w->out.len = 0;
}

static void segw_init(struct segw *w, int fd)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	char hdr[HDR] = {0};
	wr_buf_add(&w->out, hdr, HDR);
}

/* Adds the record at rec (head and payload, rec_size bytes). */
static void segw_add(struct segw *w, const unsigned char *rec, uint32_t len)
{
	uint32_t idlen = 0;
	const char *id = rec_id(rec, 0, len, &idlen);
	if (!id)
		return; /* not a run: dropped (its segment was damaged) */
	WR_GROW(w->ix, w->cap, w->n + 1);
	w->ix[w->n].off = w->at + w->out.len;
	w->ix[w->n].idlen = idlen;
	w->ix[w->n].id = (const char *)(uintptr_t)w->ids.len; /* offset, fixed up in segw_end */
	wr_buf_add(&w->ids, id, idlen);
	w->n++;
	wr_buf_add(&w->out, rec, rec_size(len));
	if (w->out.len >= RELEASE)
		segw_flush(w);
}

/* Writes the index and the header. 0, or -1 with errno. */
static int segw_end(struct segw *w, uint64_t tag)
{
	for (size_t i = 0; i < w->n; i++)
		w->ix[i].id = w->ids.p + (uintptr_t)w->ix[i].id;
	qsort(w->ix, w->n, sizeof *w->ix, idxent_cmp);
	uint64_t end = w->at + w->out.len;
	size_t istart = w->out.len;
	for (size_t i = 0; i < w->n; i++)
		wr_buf_add(&w->out, &w->ix[i].off, 8);
	uint64_t n = w->n, nb = iblocks(n);
	for (uint64_t b = 0; b < nb; b++) {
		uint64_t from = b * IBLOCK, to = from + IBLOCK < n ? from + IBLOCK : n;
		uint64_t bh = wr_snapshot_hash(w->out.p + istart + 8 * from, 8 * (to - from));
		wr_buf_add(&w->out, &bh, 8);
	}
	uint64_t ih = wr_snapshot_hash(w->out.p + istart + 8 * n, 8 * nb), size = end + 8 * (n + nb);
	unsigned char hdr[HDR] = {0};
	uint32_t v = WR_COLD_VERSION, probe = PROBE;
	memcpy(hdr, MAGIC, 8);
	memcpy(hdr + 8, &v, 4);
	memcpy(hdr + 12, &probe, 4);
	memcpy(hdr + 16, &n, 8);
	memcpy(hdr + 24, &end, 8);
	memcpy(hdr + 32, &size, 8);
	memcpy(hdr + 40, &ih, 8);
	memcpy(hdr + 48, &tag, 8);
	uint64_t hh = wr_snapshot_hash(hdr, 56);
	memcpy(hdr + 56, &hh, 8);
	segw_flush(w);
	if (!w->err && pwrite(w->fd, hdr, HDR, 0) != HDR)
		w->err = errno ? errno : EIO;
	wr_buf_free(&w->out);
	wr_buf_free(&w->ids);
	free(w->ix);
	errno = w->err;
	return w->err ? -1 : 0;
}

/* The latest pending copies, by ord. Newly allocated; *n set. */
static int pend_cmp(const void *a, const void *b, void *ctx)
{
	const struct wr_cold_pend *p = ctx;
	int64_t x = p[*(const size_t *)a].ord, y = p[*(const size_t *)b].ord;
	return (x > y) - (x < y);
}

static struct wr_cold_pend *sort_ctx;

static int pend_cmp_q(const void *a, const void *b)
{
	return pend_cmp(a, b, sort_ctx);
}

static size_t *pend_order(struct wr_cold *c, size_t *n)
{
	size_t *v = wr_xcalloc(c->pidx.n + 1, sizeof *v);
	for (size_t i = 0; i < c->pidx.n; i++)
		v[i] = (size_t)(uintptr_t)wr_map_at(&c->pidx, i) - 1;
	sort_ctx = c->pend;
	qsort(v, c->pidx.n, sizeof *v, pend_cmp_q);
	*n = c->pidx.n;
	return v;
}

static void pend_clear(struct wr_cold *c)
{
	c->buf.len = 0;
	c->npend = 0;
	wr_map_free(&c->pidx, NULL);
}

/* ---- iteration: a merge by ord of the pending records and every
 * segment, the newest copy winning a tie ---- */

void wr_cold_iter_init(struct wr_cold_iter *it, struct wr_cold *c)
{
	memset(it, 0, sizeof *it);
	it->c = c;
	if (!c)
		return;
	it->porder = pend_order(c, &it->np);
	it->soff = wr_xcalloc(c->nseg + 1, sizeof *it->soff);
	for (size_t i = 0; i < c->nseg; i++)
		it->soff[i] = HDR;
}

/* The ord at stream k (k == nseg: pending), or INT64_MAX. */
static int64_t stream_ord(struct wr_cold_iter *it, size_t k)
{
	struct wr_cold *c = it->c;
	if (k == c->nseg)
		return it->ip < it->np ? c->pend[it->porder[it->ip]].ord : INT64_MAX;
	const struct wr_cold_seg *s = &c->seg[k];
	uint32_t len = 0;
	int64_t ord = 0;
	if (it->soff[k] >= s->recs_end)
		return INT64_MAX;
	if (!rec_at(s->map, s->recs_end, it->soff[k], &len, &ord)) {
		c->damaged = 1;
		it->soff[k] = s->recs_end;
		return INT64_MAX;
	}
	return ord;
}

/* Lets go of the pages of segment k read so far. */
static void release(struct wr_cold_seg *s, size_t from, size_t to)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	if (from / RELEASE == to / RELEASE)
		return;
	size_t upto = to / RELEASE * RELEASE / pg * pg;
	madvise(s->map, upto, MADV_DONTNEED);
}

static void stream_step(struct wr_cold_iter *it, size_t k)
{
	struct wr_cold *c = it->c;
	if (k == c->nseg) {
		it->ip++;
		return;
	}
	struct wr_cold_seg *s = &c->seg[k];
	uint32_t len = 0;
	int64_t ord = 0;
	size_t from = it->soff[k];
	rec_at(s->map, s->recs_end, from, &len, &ord);
	it->soff[k] = from + rec_size(len);
	release(s, from, it->soff[k]);
}

int64_t wr_cold_iter_peek(struct wr_cold_iter *it)
{
	int64_t best = INT64_MAX;
	for (size_t k = 0; it->c && k <= it->c->nseg; k++) {
		int64_t o = stream_ord(it, k);
		best = o < best ? o : best;
	}
	return best;
}

const struct wr_run *wr_cold_iter_next(struct wr_cold_iter *it)
{
	struct wr_cold *c = it->c;
	int64_t best = wr_cold_iter_peek(it);
	if (best == INT64_MAX)
		return NULL;
	/* The newest stream holding best gives the copy; the others skip it. */
	size_t win = 0;
	for (size_t k = 0; k <= c->nseg; k++)
		if (stream_ord(it, k) == best)
			win = k;
	const unsigned char *base = win == c->nseg ? (const unsigned char *)c->buf.p : c->seg[win].map;
	size_t end = win == c->nseg ? c->buf.len : c->seg[win].recs_end;
	size_t off = win == c->nseg ? c->pend[it->porder[it->ip]].off : it->soff[win];
	uint32_t len = 0, idlen = 0;
	int64_t ord = 0;
	const char *id = rec_at(base, end, off, &len, &ord) ? rec_id(base, off, len, &idlen) : NULL;
	const struct wr_run *r = NULL;
	if (id && c->live.n) {
		char *key = wr_xmalloc((size_t)idlen + 1);
		memcpy(key, id, idlen);
		key[idlen] = 0;
		r = wr_map_get(&c->live, key);
		free(key);
	}
	if (!r) {
		if (it->scratch)
			wr_run_free(it->scratch);
		it->scratch = rec_decode(c, base, end, off);
		r = it->scratch;
	}
	for (size_t k = 0; k <= c->nseg; k++)
		if (stream_ord(it, k) == best)
			stream_step(it, k);
	/* A damaged record is skipped (c->damaged says so). */
	return r ? r : wr_cold_iter_next(it);
}

void wr_cold_iter_free(struct wr_cold_iter *it)
{
	if (it->scratch)
		wr_run_free(it->scratch);
	free(it->porder);
	free(it->soff);
	memset(it, 0, sizeof *it);
}

/* ---- sealing and merging ---- */

/* A new anonymous file, or -1. */
static int anon_fd(void)
{
	return memfd_create("wr-cold", MFD_CLOEXEC);
}

/* Writes segments [from, nseg) and, when pend, the pending records as one
 * segment on fd (merged by ord, newest copies). 0 or -1 with errno. */
static int merge_to(struct wr_cold *c, size_t from, int pend, int fd, uint64_t tag)
{
	struct wr_cold sub = *c;
	sub.seg = c->seg + from;
	sub.nseg = c->nseg - from;
	struct wr_cold_iter it;
	memset(&it, 0, sizeof it);
	it.c = &sub;
	if (pend) {
		it.porder = pend_order(c, &it.np);
	}
	it.soff = wr_xcalloc(sub.nseg + 1, sizeof *it.soff);
	for (size_t i = 0; i < sub.nseg; i++)
		it.soff[i] = HDR;
	struct segw w;
	segw_init(&w, fd);
	for (;;) {
		int64_t best = wr_cold_iter_peek(&it);
		if (best == INT64_MAX)
			break;
		size_t win = 0;
		for (size_t k = 0; k <= sub.nseg; k++)
			if (stream_ord(&it, k) == best)
				win = k;
		const unsigned char *base = win == sub.nseg ? (const unsigned char *)c->buf.p : sub.seg[win].map;
		size_t off = win == sub.nseg ? c->pend[it.porder[it.ip]].off : it.soff[win];
		uint32_t len = 0;
		int64_t ord = 0;
		memcpy(&len, base + off, 4);
		(void)ord;
		segw_add(&w, base + off, len);
		for (size_t k = 0; k <= sub.nseg; k++)
			if (stream_ord(&it, k) == best)
				stream_step(&it, k);
	}
	c->damaged |= sub.damaged;
	free(it.porder);
	free(it.soff);
	return segw_end(&w, tag);
}

/* Replaces segments [from, nseg) (and the pending records when pend) by
 * the one segment s. */
static void replace_tail(struct wr_cold *c, size_t from, int pend, const struct wr_cold_seg *s)
{
	for (size_t i = from; i < c->nseg; i++)
		seg_close(&c->seg[i]);
	c->nseg = from;
	if (pend)
		pend_clear(c);
	add_seg(c, s);
}

/* The pending records as a new anonymous segment. */
static void seal(struct wr_cold *c)
{
	int fd = anon_fd();
	struct wr_cold_seg s;
	if (fd < 0 || merge_to(c, c->nseg, 1, fd, 0) < 0 || seg_map(&s, fd) < 0) {
		/* No anonymous file: the records stay pending, in the heap. */
		if (fd >= 0)
			close(fd);
		c->seal_bytes *= 2;
		return;
	}
	replace_tail(c, c->nseg, 1, &s);
}

static void put_pending(struct wr_cold *c, const struct wr_run *r, int64_t ord)
{
	size_t off = rec_put(&c->buf, r, ord);
	WR_GROW(c->pend, c->cappend, c->npend + 1);
	c->pend[c->npend].off = off;
	c->pend[c->npend].ord = ord;
	wr_map_put(&c->pidx, r->id, (void *)(uintptr_t)(++c->npend));
	if ((int64_t)c->buf.len >= c->seal_bytes)
		seal(c);
}

void wr_cold_evict(struct wr_cold *c, struct wr_run *r)
{
	put_pending(c, r, r->ord);
	if (c->keep) {
		struct wr_run *old = wr_map_get(&c->live, r->id);
		if (old != r) {
			wr_map_put(&c->live, r->id, r);
			if (old)
				wr_run_free(old);
		}
	} else {
		wr_run_free(r);
	}
}

void wr_cold_update(struct wr_cold *c, const struct wr_run *r)
{
	put_pending(c, r, r->ord);
}

/* Where the newest copy of id is: base, end and offset; 0 when nowhere. */
static int locate(struct wr_cold *c, const char *id, const unsigned char **base, size_t *end, size_t *off)
{
	void *p = wr_map_get(&c->pidx, id);
	if (p) {
		*base = (const unsigned char *)c->buf.p;
		*end = c->buf.len;
		*off = c->pend[(uintptr_t)p - 1].off;
		return 1;
	}
	for (size_t i = c->nseg; i-- > 0;) {
		size_t o = seg_find(&c->seg[i], id);
		c->damaged |= c->seg[i].bad;
		if (o) {
			*base = c->seg[i].map;
			*end = c->seg[i].recs_end;
			*off = o;
			return 1;
		}
	}
	return 0;
}

int wr_cold_has(struct wr_cold *c, const char *id)
{
	const unsigned char *b;
	size_t e, o;
	return c && (wr_map_get(&c->live, id) || locate(c, id, &b, &e, &o));
}

struct wr_run *wr_cold_get(struct wr_cold *c, const char *id, int64_t *ord)
{
	const unsigned char *base;
	size_t end, off;
	uint32_t len = 0;
	int64_t o = 0;
	if (!c || !id || !locate(c, id, &base, &end, &off))
		return NULL;
	rec_at(base, end, off, &len, &o);
	if (ord)
		*ord = o;
	struct wr_run *r = wr_map_get(&c->live, id);
	if (r)
		return r;
	r = rec_decode(c, base, end, off);
	if (r)
		wr_map_put(&c->live, r->id, r);
	return r;
}

static int part_match(const char *id, size_t idlen, const char *part, size_t n, int suffix)
{
	if (idlen < n)
		return 0;
	return !memcmp(suffix ? id + idlen - n : id, part, n);
}

struct wr_run *wr_cold_find(struct wr_cold *c, const char *part, int suffix, size_t *count)
{
	*count = 0;
	if (!c)
		return NULL;
	size_t n = strlen(part);
	char *found = NULL;
	/* Every copy of a run has its id: count distinct ids. */
	struct wr_map seen = {0};
	struct wr_cold_iter it;
	if (suffix) {
		wr_cold_iter_init(&it, c);
		const struct wr_run *r;
		while ((r = wr_cold_iter_next(&it)) && *count < 2)
			if (part_match(r->id, strlen(r->id), part, n, 1)) {
				++*count;
				free(found);
				found = wr_xstrdup(r->id);
			}
		wr_cold_iter_free(&it);
	} else {
		for (size_t i = 0; i < c->pidx.n; i++) {
			const char *k = wr_map_key_at(&c->pidx, i);
			if (part_match(k, strlen(k), part, n, 0))
				wr_map_put(&seen, k, (void *)1);
		}
		for (size_t i = 0; i < c->nseg && seen.n < 2; i++) {
			struct wr_cold_seg *s = &c->seg[i];
			for (uint64_t j = seg_lower(s, part, 1); j < s->n && seen.n < 2; j++) {
				size_t off = (size_t)idx_at(s, j);
				uint32_t len = 0, idlen = 0;
				int64_t ord = 0;
				const char *id = rec_at(s->map, s->recs_end, off, &len, &ord) ? rec_id(s->map, off, len, &idlen) : NULL;
				if (!id || !part_match(id, idlen, part, n, 0))
					break;
				char *k = wr_xmalloc((size_t)idlen + 1);
				memcpy(k, id, idlen);
				k[idlen] = 0;
				wr_map_put(&seen, k, (void *)1);
				free(k);
			}
			c->damaged |= s->bad;
		}
		*count = seen.n;
		if (seen.n == 1)
			found = wr_xstrdup(wr_map_key_at(&seen, 0));
		wr_map_free(&seen, NULL);
	}
	struct wr_run *r = *count == 1 ? wr_cold_get(c, found, NULL) : NULL;
	free(found);
	return r;
}

/* ---- files ---- */

int wr_cold_persisted(const struct wr_cold *c)
{
	if (!c)
		return 1;
	if (c->npend)
		return 0;
	for (size_t i = 0; i < c->nseg; i++)
		if (!c->seg[i].path)
			return 0;
	return 1;
}

/* Writes segments [from, nseg) (+ pending) as a file beside ledger and
 * puts it in their place. 0 or -1. */
static int write_file(struct wr_cold *c, const char *ledger, size_t from, int pend)
{
	uint64_t tag = 0;
	while (!tag)
		wr_random_bytes(&tag, sizeof tag);
	char *path = wr_xasprintf("%s.cold.%016llx", ledger, (unsigned long long)tag);
	char *tmp = wr_temp_path(path);
	int rc = -1;
	unlink(tmp);
	int fd = wr_fs_open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC);
	struct wr_cold_seg s;
	if (fd < 0) {
		wr_seterrsys("unable to create %s", tmp);
	} else if (merge_to(c, from, pend, fd, tag) < 0) {
		wr_seterrsys("unable to write %s", tmp);
	} else if (rename(tmp, path) < 0) {
		wr_seterrsys("unable to rename %s", tmp);
	} else if (seg_map(&s, fd) < 0) {
		wr_seterr("unable to map %s", path);
	} else {
		s.path = path;
		path = NULL;
		fd = -1;
		replace_tail(c, from, pend, &s);
		rc = 0;
	}
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(path);
	return rc;
}

int wr_cold_persist(struct wr_cold *c, const char *ledger)
{
	if (!c)
		return 0;
	/* Anonymous segments are the newest files-to-be: they and the pending
	 * records become one file. */
	size_t from = c->nseg;
	while (from > 0 && !c->seg[from - 1].path)
		from--;
	for (size_t i = 0; i < from; i++)
		if (!c->seg[i].path)
			from = i; /* an anonymous one among files: merge from there */
	int files = 0;
	if (from < c->nseg || c->npend) {
		if (write_file(c, ledger, from, 1) < 0)
			return -1;
		files++;
	}
	while (c->nseg >= 2 && c->seg[c->nseg - 2].n <= 2 * c->seg[c->nseg - 1].n) {
		if (write_file(c, ledger, c->nseg - 2, 0) < 0)
			return -1;
		files++;
	}
	return files;
}

int wr_cold_files_exist(const struct wr_cold *c)
{
	struct stat sb;
	for (size_t i = 0; c && i < c->nseg; i++)
		if (c->seg[i].path && stat(c->seg[i].path, &sb) < 0)
			return 0;
	return 1;
}

int wr_cold_attach(struct wr_cold *c, const char *path, uint64_t tag, uint64_t n)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat sb;
	struct wr_cold_seg s;
	memset(&s, 0, sizeof s);
	/* A file someone not trusted with the ledger could write is no cache of it. */
	if (wr_fs_check_file(fd, path, "cache segment", 1) < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    seg_map_size(&s, fd, sb.st_size) < 0 || s.tag != tag || s.n != n) {
		if (s.map)
			munmap(s.map, s.size);
		free(s.iok);
		close(fd);
		return -1;
	}
	s.path = wr_xstrdup(path);
	add_seg(c, &s);
	return 0;
}

int wr_cold_gc(const struct wr_cold *c, const char *ledger)
{
	char *dir = wr_xstrdup(ledger);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : ledger;
	if (slash)
		*slash = 0;
	char *prefix = wr_xasprintf("%s.cold.", base);
	DIR *d = opendir(slash ? (*dir ? dir : "/") : ".");
	int removed = 0;
	struct dirent *e;
	size_t pl = strlen(prefix);
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, pl) || strlen(e->d_name) != pl + 16 ||
		    strspn(e->d_name + pl, "0123456789abcdef") != 16)
			continue;
		const char *ob = c && c->ob_path ? strrchr(c->ob_path, '/') : NULL;
		int mine = ob && !strcmp(ob + 1, e->d_name);
		for (size_t i = 0; c && i < c->nseg && !mine; i++) {
			const char *p = c->seg[i].path;
			const char *b = p ? strrchr(p, '/') : NULL;
			mine = p && !strcmp(b ? b + 1 : p, e->d_name);
		}
		if (mine)
			continue;
		char *full = slash ? wr_xasprintf("%s/%s", *dir ? dir : "", e->d_name) : wr_xstrdup(e->d_name);
		removed += unlink(full) == 0;
		free(full);
	}
	if (d)
		closedir(d);
	free(prefix);
	free(dir);
	return removed;
}

/* ---- the outbox file ---- */

#define OB_MAGIC "WROBOX\r\n"
#define OB_HDR 48

static int op_outbox_file(const struct wr_cold *c, const char **path, uint64_t *tag, uint64_t *n)
{
	*path = c->ob_path;
	*tag = c->ob_tag;
	*n = c->ob_n;
	return c->ob_path != NULL;
}

/* Reads path whole when its header says it is the outbox file tag with n
 * entries; NULL otherwise. *size gets its size. */
static unsigned char *ob_read(const char *path, uint64_t tag, uint64_t n, size_t *size, int whole)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat sb;
	unsigned char *buf = NULL;
	if (wr_fs_check_file(fd, path, "cache file", 1) == 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size >= OB_HDR) {
		*size = whole ? (size_t)sb.st_size : OB_HDR;
		buf = wr_xmalloc(*size);
		uint32_t v, probe;
		if (pread(fd, buf, *size, 0) != (ssize_t)*size || memcmp(buf, OB_MAGIC, 8))
			goto bad;
		memcpy(&v, buf + 8, 4);
		memcpy(&probe, buf + 12, 4);
		if (v != WR_COLD_VERSION || probe != PROBE || get64(buf + 16) != n ||
		    get64(buf + 24) != (uint64_t)sb.st_size || get64(buf + 40) != tag)
			goto bad;
		if (whole && wr_snapshot_hash(buf + OB_HDR, *size - OB_HDR) != get64(buf + 32))
			goto bad;
	}
	close(fd);
	return buf;
bad:
	free(buf);
	close(fd);
	return NULL;
}

static int op_outbox_ref(struct wr_cold *c, const char *path, uint64_t tag, uint64_t n)
{
	size_t size;
	unsigned char *h = ob_read(path, tag, n, &size, 0);
	if (!h)
		return -1;
	free(h);
	free(c->ob_path);
	c->ob_path = wr_xstrdup(path);
	c->ob_tag = tag;
	c->ob_n = n;
	return 0;
}

static int op_outbox_load(struct wr_state *st)
{
	struct wr_cold *c = st->cold;
	size_t size;
	unsigned char *b = c->ob_path ? ob_read(c->ob_path, c->ob_tag, c->ob_n, &size, 1) : NULL;
	st->outbox_lazy = 0;
	if (!b || wr_snapshot_get_outboxes(b + OB_HDR, size - OB_HDR, &st->outbox) < 0 || st->outbox.n != c->ob_n) {
		c->damaged = 1;
		free(b);
		return -1;
	}
	free(b);
	return 0;
}

int wr_cold_persist_outbox(struct wr_state *st, const char *ledger)
{
	struct wr_cold *c = st->cold;
	if (!c || st->outbox_lazy || !st->outbox_dirty)
		return 0;
	if (st->outbox.n <= WR_COLD_OUTBOX_INLINE) {
		free(c->ob_path); /* the snapshot holds them */
		c->ob_path = NULL;
		return 0;
	}
	uint64_t tag = 0;
	while (!tag)
		wr_random_bytes(&tag, sizeof tag);
	struct wr_buf b = {0};
	char hdr[OB_HDR] = OB_MAGIC;
	wr_buf_add(&b, hdr, OB_HDR);
	wr_snapshot_put_outboxes(&b, &st->outbox);
	uint32_t v = WR_COLD_VERSION, probe = PROBE;
	uint64_t n = st->outbox.n, size = b.len, h = wr_snapshot_hash(b.p + OB_HDR, b.len - OB_HDR);
	memcpy(b.p + 8, &v, 4);
	memcpy(b.p + 12, &probe, 4);
	memcpy(b.p + 16, &n, 8);
	memcpy(b.p + 24, &size, 8);
	memcpy(b.p + 32, &h, 8);
	memcpy(b.p + 40, &tag, 8);
	char *path = wr_xasprintf("%s.cold.%016llx", ledger, (unsigned long long)tag);
	char *tmp = wr_temp_path(path);
	int rc = -1;
	unlink(tmp);
	int fd = wr_fs_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
	if (fd < 0 || wr_write_all(fd, b.p, b.len) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		wr_seterrsys("unable to write %s", tmp);
		if (fd >= 0)
			unlink(tmp);
	} else {
		free(c->ob_path);
		c->ob_path = path;
		path = NULL;
		c->ob_tag = tag;
		c->ob_n = n;
		st->outbox_dirty = 0;
		rc = 1;
	}
	free(path);
	free(tmp);
	wr_buf_free(&b);
	return rc;
}

/* ---- the state's view (struct wr_cold_ops) ---- */

static struct wr_run *op_get(struct wr_cold *c, const char *id)
{
	return wr_cold_get(c, id, NULL);
}

static struct wr_cold_iter *op_iter_new(struct wr_cold *c)
{
	struct wr_cold_iter *it = wr_xmalloc(sizeof *it);
	wr_cold_iter_init(it, c);
	return it;
}

static void op_iter_free(struct wr_cold_iter *it)
{
	wr_cold_iter_free(it);
	free(it);
}

static size_t op_nfiles(const struct wr_cold *c)
{
	return c->nseg;
}

static void op_file(const struct wr_cold *c, size_t i, const char **path, uint64_t *tag, uint64_t *n)
{
	*path = c->seg[i].path;
	*tag = c->seg[i].tag;
	*n = c->seg[i].n;
}

static const struct wr_cold_ops ops = {
	op_get, wr_cold_has, wr_cold_find, wr_cold_evict, wr_cold_update, op_iter_new, wr_cold_iter_peek,
	wr_cold_iter_next, op_iter_free, wr_cold_free, wr_cold_new, wr_cold_persisted, op_nfiles, op_file,
	wr_cold_attach, op_outbox_file, op_outbox_ref, op_outbox_load,
};

void wr_cold_bind(struct wr_state *st, struct wr_cold *c)
{
	st->cold = c;
	st->cold_ops = &ops;
}
