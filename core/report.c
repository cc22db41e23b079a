/* report.c - the HTML report (see report.h). */
#include "report.h"
#include "decide.h"
#include "markup.h"
#include "output.h"
#include "plot.h"
#include "timefmt.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char css[] =
	":root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#ffffff;--panel:#f6f8fa;--line:#d1d9e0;"
	"--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--okbg:#dafbe1;--badbg:#ffebe9}\n"
	"@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#151b23;"
	"--line:#3d444d;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--okbg:#12261e;--badbg:#25171c}}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;padding:24px 32px 40px;background:var(--bg);color:var(--fg);"
	"font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",\"DejaVu Sans\",sans-serif}\n"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}\n"
	".meta{color:var(--muted);margin:0}\n"
	".meta code,td code{font:12px ui-monospace,\"DejaVu Sans Mono\",monospace}\n"
	"section{max-width:1240px}\n"
	".banner{padding:10px 14px;border-radius:6px;border:1px solid var(--line);margin:8px 0}\n"
	".banner.ok{background:var(--okbg);border-color:var(--ok)}\n"
	".banner.bad{background:var(--badbg);border-color:var(--bad)}\n"
	"h3{font-size:14px;margin:16px 0 6px}\n"
	"table{border-collapse:collapse;width:100%;margin:4px 0 8px}\n"
	"th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}\n"
	"th{font-weight:600;color:var(--muted);font-size:12px;background:var(--panel)}\n"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	".good{color:var(--ok)}.poor{color:var(--bad);font-weight:600}.fair{color:var(--warn)}\n"
	".why{overflow-wrap:anywhere}\n"
	".timeline{overflow-x:auto;border:1px solid var(--line);border-radius:6px}\n"
	".timeline svg{display:block;max-width:100%;height:auto}\n"
	"footer{margin-top:28px;color:var(--muted);font-size:12px}\n"
	"@page{size:A4 landscape;margin:12mm}\n"
	"@media print{:root{--fg:#000;--muted:#444;--bg:#fff;--panel:#f0f0f0;--line:#bbb;--okbg:#fff;--badbg:#fff}"
	"body{padding:0;font-size:11px}.timeline{overflow:visible;border:0;break-inside:avoid}"
	"tr{break-inside:avoid}h2{break-after:avoid}"
	"body .wr-plot .wr-bg{fill:#fff}body .wr-plot text{fill:#000}body .wr-plot .wr-zebra{fill:#f4f4f4}"
	"body .wr-plot .wr-mu{fill:#000;stroke:#fff;color:#000}}\n";

struct rep {
	const struct wr_state *st;
	const struct wr_report_opts *o;
	struct wr_buf *b;
	size_t attention;
};

static void add_when(struct rep *p, int64_t ts)
{
	char t[48], ago[64];
	time_t s = (time_t)(ts / 1000);
	struct tm tm;
	if (!ts || !localtime_r(&s, &tm) || !strftime(t, sizeof t, "%a %d %b %H:%M", &tm)) {
		wr_buf_addstr(p->b, "-");
		return;
	}
	wr_buf_addf(p->b, "%s <span class=\"meta\">(%s)</span>", t, wr_out_ago(p->o->now, ts, ago, sizeof ago));
}

