/* strtable.h - one string table per enum, in the manner of systemd's
 * string-table.h.
 *
 * A table is an array of names indexed by the enum's values; an empty name
 * ("") marks a value that has no name (WR_OUT_NONE). From one table
 * WR_DEFINE_STRING_TABLE_LOOKUP(prefix, type, table) defines
 *   const char *prefix_name(type v);       NULL when v is out of range
 *   int prefix_from_name(const char *s);   the value, -1 when s is NULL,
 *                                          empty or no name of the table
 * so the names of an enum are written once and both directions are checked
 * against the table's bounds. The schema (core/event.c) checks enum fields
 * of events against the same tables. */
#ifndef WR_STRTABLE_H
#define WR_STRTABLE_H

#include <stddef.h>

struct wr_strtable {
	const char *const *names;
	size_t n;
};

#define WR_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define WR_STRTABLE(table) {(table), WR_ELEMENTSOF(table)}

/* names[i], or NULL when i is out of range. */
const char *wr_strtable_name(const struct wr_strtable *t, long i);
/* The index of s, or -1 (s NULL or "" never matches). */
int wr_strtable_index(const struct wr_strtable *t, const char *s);

#define WR_DEFINE_STRING_TABLE_LOOKUP(prefix, type, table)                                                    \
	static const struct wr_strtable prefix##_table = WR_STRTABLE(table);                                \
	const char *prefix##_name(type v) { return wr_strtable_name(&prefix##_table, (long)v); }            \
	int prefix##_from_name(const char *s) { return wr_strtable_index(&prefix##_table, s); }

#endif
