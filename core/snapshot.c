/* snapshot.c - writing, checking and loading PATH.snapshot; state dumps. */
#include "snapshot.h"
#include "state_fields.h"
#include "err.h"
#include "fsmode.h"
#include "map.h"
#include "replace.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "WRSNAP\r\n"
#define PROBE 0x01020304u
#define HDR 32
#define NONE 0xffffffffu
#define CHECK_LEN 4096
#define NSAMPLES 16
#define SAMPLE_LEN 256
#define JSON_DEPTH 64

/* ---- hashing: 4 lanes of 64-bit multiply-rotate, then a murmur finish.
 * Not cryptographic: it tells a changed or damaged file from the one the
 * snapshot was made of, at memory speed. */

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static uint64_t hash64(const void *data, size_t n)
{
	const unsigned char *p = data;
	const uint64_t k1 = 0x9e3779b185ebca87ull, k2 = 0xc2b2ae3d27d4eb4full;
	uint64_t h[4] = {k1, k2, k1 ^ k2, (uint64_t)n};
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		for (int j = 0; j < 4; j++) {
			uint64_t w;
			memcpy(&w, p + i + 8 * j, 8);
			h[j] = rotl(h[j] ^ (w * k2), 31) * k1;
		}
	}
	uint64_t t = 0;
	for (int s = 0; i < n; i++, s = (s + 8) & 63) {
		t ^= (uint64_t)p[i] << s;
		if (s == 56) {
			h[0] = rotl(h[0] ^ (t * k2), 31) * k1;
			t = 0;
		}
	}
	h[1] ^= t * k1;
	return fmix(h[0] ^ rotl(h[1], 17) ^ rotl(h[2], 29) ^ rotl(h[3], 43) ^ n);
}

/* Hash of bytes [pos, pos+len) of fd; 0 with *ok = 0 on a short read. */
static uint64_t hash_region(int fd, off_t pos, size_t len, int *ok)
{
	char buf[CHECK_LEN];
	if (len > sizeof buf)
		len = sizeof buf;
	ssize_t r = pread(fd, buf, len, pos);
	if (r < 0 || (size_t)r != len) {
		*ok = 0;
		return 0;
	}
	return hash64(buf, len);
}

/* The regions of the ledger a snapshot at offset off vouches for. */
struct checks {
	uint32_t head_len, tail_len;
	uint64_t head, tail;
	int64_t spos[NSAMPLES];
	uint32_t slen[NSAMPLES];
	uint64_t sample[NSAMPLES];
};

static int compute_checks(int fd, off_t off, struct checks *c)
{
	int ok = 1;
	memset(c, 0, sizeof *c);
	c->head_len = (uint32_t)(off < CHECK_LEN ? off : CHECK_LEN);
	c->tail_len = c->head_len;
	c->head = hash_region(fd, 0, c->head_len, &ok);
	c->tail = hash_region(fd, off - c->tail_len, c->tail_len, &ok);
	for (int i = 0; i < NSAMPLES; i++) {
		int64_t pos = (int64_t)off / (NSAMPLES + 1) * (i + 1);
		int64_t len = off - pos < SAMPLE_LEN ? off - pos : SAMPLE_LEN;
		c->spos[i] = pos;
		c->slen[i] = (uint32_t)(len > 0 ? len : 0);
		c->sample[i] = hash_region(fd, pos, c->slen[i], &ok);
	}
	return ok ? 0 : -1;
}

/* ---- encoding ---- */

static void put(struct wr_buf *b, const void *p, size_t n)
{
	if (n)
		wr_buf_add(b, p, n);
}
static void put_u8(struct wr_buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(b, &c, 1);
}
static void put_u32(struct wr_buf *b, uint32_t v)
{
	put(b, &v, 4);
}
static void put_i64(struct wr_buf *b, int64_t v)
{
	put(b, &v, 8);
}
static void put_f64(struct wr_buf *b, double v)
{
	put(b, &v, 8);
}
static void put_strn(struct wr_buf *b, const char *s, size_t n)
{
	put_u32(b, (uint32_t)n);
	put(b, s, n);
}
static void put_str(struct wr_buf *b, const char *s)
{
	if (!s)
		put_u32(b, NONE);
	else
		put_strn(b, s, strlen(s));
}

enum { J_NULL, J_TRUE, J_FALSE, J_INT, J_REAL, J_STR, J_ARR, J_OBJ };

static void put_json(struct wr_buf *b, json_t *j)
{
	size_t i;
	const char *k;
	json_t *v;
	switch (json_typeof(j)) {
	case JSON_NULL:
		put_u8(b, J_NULL);
		break;
	case JSON_TRUE:
		put_u8(b, J_TRUE);
		break;
	case JSON_FALSE:
		put_u8(b, J_FALSE);
		break;
	case JSON_INTEGER:
		put_u8(b, J_INT);
		put_i64(b, json_integer_value(j));
		break;
	case JSON_REAL:
		put_u8(b, J_REAL);
		put_f64(b, json_real_value(j));
		break;
	case JSON_STRING:
		put_u8(b, J_STR);
		put_strn(b, json_string_value(j), json_string_length(j));
		break;
	case JSON_ARRAY:
		put_u8(b, J_ARR);
		put_u32(b, (uint32_t)json_array_size(j));
		json_array_foreach(j, i, v) put_json(b, v);
		break;
	case JSON_OBJECT: {
		put_u8(b, J_OBJ);
		put_u32(b, (uint32_t)json_object_size(j));
		size_t kl;
		json_object_keylen_foreach(j, k, kl, v)
		{
			put_strn(b, k, kl);
			put_json(b, v);
		}
		break;
	}
	}
}

