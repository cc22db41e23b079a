/* map.h - string-keyed hash map that iterates in insertion order.
 *
 * Keys are copied; values are the caller's. wr_map_at(m, i) walks entries
 * 0..m->n-1 in the order they were first inserted (runs by creation). */
#ifndef WR_MAP_H
#define WR_MAP_H

#include <stddef.h>

struct wr_map_ent {
	char *key;
	void *val;
};

struct wr_map {
	struct wr_map_ent *ent;
	size_t n, cap;
	size_t *idx;      /* open addressing: entry index + 1, 0 = empty */
	size_t idxcap;    /* power of two */
};

/* Entry i (0 <= i < m->n) in insertion order: its value, its key. */
static inline void *wr_map_at(const struct wr_map *m, size_t i)
{
	return m->ent[i].val;
}
static inline const char *wr_map_key_at(const struct wr_map *m, size_t i)
{
	return m->ent[i].key;
}

void *wr_map_get(const struct wr_map *m, const char *key);
/* Inserts key (or replaces its value). Returns the stored key. */
const char *wr_map_put(struct wr_map *m, const char *key, void *val);
/* Frees keys and tables; calls freeval on each value when not NULL. */
void wr_map_free(struct wr_map *m, void (*freeval)(void *));

#endif