static void cell(struct rep *p, const char *cls, const char *text)
{
	wr_buf_addf(p->b, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
	if (text)
		wr_xml_add(p->b, text);
	else
		wr_buf_addstr(p->b, "-");
	wr_buf_addstr(p->b, "</td>");
}

static void id_cell(struct rep *p, const char *id)
{
	wr_buf_addstr(p->b, "<td><code title=\"");
	wr_xml_add(p->b, id);
	wr_buf_addstr(p->b, "\">");
	wr_xml_add(p->b, wr_short_id(id));
	wr_buf_addstr(p->b, "</code></td>");
}

static void head_row(struct rep *p, const char *const *cols)
{
	wr_buf_addstr(p->b, "<table>\n<thead><tr>");
	for (; *cols; cols++)
		wr_buf_addf(p->b, "<th%s>%s</th>", **cols == '#' ? " class=\"n\"" : "", *cols + (**cols == '#'));
	wr_buf_addstr(p->b, "</tr></thead>\n<tbody>\n");
}

/* Opens a row of a table that shows only when it has one: before the
 * first, its heading and head (*n counts the rows). */
static void row_open(struct rep *p, size_t *n, const char *heading, const char *const *cols)
{
	if (!(*n)++) {
		wr_buf_addf(p->b, "<h3>%s</h3>\n", heading);
		head_row(p, cols);
	}
	wr_buf_addstr(p->b, "<tr>");
}

/* Ends such a table when it has rows. Returns how many. */
static size_t table_end(struct rep *p, size_t n)
{
	if (n)
		wr_buf_addstr(p->b, "</tbody></table>\n");
	return n;
}

static void when_cell(struct rep *p, int64_t ts)
{
	wr_buf_addstr(p->b, "<td>");
	add_when(p, ts);
	wr_buf_addstr(p->b, "</td>");
}

/* ---- what needs a human ------------------------------------------------- */

/* When the run was last blocked, from the marks, else its last change. */
static int64_t blocked_since(const struct wr_timeline *tl, const struct wr_run *r)
{
	const struct wr_marks *m = wr_timeline_marks(tl, r->id);
	for (size_t i = m ? m->n : 0; i-- > 0;)
		if (m->m[i].kind == WR_MARK_BLOCKED)
			return m->m[i].ts;
	return r->updated_ts;
}

static size_t blocked_runs(struct rep *p, const struct wr_timeline *tl)
{
	static const char *const cols[] = {"Run", "Workflow", "Blocked since", "#Attempts", "Reason", NULL};
	size_t n = 0;
	for (size_t i = 0; i < p->st->runs.n; i++) {
		const struct wr_run *r = wr_map_at(&p->st->runs, i);
		if (r->status != WR_ST_BLOCKED)
			continue;
		row_open(p, &n, "Blocked runs: <code>wr-recover unblock RUN</code> once fixed", cols);
		id_cell(p, r->id);
		cell(p, NULL, r->workflow);
		when_cell(p, blocked_since(tl, r));
		wr_buf_addf(p->b, "<td class=\"n\">%zu/%lld</td>", r->natt, (long long)r->policy.max_attempts);
		cell(p, "why", r->reason);
		wr_buf_addstr(p->b, "</tr>\n");
	}
	return table_end(p, n);
}

static size_t dead_entries(struct rep *p)
{
	static const char *const cols[] = {"Entry", "Kind", "Workflow", "Created", "#Tries", "Last error", "Message",
					   NULL};
	size_t n = 0;
	for (size_t i = 0; i < wr_state_outboxes(p->st)->n; i++) {
		const struct wr_outbox *o = wr_map_at(wr_state_outboxes(p->st), i);
		if (o->state != WR_OB_DEAD)
			continue;
		row_open(p, &n, "Notifications given up on: <code>wr-outbox retry ID</code>", cols);
		id_cell(p, o->id);
		cell(p, NULL, o->kind);
		cell(p, NULL, o->workflow);
		when_cell(p, o->created_ts);
		wr_buf_addf(p->b, "<td class=\"n\">%lld</td>", (long long)o->attempts);
		cell(p, "why", o->error);
		cell(p, "why", o->message);
		wr_buf_addstr(p->b, "</tr>\n");
	}
	return table_end(p, n);
}

static size_t open_breakers(struct rep *p)
{
	static const char *const cols[] = {"Workflow", "Breaker", "Open until", "#Opens", NULL};
	size_t n = 0;
	for (size_t i = 0; i < p->st->workflows.n; i++) {
		const struct wr_workflow *w = wr_map_at(&p->st->workflows, i);
		if (w->breaker == WR_BR_CLOSED)
			continue;
		row_open(p, &n, "Circuit breakers not closed: new runs are refused", cols);
		cell(p, NULL, w->name);
		cell(p, "poor", wr_breaker_name(w->breaker));
		when_cell(p, w->breaker == WR_BR_OPEN ? w->open_until : 0);
		wr_buf_addf(p->b, "<td class=\"n\">%lld</td></tr>\n", (long long)w->opens);
	}
	return table_end(p, n);
}

static size_t expired_leases(struct rep *p)
{
	static const char *const cols[] = {"Run", "Workflow", "Host", "Lease expired", NULL};
	size_t n = 0;
	for (size_t i = 0; i < p->st->runs.n; i++) {
		const struct wr_run *r = wr_map_at(&p->st->runs, i);
		const struct wr_attempt *a = wr_run_current(r);
		if (!wr_run_live(r) || !a || !a->lease_until || a->lease_until >= p->o->now)
			continue;
		row_open(p, &n, "Attempts whose supervisor went quiet: <code>wr-watch check</code>", cols);
		id_cell(p, r->id);
		cell(p, NULL, r->workflow);
		cell(p, NULL, a->host);
		when_cell(p, a->lease_until);
		wr_buf_addstr(p->b, "</tr>\n");
	}
	return table_end(p, n);
}

static void attention(struct rep *p, const struct wr_timeline *tl)
{
	struct wr_buf *b = p->b;
	wr_buf_addstr(b, "<section id=\"attention\">\n<h2>Needs a human</h2>\n");
	size_t mark = b->len;
	size_t n = blocked_runs(p, tl);
	n += dead_entries(p);
	n += open_breakers(p);
	n += expired_leases(p);
	p->attention = n;
	/* The summary goes first: insert it before the tables just written. */
	struct wr_buf s = {0};
	if (n)
		wr_buf_addf(&s, "<p class=\"banner bad\">%zu thing%s to look at.</p>\n", n,
			    n == 1 ? "" : "s");
	else
		wr_buf_addstr(&s, "<p class=\"banner ok\">Nothing needs a human: no run is blocked, no notification was "
				  "given up on, every breaker is closed.</p>\n");
	struct wr_buf rest = {0};
	if (b->len > mark)
		wr_buf_add(&rest, b->p + mark, b->len - mark);
	b->len = mark;
	wr_buf_addstr(b, wr_buf_str(&s));
	wr_buf_addstr(b, wr_buf_str(&rest));
	wr_buf_free(&s);
	wr_buf_free(&rest);
	wr_buf_addstr(b, "</section>\n");
}

/* ---- workflows ---------------------------------------------------------- */

static int64_t jint(json_t *o, const char *k1, const char *k2)
{
	json_t *v = json_object_get(o, k1);
	return json_integer_value(k2 ? json_object_get(v, k2) : v);
}

static void dur_cell(struct rep *p, json_t *v)
{
	char d[32];
	if (json_is_integer(v))
		wr_buf_addf(p->b, "<td class=\"n\">%s</td>", wr_dur_format(json_integer_value(v), d, sizeof d));
	else
		wr_buf_addstr(p->b, "<td class=\"n\">-</td>");
}

static void rate_cell(struct rep *p, json_t *rate)
{
	if (!json_is_number(rate)) {
		wr_buf_addstr(p->b, "<td class=\"n\">-</td>");
		return;
	}
	double r = json_number_value(rate);
	wr_buf_addf(p->b, "<td class=\"n %s\">%.1f%%</td>", r >= 0.95 ? "good" : r >= 0.8 ? "fair" : "poor", r * 100);
}

static void workflow_row(struct rep *p, json_t *w)
{
	struct wr_buf *b = p->b;
	wr_buf_addstr(b, "<tr>");
	cell(p, NULL, json_string_value(json_object_get(w, "workflow")));
	wr_buf_addf(b, "<td class=\"n\">%lld</td>", (long long)jint(w, "runs", NULL));
	rate_cell(p, json_object_get(w, "success_rate"));
	json_t *apr = json_object_get(w, "attempts_per_run");
	if (json_is_number(apr))
		wr_buf_addf(b, "<td class=\"n\">%.2f</td>", json_number_value(apr));
	else
		wr_buf_addstr(b, "<td class=\"n\">-</td>");
	json_t *d = json_object_get(w, "duration_ms");
	dur_cell(p, json_object_get(d, "p50"));
	dur_cell(p, json_object_get(d, "p95"));
	dur_cell(p, json_object_get(w, "mttr_ms"));
	wr_buf_addstr(b, "<td>");
	const char *k, *sep = "";
	json_t *v;
	json_object_foreach(json_object_get(w, "recoveries"), k, v)
	{
		if (!jint(v, "decisions", NULL))
			continue;
		wr_buf_addf(b, "%s%s %lld (%lld ok)", sep, k, (long long)jint(v, "decisions", NULL),
			    (long long)jint(v, "succeeded", NULL));
		sep = ", ";
	}
	wr_buf_addf(b, "%s</td><td class=\"n\">%lld / %lld / %lld</td>", *sep ? "" : "-", (long long)jint(w, "stuck", NULL),
		    (long long)jint(w, "timeout", NULL), (long long)jint(w, "lost", NULL));
	const char *br = json_string_value(json_object_get(w, "breaker"));
	cell(p, br && strcmp(br, "closed") ? "poor" : NULL, br);
	wr_buf_addstr(b, "</tr>\n");
}

static void workflows(struct rep *p, const struct wr_stats *s)
{
	static const char *const cols[] = {"Workflow", "#Runs", "#Success", "#Attempts/run", "#p50", "#p95",
					   "#MTTR",    "Recoveries", "#Stuck / timeout / lost", "Breaker", NULL};
	json_t *arr = wr_stats_workflows(s, p->st, NULL);
	wr_buf_addstr(p->b, "<section id=\"workflows\">\n<h2>Workflows</h2>\n");
	if (!json_array_size(arr)) {
		wr_buf_addstr(p->b, "<p class=\"meta\">No runs in this window.</p>\n");
	} else {
		head_row(p, cols);
		size_t i;
		json_t *w;
		json_array_foreach(arr, i, w) workflow_row(p, w);
		wr_buf_addstr(p->b, "</tbody></table>\n<p class=\"meta\">Success: succeeded of ended runs. p50, p95: "
				    "duration of successful attempts. MTTR: first failure to success. Recoveries: "
				    "decisions of wr-recover, ok when the next attempt succeeded.</p>\n");
	}
	wr_buf_addstr(p->b, "</section>\n");
	json_decref(arr);
}

/* ---- the page ----------------------------------------------------------- */

static void page_head(struct rep *p)
{
	struct wr_buf *b = p->b;
	char t[64], d[32];
	time_t now = (time_t)(p->o->now / 1000);
	struct tm tm;
	if (!localtime_r(&now, &tm) || !strftime(t, sizeof t, "%a %d %b %Y %H:%M %Z", &tm))
		t[0] = 0;
	wr_buf_addstr(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
			 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
			 "<meta name=\"color-scheme\" content=\"light dark\"/>\n<title>wr report");
	if (p->o->host) {
		wr_buf_addstr(b, " \xc2\xb7 ");
		wr_xml_add(b, p->o->host);
	}
	wr_buf_addf(b, " \xc2\xb7 %s</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>wr report</h1>\n", t, css);
	wr_buf_addf(b, "<p class=\"meta\">%s", t);
	if (p->o->host) {
		wr_buf_addstr(b, " on ");
		wr_xml_add(b, p->o->host);
	}
	if (p->o->since)
		wr_buf_addf(b, " \xc2\xb7 the last %s", wr_dur_format(p->o->now - p->o->since, d, sizeof d));
	else
		wr_buf_addstr(b, " \xc2\xb7 the whole ledger");
	wr_buf_addstr(b, " \xc2\xb7 <code>");
	wr_xml_add(b, p->o->ledger);
	wr_buf_addf(b, "</code> (%lld events)</p>\n</header>\n", (long long)p->st->events);
}

size_t wr_report_html(const struct wr_state *st, const struct wr_timeline *tl, const struct wr_stats *s,
		      const struct wr_report_opts *opts, struct wr_buf *out)
{
	struct rep p = {.st = st, .o = opts, .b = out};
	page_head(&p);
	attention(&p, tl);
	workflows(&p, s);
	wr_buf_addstr(out, "<section id=\"timeline\">\n<h2>Timeline</h2>\n<div class=\"timeline\">\n");
	struct wr_plot_opts po = {.now = opts->now, .since = opts->since, .embed = 1, .title = "Runs"};
	wr_plot_svg(st, tl, &po, out);
	wr_buf_addstr(out, "</div>\n</section>\n<footer>Written by wr-watch report (wr " WR_VERSION
			   "). Hover a bar for its attempt: outcome, exit status, duration, reason.</footer>\n"
			   "</body>\n</html>\n");
	return p.attention;
}