/* The table of JSON values: equal values (same compact text) once. */
struct jtab {
	struct wr_map bytext;     /* compact text -> index + 1 */
	json_t **ptr;             /* pointer cache, open addressing */
	uint32_t *pidx;
	size_t pcap, pn;
	uint32_t n;
	struct wr_buf out;
};

static size_t phash(const json_t *p, size_t cap)
{
	return (size_t)(fmix((uint64_t)(uintptr_t)p) & (cap - 1));
}

static void pput(struct jtab *t, json_t *p, uint32_t idx)
{
	if ((t->pn + 1) * 2 > t->pcap) {
		size_t ocap = t->pcap;
		json_t **optr = t->ptr;
		uint32_t *oidx = t->pidx;
		t->pcap = ocap ? ocap * 2 : 1024;
		t->ptr = wr_xcalloc(t->pcap, sizeof *t->ptr);
		t->pidx = wr_xcalloc(t->pcap, sizeof *t->pidx);
		t->pn = 0;
		for (size_t i = 0; i < ocap; i++)
			if (optr[i])
				pput(t, optr[i], oidx[i]);
		free(optr);
		free(oidx);
	}
	size_t i = phash(p, t->pcap);
	while (t->ptr[i] && t->ptr[i] != p)
		i = (i + 1) & (t->pcap - 1);
	if (!t->ptr[i])
		t->pn++;
	t->ptr[i] = p;
	t->pidx[i] = idx;
}

static uint32_t jref(struct jtab *t, json_t *j)
{
	if (!j)
		return NONE;
	if (t->pcap) {
		size_t i = phash(j, t->pcap);
		for (; t->ptr[i]; i = (i + 1) & (t->pcap - 1))
			if (t->ptr[i] == j)
				return t->pidx[i];
	}
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (!s)
		wr_die(wr_exit_failure, "out of memory");
	void *v = wr_map_get(&t->bytext, s);
	uint32_t idx;
	if (v) {
		idx = (uint32_t)((uintptr_t)v - 1);
	} else {
		idx = t->n++;
		wr_map_put(&t->bytext, s, (void *)(uintptr_t)(idx + 1));
		put_json(&t->out, j);
	}
	free(s);
	pput(t, j, idx);
	return idx;
}

/* A JSON value of a run: an index in the table t, or (t NULL: a cold
 * record, core/cold.h) the value itself, NOJSON for none. */
#define NOJSON 0xffu
static void put_jv(struct wr_buf *b, struct jtab *t, json_t *j)
{
	if (t)
		put_u32(b, jref(t, j));
	else if (!j)
		put_u8(b, NOJSON);
	else
		put_json(b, j);
}

/* A JSON object as a string, or NULL as none. */
static void put_object(struct wr_buf *b, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (o && !s)
		wr_die(wr_exit_failure, "out of memory");
	put_str(b, s);
	free(s);
}

/* The records, generated from their field lists (core/state_fields.h):
 * PUT_kind(x, member, arg) writes one field of the record x to b. */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PUT_I64(x, m, a) put_i64(b, x->m);
#define PUT_INT PUT_I64
#define PUT_BOOL64 PUT_I64
#define PUT_AGENT PUT_I64
#define PUT_LAST_TS PUT_I64
#define PUT_LOCAL PUT_I64
#define PUT_ORD PUT_I64
#define PUT_FLAG(x, m, a) put_u8(b, (unsigned)x->m);
#define PUT_ENUM PUT_FLAG
#define PUT_BREAKER PUT_FLAG
#define PUT_F64(x, m, a) put_f64(b, x->m);
#define PUT_STR(x, m, a) put_str(b, x->m);
#define PUT_NSTR PUT_STR
#define PUT_JV(x, m, a) put_jv(b, t, x->m);
#define PUT_JVREQ PUT_JV
#define PUT_OBJ(x, m, a) put_object(b, x->m);
#define PUT_AGENT_OBJ PUT_OBJ
#define PUT_STATS PUT_OBJ
#define PUT_EACH(x, m, a, PUT1)                       \
	put_u32(b, (uint32_t)x->a);                   \
	for (size_t i_ = 0; i_ < (size_t)x->a; i_++) \
		PUT1;
#define PUT_INTS(x, m, a) PUT_EACH(x, m, a, put_i64(b, x->m[i_]))
#define PUT_STRS(x, m, a) PUT_EACH(x, m, a, put_str(b, x->m[i_]))
#define PUT_ATTEMPTS(x, m, a) PUT_EACH(x, m, a, put_attempt(b, t, &x->m[i_]))
#define PUT_WINDOW(x, m, a)          \
	put_u8(b, (unsigned)x->a);   \
	put(b, x->m, (size_t)x->a);
#define PUT_OUTS(x, m, a)                              \
	for (size_t i_ = 0; i_ < NELEM(x->m); i_++) \
		put_i64(b, x->m[i_]);
