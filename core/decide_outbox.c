/* decide_outbox.c - wr-outbox's decisions: pure (state, now, request) ->
 * events, run under the ledger lock by wr_ledger_commit. */
#include "decide_outbox.h"
#include "backoff.h"
#include "err.h"
#include "event.h"
#include "timefmt.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int wr_outbox_kind_valid(const char *kind)
{
	return wr_outbox_kind_from_name(kind) >= 0;
}

struct wr_outbox *wr_outbox_find(const struct wr_state *st, const char *key, int *ambiguous)
{
	*ambiguous = 0;
	struct wr_outbox *o = wr_state_outbox(st, key);
	if (o || !key || !*key)
		return o;
	size_t n = strlen(key);
	struct wr_outbox *found = NULL;
	for (size_t i = 0; i < wr_state_outboxes(st)->n; i++) {
		struct wr_outbox *c = wr_map_at(wr_state_outboxes(st), i);
		size_t m = strlen(c->id);
		if (m < n)
			continue;
		if (strncmp(c->id, key, n) && strcmp(c->id + m - n, key))
			continue;
		if (found) {
			*ambiguous = 1;
			return NULL;
		}
		found = c;
	}
	return found;
}

int wr_outbox_due(const struct wr_outbox *o, int64_t now)
{
	if (o->state == WR_OB_PENDING)
		return o->next_at <= now;
	if (o->state == WR_OB_CLAIMED)
		return o->lease_until <= now;
	return 0;
}

json_t *wr_outbox_enqueued_event(const char *id, const char *kind, const char *message, const char *reason,
				 const char *run, const char *workflow, json_t *details)
{
	json_t *ev = wr_event_new(WR_EV_OUTBOX_ENQUEUED);
	/* its text fields, in the order of the schema; NULL ones left out */
	const char *const key[] = {"id", "kind", "message", "reason", "run", "workflow"};
	const char *const val[] = {id, kind, message, reason, run, workflow};
	for (size_t i = 0; i < sizeof key / sizeof key[0]; i++)
		wr_jset_str(ev, key[i], val[i]);
	if (details)
		wr_jset(ev, "details", details);
	return ev;
}

int wr_decide_outbox_add(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_outbox_add_req *req = reqp;
	(void)now;
	if (!wr_outbox_kind_valid(req->kind)) {
		wr_seterr("unknown outbox kind '%s'", req->kind ? req->kind : "");
		return -1;
	}
	if (wr_state_outbox(st, req->id)) {
		wr_seterr("outbox entry %s exists already", req->id);
		return -1;
	}
	json_array_append_new(out->events,
			      wr_outbox_enqueued_event(req->id, req->kind, req->message, req->reason, req->run,
						       req->workflow, req->details ? json_incref(req->details) : NULL));
	return 0;
}

int wr_decide_outbox_claim(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_outbox_claim_req *req = reqp;
	char ts[WR_TS_LEN];
	free(req->id); /* decided again after another writer came first */
	req->id = NULL;
	req->dead = 0;
	for (size_t i = 0; i < wr_state_outboxes(st)->n; i++) {
		const struct wr_outbox *o = wr_map_at(wr_state_outboxes(st), i);
		if (!wr_outbox_due(o, now))
			continue;
		if (o->state == WR_OB_CLAIMED && o->attempts >= req->max_attempts) {
			/* Its deliverer died during the last attempt it had. */
			json_t *ev = wr_event_new(WR_EV_OUTBOX_DEAD);
			wr_jset_str(ev, "id", o->id);
			wr_jset_str(ev, "delivery", o->delivery);
			wr_jset_str(ev, "error", "the deliverer of the last attempt vanished (lease expired)");
			json_array_append_new(out->events, ev);
			req->dead++;
			continue;
		}
		json_t *ev = wr_event_new(WR_EV_OUTBOX_CLAIMED);
		wr_jset_str(ev, "id", o->id);
		wr_jset_str(ev, "delivery", req->delivery);
		wr_jset_str(ev, "lease_until", wr_ts_format(now + req->lease_ms, ts));
		json_array_append_new(out->events, ev);
		req->id = wr_xstrdup(o->id);
		break;
	}
	return 0;
}

