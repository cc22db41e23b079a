/* event.c - the schema-1 table and strict decoding of ledger lines. */
#include "event.h"
#include "err.h"
#include "jsonfast.h"
#include "sanitize.h"
#include "strtable.h"
#include "timefmt.h"
#include "util.h"
#include "uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[WR_EV__COUNT] = {
	[WR_EV_UNKNOWN] = "",
	[WR_EV_RUN_CREATED] = "run.created",
	[WR_EV_ATTEMPT_STARTED] = "attempt.started",
	[WR_EV_ATTEMPT_HEARTBEAT] = "attempt.heartbeat",
	[WR_EV_ATTEMPT_PROGRESS] = "attempt.progress",
	[WR_EV_ATTEMPT_STUCK] = "attempt.stuck",
	[WR_EV_ATTEMPT_FINISHED] = "attempt.finished",
	[WR_EV_ATTEMPT_REJECTED] = "attempt.rejected",
	[WR_EV_RECOVERY_DECIDED] = "recovery.decided",
	[WR_EV_RUN_BLOCKED] = "run.blocked",
	[WR_EV_RUN_UNBLOCKED] = "run.unblocked",
	[WR_EV_RUN_CANCELLED] = "run.cancelled",
	[WR_EV_BREAKER_CHANGED] = "breaker.changed",
	[WR_EV_OUTBOX_ENQUEUED] = "outbox.enqueued",
	[WR_EV_OUTBOX_CLAIMED] = "outbox.claimed",
	[WR_EV_OUTBOX_DELIVERED] = "outbox.delivered",
	[WR_EV_OUTBOX_FAILED] = "outbox.failed",
	[WR_EV_OUTBOX_DEAD] = "outbox.dead",
	[WR_EV_OUTBOX_ACKED] = "outbox.acked",
	[WR_EV_OUTBOX_RETRIED] = "outbox.retried",
	[WR_EV_LEDGER_REPAIRED] = "ledger.repaired",
	[WR_EV_WORKFLOW_EXPECTED] = "workflow.expected",
	[WR_EV_WORKFLOW_OVERDUE] = "workflow.overdue",
	[WR_EV_RUN_LAUNCHED] = "run.launched",
};

WR_DEFINE_STRING_TABLE_LOOKUP(wr_type, enum wr_type, type_names)

static const char *const outcome_names[WR_OUT__COUNT] = {
	[WR_OUT_NONE] = "", [WR_OUT_SUCCESS] = "success", [WR_OUT_ERROR] = "error", [WR_OUT_TIMEOUT] = "timeout",
	[WR_OUT_STUCK] = "stuck", [WR_OUT_CANCELLED] = "cancelled", [WR_OUT_LOST] = "lost",
};
WR_DEFINE_STRING_TABLE_LOOKUP(wr_outcome, enum wr_outcome, outcome_names)

static const char *const breaker_names[WR_BR__COUNT] = {
	[WR_BR_CLOSED] = "closed", [WR_BR_OPEN] = "open", [WR_BR_HALF_OPEN] = "half_open",
};
WR_DEFINE_STRING_TABLE_LOOKUP(wr_breaker, enum wr_breaker_state, breaker_names)

static const char *const kind_names[] = {"stuck", "timeout", "lost", "failed", "escalated", "breaker_open",
					 "recovered", "cancelled", "custom", "overdue"};
WR_DEFINE_STRING_TABLE_LOOKUP(wr_outbox_kind, int, kind_names)

/* Values of enum fields that have no C enum of their own. */
static const char *const progress_status_names[] = {"started", "done"};
static const char *const stuck_action_names[] = {"abort", "notify"};
static const char *const rejected_names[] = {"breaker_open", "concurrency_limit"};
static const char *const decided_action_names[] = {"retry", "escalate", "none"};
static const char *const launch_mode_names[] = {"due", "forced"};
static const struct wr_strtable e_status = WR_STRTABLE(progress_status_names);
static const struct wr_strtable e_stuck_action = WR_STRTABLE(stuck_action_names);
static const struct wr_strtable e_rejected = WR_STRTABLE(rejected_names);
static const struct wr_strtable e_action = WR_STRTABLE(decided_action_names);
static const struct wr_strtable e_launch_mode = WR_STRTABLE(launch_mode_names);
#define e_outcome (&wr_outcome_table)
#define e_breaker (&wr_breaker_table)
#define e_kind (&wr_outbox_kind_table)

