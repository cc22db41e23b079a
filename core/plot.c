/* plot.c - the SVG timeline of runs (see plot.h).
 *
 * Layout, top to bottom: header (title, window, counts) and legend, the
 * time axis, then the rows. Left of the plot area is a gutter with the
 * workflow names and the runs' short ids; the plot area maps the window
 * [t0, t1] linearly onto [x0, x0 + pw]. Everything is built in one pass
 * over the selected runs after they are grouped and the folds chosen. */
#include "plot.h"
#include "decide.h"
#include "markup.h"
#include "timefmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOP 118        /* first row */
#define GUTTER 250     /* x of the plot area */
#define ROW_H 18       /* one run */
#define BAR_H 10
#define LANE_H 26      /* a folded workflow */
#define LANE_BAR_H 16
#define HEAD_H 26      /* a workflow's heading */
#define BOTTOM 36

static const struct {
	const char *name, *fill;
} colors[] = {
	{"success", "#2da44e"},  {"succeeded", "#2da44e"}, {"error", "#cf222e"},   {"failed", "#cf222e"},
	{"timeout", "#e3b341"},  {"stuck", "#f66a0a"},     {"lost", "#8250df"},    {"cancelled", "#8c959f"},
	{"rejected", "#bf3989"}, {"running", "#0969da"},   {"retry_wait", "#54aeff"}, {"blocked", "#a40e26"},
};

/* The legend's outcomes, in the order people read them. */
static const char *const legend_outcomes[] = {"success", "error", "timeout", "stuck",
					      "lost",    "cancelled", "rejected", "running"};

const char *wr_plot_color(const char *name)
{
	for (size_t i = 0; name && i < sizeof colors / sizeof *colors; i++)
		if (!strcmp(colors[i].name, name))
			return colors[i].fill;
	return "#6e7781";
}

struct group {
	const char *name;
	const struct wr_run **runs;
	size_t n, cap;
	int folded;
	size_t ok, failed, blocked, live;
};

struct plot {
	const struct wr_state *st;
	const struct wr_timeline *tl;
	const struct wr_plot_opts *o;
	struct wr_buf *b;
	int width, height;
	double x0, pw;
	int64_t t0, t1, now;
	struct group *g;
	size_t ng, nruns, nrows;
	int y;                 /* top of the row being drawn */
};

/* ---- time --------------------------------------------------------------- */

static double xt(const struct plot *p, int64_t t)
{
	double x = p->x0 + (double)(t - p->t0) * p->pw / (double)(p->t1 - p->t0);
	if (x < p->x0 - 6)
		return p->x0 - 6;
	if (x > p->x0 + p->pw + 6)
		return p->x0 + p->pw + 6;
	return x;
}

static struct tm local_tm(int64_t ms)
{
	time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;
	if (!localtime_r(&s, &tm))
		memset(&tm, 0, sizeof tm);
	return tm;
}

static const char *local_fmt(int64_t ms, const char *fmt, char *buf, size_t n)
{
	struct tm tm = local_tm(ms);
	if (!strftime(buf, n, fmt, &tm))
		buf[0] = 0;
	return buf;
}

static const int64_t steps[] = {
	1000,     2000,     5000,     10000,     15000,     30000,     60000,     120000,     300000,
	600000,   900000,   1800000,  3600000,   7200000,   10800000,  21600000,  43200000,   86400000,
	172800000, 604800000, 1209600000, 2592000000,
};

static int64_t tick_step(const struct plot *p)
{
	double room = p->pw / 96.0; /* labels need about 96 px each */
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
		if ((double)(p->t1 - p->t0) / (double)steps[i] <= room)
			return steps[i];
	return steps[sizeof steps / sizeof *steps - 1];
}

/* The first tick at or after t0 at a round local time for step, and the
 * next one after t: minutes by the local offset, hours and days by
 * mktime (DST moves the offset, not the wall-clock hour). */