#define PUT_TYPES PUT_OUTS
#define PUT_POLICY(x, m, a) put_policy(b, t, &x->m);
#define PUT_LAUNCH(x, m, a) put_launch(b, t, &x->m);
#define PUT_COUNT(x, m, a)
#define PUT_CAP(x, m, a)
#define PUT4(k, m, n, a) PUT_##k(x, m, a)
#define PUT5(k, m, n, a, key) PUT_##k(x, m, a)
#define DEFINE_PUT(fn, type, LIST, ADAPT)                                       \
	static void fn(struct wr_buf *b, struct jtab *t, const struct type *x) \
	{                                                                      \
		(void)t;                                                       \
		LIST(ADAPT)                                                    \
	}

WR_STATE_RECORDS(DEFINE_PUT, put, PUT)

/* The outbox entries: in a file of their own when the cold store has one
 * that holds them as they are (not loaded yet, or unchanged since), else
 * in place. */
static void put_outbox_part(struct wr_buf *b, struct jtab *t, const struct wr_state *st)
{
	const char *p = NULL;
	uint64_t tag = 0, n = 0;
	if (st->cold && !st->outbox_dirty && st->cold_ops->outbox_file(st->cold, &p, &tag, &n)) {
		const char *slash = strrchr(p, '/');
		put_u8(b, 1);
		put_str(b, slash ? slash + 1 : p);
		put_i64(b, (int64_t)tag);
		put_i64(b, (int64_t)n);
		return;
	}
	put_u8(b, 0);
	put_u32(b, (uint32_t)st->outbox.n);
	for (size_t i = 0; i < st->outbox.n; i++)
		put_outbox(b, t, wr_map_at(&st->outbox, i));
}

/* The runs in all and the cold segment files (named without their
 * directory, the ledger's), oldest first. */
static void put_cold(struct wr_buf *b, const struct wr_state *st)
{
	size_t n = st->cold ? st->cold_ops->nfiles(st->cold) : 0;
	put_i64(b, st->nruns);
	put_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const char *p, *slash;
		uint64_t tag, k;
		st->cold_ops->file(st->cold, i, &p, &tag, &k);
		slash = strrchr(p, '/');
		put_str(b, slash ? slash + 1 : p);
		put_i64(b, (int64_t)tag);
		put_i64(b, (int64_t)k);
	}
}

/* The records' field lists as text (kind, member, arg of each field):
 * a snapshot written by a build whose lists differ is not read. */
#define SIG4(k, m, n, a) #k " " #m " " #a ";"
#define SIG5(k, m, n, a, key) SIG4(k, m, n, a)
static const char fields_text[] = WR_POLICY_FIELDS(SIG4) "|" WR_ATTEMPT_FIELDS(SIG4) "|" WR_LAUNCH_FIELDS(
	SIG4) "|" WR_RUN_FIELDS(SIG4) "|" WR_OUTBOX_FIELDS(SIG4) "|" WR_WORKFLOW_FIELDS(SIG5) "|" WR_COUNTER_FIELDS(SIG5);

static uint64_t fields_signature(void)
{
	return hash64(fields_text, sizeof fields_text - 1);
}

/* The body: identity and checks, position, state. */
static void encode(const struct wr_snap_of *l, const struct checks *c, struct wr_buf *b)
{
	const struct wr_state *st = l->st;
	struct stat sb;
	fstat(l->fd, &sb);
	put_i64(b, (int64_t)l->dev);
	put_i64(b, (int64_t)l->ino);
	put_i64(b, l->scan->off);
	put_i64(b, l->scan->line);
	put_i64(b, l->scan->last_seq);
	put_i64(b, l->scan->compact_seq);
	put_i64(b, (int64_t)sb.st_size);
	put_u32(b, c->head_len);
	put(b, &c->head, 8);
	put_u32(b, c->tail_len);
	put(b, &c->tail, 8);
	for (int i = 0; i < NSAMPLES; i++) {
		put_i64(b, c->spos[i]);
		put_u32(b, c->slen[i]);
		put(b, &c->sample[i], 8);
	}
	put_i64(b, *l->bad_lines);
	put_strn(b, l->extra, l->extra_len);
	put_u32(b, WR_EV__COUNT);
	put_u32(b, WR_OUT__COUNT);
	put_u32(b, WR_BREAKER_WINDOW);
	put_i64(b, (int64_t)fields_signature());
	put_counters(b, NULL, st);

	/* Runs and entries go to their own buffer first: the JSON table they
	 * fill must precede them in the file. */
	struct jtab t = {0};
	struct wr_buf rest = {0};
	put_u32(&rest, (uint32_t)st->workflows.n);
	for (size_t i = 0; i < st->workflows.n; i++)
		put_workflow(&rest, NULL, wr_map_at(&st->workflows, i));
	put_u32(&rest, (uint32_t)st->runs.n);
	for (size_t i = 0; i < st->runs.n; i++)
		put_run(&rest, &t, wr_map_at(&st->runs, i));
	put_outbox_part(&rest, &t, st);
	put_cold(&rest, st);
	put_u32(b, t.n);
	put(b, t.out.p, t.out.len);
	put(b, rest.p, rest.len);
	wr_buf_free(&rest);
	wr_buf_free(&t.out);
	wr_map_free(&t.bytext, NULL);
	free(t.ptr);
	free(t.pidx);
}

static char *snap_path(const struct wr_snap_of *l)
{
	return wr_xasprintf("%s.snapshot", l->path);
}

