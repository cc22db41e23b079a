/* view.c - the state for people (see view.h). */
#include "view.h"

#include <stdlib.h>
#include <string.h>

#include "uuid.h"
#include "decide_check.h"
#include "output.h"
#include "sanitize.h"
#include "timefmt.h"
#include "words.h"

const char *wr_view_status_color(enum wr_status s)
{
	switch (s) {
	case WR_ST_RUNNING:
		return WR_BLUE;
	case WR_ST_SUCCEEDED:
		return WR_GREEN;
	case WR_ST_FAILED:
		return WR_RED;
	case WR_ST_RETRY_WAIT:
		return WR_YELLOW;
	case WR_ST_BLOCKED:
		return WR_MAGENTA;
	default:
		return WR_DIM;
	}
}

const char *wr_view_when(const struct wr_view *v, int64_t now, int64_t ts, char *buf, size_t n)
{
	if (!ts)
		return NULL;
	if (v->relative) {
		/* Two units are enough at a glance: 1d15h, 17h49m, 44m26s. */
		int64_t d = now > ts ? now - ts : ts - now, unit = 1000;
		if (d >= 86400000)
			unit = 3600000;
		else if (d >= 3600000)
			unit = 60000;
		d = (d + unit / 2) / unit * unit;
		return wr_out_ago(now, now > ts ? now - d : now + d, buf, n);
	}
	if (n < WR_TS_LEN)
		return NULL;
	return wr_ts_format(ts, buf);
}

static int workflow_shown(const struct wr_view *v, const char *wf)
{
	return !v->workflow || (wf && !strcmp(v->workflow, wf));
}

static int labels_shown(const struct wr_view *v, const struct wr_run *r)
{
	return !v->labels || wr_label_filter_match(v->labels, r->labels);
}

/* ---- runs ---- */

static void outcome_text(struct wr_buf *b, const struct wr_attempt *a)
{
	char d[32];
	wr_buf_addstr(b, wr_outcome_name(a->outcome));
	if (a->signal > 0)
		wr_buf_addf(b, ", signal %lld", (long long)a->signal);
	else if (a->exit_code >= 0 && a->outcome != WR_OUT_SUCCESS)
		wr_buf_addf(b, ", exit %lld", (long long)a->exit_code);
	if (a->outcome == WR_OUT_TIMEOUT || a->outcome == WR_OUT_SUCCESS)
		wr_buf_addf(b, " after %s", wr_dur_format(a->duration_ms, d, sizeof d));
	if (a->reason && a->outcome != WR_OUT_SUCCESS) {
		wr_buf_addstr(b, ": ");
		wr_buf_addclean(b, a->reason);
	}
}

char *wr_view_run_note(const struct wr_run *r, int64_t now)
{
	struct wr_buf b = {0};
	const struct wr_attempt *a = wr_run_current(r);
	switch (r->status) {
	case WR_ST_RUNNING:
		if (!a || a->finished)
			wr_buf_addstr(&b, "waiting to start");
		else if (a->lease_until && now > a->lease_until)
			wr_buf_addstr(&b, "lease expired; see wr-watch check");
		break;
	case WR_ST_FAILED:
	case WR_ST_RETRY_WAIT:
		if (r->rejected) {
			wr_buf_addstr(&b, "rejected: ");
			wr_buf_addclean(&b, r->reason);
		} else if (a && a->finished) {
			outcome_text(&b, a);
		}
		break;
	case WR_ST_BLOCKED:
	case WR_ST_CANCELLED:
	case WR_ST_REJECTED:
		wr_buf_addclean(&b, r->reason);
		break;
	case WR_ST_SUCCEEDED:
		if (a)
			outcome_text(&b, a);
		break;
	default:
		break;
	}
	if (r->stale)
		wr_buf_addf(&b, "%s%lld stale event%s", b.len ? "; " : "", (long long)r->stale, r->stale == 1 ? "" : "s");
	return b.len ? b.p : (wr_buf_free(&b), NULL);
}

