/* jsonfast.h - the fast reader of ledger lines (simdjson), behind a C
 * interface.
 *
 * A decoded event keeps its top-level fields in a flat table: scalars in
 * place (strings NUL-terminated in the table's own block), arrays and
 * objects as jansson values. simdjson reads a line only when it is sure
 * jansson would read it the same: anything else (an error, a duplicate
 * key, \u0000, an integer beyond int64, deep nesting, a long line) is left
 * to jansson, the decoder of record, which says why. */
#ifndef WR_JSONFAST_H
#define WR_JSONFAST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wr_jv_kind { WR_JV_NULL, WR_JV_FALSE, WR_JV_TRUE, WR_JV_INT, WR_JV_REAL, WR_JV_STR, WR_JV_JSON };

/* One value: a top-level field of an event, or a jansson value seen the
 * same way (event.c's checks read both). */
struct wr_jv {
	const char *key;      /* NUL-terminated */
	uint32_t sig;         /* wr_jv_sig of the key */
	uint32_t len;         /* WR_JV_STR: bytes, without the NUL */
	int kind;             /* enum wr_jv_kind */
	union {
		int64_t i;
		double d;
		const char *s;  /* WR_JV_STR */
		json_t *j;      /* WR_JV_JSON: an array or an object, one reference owned */
	} u;
};

/* The fields of one event, in the order of the line, in one allocation
 * (free with wr_ev_fields_unref). */
struct wr_ev_fields {
	int refs;
	json_t *obj;          /* the whole object: jansson's, or built when asked for */
	size_t n;
	struct wr_jv *f;      /* n fields, in the same allocation */
	int indexed;          /* slot holds every field (up to WR_JV_INDEXED) */
	uint8_t slot[64];     /* 1 + index of a field, by hash of its signature; 0 free */
};

#define WR_JV_INDEXED 48

/* A key's length and three of its bytes: look-ups compare these first. */
static inline uint32_t wr_jv_sig(const char *key, size_t len)
{
	if (!len)
		return 0;
	return (uint32_t)(len < 255 ? len : 255) | (uint32_t)(unsigned char)key[0] << 8 |
	       (uint32_t)(unsigned char)key[1] << 16 | (uint32_t)(unsigned char)key[len - 1] << 24;
}

static inline unsigned wr_jv_slot(uint32_t sig)
{
	return (sig * 0x9E3779B1u) >> 26;
}

/* Whether key a is b, of klen bytes and the same signature. */
static inline int wr_jv_same(const char *a, const char *b, size_t klen)
{
	if (klen >= 255) /* the signature has not the length */
		return !strcmp(a, b);
	for (size_t i = 2; i + 1 < klen; i++) /* it has the others */
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* The field key (klen bytes, NUL-terminated) of d, or NULL. */
static inline const struct wr_jv *wr_jv_find(const struct wr_ev_fields *d, const char *key, size_t klen)
{
	uint32_t sig = wr_jv_sig(key, klen);
	if (d->indexed) {
		for (unsigned s = wr_jv_slot(sig); d->slot[s]; s = (s + 1) & 63) {
			const struct wr_jv *v = &d->f[d->slot[s] - 1];
			if (v->sig == sig && wr_jv_same(v->key, key, klen))
				return v;
		}
		return NULL;
	}
	for (size_t i = 0; i < d->n; i++)
		if (d->f[i].sig == sig && wr_jv_same(d->f[i].key, key, klen))
			return &d->f[i];
	return NULL;
}

/* Adds field n - 1 (d->n counts it) to d's index. */
static inline void wr_jv_index_last(struct wr_ev_fields *d)
{
	if (d->n > WR_JV_INDEXED) {
		d->indexed = 0;
		return;
	}
	unsigned s = wr_jv_slot(d->f[d->n - 1].sig);
	while (d->slot[s])
		s = (s + 1) & 63;
	d->slot[s] = (uint8_t)d->n;
}

/* Lines longer than this go to jansson (simdjson's buffers stay small). */
#define WR_JSONFAST_MAX (64 * 1024)

/* The fields of line[0..len) (one JSON object) when simdjson reads it with
 * containers nested at most max_depth levels; NULL when it does not, or
 * is not sure, or is not loaded yet (core/jsonfast_load.c: the module is
 * opened once a process has decoded enough lines for it to pay). Safe to
 * call from several threads. */
struct wr_ev_fields *wr_jsonfast_fields(const char *line, size_t len, int max_depth);

/* Loads the module now: 0 when it is there, -1 when lines go to jansson. */
int wr_jsonfast_load(void);

/* A scan is about to read this many bytes of lines: enough of them load
 * the module now rather than at its WR_JSONFAST_AFTER-th line. */
void wr_jsonfast_expect(int64_t bytes);

/* The module's side (core/jsonfast.cc, wr-jsonfast.so): the reader, and
 * the stamp of the layout it was built with, which must be this one. */
#define WR_JSONFAST_ABI (1UL << 32 | sizeof(struct wr_ev_fields) << 16 | sizeof(struct wr_jv))
struct wr_ev_fields *wr_jsonfast_read(const char *line, size_t len, int max_depth);
unsigned long wr_jsonfast_abi(void);

#ifdef __cplusplus
}
#endif

#endif
