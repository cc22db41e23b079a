/* prom.h - the state as Prometheus metrics, in the text exposition format
 * (version 0.0.4) that node_exporter's textfile collector reads:
 * wr-watch stats --format prometheus [--output FILE].
 *
 * Metrics (names follow Prometheus conventions: wr_ prefix, base units,
 * _total for counters; label values escaped as the format requires):
 *   wr_runs_total{workflow}                    counter  runs created
 *   wr_attempts_total{workflow,outcome}        counter  attempts finished
 *   wr_runs{workflow,status}                   gauge    runs running,
 *                                                       waiting to retry,
 *                                                       blocked now
 *   wr_last_attempt_timestamp_seconds{workflow} gauge   start of the latest
 *   wr_last_success_timestamp_seconds{workflow} gauge   end of the latest
 *                                                       successful attempt
 *   wr_attempt_duration_seconds{workflow}      summary  successful attempts
 *                                                       (quantiles 0.5, 0.95)
 *   wr_breaker_state{workflow,state}           gauge    1 for the state now
 *   wr_breaker_open_until_timestamp_seconds{workflow} gauge (open only)
 *   wr_breaker_opens_total{workflow}           counter
 *   wr_outbox_entries{workflow,state}          gauge    notifications
 *   wr_workflow_overdue{workflow}              gauge    1 overdue now, else 0
 *   wr_workflow_overdue_periods{workflow}      gauge    periods missed
 *   wr_workflow_expected_every_seconds{workflow},       the expectation
 *   wr_workflow_expected_grace_seconds{workflow} gauge  (wr-watch expect)
 *   wr_workflow_next_due_timestamp_seconds{workflow} gauge; these five only
 *                                                       for workflows with an
 *                                                       expected schedule
 *   wr_agent_attempts_total{workflow},         counter  agent sessions (progress
 *   wr_agent_turns_total{workflow},                     protocol 2), over
 *   wr_agent_tool_calls_total{workflow},                finished attempts;
 *   wr_agent_metric_total{workflow,metric}              only when any has them
 *   wr_ledger_events_total, wr_ledger_stale_events_total,
 *   wr_ledger_invalid_events_total             counter
 *
 * The counters come from the workflow totals, which a compaction keeps
 * (core/compact.h), so they never go back; the gauges, the timestamps and
 * the summary read the runs in the live ledger. No sample carries a
 * timestamp: the textfile collector refuses them. */
#ifndef WR_PROM_H
#define WR_PROM_H

#include "state.h"
#include "util.h"

/* Appends the exposition of st as of now (ms since the epoch: the
 * expected schedules' figures) to b; only workflow when not NULL. */
void wr_prom_write(struct wr_buf *b, const struct wr_state *st, const char *workflow, int64_t now);

#endif
