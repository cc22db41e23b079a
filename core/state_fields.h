/* state_fields.h - the fields of the state's records, each written once.
 *
 * Each list below names every member of one struct of core/state.h, in
 * the order the snapshot encodes them, as X(KIND, member, name, arg). The
 * snapshot's encoder and decoder, the state dump (core/snapshot.c) and,
 * for workflows and the counters, the compaction marker's "state" object
 * (core/seed.c) are generated from them: a new field is one line here, and
 * the snapshot's signature (a hash of these lists) changes with it, so an
 * older snapshot is a cache miss and rebuilt. tests/unit/test-fields.c
 * checks that each list covers its struct (every byte of it is a listed
 * member or padding) and that a state with every field set survives the
 * round trip.
 *
 * name: the field's key in the dump. arg: what the kind needs, else 0.
 *
 * Kinds (snapshot encoding / dump / marker):
 *   I64     int64_t, 8 bytes
 *   INT     int held as 8 bytes
 *   FLAG    int 0 or 1, 1 byte
 *   ENUM    an enum below arg, 1 byte
 *   BREAKER enum wr_breaker_state, 1 byte; by name in the marker
 *   BOOL64  int64_t, 8 bytes; 0 or 1 when read from a marker
 *   F64     double, 8 bytes
 *   STR     char *, NULL allowed; NSTR: never NULL
 *   JV      json_t * (any value, NULL allowed; JVREQ: never NULL), in the
 *           snapshot's table of values or in place in a cold record
 *   OBJ     json_t * object or NULL, as compact JSON text
 *   STATS   an OBJ the dump puts on a line of its own ("archived
 *           workflow=NAME stats=..."): compaction adds to it, the rest of
 *           the workflow stays as it was; the last of its list
 *   INTS    int array counted by member arg
 *   STRS    char * array (strings present) counted by member arg
 *   ATTEMPTS struct wr_attempt array counted by member arg
 *   WINDOW  the breaker's window, counted by member arg (a u8)
 *   OUTS    int64_t per outcome; an object of outcome names in the marker
 *   TYPES   int64_t per event type; an object of type names in the marker
 *   POLICY, LAUNCH  the nested struct, by its own list
 *   AGENT, AGENT_OBJ  an agent total (I64, OBJ) kept in the marker's
 *           "agent" object, written when any attempt reported one
 *   LAST_TS the latest event time: a marker raises it, never lowers it
 *   ORD     int64_t, 8 bytes; not in the dump: a run's place in this
 *           state's creation order, which compaction renumbers
 *   COUNT   the count of an array (written with it)
 *   CAP     an array's allocated size: not stored, the count of arg
 *   LOCAL   a counter the marker does not hold (last_seq comes from the
 *           marker's own seq, compacted_through from its "through") */
#ifndef WR_STATE_FIELDS_H
#define WR_STATE_FIELDS_H

#define WR_POLICY_FIELDS(X)                                  \
	X(I64, timeout_ms, "timeout_ms", 0)                  \
	X(I64, kill_after_ms, "kill_after_ms", 0)            \
	X(I64, heartbeat_ms, "heartbeat_ms", 0)              \
	X(I64, lease_ms, "lease_ms", 0)                      \
	X(I64, max_attempts, "max_attempts", 0)              \
	X(I64, backoff_initial_ms, "backoff_initial_ms", 0)  \
	X(F64, backoff_factor, "backoff_factor", 0)          \
	X(I64, backoff_max_ms, "backoff_max_ms", 0)          \
	X(I64, stuck_repeat, "stuck_repeat", 0)              \
	X(I64, no_progress_ms, "no_progress_ms", 0)          \
	X(I64, no_output_ms, "no_output_ms", 0)              \
	X(INT, stuck_abort, "stuck_abort", 0)                \
	X(I64, term_signal, "term_signal", 0)                \
	X(I64, concurrency, "concurrency", 0)                \
	X(I64, deadline_ms, "deadline_ms", 0)                \
	X(I64, max_turns, "max_turns", 0)                    \
	X(I64, stuck_repeat_tool, "stuck_repeat_tool", 0)    \
	X(I64, no_progress_turns, "no_progress_turns", 0)    \
	X(INTS, no_retry_on, "no_retry_on", n_no_retry_on)   \
	X(COUNT, n_no_retry_on, "n_no_retry_on", 0)