static const char *const reason_names[WR_REASON__COUNT + 1] = {
	[WR_REASON_REPEATED_OUTPUT] = "repeated_output",
	[WR_REASON_NO_PROGRESS] = "no_progress",
	[WR_REASON_REPEATED_TOOL_CALL] = "repeated_tool_call",
	[WR_REASON_NO_OUTPUT] = "no_output",
	[WR_REASON__STUCK] = NULL, /* ends the enum of attempt.stuck's reason */
	[WR_REASON_TIMEOUT] = "timeout",
	[WR_REASON_DEADLINE] = "deadline",
	[WR_REASON_MAX_TURNS] = "max_turns",
	[WR_REASON__COUNT] = NULL,
};

/* The whole table for the names; its first WR_REASON__STUCK entries are
 * the values of attempt.stuck's "reason". */
static const struct wr_strtable reason_table = {reason_names, WR_REASON__COUNT};
static const struct wr_strtable e_stuck_reason = {reason_names, WR_REASON__STUCK};

const char *wr_reason_name(enum wr_reason r)
{
	const char *s = wr_strtable_name(&reason_table, (long)r);
	return s ? s : "";
}

int wr_reason_from_name(const char *s)
{
	return wr_strtable_index(&reason_table, s);
}

enum kind { K_END, K_STR, K_ID, K_UINT, K_POS, K_INT, K_TS, K_OBJ, K_ARRSTR, K_ENUM, K_NUM, K_BATCH, K_INTARR, K_METRICS };
enum { REQ = 1, NUL = 2 };

struct field {
	const char *name;
	enum kind kind;
	int flags;
	const struct wr_strtable *values; /* K_ENUM */
	const struct field *sub;       /* K_OBJ with a known shape */
};

#define END {NULL, K_END, 0, NULL, NULL}

static const struct field f_backoff[] = {
	{"initial_ms", K_UINT, 0, NULL, NULL}, {"factor", K_NUM, 0, NULL, NULL}, {"max_ms", K_UINT, 0, NULL, NULL}, END};
static const struct field f_stuck[] = {
	{"repeat", K_UINT, NUL, NULL, NULL}, {"no_progress_ms", K_UINT, NUL, NULL, NULL},
	{"repeat_tool", K_POS, NUL, NULL, NULL}, {"no_progress_turns", K_POS, NUL, NULL, NULL},
	{"no_output_ms", K_UINT, NUL, NULL, NULL},
	{"action", K_ENUM, 0, &e_stuck_action, NULL}, END};
static const struct field f_policy[] = {
	{"timeout_ms", K_UINT, NUL, NULL, NULL}, {"kill_after_ms", K_UINT, 0, NULL, NULL},
	{"heartbeat_ms", K_UINT, 0, NULL, NULL}, {"lease_ms", K_UINT, 0, NULL, NULL},
	{"max_attempts", K_POS, 0, NULL, NULL}, {"backoff", K_OBJ, 0, NULL, f_backoff},
	{"stuck", K_OBJ, 0, NULL, f_stuck}, {"concurrency", K_UINT, NUL, NULL, NULL},
	{"max_turns", K_POS, NUL, NULL, NULL},
	{"deadline_ms", K_UINT, NUL, NULL, NULL}, {"no_retry_on", K_INTARR, 0, NULL, NULL},
	{"signal", K_UINT, 0, NULL, NULL}, END};

static const struct field f_common[] = {
	{"v", K_POS, REQ, NULL, NULL}, {"seq", K_POS, REQ, NULL, NULL}, {"ts", K_TS, REQ, NULL, NULL},
	{"type", K_STR, REQ, NULL, NULL}, {"by", K_STR, REQ, NULL, NULL}, {"run", K_ID, 0, NULL, NULL},
	{"workflow", K_ID, 0, NULL, NULL}, {"attempt", K_POS, 0, NULL, NULL}, {"batch", K_BATCH, 0, NULL, NULL}, END};

static const struct field f_run_created[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"workflow", K_ID, REQ, NULL, NULL}, {"argv", K_ARRSTR, REQ, NULL, NULL},
	{"cwd", K_STR, REQ, NULL, NULL}, {"labels", K_OBJ, 0, NULL, NULL}, {"policy", K_OBJ, REQ, NULL, f_policy}, END};
static const struct field f_started[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"attempt", K_POS, REQ, NULL, NULL}, {"host", K_STR, REQ, NULL, NULL},
	{"boot_id", K_STR, 0, NULL, NULL}, {"pid", K_POS, REQ, NULL, NULL}, {"pid_start", K_UINT, 0, NULL, NULL},
	{"pgid", K_POS, 0, NULL, NULL}, {"pgid_start", K_UINT, 0, NULL, NULL},
	{"lease_until", K_TS, REQ, NULL, NULL}, {"resume", K_ARRSTR, 0, NULL, NULL}, END};
/* An agent's counts so far in the attempt (cumulative, never deltas, so a
 * lost heartbeat loses nothing): turns ended, tool calls, metrics summed. */