off_t wr_snapshot_peek(const char *path, dev_t dev, ino_t ino, off_t *size)
{
	char *snap = wr_xasprintf("%s.snapshot", path);
	int fd = open(snap, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(snap);
	unsigned char h[HDR + 24];
	struct stat sb;
	int ok = fd >= 0 && pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h && fstat(fd, &sb) == 0;
	if (fd >= 0)
		close(fd);
	uint32_t v, probe;
	int64_t d, i, off;
	if (!ok || memcmp(h, MAGIC, 8))
		return -1;
	memcpy(&v, h + 8, 4);
	memcpy(&probe, h + 12, 4);
	memcpy(&d, h + HDR, 8);
	memcpy(&i, h + HDR + 8, 8);
	memcpy(&off, h + HDR + 16, 8);
	if (v != WR_SNAPSHOT_VERSION || probe != PROBE || d != (int64_t)dev || i != (int64_t)ino || off < 0)
		return -1;
	*size = sb.st_size;
	return (off_t)off;
}

int wr_snapshot_write(const struct wr_snap_of *l)
{
	if (l->fd < 0)
		return 0;
	if (l->scan->torn) {
		wr_seterr("not writing a snapshot of %s: a torn tail is pending", l->path);
		return -1;
	}
	if (l->st->cold && !l->st->cold_ops->persisted(l->st->cold)) {
		wr_seterr("internal error: a snapshot of %s with runs in no file", l->path);
		return -1;
	}
	struct checks c;
	if (compute_checks(l->fd, l->scan->off, &c) < 0) {
		wr_seterrsys("unable to read ledger %s", l->path);
		return -1;
	}
	struct wr_buf b = {0};
	char hdr[HDR] = MAGIC;
	put(&b, hdr, HDR);
	encode(l, &c, &b);
	uint32_t v = WR_SNAPSHOT_VERSION, probe = PROBE;
	uint64_t blen = b.len - HDR, h = hash64(b.p + HDR, blen);
	memcpy(b.p + 8, &v, 4);
	memcpy(b.p + 12, &probe, 4);
	memcpy(b.p + 16, &blen, 8);
	memcpy(b.p + 24, &h, 8);
	char *path = snap_path(l);
	char *tmp = wr_temp_path(path);
	int rc = -1;
	unlink(tmp);
	int fd = wr_fs_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		wr_seterrsys("unable to create snapshot %s", tmp);
		goto out;
	}
	/* No fsync: a snapshot lost in a crash is rebuilt from the ledger. */
	if (wr_write_all(fd, b.p, b.len) < 0) {
		wr_seterrsys("unable to write snapshot %s", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0) {
		wr_seterrsys("unable to write snapshot %s", tmp);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		wr_seterrsys("unable to rename snapshot %s", tmp);
		unlink(tmp);
		goto out;
	}
	if (l->size)
		*l->size = (off_t)b.len;
	rc = 0;
out:
	free(tmp);
	free(path);
	wr_buf_free(&b);
	return rc;
}

/* ---- decoding: every read is bounds-checked; a bad snapshot is
 * rejected, never trusted or crashed on. */

struct rd {
	const unsigned char *p, *end;
	int bad;
	json_t **json;
	uint32_t njson;
	int inline_json; /* a cold record: values in place, no table */
};

static int take(struct rd *r, void *dst, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		memset(dst, 0, n);
		return -1;
	}
	memcpy(dst, r->p, n);
	r->p += n;
	return 0;
}
static unsigned get_u8(struct rd *r)
{
	unsigned char c;
	take(r, &c, 1);
	return c;
}
static uint32_t get_u32(struct rd *r)
{
	uint32_t v;
	take(r, &v, 4);
	return v;
}
static int64_t get_i64(struct rd *r)
{
	int64_t v;
	take(r, &v, 8);
	return v;
}
static double get_f64(struct rd *r)
{
	double v;
	take(r, &v, 8);
	return v;
}
/* A string in place (not NUL-terminated); NULL for none. */
static const char *get_strn(struct rd *r, uint32_t *len)
{
	*len = get_u32(r);
	if (*len == NONE || r->bad)
		return NULL;
	if ((size_t)(r->end - r->p) < *len) {
		r->bad = 1;
		return NULL;
	}
	const char *s = (const char *)r->p;
	r->p += *len;
	return s;
}
static char *get_str(struct rd *r)
{
	uint32_t n;
	const char *s = get_strn(r, &n);
	if (!s)
		return NULL;
	if (memchr(s, 0, n)) {
		r->bad = 1;
		return NULL;
	}
	char *d = wr_xmalloc((size_t)n + 1);
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}
/* A string that must be present. */
static char *need_str(struct rd *r)
{
	char *s = get_str(r);
	if (!s) {
		r->bad = 1;
		s = wr_xstrdup("");
	}
	return s;
}

