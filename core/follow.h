/* follow.h - following the ledger as it grows, like tail -F: the one loop
 * behind wr-watch follow and wr-outbox follow.
 *
 * The follower replays what is there (passed on only with from_start),
 * then waits for changes (inotify on the ledger's directory and file, a
 * JetStream consumer on a stream; a poll every 500ms without either,
 * every 2s as a safety net with it) and
 * refreshes. A compacted or replaced file is replayed from its start: an
 * event is passed on once (seq above every seq seen before the refresh),
 * and a new ledger whose seqs start again is followed from its end.
 *
 * SIGINT, SIGTERM and SIGHUP end it with 0: a normal end of a stream, as
 * journalctl -f. When the reader of stdout goes away (| head) it ends as
 * a write would have: by SIGPIPE. A refresh that fails (a file replaced
 * half-way) is warned about once and retried. */
#ifndef WR_FOLLOW_H
#define WR_FOLLOW_H

#include <stdint.h>

#include "ledger.h"

struct wr_follow {
	/* Filled in by the caller. */
	struct wr_ledger *l;   /* opened with WR_LEDGER_LAZY, not yet replayed */
	int from_start;        /* pass on the events there before, too */
	/* Called for each event new to the follower, in order; applied and why
	 * as in the ledger's on_events; last: the last event of its decision. */
	void (*on_event)(void *ctx, const struct wr_event *ev, int applied, const char *why, int last);
	void *ctx;
	/* Private. */
	int64_t after, base;
	int replaying;
};

/* Follows f->l until stopped (returns 0). Returns -1 with wr_errmsg() set
 * when the first replay fails or waiting fails. Stdout is flushed after
 * each decision. */
int wr_follow_run(struct wr_follow *f);

#endif