#define AGENT_COUNTS                                                                     \
	{"turns", K_UINT, 0, NULL, NULL}, {"tool_calls", K_UINT, 0, NULL, NULL},          \
	{"metrics", K_METRICS, 0, NULL, NULL} /* name -> integer >= 0 */
static const struct field f_heartbeat[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"attempt", K_POS, REQ, NULL, NULL}, {"lease_until", K_TS, REQ, NULL, NULL},
	AGENT_COUNTS, END};
static const struct field f_progress[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"attempt", K_POS, REQ, NULL, NULL}, {"stage", K_STR, REQ, NULL, NULL},
	{"status", K_ENUM, REQ, &e_status, NULL}, {"detail", K_STR, NUL, NULL, NULL}, END};
static const struct field f_stuckev[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"attempt", K_POS, REQ, NULL, NULL},
	{"reason", K_ENUM, REQ, &e_stuck_reason, NULL}, {"detail", K_STR, NUL, NULL, NULL},
	{"action", K_ENUM, REQ, &e_stuck_action, NULL}, AGENT_COUNTS, END};
static const struct field f_finished[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"attempt", K_POS, REQ, NULL, NULL}, {"outcome", K_ENUM, REQ, e_outcome, NULL},
	{"exit_code", K_INT, NUL, NULL, NULL}, {"signal", K_UINT, NUL, NULL, NULL}, {"duration_ms", K_UINT, NUL, NULL, NULL},
	{"cpu_ms", K_UINT, NUL, NULL, NULL}, {"max_rss_kb", K_UINT, NUL, NULL, NULL},
	{"output_bytes", K_UINT, NUL, NULL, NULL}, {"reason", K_STR, NUL, NULL, NULL}, {"stale", K_STR, NUL, NULL, NULL},
	{"reason_code", K_STR, NUL, NULL, NULL}, AGENT_COUNTS, END};
static const struct field f_rejected[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"reason", K_ENUM, REQ, &e_rejected, NULL}, END};
static const struct field f_decided[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"attempt", K_POS, 0, NULL, NULL}, {"action", K_ENUM, REQ, &e_action, NULL},
	{"reason", K_STR, NUL, NULL, NULL}, {"recoveries", K_UINT, REQ, NULL, NULL}, {"not_before", K_TS, NUL, NULL, NULL}, END};
/* A launch of attempt n (the run's next): the launched wr-run (pid, its
 * start time, host, boot) and a short lease for where its pid cannot be
 * checked; mode forced: its start may come before the retry's not_before. */
static const struct field f_launched[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"attempt", K_POS, REQ, NULL, NULL}, {"host", K_STR, REQ, NULL, NULL},
	{"boot_id", K_STR, 0, NULL, NULL}, {"pid", K_POS, REQ, NULL, NULL}, {"pid_start", K_UINT, 0, NULL, NULL},
	{"lease_until", K_TS, REQ, NULL, NULL}, {"mode", K_ENUM, REQ, &e_launch_mode, NULL}, END};
static const struct field f_run_only[] = {
	{"run", K_ID, REQ, NULL, NULL}, {"reason", K_STR, NUL, NULL, NULL}, {"note", K_STR, NUL, NULL, NULL}, END};
static const struct field f_breaker[] = {
	{"workflow", K_ID, REQ, NULL, NULL}, {"from", K_ENUM, REQ, e_breaker, NULL}, {"to", K_ENUM, REQ, e_breaker, NULL},
	{"failure_rate", K_NUM, NUL, NULL, NULL}, {"open_until", K_TS, NUL, NULL, NULL}, END};
static const struct field f_enqueued[] = {
	{"id", K_ID, REQ, NULL, NULL}, {"kind", K_ENUM, REQ, e_kind, NULL}, {"message", K_STR, REQ, NULL, NULL},
	{"reason", K_STR, NUL, NULL, NULL}, {"details", K_OBJ, NUL, NULL, NULL}, END};
static const struct field f_claimed[] = {
	{"id", K_ID, REQ, NULL, NULL}, {"delivery", K_ID, REQ, NULL, NULL}, {"lease_until", K_TS, REQ, NULL, NULL}, END};
static const struct field f_outbox_id[] = {
	{"id", K_ID, REQ, NULL, NULL}, {"delivery", K_ID, 0, NULL, NULL}, {"error", K_STR, NUL, NULL, NULL},
	{"next_at", K_TS, NUL, NULL, NULL}, END};
static const struct field f_repaired[] = {
	{"quarantine", K_STR, REQ, NULL, NULL}, {"offset", K_UINT, REQ, NULL, NULL}, {"bytes", K_UINT, REQ, NULL, NULL}, END};