static json_t *get_json(struct rd *r, int depth)
{
	if (depth > JSON_DEPTH) {
		r->bad = 1;
		return NULL;
	}
	unsigned tag = get_u8(r);
	uint32_t n;
	const char *s;
	json_t *j = NULL;
	if (r->bad)
		return NULL;
	switch (tag) {
	case J_NULL:
		return json_null();
	case J_TRUE:
		return json_true();
	case J_FALSE:
		return json_false();
	case J_INT:
		return json_integer(get_i64(r));
	case J_REAL:
		return json_real(get_f64(r));
	case J_STR:
		s = get_strn(r, &n);
		if (!s) {
			r->bad = 1;
			return NULL;
		}
		return json_stringn_nocheck(s, n);
	case J_ARR:
		n = get_u32(r);
		if (n > (size_t)(r->end - r->p)) {
			r->bad = 1;
			return NULL;
		}
		j = json_array();
		for (uint32_t i = 0; i < n && !r->bad; i++) {
			json_t *v = get_json(r, depth + 1);
			if (v)
				json_array_append_new(j, v);
		}
		return j;
	case J_OBJ:
		n = get_u32(r);
		if (n > (size_t)(r->end - r->p)) {
			r->bad = 1;
			return NULL;
		}
		j = json_object();
		for (uint32_t i = 0; i < n && !r->bad; i++) {
			uint32_t kl;
			const char *k = get_strn(r, &kl);
			if (!k) {
				r->bad = 1;
				break;
			}
			json_t *v = get_json(r, depth + 1);
			if (v)
				json_object_setn_new_nocheck(j, k, kl, v);
		}
		return j;
	default:
		r->bad = 1;
		return NULL;
	}
}

static json_t *get_jref(struct rd *r)
{
	uint32_t i = get_u32(r);
	if (i == NONE)
		return NULL;
	if (i >= r->njson) {
		r->bad = 1;
		return NULL;
	}
	return json_incref(r->json[i]);
}

static json_t *get_jv(struct rd *r)
{
	if (!r->inline_json)
		return get_jref(r);
	if (r->p < r->end && *r->p == NOJSON) {
		r->p++;
		return NULL;
	}
	return get_json(r, 0);
}

static int64_t get_enum(struct rd *r, int n)
{
	unsigned v = get_u8(r);
	if ((int)v >= n)
		r->bad = 1;
	return r->bad ? 0 : v;
}

/* Rejects counts that cannot fit in what is left (each item >= min bytes). */
static uint32_t get_count(struct rd *r, size_t min)
{
	uint32_t n = get_u32(r);
	if (r->bad || (size_t)n > (size_t)(r->end - r->p) / min) {
		r->bad = 1;
		return 0;
	}
	return n;
}

/* What put_object wrote: an object, or NULL (none, or bad: r->bad set). */
static json_t *get_object(struct rd *r)
{
	char *s = get_str(r);
	if (!s)
		return NULL;
	json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	free(s);
	if (!json_is_object(o)) {
		json_decref(o);
		r->bad = 1;
		return NULL;
	}
	return o;
}

/* An array's count, then room for that many items of size bytes (each
 * at least min bytes in the snapshot); NULL for none. */
static void *get_array(struct rd *r, size_t min, size_t size, uint32_t *n)
{
	*n = get_count(r, min);
	return *n ? wr_xcalloc(*n, size) : NULL;
}

/* The decoders of the records, generated from the same lists:
 * GET_kind(x, member, arg) reads one field into the record x. */
#define GET_I64(x, m, a) x->m = get_i64(r);
#define GET_BOOL64 GET_I64
#define GET_AGENT GET_I64
#define GET_LAST_TS GET_I64
#define GET_LOCAL GET_I64
#define GET_ORD GET_I64
#define GET_INT(x, m, a) x->m = (int)get_i64(r);
#define GET_FLAG(x, m, a) x->m = (int)get_enum(r, 2);
#define GET_ENUM(x, m, a) x->m = get_enum(r, a);
#define GET_BREAKER GET_ENUM
#define GET_F64(x, m, a) x->m = get_f64(r);
#define GET_STR(x, m, a) x->m = get_str(r);
#define GET_NSTR(x, m, a) x->m = need_str(r);
#define GET_JV(x, m, a) x->m = get_jv(r);
#define GET_JVREQ(x, m, a)   \
	x->m = get_jv(r);    \
	r->bad |= !x->m;
#define GET_OBJ(x, m, a) x->m = get_object(r);
#define GET_AGENT_OBJ GET_OBJ
#define GET_STATS GET_OBJ
#define GET_EACH(x, m, a, min, GET1)                                  \
	{                                                             \
		uint32_t n_;                                          \
		x->m = get_array(r, min, sizeof *x->m, &n_);          \
		for (uint32_t i_ = 0; i_ < n_ && !r->bad; i_++, x->a++) \
			GET1;                                         \
	}
#define GET_INTS(x, m, a) GET_EACH(x, m, a, 8, x->m[i_] = (int)get_i64(r))
#define GET_STRS(x, m, a) GET_EACH(x, m, a, 4, x->m[i_] = need_str(r))
#define GET_ATTEMPTS(x, m, a) GET_EACH(x, m, a, 100, get_attempt(r, &x->m[i_]))
#define GET_CAP(x, m, a) x->m = x->a;
#define GET_WINDOW(x, m, a)                    \
	x->a = (int)get_u8(r);                 \
	if ((size_t)x->a > sizeof x->m)        \
		r->bad = 1;                    \
	else                                   \
		take(r, x->m, (size_t)x->a);
#define GET_OUTS(x, m, a)                              \
	for (size_t i_ = 0; i_ < NELEM(x->m); i_++) \
		x->m[i_] = get_i64(r);
#define GET_TYPES GET_OUTS
#define GET_POLICY(x, m, a) get_policy(r, &x->m);
#define GET_LAUNCH(x, m, a) get_launch(r, &x->m);
#define GET_COUNT(x, m, a)
#define GET4(k, m, n, a) GET_##k(x, m, a)
#define GET5(k, m, n, a, key) GET_##k(x, m, a)
#define DEFINE_GET(fn, type, LIST, ADAPT)                  \
	static void fn(struct rd *r, struct type *x)      \
	{                                                 \
		LIST(ADAPT)                               \
	}

