/* event.c - the schema-1 table and strict decoding of ledger lines. */
#include "event.h"
#include "err.h"
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

static int check_fields(json_t *obj, const struct field *spec, const char *prefix, int partial,
			struct wr_decode_err *err);

/* The value v (not null) of field f, called name in messages. */
static int check_value(json_t *v, const struct field *f, const char *name, struct wr_decode_err *err)
{
	switch (f->kind) {
	case K_STR:
		if (!json_is_string(v))
			return fail(err, name, "field \"%s\": expected a string", name);
		break;
	case K_ID:
		if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 256)
			return fail(err, name, "field \"%s\": expected a non-empty id string (at most 256 bytes)", name);
		break;
	case K_UINT:
	case K_POS:
	case K_INT:
		if (!json_is_integer(v))
			return fail(err, name, "field \"%s\": expected an integer", name);
		if (f->kind == K_UINT && json_integer_value(v) < 0)
			return fail(err, name, "field \"%s\": must not be negative", name);
		if (f->kind == K_POS && json_integer_value(v) < 1)
			return fail(err, name, "field \"%s\": must be 1 or more", name);
		break;
	case K_NUM:
		if (!json_is_number(v))
			return fail(err, name, "field \"%s\": expected a number", name);
		break;
	case K_TS: {
		int64_t ms;
		if (!json_is_string(v) || wr_ts_parse(json_string_value(v), &ms) < 0)
			return fail(err, name, "field \"%s\": expected an RFC 3339 timestamp", name);
		break;
	}
	case K_OBJ:
		if (!json_is_object(v))
			return fail(err, name, "field \"%s\": expected an object", name);
		if (f->sub) {
			char pre[80];
			snprintf(pre, sizeof pre, "%s.", name);
			if (check_fields(v, f->sub, pre, 0, err) < 0)
				return -1;
		}
		break;
	case K_ARRSTR:
	case K_INTARR: {
		if (!json_is_array(v))
			return fail(err, name, "field \"%s\": expected an array", name);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			if (f->kind == K_ARRSTR && !json_is_string(x))
				return fail(err, name, "field \"%s\": expected an array of strings", name);
			if (f->kind == K_INTARR && !json_is_integer(x))
				return fail(err, name, "field \"%s\": expected an array of integers", name);
		}
		break;
	}
	case K_ENUM: {
		if (!json_is_string(v))
			return fail(err, name, "field \"%s\": expected a string", name);
		const char *s = json_string_value(v);
		if (wr_strtable_index(f->values, s) < 0)
			return fail(err, name, "field \"%s\": unknown value", name);
		break;
	}
	case K_BATCH: {
		json_t *a = json_array_get(v, 0), *b = json_array_get(v, 1);
		if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(a) || !json_is_integer(b) ||
		    json_integer_value(a) < 1 || json_integer_value(b) < 2 ||
		    json_integer_value(a) > json_integer_value(b))
			return fail(err, name, "field \"%s\": expected [i, n] with 1 <= i <= n, n >= 2", name);
		break;
	}
	case K_METRICS: {
		if (!json_is_object(v))
			return fail(err, name, "field \"%s\": expected an object of metric name -> integer", name);
		const char *mk;
		json_t *mv;
		json_object_foreach(v, mk, mv) if (!json_is_integer(mv) || json_integer_value(mv) < 0 || !*mk ||
					    strlen(mk) > WR_METRIC_NAME_MAX)
			return fail(err, name, "field \"%s\": expected an object of metric name -> integer", name);
		break;
	}
	case K_END:
		break;
	}
	return 0;
}

static int check_fields(json_t *obj, const struct field *spec, const char *prefix, int partial,
			struct wr_decode_err *err)
{
	char name[64];
	for (const struct field *f = spec; f->name; f++) {
		/* by hand: snprintf here was 7% of a cold replay (profiled) */
		size_t pl = strlen(prefix), nl = strlen(f->name);
		pl = pl < sizeof name - 1 ? pl : sizeof name - 1;
		nl = nl < sizeof name - 1 - pl ? nl : sizeof name - 1 - pl;
		memcpy(name, prefix, pl);
		memcpy(name + pl, f->name, nl);
		name[pl + nl] = 0;
		json_t *v = json_object_get(obj, f->name);
		if (!v) {
			if ((f->flags & REQ) && !partial)
				return fail(err, name, "missing required field \"%s\"", name);
			continue;
		}
		if (json_is_null(v)) {
			if (f->flags & NUL)
				continue;
			return fail(err, name, "field \"%s\" must not be null", name);
		}
		if (check_value(v, f, name, err) < 0)
			return -1;
	}
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
	if (check_fields(obj, f_common, "", partial, err) < 0)
		return -1;
	json_t *v = json_object_get(obj, "v");
	if (v && json_integer_value(v) != WR_SCHEMA)
		return fail(err, "v", "field \"%s\": unsupported schema version (this wr reads 1)", "v");
	const char *type = json_string_value(json_object_get(obj, "type"));
	int t = wr_type_from_name(type);
	if (t > 0 && type_fields[t] && check_fields(obj, type_fields[t], "", 0, err) < 0)
		return -1;
	return 0;
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

int wr_event_decode(const char *line, size_t len, struct wr_event *ev, struct wr_decode_err *err)
{
	json_error_t je;
	memset(ev, 0, sizeof *ev);
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
	ev->obj = obj;
	ev->type_name = json_string_value(json_object_get(obj, "type"));
	int t = wr_type_from_name(ev->type_name);
	ev->type = t > 0 ? (enum wr_type)t : WR_EV_UNKNOWN;
	ev->seq = json_integer_value(json_object_get(obj, "seq"));
	wr_ts_parse(json_string_value(json_object_get(obj, "ts")), &ev->ts);
	ev->run = json_string_value(json_object_get(obj, "run"));
	ev->workflow = json_string_value(json_object_get(obj, "workflow"));
	ev->attempt = json_integer_value(json_object_get(obj, "attempt"));
	json_t *b = json_object_get(obj, "batch");
	if (b) {
		ev->batch_i = (int)json_integer_value(json_array_get(b, 0));
		ev->batch_n = (int)json_integer_value(json_array_get(b, 1));
	}
	return 0;
}

void wr_event_clear(struct wr_event *ev)
{
	json_decref(ev->obj);
	memset(ev, 0, sizeof *ev);
}

const char *wr_ev_str(const struct wr_event *ev, const char *key)
{
	return json_string_value(json_object_get(ev->obj, key));
}

int64_t wr_ev_int(const struct wr_event *ev, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(ev->obj, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int64_t wr_ev_ts(const struct wr_event *ev, const char *key, int64_t dflt)
{
	const char *s = json_string_value(json_object_get(ev->obj, key));
	int64_t ms;
	return s && wr_ts_parse(s, &ms) == 0 ? ms : dflt;
}

static void nomem(void)
{
	wr_die(wr_exit_failure, "out of memory");
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
