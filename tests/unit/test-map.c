/* test-map - the insertion-ordered string map. */
#include "tap.h"
#include "map.h"
#include "util.h"

#include <stdint.h>

static int freed;
static void count_free(void *p)
{
	(void)p;
	freed++;
}

int main(void)
{
	struct wr_map m = {0};
	ok(wr_map_get(&m, "x") == NULL, "get on an empty map is NULL");
	int v1 = 1, v2 = 2, v3 = 3;
	char key[32] = "alpha";
	const char *k = wr_map_put(&m, key, &v1);
	is_str(k, "alpha", "put returns the stored key");
	ok(k != key, "the key is copied");
	strcpy(key, "zzz");
	ok(wr_map_get(&m, "alpha") == &v1, "get finds it after the caller's buffer changed");
	ok(wr_map_get(&m, "zzz") == NULL, "the caller's buffer is not the key");
	wr_map_put(&m, "beta", &v2);
	wr_map_put(&m, "gamma", &v3);
	is_int(m.n, 3, "three entries");
	wr_map_put(&m, "alpha", &v3);
	is_int(m.n, 3, "replace does not add an entry");
	ok(wr_map_get(&m, "alpha") == &v3, "replace changes the value");
	is_str(wr_map_key_at(&m, 0), "alpha", "replace keeps the first insertion place");
	is_str(wr_map_key_at(&m, 1), "beta", "order: beta second");
	is_str(wr_map_key_at(&m, 2), "gamma", "order: gamma third");
	ok(wr_map_at(&m, 0) == wr_map_get(&m, "alpha"), "wr_map_at: the value of entry 0");
	ok(wr_map_get(&m, "") == NULL, "empty key absent");
	wr_map_put(&m, "", &v1);
	ok(wr_map_get(&m, "") == &v1, "empty key works");
	ok(wr_map_get(&m, "alph") == NULL && wr_map_get(&m, "alphaa") == NULL, "no prefix matches");
	wr_map_free(&m, NULL);
	ok(m.n == 0 && m.ent == NULL, "free empties the map");

	/* many keys: rehashing keeps every key, value and the order */
	enum { N = 100000 };
	intptr_t *vals = wr_xcalloc(N, sizeof *vals);
	for (intptr_t i = 0; i < N; i++) {
		char kb[32];
		snprintf(kb, sizeof kb, "run-%ld", (long)(i * 7919 % N));
		vals[i] = i;
		wr_map_put(&m, kb, &vals[i]);
	}
	is_int(m.n, N, "%d keys", N);
	int bad = 0;
	for (intptr_t i = 0; i < N; i++) {
		char kb[32];
		snprintf(kb, sizeof kb, "run-%ld", (long)(i * 7919 % N));
		intptr_t *p = wr_map_get(&m, kb);
		if (!p || *p != i)
			bad++;
		if (strcmp(wr_map_key_at(&m, i), kb))
			bad++;
	}
	is_int(bad, 0, "every key found with its value, in insertion order");
	ok(wr_map_get(&m, "run-100000") == NULL, "a missing key is missing");
	ok((m.idxcap & (m.idxcap - 1)) == 0 && m.idxcap >= 2 * m.n, "index stays a power of two, at most half full");
	/* replace all, order unchanged */
	for (intptr_t i = N - 1; i >= 0; i--)
		wr_map_put(&m, wr_map_key_at(&m, i), &vals[(i + 1) % N]);
	bad = 0;
	for (intptr_t i = 0; i < N; i++)
		if (wr_map_at(&m, i) != &vals[(i + 1) % N])
			bad++;
	is_int(m.n, N, "replacing all keeps the count");
	is_int(bad, 0, "replacing all sets every value");
	freed = 0;
	wr_map_free(&m, count_free);
	is_int(freed, N, "free calls freeval once per entry");
	free(vals);
	return done_testing();
}