static int64_t tick_next(int64_t t, int64_t step, int first)
{
	struct tm tm = local_tm(t);
	if (step < 3600000) {
		int64_t off = (int64_t)tm.tm_gmtoff * 1000;
		int64_t k = (t + off) / step * step - off;
		return first ? (k < t ? k + step : k) : k + step;
	}
	tm.tm_sec = tm.tm_min = 0;
	tm.tm_isdst = -1;
	if (step < 86400000) {
		int h = (int)(step / 3600000);
		tm.tm_hour -= tm.tm_hour % h;
		if (!first)
			tm.tm_hour += h;
	} else {
		tm.tm_hour = 0;
		if (!first)
			tm.tm_mday += (int)(step / 86400000);
	}
	int64_t k = (int64_t)mktime(&tm) * 1000;
	if (first && k < t)
		return tick_next(k, step, 0);
	return k > t || first ? k : t + step;
}

static void axis(struct plot *p, int y, int labels_below)
{
	struct wr_buf *b = p->b;
	int64_t step = tick_step(p);
	const char *fmt = step < 60000 ? "%H:%M:%S" : step < 86400000 ? "%H:%M" : "%a %d %b";
	char prev_day[32] = "", day[32], lab[32];
	int n = 0;
	for (int64_t t = tick_next(p->t0, step, 1); t <= p->t1 && n < 64; t = tick_next(t, step, 0), n++) {
		double x = xt(p, t);
		if (!labels_below)
			wr_buf_addf(b, "<line class=\"wr-grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", x, y + 4,
				    x, p->height - BOTTOM + 4);
		local_fmt(t, "%a %d %b", day, sizeof day);
		wr_buf_addf(b, "<text class=\"wr-tick\" x=\"%.1f\" y=\"%d\">%s</text>\n", x,
			    labels_below ? y + 16 : y - 4, local_fmt(t, fmt, lab, sizeof lab));
		if (step < 86400000 && strcmp(day, prev_day) && !labels_below)
			wr_buf_addf(b, "<text class=\"wr-tick wr-day\" x=\"%.1f\" y=\"%d\">%s</text>\n", x, y - 18, day);
		snprintf(prev_day, sizeof prev_day, "%s", day);
	}
	wr_buf_addf(b, "<line class=\"wr-axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", p->x0, y,
		    p->x0 + p->pw, y);
}

/* ---- selection ---------------------------------------------------------- */

static int unended(const struct wr_run *r)
{
	return r->status == WR_ST_RUNNING || r->status == WR_ST_RETRY_WAIT || r->status == WR_ST_BLOCKED;
}

static int selected(const struct plot *p, const struct wr_run *r)
{
	const struct wr_plot_opts *o = p->o;
	if (o->workflow && strcmp(o->workflow, r->workflow))
		return 0;
	if (o->since && r->updated_ts < o->since && !unended(r))
		return 0;
	return !o->keep || o->keep(r, o->keep_ctx);
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct group *)a)->name, ((const struct group *)b)->name);
}

static void count(struct group *g, const struct wr_run *r)
{
	if (r->status == WR_ST_SUCCEEDED)
		g->ok++;
	else if (r->status == WR_ST_FAILED)
		g->failed++;
	else if (r->status == WR_ST_BLOCKED)
		g->blocked++;
	else if (r->status == WR_ST_RUNNING)
		g->live++;
}

/* Groups the selected runs by workflow, sorted by name; folds the groups
 * past lane_limit, then the largest until the rows fit max_rows. */
static void group_runs(struct plot *p)
{
	struct wr_map idx = {0};
	size_t cap = 0;
	struct wr_runs_iter it;
	wr_runs_begin(&it, p->st);
	for (const struct wr_run *r; (r = wr_runs_next(&it));) {
		if (!selected(p, r))
			continue;
		r = wr_state_run(p->st, r->id); /* kept: the groups point into it */
		size_t *k = wr_map_get(&idx, r->workflow);
		if (!k) {
			WR_GROW(p->g, cap, p->ng + 1);
			memset(&p->g[p->ng], 0, sizeof *p->g);
			p->g[p->ng].name = r->workflow;
			k = wr_xmalloc(sizeof *k);
			*k = p->ng++;
			wr_map_put(&idx, r->workflow, k);
		}
		struct group *g = &p->g[*k];
		WR_GROW(g->runs, g->cap, g->n + 1);
		g->runs[g->n++] = r;
		count(g, r);
		p->nruns++;
	}
	wr_map_free(&idx, free);
	if (p->ng)
		qsort(p->g, p->ng, sizeof *p->g, cmp_group);
	size_t limit = p->o->lane_limit > 0 ? (size_t)p->o->lane_limit : 24;
	size_t max_rows = p->o->max_rows > 0 ? (size_t)p->o->max_rows : 300;
	p->nrows = 0;
	for (size_t i = 0; i < p->ng; i++) {
		p->g[i].folded = p->g[i].n > limit;
		p->nrows += p->g[i].folded ? 1 : p->g[i].n;
	}
	while (p->nrows > max_rows) {
		struct group *big = NULL;
		for (size_t i = 0; i < p->ng; i++)
			if (!p->g[i].folded && p->g[i].n > 1 && (!big || p->g[i].n > big->n))
				big = &p->g[i];
		if (!big)
			break;
		big->folded = 1;
		p->nrows -= big->n - 1;
	}
}

