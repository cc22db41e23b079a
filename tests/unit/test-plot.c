/* test-plot - escaping for SVG and HTML (core/markup.c), colours by name,
 * and the timeline's folding and axis (core/plot.c) on a state built in
 * memory. */
#include "tap.h"
#include "markup.h"
#include "plot.h"
#include "state.h"
#include "timeline.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static char *esc(const char *s)
{
	struct wr_buf b = {0};
	wr_xml_add(&b, s);
	char *r = wr_xstrdup(wr_buf_str(&b));
	wr_buf_free(&b);
	return r;
}

static void check_esc(const char *in, const char *want, const char *what)
{
	char *got = esc(in);
	is_str(got, want, "%s", what);
	free(got);
}

static void markup(void)
{
	check_esc("plain name-1_2.x", "plain name-1_2.x", "plain ASCII as is");
	check_esc("<a href=\"x\">&'</a>", "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;", "the five markup characters");
	check_esc("]]><!--", "]]&gt;&lt;!--", "CDATA and comment openers are harmless");
	check_esc("tab\tnl\ncr\r", "tab\tnl\ncr\r", "tab, newline and CR are kept");
	check_esc("a\x01" "b\x1b[31m", "a\xef\xbf\xbd" "b\xef\xbf\xbd[31m", "C0 controls become U+FFFD");
	check_esc("del\x7f c1\xc2\x85", "del\xef\xbf\xbd c1\xef\xbf\xbd", "DEL and C1 controls become U+FFFD");
	check_esc("non\xef\xbf\xbe\xef\xbf\xbf", "non\xef\xbf\xbd\xef\xbf\xbd", "U+FFFE and U+FFFF (not XML 1.0) become U+FFFD");
	check_esc("\xe2\x80\xae" "evil\xe2\x81\xa6", "\xef\xbf\xbd" "evil\xef\xbf\xbd", "bidi overrides and isolates become U+FFFD");
	check_esc("bad\xff\xc3", "bad\xef\xbf\xbd\xef\xbf\xbd", "bytes that are not UTF-8 become U+FFFD");
	check_esc("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x9a\x80", "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x9a\x80", "other characters as is");
	struct wr_buf b = {0};
	wr_xml_add(&b, NULL);
	is_int(b.len, 0, "NULL adds nothing");
	wr_xml_add_fit(&b, "<<<<<<<<<<", 4);
	is_str(wr_buf_str(&b), "&lt;&lt;&lt;\xe2\x80\xa6", "cut to the width first, then escaped");
	wr_buf_free(&b);
}

static void colors(void)
{
	is_str(wr_plot_color("success"), "#2da44e", "success is green");
	is_str(wr_plot_color("rejected"), "#bf3989", "rejected, by name");
	is_str(wr_plot_color("running"), "#0969da", "running is blue");
	is_str(wr_plot_color("no-such-outcome"), "#6e7781", "an unknown name is grey");
	is_str(wr_plot_color(NULL), "#6e7781", "no name is grey");
}

static void apply(struct wr_state *st, struct wr_timeline *tl, const char *line)
{
	struct wr_event ev;
	struct wr_decode_err err;
	if (wr_event_decode(line, strlen(line), &ev, &err) < 0) {
		printf("# bad fixture line: %s: %s\n", line, err.msg);
		exit(1);
	}
	int applied = wr_state_apply(st, &ev, NULL);
	const char *why = NULL;
	wr_timeline_on_events(tl, &ev, 1, &applied, &why, 0);
	wr_event_clear(&ev);
}

/* n runs of workflow wf, one a minute from 10:00 UTC on 1 Nov 2026, each
 * a success of 30 s. */