/* An expectation (every_ms 0 clears it) and a missed period of it. */
static const struct field f_expected[] = {
	{"workflow", K_ID, REQ, NULL, NULL}, {"every_ms", K_UINT, REQ, NULL, NULL}, {"grace_ms", K_UINT, REQ, NULL, NULL}, END};
static const struct field f_overdue[] = {
	{"workflow", K_ID, REQ, NULL, NULL}, {"due", K_TS, REQ, NULL, NULL}, {"period", K_POS, REQ, NULL, NULL}, END};

static const struct field *const type_fields[WR_EV__COUNT] = {
	[WR_EV_RUN_CREATED] = f_run_created,
	[WR_EV_ATTEMPT_STARTED] = f_started,
	[WR_EV_ATTEMPT_HEARTBEAT] = f_heartbeat,
	[WR_EV_ATTEMPT_PROGRESS] = f_progress,
	[WR_EV_ATTEMPT_STUCK] = f_stuckev,
	[WR_EV_ATTEMPT_FINISHED] = f_finished,
	[WR_EV_ATTEMPT_REJECTED] = f_rejected,
	[WR_EV_RECOVERY_DECIDED] = f_decided,
	[WR_EV_RUN_BLOCKED] = f_run_only,
	[WR_EV_RUN_UNBLOCKED] = f_run_only,
	[WR_EV_RUN_CANCELLED] = f_run_only,
	[WR_EV_BREAKER_CHANGED] = f_breaker,
	[WR_EV_OUTBOX_ENQUEUED] = f_enqueued,
	[WR_EV_OUTBOX_CLAIMED] = f_claimed,
	[WR_EV_OUTBOX_DELIVERED] = f_outbox_id,
	[WR_EV_OUTBOX_FAILED] = f_outbox_id,
	[WR_EV_OUTBOX_DEAD] = f_outbox_id,
	[WR_EV_OUTBOX_ACKED] = f_outbox_id,
	[WR_EV_OUTBOX_RETRIED] = f_outbox_id,
	[WR_EV_LEDGER_REPAIRED] = f_repaired,
	[WR_EV_WORKFLOW_EXPECTED] = f_expected,
	[WR_EV_WORKFLOW_OVERDUE] = f_overdue,
	[WR_EV_RUN_LAUNCHED] = f_launched,
};

static int fail(struct wr_decode_err *err, const char *field, const char *fmt, const char *arg)
{
	snprintf(err->field, sizeof err->field, "%s", field);
	snprintf(err->msg, sizeof err->msg, fmt, arg);
	return -1;
}

/* Levels are objects and arrays: a scalar inside the 16th is not a 17th. */
static int depth_ok(json_t *j, int depth)
{
	if (!json_is_object(j) && !json_is_array(j))
		return 1;
	if (depth > WR_MAX_DEPTH)
		return 0;
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v) if (!depth_ok(v, depth + 1)) return 0;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) if (!depth_ok(v, depth + 1)) return 0;
	}
	return 1;
}

/* What the checks read: an event's field table, or a jansson object. */
struct view {
	const struct wr_ev_fields *d;
	json_t *obj;
};

/* A jansson value seen as a field of the table (strings read in place). */
static void jv_of(json_t *j, struct wr_jv *v)
{
	v->len = 0;
	switch (json_typeof(j)) {
	case JSON_STRING:
		v->kind = WR_JV_STR;
		v->u.s = json_string_value(j);
		v->len = (uint32_t)json_string_length(j);
		break;
	case JSON_INTEGER:
		v->kind = WR_JV_INT;
		v->u.i = json_integer_value(j);
		break;
	case JSON_REAL:
		v->kind = WR_JV_REAL;
		v->u.d = json_real_value(j);
		break;
	case JSON_TRUE:
		v->kind = WR_JV_TRUE;
		break;
	case JSON_FALSE:
		v->kind = WR_JV_FALSE;
		break;
	case JSON_NULL:
		v->kind = WR_JV_NULL;
		break;
	default:
		v->kind = WR_JV_JSON;
		v->u.j = j;
	}
}

static const struct wr_jv *fields_findn(const struct wr_ev_fields *d, const char *key, size_t klen)
{
	return d ? wr_jv_find(d, key, klen) : NULL;
}

static const struct wr_jv *fields_find(const struct wr_ev_fields *d, const char *key)
{
	return fields_findn(d, key, strlen(key));
}

/* The field key of o, or NULL when absent (tmp may hold it). */
static const struct wr_jv *view_get(const struct view *o, const char *key, struct wr_jv *tmp)
{
	if (o->d)
		return fields_find(o->d, key);
	json_t *j = json_object_get(o->obj, key);
	if (!j)
		return NULL;
	jv_of(j, tmp);
	return tmp;
}

static int is_json(const struct wr_jv *v, json_type t)
{
	return v->kind == WR_JV_JSON && json_typeof(v->u.j) == t;
}