static int64_t attempt_end(const struct plot *p, const struct wr_run *r, size_t i)
{
	const struct wr_attempt *a = &r->att[i];
	if (a->finished)
		return a->finished_ts;
	if (i + 1 == r->natt && wr_run_live(r))
		return p->now;
	/* Never finished and superseded: it ended when its run moved on. */
	return i + 1 < r->natt ? r->att[i + 1].started_ts : r->updated_ts;
}

/* The window: --since to now, else the runs' first creation to their last
 * activity (now while one runs), with a little room either side. */
static void window(struct plot *p)
{
	p->now = p->o->now;
	if (p->o->since) {
		p->t0 = p->o->since;
		p->t1 = p->now > p->t0 ? p->now : p->t0 + 60000;
		return;
	}
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t k = 0; k < p->ng; k++)
		for (size_t i = 0; i < p->g[k].n; i++) {
			const struct wr_run *r = p->g[k].runs[i];
			lo = r->created_ts < lo ? r->created_ts : lo;
			int64_t end = wr_run_live(r) ? p->now : r->updated_ts;
			for (size_t j = 0; j < r->natt; j++)
				end = attempt_end(p, r, j) > end ? attempt_end(p, r, j) : end;
			hi = end > hi ? end : hi;
		}
	if (lo == INT64_MAX) {
		lo = p->now - 3600000;
		hi = p->now;
	}
	if (hi - lo < 2000)
		hi = lo + 2000;
	int64_t pad = (hi - lo) / 40;
	p->t0 = lo - pad;
	p->t1 = hi + pad;
}

/* ---- pieces ------------------------------------------------------------- */

static void add_dur(struct wr_buf *b, int64_t ms)
{
	char d[32];
	wr_buf_addstr(b, wr_dur_format(ms, d, sizeof d));
}

static void add_local(struct wr_buf *b, int64_t ms)
{
	char t[48];
	wr_buf_addstr(b, local_fmt(ms, "%Y-%m-%d %H:%M:%S", t, sizeof t));
}

/* The tooltip of an attempt, escaped, as a <title> element. */
static void attempt_title(struct plot *p, const struct wr_run *r, size_t i, int64_t end)
{
	struct wr_buf *b = p->b;
	const struct wr_attempt *a = &r->att[i];
	wr_buf_addstr(b, "<title>");
	wr_xml_add(b, r->workflow);
	wr_buf_addstr(b, " \xc2\xb7 run ");
	wr_xml_add(b, r->id);
	wr_buf_addf(b, "\nattempt %lld of %lld: ", (long long)a->n, (long long)r->policy.max_attempts);
	if (a->finished) {
		wr_buf_addstr(b, wr_outcome_name(a->outcome));
		wr_buf_addstr(b, " after ");
		add_dur(b, a->duration_ms > 0 ? a->duration_ms : end - a->started_ts);
		if (a->signal > 0)
			wr_buf_addf(b, ", signal %lld", (long long)a->signal);
		else if (a->exit_code >= 0)
			wr_buf_addf(b, ", exit status %lld", (long long)a->exit_code);
	} else {
		wr_buf_addstr(b, i + 1 == r->natt && wr_run_live(r) ? "running for " : "never finished, ");
		add_dur(b, end - a->started_ts);
	}
	if (a->reason) {
		wr_buf_addstr(b, "\nreason: ");
		wr_xml_add(b, a->reason);
	}
	if (a->stuck)
		wr_buf_addf(b, "\nreported stuck %d time%s", a->stuck, a->stuck == 1 ? "" : "s");
	wr_buf_addstr(b, "\n");
	add_local(b, a->started_ts);
	wr_buf_addstr(b, " \xe2\x86\x92 ");
	add_local(b, end);
	if (a->host && *a->host) {
		wr_buf_addstr(b, "\non ");
		wr_xml_add(b, a->host);
		wr_buf_addf(b, ", pid %lld", (long long)a->pid);
	}
	wr_buf_addstr(b, "</title>");
}

