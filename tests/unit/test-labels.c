/* test-labels - K=V parsing and label filters (core/labels.c). */
#include "labels.h"
#include "err.h"
#include "tap.h"

#include <stdlib.h>

static json_t *labels(const char *json)
{
	return json_loads(json, 0, NULL);
}

static int match(const char *const *terms, const char *json)
{
	struct wr_label_filter f = {0};
	for (; *terms; terms++)
		if (wr_label_filter_add(&f, *terms) < 0)
			return -1;
	json_t *l = json ? labels(json) : NULL;
	int r = wr_label_filter_match(&f, l);
	json_decref(l);
	wr_label_filter_free(&f);
	return r;
}

int main(void)
{
	char *k, *v;
	is_int(wr_label_parse("team=ops", &k, &v), 0, "K=V parses");
	is_str(k, "team", "key");
	is_str(v, "ops", "value");
	free(k);
	free(v);
	is_int(wr_label_parse("env=", &k, &v), 0, "an empty value parses");
	is_str(v, "", "empty value");
	free(k);
	free(v);
	is_int(wr_label_parse("a=b=c", &k, &v), 0, "the first '=' splits");
	is_str(k, "a", "key before the first '='");
	is_str(v, "b=c", "value keeps later '='");
	free(k);
	free(v);
	is_int(wr_label_parse("e\xcc\x81t\xc3\xa9=1", &k, &v), 0, "decomposed key parses");
	is_str(k, "\xc3\xa9t\xc3\xa9", "the key is NFC");
	free(k);
	free(v);
	is_int(wr_label_parse("novalue", &k, &v), -1, "no '=' is refused");
	is_str(wr_errmsg(), "expected KEY=VALUE, not 'novalue'", "message says what to type");
	ok(!k && !v, "nothing allocated on error");
	is_int(wr_label_parse("=x", &k, &v), -1, "an empty key is refused");
	is_int(wr_label_parse("k=\xff", &k, &v), -1, "invalid UTF-8 is refused");

	const char *none[] = {NULL};
	const char *team[] = {"team=ops", NULL};
	const char *two_keys[] = {"team=ops", "env=prod", NULL};
	const char *either[] = {"env=prod", "env=staging", NULL};
	const char *nfc[] = {"e\xcc\x81=1", NULL};
	is_int(match(none, "{}"), 1, "an empty filter matches every run");
	is_int(match(none, NULL), 1, "an empty filter matches a run without labels");
	is_int(match(team, "{\"team\":\"ops\"}"), 1, "equal label matches");
	is_int(match(team, "{\"team\":\"dev\"}"), 0, "other value does not match");
	is_int(match(team, "{}"), 0, "missing label does not match");
	is_int(match(team, NULL), 0, "a run without labels does not match");
	is_int(match(two_keys, "{\"team\":\"ops\",\"env\":\"prod\"}"), 1, "every key holds: match");
	is_int(match(two_keys, "{\"team\":\"ops\",\"env\":\"dev\"}"), 0, "one key fails: no match");
	is_int(match(either, "{\"env\":\"staging\"}"), 1, "a repeated key means any of its values");
	is_int(match(either, "{\"env\":\"dev\"}"), 0, "none of a repeated key's values: no match");
	is_int(match(nfc, "{\"\xc3\xa9\":\"1\"}"), 1, "a key typed decomposed matches the recorded NFC key");
	return done_testing();
}