static void run_row(const struct wr_view *v, struct wr_table *t, const struct wr_run *r, int64_t now)
{
	char att[48], created[WR_TS_LEN], lease[WR_TS_LEN];
	snprintf(att, sizeof att, "%zu/%lld", r->natt, (long long)r->policy.max_attempts);
	const struct wr_attempt *a = wr_run_current(r);
	const char *lz = NULL;
	if (r->status == WR_ST_RUNNING && a && !a->finished)
		lz = wr_view_when(v, now, a->lease_until, lease, sizeof lease);
	else if (r->status == WR_ST_RETRY_WAIT)
		lz = wr_view_when(v, now, r->next_retry_ts, lease, sizeof lease);
	char *note = wr_view_run_note(r, now);
	const char *cells[8] = {wr_short_id(r->id), r->workflow, wr_status_name(r->status), att,
				wr_view_when(v, now, r->created_ts, created, sizeof created), r->stage, lz, note};
	wr_table_row(t, cells);
	wr_table_color(t, 2, wr_view_status_color(r->status));
	free(note);
}

void wr_view_runs(const struct wr_view *v, const struct wr_state *st, unsigned mask, int64_t now,
		  struct wr_view_count *count)
{
	static const char *const head[] = {"RUN", "WORKFLOW", "STATUS", "ATTEMPT", "CREATED", "STAGE", "LEASE/RETRY", "NOTE"};
	struct wr_table t;
	wr_table_init(&t, 8, head);
	t.maxw[1] = 24;
	t.maxw[5] = 16;
	t.maxw[7] = 48;
	memset(count, 0, sizeof *count);
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *r; (r = wr_runs_next(&it));) {
		if (!workflow_shown(v, r->workflow) || !labels_shown(v, r))
			continue;
		count->total++;
		if (!(mask & (1u << r->status))) {
			count->rejected += r->status == WR_ST_REJECTED;
			continue;
		}
		count->shown++;
		if (v->json)
			wr_out_jsonf(v->f, wr_run_to_json(r));
		else
			run_row(v, &t, r, now);
	}
	if (t.rows) /* JSON mode adds no rows: nothing to free */
		wr_table_print(&t, v->f);
}

/* A line in a colour, when colour is wanted. */
static void colored_line(const struct wr_view *v, const char *color, const char *line)
{
	int c = wr_out_color(v->f);
	fprintf(v->f, "%s%s%s\n", c ? color : "", line, c ? "\033[0m" : "");
}

void wr_view_workflows(const struct wr_view *v, const struct wr_state *st, int64_t now)
{
	for (size_t i = 0; i < st->workflows.n; i++) {
		const struct wr_workflow *w = wr_map_at(&st->workflows, i);
		int64_t due, missed = workflow_shown(v, w->name) ? wr_expect_missed(w, now, &due) : 0;
		if (!missed)
			continue;
		char d[WR_TS_LEN], every[32];
		struct wr_buf b = {0};
		wr_buf_addstr(&b, "overdue: ");
		wr_buf_addclean(&b, w->name);
		wr_buf_addf(&b, " was due %s (every %s), %lld period%s missed", wr_view_when(v, now, due, d, sizeof d),
			    wr_dur_format(w->expect_every_ms, every, sizeof every), (long long)missed,
			    missed == 1 ? "" : "s");
		colored_line(v, WR_RED, b.p);
		wr_buf_free(&b);
	}
	for (size_t i = 0; i < st->workflows.n; i++) {
		const struct wr_workflow *w = wr_map_at(&st->workflows, i);
		if (w->breaker == WR_BR_CLOSED || !workflow_shown(v, w->name))
			continue;
		struct wr_buf b = {0};
		wr_buf_addstr(&b, "breaker: ");
		wr_buf_addclean(&b, w->name);
		wr_buf_addstr(&b, " ");
		wr_words_breaker(&b, w, now);
		wr_buf_addstr(&b, "; 'wr-recover breaker ");
		wr_buf_addclean(&b, w->name);
		wr_buf_addstr(&b, " reset' closes it");
		colored_line(v, WR_YELLOW, b.p);
		wr_buf_free(&b);
	}
}

/* ---- expectations ---- */

json_t *wr_view_expect_json(const struct wr_workflow *w, int64_t now)
{
	char ts[WR_TS_LEN];
	int64_t due, missed = wr_expect_missed(w, now, &due);
	json_t *o = json_object();
	wr_jset_str(o, "workflow", w->name);
	wr_jset_int(o, "every_ms", w->expect_every_ms);
	wr_jset_int(o, "grace_ms", w->expect_grace_ms);
	wr_jset_str(o, "since", wr_ts_format(w->expect_since, ts));
	wr_jset(o, "last_success", w->last_success_ts ? json_string(wr_ts_format(w->last_success_ts, ts)) : json_null());
	wr_jset_str(o, "next_due", wr_ts_format(missed ? due + w->expect_every_ms : due, ts));
	wr_jset(o, "overdue", json_boolean(missed > 0));
	wr_jset_int(o, "period", missed);
	return o;
}

