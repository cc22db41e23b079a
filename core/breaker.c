/* breaker.c - circuit breaker transitions as events. */
#include "breaker.h"
#include "decide_outbox.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

json_t *wr_outbox_enqueue(json_t *events, const char *kind, const char *message, const char *reason,
			  const char *run, const char *workflow, json_t *details)
{
	json_t *ev = wr_outbox_enqueued_event(NULL, kind, message, reason, run, workflow, details);
	json_array_append_new(events, ev);
	return ev;
}

int64_t wr_breaker_cooldown(const struct wr_workflow *w)
{
	int64_t c = WR_BREAKER_COOLDOWN_MS;
	for (int64_t i = 0; w && i < w->reopens && c < WR_BREAKER_COOLDOWN_MAX_MS; i++)
		c *= 2;
	return c < WR_BREAKER_COOLDOWN_MAX_MS ? c : WR_BREAKER_COOLDOWN_MAX_MS;
}

static json_t *change(json_t *events, const char *wf, enum wr_breaker_state from, enum wr_breaker_state to,
		      double rate, int64_t open_until)
{
	json_t *ev = wr_event_new(WR_EV_BREAKER_CHANGED);
	wr_jset_str(ev, "workflow", wf);
	wr_jset_str(ev, "from", wr_breaker_name(from));
	wr_jset_str(ev, "to", wr_breaker_name(to));
	if (rate >= 0)
		wr_jset(ev, "failure_rate", json_real(rate));
	if (open_until)
		wr_jset_ts(ev, "open_until", open_until);
	json_array_append_new(events, ev);
	return ev;
}

/* The state the batch so far leaves wf's breaker in (decisions may have
 * appended a change already), and when open, until when (may be NULL). */
static enum wr_breaker_state pending(const struct wr_workflow *w, const char *wf, json_t *events,
				     int64_t *open_until)
{
	enum wr_breaker_state s = w ? w->breaker : WR_BR_CLOSED;
	if (open_until)
		*open_until = w ? w->open_until : 0;
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev)
	{
		const char *t = json_string_value(json_object_get(ev, "type"));
		const char *w2 = json_string_value(json_object_get(ev, "workflow"));
		if (t && w2 && !strcmp(t, "breaker.changed") && !strcmp(w2, wf)) {
			s = (enum wr_breaker_state)wr_breaker_from_name(json_string_value(json_object_get(ev, "to")));
			const char *ou = json_string_value(json_object_get(ev, "open_until"));
			int64_t ms = 0;
			if (open_until && (!ou || wr_ts_parse(ou, &ms) == 0))
				*open_until = ms;
		}
	}
	return s;
}

static enum wr_breaker_state pending_state(const struct wr_workflow *w, const char *wf, json_t *events)
{
	return pending(w, wf, events, NULL);
}

int wr_breaker_admit(const struct wr_state *st, const char *wf, int64_t now, json_t *events)
{
	const struct wr_workflow *w = wr_state_workflow(st, wf);
	int64_t open_until;
	enum wr_breaker_state s = pending(w, wf, events, &open_until);
	if (s == WR_BR_CLOSED)
		return 1;
	if (s == WR_BR_OPEN) {
		if (now < open_until)
			return 0;
		change(events, wf, WR_BR_OPEN, WR_BR_HALF_OPEN, -1, 0);
		return 1;
	}
	/* half open: one trial at a time */
	return !w || w->half_open_trial == 0 || w->breaker != WR_BR_HALF_OPEN;
}

static void open_it(const struct wr_workflow *w, const char *wf, enum wr_breaker_state from, double rate,
		    int64_t now, json_t *events)
{
	int64_t cd = wr_breaker_cooldown(w);
	change(events, wf, from, WR_BR_OPEN, rate, now + cd);
	char d[32], msg[512];
	snprintf(msg, sizeof msg, "circuit breaker of workflow %s opened (%.0f%% of recent attempts failed); new attempts are rejected for %s",
		 wf, rate * 100, wr_dur_format(cd, d, sizeof d));
	json_t *det = json_object();
	wr_jset(det, "failure_rate", json_real(rate));
	wr_jset_ts(det, "open_until", now + cd);
	wr_outbox_enqueue(events, "breaker_open", msg, from == WR_BR_HALF_OPEN ? "trial_failed" : "failure_rate",
			  NULL, wf, det);
}