static const char *attempt_color(const struct wr_run *r, size_t i)
{
	const struct wr_attempt *a = &r->att[i];
	if (a->finished)
		return wr_plot_color(wr_outcome_name(a->outcome));
	if (i + 1 == r->natt && wr_run_live(r))
		return wr_plot_color("running");
	return wr_plot_color(NULL);
}

static void bar(struct plot *p, const struct wr_run *r, size_t i, double yc, int h)
{
	int64_t end = attempt_end(p, r, i);
	double x1 = xt(p, r->att[i].started_ts), x2 = xt(p, end);
	double w = x2 - x1 < 2 ? 2 : x2 - x1;
	wr_buf_addf(p->b, "<g><rect class=\"wr-bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"2\" fill=\"%s\"/>",
		    x1, yc - h / 2.0, w, h, attempt_color(r, i));
	attempt_title(p, r, i, end);
	wr_buf_addstr(p->b, "</g>\n");
}

static void marker(struct plot *p, const char *kind, double x, double yc, const struct wr_run *r,
		   const char *what, int64_t ts, const char *why)
{
	struct wr_buf *b = p->b;
	wr_buf_addf(b, "<g><use class=\"wr-mu\" xlink:href=\"#wr-m-%s\" x=\"%.1f\" y=\"%.1f\"/><title>", kind, x, yc);
	wr_xml_add(b, r->workflow);
	wr_buf_addstr(b, " \xc2\xb7 run ");
	wr_xml_add(b, r->id);
	wr_buf_addf(b, "\n%s at ", what);
	add_local(b, ts);
	if (why) {
		wr_buf_addstr(b, "\nreason: ");
		wr_xml_add(b, why);
	}
	wr_buf_addstr(b, "</title></g>\n");
}

static void line(struct plot *p, const char *cls, double x1, double x2, double y)
{
	if (x2 - x1 >= 1)
		wr_buf_addf(p->b, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cls, x1, y, x2,
			    y);
}

/* ---- a run's markers ---------------------------------------------------- */

struct mk {
	int64_t ts;
	const char *kind, *what, *why;
};

static int cmp_mk(const void *a, const void *b)
{
	int64_t x = ((const struct mk *)a)->ts, y = ((const struct mk *)b)->ts;
	return (x > y) - (x < y);
}

static void add_mk(struct mk **v, size_t *n, size_t *cap, int64_t ts, const char *kind, const char *what,
		   const char *why)
{
	WR_GROW(*v, *cap, *n + 1);
	(*v)[(*n)++] = (struct mk){ts, kind, what, why};
}

/* Rejections as thin bars; stuck, timeout, lost, blocked and escalated as
 * markers, in time order and nudged apart so that none hides another
 * (an escalation and its block share a moment). Returns the x of the
 * marker of the block the run is still in, or -1. */