static int check_fields(const struct view *o, const struct field *spec, const char *prefix, int partial,
			struct wr_decode_err *err);

/* A field's name in messages: prefix and name, written only for one. */
struct fname {
	const char *prefix, *name;
};

static void fname_str(const struct fname *nm, char *name, size_t size)
{
	size_t pl = strlen(nm->prefix), nl = strlen(nm->name);
	pl = pl < size - 1 ? pl : size - 1;
	nl = nl < size - 1 - pl ? nl : size - 1 - pl;
	memcpy(name, nm->prefix, pl);
	memcpy(name + pl, nm->name, nl);
	name[pl + nl] = 0;
}

static int failn(struct wr_decode_err *err, const struct fname *nm, const char *fmt)
{
	char name[64];
	fname_str(nm, name, sizeof name);
	return fail(err, name, fmt, name);
}

/* The arrays and objects of the schema: v (not null) of field f. */
static int check_json(const struct wr_jv *v, const struct field *f, const struct fname *nm, struct wr_decode_err *err)
{
	json_t *j = v->kind == WR_JV_JSON ? v->u.j : NULL;
	switch (f->kind) {
	case K_OBJ:
		if (!is_json(v, JSON_OBJECT))
			return failn(err, nm, "field \"%s\": expected an object");
		if (f->sub) {
			char name[64], pre[80];
			fname_str(nm, name, sizeof name);
			snprintf(pre, sizeof pre, "%s.", name);
			struct view sub = {NULL, j};
			if (check_fields(&sub, f->sub, pre, 0, err) < 0)
				return -1;
		}
		break;
	case K_ARRSTR:
	case K_INTARR: {
		if (!is_json(v, JSON_ARRAY))
			return failn(err, nm, "field \"%s\": expected an array");
		size_t i;
		json_t *x;
		json_array_foreach(j, i, x)
		{
			if (f->kind == K_ARRSTR && !json_is_string(x))
				return failn(err, nm, "field \"%s\": expected an array of strings");
			if (f->kind == K_INTARR && !json_is_integer(x))
				return failn(err, nm, "field \"%s\": expected an array of integers");
		}
		break;
	}
	case K_BATCH: {
		json_t *a = json_array_get(j, 0), *b = json_array_get(j, 1);
		if (!is_json(v, JSON_ARRAY) || json_array_size(j) != 2 || !json_is_integer(a) || !json_is_integer(b) ||
		    json_integer_value(a) < 1 || json_integer_value(b) < 2 ||
		    json_integer_value(a) > json_integer_value(b))
			return failn(err, nm, "field \"%s\": expected [i, n] with 1 <= i <= n, n >= 2");
		break;
	}
	case K_METRICS: {
		if (!is_json(v, JSON_OBJECT))
			return failn(err, nm, "field \"%s\": expected an object of metric name -> integer");
		const char *mk;
		json_t *mv;
		json_object_foreach(j, mk, mv) if (!json_is_integer(mv) || json_integer_value(mv) < 0 || !*mk ||
					    strlen(mk) > WR_METRIC_NAME_MAX)
			return failn(err, nm, "field \"%s\": expected an object of metric name -> integer");
		break;
	}
	default:
		break;
	}
	return 0;
}

/* The value v (not null) of field f, called nm in messages. */
static int check_value(const struct wr_jv *v, const struct field *f, const struct fname *nm, struct wr_decode_err *err)
{
	switch (f->kind) {
	case K_STR:
		if (v->kind != WR_JV_STR)
			return failn(err, nm, "field \"%s\": expected a string");
		break;
	case K_ID:
		if (v->kind != WR_JV_STR || v->len == 0 || v->len > 256)
			return failn(err, nm, "field \"%s\": expected a non-empty id string (at most 256 bytes)");
		break;
	case K_UINT:
	case K_POS:
	case K_INT:
		if (v->kind != WR_JV_INT)
			return failn(err, nm, "field \"%s\": expected an integer");
		if (f->kind == K_UINT && v->u.i < 0)
			return failn(err, nm, "field \"%s\": must not be negative");
		if (f->kind == K_POS && v->u.i < 1)
			return failn(err, nm, "field \"%s\": must be 1 or more");
		break;
	case K_NUM:
		if (v->kind != WR_JV_INT && v->kind != WR_JV_REAL)
			return failn(err, nm, "field \"%s\": expected a number");
		break;
	case K_TS: {
		int64_t ms;
		if (v->kind != WR_JV_STR || wr_ts_parse(v->u.s, &ms) < 0)
			return failn(err, nm, "field \"%s\": expected an RFC 3339 timestamp");
		break;
	}
	case K_ENUM:
		if (v->kind != WR_JV_STR)
			return failn(err, nm, "field \"%s\": expected a string");
		if (wr_strtable_index(f->values, v->u.s) < 0)
			return failn(err, nm, "field \"%s\": unknown value");
		break;
	case K_OBJ:
	case K_ARRSTR:
	case K_INTARR:
	case K_BATCH:
	case K_METRICS:
		return check_json(v, f, nm, err);
	case K_END:
		break;
	}
	return 0;
}