static void runs(struct wr_state *st, struct wr_timeline *tl, const char *wf, int n, int *seq)
{
	char line[512];
	for (int i = 0; i < n; i++) {
		char id[64];
		snprintf(id, sizeof id, "0190ffff-0000-7000-8000-%012d", *seq);
		snprintf(line, sizeof line,
			 "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-01T10:%02d:00Z\",\"type\":\"run.created\",\"by\":\"t/1\","
			 "\"run\":\"%s\",\"workflow\":\"%s\",\"argv\":[\"x\"],\"cwd\":\"/\",\"policy\":{}}",
			 ++*seq, i % 60, id, wf);
		apply(st, tl, line);
		snprintf(line, sizeof line,
			 "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-01T10:%02d:00Z\",\"type\":\"attempt.started\",\"by\":\"t/1\","
			 "\"run\":\"%s\",\"attempt\":1,\"host\":\"h\",\"pid\":1,\"pid_start\":1,"
			 "\"lease_until\":\"2099-01-01T00:00:00Z\"}",
			 ++*seq, i % 60, id);
		apply(st, tl, line);
		snprintf(line, sizeof line,
			 "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-01T10:%02d:30Z\",\"type\":\"attempt.finished\",\"by\":\"t/1\","
			 "\"run\":\"%s\",\"attempt\":1,\"outcome\":\"success\"}",
			 ++*seq, i % 60, id);
		apply(st, tl, line);
	}
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void plot(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	struct wr_state st;
	struct wr_timeline tl;
	wr_state_init(&st);
	wr_timeline_init(&tl);
	struct wr_plot_opts o = {.now = 1793532000000LL}; /* 2026-11-01T11:20Z */
	struct wr_buf b = {0};
	is_int(wr_plot_svg(&st, &tl, &o, &b), 0, "an empty state: no runs drawn");
	ok(strstr(wr_buf_str(&b), "no runs in this window") != NULL, "and it says so");
	ok(!strncmp(b.p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44), "a standalone SVG starts with the XML declaration");
	wr_buf_free(&b);

	int seq = 0;
	runs(&st, &tl, "big", 25, &seq);
	runs(&st, &tl, "small", 3, &seq);
	memset(&b, 0, sizeof b);
	is_int(wr_plot_svg(&st, &tl, &o, &b), 28, "28 runs drawn");
	const char *svg = wr_buf_str(&b);
	ok(strstr(svg, ">25 runs in one lane<") != NULL, "25 runs (more than 24) fold into one lane");
	is_int(count(svg, "class=\"wr-id\""), 3, "the 3 runs of small keep their rows");
	is_int(count(svg, "class=\"wr-bar\""), 28, "a bar per attempt, folded ones too");
	ok(strstr(svg, ">10:00</text>") && strstr(svg, ">10:10</text>"), "ticks at round local times (10:00, 10:10)");
	ok(strstr(svg, "big") < strstr(svg, "small"), "workflows by name");
	wr_buf_free(&b);

	o.embed = 1;
	o.lane_limit = 2;
	memset(&b, 0, sizeof b);
	wr_plot_svg(&st, &tl, &o, &b);
	ok(!strncmp(b.p, "<svg ", 5), "embedded: no XML declaration");
	ok(strstr(b.p, ">3 runs in one lane<") != NULL, "lane_limit 2 folds small too");
	wr_buf_free(&b);

	o.lane_limit = 30;
	o.max_rows = 10;
	memset(&b, 0, sizeof b);
	wr_plot_svg(&st, &tl, &o, &b);
	ok(strstr(b.p, ">25 runs in one lane<") && count(b.p, "class=\"wr-id\"") == 3,
	   "past max_rows the largest workflow folds first");
	wr_buf_free(&b);

	o.max_rows = 0;
	o.workflow = "small";
	memset(&b, 0, sizeof b);
	is_int(wr_plot_svg(&st, &tl, &o, &b), 3, "--workflow: only its runs");
	wr_buf_free(&b);
	wr_timeline_free(&tl);
	wr_state_free(&st);
}

int main(void)
{
	markup();
	colors();
	plot();
	return done_testing();
}
