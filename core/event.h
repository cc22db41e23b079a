/* event.h - ledger events of schema 1: names, validation, decoding.
 *
 * An event is one compact JSON object on one line. Decoding parses with
 * jansson (strict: duplicate keys, invalid UTF-8, \u0000 and integers beyond
 * int64 are errors), then checks every known field's type; an error names
 * the column and the field. Unknown types and fields are kept and ignored. */
#ifndef WR_EVENT_H
#define WR_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WR_SCHEMA 1
#define WR_MAX_DEPTH 16           /* deeper nesting is refused */
#define WR_METRIC_NAME_MAX 64     /* bytes of a metric's name */
#define WR_METRICS_MAX 32         /* distinct metrics kept per attempt */

enum wr_type {
	WR_EV_UNKNOWN = 0,
	WR_EV_RUN_CREATED,
	WR_EV_ATTEMPT_STARTED,
	WR_EV_ATTEMPT_HEARTBEAT,
	WR_EV_ATTEMPT_PROGRESS,
	WR_EV_ATTEMPT_STUCK,
	WR_EV_ATTEMPT_FINISHED,
	WR_EV_ATTEMPT_REJECTED,
	WR_EV_RECOVERY_DECIDED,
	WR_EV_RUN_BLOCKED,
	WR_EV_RUN_UNBLOCKED,
	WR_EV_RUN_CANCELLED,
	WR_EV_BREAKER_CHANGED,
	WR_EV_OUTBOX_ENQUEUED,
	WR_EV_OUTBOX_CLAIMED,
	WR_EV_OUTBOX_DELIVERED,
	WR_EV_OUTBOX_FAILED,
	WR_EV_OUTBOX_DEAD,
	WR_EV_OUTBOX_ACKED,
	WR_EV_OUTBOX_RETRIED,
	WR_EV_LEDGER_REPAIRED,
	WR_EV_WORKFLOW_EXPECTED,
	WR_EV_WORKFLOW_OVERDUE,
	WR_EV_RUN_LAUNCHED,
	WR_EV__COUNT
};

/* The values of the enum fields of the schema. */
enum wr_outcome { WR_OUT_NONE, WR_OUT_SUCCESS, WR_OUT_ERROR, WR_OUT_TIMEOUT, WR_OUT_STUCK, WR_OUT_CANCELLED, WR_OUT_LOST, WR_OUT__COUNT };
enum wr_breaker_state { WR_BR_CLOSED, WR_BR_OPEN, WR_BR_HALF_OPEN, WR_BR__COUNT };

/* One string table per enum (strtable.h): NAME returns NULL out of range,
 * FROM_NAME -1 for a name it does not know ("" for WR_EV_UNKNOWN and
 * WR_OUT_NONE, which have no name). */
const char *wr_type_name(enum wr_type t);
int wr_type_from_name(const char *s);
const char *wr_outcome_name(enum wr_outcome o);
int wr_outcome_from_name(const char *s);
const char *wr_breaker_name(enum wr_breaker_state b);
int wr_breaker_from_name(const char *s);
/* The kinds of outbox entries (outbox.enqueued "kind"), by index. */
const char *wr_outbox_kind_name(int k);
int wr_outbox_kind_from_name(const char *s);

/* Why wr-run flagged or stopped an attempt: the machine tokens of
 * attempt.stuck's "reason" (the stuck reasons, before WR_REASON__STUCK) and
 * of attempt.finished's "reason_code", carried by the outbox entry's
 * details.reason and the workrail export's "reason". The one table of
 * these tokens; workrail's own (repeated_tool_call, no_progress, max_turns)
 * are among them, spelled as workrail spells them. */
enum wr_reason {
	WR_REASON_REPEATED_OUTPUT,     /* the same output line N times in a row */
	WR_REASON_NO_PROGRESS,         /* no stage line for DUR, or in N turns */
	WR_REASON_REPEATED_TOOL_CALL,  /* the same tool call N times in a row */
	WR_REASON_NO_OUTPUT,           /* no byte on stdout or stderr for DUR (--no-output) */
	WR_REASON__STUCK,              /* end of the stuck reasons */
	WR_REASON_TIMEOUT,             /* --timeout */
	WR_REASON_DEADLINE,            /* the run's --deadline */
	WR_REASON_MAX_TURNS,           /* --max-turns */
	WR_REASON__COUNT
};

