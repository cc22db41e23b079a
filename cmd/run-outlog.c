/* run-outlog.c - wr-run's side of the output logs (core/outlog.h): each
 * stream into its ring as it passes through, the live log rewritten at
 * most once a second, the final log written before the end is recorded
 * (so a reader that sees the end finds it; an attempt that printed
 * nothing has none), and the tail of the output
 * for the notifications of a failed or stuck attempt. */
#include <stdlib.h>

#include "err.h"
#include "timefmt.h"
#include "run.h"

#define OUTLOG_EVERY_MS 1000

/* The log cannot be written: warned once, the command goes on, the
 * rings still give the notifications their tail. */
static void outlog_failed(struct sup *S)
{
	wr_warn("%s; the command goes on without its output log", wr_errmsg());
	free(S->log.path);
	S->log.path = NULL;
}

void outlog_start(struct sup *S)
{
	/* No file until there is output (wr-watch logs --follow waits for
	 * it while the attempt lives): `wr-run -- true` writes none. */
	if (wr_outlog_open(&S->log, wr_ledger_name(&S->l), S->run, S->attempt) < 0)
		outlog_failed(S);
	S->log.saved_at = wr_mono_ms();
}

void outlog_output(struct sup *S, const struct stream *s, const char *p, size_t n)
{
	wr_outlog_add(&S->log, s == &S->st[1] ? WR_OUTLOG_STDERR : WR_OUTLOG_STDOUT, p, n);
}

int64_t outlog_next(const struct sup *S)
{
	return S->log.path && S->log.dirty ? S->log.saved_at + OUTLOG_EVERY_MS : 0;
}

void outlog_tick(struct sup *S, int64_t now)
{
	if (wr_outlog_tick(&S->log, now, OUTLOG_EVERY_MS) < 0)
		outlog_failed(S);
}

void outlog_end(struct sup *S, struct wr_finish *fin)
{
	if (wr_outlog_save(&S->log, 1) < 0)
		outlog_failed(S);
	fin->output = wr_outlog_tail(&S->log);
}