size_t wr_view_expectations(const struct wr_view *v, const struct wr_state *st, int64_t now)
{
	static const char *const head[] = {"WORKFLOW", "EVERY", "GRACE", "LAST SUCCESS", "NEXT DUE", "STATE"};
	struct wr_table t;
	wr_table_init(&t, 6, head);
	t.maxw[0] = 24;
	size_t n = 0;
	for (size_t i = 0; i < st->workflows.n; i++) {
		const struct wr_workflow *w = wr_map_at(&st->workflows, i);
		if (w->expect_every_ms <= 0)
			continue;
		n++;
		if (v->json) {
			wr_out_jsonf(v->f, wr_view_expect_json(w, now));
			continue;
		}
		char every[32], grace[32], last[WR_TS_LEN], next[WR_TS_LEN], state[64];
		int64_t due, missed = wr_expect_missed(w, now, &due);
		if (missed)
			snprintf(state, sizeof state, "overdue (%lld missed)", (long long)missed);
		const char *cells[6] = {w->name, wr_dur_format(w->expect_every_ms, every, sizeof every),
					wr_dur_format(w->expect_grace_ms, grace, sizeof grace),
					wr_view_when(v, now, w->last_success_ts, last, sizeof last),
					wr_view_when(v, now, missed ? due + w->expect_every_ms : due, next, sizeof next),
					missed ? state : "ok"};
		wr_table_row(&t, cells);
		wr_table_color(&t, 5, missed ? WR_RED : NULL);
	}
	if (t.rows)
		wr_table_print(&t, v->f);
	return n;
}

/* ---- one run ---- */

void wr_view_events_on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			      const char *const *why, int64_t line)
{
	struct wr_view_events *c = ctx;
	(void)line;
	for (size_t i = 0; i < n; i++) {
		const struct wr_event *ev = &evs[i];
		const char *id = wr_ev_str(ev, "id");
		int mine = ev->run && !strcmp(ev->run, c->run);
		/* Later outbox events name only the entry: follow it by id. */
		if (!mine && id && ev->type > WR_EV_OUTBOX_ENQUEUED && ev->type <= WR_EV_OUTBOX_RETRIED)
			mine = wr_map_get(&c->outbox, id) != NULL;
		if (!mine)
			continue;
		if (ev->type == WR_EV_OUTBOX_ENQUEUED && id)
			wr_map_put(&c->outbox, id, c);
		WR_GROW(c->evs, c->cap, c->n + 1);
		struct wr_view_event *s = &c->evs[c->n++];
		wr_event_copy(&s->ev, ev);
		s->applied = applied[i];
		s->why = why[i];
	}
}

void wr_view_events_free(struct wr_view_events *c)
{
	for (size_t i = 0; i < c->n; i++)
		wr_event_clear(&c->evs[i].ev);
	free(c->evs);
	wr_map_free(&c->outbox, NULL);
	c->evs = NULL;
	c->n = c->cap = 0;
}

static void offset_text(int64_t ms, char *buf, size_t n)
{
	const char *sign = ms < 0 ? "-" : "+";
	int64_t a = ms < 0 ? -ms : ms;
	if (a < 60000) {
		snprintf(buf, n, "%s%lld.%llds", sign, (long long)(a / 1000), (long long)(a % 1000 / 100));
	} else {
		char d[32];
		snprintf(buf, n, "%s%s", sign, wr_dur_format(a, d, sizeof d));
	}
}

/* The header's lines of the command, cwd and labels. */
static void run_command_text(struct wr_buf *b, const struct wr_run *r)
{
	wr_buf_addstr(b, "\ncommand   ");
	size_t i;
	json_t *v;
	json_array_foreach(r->argv, i, v)
	{
		if (i)
			wr_buf_addstr(b, " ");
		wr_buf_addclean(b, json_string_value(v));
	}
	wr_buf_addstr(b, "\ncwd       ");
	wr_buf_addclean(b, r->cwd);
	if (json_object_size(r->labels)) {
		const char *k, *sep = "";
		json_t *lv;
		wr_buf_addstr(b, "\nlabels    ");
		json_object_foreach(r->labels, k, lv)
		{
			wr_buf_addstr(b, sep);
			wr_buf_addclean(b, k);
			wr_buf_addstr(b, "=");
			wr_buf_addclean(b, json_string_value(lv));
			sep = ", ";
		}
	}
}

