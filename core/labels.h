/* labels.h - run labels (wr-run --label K=V) and the filters that select
 * runs by them (wr-watch --label K=V, and any tool that lists runs).
 *
 * A label is KEY=VALUE: the key is non-empty valid UTF-8 without '=' and
 * is NFC-normalised (as ids are), the value is valid UTF-8, possibly empty.
 * A filter holds several K=V terms: a run matches when, for every key the
 * filter names, the run's label of that key equals one of the values given
 * for it (repeating a key means "any of these"; different keys must all
 * hold). An empty filter matches every run. */
#ifndef WR_LABELS_H
#define WR_LABELS_H

#include <jansson.h>
#include <stddef.h>

/* Splits "K=V" into a newly allocated NFC key and value. Returns 0, or -1
 * with wr_seterr() ("expected KEY=VALUE, not 'x'") and *key, *val NULL. */
int wr_label_parse(const char *s, char **key, char **val);

struct wr_label_filter {
	size_t n;
	char **key, **val;          /* n terms, owned */
};

/* Adds the term "K=V". Returns 0, or -1 with wr_seterr(). */
int wr_label_filter_add(struct wr_label_filter *f, const char *kv);
/* 1 when labels (a JSON object of strings, or NULL: no labels) matches. */
int wr_label_filter_match(const struct wr_label_filter *f, const json_t *labels);
void wr_label_filter_free(struct wr_label_filter *f);

#endif
