/* scan.c - line splitting, decoding and batch reassembly over pread. */
#include "scan.h"
#include "err.h"
#include "jsonfast.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1 << 20)

int wr_event_is_marker(const struct wr_event *ev)
{
	return ev->type == WR_EV_UNKNOWN && ev->type_name && !strcmp(ev->type_name, WR_COMPACTED_TYPE);
}

void wr_scan_init(struct wr_scan *s, int fd, const char *path)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->path = path;
	s->line = 1;
	s->limit = -1;
}

struct pending {
	struct wr_event *ev;
	size_t n, cap;
	int want;             /* batch size, 0 when none pending */
	int64_t line;
	off_t offset;
};

static void report(const struct wr_scan *s, const struct wr_scan_cb *cb, int64_t line, off_t off, int col,
		   const char *field, const char *msg)
{
	if (!cb->on_error)
		return;
	struct wr_scan_error e = {s->path, line, col, field ? field : "", msg, off};
	cb->on_error(cb->ctx, &e);
}

static void drop_pending(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++)
		wr_event_clear(&p->ev[i]);
	p->n = 0;
	p->want = 0;
}

static void broken_batch(const struct wr_scan *s, const struct wr_scan_cb *cb, struct pending *p)
{
	char msg[128];
	snprintf(msg, sizeof msg, "incomplete decision: %zu of %d events, the rest missing", p->n, p->want);
	report(s, cb, p->line, p->offset, 1, "batch", msg);
	drop_pending(p);
}

/* A line decoded ahead of the logic that puts lines in order. */
struct decoded {
	int rc;
	struct wr_event ev;
	struct wr_decode_err err;
};

/* One complete, decoded line at file offset off; takes d->ev. Returns 1
 * when a whole decision ended with it (s->off may advance past it). */
static int line_in(struct wr_scan *s, const struct wr_scan_cb *cb, struct pending *p, struct decoded *d,
		   int64_t lineno, off_t off)
{
	struct wr_event ev = d->ev;
	const struct wr_decode_err err = d->err;
	if (d->rc < 0) {
		report(s, cb, lineno, off, err.column, err.field, err.msg);
		if (p->want)
			broken_batch(s, cb, p);
		return 1;
	}
	char msg[160];
	if (wr_event_is_marker(&ev)) {
		/* It describes the file it starts, so only line 1 may hold it
		 * (anywhere in an archive, which keeps the old markers). */
		if ((off != 0 && !s->allow_gaps) || ev.batch_n) {
			report(s, cb, lineno, off, 1, "type", "compaction marker not at the start of the ledger; not applied");
			wr_event_clear(&ev);
			if (p->want)
				broken_batch(s, cb, p);
			return 1;
		}
		if (p->want)
			broken_batch(s, cb, p);
		s->compact_seq = ev.seq;
		s->last_seq = 0; /* the kept lines that follow restart below it */
		if (cb->on_events)
			cb->on_events(cb->ctx, &ev, 1, lineno, off);
		wr_event_clear(&ev);
		return 1;
	}
	if (ev.seq <= s->last_seq || (s->compact_seq && ev.seq == s->compact_seq)) {
		snprintf(msg, sizeof msg, "seq %lld repeats or goes back (last was %lld); event not applied",
			 (long long)ev.seq, (long long)s->last_seq);
		report(s, cb, lineno, off, 1, "seq", msg);
		wr_event_clear(&ev);
		if (p->want)
			broken_batch(s, cb, p);
		return 1;
	}
	/* A gap is a loss unless a compaction moved those seqs to an archive. */
	int64_t top = s->last_seq > s->compact_seq ? s->last_seq : s->compact_seq;
	if (ev.seq != top + 1 && top && ev.seq > top && !s->allow_gaps) {
		snprintf(msg, sizeof msg, "seq gap: expected %lld, found %lld", (long long)top + 1,
			 (long long)ev.seq);
		report(s, cb, lineno, off, 1, "seq", msg);
	}
	s->last_seq = ev.seq;
	if (ev.batch_n == 0) {
		if (p->want)
			broken_batch(s, cb, p);
		if (cb->on_events)
			cb->on_events(cb->ctx, &ev, 1, lineno, off);
		wr_event_clear(&ev);
		return 1;
	}
	if (ev.batch_i == 1) {
		if (p->want)
			broken_batch(s, cb, p);
		p->want = ev.batch_n;
		p->line = lineno;
		p->offset = off;
	} else if (!p->want || (size_t)ev.batch_i != p->n + 1 || ev.batch_n != p->want) {
		report(s, cb, lineno, off, 1, "batch", "event out of its decision's order; not applied");
		wr_event_clear(&ev);
		if (p->want)
			broken_batch(s, cb, p);
		return 1;
	}
	WR_GROW(p->ev, p->cap, p->n + 1);
	p->ev[p->n++] = ev;
	if (p->n < (size_t)p->want)
		return 0;
	if (cb->on_events)
		cb->on_events(cb->ctx, p->ev, p->n, p->line, p->offset);
	drop_pending(p);
	return 1;
}

