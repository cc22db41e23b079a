/* test-cold - ended runs out of the heap (core/cold.h): a state that moves
 * them to pending records, anonymous segments and segment files is the
 * state of one that keeps them all as structs; lookups by id, prefix and
 * suffix find them; a damaged, truncated or foreign segment is refused. */
#include "tap.h"
#include "helpers.h"

#include "cold.h"
#include "snapshot.h"

#include <fcntl.h>

/* The same events applied to a (all runs as structs) and b (a cold store
 * that seals every seal bytes). */
struct pair {
	struct t_fx a, b;
};

static void both(struct pair *p, void (*fn)(struct t_fx *, int), int i)
{
	fn(&p->a, i);
	fn(&p->b, i);
}

static void run_id(char *out, size_t n, int i)
{
	snprintf(out, n, "0190%04d-0000-7000-8000-%012d", i, i * 7);
}

/* Run i: succeeds (most), fails for good (i % 7: stays hot, failed), or
 * is cancelled; every 11th gets a stale heartbeat after it ended. */
static void one_run(struct t_fx *f, int i)
{
	char id[64];
	run_id(id, sizeof id, i);
	int64_t ts = T0 + i * SEC;
	fx_created(f, ts, id, i % 3 ? "wf-a" : "wf-b", "{\"max_attempts\":1}");
	if (i % 13 == 0) {
		fx_ev(f, ts, "run.cancelled", "\"run\":\"%s\",\"reason\":\"no\"", id);
		return;
	}
	fx_attempt(f, ts, id, 1, i % 7 ? "success" : "error", i % 7 ? 0 : 1);
	if (i % 11 == 0)
		fx_heartbeat(f, ts + 2 * SEC, id, 1, ts + MIN);
}

static void same(const struct wr_state *a, const struct wr_state *b, const char *what)
{
	char *x = wr_state_dump_text(a), *y = wr_state_dump_text(b);
	is_str(y, x, "%s", what);
	free(x);
	free(y);
}

/* A flipped byte in a block of the index: the segment attaches (blocks are
 * checked when read), a lookup through that block finds nothing and says
 * the store is damaged. */
static void index_block(const struct wr_cold_seg *s0, char *bytes, size_t n, const char *bad)
{
	size_t at = (size_t)s0->recs_end + 8 * (size_t)(s0->n / 2) + 1;
	bytes[at] ^= 0x40;
	t_write(bad, bytes, n);
	bytes[at] ^= 0x40;
	struct wr_cold *c = wr_cold_new();
	ok(wr_cold_attach(c, bad, s0->tag, s0->n) == 0 && !wr_cold_damaged(c), "a flipped byte in an index block: attached");
	char id[64];
	run_id(id, sizeof id, 600);
	ok(!wr_cold_has(c, id) && wr_cold_damaged(c), "a lookup through the block: nothing, the store damaged");
	wr_cold_free(c);
}