WR_STATE_RECORDS(DEFINE_GET, get, GET)

/* A record read into a new struct (NULL when it is bad: freed), and the
 * same as a map loader that gives its key too. */
#define DEFINE_READ(what, type, freefn, keym)                         \
	static struct type *read_##what(struct rd *r)                 \
	{                                                             \
		struct type *x = wr_xcalloc(1, sizeof *x);            \
		get_##what(r, x);                                     \
		if (r->bad) {                                         \
			freefn(x);                                    \
			return NULL;                                  \
		}                                                     \
		return x;                                             \
	}                                                             \
	static void *get_##what##_v(struct rd *r, const char **key)   \
	{                                                             \
		struct type *x = read_##what(r);                      \
		*key = x ? x->keym : NULL;                            \
		return x;                                             \
	}

DEFINE_READ(run, wr_run, wr_run_free, id)
DEFINE_READ(outbox, wr_outbox, wr_outbox_free, id)
DEFINE_READ(workflow, wr_workflow, wr_workflow_free, name)

/* Reads a count, then that many entries into m; a key seen twice makes
 * the snapshot bad (it is then ignored and the state rebuilt). */
static void load_map(struct rd *r, struct wr_map *m, uint32_t min_size, void *(*get)(struct rd *, const char **),
		     void (*freeval)(void *))
{
	uint32_t n = get_count(r, min_size);
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		const char *key;
		void *v = get(r, &key);
		if (v && wr_map_get(m, key)) {
			r->bad = 1;
			freeval(v);
		} else if (v) {
			wr_map_put(m, key, v);
		}
	}
}

/* What put_cold wrote: the segments attached to a new cold store (dir:
 * the ledger's directory, with its slash, or ""). */
static void get_cold(struct rd *r, struct wr_state *st, const char *dir)
{
	st->nruns = get_i64(r);
	uint32_t n = get_count(r, 20);
	if (!st->cold_ops) { /* a state without a store cannot take files */
		r->bad |= n > 0;
		return;
	}
	st->cold = st->cold_ops->create();
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		char *name = need_str(r);
		uint64_t tag = (uint64_t)get_i64(r), k = (uint64_t)get_i64(r);
		char *path = wr_xasprintf("%s%s", dir, name);
		if (r->bad || strchr(name, '/') || st->cold_ops->attach(st->cold, path, tag, k) < 0)
			r->bad = 1;
		free(path);
		free(name);
	}
	if (st->nruns < 0 || (size_t)st->nruns < st->runs.n)
		r->bad = 1;
}

/* Decodes the state part of a body into st (initialised). 0 or -1. */
static int decode_state(struct rd *r, struct wr_state *st, const char *dir)
{
	if (get_u32(r) != WR_EV__COUNT || get_u32(r) != WR_OUT__COUNT || get_u32(r) != WR_BREAKER_WINDOW ||
	    (uint64_t)get_i64(r) != fields_signature())
		return -1;
	get_counters(r, st);
	r->njson = get_count(r, 1);
	r->json = wr_xcalloc(r->njson ? r->njson : 1, sizeof *r->json);
	for (uint32_t i = 0; i < r->njson && !r->bad; i++)
		r->json[i] = get_json(r, 0);
	load_map(r, &st->workflows, 8, get_workflow_v, wr_workflow_free);
	load_map(r, &st->runs, 100, get_run_v, wr_run_free);
	int ob_file = (int)get_enum(r, 2);
	char *ob_name = NULL;
	uint64_t ob_tag = 0, ob_n = 0;
	if (ob_file) {
		ob_name = need_str(r);
		ob_tag = (uint64_t)get_i64(r);
		ob_n = (uint64_t)get_i64(r);
	} else {
		load_map(r, &st->outbox, 40, get_outbox_v, wr_outbox_free);
		st->outbox_dirty = 1; /* in no file yet */
	}
	for (size_t i = 0; i < st->runs.n; i++)
		st->hot_ended += wr_status_ended(((struct wr_run *)wr_map_at(&st->runs, i))->status);
	get_cold(r, st, dir);
	if (ob_file && !r->bad) {
		char *path = wr_xasprintf("%s%s", dir, ob_name);
		if (strchr(ob_name, '/') || !st->cold || st->cold_ops->outbox_ref(st->cold, path, ob_tag, ob_n) < 0)
			r->bad = 1;
		st->outbox_lazy = !r->bad;
		free(path);
	}
	free(ob_name);
	for (uint32_t i = 0; i < r->njson; i++)
		json_decref(r->json[i]);
	free(r->json);
	r->json = NULL;
	if (r->bad || r->p != r->end)
		return -1;
	return 0;
}

