/* test-decide-outbox - wr-outbox's decisions (core/decide_outbox.c), every
 * branch: kinds, finding an entry (id, prefix, suffix, ambiguous), due
 * times; add (unknown kind, id taken); claim (nothing due, the first due,
 * an expired last claim goes dead and the search goes on); done (unknown
 * entry, delivered, delivered meanwhile or acked, claim moved on, dead at
 * the last attempt, failed with the one backoff); ack and retry (unknown,
 * ambiguous, no-op, refused); import (new, known, archived, twice in one
 * file). */
#include "tap.h"
#include "helpers.h"

#include "decide.h"
#include "decide_outbox.h"

#define A "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60"
#define B "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a70"

static void add(struct t_fx *f, const char *id, int64_t ts)
{
	struct wr_outbox_add_req q = {id, "custom", "hello", NULL, NULL, "wf", NULL};
	int rc;
	json_decref(fx_decide(f, wr_decide_outbox_add, ts, &q, &rc));
	if (rc)
		printf("# add %s: %s\n", id, wr_errmsg());
}

static void lookups(void)
{
	ok(wr_outbox_kind_valid("custom") && wr_outbox_kind_valid("breaker_open"), "known kinds");
	ok(!wr_outbox_kind_valid("nosuch") && !wr_outbox_kind_valid(NULL) && !wr_outbox_kind_valid(""), "unknown kinds");
	struct t_fx f;
	fx_init(&f);
	add(&f, A, T0);
	add(&f, B, T0);
	int amb;
	ok(wr_outbox_find(&f.st, A, &amb) && !amb, "by full id");
	ok(wr_outbox_find(&f.st, "0193a1b2", &amb) == NULL && amb, "a common prefix is ambiguous");
	ok(wr_outbox_find(&f.st, "2e3f4a70", &amb) == wr_state_outbox(&f.st, B), "by short id (suffix)");
	ok(wr_outbox_find(&f.st, "zzz", &amb) == NULL && !amb, "no match");
	ok(wr_outbox_find(&f.st, "", &amb) == NULL && !amb, "an empty key matches nothing");

	struct wr_outbox *o = wr_state_outbox(&f.st, A);
	ok(wr_outbox_due(o, T0), "a new entry is due at once");
	o->next_at = T0 + MIN;
	ok(!wr_outbox_due(o, T0) && wr_outbox_due(o, T0 + MIN), "pending: due at next_at");
	o->state = WR_OB_CLAIMED;
	o->lease_until = T0 + HOUR;
	ok(!wr_outbox_due(o, T0 + MIN) && wr_outbox_due(o, T0 + HOUR), "claimed: due when the lease ends");
	o->state = WR_OB_DELIVERED;
	ok(!wr_outbox_due(o, T0 + 9 * HOUR), "delivered: never due");
	fx_free(&f);
}

static void adding(void)
{
	struct t_fx f;
	fx_init(&f);
	json_t *det = json_pack("{s:i}", "n", 1);
	struct wr_outbox_add_req q = {A, "custom", "m", "why", "run-1", "wf", det};
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_outbox_add, T0, &q, &rc);
	is_int(rc, 0, "add");
	json_t *e = json_array_get(evs, 0);
	ok(!strcmp(fx_str(e, "id"), A) && !strcmp(fx_str(e, "reason"), "why") && !strcmp(fx_str(e, "run"), "run-1"),
	   "outbox.enqueued with the caller's id, reason and run");
	ok(json_equal(json_object_get(e, "details"), det), "details copied");
	json_decref(evs);
	evs = fx_decide(&f, wr_decide_outbox_add, T0, &q, &rc);
	ok(rc == -1 && strstr(wr_errmsg(), "exists already"), "an id taken is refused: %s", wr_errmsg());
	json_decref(evs);
	q.id = B;
	q.kind = "nosuch";
	evs = fx_decide(&f, wr_decide_outbox_add, T0, &q, &rc);
	ok(rc == -1 && strstr(wr_errmsg(), "unknown outbox kind 'nosuch'"), "an unknown kind is refused");
	json_decref(evs);
	q.kind = NULL;
	json_decref(fx_decide(&f, wr_decide_outbox_add, T0, &q, &rc));
	ok(rc == -1 && strstr(wr_errmsg(), "unknown outbox kind ''"), "no kind is refused");
	json_decref(det);
	fx_free(&f);
}

static json_t *claim(struct t_fx *f, int64_t now, struct wr_outbox_claim_req *q)
{
	int rc; /* the decision frees the q->id of the one before */
	return fx_decide(f, wr_decide_outbox_claim, now, q, &rc);
}