/* Decoding (jansson) is most of a cold replay. Over a big read a helper
 * thread decodes every other batch of lines while this thread decodes the
 * one before it; the order-sensitive logic (seq, decisions, the reducer)
 * then runs over both in file order. Batches are small and handed over in
 * lockstep, so few decoded events are alive at once (allocator-friendly). */
#define BATCH 128
/* The helper's batches, as large as this thread's: the two are handed
 * over in lockstep. */
#define HELPER_BATCH 128
#define PARALLEL_MIN_BYTES (4 << 20)

struct span {
	size_t start, len;
};

struct decoder {
	pthread_t tid;
	sem_t go, done;
	int running, quit;
	const char *buf;
	const struct span *sp;
	struct decoded *d;
	size_t from, to;
};

static void decode_range(const char *buf, const struct span *sp, struct decoded *d, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		d[i].rc = wr_event_decode(buf + sp[i].start, sp[i].len, &d[i].ev, &d[i].err);
}

static void *decoder_main(void *arg)
{
	struct decoder *w = arg;
	for (;;) {
		while (sem_wait(&w->go) < 0 && errno == EINTR)
			;
		if (w->quit)
			return NULL;
		decode_range(w->buf, w->sp, w->d, w->from, w->to);
		sem_post(&w->done);
	}
}

/* Starts the helper; 0 when it runs, -1 to decode alone. */
static int decoder_start(struct decoder *w)
{
	memset(w, 0, sizeof *w);
	static long ncpu;
	if (!ncpu) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		json_object_seed(0); /* seed jansson's hashes before two threads race to */
	}
	if (ncpu < 2 || sem_init(&w->go, 0, 0) < 0)
		return -1;
	if (sem_init(&w->done, 0, 0) < 0) {
		sem_destroy(&w->go);
		return -1;
	}
	if (pthread_create(&w->tid, NULL, decoder_main, w) != 0) {
		sem_destroy(&w->go);
		sem_destroy(&w->done);
		return -1;
	}
	w->running = 1;
	return 0;
}

static void decoder_stop(struct decoder *w)
{
	if (!w->running)
		return;
	w->quit = 1;
	sem_post(&w->go);
	pthread_join(w->tid, NULL);
	sem_destroy(&w->go);
	sem_destroy(&w->done);
	w->running = 0;
}

/* The lines of buf[0..len) that end in a newline, as spans in *sp. */
static size_t split_lines(const char *buf, size_t len, struct span **sp, size_t *spcap)
{
	size_t nsp = 0;
	for (size_t at = 0;;) {
		const char *nl = memchr(buf + at, '\n', len - at);
		if (!nl)
			break;
		WR_GROW(*sp, *spcap, nsp + 1);
		(*sp)[nsp].start = at;
		(*sp)[nsp].len = (size_t)(nl - (buf + at));
		at += (*sp)[nsp++].len + 1;
	}
	return nsp;
}

/* Decodes the batch of lines from i here, the one after it on the helper
 * when it runs. Returns the first line not decoded yet. */
static size_t decode_ahead(struct decoder *w, char *buf, struct span *sp, struct decoded *dec, size_t i, size_t nsp)
{
	size_t a = i, b = a + BATCH < nsp ? a + BATCH : nsp;
	size_t c = b + HELPER_BATCH < nsp ? b + HELPER_BATCH : nsp;
	int helped = w->running && c > b;
	if (helped) {
		w->buf = buf, w->sp = sp, w->d = dec, w->from = b, w->to = c;
		sem_post(&w->go);
	}
	decode_range(buf, sp, dec, a, b);
	if (helped)
		while (sem_wait(&w->done) < 0 && errno == EINTR)
			;
	return helped ? c : b;
}

