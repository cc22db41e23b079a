/* suggest.c - the nearest option or word, for "did you mean" hints. */
#include "suggest.h"
#include "err.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

size_t wr_edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	/* three rows of the optimal string alignment table */
	size_t *r0 = wr_xcalloc(m + 1, sizeof *r0), *r1 = wr_xcalloc(m + 1, sizeof *r1),
	       *r2 = wr_xcalloc(m + 1, sizeof *r2);
	for (size_t j = 0; j <= m; j++)
		r1[j] = j;
	for (size_t i = 1; i <= n; i++) {
		r2[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = r1[j - 1] + cost;
			if (r1[j] + 1 < best)
				best = r1[j] + 1;
			if (r2[j - 1] + 1 < best)
				best = r2[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && r0[j - 2] + 1 < best)
				best = r0[j - 2] + 1;
			r2[j] = best;
		}
		size_t *t = r0;
		r0 = r1;
		r1 = r2;
		r2 = t;
	}
	size_t d = r1[m];
	free(r0);
	free(r1);
	free(r2);
	return d;
}

const char *wr_suggest(const char *word, const char *const *cands)
{
	size_t len = strlen(word), best_d = (size_t)-1;
	const char *best = NULL, *prefix_of = NULL;
	int prefixes = 0;
	if (!len)
		return NULL;
	for (const char *const *c = cands; *c; c++) {
		if (!strncmp(*c, word, len) && strcmp(*c, word)) {
			prefixes++;
			prefix_of = *c;
		}
		size_t d = wr_edit_distance(word, *c);
		if (d < best_d) {
			best_d = d;
			best = *c;
		}
	}
	if (best && best_d <= 2 && best_d * 2 < len)
		return best;
	return prefixes == 1 ? prefix_of : NULL;
}

const char *wr_option_suggest(const char *arg, const struct option *opts)
{
	while (*arg == '-')
		arg++;
	char *word = wr_xstrndup(arg, strcspn(arg, "="));
	size_t n = 0;
	while (opts[n].name)
		n++;
	const char **names = wr_xcalloc(n + 1, sizeof *names);
	for (size_t i = 0; i < n; i++)
		names[i] = opts[i].name;
	const char *s = wr_suggest(word, names);
	free(names);
	free(word);
	return s;
}

noreturn void wr_die_unknown_command(int code, const char *word, const char *const *cmds)
{
	const char *s = wr_suggest(word, cmds);
	if (s)
		wr_usage_error(code, "unknown command '%s'; did you mean '%s'?", word, s);
	struct wr_buf b = {0};
	for (const char *const *c = cmds; *c; c++)
		wr_buf_addf(&b, "%s%s", c == cmds ? "" : c[1] ? ", " : " or ", *c);
	wr_usage_error(code, "unknown command '%s' (%s)", word, wr_buf_str(&b));
}

noreturn void wr_die_unknown_option(int code, char **argv, const struct option *opts)
{
	const char *typed = argv[optind - 1];
	char shortopt[3] = {'-', (char)optopt, 0};
	/* An unknown short option inside a bundle (-xq): name the letter. */
	if (optopt && typed[0] == '-' && typed[1] != '-')
		typed = shortopt;
	const char *s = typed[1] == '-' || !optopt ? wr_option_suggest(typed, opts) : NULL;
	if (s)
		wr_usage_error(code, "unknown option '%s'; did you mean '--%s'?", typed, s);
	wr_usage_error(code, "unknown option '%s'", typed);
}