static double run_marks(struct plot *p, const struct wr_run *r, double yc, int h)
{
	struct mk *v = NULL;
	size_t n = 0, cap = 0;
	int64_t blocked_at = 0;
	double blocked_x = -1;
	for (size_t i = 0; i < r->natt; i++) {
		const struct wr_attempt *a = &r->att[i];
		if (a->finished && a->outcome == WR_OUT_TIMEOUT)
			add_mk(&v, &n, &cap, a->finished_ts, "timeout", "timed out", a->reason);
		else if (a->finished && a->outcome == WR_OUT_LOST)
			add_mk(&v, &n, &cap, a->finished_ts, "lost", "lost", a->reason);
	}
	const struct wr_marks *m = wr_timeline_marks(p->tl, r->id);
	for (size_t i = 0; m && i < m->n; i++) {
		const struct wr_mark *x = &m->m[i];
		if (x->kind == WR_MARK_STUCK)
			add_mk(&v, &n, &cap, x->ts, "stuck", "reported stuck", x->why);
		else if (x->kind == WR_MARK_BLOCKED) {
			add_mk(&v, &n, &cap, x->ts, "blocked", "blocked", x->why);
			blocked_at = x->ts;
		} else if (x->kind == WR_MARK_UNBLOCKED)
			blocked_at = 0;
		else if (x->kind == WR_MARK_ESCALATED)
			add_mk(&v, &n, &cap, x->ts, "escalated", "escalated", x->why);
		else if (x->kind == WR_MARK_REJECTED) {
			wr_buf_addf(p->b, "<g><rect x=\"%.1f\" y=\"%.1f\" width=\"3\" height=\"%d\" fill=\"%s\"/><title>",
				    xt(p, x->ts) - 1.5, yc - h / 2.0, h, wr_plot_color("rejected"));
			wr_xml_add(p->b, r->workflow);
			wr_buf_addstr(p->b, " \xc2\xb7 run ");
			wr_xml_add(p->b, r->id);
			wr_buf_addstr(p->b, "\nrejected at ");
			add_local(p->b, x->ts);
			wr_buf_addstr(p->b, ": ");
			wr_xml_add(p->b, x->why);
			wr_buf_addstr(p->b, "</title></g>\n");
		}
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_mk);
	double last = -1e9;
	for (size_t i = 0; i < n; i++) {
		double x = xt(p, v[i].ts);
		if (x < last + 11)
			x = last + 11;
		marker(p, v[i].kind, x, yc, r, v[i].what, v[i].ts, v[i].why);
		if (v[i].ts == blocked_at && !strcmp(v[i].kind, "blocked"))
			blocked_x = x;
		last = x;
	}
	free(v);
	if (r->status != WR_ST_BLOCKED)
		return -1;
	return blocked_x >= 0 ? blocked_x : xt(p, r->updated_ts);
}

/* ---- rows --------------------------------------------------------------- */

static void status_text(struct plot *p, const struct wr_run *r, double x, double y)
{
	const char *st = wr_status_name(r->status);
	wr_buf_addf(p->b, "<text class=\"wr-st\" x=\"%.1f\" y=\"%.1f\" style=\"fill:%s\">%s</text>\n", x, y,
		    wr_plot_color(st), st);
	if (r->natt)
		wr_buf_addf(p->b, "<text class=\"wr-att\" x=\"%.1f\" y=\"%.1f\">%zu/%lld</text>\n", p->x0 - 12, y,
			    r->natt, (long long)r->policy.max_attempts);
}

static void run_row(struct plot *p, const struct wr_run *r, int zebra)
{
	struct wr_buf *b = p->b;
	double yc = p->y + ROW_H / 2.0;
	if (zebra)
		wr_buf_addf(b, "<rect class=\"wr-zebra\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", p->y, p->width,
			    ROW_H);
	wr_buf_addf(b, "<text class=\"wr-id\" x=\"28\" y=\"%.1f\"><title>", yc + 4);
	wr_xml_add(b, r->id);
	wr_buf_addstr(b, "</title>");
	wr_xml_add(b, wr_short_id(r->id));
	wr_buf_addstr(b, "</text>\n");
	status_text(p, r, 104, yc + 4);
	wr_buf_addstr(b, "<g clip-path=\"url(#wr-clip)\">\n");
	int64_t first = r->natt ? r->att[0].started_ts : (wr_run_live(r) || unended(r) ? p->now : r->updated_ts);
	line(p, "wr-queue", xt(p, r->created_ts), xt(p, first), yc);
	for (size_t i = 1; i < r->natt; i++)
		line(p, "wr-link", xt(p, attempt_end(p, r, i - 1)), xt(p, r->att[i].started_ts), yc);
	if (r->status == WR_ST_RETRY_WAIT && r->natt && r->next_retry_ts)
		line(p, "wr-wait", xt(p, attempt_end(p, r, r->natt - 1)), xt(p, r->next_retry_ts), yc);
	for (size_t i = 0; i < r->natt; i++)
		bar(p, r, i, yc, BAR_H);
	double blocked = run_marks(p, r, yc, BAR_H);
	if (blocked >= 0)
		line(p, "wr-still", blocked + 6, xt(p, p->t1 > p->now ? p->now : p->t1), yc);
	wr_buf_addstr(b, "</g>\n");
	p->y += ROW_H;
}

/* A folded workflow: every attempt in one lane, successes first so that
 * failures stay visible over them. */
