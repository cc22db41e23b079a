/* map.c - open addressing over an insertion-ordered entry array. */
#include "map.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static size_t *slot(const struct wr_map *m, const char *key)
{
	size_t mask = m->idxcap - 1;
	for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
		size_t *s = &m->idx[i];
		if (!*s || !strcmp(m->ent[*s - 1].key, key))
			return s;
	}
}

void *wr_map_get(const struct wr_map *m, const char *key)
{
	if (!m->idxcap)
		return NULL;
	size_t *s = slot(m, key);
	return *s ? m->ent[*s - 1].val : NULL;
}

static void rehash(struct wr_map *m)
{
	free(m->idx);
	m->idxcap = m->idxcap ? m->idxcap * 2 : 64;
	m->idx = wr_xcalloc(m->idxcap, sizeof *m->idx);
	for (size_t i = 0; i < m->n; i++)
		*slot(m, m->ent[i].key) = i + 1;
}

const char *wr_map_put(struct wr_map *m, const char *key, void *val)
{
	if ((m->n + 1) * 2 > m->idxcap)
		rehash(m);
	size_t *s = slot(m, key);
	if (*s) {
		m->ent[*s - 1].val = val;
		return m->ent[*s - 1].key;
	}
	WR_GROW(m->ent, m->cap, m->n + 1);
	m->ent[m->n].key = wr_xstrdup(key);
	m->ent[m->n].val = val;
	*s = ++m->n;
	return m->ent[m->n - 1].key;
}

void wr_map_free(struct wr_map *m, void (*freeval)(void *))
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->ent[i].key);
		if (freeval)
			freeval(m->ent[i].val);
	}
	free(m->ent);
	free(m->idx);
	memset(m, 0, sizeof *m);
}
