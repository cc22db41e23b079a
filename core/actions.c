/* actions.c - what a check or a recovery pass found and did (see
 * actions.h). */
#include "actions.h"

#include <string.h>

#include "uuid.h"
#include "output.h"
#include "sanitize.h"
#include "timefmt.h"
#include "util.h"

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void lost_row(struct wr_table *t, json_t *x)
{
	char att[32], pid[32];
	snprintf(att, sizeof att, "%lld", jint(x, "attempt"));
	snprintf(pid, sizeof pid, "%lld", jint(x, "pid"));
	const char *run_id = jstr(x, "run");
	const char *cells[6] = {wr_short_id(run_id ? run_id : "?"), jstr(x, "workflow"), att, jstr(x, "host"), pid,
				jstr(x, "reason")};
	wr_table_row(t, cells);
}

/* What became of the lost attempts' process groups here. */
static void lost_groups(const struct wr_view *v, json_t *found)
{
	size_t i;
	json_t *x;
	json_array_foreach(found, i, x)
	{
		const char *run_id = jstr(x, "run");
		json_t *k = json_object_get(x, "killed");
		if (k)
			fprintf(v->f, "killed what was left of process group %lld of run %s on this host\n",
				(long long)json_integer_value(k), wr_short_id(run_id ? run_id : "?"));
		else if (json_is_true(json_object_get(x, "survived")))
			fprintf(v->f, "process group %lld of run %s survived SIGKILL\n", jint(x, "pgid"),
				wr_short_id(run_id ? run_id : "?"));
	}
}

void wr_actions_lost(const struct wr_view *v, json_t *found, int dry_run, const char *ledger)
{
	static const char *const head[] = {"RUN", "WORKFLOW", "ATTEMPT", "HOST", "PID", "REASON"};
	struct wr_table t;
	wr_table_init(&t, 6, head);
	t.right[2] = t.right[4] = 1;
	t.maxw[1] = 24;
	size_t i, n = json_array_size(found);
	json_t *x;
	json_array_foreach(found, i, x)
	{
		if (v->json) {
			json_t *o = json_deep_copy(x);
			wr_jset(o, "recorded", json_boolean(!dry_run));
			wr_out_jsonf(v->f, o);
		} else {
			lost_row(&t, x);
		}
	}
	if (!t.rows)
		return;
	wr_table_print(&t, v->f);
	if (dry_run)
		fprintf(v->f, "dry run: %zu lost attempt%s found; nothing recorded\n", n, n == 1 ? "" : "s");
	else
		fprintf(v->f, "recorded %zu lost attempt%s in %s\n", n, n == 1 ? "" : "s", ledger);
	lost_groups(v, found);
}

size_t wr_actions_overdue(const struct wr_view *v, json_t *overdue)
{
	size_t i;
	json_t *x;
	json_array_foreach(overdue, i, x)
	{
		if (v->json) {
			json_t *o = json_deep_copy(x);
			wr_jset(o, "overdue", json_true());
			wr_out_jsonf(v->f, o);
			continue;
		}
		struct wr_buf b = {0};
		const char *last = jstr(x, "last_success");
		wr_buf_addstr(&b, "overdue: ");
		wr_buf_addclean(&b, jstr(x, "workflow"));
		wr_buf_addf(&b, " was due %s (period %lld), last success ", jstr(x, "due"), jint(x, "period"));
		wr_buf_addstr(&b, last ? last : "never");
		if (json_is_true(json_object_get(x, "recorded")))
			wr_buf_addstr(&b, "; recorded");
		fprintf(v->f, "%s\n", b.p);
		wr_buf_free(&b);
	}
	return json_array_size(overdue);
}

static json_t *action_json(const struct wr_action *a)
{
	char ts[WR_TS_LEN];
	json_t *o = json_object();
	wr_jset_str(o, "run", a->run);
	wr_jset(o, "workflow", a->workflow ? json_string(a->workflow) : json_null());
	wr_jset(o, "attempt", a->attempt ? json_integer(a->attempt) : json_null());
	wr_jset_str(o, "action", a->action);
	wr_jset(o, "reason", a->reason ? json_string(a->reason) : json_null());
	wr_jset_int(o, "recoveries", a->recoveries);
	wr_jset(o, "not_before", a->not_before ? json_string(wr_ts_format(a->not_before, ts)) : json_null());
	wr_jset(o, "launched", json_boolean(a->launched));
	if (a->dry_run)
		wr_jset(o, "dry_run", json_true());
	return o;
}

void wr_action_print(const struct wr_view *v, const struct wr_action *a)
{
	if (v->json) {
		wr_out_jsonf(v->f, action_json(a));
		return;
	}
	/* run, workflow and reason come from the ledger: made safe for a terminal */
	char ts[WR_TS_LEN];
	struct wr_buf b = {0};
	wr_buf_addf(&b, "%-8s ", a->action);
	wr_buf_addclean(&b, a->run ? a->run : "-");
	if (a->workflow) {
		wr_buf_addstr(&b, " (");
		wr_buf_addclean(&b, a->workflow);
		wr_buf_addstr(&b, ")");
	}
	if (a->attempt)
		wr_buf_addf(&b, " attempt %lld", (long long)a->attempt);
	if (a->reason) {
		wr_buf_addstr(&b, ": ");
		wr_buf_addclean(&b, a->reason);
	}
	if (!strcmp(a->action, "retry") || !strcmp(a->action, "launch") || !strcmp(a->action, "unblock"))
		wr_buf_addf(&b, "; recoveries %lld", (long long)a->recoveries);
	if (a->not_before)
		wr_buf_addf(&b, "; not before %s", wr_ts_format(a->not_before, ts));
	if (a->extra) {
		wr_buf_addstr(&b, "; ");
		wr_buf_addclean(&b, a->extra);
	}
	if (a->launched)
		wr_buf_addstr(&b, "; launched");
	if (a->dry_run)
		wr_buf_addstr(&b, " (dry run)");
	wr_buf_addstr(&b, "\n");
	fputs(wr_buf_str(&b), v->f);
	wr_buf_free(&b);
}

void wr_action_lost(const struct wr_view *v, json_t *find, int dry_run)
{
	char extra[128] = "";
	json_t *k = json_object_get(find, "killed");
	if (k)
		snprintf(extra, sizeof extra, "killed process group %lld of the lost attempt",
			 (long long)json_integer_value(k));
	else if (json_is_true(json_object_get(find, "survived")))
		snprintf(extra, sizeof extra, "process group %lld of the lost attempt survived SIGKILL", jint(find, "pgid"));
	struct wr_action a = {.action = "lost",
			      .run = jstr(find, "run"),
			      .workflow = jstr(find, "workflow"),
			      .attempt = json_integer_value(json_object_get(find, "attempt")),
			      .reason = jstr(find, "reason"),
			      .extra = extra[0] ? extra : NULL,
			      .dry_run = dry_run};
	wr_action_print(v, &a);
}