int wr_snapshot_load(const struct wr_snap_of *l)
{
	if (l->fd < 0)
		return 0;
	char *path = snap_path(l);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		free(path);
		return 0;
	}
	struct stat sb, lsb;
	unsigned char *buf = NULL;
	int rc = 0;
	/* A file someone not trusted with the ledger could write is no cache of it. */
	int trusted = wr_fs_check_file(fd, path, "snapshot", 1) == 0;
	free(path);
	if (!trusted || fstat(fd, &sb) < 0 || sb.st_size < HDR || fstat(l->fd, &lsb) < 0)
		goto out;
	size_t size = (size_t)sb.st_size;
	buf = malloc(size);
	if (!buf)
		goto out;
	size_t got = 0;
	while (got < size) {
		ssize_t r = wr_read(fd, buf + got, size - got);
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	uint32_t v, probe;
	uint64_t blen, h;
	memcpy(&v, buf + 8, 4);
	memcpy(&probe, buf + 12, 4);
	memcpy(&blen, buf + 16, 8);
	memcpy(&h, buf + 24, 8);
	if (memcmp(buf, MAGIC, 8) || v != WR_SNAPSHOT_VERSION || probe != PROBE || blen != size - HDR)
		goto out;
	struct rd r = {buf + HDR, buf + size, 0, NULL, 0, 0};
	/* The cheap checks against the ledger first: a stale snapshot is the
	 * common case after compaction or a restore. */
	int64_t dev = get_i64(&r), ino = get_i64(&r), off = get_i64(&r), line = get_i64(&r), sseq = get_i64(&r),
		cseq = get_i64(&r), size_at = get_i64(&r);
	if (r.bad || dev != (int64_t)l->dev || ino != (int64_t)l->ino || off < 0 || off > lsb.st_size ||
	    size_at < off || line < 1)
		goto out;
	struct checks want, have;
	want.head_len = get_u32(&r);
	take(&r, &want.head, 8);
	want.tail_len = get_u32(&r);
	take(&r, &want.tail, 8);
	for (int i = 0; i < NSAMPLES; i++) {
		want.spos[i] = get_i64(&r);
		want.slen[i] = get_u32(&r);
		take(&r, &want.sample[i], 8);
	}
	if (r.bad || compute_checks(l->fd, (off_t)off, &have) < 0 || want.head_len != have.head_len ||
	    want.head != have.head || want.tail_len != have.tail_len || want.tail != have.tail)
		goto out;
	for (int i = 0; i < NSAMPLES; i++)
		if (want.spos[i] != have.spos[i] || want.slen[i] != have.slen[i] || want.sample[i] != have.sample[i])
			goto out;
	if (hash64(buf + HDR, blen) != h)
		goto out;
	int64_t bad_lines = get_i64(&r);
	uint32_t xlen;
	const char *extra = get_strn(&r, &xlen);
	struct wr_state st;
	wr_state_init(&st);
	st.cold_ops = l->st->cold_ops;
	char *dir = wr_xstrdup(l->path), *slash = strrchr(dir, '/');
	if (slash)
		slash[1] = 0;
	else
		*dir = 0;
	int bad = decode_state(&r, &st, dir) < 0;
	free(dir);
	if (bad) {
		wr_state_free(&st);
		goto out;
	}
	wr_state_free(l->st);
	*l->st = st;
	l->scan->off = (off_t)off;
	l->scan->line = line;
	l->scan->last_seq = sseq;
	l->scan->compact_seq = cseq;
	*l->bad_lines = bad_lines;
	if (extra && xlen == l->extra_len)
		memcpy(l->extra, extra, xlen);
	if (l->size)
		*l->size = (off_t)size;
	rc = 1;
out:
	free(buf);
	close(fd);
	return rc;
}

int64_t wr_snapshot_threshold(void)
{
	const char *e = getenv("WR_SNAPSHOT_BYTES");
	int64_t v;
	if (e && !strcmp(e, "off"))
		return -1;
	if (e && wr_parse_int(e, 0, INT64_MAX, &v) == 0)
		return v;
	return WR_SNAPSHOT_BYTES_DEFAULT;
}

/* ---- cold records (core/cold.h) ---- */

uint64_t wr_snapshot_hash(const void *p, size_t n)
{
	return hash64(p, n);
}

void wr_snapshot_put_run(struct wr_buf *b, const struct wr_run *r)
{
	put_run(b, NULL, r);
}

struct wr_run *wr_snapshot_get_run(const unsigned char *p, size_t n)
{
	struct rd r = {p, p + n, 0, NULL, 0, 1};
	struct wr_run *x = read_run(&r);
	if (x && (r.bad || r.p != r.end)) {
		wr_run_free(x);
		x = NULL;
	}
	return x;
}

void wr_snapshot_put_outboxes(struct wr_buf *b, const struct wr_map *m)
{
	put_u32(b, (uint32_t)m->n);
	for (size_t i = 0; i < m->n; i++)
		put_outbox(b, NULL, wr_map_at(m, i));
}

int wr_snapshot_get_outboxes(const unsigned char *p, size_t n, struct wr_map *m)
{
	struct rd r = {p, p + n, 0, NULL, 0, 1};
	load_map(&r, m, 40, get_outbox_v, wr_outbox_free);
	return r.bad || r.p != r.end ? -1 : 0;
}

/* ---- dumps ---- */

static void dstr(struct wr_buf *o, const char *k, const char *s)
{
	if (!s) {
		wr_buf_addf(o, " %s=(null)", k);
		return;
	}
	json_t *j = json_string(s);
	char *e = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	wr_buf_addf(o, " %s=%s", k, e ? e : "?");
	free(e);
}

static void djson(struct wr_buf *o, const char *k, json_t *j)
{
	if (!j) {
		wr_buf_addf(o, " %s=(null)", k);
		return;
	}
	char *e = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	wr_buf_addf(o, " %s=%s", k, e ? e : "?");
	free(e);
}