/* An over-long line being passed over: where it began. */
struct skip {
	int on;
	int64_t line;
	off_t off;
};

/* Keeps the unfinished line (from start) at the front of buf, which holds
 * len bytes from file offset *base; one grown beyond WR_LINE_MAX is dropped
 * and passed over to its end (k). */
static void keep_tail(char *buf, size_t *len, off_t *base, size_t start, int64_t lineno, struct skip *k)
{
	if (*len - start > WR_LINE_MAX) {
		if (!k->on) {
			k->on = 1;
			k->line = lineno;
			k->off = *base + (off_t)start;
		}
		*base += (off_t)*len;
		*len = 0;
	} else {
		memmove(buf, buf + start, *len - start);
		*base += (off_t)start;
		*len -= start;
	}
}

int wr_scan_run(struct wr_scan *s, const struct wr_scan_cb *cb)
{
	struct decoder w = {0};
	struct span *sp = NULL;
	struct decoded *dec = NULL;
	size_t spcap = 0, deccap = 0;
	struct pending p = {0};
	char *buf = NULL;
	size_t cap = 0, len = 0;      /* buf holds bytes from file offset base */
	off_t base = s->off;
	int64_t lineno = s->line;
	struct skip k = {0};
	int rc = 0;
	int64_t seq_at_off = s->last_seq;
	s->torn = 0;
	s->lines_read = 0;
	/* Small first: a commit reads back its own few lines; 1 MiB for each
	 * was a malloc and a consolidation per commit (profiled). */
	size_t want = 64 * 1024;
	struct stat sb;
	off_t size = fstat(s->fd, &sb) == 0 ? sb.st_size : 0;
	off_t total = cb->on_progress ? size : 0;
	off_t ahead = (s->limit >= 0 && s->limit < size ? s->limit : size) - s->off;
	wr_jsonfast_expect((int64_t)ahead);
	if (ahead >= PARALLEL_MIN_BYTES)
		decoder_start(&w);
	for (;;) {
		if (total)
			cb->on_progress(cb->ctx, base, total);
		WR_GROW(buf, cap, len + want);
		size_t ask = want;
		if (s->limit >= 0 && s->limit - (base + (off_t)len) < (off_t)ask)
			ask = s->limit > base + (off_t)len ? (size_t)(s->limit - (base + (off_t)len)) : 0;
		ssize_t r = ask ? pread(s->fd, buf + len, ask, base + (off_t)len) : 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			wr_seterrsys("unable to read %s", s->path);
			rc = -1;
			break;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		size_t start = 0, nsp = split_lines(buf, len, &sp, &spcap);
		WR_GROW(dec, deccap, nsp + 1);
		/* Line 0 ends an over-long line when skipping: never decoded. */
		size_t first = k.on && nsp ? 1 : 0, ready = first;
		for (size_t i = 0; i < nsp; i++) {
			size_t l = sp[i].len;
			off_t loff = base + (off_t)start;
			if (i == ready)
				ready = decode_ahead(&w, buf, sp, dec, i, nsp);
			if (i == 0 && k.on) {
				report(s, cb, k.line, k.off, 1, "", "line longer than 16 MiB; not read");
				k.on = 0;
				if (p.want)
					broken_batch(s, cb, &p);
				s->off = loff + (off_t)l + 1;
				s->line = lineno + 1;
				seq_at_off = s->last_seq;
			} else if (line_in(s, cb, &p, &dec[i], lineno, loff)) {
				s->off = loff + (off_t)l + 1;
				s->line = lineno + 1;
				seq_at_off = s->last_seq;
			}
			s->lines_read++;
			lineno++;
			start += l + 1;
		}
		keep_tail(buf, &len, &base, start, lineno, &k);
		/* A short read of a regular file is its end for now: no second
		 * pread just to be told 0 (two syscalls less per commit). */
		if ((size_t)r < ask)
			break;
		want = CHUNK;
	}
	s->end = base + (off_t)len;
	if (rc == 0 && (len || k.on || p.want))
		s->torn = 1;
	s->last_seq = seq_at_off;
	decoder_stop(&w);
	drop_pending(&p);
	free(p.ev);
	free(buf);
	free(sp);
	free(dec);
	/* A torn tail is not consumed: s->off and s->line stay at its start,
	 * and seq continuity restarts from the last whole decision. */
	return rc;
}
