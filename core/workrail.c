/* workrail.c - the workrail outbox.jsonl format (see workrail.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide_outbox.h"
#include "event.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"
#include "workrail.h"

/* 1 when s looks like a reason token: [a-z][a-z_]*. */
static int is_token(const char *s)
{
	if (*s < 'a' || *s > 'z')
		return 0;
	for (; *s; s++)
		if ((*s < 'a' || *s > 'z') && *s != '_')
			return 0;
	return 1;
}

json_t *wr_workrail_line(const struct wr_outbox *o)
{
	json_t *j = json_object();
	json_t *wk = o->details ? json_object_get(o->details, "workrail_kind") : NULL;
	json_t *ts = o->details ? json_object_get(o->details, "timestamp") : NULL;
	json_t *is = o->details ? json_object_get(o->details, "issueSummaries") : NULL;
	char b[WR_TS_LEN];
	wr_jset_str(j, "id", o->id);
	wr_jset_str(j, "kind", json_is_string(wk) ? json_string_value(wk) : o->kind);
	wr_jset_str(j, "message", o->message);
	wr_jset(j, "timestamp", ts && !json_is_null(ts) ? json_incref(ts) : json_string(wr_ts_format(o->created_ts, b)));
	wr_jset(j, "workflowId", o->workflow ? json_string(o->workflow) : json_null());
	/* workrail's router switches on a reason token: an entry wr-run
	 * enqueued carries one in details.reason (core/event.h's table); the
	 * rule is its shape, as in share/jq/workrail-outbox.jq. */
	json_t *tok = o->details ? json_object_get(o->details, "reason") : NULL;
	if (json_is_string(tok) && is_token(json_string_value(tok)))
		wr_jset(j, "reason", json_incref(tok));
	else
		wr_jset(j, "reason", o->reason ? json_string(o->reason) : json_null());
	if (is && !json_is_null(is))
		wr_jset(j, "issueSummaries", json_incref(is));
	return j;
}

static int json_depth(json_t *j)
{
	int d = 0;
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v)
		{
			int x = json_depth(v);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			int x = json_depth(v);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	return 0;
}

/* Ids from outside (imported entries): wr's own are UUIDs; a foreign one
 * must not carry what a header or an argument would take as syntax. */
#define FOREIGN_ID_MAX 128
static int foreign_id_ok(const char *s, size_t n)
{
	if (n == 0 || n > FOREIGN_ID_MAX || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c < 128 && isalnum(c)) && !(c && strchr("._:-", c)))
			return 0;
	}
	return 1;
}

json_t *wr_workrail_entry(const char *line, size_t len, char *why, size_t nwhy)
{
	json_error_t err;
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		snprintf(why, nwhy, "column %d: %s", err.column, err.text);
		return NULL;
	}
	json_t *ev = NULL, *details = NULL;
	char *id = NULL, *wf = NULL;
	if (!json_is_object(j)) {
		snprintf(why, nwhy, "expected a JSON object");
		goto out;
	}
	json_t *jid = json_object_get(j, "id"), *kind = json_object_get(j, "kind"),
	       *msg = json_object_get(j, "message"), *ts = json_object_get(j, "timestamp"),
	       *jwf = json_object_get(j, "workflowId"), *reason = json_object_get(j, "reason"),
	       *is = json_object_get(j, "issueSummaries");
	if (!json_is_string(jid) || !foreign_id_ok(json_string_value(jid), json_string_length(jid))) {
		snprintf(why, nwhy, "field \"id\": expected 1 to %d of A-Z a-z 0-9 . _ : -, not starting with - (an id "
			 "reaches notifiers' headers and arguments)", FOREIGN_ID_MAX);
		goto out;
	}
	if (!json_is_string(kind) || !json_string_length(kind)) {
		snprintf(why, nwhy, "field \"kind\": expected a non-empty string");
		goto out;
	}
	if (!json_is_string(msg)) {
		snprintf(why, nwhy, "field \"message\": expected a string");
		goto out;
	}
	if (jwf && !json_is_null(jwf) && (!json_is_string(jwf) || json_string_length(jwf) > 256)) {
		snprintf(why, nwhy, "field \"workflowId\": expected a string of at most 256 bytes");
		goto out;
	}
	if (reason && !json_is_null(reason) && !json_is_string(reason)) {
		snprintf(why, nwhy, "field \"reason\": expected a string");
		goto out;
	}
	if (json_depth(j) > WR_MAX_DEPTH - 2) {
		snprintf(why, nwhy, "nested deeper than %d levels", WR_MAX_DEPTH - 2);
		goto out;
	}
	id = wr_id_nfc(json_string_value(jid));
	if (json_is_string(jwf) && json_string_length(jwf))
		wf = wr_id_nfc(json_string_value(jwf));
	const char *k = json_string_value(kind);
	details = json_object();
	wr_jset_str(details, "source", "workrail");
	if (!wr_outbox_kind_valid(k)) {
		wr_jset_str(details, "workrail_kind", k);
		k = "custom";
	}
	if (ts)
		wr_jset(details, "timestamp", json_incref(ts));
	if (is)
		wr_jset(details, "issueSummaries", json_incref(is));
	/* Fields workrail may add later are kept, not dropped. */
	json_t *extra = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
	{
		static const char *const known[] = {"id", "kind", "message", "timestamp", "workflowId", "reason",
						    "issueSummaries", NULL};
		int kn = 0;
		for (const char *const *p = known; *p; p++)
			kn |= !strcmp(*p, key);
		if (!kn)
			json_object_set(extra, key, v);
	}
	if (json_object_size(extra))
		wr_jset(details, "extra", extra);
	else
		json_decref(extra);
	ev = wr_outbox_enqueued_event(id, k, json_string_value(msg), json_string_value(reason), NULL, wf, details);
	details = NULL;
	struct wr_decode_err derr;
	if (wr_event_check(ev, 1, &derr) < 0) {
		snprintf(why, nwhy, "%s", derr.msg);
		json_decref(ev);
		ev = NULL;
	}
out:
	json_decref(details);
	json_decref(j);
	free(id);
	free(wf);
	return ev;
}
