/* view_outbox.c - the outbox for people (see view_outbox.h). */
#include "view_outbox.h"

#include <string.h>

#include "uuid.h"
#include "output.h"
#include "sanitize.h"
#include "timefmt.h"
#include "workrail.h"

/* A time: "3m ago" for a person, RFC 3339 otherwise. */
static char *when(const struct wr_view *v, int64_t now, int64_t ts, char *buf, size_t n)
{
	if (v->relative)
		return wr_out_ago(now, ts, buf, n);
	char t[WR_TS_LEN];
	snprintf(buf, n, "%s", wr_ts_format(ts, t));
	return buf;
}

static void outbox_row(const struct wr_view *v, struct wr_table *t, const struct wr_outbox *o, int64_t now)
{
	char tries[32], created[WR_TS_LEN], next[WR_TS_LEN + 16];
	snprintf(tries, sizeof tries, "%lld", (long long)o->attempts);
	when(v, now, o->created_ts, created, sizeof created);
	if (o->state == WR_OB_PENDING && o->next_at <= now)
		snprintf(next, sizeof next, "now"); /* due: the same word in a pipe */
	else if (o->state == WR_OB_PENDING)
		when(v, now, o->next_at, next, sizeof next);
	else if (o->state == WR_OB_CLAIMED) {
		char a[WR_TS_LEN];
		snprintf(next, sizeof next, "lease %s", when(v, now, o->lease_until, a, sizeof a));
	} else
		snprintf(next, sizeof next, "-");
	const char *cells[] = {wr_short_id(o->id), wr_outbox_state_name(o->state), o->kind, tries,
			       created, next, o->workflow, o->message};
	wr_table_row(t, cells);
	wr_table_color(t, 1, o->state == WR_OB_DEAD      ? WR_RED
			     : o->state == WR_OB_CLAIMED ? WR_BLUE
			     : o->state == WR_OB_PENDING ? WR_YELLOW
							 : WR_GREEN);
}

size_t wr_view_outbox(const struct wr_view *v, const struct wr_state *st, unsigned mask, int workrail, int64_t now)
{
	struct wr_table t;
	static const char *const head[] = {"ID", "STATE", "KIND", "TRIES", "CREATED", "NEXT", "WORKFLOW", "MESSAGE"};
	wr_table_init(&t, 8, head);
	t.right[3] = 1;
	t.maxw[6] = 24;
	size_t n = 0;
	for (size_t i = 0; i < wr_state_outboxes(st)->n; i++) {
		const struct wr_outbox *o = wr_map_at(wr_state_outboxes(st), i);
		if (!(mask & 1u << o->state))
			continue;
		n++;
		if (workrail || v->json)
			wr_out_jsonf(v->f, workrail ? wr_workrail_line(o) : wr_outbox_to_json(o));
		else
			outbox_row(v, &t, o, now);
	}
	if (t.rows)
		wr_table_print(&t, v->f);
	return n;
}

void wr_view_outbox_event(const struct wr_view *v, const struct wr_event *ev, const struct wr_outbox *o, int workrail)
{
	char b[WR_TS_LEN];
	if (workrail) {
		if (ev->type == WR_EV_OUTBOX_ENQUEUED)
			wr_out_jsonf(v->f, wr_workrail_line(o));
		return;
	}
	if (v->json) {
		json_t *j = wr_outbox_to_json(o);
		wr_jset_str(j, "event", ev->type_name);
		wr_jset_int(j, "seq", ev->seq);
		wr_jset_str(j, "ts", wr_ts_format(ev->ts, b));
		wr_out_jsonf(v->f, j);
		return;
	}
	/* every string from the ledger made safe for the terminal */
	const char *err = wr_ev_str(ev, "error");
	struct wr_buf line = {0};
	wr_buf_addf(&line, "%s %-9s ", wr_ts_format(ev->ts, b), ev->type_name + strlen("outbox."));
	wr_buf_addclean(&line, wr_short_id(o->id));
	if (ev->type == WR_EV_OUTBOX_ENQUEUED) {
		wr_buf_addstr(&line, " ");
		wr_buf_addclean(&line, o->kind);
		wr_buf_addstr(&line, " ");
		wr_buf_addclean(&line, o->workflow ? o->workflow : "-");
		wr_buf_addstr(&line, ": ");
		wr_buf_addclean(&line, o->message);
	} else if (ev->type == WR_EV_OUTBOX_CLAIMED) {
		wr_buf_addf(&line, " attempt %lld", (long long)o->attempts);
	} else if (err && *err) {
		wr_buf_addstr(&line, " ");
		wr_buf_addclean(&line, err);
	}
	wr_buf_addstr(&line, "\n");
	fputs(wr_buf_str(&line), v->f);
	wr_buf_free(&line);
}