static int check_fields(const struct view *o, const struct field *spec, const char *prefix, int partial,
			struct wr_decode_err *err)
{
	for (const struct field *f = spec; f->name; f++) {
		const struct fname n = {prefix, f->name}, *nm = &n; /* written only for a message */
		struct wr_jv tmp;
		const struct wr_jv *v = view_get(o, f->name, &tmp);
		if (!v) {
			if ((f->flags & REQ) && !partial)
				return failn(err, nm, "missing required field \"%s\"");
			continue;
		}
		if (v->kind == WR_JV_NULL) {
			if (f->flags & NUL)
				continue;
			return failn(err, nm, "field \"%s\" must not be null");
		}
		if (check_value(v, f, nm, err) < 0)
			return -1;
	}
	return 0;
}

/* The schema's checks of one event's object (its nesting checked). */
static int check_event(const struct view *o, int partial, struct wr_decode_err *err)
{
	if (check_fields(o, f_common, "", partial, err) < 0)
		return -1;
	struct wr_jv tv, tt;
	const struct wr_jv *v = view_get(o, "v", &tv), *type = view_get(o, "type", &tt);
	if (v && (v->kind != WR_JV_INT || v->u.i != WR_SCHEMA))
		return fail(err, "v", "field \"%s\": unsupported schema version (this wr reads 1)", "v");
	int t = wr_type_from_name(type && type->kind == WR_JV_STR ? type->u.s : NULL);
	if (t > 0 && type_fields[t] && check_fields(o, type_fields[t], "", 0, err) < 0)
		return -1;
	return 0;
}

int wr_event_check(json_t *obj, int partial, struct wr_decode_err *err)
{
	err->column = 0;
	err->field[0] = 0;
	err->msg[0] = 0;
	if (!json_is_object(obj))
		return fail(err, "", "%sexpected a JSON object", "");
	if (!depth_ok(obj, 1))
		return fail(err, "", "nesting deeper than %s levels", "16");
	struct view o = {NULL, obj};
	return check_event(&o, partial, err);
}

/* How many numbers beyond int64 one line may have before it is refused. */
#define MAX_BIG_NUMBERS 64

/* Parses a line. jansson refuses a whole document for one integer beyond
 * int64 (a numeric overflow); unknown fields are kept and ignored, so such
 * a number is read as the string of its digits instead, and a known field
 * holding one fails its own type check, by name. Returns the object, or
 * NULL with je set (its position in the line as given). */
static json_t *load_line(const char *line, size_t len, json_error_t *je)
{
	json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, je);
	if (obj || json_error_code(je) != json_error_numeric_overflow)
		return obj;
	char *buf = wr_xmalloc(len + 2 * MAX_BIG_NUMBERS);
	memcpy(buf, line, len);
	size_t n = len;
	int quoted = 0;
	while (!obj && json_error_code(je) == json_error_numeric_overflow && quoted < MAX_BIG_NUMBERS) {
		size_t end = (size_t)je->position, start = end;
		if (end > n)
			break;
		while (start > 0 && strchr("0123456789+-.eE", buf[start - 1]) && buf[start - 1])
			start--;
		if (start == end)
			break;
		memmove(buf + end + 2, buf + end, n - end);
		memmove(buf + start + 1, buf + start, end - start);
		buf[start] = buf[end + 1] = '"';
		n += 2;
		quoted++;
		obj = json_loadb(buf, n, JSON_REJECT_DUPLICATES, je);
	}
	free(buf);
	if (!obj && je->position >= 2 * quoted)
		je->position -= 2 * quoted; /* every quote was inserted before it */
	return obj;
}

static void nomem(void)
{
	wr_die(wr_exit_failure, "out of memory");
}

/* What no decoder reads: a CRLF ending, an empty line, NUL bytes. */
static int precheck(const char *line, size_t len, struct wr_decode_err *err)
{
	err->column = 0;
	err->field[0] = 0;
	if (len && line[len - 1] == '\r') {
		err->column = (int)len;
		snprintf(err->msg, sizeof err->msg, "carriage return at end of line (CRLF line ending)");
		return -1;
	}
	if (len == 0) {
		err->column = 1;
		snprintf(err->msg, sizeof err->msg, "empty line");
		return -1;
	}
	const char *nul = memchr(line, 0, len);
	if (nul) {
		size_t k = 0;
		while (k < len && !line[k])
			k++;
		err->column = (int)(nul - line) + 1;
		if (k == len)
			snprintf(err->msg, sizeof err->msg, "a line of %zu NUL bytes (zeros a crash or a file system left)", len);
		else
			snprintf(err->msg, sizeof err->msg, "NUL byte in the line");
		return -1;
	}
	return 0;
}