void wr_view_run(const struct wr_view *v, const struct wr_run *r, const struct wr_workflow *w, const char *archive,
		 int64_t now)
{
	struct wr_buf b = {0};
	char ts[WR_TS_LEN];
	wr_buf_addstr(&b, "run       ");
	wr_buf_addclean(&b, r->id);
	wr_buf_addstr(&b, "\nworkflow  ");
	wr_buf_addclean(&b, r->workflow);
	wr_buf_addf(&b, "\nstatus    %s, attempt %zu of %lld", wr_status_name(r->status), r->natt,
		    (long long)r->policy.max_attempts);
	if (r->recoveries)
		wr_buf_addf(&b, ", %lld recover%s", (long long)r->recoveries, r->recoveries == 1 ? "y" : "ies");
	if (r->stale)
		wr_buf_addf(&b, ", %lld stale event%s", (long long)r->stale, r->stale == 1 ? "" : "s");
	if (r->reason) {
		wr_buf_addstr(&b, "\nreason    ");
		wr_buf_addclean(&b, r->reason);
	}
	if (r->note) {
		wr_buf_addstr(&b, "\nnote      ");
		wr_buf_addclean(&b, r->note);
	}
	run_command_text(&b, r);
	for (size_t k = 0; k < r->natt; k++) {
		const struct wr_attempt *a = &r->att[k];
		if (!a->turns && !a->tool_calls && !json_object_size(a->metrics))
			continue;
		wr_buf_addf(&b, "\nagent     attempt %lld", (long long)a->n);
		wr_words_agent(&b, a->turns, a->tool_calls, a->metrics);
	}
	if (w && w->breaker != WR_BR_CLOSED) {
		wr_buf_addstr(&b, "\nbreaker   ");
		wr_words_breaker(&b, w, now);
	}
	wr_buf_addf(&b, "\ncreated   %s", wr_ts_format(r->created_ts, ts));
	if (archive) {
		wr_buf_addstr(&b, "\narchived  in ");
		wr_buf_addclean(&b, archive);
		wr_buf_addstr(&b, " (moved there by wr-ledger compact)");
	}
	wr_buf_addstr(&b, "\n\n");
	wr_out_wrapped(v->f, wr_buf_str(&b), 10);
	wr_buf_free(&b);
}

static void timeline_json(const struct wr_view *v, struct wr_view_event *s, const char *archive)
{
	json_t *o = json_copy(wr_ev_obj(&s->ev)); /* the event's own stays as read */
	wr_jset(o, "stale", json_boolean(s->applied == WR_APPLY_STALE));
	if (s->applied == WR_APPLY_STALE && s->why)
		wr_jset_str(o, "stale_reason", s->why);
	if (s->applied == WR_APPLY_INVALID)
		wr_jset_str(o, "invalid", s->why ? s->why : "invariant broken");
	if (archive)
		wr_jset_str(o, "archive", archive);
	wr_out_jsonf(v->f, o);
}

/* The row of events i..k (a stretch of heartbeats when k > i). */
static void timeline_row(struct wr_table *t, const struct wr_run *r, const struct wr_view_event *s,
			 const struct wr_view_event *e, size_t count)
{
	char off[48], seq[64], type[64];
	offset_text(e->ev.ts - r->created_ts, off, sizeof off);
	if (count > 1) {
		snprintf(seq, sizeof seq, "%lld-%lld", (long long)s->ev.seq, (long long)e->ev.seq);
		snprintf(type, sizeof type, "%s x%zu", e->ev.type_name, count);
	} else {
		snprintf(seq, sizeof seq, "%lld", (long long)s->ev.seq);
		snprintf(type, sizeof type, "%s", s->ev.type_name);
	}
	struct wr_buf d = {0};
	if (s->applied == WR_APPLY_STALE)
		wr_buf_addf(&d, "STALE (%s): ", s->why ? s->why : "fenced off");
	else if (s->applied == WR_APPLY_INVALID)
		wr_buf_addf(&d, "INVALID (%s): ", s->why ? s->why : "invariant broken");
	char *desc = wr_words_event(&e->ev);
	wr_buf_addstr(&d, desc);
	free(desc);
	const char *cells[4] = {off, seq, type, wr_buf_str(&d)};
	wr_table_row(t, cells);
	if (s->applied != WR_APPLY_OK && s->applied != WR_APPLY_IGNORED)
		wr_table_color(t, 2, WR_YELLOW);
	wr_buf_free(&d);
}