#define WR_ATTEMPT_FIELDS(X)                                 \
	X(I64, n, "n", 0)                                    \
	X(I64, started_ts, "started_ts", 0)                  \
	X(I64, finished_ts, "finished_ts", 0)                \
	X(I64, lease_until, "lease_until", 0)                \
	X(STR, host, "host", 0)                              \
	X(STR, boot_id, "boot_id", 0)                        \
	X(I64, pid, "pid", 0)                                \
	X(I64, pid_start, "pid_start", 0)                    \
	X(I64, pgid, "pgid", 0)                              \
	X(I64, pgid_start, "pgid_start", 0)                  \
	X(FLAG, finished, "finished", 0)                     \
	X(ENUM, outcome, "outcome", WR_OUT__COUNT)           \
	X(I64, exit_code, "exit_code", 0)                    \
	X(I64, signal, "signal", 0)                          \
	X(I64, duration_ms, "duration_ms", 0)                \
	X(I64, cpu_ms, "cpu_ms", 0)                          \
	X(I64, max_rss_kb, "max_rss_kb", 0)                  \
	X(I64, output_bytes, "output_bytes", 0)              \
	X(STR, reason, "reason", 0)                          \
	X(INT, stuck, "stuck", 0)                            \
	X(I64, seq_started, "seq_started", 0)                \
	X(I64, turns, "turns", 0)                            \
	X(I64, tool_calls, "tool_calls", 0)                  \
	X(JV, metrics, "metrics", 0)

#define WR_LAUNCH_FIELDS(X)                                  \
	X(I64, attempt, "attempt", 0)                        \
	X(I64, ts, "ts", 0)                                  \
	X(I64, lease_until, "lease_until", 0)                \
	X(STR, host, "host", 0)                              \
	X(STR, boot_id, "boot_id", 0)                        \
	X(I64, pid, "pid", 0)                                \
	X(I64, pid_start, "pid_start", 0)                    \
	X(FLAG, forced, "forced", 0)                         \
	X(I64, count, "count", 0)

#define WR_RUN_FIELDS(X)                                     \
	X(NSTR, id, "id", 0)                                 \
	X(NSTR, workflow, "workflow", 0)                     \
	X(JVREQ, argv, "argv", 0)                            \
	X(NSTR, cwd, "cwd", 0)                               \
	X(JV, labels, "labels", 0)                           \
	X(POLICY, policy, "policy", 0)                       \
	X(I64, created_ts, "created_ts", 0)                  \
	X(I64, updated_ts, "updated_ts", 0)                  \
	X(I64, seq_created, "seq_created", 0)                \
	X(ENUM, status, "status", WR_ST__COUNT)              \
	X(ATTEMPTS, att, "attempt", natt)                    \
	X(COUNT, natt, "natt", 0)                            \
	X(CAP, capatt, "capatt", natt)                       \
	X(STRS, stages_done, "stages_done", nstages)         \
	X(COUNT, nstages, "nstages", 0)                      \
	X(CAP, capstages, "capstages", nstages)              \
	X(STR, stage, "stage", 0)                            \
	X(I64, recoveries, "recoveries", 0)                  \
	X(I64, decided_attempt, "decided_attempt", 0)        \
	X(I64, next_retry_ts, "next_retry_ts", 0)            \
	X(I64, first_failure_ts, "first_failure_ts", 0)      \
	X(I64, stale, "stale", 0)                            \
	X(STR, reason, "reason", 0)                          \
	X(STR, note, "note", 0)                              \
	X(INT, rejected, "rejected", 0)                      \
	X(LAUNCH, launch, "launch", 0)                       \
	X(ORD, ord, "ord", 0)

/* Workflows and counters have a fifth column: the field's key in the
 * compaction marker's "state" (its ledger format: never rename one). */
