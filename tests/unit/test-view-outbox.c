/* test-view-outbox - the outbox for people (core/view_outbox.c). */
#include "helpers.h"
#include "tap.h"
#include "view_outbox.h"

/* A decoded line of the ledger the fixture holds (seq, ts as given). */
static int decode(struct wr_event *ev, char **text, int64_t seq, const char *type, const char *fields)
{
	*text = wr_xasprintf("{\"v\":1,\"seq\":%lld,\"ts\":\"2026-11-20T22:31:05.000Z\",\"by\":\"t/1\",\"type\":\"%s\",%s}",
			     (long long)seq, type, fields);
	struct wr_decode_err err;
	return wr_event_decode(*text, strlen(*text), ev, &err);
}

int main(void)
{
	struct t_fx f;
	fx_init(&f);
	const char *enq = "\"id\":\"0190-ob-1\",\"kind\":\"escalated\",\"message\":\"disk \\u001b[2Jfull\",\"workflow\":\"backup\"";
	fx_ev(&f, T0, "outbox.enqueued", "%s", enq);
	fx_ev(&f, T0, "outbox.enqueued", "\"id\":\"0190-ob-2\",\"kind\":\"lost\",\"message\":\"gone\"");
	fx_ev(&f, T0 + SEC, "outbox.claimed", "\"id\":\"0190-ob-2\",\"delivery\":\"d1\",\"lease_until\":\"2026-11-20T22:36:05.000Z\"");

	struct t_out o;
	struct wr_view v = {.f = t_out_open(&o)};
	unsigned all = ~0u;
	is_int(wr_view_outbox(&v, &f.st, all, 0, T0 + MIN), 2, "two entries");
	char *s = t_out_text(&o);
	ok(strstr(s, "ID") && strstr(s, "TRIES") && strstr(s, "MESSAGE"), "the table's head");
	ok(strstr(s, "disk ?[2Jfull") != NULL, "a message made safe for a terminal");
	ok(strstr(s, " now ") != NULL, "a pending entry that is due: now");
	ok(strstr(s, "lease 2026-11-20T22:36:05.000Z") != NULL, "a claimed entry: its lease");
	free(s);

	v.f = t_out_open(&o);
	is_int(wr_view_outbox(&v, &f.st, 1u << WR_OB_DEAD, 0, T0), 0, "no dead entry");
	s = t_out_text(&o);
	is_str(s, "", "nothing printed");
	free(s);

	v.f = t_out_open(&o);
	v.json = 1;
	is_int(wr_view_outbox(&v, &f.st, 1u << WR_OB_PENDING, 0, T0), 1, "one pending entry");
	s = t_out_text(&o);
	ok(strstr(s, "\"id\":\"0190-ob-1\"") && t_count(s, "\n") == 1, "JSON: its object on a line");
	free(s);

	struct wr_event ev;
	char *text;
	ok(decode(&ev, &text, 1, "outbox.enqueued", enq) == 0, "the event decodes");
	v.f = t_out_open(&o);
	v.json = 0;
	wr_view_outbox_event(&v, &ev, wr_state_outbox(&f.st, "0190-ob-1"), 0);
	v.json = 1;
	wr_view_outbox_event(&v, &ev, wr_state_outbox(&f.st, "0190-ob-1"), 0);
	s = t_out_text(&o);
	ok(strstr(s, "2026-11-20T22:31:05.000Z enqueued  ") == s, "a line: time and the event's kind");
	ok(strstr(s, " escalated backup: disk ?[2Jfull\n") != NULL, "an enqueued entry: kind, workflow, message");
	ok(strstr(s, "\"event\":\"outbox.enqueued\"") && strstr(s, "\"seq\":1"), "JSON: the entry with its event");
	free(s);
	wr_event_clear(&ev);
	free(text);

	ok(decode(&ev, &text, 3, "outbox.claimed", "\"id\":\"0190-ob-2\",\"delivery\":\"d1\",\"lease_until\":\"2026-11-20T22:36:05.000Z\"") == 0,
	   "a claim decodes");
	v.f = t_out_open(&o);
	v.json = 0;
	wr_view_outbox_event(&v, &ev, wr_state_outbox(&f.st, "0190-ob-2"), 0);
	wr_view_outbox_event(&v, &ev, wr_state_outbox(&f.st, "0190-ob-2"), 1);
	s = t_out_text(&o);
	ok(strstr(s, " attempt 1\n") != NULL, "a claim: the attempt");
	is_int(t_count(s, "\n"), 1, "workrail: only enqueued entries are lines");
	free(s);
	wr_event_clear(&ev);
	free(text);
	fx_free(&f);
	return done_testing();
}