void wr_view_timeline(const struct wr_view *v, const struct wr_run *r, struct wr_view_events *c,
		      const char *archive)
{
	static const char *const head[] = {"OFFSET", "SEQ", "EVENT", "DETAIL"};
	struct wr_table t;
	wr_table_init(&t, 4, head);
	t.right[0] = t.right[1] = 1;
	t.wrap[3] = 1; /* a timeline is where one reads the details whole */
	for (size_t i = 0; i < c->n; i++) {
		struct wr_view_event *s = &c->evs[i];
		if (v->json) {
			timeline_json(v, s, archive);
			continue;
		}
		/* A long run has a heartbeat every 30s: one row per stretch. */
		size_t k = i;
		while (s->ev.type == WR_EV_ATTEMPT_HEARTBEAT && s->applied == WR_APPLY_OK && k + 1 < c->n &&
		       c->evs[k + 1].ev.type == WR_EV_ATTEMPT_HEARTBEAT && c->evs[k + 1].applied == WR_APPLY_OK)
			k++;
		timeline_row(&t, r, s, &c->evs[k], k - i + 1);
		i = k;
	}
	if (t.rows)
		wr_table_print(&t, v->f);
}

/* ---- events as they come ---- */

void wr_view_event_line(struct wr_buf *b, const struct wr_event *ev, const struct wr_run *r, const char *wf,
			int applied, const char *why, int last, int color)
{
	char ts[WR_TS_LEN];
	char *type = wr_xstrclean(ev->type_name); /* an unknown type is data */
	wr_buf_addf(b, "%s #%lld %-17s ", wr_ts_format(ev->ts, ts), (long long)ev->seq, type);
	free(type);
	if (ev->run) {
		wr_buf_addclean(b, wr_short_id(ev->run));
		wr_buf_addstr(b, " ");
	}
	if (wf && ev->type != WR_EV_BREAKER_CHANGED) {
		wr_buf_addclean(b, wf);
		wr_buf_addstr(b, ": ");
	}
	char *d = wr_words_event(ev);
	wr_buf_addstr(b, d);
	free(d);
	if (applied == WR_APPLY_STALE)
		wr_buf_addf(b, " [stale: %s]", why ? why : "fenced off");
	else if (applied == WR_APPLY_INVALID)
		wr_buf_addf(b, " [invalid: %s]", why ? why : "invariant broken");
	/* The run's status after the decision: the state change at a glance. */
	if (r && applied == WR_APPLY_OK && last) {
		if (color)
			wr_buf_addf(b, " -> %s%s\033[0m", wr_view_status_color(r->status), wr_status_name(r->status));
		else
			wr_buf_addf(b, " -> %s", wr_status_name(r->status));
	}
}

void wr_view_event(const struct wr_view *v, const struct wr_state *st, const struct wr_event *ev, int applied,
		   const char *why, int last)
{
	if (v->run && (!ev->run || strcmp(ev->run, v->run)))
		return;
	const struct wr_run *r = ev->run ? wr_state_run(st, ev->run) : NULL;
	const char *wf = ev->workflow ? ev->workflow : r ? r->workflow : NULL;
	if (v->workflow && (!wf || strcmp(wf, v->workflow)))
		return;
	if (v->labels && v->labels->n && (!r || !wr_label_filter_match(v->labels, r->labels)))
		return;
	if (v->json) {
		wr_out_jsonf(v->f, json_incref(wr_ev_obj(ev)));
		return;
	}
	struct wr_buf b = {0};
	wr_view_event_line(&b, ev, r, wf, applied, why, last, v->color);
	wr_buf_addstr(&b, "\n");
	fputs(wr_buf_str(&b), v->f);
	wr_buf_free(&b);
}