#define WR_WORKFLOW_FIELDS(X)                                                  \
	X(NSTR, name, "name", 0, "workflow")                                   \
	X(I64, running, "running", 0, "running")                               \
	X(BREAKER, breaker, "breaker", WR_BR__COUNT, "breaker")                \
	X(I64, open_until, "open_until", 0, "open_until_ms")                   \
	X(I64, reopens, "reopens", 0, "reopens")                               \
	X(I64, opens, "opens", 0, "opens")                                     \
	X(I64, half_open_trial, "half_open_trial", 0, "half_open_trial")       \
	X(WINDOW, window, "window", nwindow, "window")                         \
	X(COUNT, nwindow, "nwindow", 0, "")                                    \
	X(I64, runs, "runs", 0, "runs")                                        \
	X(I64, succeeded, "succeeded", 0, "succeeded")                         \
	X(I64, failed_final, "failed_final", 0, "failed_final")                \
	X(OUTS, finished, "finished", 0, "finished")                           \
	X(AGENT, agent_attempts, "agent_attempts", 0, "attempts")              \
	X(AGENT, agent_turns, "agent_turns", 0, "turns")                       \
	X(AGENT, agent_tool_calls, "agent_tool_calls", 0, "tool_calls")        \
	X(AGENT_OBJ, agent_metrics, "agent_metrics", 0, "metrics")             \
	X(I64, expect_every_ms, "expect_every_ms", 0, "expect_every_ms")       \
	X(I64, expect_grace_ms, "expect_grace_ms", 0, "expect_grace_ms")       \
	X(I64, expect_since, "expect_since", 0, "expect_since_ms")             \
	X(I64, last_success_ts, "last_success_ts", 0, "last_success_ms")       \
	X(I64, overdue_period, "overdue_period", 0, "overdue_period")          \
	X(BOOL64, overdue, "overdue", 0, "overdue")                            \
	X(STATS, archived, "stats", 0, "archived")

#define WR_OUTBOX_FIELDS(X)                                  \
	X(NSTR, id, "id", 0)                                 \
	X(NSTR, kind, "kind", 0)                             \
	X(NSTR, message, "message", 0)                       \
	X(STR, reason, "reason", 0)                          \
	X(STR, run, "run", 0)                                \
	X(STR, workflow, "workflow", 0)                      \
	X(JV, details, "details", 0)                         \
	X(I64, created_ts, "created_ts", 0)                  \
	X(I64, seq, "seq", 0)                                \
	X(ENUM, state, "state", WR_OB__COUNT)                \
	X(I64, attempts, "attempts", 0)                      \
	X(I64, next_at, "next_at", 0)                        \
	X(I64, lease_until, "lease_until", 0)                \
	X(STR, delivery, "delivery", 0)                      \
	X(STR, error, "error", 0)                            \
	X(I64, delivered_ts, "delivered_ts", 0)

/* The state's counters (the rest of struct wr_state is its maps and the
 * cold store's bookkeeping). */
#define WR_COUNTER_FIELDS(X)                                                   \
	X(LOCAL, last_seq, "last_seq", 0, "")                                  \
	X(LAST_TS, last_ts, "last_ts", 0, "last_ts_ms")                        \
	X(I64, events, "events", 0, "events")                                  \
	X(I64, stale, "stale", 0, "stale")                                     \
	X(I64, invalid, "invalid", 0, "invalid")                               \
	X(I64, repaired, "repaired", 0, "repaired")                            \
	X(I64, unknown_types, "unknown_types", 0, "unknown_types")             \
	X(LOCAL, compacted_through, "compacted_through", 0, "")                \
	X(TYPES, by_type, "by_type", 0, "by_type")

/* DEF(op_record, struct, list, OP4 or OP5) for each record, nested ones
 * first: op_policy, op_attempt, op_launch, op_run, op_outbox, op_workflow,
 * op_counters, OP4 and OP5 taking the fields of four and five columns. */
#define WR_STATE_RECORDS(DEF, op, OP)                                \
	DEF(op##_policy, wr_policy, WR_POLICY_FIELDS, OP##4)         \
	DEF(op##_attempt, wr_attempt, WR_ATTEMPT_FIELDS, OP##4)      \
	DEF(op##_launch, wr_launch, WR_LAUNCH_FIELDS, OP##4)         \
	DEF(op##_run, wr_run, WR_RUN_FIELDS, OP##4)                  \
	DEF(op##_outbox, wr_outbox, WR_OUTBOX_FIELDS, OP##4)         \
	DEF(op##_workflow, wr_workflow, WR_WORKFLOW_FIELDS, OP##5)   \
	DEF(op##_counters, wr_state, WR_COUNTER_FIELDS, OP##5)

#endif
