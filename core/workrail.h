/* workrail.h - the outbox.jsonl format of workrail, both ways: wr-outbox
 * import reads its lines into outbox entries, and list/follow --format
 * workrail print entries as its lines.
 *
 * A line is a JSON object {id, kind, message, timestamp, workflowId,
 * reason, issueSummaries}. On import the id must be 1 to 128 of A-Z a-z
 * 0-9 . _ : - and not start with '-' (it reaches notifiers' headers and
 * arguments); a kind wr does not know becomes "custom" with the original
 * in details.workrail_kind; timestamp and issueSummaries are kept in
 * details, and fields workrail may add later in details.extra, so that
 * nothing is dropped. On export an imported entry gets back its kind and
 * timestamp, and "reason" is the machine token (details.reason shaped as
 * [a-z][a-z_]*, as in share/jq/workrail-outbox.jq) when the entry has one.
 * Pure: no I/O, no clock. */
#ifndef WR_WORKRAIL_H
#define WR_WORKRAIL_H

#include <jansson.h>
#include <stddef.h>

#include "state.h"

/* One workrail line (line[0..len)) as an outbox.enqueued event without a
 * seq, ts or lease (checked as the ledger will check it), or NULL with why
 * (nwhy bytes) saying what is wrong: the column of a JSON error, or the
 * field. */
json_t *wr_workrail_entry(const char *line, size_t len, char *why, size_t nwhy);
/* The entry o as a workrail line (a new object). */
json_t *wr_workrail_line(const struct wr_outbox *o);

#endif