static void fields_unref(struct wr_ev_fields *d)
{
	if (!d || --d->refs > 0)
		return;
	for (size_t i = 0; i < d->n; i++)
		if (d->f[i].kind == WR_JV_JSON)
			json_decref(d->f[i].u.j);
	json_decref(d->obj);
	free(d);
}

/* The table of jansson's object obj (taken): strings in place. */
static struct wr_ev_fields *fields_of(json_t *obj)
{
	size_t n = json_object_size(obj);
	struct wr_ev_fields *d = wr_xmalloc(sizeof *d + n * sizeof *d->f);
	d->refs = 1;
	d->obj = obj;
	d->n = 0;
	d->f = (struct wr_jv *)(d + 1);
	d->indexed = 1;
	memset(d->slot, 0, sizeof d->slot);
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v)
	{
		struct wr_jv *f = &d->f[d->n++];
		jv_of(v, f);
		f->key = k;
		f->sig = wr_jv_sig(k, strlen(k));
		wr_jv_index_last(d);
		if (f->kind == WR_JV_JSON)
			json_incref(v);
	}
	return d;
}

/* The event's common fields, read from its table d (taken). */
static void event_of(struct wr_event *ev, struct wr_ev_fields *d)
{
	memset(ev, 0, sizeof *ev);
	ev->fields = d;
	ev->type_name = wr_ev_str(ev, "type");
	int t = wr_type_from_name(ev->type_name);
	ev->type = t > 0 ? (enum wr_type)t : WR_EV_UNKNOWN;
	ev->seq = wr_ev_int(ev, "seq", 0);
	wr_ts_parse(wr_ev_str(ev, "ts"), &ev->ts);
	ev->run = wr_ev_str(ev, "run");
	ev->workflow = wr_ev_str(ev, "workflow");
	ev->attempt = wr_ev_int(ev, "attempt", 0);
	json_t *b = wr_ev_json(ev, "batch");
	if (b) {
		ev->batch_i = (int)json_integer_value(json_array_get(b, 0));
		ev->batch_n = (int)json_integer_value(json_array_get(b, 1));
	}
}

int wr_event_decode_ref(const char *line, size_t len, struct wr_event *ev, struct wr_decode_err *err)
{
	json_error_t je;
	memset(ev, 0, sizeof *ev);
	if (precheck(line, len, err) < 0)
		return -1;
	json_t *obj = load_line(line, len, &je);
	if (!obj) {
		err->column = je.position > 0 ? je.position : (je.column > 0 ? je.column : 1);
		snprintf(err->msg, sizeof err->msg, "invalid JSON: %s", je.text);
		wr_sanitize(err->msg, strlen(err->msg)); /* jansson quotes the bad bytes */
		return -1;
	}
	if (wr_event_check(obj, 0, err) < 0) {
		json_decref(obj);
		if (err->column == 0)
			err->column = 1;
		return -1;
	}
	event_of(ev, fields_of(obj));
	return 0;
}

int wr_event_decode(const char *line, size_t len, struct wr_event *ev, struct wr_decode_err *err)
{
	memset(ev, 0, sizeof *ev);
	if (precheck(line, len, err) < 0)
		return -1;
	struct wr_ev_fields *d = wr_jsonfast_fields(line, len, WR_MAX_DEPTH);
	if (d) {
		struct view o = {d, NULL};
		if (check_event(&o, 0, err) == 0) {
			event_of(ev, d);
			return 0;
		}
		fields_unref(d); /* jansson says why, as it always has */
	}
	return wr_event_decode_ref(line, len, ev, err);
}

void wr_event_clear(struct wr_event *ev)
{
	fields_unref(ev->fields);
	memset(ev, 0, sizeof *ev);
}

static int jv_equal(const struct wr_jv *a, const struct wr_jv *b)
{
	if (strcmp(a->key, b->key) || a->sig != b->sig || a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case WR_JV_STR:
		return a->len == b->len && !memcmp(a->u.s, b->u.s, a->len) && !a->u.s[a->len];
	case WR_JV_INT:
		return a->u.i == b->u.i;
	case WR_JV_REAL:
		return !memcmp(&a->u.d, &b->u.d, sizeof a->u.d);
	case WR_JV_JSON:
		return json_equal(a->u.j, b->u.j);
	default:
		return 1;
	}
}