#define DI(o, k, v) wr_buf_addf(o, " %s=%lld", k, (long long)(v))

/* The dump, generated from the same lists: DUMP_kind(x, member, name, arg)
 * adds " name=value" for one field of x to o. */
#define DUMP_I64(x, m, n, a) DI(o, n, x->m);
#define DUMP_INT DUMP_I64
#define DUMP_FLAG DUMP_I64
#define DUMP_ENUM DUMP_I64
#define DUMP_BREAKER DUMP_I64
#define DUMP_BOOL64 DUMP_I64
#define DUMP_AGENT DUMP_I64
#define DUMP_LAST_TS DUMP_I64
#define DUMP_LOCAL DUMP_I64
#define DUMP_F64(x, m, n, a) wr_buf_addf(o, " %s=%.17g", n, x->m);
#define DUMP_STR(x, m, n, a) dstr(o, n, x->m);
#define DUMP_NSTR DUMP_STR
#define DUMP_JV(x, m, n, a) djson(o, n, x->m);
#define DUMP_JVREQ DUMP_JV
#define DUMP_OBJ DUMP_JV
#define DUMP_AGENT_OBJ DUMP_JV
#define DUMP_STATS(x, m, n, a)                 \
	if (x->m) {                            \
		wr_buf_addf(o, "\narchived");  \
		dstr(o, "workflow", x->name);  \
		djson(o, n, x->m);             \
	}
#define DUMP_INTS(x, m, n, a)                                                          \
	wr_buf_addf(o, " %s=[", n);                                                    \
	for (size_t i_ = 0; i_ < x->a; i_++)                                           \
		wr_buf_addf(o, "%s%lld", i_ ? "," : "", (long long)x->m[i_]);          \
	wr_buf_addf(o, "]");
#define DUMP_STRS(x, m, n, a)                        \
	wr_buf_addf(o, " %s=[", n);                  \
	for (size_t i_ = 0; i_ < x->a; i_++)         \
		dstr(o, "", x->m[i_]);               \
	wr_buf_addf(o, " ]");
#define DUMP_ATTEMPTS(x, m, n, a)                    \
	for (size_t i_ = 0; i_ < x->a; i_++) {       \
		wr_buf_addf(o, " %s{", n);           \
		dump_attempt(&x->m[i_], o);          \
		wr_buf_addf(o, " }");                \
	}
#define DUMP_WINDOW(x, m, n, a)                      \
	wr_buf_addf(o, " %s=", n);                   \
	for (int i_ = 0; i_ < x->a; i_++)            \
		wr_buf_addf(o, "%d", x->m[i_]);
#define DUMP_OUTS(x, m, n, a)                                                     \
	wr_buf_addf(o, " %s=", n);                                                \
	for (size_t i_ = 0; i_ < NELEM(x->m); i_++)                               \
		wr_buf_addf(o, "%s%lld", i_ ? "," : "", (long long)x->m[i_]);
#define DUMP_TYPES DUMP_OUTS
#define DUMP_NESTED(x, m, n, fn)       \
	wr_buf_addf(o, " %s{", n);     \
	fn(&x->m, o);                  \
	wr_buf_addf(o, " }");
#define DUMP_POLICY(x, m, n, a) DUMP_NESTED(x, m, n, dump_policy)
#define DUMP_LAUNCH(x, m, n, a) DUMP_NESTED(x, m, n, dump_launch)
#define DUMP_ORD(x, m, n, a)
#define DUMP_COUNT(x, m, n, a)
#define DUMP_CAP(x, m, n, a)
#define DUMP4(k, m, n, a) DUMP_##k(x, m, n, a)
#define DUMP5(k, m, n, a, key) DUMP_##k(x, m, n, a)
#define DEFINE_DUMP(fn, type, LIST, ADAPT)                          \
	static void fn(const struct type *x, struct wr_buf *o)     \
	{                                                          \
		LIST(ADAPT)                                        \
	}

WR_STATE_RECORDS(DEFINE_DUMP, dump, DUMP)

/* One line of the dump: the record's kind, then its fields. A workflow's
 * archived statistics go on a line of their own (DUMP_STATS): compaction
 * adds to them, the rest of the workflow stays as it was. */
#define DUMP_RECORD(o, kind, fn, x)          \
	do {                                 \
		wr_buf_addf(o, "%s", kind); \
		fn(x, o);                    \
		wr_buf_addf(o, "\n");       \
	} while (0)

void wr_state_dump(const struct wr_state *st, struct wr_buf *o)
{
	DUMP_RECORD(o, "state", dump_counters, st);
	for (size_t i = 0; i < st->workflows.n; i++)
		DUMP_RECORD(o, "workflow", dump_workflow, wr_map_at(&st->workflows, i));
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *r; (r = wr_runs_next(&it));)
		DUMP_RECORD(o, "run", dump_run, r);
	const struct wr_map *ob = wr_state_outboxes(st);
	for (size_t i = 0; i < ob->n; i++)
		DUMP_RECORD(o, "outbox", dump_outbox, wr_map_at(ob, i));
}

char *wr_state_dump_text(const struct wr_state *st)
{
	struct wr_buf b = {0};
	wr_state_dump(st, &b);
	char *s = wr_xstrdup(wr_buf_str(&b));
	wr_buf_free(&b);
	return s;
}