static void claiming(void)
{
	struct t_fx f;
	fx_init(&f);
	struct wr_outbox_claim_req q = {"d-1", MIN, 2, NULL, 0};
	json_t *evs = claim(&f, T0, &q);
	ok(q.id == NULL && json_array_size(evs) == 0, "nothing to claim");
	json_decref(evs);

	add(&f, A, T0);
	add(&f, B, T0);
	evs = claim(&f, T0, &q);
	is_str(q.id, A, "the first due entry is claimed");
	is_str(fx_types(evs), "outbox.claimed", "outbox.claimed");
	is_str(fx_str(json_array_get(evs, 0), "lease_until"), "2026-11-20T22:32:05.000Z", "lease now + lease_ms");
	is_str(fx_str(json_array_get(evs, 0), "delivery"), "d-1", "the claim's delivery id");
	json_decref(evs);

	/* A's claim expires; it is claimed again (attempt 2 of 2) */
	q.delivery = "d-2";
	evs = claim(&f, T0 + 2 * MIN, &q);
	is_str(q.id, A, "an expired claim is due again");
	is_int(wr_state_outbox(&f.st, A)->attempts, 2, "attempt 2");
	json_decref(evs);
	/* it expires again with its attempts used: dead, and B is claimed */
	q.delivery = "d-3";
	evs = claim(&f, T0 + 4 * MIN, &q);
	is_str(fx_types(evs), "outbox.dead outbox.claimed", "the vanished last attempt goes dead, the search goes on");
	is_int(q.dead, 1, "one dead");
	is_str(q.id, B, "B is claimed");
	ok(strstr(fx_str(json_array_get(evs, 0), "error"), "vanished") != NULL, "why it is dead");
	is_int(wr_state_outbox(&f.st, A)->state, WR_OB_DEAD, "A is dead");
	json_decref(evs);
	free(q.id);
	fx_free(&f);
}

static void done_req(struct wr_outbox_done_req *q, const char *id, const char *delivery, int ok_)
{
	memset(q, 0, sizeof *q);
	q->id = id;
	q->delivery = delivery;
	q->ok = ok_;
	q->error = ok_ ? NULL : "exit 1";
	q->max_attempts = 3;
	q->backoff_initial_ms = MIN;
	q->backoff_factor = 2;
	q->backoff_max_ms = HOUR;
	q->jitter = 0.5;
}

static void claim_one(struct t_fx *f, const char *delivery, int64_t now)
{
	struct wr_outbox_claim_req c = {delivery, MIN, 3, NULL, 0};
	json_decref(claim(f, now, &c));
	free(c.id);
}

static void done(void)
{
	struct t_fx f;
	fx_init(&f);
	struct wr_outbox_done_req q;
	int rc;
	done_req(&q, "nosuch", "d", 1);
	json_t *evs = fx_decide(&f, wr_decide_outbox_done, T0, &q, &rc);
	ok(q.result == WR_OBR_NONE && !strcmp(q.why, "the entry is not in the ledger") && !json_array_size(evs),
	   "an unknown entry");
	json_decref(evs);

	add(&f, A, T0);
	claim_one(&f, "d-1", T0);
	done_req(&q, A, "d-1", 0);
	evs = fx_decide(&f, wr_decide_outbox_done, T0 + SEC, &q, &rc);
	is_int(q.result, WR_OBR_FAILED, "a failure with attempts left");
	is_int(q.next_at, T0 + SEC + MIN, "next_at: the one backoff after attempt 1 (no jitter at 0.5)");
	is_str(fx_str(json_array_get(evs, 0), "next_at"), "2026-11-20T22:32:06.000Z", "recorded");
	is_int(q.attempts, 1, "attempts so far");
	json_decref(evs);

	claim_one(&f, "d-2", T0 + 2 * MIN);
	done_req(&q, A, "d-old", 0);
	evs = fx_decide(&f, wr_decide_outbox_done, T0 + 2 * MIN, &q, &rc);
	ok(q.result == WR_OBR_NONE && strstr(q.why, "claim expired") && !json_array_size(evs),
	   "the failure of a claim that moved on records nothing");
	json_decref(evs);
	done_req(&q, A, "d-2", 0);
	q.max_attempts = 2;
	evs = fx_decide(&f, wr_decide_outbox_done, T0 + 2 * MIN, &q, &rc);
	is_int(q.result, WR_OBR_DEAD, "a failure of the last attempt: dead");
	is_str(fx_str(json_array_get(evs, 0), "error"), "exit 1", "with its error");
	json_decref(evs);

	/* success: even an expired claim delivers; delivered or acked needs nothing */
	add(&f, B, T0);
	claim_one(&f, "d-b", T0 + 3 * MIN);
	done_req(&q, B, "d-other", 1);
	evs = fx_decide(&f, wr_decide_outbox_done, T0 + 3 * MIN, &q, &rc);
	is_int(q.result, WR_OBR_DELIVERED, "a success is recorded whoever claimed last");
	is_str(fx_types(evs), "outbox.delivered", "outbox.delivered");
	json_decref(evs);
	evs = fx_decide(&f, wr_decide_outbox_done, T0 + 3 * MIN, &q, &rc);
	ok(q.result == WR_OBR_NONE && !strcmp(q.why, "delivered by another deliverer"), "delivered already");
	json_decref(evs);
	fx_ev(&f, T0 + 4 * MIN, "outbox.acked", "\"id\":\"%s\"", B);
	evs = fx_decide(&f, wr_decide_outbox_done, T0 + 4 * MIN, &q, &rc);
	ok(q.result == WR_OBR_NONE && !strcmp(q.why, "acknowledged meanwhile"), "acked meanwhile");
	json_decref(evs);
	fx_free(&f);
}

