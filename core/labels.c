/* labels.c - parsing K=V labels and matching runs against label filters. */
#include "labels.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "text.h"
#include "util.h"

int wr_label_parse(const char *s, char **key, char **val)
{
	*key = *val = NULL;
	const char *eq = strchr(s, '=');
	if (!eq || eq == s) {
		wr_seterr("expected KEY=VALUE, not '%s'", s);
		wr_seterrkind(WR_E_INPUT);
		return -1;
	}
	if (!wr_utf8_valid(s, strlen(s))) {
		wr_seterr("label '%.*s' is not valid UTF-8", (int)(eq - s), s);
		wr_seterrkind(WR_E_INPUT);
		return -1;
	}
	char *k = wr_xstrndup(s, (size_t)(eq - s));
	*key = wr_id_nfc(k);
	free(k);
	if (!*key) {
		wr_seterr("label '%s' is not valid UTF-8", s);
		wr_seterrkind(WR_E_INPUT);
		return -1;
	}
	*val = wr_xstrdup(eq + 1);
	return 0;
}

int wr_label_filter_add(struct wr_label_filter *f, const char *kv)
{
	char *k, *v;
	if (wr_label_parse(kv, &k, &v) < 0)
		return -1;
	f->key = wr_xrealloc(f->key, (f->n + 1) * sizeof *f->key);
	f->val = wr_xrealloc(f->val, (f->n + 1) * sizeof *f->val);
	f->key[f->n] = k;
	f->val[f->n] = v;
	f->n++;
	return 0;
}

/* 1 when the run's label key equals one of the filter's values for key. */
static int key_holds(const struct wr_label_filter *f, const char *key, const json_t *labels)
{
	const char *have = json_string_value(json_object_get(labels, key));
	if (!have)
		return 0;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->key[i], key) && !strcmp(f->val[i], have))
			return 1;
	return 0;
}

int wr_label_filter_match(const struct wr_label_filter *f, const json_t *labels)
{
	for (size_t i = 0; i < f->n; i++)
		if (!key_holds(f, f->key[i], labels))
			return 0;
	return 1;
}

void wr_label_filter_free(struct wr_label_filter *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->key[i]);
		free(f->val[i]);
	}
	free(f->key);
	free(f->val);
	f->n = 0;
	f->key = f->val = NULL;
}
