/* test-actions - what a check or a recovery pass found and did
 * (core/actions.c). */
#include "actions.h"
#include "helpers.h"
#include "tap.h"

int main(void)
{
	json_t *found = t_json("[{\"run\":\"0190aaaa-1111\",\"workflow\":\"backup\",\"attempt\":2,\"host\":\"h\",\"pid\":42,"
			       "\"reason\":\"pid_dead\",\"killed\":77},"
			       "{\"run\":\"0190bbbb-2222\",\"workflow\":\"w\\u001b[2J\",\"attempt\":1,\"host\":\"h\",\"pid\":43,"
			       "\"reason\":\"lease_expired\",\"survived\":true,\"pgid\":88}]");
	struct t_out o;
	struct wr_view v = {.f = t_out_open(&o)};
	wr_actions_lost(&v, found, 0, "/l.jsonl");
	char *s = t_out_text(&o);
	ok(strstr(s, "RUN") && strstr(s, "REASON") && strstr(s, "pid_dead"), "the table of lost attempts");
	ok(strstr(s, "w?[2J") != NULL, "a workflow made safe for a terminal");
	ok(strstr(s, "recorded 2 lost attempts in /l.jsonl\n") != NULL, "what was recorded, and where");
	ok(strstr(s, "killed what was left of process group 77 of run aaa-1111 on this host\n") != NULL, "a group killed");
	ok(strstr(s, "process group 88 of run bbb-2222 survived SIGKILL\n") != NULL, "a group that survived");
	free(s);

	v.f = t_out_open(&o);
	wr_actions_lost(&v, found, 1, "/l.jsonl");
	v.json = 1;
	wr_actions_lost(&v, found, 1, "/l.jsonl");
	s = t_out_text(&o);
	ok(strstr(s, "dry run: 2 lost attempts found; nothing recorded\n") != NULL, "a dry run records nothing");
	is_int(t_count(s, "\"recorded\":false"), 2, "JSON: each find, not recorded");
	free(s);

	json_t *none = json_array();
	v.f = t_out_open(&o);
	v.json = 0;
	wr_actions_lost(&v, none, 0, "/l.jsonl");
	s = t_out_text(&o);
	is_str(s, "", "nothing found: nothing said (the tool decides)");
	free(s);
	json_decref(none);

	json_t *overdue = t_json("[{\"workflow\":\"nightly\",\"due\":\"2026-11-20T22:31:05.000Z\",\"period\":3,"
				 "\"last_success\":null,\"recorded\":true}]");
	v.f = t_out_open(&o);
	is_int(wr_actions_overdue(&v, overdue), 1, "one overdue workflow");
	v.json = 1;
	wr_actions_overdue(&v, overdue);
	s = t_out_text(&o);
	ok(strstr(s, "overdue: nightly was due 2026-11-20T22:31:05.000Z (period 3), last success never; recorded\n") == s,
	   "its line");
	ok(strstr(s, "\"overdue\":true") != NULL, "JSON: marked overdue");
	free(s);
	json_decref(overdue);

	v.f = t_out_open(&o);
	v.json = 0;
	struct wr_action a = {.action = "retry", .run = "r1", .workflow = "wf", .attempt = 2, .reason = "exit_code",
			      .recoveries = 1, .not_before = T0, .dry_run = 1};
	wr_action_print(&v, &a);
	a.action = "wait";
	a.extra = "the breaker\x1b]is open";
	a.dry_run = 0;
	a.launched = 1;
	wr_action_print(&v, &a);
	wr_action_lost(&v, json_array_get(found, 0), 0);
	s = t_out_text(&o);
	ok(strstr(s, "retry    r1 (wf) attempt 2: exit_code; recoveries 1; not before 2026-11-20T22:31:05.000Z (dry run)\n") == s,
	   "a retry: every part in its place");
	ok(strstr(s, "wait     r1 (wf) attempt 2: exit_code; not before 2026-11-20T22:31:05.000Z; the breaker?]is open; launched\n") != NULL,
	   "a wait: no recoveries, extra words made safe");
	ok(strstr(s, "lost     0190aaaa-1111 (backup) attempt 2: pid_dead; killed process group 77 of the lost attempt\n") != NULL,
	   "a lost attempt with its group killed");
	free(s);

	v.f = t_out_open(&o);
	v.json = 1;
	a.workflow = NULL;
	a.attempt = 0;
	wr_action_print(&v, &a);
	s = t_out_text(&o);
	ok(strstr(s, "\"workflow\":null,\"attempt\":null,\"action\":\"wait\"") != NULL, "JSON: nulls for what is not there");
	ok(strstr(s, "\"launched\":true") && !strstr(s, "dry_run"), "JSON: launched, no dry_run");
	free(s);
	json_decref(found);
	return done_testing();
}