static void lane(struct plot *p, const struct group *g)
{
	struct wr_buf *b = p->b;
	double yc = p->y + LANE_H / 2.0;
	wr_buf_addf(b, "<rect class=\"wr-zebra\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", p->y, p->width,
		    LANE_H);
	wr_buf_addf(b, "<text class=\"wr-st\" x=\"28\" y=\"%.1f\">%zu runs in one lane</text>\n", yc + 4, g->n);
	wr_buf_addstr(b, "<g clip-path=\"url(#wr-clip)\" class=\"wr-lane\">\n");
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < g->n; k++) {
			const struct wr_run *r = g->runs[k];
			for (size_t i = 0; i < r->natt; i++) {
				int ok = r->att[i].finished && r->att[i].outcome == WR_OUT_SUCCESS;
				if (ok == !pass)
					bar(p, r, i, yc, LANE_BAR_H);
			}
		}
	for (size_t k = 0; k < g->n; k++)
		run_marks(p, g->runs[k], yc, LANE_BAR_H);
	wr_buf_addstr(b, "</g>\n");
	p->y += LANE_H;
}

static void group_head(struct plot *p, const struct group *g)
{
	struct wr_buf *b = p->b;
	wr_buf_addf(b, "<text class=\"wr-wf\" x=\"16\" y=\"%d\">", p->y + 18);
	wr_xml_add_fit(b, g->name, 26);
	wr_buf_addstr(b, "<title>");
	wr_xml_add(b, g->name);
	wr_buf_addstr(b, "</title></text>\n");
	wr_buf_addf(b, "<text class=\"wr-count\" x=\"%.1f\" y=\"%d\">%zu run%s", p->x0, p->y + 18, g->n,
		    g->n == 1 ? "" : "s");
	if (g->ok)
		wr_buf_addf(b, " \xc2\xb7 %zu succeeded", g->ok);
	if (g->failed)
		wr_buf_addf(b, " \xc2\xb7 %zu failed", g->failed);
	if (g->blocked)
		wr_buf_addf(b, " \xc2\xb7 %zu blocked", g->blocked);
	if (g->live)
		wr_buf_addf(b, " \xc2\xb7 %zu running", g->live);
	wr_buf_addstr(b, "</text>\n");
	p->y += HEAD_H;
}

/* ---- frame -------------------------------------------------------------- */

static const char style[] =
	"<style>\n"
	".wr-plot{font-family:system-ui,-apple-system,\"Segoe UI\",\"DejaVu Sans\",sans-serif;font-size:12px}\n"
	".wr-plot .wr-bg{fill:#ffffff}\n"
	".wr-plot text{fill:#1f2328}\n"
	".wr-plot .wr-sub,.wr-plot .wr-tick,.wr-plot .wr-count,.wr-plot .wr-lg{fill:#59636e}\n"
	".wr-plot .wr-h1{font-size:17px;font-weight:600}\n"
	".wr-plot .wr-wf{font-size:13px;font-weight:600}\n"
	".wr-plot .wr-id{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:11px}\n"
	".wr-plot .wr-st{font-size:11px}\n"
	".wr-plot .wr-att{font-size:11px;text-anchor:end;fill:#59636e}\n"
	".wr-plot .wr-tick{font-size:11px;text-anchor:middle}\n"
	".wr-plot .wr-day{font-weight:600;fill:#1f2328}\n"
	".wr-plot .wr-grid{stroke:#d8dee4}\n"
	".wr-plot .wr-axis{stroke:#818b98}\n"
	".wr-plot .wr-zebra{fill:#f6f8fa}\n"
	".wr-plot .wr-queue{stroke:#afb8c1}\n"
	".wr-plot .wr-link{stroke:#59636e;stroke-width:1.2;stroke-dasharray:3 2}\n"
	".wr-plot .wr-wait{stroke:#0969da;stroke-width:1.2;stroke-dasharray:1 2}\n"
	".wr-plot .wr-still{stroke:#cf222e;stroke-width:1.5;stroke-dasharray:4 3}\n"
	".wr-plot .wr-now{stroke:#0969da;stroke-dasharray:2 3}\n"
	".wr-plot .wr-nowt{fill:#0969da;font-size:11px;text-anchor:middle}\n"
	".wr-plot .wr-lane .wr-bar{opacity:.85}\n"
	".wr-plot .wr-mu{fill:#1f2328;stroke:#ffffff;color:#1f2328}\n"
	"@media (prefers-color-scheme:dark){\n"
	".wr-plot .wr-bg{fill:#0d1117}\n"
	".wr-plot text,.wr-plot .wr-day{fill:#e6edf3}\n"
	".wr-plot .wr-sub,.wr-plot .wr-tick,.wr-plot .wr-count,.wr-plot .wr-lg,.wr-plot .wr-att{fill:#9198a1}\n"
	".wr-plot .wr-grid{stroke:#262c36}\n"
	".wr-plot .wr-zebra{fill:#151b23}\n"
	".wr-plot .wr-queue{stroke:#3d444d}\n"
	".wr-plot .wr-link{stroke:#9198a1}\n"
	".wr-plot .wr-mu{fill:#f0f6fc;stroke:#0d1117;color:#f0f6fc}\n"
	"}\n"
	"</style>\n";