const char *wr_reason_name(enum wr_reason r);  /* "" for the markers */
int wr_reason_from_name(const char *s);        /* -1 when not a token */

struct wr_ev_fields;

struct wr_event {
	struct wr_ev_fields *fields; /* the fields (jsonfast.h), owned; read them with wr_ev_* */
	enum wr_type type;
	const char *type_name;
	int64_t seq;
	int64_t ts;           /* ms since epoch */
	const char *run;      /* NULL when absent; borrowed from fields */
	const char *workflow;
	int64_t attempt;      /* 0 when absent */
	int batch_i, batch_n; /* 1-based place in a multi-event decision; 0 0 alone */
};

/* Where and why a line is not a valid event. */
struct wr_decode_err {
	int column;           /* 1-based byte column, 0 when not known */
	char field[64];       /* "" when the line is not JSON at all */
	char msg[256];
};

/* Decodes one line (without its '\n'). Returns 0 with *ev filled (release
 * with wr_event_clear), or -1 with *err filled. simdjson reads the lines it
 * is sure of; jansson, the decoder of record, the others. */
int wr_event_decode(const char *line, size_t len, struct wr_event *ev, struct wr_decode_err *err);
/* The same with jansson alone (tests compare the two). */
int wr_event_decode_ref(const char *line, size_t len, struct wr_event *ev, struct wr_decode_err *err);
/* Validates an event object built in memory (common fields not required
 * when partial != 0, for decisions before commit assigns them). */
int wr_event_check(json_t *obj, int partial, struct wr_decode_err *err);
void wr_event_clear(struct wr_event *ev);
/* 1 when a and b are the same event: the same fields in the same order,
 * of the same kinds and values (what wr_event_decode and _ref must agree on). */
int wr_event_equal(const struct wr_event *a, const struct wr_event *b);
/* *dst becomes a second reference to src's event (wr_event_clear both). */
void wr_event_copy(struct wr_event *dst, const struct wr_event *src);

/* Field accessors that tolerate absence (validated types are assumed):
 * a string, an integer, a timestamp field as ms (dflt when absent or
 * null), an array or object field (borrowed; NULL when absent or not one).
 * The ...n forms take the key's length; the others, inline, let the
 * compiler count it (the reducer asks ~30 times an event). */
const char *wr_ev_strn(const struct wr_event *ev, const char *key, size_t klen);
int64_t wr_ev_intn(const struct wr_event *ev, const char *key, size_t klen, int64_t dflt);
int64_t wr_ev_tsn(const struct wr_event *ev, const char *key, size_t klen, int64_t dflt);
json_t *wr_ev_jsonn(const struct wr_event *ev, const char *key, size_t klen);
static inline const char *wr_ev_str(const struct wr_event *ev, const char *key)
{
	return wr_ev_strn(ev, key, strlen(key));
}
static inline int64_t wr_ev_int(const struct wr_event *ev, const char *key, int64_t dflt)
{
	return wr_ev_intn(ev, key, strlen(key), dflt);
}
static inline int64_t wr_ev_ts(const struct wr_event *ev, const char *key, int64_t dflt)
{
	return wr_ev_tsn(ev, key, strlen(key), dflt);
}
static inline json_t *wr_ev_json(const struct wr_event *ev, const char *key)
{
	return wr_ev_jsonn(ev, key, strlen(key));
}
/* The whole event as a jansson object (borrowed, alive as long as ev),
 * built the first time it is asked for. */
json_t *wr_ev_obj(const struct wr_event *ev);

/* A new event object of a type with "v" and "type" set; the commit adds
 * seq, ts, by and batch. */
json_t *wr_event_new(enum wr_type t);
/* What the commit draws for a decision besides seq, ts, by and batch: the
 * id of each outbox.enqueued event of events that has none (a UUIDv7 at
 * now). Decisions leave those ids out, so that they stay pure functions of
 * (state, now, request); a caller that must know an id (wr-outbox add)
 * draws it and puts it in the request. */
void wr_events_draw_ids(json_t *events, int64_t now);
/* json helpers that die on allocation failure. */
void wr_jset_str(json_t *o, const char *key, const char *val);   /* NULL -> skipped */
void wr_jset_int(json_t *o, const char *key, int64_t val);
void wr_jset_ts(json_t *o, const char *key, int64_t ms);         /* RFC 3339 string */
void wr_jset(json_t *o, const char *key, json_t *val);           /* steals val */

#endif
