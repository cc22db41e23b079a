/* words.c - events in words for people (see words.h). */
#include <string.h>

#include "uuid.h"
#include "timefmt.h"
#include "words.h"

static void add_ts(struct wr_buf *b, const struct wr_event *ev, const char *key)
{
	const char *s = wr_ev_str(ev, key);
	if (s)
		wr_buf_addclean(b, s);
}

static void add_dur(struct wr_buf *b, int64_t ms)
{
	char d[32];
	wr_buf_addstr(b, wr_dur_format(ms, d, sizeof d));
}

/* ", 12 turns, 30 tool calls, tokens 5100": an agent's counts, when any. */
void wr_words_agent(struct wr_buf *b, int64_t turns, int64_t tools, json_t *metrics)
{
	if (!turns && !tools && !json_object_size(metrics))
		return;
	wr_buf_addf(b, ", %lld turn%s, %lld tool call%s", (long long)turns, turns == 1 ? "" : "s", (long long)tools,
		    tools == 1 ? "" : "s");
	const char *k;
	json_t *v;
	json_object_foreach(metrics, k, v)
	{
		wr_buf_addstr(b, ", ");
		wr_buf_addclean(b, k);
		wr_buf_addf(b, " %lld", (long long)json_integer_value(v));
	}
}

static void add_agent_ev(struct wr_buf *b, const struct wr_event *ev)
{
	wr_words_agent(b, wr_ev_int(ev, "turns", 0), wr_ev_int(ev, "tool_calls", 0), wr_ev_json(ev, "metrics"));
}

/* run.created and the attempt's events; 0 when ev is not one of them. */
static int words_run(struct wr_buf *b, const struct wr_event *ev)
{
	const char *s;
	switch (ev->type) {
	case WR_EV_RUN_CREATED: {
		json_t *argv = wr_ev_json(ev, "argv"), *v;
		size_t i;
		json_array_foreach(argv, i, v)
		{
			if (i)
				wr_buf_addstr(b, " ");
			wr_buf_addclean(b, json_string_value(v));
		}
		wr_buf_addstr(b, "  (in ");
		wr_buf_addclean(b, wr_ev_str(ev, "cwd"));
		wr_buf_addstr(b, ")");
		break;
	}
	case WR_EV_ATTEMPT_STARTED:
		wr_buf_addf(b, "attempt %lld on ", (long long)ev->attempt);
		wr_buf_addclean(b, wr_ev_str(ev, "host"));
		wr_buf_addf(b, " pid %lld, lease until ", (long long)wr_ev_int(ev, "pid", 0));
		add_ts(b, ev, "lease_until");
		if (json_array_size(wr_ev_json(ev, "resume")))
			wr_buf_addf(b, ", resuming after %zu stage(s)", json_array_size(wr_ev_json(ev, "resume")));
		break;
	case WR_EV_ATTEMPT_HEARTBEAT:
		wr_buf_addf(b, "attempt %lld, lease until ", (long long)ev->attempt);
		add_ts(b, ev, "lease_until");
		add_agent_ev(b, ev);
		break;
	case WR_EV_ATTEMPT_PROGRESS:
		wr_buf_addf(b, "attempt %lld stage ", (long long)ev->attempt);
		wr_buf_addclean(b, wr_ev_str(ev, "stage"));
		wr_buf_addstr(b, " ");
		wr_buf_addclean(b, wr_ev_str(ev, "status"));
		if ((s = wr_ev_str(ev, "detail"))) {
			wr_buf_addstr(b, ": ");
			wr_buf_addclean(b, s);
		}
		break;
	case WR_EV_ATTEMPT_STUCK:
		wr_buf_addf(b, "attempt %lld stuck (", (long long)ev->attempt);
		wr_buf_addclean(b, wr_ev_str(ev, "reason"));
		wr_buf_addstr(b, "), action ");
		wr_buf_addclean(b, wr_ev_str(ev, "action"));
		add_agent_ev(b, ev);
		if ((s = wr_ev_str(ev, "detail"))) {
			wr_buf_addstr(b, ": ");
			wr_buf_addclean(b, s);
		}
		break;
	case WR_EV_ATTEMPT_FINISHED: {
		wr_buf_addf(b, "attempt %lld ", (long long)ev->attempt);
		wr_buf_addclean(b, wr_ev_str(ev, "outcome"));
		int64_t code = wr_ev_int(ev, "exit_code", -1), sig = wr_ev_int(ev, "signal", 0);
		if (sig > 0)
			wr_buf_addf(b, ", signal %lld", (long long)sig);
		else if (code >= 0)
			wr_buf_addf(b, ", exit %lld", (long long)code);
		int64_t dur = wr_ev_int(ev, "duration_ms", -1);
		if (dur >= 0) {
			wr_buf_addstr(b, " after ");
			add_dur(b, dur);
		}
		add_agent_ev(b, ev);
		if ((s = wr_ev_str(ev, "reason_code"))) {
			wr_buf_addstr(b, " (");
			wr_buf_addclean(b, s);
			wr_buf_addstr(b, ")");
		}
		if ((s = wr_ev_str(ev, "reason"))) {
			wr_buf_addstr(b, ": ");
			wr_buf_addclean(b, s);
		}
		break;
	}
	default:
		return 0;
	}
	return 1;
}

/* A workflow's events: its breaker and its expected schedule; 0 when ev
 * is not one of them. */
