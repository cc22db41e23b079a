/* strtable.c - bounds-checked lookups in the string table of an enum. */
#include "strtable.h"

#include <string.h>

const char *wr_strtable_name(const struct wr_strtable *t, long i)
{
	return i >= 0 && (size_t)i < t->n ? t->names[i] : NULL;
}

int wr_strtable_index(const struct wr_strtable *t, const char *s)
{
	if (!s || !*s)
		return -1;
	for (size_t i = 0; i < t->n; i++)
		if (t->names[i] && t->names[i][0] == s[0] && !strcmp(t->names[i], s))
			return (int)i;
	return -1;
}