/* Markers are drawn with <use>: what they fill and stroke with comes from
 * the <use> element's inherited fill, stroke and color (class wr-mu), so
 * that dark mode reaches into the copies. */
static const char defs[] =
	"<g id=\"wr-m-stuck\"><path stroke-width=\"1.2\" paint-order=\"stroke\" d=\"M0-5.5L5.5 0L0 5.5L-5.5 0Z\"/></g>\n"
	"<g id=\"wr-m-timeout\"><path stroke-width=\"1.2\" paint-order=\"stroke\" d=\"M-4.5-5.5H4.5L-4.5 5.5H4.5Z\"/></g>\n"
	"<g id=\"wr-m-lost\" fill=\"none\"><path stroke-width=\"4.5\" d=\"M-4-4L4 4M4-4L-4 4\"/>"
	"<path stroke=\"currentColor\" stroke-width=\"2.2\" d=\"M-4-4L4 4M4-4L-4 4\"/></g>\n"
	"<g id=\"wr-m-blocked\"><rect stroke-width=\"1.2\" paint-order=\"stroke\" x=\"-5\" y=\"-5\" width=\"10\" "
	"height=\"10\" rx=\"1\"/></g>\n"
	"<g id=\"wr-m-escalated\"><path stroke-width=\"1.2\" paint-order=\"stroke\" d=\"M0-6L6 5H-6Z\"/></g>\n";

static const char *const legend_markers[][2] = {
	{"stuck", "stuck"}, {"timeout", "timeout"}, {"lost", "lost"}, {"blocked", "blocked"}, {"escalated", "escalated"},
};

/* Draws the legend from y (when draw) and returns its number of lines. */
static int legend(struct plot *p, int y, int draw)
{
	double x = 16, right = p->width - 16;
	int lines = 1;
	size_t no = sizeof legend_outcomes / sizeof *legend_outcomes;
	size_t nm = sizeof legend_markers / sizeof *legend_markers;
	for (size_t i = 0; i < no + nm; i++) {
		const char *label = i < no ? legend_outcomes[i] : legend_markers[i - no][1];
		double w = 22 + 6.6 * (double)strlen(label) + 14 + (i == no ? 14 : 0);
		if (x + w > right) {
			x = 16;
			y += 20;
			lines++;
		}
		if (i == no)
			x += 14; /* a gap between bars and markers */
		if (draw && i < no)
			wr_buf_addf(p->b, "<rect x=\"%.1f\" y=\"%d\" width=\"16\" height=\"10\" rx=\"2\" fill=\"%s\"/>", x,
				    y - 9, wr_plot_color(label));
		else if (draw)
			wr_buf_addf(p->b, "<use class=\"wr-mu\" xlink:href=\"#wr-m-%s\" x=\"%.1f\" y=\"%d\"/>", legend_markers[i - no][0],
				    x + 8, y - 4);
		if (draw)
			wr_buf_addf(p->b, "<text class=\"wr-lg\" x=\"%.1f\" y=\"%d\">%s</text>\n", x + 22, y, label);
		x += w - (i == no ? 14 : 0);
	}
	return lines;
}

