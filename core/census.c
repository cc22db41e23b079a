/* census.c - what a ledger holds, counted (see census.h). */
#include "census.h"

#include <string.h>

#include "timefmt.h"

void wr_census_on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			 const char *const *why, int64_t line)
{
	(void)why;
	(void)line;
	(void)applied;
	struct wr_census *c = ctx;
	if (!c->first_ts && n)
		c->first_ts = evs[0].ts;
}

/* Runs by status and outbox entries by state. */
static void count(const struct wr_state *st, int64_t by_status[WR_ST__COUNT], int64_t by_ob[WR_OB__COUNT])
{
	memset(by_status, 0, WR_ST__COUNT * sizeof *by_status);
	memset(by_ob, 0, WR_OB__COUNT * sizeof *by_ob);
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *r; (r = wr_runs_next(&it));)
		by_status[r->status]++;
	for (size_t i = 0; i < wr_state_outboxes(st)->n; i++)
		by_ob[((struct wr_outbox *)wr_map_at(wr_state_outboxes(st), i))->state]++;
}

json_t *wr_census_json(const struct wr_census *c, const struct wr_state *st)
{
	int64_t by_status[WR_ST__COUNT], by_ob[WR_OB__COUNT];
	count(st, by_status, by_ob);
	char a[WR_TS_LEN], b[WR_TS_LEN];
	json_t *o = json_object();
	wr_jset_str(o, "file", c->path);
	wr_jset_int(o, "bytes", c->bytes);
	wr_jset_int(o, "events", st->events);
	wr_jset_int(o, "last_seq", st->last_seq);
	wr_jset(o, "oldest", c->first_ts ? json_string(wr_ts_format(c->first_ts, a)) : json_null());
	wr_jset(o, "newest", st->last_ts ? json_string(wr_ts_format(st->last_ts, b)) : json_null());
	json_t *t = json_object();
	for (int i = 1; i < WR_EV__COUNT; i++)
		if (st->by_type[i])
			wr_jset_int(t, wr_type_name((enum wr_type)i), st->by_type[i]);
	if (st->unknown_types)
		wr_jset_int(t, "unknown", st->unknown_types);
	wr_jset(o, "types", t);
	json_t *r = json_object();
	for (int i = 0; i < WR_ST__COUNT; i++)
		wr_jset_int(r, wr_status_name((enum wr_status)i), by_status[i]);
	wr_jset(o, "runs", r);
	wr_jset_int(o, "workflows", (int64_t)st->workflows.n);
	json_t *ob = json_object();
	for (int i = 0; i < WR_OB__COUNT; i++)
		wr_jset_int(ob, wr_outbox_state_name((enum wr_outbox_state)i), by_ob[i]);
	wr_jset(o, "outbox", ob);
	/* what the replay passed over */
	const struct {
		const char *key;
		int64_t n;
	} passed[] = {{"stale", st->stale}, {"invalid", st->invalid}, {"bad_lines", c->bad_lines}, {"repairs", st->repaired}};
	for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++)
		wr_jset_int(o, passed[i].key, passed[i].n);
	wr_jset(o, "torn_tail", json_boolean(c->torn));
	return o;
}

void wr_census_text(struct wr_buf *b, const struct wr_census *c, const struct wr_state *st)
{
	int64_t by_status[WR_ST__COUNT], by_ob[WR_OB__COUNT];
	count(st, by_status, by_ob);
	char t1[WR_TS_LEN], t2[WR_TS_LEN];
	wr_buf_addstr(b, "file        ");
	wr_buf_addclean(b, c->path);
	wr_buf_addstr(b, "\n");
	wr_buf_addf(b, "size        %lld bytes\n", (long long)c->bytes);
	wr_buf_addf(b, "events      %lld (last seq %lld)\n", (long long)st->events, (long long)st->last_seq);
	wr_buf_addf(b, "span        %s .. %s\n", c->first_ts ? wr_ts_format(c->first_ts, t1) : "-",
		    st->last_ts ? wr_ts_format(st->last_ts, t2) : "-");
	wr_buf_addf(b, "runs        %zu:", wr_state_nruns(st));
	for (int i = 0; i < WR_ST__COUNT; i++)
		if (by_status[i])
			wr_buf_addf(b, " %s %lld", wr_status_name((enum wr_status)i), (long long)by_status[i]);
	wr_buf_addf(b, "\nworkflows   %zu\n", st->workflows.n);
	wr_buf_addf(b, "outbox      %zu:", wr_state_outboxes(st)->n);
	for (int i = 0; i < WR_OB__COUNT; i++)
		if (by_ob[i])
			wr_buf_addf(b, " %s %lld", wr_outbox_state_name((enum wr_outbox_state)i), (long long)by_ob[i]);
	wr_buf_addf(b, "\nstale       %lld\ninvalid     %lld\nbad lines   %lld\nrepairs     %lld\n", (long long)st->stale,
		    (long long)st->invalid, (long long)c->bad_lines, (long long)st->repaired);
	wr_buf_addstr(b, "by type\n");
	for (int i = 1; i < WR_EV__COUNT; i++)
		if (st->by_type[i])
			wr_buf_addf(b, "  %-20s %lld\n", wr_type_name((enum wr_type)i), (long long)st->by_type[i]);
	if (st->unknown_types)
		wr_buf_addf(b, "  %-20s %lld\n", "(unknown types)", (long long)st->unknown_types);
}
