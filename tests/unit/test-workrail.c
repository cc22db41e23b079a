/* test-workrail - workrail's outbox.jsonl lines in (import) and out
 * (--format workrail): what is refused and why, what is kept, the way
 * back. */
#include <string.h>

#include "tap.h"
#include "helpers.h"

#include "workrail.h"

static json_t *entry(const char *line, char *why)
{
	why[0] = 0;
	return wr_workrail_entry(line, strlen(line), why, 256);
}

static void refused(void)
{
	char why[256];
	ok(!entry("{\"id\":", why) && strstr(why, "column"), "bad JSON: the column is said");
	ok(!entry("[1]", why) && strstr(why, "expected a JSON object"), "not an object");
	ok(!entry("{\"id\":\"-x\",\"kind\":\"stuck\",\"message\":\"m\"}", why) && strstr(why, "field \"id\""),
	   "an id starting with - is refused");
	ok(!entry("{\"id\":\"a b\",\"kind\":\"stuck\",\"message\":\"m\"}", why) && strstr(why, "field \"id\""),
	   "an id with a space is refused");
	ok(!entry("{\"id\":\"a\",\"kind\":\"\",\"message\":\"m\"}", why) && strstr(why, "field \"kind\""),
	   "an empty kind is refused");
	ok(!entry("{\"id\":\"a\",\"kind\":\"stuck\"}", why) && strstr(why, "field \"message\""), "a message is needed");
	ok(!entry("{\"id\":\"a\",\"kind\":\"stuck\",\"message\":\"m\",\"workflowId\":1}", why) &&
		   strstr(why, "field \"workflowId\""),
	   "a workflowId must be a string");
	ok(!entry("{\"id\":\"a\",\"kind\":\"stuck\",\"message\":\"m\",\"reason\":[]}", why) &&
		   strstr(why, "field \"reason\""),
	   "a reason must be a string");
	ok(!entry("{\"id\":\"a\",\"kind\":\"stuck\",\"message\":\"m\",\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", why) &&
		   strstr(why, "nested deeper"),
	   "too deep is refused");
}

static void kept(void)
{
	char why[256];
	json_t *ev = entry("{\"id\":\"wr:1\",\"kind\":\"sessionStuck\",\"message\":\"m\",\"timestamp\":\"2026-01-02T03:04:05Z\","
			   "\"workflowId\":\"nightly\",\"reason\":\"r\",\"issueSummaries\":[\"i\"],\"later\":7}",
			   why);
	ok(ev != NULL, "a full line is an event (%s)", why);
	is_str(json_string_value(json_object_get(ev, "type")), "outbox.enqueued", "of type outbox.enqueued");
	is_str(json_string_value(json_object_get(ev, "id")), "wr:1", "with its id");
	is_str(json_string_value(json_object_get(ev, "kind")), "custom", "an unknown kind is custom");
	json_t *d = json_object_get(ev, "details");
	is_str(json_string_value(json_object_get(d, "workrail_kind")), "sessionStuck", "the kind is kept in details");
	is_str(json_string_value(json_object_get(d, "source")), "workrail", "the source is said");
	is_str(json_string_value(json_object_get(d, "timestamp")), "2026-01-02T03:04:05Z", "the timestamp is kept");
	ok(json_is_array(json_object_get(d, "issueSummaries")), "issueSummaries are kept");
	is_int(json_integer_value(json_object_get(json_object_get(d, "extra"), "later")), 7,
	       "a field workrail adds later is kept");
	json_decref(ev);
	ev = entry("{\"id\":\"b\",\"kind\":\"stuck\",\"message\":\"m\"}", why);
	is_str(json_string_value(json_object_get(ev, "kind")), "stuck", "a known kind stays");
	ok(!json_object_get(json_object_get(ev, "details"), "workrail_kind"), "and has no workrail_kind");
	json_decref(ev);
}

static void line(void)
{
	struct wr_outbox o = {0};
	o.id = "e1";
	o.kind = "custom";
	o.message = "hello";
	o.reason = "a sentence";
	o.created_ts = 1767323045000LL;
	o.details = t_json("{\"workrail_kind\":\"sessionStuck\",\"reason\":\"max_turns\"}");
	json_t *j = wr_workrail_line(&o);
	is_str(json_string_value(json_object_get(j, "kind")), "sessionStuck", "the original kind comes back");
	is_str(json_string_value(json_object_get(j, "reason")), "max_turns", "the reason token wins over the sentence");
	ok(json_is_string(json_object_get(j, "timestamp")), "a timestamp from the entry's creation");
	ok(json_is_null(json_object_get(j, "workflowId")), "no workflow: null");
	json_decref(j);
	json_decref(o.details);
	o.details = t_json("{\"reason\":\"Not A Token\"}");
	j = wr_workrail_line(&o);
	is_str(json_string_value(json_object_get(j, "reason")), "a sentence", "a reason that is no token is not used");
	is_str(json_string_value(json_object_get(j, "kind")), "custom", "the kind as recorded");
	json_decref(j);
	json_decref(o.details);
}

int main(void)
{
	refused();
	kept();
	line();
	return done_testing();
}