static void equivalence(void)
{
	struct pair p;
	fx_init(&p.a);
	fx_init(&p.b);
	wr_cold_bind(&p.b.st, wr_cold_new());
	p.b.st.hot_ended_max = 4;
	p.b.st.cold->seal_bytes = 16 * 1024; /* several anonymous segments */
	for (int i = 0; i < 600; i++)
		both(&p, one_run, i);
	ok(p.b.st.runs.n < 200, "most ended runs left the heap (%zu hot)", p.b.st.runs.n);
	ok(p.b.st.cold->nseg >= 2, "in %zu anonymous segments", p.b.st.cold->nseg);
	is_int(wr_state_nruns(&p.b.st), 600, "600 runs in all");
	same(&p.a.st, &p.b.st, "the dump of the state is that of all runs in the heap");

	char id[64];
	run_id(id, sizeof id, 22);
	struct wr_run *r = wr_state_run(&p.b.st, id);
	ok(r && r->stale == 1 && r->status == WR_ST_SUCCEEDED, "a cold run by id, with its stale event");
	int amb;
	ok(wr_state_find_run(&p.b.st, "01900022", &amb) == r, "by prefix");
	ok(wr_state_find_run(&p.b.st, "000000000154", &amb) == r, "by suffix");
	ok(!wr_state_find_run(&p.b.st, "0190002", &amb) && amb, "an ambiguous prefix across hot and cold");
	is_int(fx_created(&p.b, T0, id, "wf-a", "{}"), WR_APPLY_INVALID, "a cold run cannot be created twice");
	fx_created(&p.a, T0, id, "wf-a", "{}");
	is_int(fx_heartbeat(&p.b, T0 + HOUR, id, 1, T0 + 2 * HOUR), WR_APPLY_STALE, "a late event of a cold run");
	fx_heartbeat(&p.a, T0 + HOUR, id, 1, T0 + 2 * HOUR);
	same(&p.a.st, &p.b.st, "and still the same state");

	/* Files: persist, attach to a fresh store, same state. */
	const char *led = t_path("l.jsonl");
	int files = wr_cold_persist(p.b.st.cold, led);
	ok(files >= 1 && wr_cold_persisted(p.b.st.cold), "persisted in %d file(s)", files);
	same(&p.a.st, &p.b.st, "the same state from segment files");
	struct wr_cold *c2 = wr_cold_new();
	int attached = 0;
	for (size_t i = 0; i < p.b.st.cold->nseg; i++)
		attached += wr_cold_attach(c2, p.b.st.cold->seg[i].path, p.b.st.cold->seg[i].tag,
					   p.b.st.cold->seg[i].n) == 0;
	is_int(attached, (int)p.b.st.cold->nseg, "each file attaches");
	struct wr_cold_seg s0 = p.b.st.cold->seg[0];
	ok(wr_cold_attach(c2, s0.path, s0.tag + 1, s0.n) < 0, "not with another tag");
	wr_cold_free(c2);

	/* A damaged copy, a truncated one, a foreign file: refused. */
	size_t n;
	char *bytes = t_read(s0.path, &n);
	const char *bad = t_path("l.jsonl.cold.bad");
	c2 = wr_cold_new();
	bytes[n - 3] ^= 0x40; /* in the index (records have a hash each) */
	t_write(bad, bytes, n);
	int refused = 0;
	refused += wr_cold_attach(c2, bad, s0.tag, s0.n) < 0;
	bytes[n - 3] ^= 0x40;
	t_write(bad, bytes, n - 8);
	refused += wr_cold_attach(c2, bad, s0.tag, s0.n) < 0;
	t_write(bad, "WRCOLD\r\nnot a segment at all, but long enough to have a header of 64 bytes", 75);
	refused += wr_cold_attach(c2, bad, s0.tag, s0.n) < 0;
	t_write(bad, bytes, n);
	refused += wr_cold_attach(c2, bad, s0.tag, s0.n) == 0;
	is_int(refused, 4, "a flipped byte in the index, a truncation, a foreign file refused; the intact copy taken");
	wr_cold_free(c2);
	index_block(&s0, bytes, n, bad);
	free(bytes);
	unlink(bad);
	ok(wr_cold_gc(p.b.st.cold, led) == 0, "gc keeps the files in use");
	fx_free(&p.a);
	fx_free(&p.b);
}

/* A record whose payload is damaged is never decoded. */
static void damaged_record(void)
{
	struct t_fx f;
	fx_init(&f);
	wr_cold_bind(&f.st, wr_cold_new());
	for (int i = 0; i < 100; i++)
		one_run(&f, i);
	struct wr_cold *c = f.st.cold;
	ok(c->npend > 0, "pending records");
	c->buf.p[c->pend[0].off + 40] ^= 1;
	char id[64];
	run_id(id, sizeof id, 0); /* cancelled: the first to end */
	ok(!wr_state_run(&f.st, id) && wr_cold_damaged(c), "a record with a bad hash: no run, the store damaged");
	fx_free(&f);
}

int main(void)
{
	t_tmpdir("cold");
	equivalence();
	damaged_record();
	return done_testing();
}
