/* timeline.c - per-run marks gathered during a replay (see timeline.h). */
#include "timeline.h"
#include "state.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const mark_names[WR_MARK__COUNT] = {"stuck", "blocked", "unblocked", "escalated", "rejected",
						       "cancelled"};

const char *wr_mark_name(enum wr_mark_kind k)
{
	return k < WR_MARK__COUNT ? mark_names[k] : "unknown";
}

void wr_timeline_init(struct wr_timeline *tl)
{
	memset(tl, 0, sizeof *tl);
}

static void free_marks(void *p)
{
	struct wr_marks *m = p;
	for (size_t i = 0; i < m->n; i++)
		free(m->m[i].why);
	free(m->m);
	free(m);
}

void wr_timeline_free(struct wr_timeline *tl)
{
	wr_map_free(&tl->runs, free_marks);
}

const struct wr_marks *wr_timeline_marks(const struct wr_timeline *tl, const char *run)
{
	return tl ? wr_map_get(&tl->runs, run) : NULL;
}

static void add_mark(struct wr_timeline *tl, const struct wr_event *ev, enum wr_mark_kind k, const char *why)
{
	struct wr_marks *m = wr_map_get(&tl->runs, ev->run);
	if (!m) {
		m = wr_xcalloc(1, sizeof *m);
		wr_map_put(&tl->runs, ev->run, m);
	}
	if (m->n >= WR_TL_MAX_MARKS) {
		m->dropped++;
		return;
	}
	WR_GROW(m->m, m->cap, m->n + 1);
	struct wr_mark *x = &m->m[m->n++];
	x->ts = ev->ts;
	x->attempt = ev->attempt;
	x->kind = k;
	x->why = why ? wr_xstrdup(why) : NULL;
}

void wr_timeline_on_events(void *ctx, const struct wr_event *evs, size_t n, const int *applied,
			   const char *const *why, int64_t line)
{
	struct wr_timeline *tl = ctx;
	(void)why;
	(void)line;
	for (size_t i = 0; i < n; i++) {
		const struct wr_event *ev = &evs[i];
		if (applied[i] != WR_APPLY_OK || !ev->run)
			continue;
		switch (ev->type) {
		case WR_EV_ATTEMPT_STUCK:
			add_mark(tl, ev, WR_MARK_STUCK,
				 wr_ev_str(ev, "detail") ? wr_ev_str(ev, "detail") : wr_ev_str(ev, "reason"));
			break;
		case WR_EV_RUN_BLOCKED:
			add_mark(tl, ev, WR_MARK_BLOCKED, wr_ev_str(ev, "reason"));
			break;
		case WR_EV_RUN_UNBLOCKED:
			add_mark(tl, ev, WR_MARK_UNBLOCKED, wr_ev_str(ev, "note"));
			break;
		case WR_EV_RUN_CANCELLED:
			add_mark(tl, ev, WR_MARK_CANCELLED, wr_ev_str(ev, "reason"));
			break;
		case WR_EV_ATTEMPT_REJECTED:
			add_mark(tl, ev, WR_MARK_REJECTED, wr_ev_str(ev, "reason"));
			break;
		case WR_EV_RECOVERY_DECIDED: {
			const char *act = wr_ev_str(ev, "action");
			if (act && !strcmp(act, "escalate"))
				add_mark(tl, ev, WR_MARK_ESCALATED, wr_ev_str(ev, "reason"));
			break;
		}
		default:
			break;
		}
	}
}
