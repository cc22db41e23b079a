/* run-tell.c - what wr-run says to the person at the terminal: the run's id
 * as it starts (--print-id, and always on a terminal, as systemd-run says
 * "Running as unit"), and after a failed attempt when wr-recover would
 * retry it and how to stop that. */
#include <stdio.h>
#include <unistd.h>

#include "decide.h"
#include "decide_recover.h"
#include "err.h"
#include "timefmt.h"
#include "run.h"

int tell_id_wanted(const struct opts *o)
{
	return o->print_id || (!o->quiet_on_success && isatty(STDERR_FILENO));
}

void tell_started(const struct sup *S)
{
	wr_warn("running as run %s, attempt %lld", S->run, (long long)S->attempt);
}

void tell_retry(struct sup *S)
{
	if (!isatty(STDERR_FILENO))
		return;
	int64_t now = wr_now_ms(), nb;
	const struct wr_run *r = wr_state_run(wr_ledger_state(&S->l), S->run);
	if (!wr_recover_would_retry(wr_ledger_state(&S->l), r, now, &nb))
		return;
	char when[WR_TS_LEN + 64];
	wr_warn("wr-recover will retry run %s (attempt %lld of %lld) not before %s; to stop that: wr-recover cancel %s",
		S->run, (long long)r->natt + 1, (long long)r->policy.max_attempts,
		wr_when_format(nb, now, when, sizeof when), wr_short_id(S->run));
}
