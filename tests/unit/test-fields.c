/* test-fields.c - the state's field lists (core/state_fields.h).
 *
 * Each list covers its struct: every byte of the struct is a listed
 * member or padding, so a member added to a struct but not to its list
 * fails here. And a state in which every listed field has a value other
 * than its default comes back the same from a snapshot (compared by the
 * dump, and the fields the dump leaves out one by one), and its workflows
 * and counters from a compaction marker's seed. */
#include "tap.h"
#include "helpers.h"

#include "seed.h"
#include "snapshot.h"
#include "state_fields.h"

#include <stddef.h>

/* ---- coverage ---- */

struct span {
	size_t off, size;
	const char *name;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return (x->off > y->off) - (x->off < y->off);
}

/* 1 when the spans cover [0, size) with gaps that can only be padding:
 * shorter than the next member and than 8 bytes. */
static int covers(const char *what, struct span *s, size_t n, size_t size)
{
	qsort(s, n, sizeof *s, span_cmp);
	size_t end = 0;
	int good = 1;
	for (size_t i = 0; i < n; i++) {
		size_t gap = s[i].off - end;
		if (s[i].off < end || gap >= 8 || (gap && gap >= s[i].size)) {
			printf("# %s: %zu bytes before %s (offset %zu) are in no listed member\n", what, gap, s[i].name,
			       s[i].off);
			good = 0;
		}
		end = s[i].off + s[i].size;
	}
	if (size - end >= 8) {
		printf("# %s: %zu bytes after %s are in no listed member\n", what, size - end, s[n - 1].name);
		good = 0;
	}
	return good;
}

