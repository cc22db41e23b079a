/* run-agent.c - the agent lines of the progress protocol (version 2):
 * {"turn":N}, {"tool":"NAME","args":...}, {"metric":"NAME","value":N}.
 *
 * They are counted here, not recorded one by one: heartbeats, attempt.stuck
 * and attempt.finished carry the totals (agent_counts). The turn and tool
 * detectors run as each line arrives: --max-turns ends the attempt
 * (outcome timeout, reason_code max_turns), --stuck-repeat-tool and
 * --no-progress-turns call the attempt stuck (repeated_tool_call,
 * no_progress). With --stuck-action notify they fire again once their
 * condition cleared and came back. Of a tool call's arguments only a hash
 * and a short summary are kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sanitize.h"
#include "run.h"
#include "text.h"

#define TOOL_NAME_MAX 256
#define SUMMARY_ARGS 40

/* FNV-1a, 64 bits: equal calls hash equal; a collision only merges two
 * calls for the repeat count. */
static uint64_t fnv1a(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* "read_file(src/main.c)": the name and the start of the arguments,
 * control characters and broken UTF-8 replaced, for a ledger detail and
 * stderr. */
static void summarize(char *out, size_t cap, const char *name, const char *args)
{
	size_t n = strlen(args), m = n > SUMMARY_ARGS ? SUMMARY_ARGS : n;
	while (m > 0 && m < n && ((unsigned char)args[m] & 0xc0) == 0x80)
		m--; /* do not cut a character in two */
	snprintf(out, cap, "%s(%.*s%s)", name, (int)m, args, m < n ? "..." : "");
	wr_sanitize(out, strlen(out)); /* a character snprintf cut becomes '?' too */
}

/* The command runs and nothing ends the attempt yet. */
static int live(const struct sup *S)
{
	return S->ending == WR_OUT_NONE && !S->reaped;
}

/* Nothing ends the attempt yet. The stuck detectors look at every line
 * even when the command has exited before wr-run read them all: what a
 * session did does not depend on when its lines were read. */
static int judging(const struct sup *S)
{
	return S->ending == WR_OUT_NONE;
}

static void on_turn(struct sup *S, json_t *v)
{
	struct agent *g = &S->ag;
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		bad_progress(S, "\"turn\" must be a whole number from 1 (the turn that ended)");
		return;
	}
	int64_t n = json_integer_value(v);
	if (n <= g->turns) {
		char why[160];
		snprintf(why, sizeof why, "turn %lld after turn %lld: turn numbers increase", (long long)n,
			 (long long)g->turns);
		bad_progress(S, why);
		return;
	}
	g->turns = n;
	if (!judging(S))
		return;
	if (live(S) && S->pol.max_turns && n >= S->pol.max_turns) {
		wr_warn("command reached turn %lld of --max-turns %lld; sending SIGTERM to its process group",
			(long long)n, (long long)S->pol.max_turns);
		terminate_code(S, WR_OUT_TIMEOUT, SIGTERM,
			       wr_xasprintf("reached turn %lld of --max-turns %lld", (long long)n,
					    (long long)S->pol.max_turns),
			       wr_reason_name(WR_REASON_MAX_TURNS));
		return;
	}
	int64_t since = n - (g->advance_turn > n ? n : g->advance_turn);
	if (S->pol.no_progress_turns && !g->noprog_fired && since >= S->pol.no_progress_turns) {
		g->noprog_fired = 1;
		stuck_record(S, wr_reason_name(WR_REASON_NO_PROGRESS),
			     wr_xasprintf("no stage line in %lld turns (turns %lld to %lld)", (long long)since,
					  (long long)g->advance_turn + 1, (long long)n));
	}
}

static void on_tool(struct sup *S, json_t *o)
{
	struct agent *g = &S->ag;
	const char *name = json_string_value(json_object_get(o, "tool"));
	json_t *args = json_object_get(o, "args");
	if (!name || !*name || strlen(name) > TOOL_NAME_MAX) {
		bad_progress(S, "\"tool\" must be a tool's name: a non-empty string of at most 256 bytes");
		return;
	}
	/* Any JSON value: compact, keys sorted, so equal arguments hash equal. */
	char *text = !args || json_is_null(args) ? wr_xstrdup("")
		     : json_is_string(args)	  ? wr_xstrdup(json_string_value(args))
						  : json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!text)
		wr_die(EXIT_FAILED, "out of memory");
	uint64_t h = fnv1a(0xcbf29ce484222325ull, name, strlen(name) + 1);
	h = fnv1a(h, text, strlen(text));
	g->tool_calls = wr_add_sat(g->tool_calls, 1);
	if (g->have_call && h == g->call_hash) {
		g->repeat++;
	} else {
		g->have_call = 1;
		g->call_hash = h;
		g->repeat = 1;
		g->repeat_fired = 0;
		summarize(g->call_summary, sizeof g->call_summary, name, text);
	}
	free(text);
	if (judging(S) && S->pol.stuck_repeat_tool && !g->repeat_fired && g->repeat >= S->pol.stuck_repeat_tool) {
		g->repeat_fired = 1;
		stuck_record(S, wr_reason_name(WR_REASON_REPEATED_TOOL_CALL),
			     wr_xasprintf("the same tool call %lld times in a row: %s (hash %016llx)",
					  (long long)g->repeat, g->call_summary, (unsigned long long)g->call_hash));
	}
}

static void on_metric(struct sup *S, json_t *o)
{
	struct agent *g = &S->ag;
	const char *name = json_string_value(json_object_get(o, "metric"));
	json_t *v = json_object_get(o, "value");
	size_t len = name ? strlen(name) : 0;
	int clean = len > 0 && len <= WR_METRIC_NAME_MAX;
	for (size_t i = 0; clean && i < len; i++)
		clean = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
	if (!clean) {
		bad_progress(S, "\"metric\" must be a name of 1 to 64 bytes without control characters");
		return;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		bad_progress(S, "\"value\" of a metric must be a whole number, not negative (a count to add up)");
		return;
	}
	if (!g->metrics)
		g->metrics = json_object();
	json_t *cur = json_object_get(g->metrics, name);
	if (!cur && json_object_size(g->metrics) >= WR_METRICS_MAX) {
		bad_progress(S, "more than 32 metric names in one attempt; this one is not counted");
		return;
	}
	wr_jset(g->metrics, name,
		json_integer(wr_add_sat(cur ? json_integer_value(cur) : 0, json_integer_value(v))));
}

int agent_line(struct sup *S, json_t *o)
{
	json_t *turn = json_object_get(o, "turn");
	int kinds = !!turn + !!json_object_get(o, "tool") + !!json_object_get(o, "metric");
	if (!kinds)
		return 0;
	if (kinds > 1 || json_object_get(o, "stage"))
		bad_progress(S, "a line is one of stage, turn, tool or metric");
	else if (turn)
		on_turn(S, turn);
	else if (json_object_get(o, "tool"))
		on_tool(S, o);
	else
		on_metric(S, o);
	return 1;
}

void agent_stage_advance(struct sup *S)
{
	/* The turn under way made progress: the count starts after it. */
	S->ag.advance_turn = S->ag.turns + 1;
	S->ag.noprog_fired = 0;
}

const struct wr_agent_counts *agent_counts(const struct sup *S, struct wr_agent_counts *c)
{
	c->turns = S->ag.turns;
	c->tool_calls = S->ag.tool_calls;
	c->metrics = S->ag.metrics;
	return c;
}
