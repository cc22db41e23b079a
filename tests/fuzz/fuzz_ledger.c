/* fuzz_ledger.c - libFuzzer target over what reads a ledger (issue 7).
 *
 * The input is a ledger file. Each line goes through wr_event_decode
 * (simdjson first) and wr_event_decode_ref (jansson alone), which must
 * agree: the same event, or the same message at the same column and
 * field; the good ones go through the reducer (wr_state_apply) and the JSON views of
 * what they built; then the whole input is scanned from a file descriptor
 * by wr_scan_run (line splitting, seq checks, batch reassembly, torn tail)
 * into a second state, with wr-watch's statistics gathered on the way.
 * The first state is built twice, the second time with a cold store that
 * seals every few records (core/cold.h): their dumps must be the same.
 * Last the input is taken as a cold segment file: refused or read, never
 * a crash.
 * Built by tests/fuzz/run.sh with clang -fsanitize=fuzzer,address,undefined. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cold.h"
#include "event.h"
#include "scan.h"
#include "snapshot.h"
#include "state.h"
#include "stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void views(const struct wr_state *st)
{
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *r; (r = wr_runs_next(&it));)
		json_decref(wr_run_to_json(r));
	for (size_t i = 0; i < st->workflows.n; i++)
		json_decref(wr_workflow_to_json(wr_map_at(&st->workflows, i)));
	for (size_t i = 0; i < wr_state_outboxes(st)->n; i++)
		json_decref(wr_outbox_to_json(wr_map_at(wr_state_outboxes(st), i)));
}

struct scan_ctx {
	struct wr_state st;
	struct wr_stats stats;
	size_t errors;
};

static void on_events(void *vctx, const struct wr_event *evs, size_t n, int64_t line, off_t off)
{
	struct scan_ctx *c = vctx;
	int applied[64];
	const char *why[64];
	(void)off;
	for (size_t i = 0; i < n; i++) {
		int r = wr_state_apply(&c->st, &evs[i], i < 64 ? &why[i] : NULL);
		if (i < 64)
			applied[i] = r;
	}
	if (n <= 64)
		wr_stats_on_events(&c->stats, evs, n, applied, why, line);
}

static void on_error(void *vctx, const struct wr_scan_error *e)
{
	struct scan_ctx *c = vctx;
	c->errors++;
	if (!e->path || !e->msg || e->line < 1)
		abort();
}

static int memfd = -1;

/* Decodes and applies every line of data to st. */
static void reduce(struct wr_state *st, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct wr_event ev, ref;
		struct wr_decode_err err, rerr;
		int rc = wr_event_decode(p, len, &ev, &err), rrc = wr_event_decode_ref(p, len, &ref, &rerr);
		if (rc != rrc)
			abort(); /* the two decoders differ */
		if (rc == 0) {
			if (!wr_event_equal(&ev, &ref) || !json_equal(wr_ev_obj(&ev), wr_ev_obj(&ref)))
				abort();
			const char *why = NULL;
			wr_state_apply(st, &ev, &why);
			wr_event_clear(&ev);
			wr_event_clear(&ref);
		} else if (err.msg[0] == 0 || err.column < 0) {
			abort(); /* a refusal must say why */
		} else if (err.column != rerr.column || strcmp(err.field, rerr.field) || strcmp(err.msg, rerr.msg)) {
			abort();
		}
		p += len + 1;
	}
}

/* The input as a segment file: attached or refused; read when attached. */
static void as_segment(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof path, "/tmp/wr-fuzz-seg.%ld", (long)getpid());
	FILE *f = fopen(path, "w");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	uint64_t tag = 0, n = 0;
	if (size >= 64) {
		memcpy(&n, data + 16, 8);
		memcpy(&tag, data + 48, 8);
	}
	struct wr_state st;
	wr_state_init(&st);
	wr_cold_bind(&st, wr_cold_new());
	if (wr_cold_attach(st.cold, path, tag, n) == 0) {
		st.nruns = (int64_t)n;
		views(&st);
		char *d = wr_state_dump_text(&st);
		free(d);
		size_t k;
		wr_cold_find(st.cold, "0", 0, &k);
		wr_cold_find(st.cold, "0", 1, &k);
	}
	wr_state_free(&st);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 1. Line by line: decode, reduce; again with ended runs cold. */
	struct wr_state st, cold;
	wr_state_init(&st);
	reduce(&st, data, size);
	views(&st);
	wr_state_init(&cold);
	wr_cold_bind(&cold, wr_cold_new());
	cold.cold->seal_bytes = 512;
	cold.hot_ended_max = 1;
	reduce(&cold, data, size);
	char *a = wr_state_dump_text(&st), *b = wr_state_dump_text(&cold);
	if (strcmp(a, b))
		abort(); /* the cold store changed the state */
	free(a);
	free(b);
	views(&cold);
	wr_state_free(&cold);
	wr_state_free(&st);
	as_segment(data, size);

	/* 2. The same bytes as a file, through the scanner. */
	if (memfd < 0 && (memfd = memfd_create("ledger", 0)) < 0)
		abort();
	if (ftruncate(memfd, 0) < 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	struct scan_ctx c;
	memset(&c, 0, sizeof c);
	wr_state_init(&c.st);
	wr_stats_init(&c.stats, 0);
	c.stats.st = &c.st;
	struct wr_scan s;
	wr_scan_init(&s, memfd, "fuzz.jsonl");
	struct wr_scan_cb cb = {&c, on_events, on_error, NULL};
	if (wr_scan_run(&s, &cb) < 0)
		abort();
	if (s.off > (off_t)size || s.end != (off_t)size || (s.torn && s.off == (off_t)size && size))
		abort(); /* consumed no more than there is; a torn tail is bytes */
	views(&c.st);
	json_decref(wr_stats_workflows(&c.stats, &c.st, NULL));
	wr_stats_free(&c.stats);
	wr_state_free(&c.st);
	return 0;
}