static int words_workflow(struct wr_buf *b, const struct wr_event *ev)
{
	const char *s;
	switch (ev->type) {
	case WR_EV_BREAKER_CHANGED:
		wr_buf_addclean(b, ev->workflow);
		wr_buf_addstr(b, ": ");
		wr_buf_addclean(b, wr_ev_str(ev, "from"));
		wr_buf_addstr(b, " -> ");
		wr_buf_addclean(b, wr_ev_str(ev, "to"));
		if ((s = wr_ev_str(ev, "open_until"))) {
			wr_buf_addstr(b, " until ");
			wr_buf_addclean(b, s);
		}
		break;
	case WR_EV_WORKFLOW_EXPECTED:
		wr_buf_addclean(b, ev->workflow);
		if (wr_ev_int(ev, "every_ms", 0) > 0) {
			wr_buf_addstr(b, ": expected every ");
			add_dur(b, wr_ev_int(ev, "every_ms", 0));
			wr_buf_addstr(b, ", grace ");
			add_dur(b, wr_ev_int(ev, "grace_ms", 0));
		} else {
			wr_buf_addstr(b, ": expectation removed");
		}
		break;
	case WR_EV_WORKFLOW_OVERDUE:
		wr_buf_addclean(b, ev->workflow);
		wr_buf_addf(b, ": overdue, period %lld due ", (long long)wr_ev_int(ev, "period", 0));
		add_ts(b, ev, "due");
		break;
	default:
		return 0;
	}
	return 1;
}

/* An outbox entry's events (WR_EV_OUTBOX_ENQUEUED to _RETRIED, in the
 * order of event.h): what it says when enqueued, then its id and error. */
static void words_outbox(struct wr_buf *b, const struct wr_event *ev)
{
	const char *s;
	if (ev->type == WR_EV_OUTBOX_ENQUEUED) {
		wr_buf_addclean(b, wr_ev_str(ev, "kind"));
		wr_buf_addstr(b, ": ");
		wr_buf_addclean(b, wr_ev_str(ev, "message"));
		return;
	}
	wr_buf_addstr(b, "entry ");
	wr_buf_addclean(b, wr_short_id(wr_ev_str(ev, "id")));
	if ((s = wr_ev_str(ev, "error"))) {
		wr_buf_addstr(b, ": ");
		wr_buf_addclean(b, s);
	}
}

/* The other events: decisions, repairs. */
static void words_other(struct wr_buf *b, const struct wr_event *ev)
{
	const char *s;
	if (ev->type >= WR_EV_OUTBOX_ENQUEUED && ev->type <= WR_EV_OUTBOX_RETRIED) {
		words_outbox(b, ev);
		return;
	}
	switch (ev->type) {
	case WR_EV_ATTEMPT_REJECTED:
	case WR_EV_RUN_BLOCKED:
	case WR_EV_RUN_CANCELLED:
		wr_buf_addclean(b, wr_ev_str(ev, "reason"));
		break;
	case WR_EV_RUN_UNBLOCKED:
		wr_buf_addclean(b, wr_ev_str(ev, "note"));
		break;
	case WR_EV_RUN_LAUNCHED:
		wr_buf_addf(b, "attempt %lld: wr-run pid %lld on ", (long long)ev->attempt, (long long)wr_ev_int(ev, "pid", 0));
		wr_buf_addclean(b, wr_ev_str(ev, "host"));
		if (!strcmp(wr_ev_str(ev, "mode"), "forced"))
			wr_buf_addstr(b, " (forced: before its backoff ends)");
		break;
	case WR_EV_RECOVERY_DECIDED:
		wr_buf_addclean(b, wr_ev_str(ev, "action"));
		if (ev->attempt)
			wr_buf_addf(b, " after attempt %lld", (long long)ev->attempt);
		if ((s = wr_ev_str(ev, "not_before"))) {
			wr_buf_addstr(b, ", not before ");
			wr_buf_addclean(b, s);
		}
		wr_buf_addf(b, " (recoveries %lld)", (long long)wr_ev_int(ev, "recoveries", 0));
		if ((s = wr_ev_str(ev, "reason"))) {
			wr_buf_addstr(b, ": ");
			wr_buf_addclean(b, s);
		}
		break;
	case WR_EV_LEDGER_REPAIRED:
		wr_buf_addf(b, "torn tail of %lld bytes moved to ", (long long)wr_ev_int(ev, "bytes", 0));
		wr_buf_addclean(b, wr_ev_str(ev, "quarantine"));
		break;
	default:
		break;
	}
}

char *wr_words_event(const struct wr_event *ev)
{
	struct wr_buf b = {0};
	if (!words_run(&b, ev) && !words_workflow(&b, ev))
		words_other(&b, ev);
	return b.p ? b.p : wr_xstrdup("");
}

void wr_words_breaker(struct wr_buf *b, const struct wr_workflow *w, int64_t now)
{
	char ts[WR_TS_LEN], d[32];
	if (!w || w->breaker == WR_BR_CLOSED) {
		wr_buf_addstr(b, "closed");
	} else if (w->breaker == WR_BR_OPEN && now < w->open_until) {
		wr_buf_addf(b, "open until %s (in %s): starts are refused until then", wr_ts_format(w->open_until, ts),
			    wr_dur_format((w->open_until - now + 999) / 1000 * 1000, d, sizeof d));
	} else if (w->breaker == WR_BR_OPEN) {
		wr_buf_addf(b, "open, its cooldown over since %s: the next start is a trial", wr_ts_format(w->open_until, ts));
	} else if (w->half_open_trial > 0) {
		wr_buf_addstr(b, "half open: a trial start is running; the others wait for its outcome");
	} else {
		wr_buf_addstr(b, "half open: the next start is a trial");
	}
}