int wr_event_equal(const struct wr_event *a, const struct wr_event *b)
{
	const struct wr_ev_fields *x = a->fields, *y = b->fields;
	if (!x || !y)
		return x == y;
	if (a->type != b->type || a->seq != b->seq || a->ts != b->ts || a->attempt != b->attempt ||
	    a->batch_i != b->batch_i || a->batch_n != b->batch_n || x->n != y->n || !a->type_name != !b->type_name ||
	    (a->type_name && strcmp(a->type_name, b->type_name)) || !a->run != !b->run ||
	    (a->run && strcmp(a->run, b->run)) || !a->workflow != !b->workflow ||
	    (a->workflow && strcmp(a->workflow, b->workflow)))
		return 0;
	for (size_t i = 0; i < x->n; i++)
		if (!jv_equal(&x->f[i], &y->f[i]) || fields_find(x, x->f[i].key) != &x->f[i] ||
		    fields_find(y, y->f[i].key) != &y->f[i])
			return 0;
	return 1;
}

void wr_event_copy(struct wr_event *dst, const struct wr_event *src)
{
	*dst = *src;
	if (dst->fields)
		dst->fields->refs++;
}

const char *wr_ev_strn(const struct wr_event *ev, const char *key, size_t klen)
{
	const struct wr_jv *v = fields_findn(ev->fields, key, klen);
	return v && v->kind == WR_JV_STR ? v->u.s : NULL;
}

int64_t wr_ev_intn(const struct wr_event *ev, const char *key, size_t klen, int64_t dflt)
{
	const struct wr_jv *v = fields_findn(ev->fields, key, klen);
	return v && v->kind == WR_JV_INT ? v->u.i : dflt;
}

int64_t wr_ev_tsn(const struct wr_event *ev, const char *key, size_t klen, int64_t dflt)
{
	const char *s = wr_ev_strn(ev, key, klen);
	int64_t ms;
	return s && wr_ts_parse(s, &ms) == 0 ? ms : dflt;
}

json_t *wr_ev_jsonn(const struct wr_event *ev, const char *key, size_t klen)
{
	const struct wr_jv *v = fields_findn(ev->fields, key, klen);
	return v && v->kind == WR_JV_JSON ? v->u.j : NULL;
}

static json_t *jv_json(const struct wr_jv *v)
{
	switch (v->kind) {
	case WR_JV_STR:
		return json_stringn_nocheck(v->u.s, v->len); /* read as UTF-8 already */
	case WR_JV_INT:
		return json_integer(v->u.i);
	case WR_JV_REAL:
		return json_real(v->u.d);
	case WR_JV_TRUE:
		return json_true();
	case WR_JV_FALSE:
		return json_false();
	case WR_JV_JSON:
		return json_incref(v->u.j);
	default:
		return json_null();
	}
}

json_t *wr_ev_obj(const struct wr_event *ev)
{
	struct wr_ev_fields *d = ev->fields;
	if (!d)
		return NULL;
	if (!d->obj) {
		json_t *o = json_object();
		if (!o)
			nomem();
		for (size_t i = 0; i < d->n; i++) {
			json_t *v = jv_json(&d->f[i]);
			if (!v || json_object_set_new_nocheck(o, d->f[i].key, v) < 0)
				nomem();
		}
		d->obj = o;
	}
	return d->obj;
}

void wr_jset(json_t *o, const char *key, json_t *val)
{
	if (!val || json_object_set_new(o, key, val) < 0)
		nomem();
}

json_t *wr_event_new(enum wr_type t)
{
	json_t *o = json_object();
	if (!o)
		nomem();
	wr_jset(o, "v", json_integer(WR_SCHEMA));
	wr_jset(o, "type", json_string(wr_type_name(t)));
	return o;
}

void wr_events_draw_ids(json_t *events, int64_t now)
{
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev)
	{
		const char *t = json_string_value(json_object_get(ev, "type"));
		if (t && !strcmp(t, "outbox.enqueued") && !json_object_get(ev, "id")) {
			char id[WR_UUID_LEN];
			wr_jset_str(ev, "id", wr_uuid7_at(now, id));
		}
	}
}

void wr_jset_str(json_t *o, const char *key, const char *val)
{
	if (!val)
		return;
	json_t *s = json_string(val);
	if (!s) /* jansson refuses invalid UTF-8: callers validate user text first */
		wr_die(wr_exit_failure, "internal error: field \"%s\" is not valid UTF-8", key);
	wr_jset(o, key, s);
}

void wr_jset_int(json_t *o, const char *key, int64_t val)
{
	wr_jset(o, key, json_integer(val));
}

void wr_jset_ts(json_t *o, const char *key, int64_t ms)
{
	char b[WR_TS_LEN];
	wr_jset(o, key, json_string(wr_ts_format(ms, b)));
}
