/* decide_outbox.h - the decisions of wr-outbox: add, claim, deliver's
 * outcome, ack, retry and import.
 *
 * Each is a pure function (state, now, request) -> events for
 * wr_ledger_commit; everything random (the ids a caller must know, the
 * jitter) is drawn by the caller and passed in the request, the ids of
 * notifications a decision raises by the commit (wr_events_draw_ids), and
 * what the decision found goes back in the request. The reducer (state.c)
 * fences outbox events; these decisions only
 * append what the reducer will accept, so a ledger written by wr-outbox has
 * no stale outbox events:
 *
 *   enqueued -> pending -claim-> claimed -ok-> delivered
 *                  ^                |  \-fail-> pending (next_at)
 *                  |                \--fail at max attempts-> dead
 *                  \------ retry (outbox.retried) ----------------/
 *   ack: any entry that is not acked yet -> acked.
 *
 * A claim takes one due entry: pending with next_at <= now, or claimed with
 * an expired lease (its deliverer died). Two deliverers never hold the same
 * entry: the claim is decided under the ledger lock on the current state. */
#ifndef WR_DECIDE_OUTBOX_H
#define WR_DECIDE_OUTBOX_H

#include <jansson.h>
#include <stdint.h>

#include "decision.h"
#include "state.h"

/* 1 when kind is one of the outbox kinds of schema 1. */
int wr_outbox_kind_valid(const char *kind);

/* An entry by full id, unambiguous prefix, or unambiguous suffix (the short
 * id tables show). NULL when none; *ambiguous set when several match. */
struct wr_outbox *wr_outbox_find(const struct wr_state *st, const char *key, int *ambiguous);

/* 1 when o may be claimed at now. */
int wr_outbox_due(const struct wr_outbox *o, int64_t now);

/* add: outbox.enqueued with the caller's id. Refuses an id already there. */
struct wr_outbox_add_req {
	const char *id;                /* a new UUIDv7 */
	const char *kind, *message, *reason, *run, *workflow;
	json_t *details;               /* borrowed; NULL for none */
};
int wr_decide_outbox_add(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* claim: one due entry -> outbox.claimed {id, delivery, lease_until}.
 * An entry whose expired claim already used max_attempts goes dead instead
 * (in the same decision), and the search goes on. */
struct wr_outbox_claim_req {
	const char *delivery;          /* a new UUIDv7 for this claim */
	int64_t lease_ms;
	int64_t max_attempts;
	/* out */
	char *id;                      /* the claimed entry (allocated), or NULL;
	                                  NULL or allocated before: freed */
	int64_t dead;                  /* expired claims moved to dead */
};
int wr_decide_outbox_claim(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* The outcome of one delivery, for the claim (id, delivery). */
enum wr_outbox_result {
	WR_OBR_NONE = 0,               /* nothing recorded: the claim was lost and
					* the entry moved on (acked, reclaimed...) */
	WR_OBR_DELIVERED,
	WR_OBR_FAILED,
	WR_OBR_DEAD,
};
struct wr_outbox_done_req {
	const char *id, *delivery;
	int ok;                        /* 1: the command exited 0 */
	const char *error;             /* why it failed, when !ok */
	int64_t max_attempts;
	int64_t backoff_initial_ms, backoff_max_ms;
	double backoff_factor;
	double jitter;                 /* in [0, 1) */
	/* out */
	enum wr_outbox_result result;
	int64_t attempts;              /* attempts so far */
	int64_t next_at;               /* when failed */
	const char *why;               /* when WR_OBR_NONE (static) */
};
int wr_decide_outbox_done(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* ack and retry of one entry named by id, prefix or short id. */
enum wr_outbox_find_result { WR_OBF_OK = 0, WR_OBF_UNKNOWN, WR_OBF_AMBIGUOUS, WR_OBF_NOOP, WR_OBF_REFUSED };
struct wr_outbox_id_req {
	const char *key;
	/* out */
	enum wr_outbox_find_result found;
	char *id;                      /* the full id (allocated) when found */
	enum wr_outbox_state was;      /* its state before */
};
/* ack: outbox.acked; NOOP when already acked. */
int wr_decide_outbox_ack(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);
/* retry: outbox.retried for a dead entry; REFUSED for any other state. */
int wr_decide_outbox_retry(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* import: enqueues the prepared entries whose id is not in the ledger yet
 * (nor in archived, nor earlier in the same request), all in one decision.
 * archived: the ids compaction moved to archive segments, read by the
 * caller while it holds the lock (so no compaction runs in between). */
struct wr_outbox_import_req {
	json_t *entries;               /* array of outbox.enqueued events (borrowed) */
	json_t *archived;              /* object whose keys are ids, or NULL (borrowed) */
	/* out */
	int64_t added, skipped;
};
int wr_decide_outbox_import(const struct wr_state *st, int64_t now, void *req, struct wr_batch *out);

/* An outbox.enqueued event object (not yet committed). details is stolen
 * (may be NULL); NULL strings are left out. */
json_t *wr_outbox_enqueued_event(const char *id, const char *kind, const char *message, const char *reason,
				 const char *run, const char *workflow, json_t *details);

#endif