void wr_breaker_after(const struct wr_state *st, const char *wf, enum wr_outcome o, int64_t now, json_t *events)
{
	if (o == WR_OUT_CANCELLED || o == WR_OUT_NONE)
		return;
	const struct wr_workflow *w = wr_state_workflow(st, wf);
	enum wr_breaker_state s = pending_state(w, wf, events);
	int failure = o != WR_OUT_SUCCESS;
	if (s == WR_BR_HALF_OPEN) {
		if (failure)
			open_it(w, wf, WR_BR_HALF_OPEN, 1.0, now, events);
		else
			change(events, wf, WR_BR_HALF_OPEN, WR_BR_CLOSED, 0.0, 0);
		return;
	}
	if (s != WR_BR_CLOSED)
		return;
	/* The window as it will be before this outcome: the state's, then the
	 * finishes earlier in this batch (wr-watch check ends several attempts
	 * of a workflow in one decision; each must count). The batch's last
	 * event, when a finish, is this outcome's own (wr_finish_events). */
	unsigned char win[WR_BREAKER_WINDOW];
	int nwin = 0;
	for (int i = 0; w && i < w->nwindow; i++)
		win[nwin++] = w->window[i];
	size_t ne = json_array_size(events), i;
	json_t *ev;
	json_array_foreach(events, i, ev)
	{
		const char *t = json_string_value(json_object_get(ev, "type"));
		const char *w2 = json_string_value(json_object_get(ev, "workflow"));
		if (!t || !w2 || strcmp(w2, wf))
			continue;
		const char *to = json_string_value(json_object_get(ev, "to"));
		if (!strcmp(t, "breaker.changed") && to && !strcmp(to, "closed"))
			nwin = 0; /* the reducer empties the window on close */
		if (strcmp(t, "attempt.finished") || i + 1 == ne)
			continue;
		const char *oc = json_string_value(json_object_get(ev, "outcome"));
		if (!oc || !strcmp(oc, "cancelled"))
			continue;
		if (nwin == WR_BREAKER_WINDOW) {
			memmove(win, win + 1, WR_BREAKER_WINDOW - 1);
			nwin--;
		}
		win[nwin++] = strcmp(oc, "success") != 0;
	}
	int n = 0, fails = 0;
	for (int k = nwin == WR_BREAKER_WINDOW ? 1 : 0; k < nwin; k++) {
		n++;
		fails += win[k];
	}
	n++;
	fails += failure;
	double rate = (double)fails / n;
	if (failure && n >= WR_BREAKER_MIN && rate >= WR_BREAKER_RATE)
		open_it(w, wf, WR_BR_CLOSED, rate, now, events);
}

int wr_breaker_reset(const struct wr_state *st, const char *wf, json_t *events)
{
	const struct wr_workflow *w = wr_state_workflow(st, wf);
	enum wr_breaker_state s = pending_state(w, wf, events);
	if (s == WR_BR_CLOSED)
		return -1;
	change(events, wf, s, WR_BR_CLOSED, -1, 0);
	return 0;
}

const char *wr_breaker_launch_wait(const struct wr_workflow *w, int64_t now, int trial_launched, int64_t *until)
{
	*until = 0;
	if (!w || w->breaker == WR_BR_CLOSED)
		return NULL;
	if (w->breaker == WR_BR_OPEN && now < w->open_until) {
		*until = w->open_until;
		return "breaker_open";
	}
	if (w->breaker == WR_BR_HALF_OPEN && w->half_open_trial > 0)
		return "breaker_trial_running";
	return trial_launched ? "breaker_trial_launched" : NULL;
}