static void header(struct plot *p)
{
	struct wr_buf *b = p->b;
	char t0[48], t1[48], tz[16], d0[16], d1[16];
	wr_buf_addstr(b, "<text class=\"wr-h1\" x=\"16\" y=\"28\">");
	wr_xml_add(b, p->o->title ? p->o->title : "wr runs");
	wr_buf_addstr(b, "</text>\n<text class=\"wr-sub\" x=\"16\" y=\"48\">");
	wr_buf_addf(b, "%zu run%s in %zu workflow%s", p->nruns, p->nruns == 1 ? "" : "s", p->ng, p->ng == 1 ? "" : "s");
	if (p->o->workflow) {
		wr_buf_addstr(b, " (only ");
		wr_xml_add_fit(b, p->o->workflow, 40);
		wr_buf_addstr(b, ")");
	}
	local_fmt(p->t0, "%Y%m%d", d0, sizeof d0);
	local_fmt(p->t1, "%Y%m%d", d1, sizeof d1);
	wr_buf_addf(b, " \xc2\xb7 %s \xe2\x80\x93 %s %s</text>\n", local_fmt(p->t0, "%a %d %b %Y %H:%M", t0, sizeof t0),
		    local_fmt(p->t1, strcmp(d0, d1) ? "%a %d %b %Y %H:%M" : "%H:%M", t1, sizeof t1),
		    local_fmt(p->t1, "%Z", tz, sizeof tz));
}

static int rows_height(const struct plot *p)
{
	int h = 0;
	for (size_t i = 0; i < p->ng; i++)
		h += HEAD_H + (p->g[i].folded ? LANE_H : (int)p->g[i].n * ROW_H);
	return p->ng ? h : 40;
}

static void body(struct plot *p)
{
	if (!p->ng)
		wr_buf_addf(p->b, "<text class=\"wr-sub\" x=\"%.1f\" y=\"%d\">no runs in this window</text>\n", p->x0,
			    p->y + 26);
	for (size_t i = 0; i < p->ng; i++) {
		group_head(p, &p->g[i]);
		if (p->g[i].folded)
			lane(p, &p->g[i]);
		else
			for (size_t k = 0; k < p->g[i].n; k++)
				run_row(p, p->g[i].runs[k], (int)(k % 2 == 0));
	}
}

size_t wr_plot_svg(const struct wr_state *st, const struct wr_timeline *tl, const struct wr_plot_opts *opts,
		   struct wr_buf *out)
{
	struct plot p = {.st = st, .tl = tl, .o = opts, .b = out};
	p.width = opts->width > 0 ? opts->width : 1200;
	if (p.width < 640)
		p.width = 640;
	p.x0 = GUTTER;
	p.pw = p.width - GUTTER - 28;
	group_runs(&p);
	window(&p);
	int axis_y = 64 + 20 * legend(&p, 0, 0) + 28;
	int rows_y = axis_y + 6, bottom_axis = p.nrows > 30;
	p.height = rows_y + rows_height(&p) + BOTTOM + (bottom_axis ? 12 : 0);
	if (!opts->embed)
		wr_buf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	wr_buf_addf(out,
		    "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
		    "class=\"wr-plot\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
		    p.width, p.height, p.width, p.height);
	wr_buf_addstr(out, style);
	wr_buf_addf(out, "<defs>\n%s<clipPath id=\"wr-clip\"><rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"%d\"/>"
			 "</clipPath>\n</defs>\n",
		    defs, p.x0 - 1, p.pw + 8, p.height);
	wr_buf_addf(out, "<rect class=\"wr-bg\" width=\"%d\" height=\"%d\"/>\n", p.width, p.height);
	header(&p);
	legend(&p, 72, 1);
	axis(&p, axis_y, 0);
	if (bottom_axis)
		axis(&p, p.height - BOTTOM + 4, 1);
	p.y = rows_y;
	body(&p);
	if (p.now >= p.t0 && p.now <= p.t1) {
		double x = xt(&p, p.now);
		wr_buf_addf(out, "<line class=\"wr-now\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, axis_y, x,
			    p.height - BOTTOM + 4);
		wr_buf_addf(out, "<text class=\"wr-nowt\" x=\"%.1f\" y=\"%d\">now</text>\n", x, p.height - 8);
	}
	wr_buf_addstr(out, "</svg>\n");
	for (size_t i = 0; i < p.ng; i++)
		free(p.g[i].runs);
	free(p.g);
	return p.nruns;
}