static void ack_retry(void)
{
	struct t_fx f;
	fx_init(&f);
	add(&f, A, T0);
	add(&f, B, T0);
	struct wr_outbox_id_req q = {"nosuch", 0, NULL, 0};
	int rc;
	json_decref(fx_decide(&f, wr_decide_outbox_ack, T0, &q, &rc));
	is_int(q.found, WR_OBF_UNKNOWN, "ack: unknown");
	q.key = "0193";
	json_decref(fx_decide(&f, wr_decide_outbox_ack, T0, &q, &rc));
	is_int(q.found, WR_OBF_AMBIGUOUS, "ack: ambiguous");
	q.key = "2e3f4a60";
	json_t *evs = fx_decide(&f, wr_decide_outbox_ack, T0, &q, &rc);
	ok(q.found == WR_OBF_OK && !strcmp(q.id, A) && q.was == WR_OB_PENDING, "ack by short id: was pending");
	is_str(fx_types(evs), "outbox.acked", "outbox.acked");
	json_decref(evs);
	free(q.id);
	evs = fx_decide(&f, wr_decide_outbox_ack, T0, &q, &rc);
	ok(q.found == WR_OBF_NOOP && !json_array_size(evs), "ack of an acked entry: no-op");
	json_decref(evs);
	free(q.id);

	q.key = B;
	evs = fx_decide(&f, wr_decide_outbox_retry, T0, &q, &rc);
	ok(q.found == WR_OBF_REFUSED && !json_array_size(evs), "retry of a pending entry is refused");
	json_decref(evs);
	free(q.id);
	fx_ev(&f, T0, "outbox.dead", "\"id\":\"%s\",\"error\":\"x\"", B);
	evs = fx_decide(&f, wr_decide_outbox_retry, T0, &q, &rc);
	ok(q.found == WR_OBF_OK && q.was == WR_OB_DEAD, "retry of a dead entry");
	is_str(fx_types(evs), "outbox.retried", "outbox.retried");
	json_decref(evs);
	free(q.id);
	q.key = "nosuch";
	json_decref(fx_decide(&f, wr_decide_outbox_retry, T0, &q, &rc));
	is_int(q.found, WR_OBF_UNKNOWN, "retry: unknown");
	fx_free(&f);
}

static void import(void)
{
	struct t_fx f;
	fx_init(&f);
	add(&f, A, T0);
	json_t *entries = json_array();
	const char *ids[] = {A, "new-1", "new-1", "archived-1", "new-2"};
	for (int i = 0; i < 5; i++)
		json_array_append_new(entries, wr_outbox_enqueued_event(ids[i], "custom", "m", NULL, NULL, NULL, NULL));
	json_array_append_new(entries, wr_outbox_enqueued_event(NULL, "custom", "m", NULL, NULL, NULL, NULL));
	json_t *archived = json_pack("{s:b}", "archived-1", 1);
	struct wr_outbox_import_req q = {entries, archived, 0, 0};
	int rc;
	json_t *evs = fx_decide(&f, wr_decide_outbox_import, T0, &q, &rc);
	is_int(q.added, 2, "two new entries");
	is_int(q.skipped, 4, "known, twice in the file, archived and id-less are skipped");
	ok(wr_state_outbox(&f.st, "new-1") && wr_state_outbox(&f.st, "new-2"), "both are in the state");
	json_decref(evs);
	q.archived = NULL;
	evs = fx_decide(&f, wr_decide_outbox_import, T0, &q, &rc);
	is_int(q.added, 1, "without the archive list the archived id is new");
	json_decref(evs);
	json_decref(entries);
	json_decref(archived);
	fx_free(&f);
}

int main(void)
{
	lookups();
	adding();
	claiming();
	done();
	ack_retry();
	import();
	return done_testing();
}
