/* decide.h - decision pieces shared by several tools.
 *
 * A decision is a pure function (state, now, request) -> events, run by
 * wr_ledger_commit under the lock. Each tool's decisions live in
 * core/decide_TOOL.c; what more than one tool records the same way is here:
 * how an attempt ends (attempt.finished, the breaker's reaction, and the
 * outbox entry the outcome calls for, all in the caller's one batch). */
#ifndef WR_DECIDE_H
#define WR_DECIDE_H

#include <jansson.h>
#include <stdint.h>

#include "backoff.h"
#include "breaker.h"
#include "state.h"
#include "uuid.h"

/* What an agent reported on the progress channel so far in the attempt:
 * turns ended, tool calls, metrics summed (object name -> integer,
 * borrowed; NULL or empty when none). All zero: not an agent. */
struct wr_agent_counts {
	int64_t turns, tool_calls;
	json_t *metrics;
};

/* Adds "turns", "tool_calls" and "metrics" to an attempt event when c
 * holds any of them (c may be NULL). */
void wr_agent_counts_set(json_t *ev, const struct wr_agent_counts *c);

struct wr_finish {
	int64_t attempt;
	enum wr_outcome outcome;
	int64_t exit_code;         /* -1: none (killed, lost) */
	int64_t signal;            /* 0: none */
	int64_t duration_ms;       /* -1: from the attempt's start to now */
	int64_t cpu_ms, max_rss_kb, output_bytes; /* -1: unknown, left out */
	const char *reason;        /* may be NULL */
	const char *code;          /* wr_reason_name() token of a stop, or NULL */
	struct wr_agent_counts agent;
	/* The tail of what the attempt printed (core/outlog.h), borrowed, or
	 * NULL: details.output of a timeout, stuck, lost or failed entry. */
	json_t *output;
};

/* The attempt.finished event of f alone (no breaker change, no outbox
 * entry), for attempt f->attempt of r, live or not: its duration from that
 * attempt's start when f has none. A new reference. */
json_t *wr_finished_event(const struct wr_run *r, const struct wr_finish *f, int64_t now);

/* Appends to events the end of r's live attempt: attempt.finished, the
 * breaker change it causes, and the outbox entry its outcome calls for
 * (timeout, stuck, lost, failed when no retry can follow, cancelled,
 * recovered on a success after failures); the entries of an attempt that
 * failed (timeout, stuck, lost, failed) carry f->output as details.output. The entry's reason is a machine
 * token (f->code, else timeout, lost, cancelled, cannot_run, signal,
 * exit_code, recovered), its message the sentence, and details.detail
 * f->reason, so that a router (workrail) can switch on the reason. Returns 0, or -1 with wr_seterr
 * when f->attempt is not r's live attempt (stale: nothing appended). */
int wr_finish_events(const struct wr_state *st, const struct wr_run *r, const struct wr_finish *f, int64_t now,
		     json_t *events);

/* 1 when no retry can follow a failure of attempt n of r with this exit
 * code: the command could not be run (126, 127: wr_exit_not_runnable),
 * max attempts used, exit code in no_retry_on, or deadline passed. */
/* 1 for 126 (cannot execute) and 127 (not found), as timeout(1) and the
 * shell exit: another attempt would fail the same way, so it never gets
 * one by default (a human may: wr-recover retry --force). */
int wr_exit_not_runnable(int64_t exit_code);
int wr_failure_is_final(const struct wr_run *r, int64_t n, int64_t exit_code, int64_t now);

/* A process of an event (attempt.started's supervisor, run.launched's
 * wr-run): host, boot_id (when known), pid, pid_start. */
void wr_jset_process(json_t *ev, const char *host, const char *boot_id, int64_t pid, int64_t pid_start);

#endif
