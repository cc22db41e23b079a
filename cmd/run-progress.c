/* run-progress.c - wr-run's progress fd (WR_PROGRESS_FD): one JSON object a
 * line, {"stage":"fetch","status":"started|done"}, recorded as progress;
 * the agent lines of version 2 (turn, tool, metric) go to run-agent.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "timefmt.h"
#include "run.h"

void bad_progress(struct sup *S, const char *why)
{
	S->bad_progress++;
	if (S->bad_progress <= MAX_WARN_BAD)
		wr_warn("ignoring a bad progress line on WR_PROGRESS_FD: %s%s", why,
			S->bad_progress == MAX_WARN_BAD ? " (further bad lines are ignored silently)" : "");
}

static void progress_line(struct sup *S, char *line, size_t n)
{
	if (n && line[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	json_error_t jerr;
	json_t *o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		char why[300];
		snprintf(why, sizeof why, "not JSON: %s", jerr.text);
		bad_progress(S, why);
		return;
	}
	if (json_is_object(o) && agent_line(S, o)) {
		json_decref(o);
		return;
	}
	const char *stage = json_string_value(json_object_get(o, "stage"));
	const char *status = json_string_value(json_object_get(o, "status"));
	json_t *detail = json_object_get(o, "detail");
	if (!json_is_object(o))
		bad_progress(S, "expected an object like {\"stage\":\"fetch\",\"status\":\"done\"}");
	else if (!stage || !*stage || strlen(stage) > 256 || strchr(stage, ','))
		bad_progress(S, "\"stage\" must be a non-empty string of at most 256 bytes without ','");
	else if (!status || (strcmp(status, "started") && strcmp(status, "done")))
		bad_progress(S, "\"status\" must be \"started\" or \"done\"");
	else if (detail && !json_is_null(detail) && !json_is_string(detail))
		bad_progress(S, "\"detail\" must be a string");
	else {
		WR_GROW(S->items, S->capitems, S->nitems + 1);
		struct wr_progress_item *it = &S->items[S->nitems++];
		it->stage = wr_xstrdup(stage);
		it->done = !strcmp(status, "done");
		it->detail = json_is_string(detail) ? wr_xstrdup(json_string_value(detail)) : NULL;
		agent_stage_advance(S); /* here, in line order with the turn lines */
	}
	json_decref(o);
}

static void progress_commit(struct sup *S)
{
	if (!S->nitems)
		return;
	struct wr_beat_req q = {S->run, S->attempt, 0, S->items, S->nitems, NULL, 0};
	if (wr_ledger_commit(&S->l, wr_decide_run_beat, &q) < 0)
		wr_warn("unable to record progress: %s", wr_errmsg());
	else if (q.fenced)
		S->fenced = 1;
	for (size_t i = 0; i < S->nitems; i++) {
		free(S->items[i].stage);
		free(S->items[i].detail);
	}
	S->nitems = 0;
	S->last_progress = wr_mono_ms();
}

/* Reads progress lines; 1 some came, 0 none now, -1 EOF. */
int progress_read(struct sup *S)
{
	char buf[16384];
	ssize_t n = read(S->c.fd3, buf, sizeof buf);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (S->pskip)
				bad_progress(S, "line longer than 64 KiB");
			else
				progress_line(S, S->pline, S->plen);
			S->plen = 0;
			S->pskip = 0;
		} else if (S->plen < PROGRESS_CAP) {
			S->pline[S->plen++] = buf[i];
		} else {
			S->pskip = 1;
		}
	}
	progress_commit(S);
	return 1;
}