int wr_decide_outbox_done(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_outbox_done_req *req = reqp;
	const struct wr_outbox *o = wr_state_outbox(st, req->id);
	req->result = WR_OBR_NONE;
	req->next_at = 0;
	req->why = NULL;
	if (!o) {
		req->why = "the entry is not in the ledger";
		return 0;
	}
	req->attempts = o->attempts;
	int ours = o->state == WR_OB_CLAIMED && o->delivery && !strcmp(o->delivery, req->delivery);
	if (req->ok) {
		/* Delivered is the truth even when the claim expired meanwhile;
		 * only an entry already delivered or acked needs nothing more. */
		if (o->state == WR_OB_DELIVERED || o->state == WR_OB_ACKED) {
			req->why = o->state == WR_OB_ACKED ? "acknowledged meanwhile" : "delivered by another deliverer";
			return 0;
		}
		json_t *ev = wr_event_new(WR_EV_OUTBOX_DELIVERED);
		wr_jset_str(ev, "id", o->id);
		wr_jset_str(ev, "delivery", req->delivery);
		json_array_append_new(out->events, ev);
		req->result = WR_OBR_DELIVERED;
		return 0;
	}
	if (!ours) {
		req->why = "the claim expired and the entry moved on";
		return 0;
	}
	if (o->attempts >= req->max_attempts) {
		json_t *ev = wr_event_new(WR_EV_OUTBOX_DEAD);
		wr_jset_str(ev, "id", o->id);
		wr_jset_str(ev, "delivery", req->delivery);
		wr_jset_str(ev, "error", req->error);
		json_array_append_new(out->events, ev);
		req->result = WR_OBR_DEAD;
		return 0;
	}
	char ts[WR_TS_LEN];
	req->next_at = now + wr_backoff(req->backoff_initial_ms, req->backoff_factor, req->backoff_max_ms, o->attempts,
					req->jitter);
	json_t *ev = wr_event_new(WR_EV_OUTBOX_FAILED);
	wr_jset_str(ev, "id", o->id);
	wr_jset_str(ev, "delivery", req->delivery);
	wr_jset_str(ev, "error", req->error);
	wr_jset_str(ev, "next_at", wr_ts_format(req->next_at, ts));
	json_array_append_new(out->events, ev);
	req->result = WR_OBR_FAILED;
	return 0;
}

/* Resolves req->key: the entry with req->id set, or NULL (req->found says why). */
static const struct wr_outbox *resolve(const struct wr_state *st, struct wr_outbox_id_req *req)
{
	int amb;
	req->id = NULL;
	const struct wr_outbox *o = wr_outbox_find(st, req->key, &amb);
	if (!o) {
		req->found = amb ? WR_OBF_AMBIGUOUS : WR_OBF_UNKNOWN;
		return NULL;
	}
	req->found = WR_OBF_OK;
	req->id = wr_xstrdup(o->id);
	req->was = o->state;
	return o;
}

static void id_event(struct wr_batch *out, enum wr_type t, const char *id)
{
	json_t *ev = wr_event_new(t);
	wr_jset_str(ev, "id", id);
	json_array_append_new(out->events, ev);
}

int wr_decide_outbox_ack(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_outbox_id_req *req = reqp;
	(void)now;
	const struct wr_outbox *o = resolve(st, req);
	if (!o)
		return 0;
	if (o->state == WR_OB_ACKED) {
		req->found = WR_OBF_NOOP;
		return 0;
	}
	id_event(out, WR_EV_OUTBOX_ACKED, o->id);
	return 0;
}

int wr_decide_outbox_retry(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_outbox_id_req *req = reqp;
	(void)now;
	const struct wr_outbox *o = resolve(st, req);
	if (!o)
		return 0;
	if (o->state != WR_OB_DEAD) {
		req->found = WR_OBF_REFUSED;
		return 0;
	}
	id_event(out, WR_EV_OUTBOX_RETRIED, o->id);
	return 0;
}

int wr_decide_outbox_import(const struct wr_state *st, int64_t now, void *reqp, struct wr_batch *out)
{
	struct wr_outbox_import_req *req = reqp;
	(void)now;
	req->added = req->skipped = 0;
	size_t i;
	json_t *ev;
	/* Ids of this decision, for duplicates within the file. */
	json_t *seen = json_object();
	json_array_foreach(req->entries, i, ev)
	{
		const char *id = json_string_value(json_object_get(ev, "id"));
		if (!id || wr_state_outbox(st, id) || json_object_get(seen, id) ||
		    (req->archived && json_object_get(req->archived, id))) {
			req->skipped++;
			continue;
		}
		json_object_set_new(seen, id, json_true());
		json_array_append(out->events, ev);
		req->added++;
	}
	json_decref(seen);
	return 0;
}