#define SPAN4(k, m, n, a) {offsetof(T, m), sizeof(((T *)0)->m), #m},
#define SPAN5(k, m, n, a, key) SPAN4(k, m, n, a)
#define DEFINE_COVER(fn, type, LIST, ADAPT)                                                         \
	UNUSED static void fn(void)                                                                 \
	{                                                                                           \
		typedef struct type T;                                                              \
		struct span s[] = {LIST(ADAPT)};                                                    \
		ok(covers(#type, s, sizeof s / sizeof *s, sizeof(T)), "%s: every member listed", #type); \
	}
WR_STATE_RECORDS(DEFINE_COVER, cover, SPAN)

/* The counters are not all of struct wr_state: it holds maps too. */
static void coverage(void)
{
	cover_policy();
	cover_attempt();
	cover_launch();
	cover_run();
	cover_outbox();
	cover_workflow();
}

/* ---- a state with every field set ---- */

static int64_t v; /* the next value: every field gets its own */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FILL_I64(x, m, a) x->m = ++v;
#define FILL_INT FILL_I64
#define FILL_AGENT FILL_I64
#define FILL_LAST_TS FILL_I64
#define FILL_LOCAL FILL_I64
#define FILL_ORD FILL_I64
#define FILL_BOOL64(x, m, a) x->m = 1;
#define FILL_FLAG FILL_BOOL64
#define FILL_ENUM(x, m, a) x->m = a - 1;
#define FILL_BREAKER FILL_ENUM
#define FILL_F64(x, m, a) x->m = 0.5 + (double)++v;
#define FILL_STR(x, m, a) x->m = wr_xasprintf("%s-%lld", #m, (long long)++v);
#define FILL_NSTR FILL_STR
#define FILL_JV(x, m, a) x->m = json_pack("[s,I,{s:f}]", #m, (json_int_t)++v, "r", 1.5);
#define FILL_JVREQ FILL_JV
#define FILL_OBJ(x, m, a) x->m = json_pack("{s:I}", #m, (json_int_t)++v);
#define FILL_AGENT_OBJ FILL_OBJ
#define FILL_STATS FILL_OBJ
#define FILL_EACH(x, m, a, FILL1)                        \
	x->a = 2;                                        \
	x->m = wr_xcalloc(2, sizeof *x->m);              \
	for (size_t i_ = 0; i_ < 2; i_++)                \
		FILL1;
#define FILL_INTS(x, m, a) FILL_EACH(x, m, a, x->m[i_] = (int)++v)
#define FILL_STRS(x, m, a) FILL_EACH(x, m, a, x->m[i_] = wr_xasprintf("stage-%lld", (long long)++v))
#define FILL_ATTEMPTS(x, m, a) FILL_EACH(x, m, a, fill_attempt(&x->m[i_]))
#define FILL_CAP(x, m, a) x->m = x->a;
#define FILL_WINDOW(x, m, a)           \
	x->a = 3;                      \
	x->m[0] = x->m[2] = 1;
#define FILL_OUTS(x, m, a)                             \
	for (size_t i_ = 0; i_ < NELEM(x->m); i_++) \
		x->m[i_] = ++v;
#define FILL_TYPES FILL_OUTS
#define FILL_POLICY(x, m, a) fill_policy(&x->m);
#define FILL_LAUNCH(x, m, a) fill_launch(&x->m);
#define FILL_COUNT(x, m, a)
#define FILL4(k, m, n, a) FILL_##k(x, m, a)
#define FILL5(k, m, n, a, key) FILL_##k(x, m, a)
#define DEFINE_FILL(fn, type, LIST, ADAPT)  \
	static void fn(struct type *x)      \
	{                                   \
		LIST(ADAPT)                 \
	}

WR_STATE_RECORDS(DEFINE_FILL, fill, FILL)

/* Two runs (one ended), a workflow and an outbox entry, all filled. */
static void fill_state(struct wr_state *st)
{
	wr_state_init(st);
	for (int i = 0; i < 2; i++) {
		struct wr_run *r = wr_xcalloc(1, sizeof *r);
		fill_run(r);
		r->status = i ? WR_ST_SUCCEEDED : WR_ST_BLOCKED;
		r->ord = i;
		wr_map_put(&st->runs, r->id, r);
	}
	struct wr_workflow *w = wr_xcalloc(1, sizeof *w);
	fill_workflow(w);
	wr_map_put(&st->workflows, w->name, w);
	struct wr_outbox *o = wr_xcalloc(1, sizeof *o);
	fill_outbox(o);
	wr_map_put(&st->outbox, o->id, o);
	fill_counters(st);
	st->nruns = 2;
}

/* A snapshot of st for a ledger file at path, edited by edit (when not
 * NULL), loaded into got: 0 loaded, -1 not. */
static int snapshot_trip(const char *path, struct wr_state *st, struct wr_state *got, void (*edit)(const char *))
{
	t_write(path, "{}\n", 3);
	int fd = open(path, O_RDONLY);
	struct stat sb;
	fstat(fd, &sb);
	struct wr_scan scan = {0};
	scan.off = 3;
	scan.line = 2;
	int64_t bad = 0;
	char extra[8] = "extra";
	struct wr_snap_of so = {.path = path, .fd = fd, .dev = sb.st_dev, .ino = sb.st_ino, .scan = &scan,
				.st = st, .bad_lines = &bad, .extra = extra, .extra_len = sizeof extra};
	int rc = wr_snapshot_write(&so);
	if (rc == 0 && edit) {
		char *snap = wr_xasprintf("%s.snapshot", path);
		edit(snap);
		free(snap);
	}
	if (rc == 0) {
		struct wr_scan scan2 = {0};
		so.scan = &scan2;
		so.st = got;
		rc = wr_snapshot_load(&so) == 1 ? 0 : -1;
	}
	close(fd);
	return rc;
}

static void round_trip(void)
{
	struct wr_state st, got;
	fill_state(&st);
	wr_state_init(&got);
	ok(snapshot_trip(t_path("f.jsonl"), &st, &got, NULL) == 0, "a snapshot of a state with every field set, loaded");
	char *want = wr_state_dump_text(&st), *have = wr_state_dump_text(&got);
	is_str(have, want, "the same state, every field");
	ok(strstr(want, "(null)") == NULL, "the dump shows no field left at none");
	int ords = 1;
	for (size_t i = 0; i < st.runs.n; i++) {
		const struct wr_run *a = wr_map_at(&st.runs, i), *b = wr_state_run(&got, a->id);
		ords &= b && a->ord == b->ord && b->capatt == b->natt && b->capstages == b->nstages;
	}
	ok(ords, "the fields the dump leaves out: ord, the arrays' sizes");
	free(have);

	/* a run alone (a cold record) and the outbox entries alone */
	struct wr_buf b = {0};
	const struct wr_run *r = wr_map_at(&st.runs, 0);
	wr_snapshot_put_run(&b, r);
	struct wr_run *r2 = wr_snapshot_get_run((const unsigned char *)b.p, b.len);
	struct wr_state one, two;
	wr_state_init(&one);
	wr_state_init(&two);
	ok(r2 != NULL, "a run encoded alone, decoded");
	if (r2)
		wr_map_put(&two.runs, r2->id, r2);
	wr_map_put(&one.runs, r->id, (void *)r);
	b.len = 0;
	wr_snapshot_put_outboxes(&b, &st.outbox);
	ok(wr_snapshot_get_outboxes((const unsigned char *)b.p, b.len, &two.outbox) == 0, "outbox entries alone");
	for (size_t i = 0; i < st.outbox.n; i++)
		wr_map_put(&one.outbox, wr_map_key_at(&st.outbox, i), wr_map_at(&st.outbox, i));
	char *x = wr_state_dump_text(&one), *y = wr_state_dump_text(&two);
	is_str(y, x, "and the same as before");
	free(x);
	free(y);
	wr_map_free(&one.runs, NULL); /* borrowed from st */
	wr_map_free(&one.outbox, NULL);
	memset(&one.runs, 0, sizeof one.runs);
	memset(&one.outbox, 0, sizeof one.outbox);
	wr_state_free(&one);
	wr_state_free(&two);
	wr_buf_free(&b);

	/* the workflows and counters through a compaction marker */
	json_t *m = json_pack("{s:i,s:I,s:s,s:s,s:s,s:i,s:s,s:o}", "v", 1, "seq", (json_int_t)st.last_seq + 1, "ts",
			      "2026-01-01T00:00:00Z", "type", "ledger.compacted", "by", "t/1", "through", 0, "archive",
			      "x.archive.1", "state", wr_compact_seed_json(&st));
	char *line = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	struct wr_event ev;
	struct wr_decode_err err;
	struct wr_state seeded;
	wr_state_init(&seeded);
	int dec = wr_event_decode(line, strlen(line), &ev, &err);
	ok(dec == 0, "the marker decodes: %s %s", dec ? err.field : "", dec ? err.msg : "");
	ok(dec == 0 && wr_compact_seed(&seeded, &ev) == 0, "and seeds a state");
	if (dec == 0)
		wr_event_clear(&ev);
	free(line);
	/* the marker holds all but the local counters and the runs */
	seeded.last_seq = st.last_seq;
	seeded.compacted_through = st.compacted_through;
	struct wr_buf wa = {0}, wb = {0};
	wr_state_dump(&seeded, &wb);
	struct wr_state only = st;
	memset(&only.runs, 0, sizeof only.runs);
	memset(&only.outbox, 0, sizeof only.outbox);
	wr_state_dump(&only, &wa);
	is_str(wr_buf_str(&wb), wr_buf_str(&wa), "workflows and counters the same through the marker");
	wr_buf_free(&wa);
	wr_buf_free(&wb);
	wr_state_free(&seeded);
	free(want);
	wr_state_free(&got);
	wr_state_free(&st);
}

/* The snapshot's signature of the field lists follows the sizes of the
 * state's arrays (three u32); the body's hash is made right again, so
 * that only the signature can tell. */
static int flip_signature;

static void edit_signature(const char *snap)
{
	size_t n;
	char *b = t_read(snap, &n);
	uint32_t sizes[3] = {WR_EV__COUNT, WR_OUT__COUNT, WR_BREAKER_WINDOW};
	char *at = memmem(b + 32, n - 32, sizes, sizeof sizes);
	if (!at || (size_t)(at - b) + sizeof sizes + 8 > n)
		exit(99);
	at[sizeof sizes] ^= (char)flip_signature;
	uint64_t h = wr_snapshot_hash(b + 32, n - 32);
	memcpy(b + 24, &h, 8);
	t_write(snap, b, n);
	free(b);
}

/* A build whose field lists differ writes another signature: its
 * snapshot is not read (the ledger is replayed instead). */
static void signature(void)
{
	struct wr_state st, got;
	fill_state(&st);
	wr_state_init(&got);
	flip_signature = 0;
	ok(snapshot_trip(t_path("s.jsonl"), &st, &got, edit_signature) == 0, "a snapshot with its hash made again: read");
	wr_state_free(&got);
	wr_state_init(&got);
	flip_signature = 0x10;
	ok(snapshot_trip(t_path("s.jsonl"), &st, &got, edit_signature) < 0, "another signature of the fields: not read");
	is_int(wr_state_nruns(&got), 0, "and the state is left as it was");
	wr_state_free(&got);
	wr_state_free(&st);
}

int main(void)
{
	t_tmpdir("fields");
	coverage();
	round_trip();
	signature();
	return done_testing();
}
