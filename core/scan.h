/* scan.h - the streaming reader of a ledger file.
 *
 * Reads from an offset to end of file in large chunks, splits lines, decodes
 * each, checks seq continuity and reassembles multi-event decisions
 * (batches). A decision reaches the caller only whole; a bad line is
 * reported with file:line:column and the scan goes on. What is at the end
 * without its final '\n', or a batch missing its last events, is the torn
 * tail: reported in s->torn, never delivered, never an error here (a commit
 * may be in progress; a writer holding the lock repairs it).
 *
 * Memory is bounded by one line (at most WR_LINE_MAX) plus one batch. */
#ifndef WR_SCAN_H
#define WR_SCAN_H

#include <stdint.h>
#include <sys/types.h>

#include "event.h"

#define WR_LINE_MAX (16 * 1024 * 1024)
#define WR_COMPACTED_TYPE "ledger.compacted"

/* 1 when ev is a compaction marker (ledger metadata, not a state event). */
int wr_event_is_marker(const struct wr_event *ev);

struct wr_scan_error {
	const char *path;
	int64_t line;
	int column;
	const char *field;    /* "" when none */
	const char *msg;
	off_t offset;         /* byte offset of the line */
};

struct wr_scan_cb {
	void *ctx;
	/* One whole decision: n events in order; line is the first's number.
	 * The callee may keep nothing of evs after returning. */
	void (*on_events)(void *ctx, const struct wr_event *evs, size_t n, int64_t line, off_t offset);
	void (*on_error)(void *ctx, const struct wr_scan_error *e);
	/* Now and then during a long scan: bytes done of total (may be NULL). */
	void (*on_progress)(void *ctx, off_t done, off_t total);
};

struct wr_scan {
	int fd;
	const char *path;
	off_t off;            /* end of the last whole decision consumed */
	int64_t line;         /* number of the line at off (1-based) */
	int64_t last_seq;     /* highest seq delivered */
	/* Compaction (docs/DESIGN.md "Compaction"): a compacted ledger starts
	 * with a ledger.compacted marker of seq L+1 for "compacted through L";
	 * the lines after it keep their original seqs (<= L, increasing, with
	 * gaps where events moved to an archive), and appends go on at L+2.
	 * compact_seq is the marker's seq (0: none): missing seqs up to it are
	 * in the archives, not lost. */
	int64_t compact_seq;
	int allow_gaps;       /* an archive segment: gaps are expected, markers may be anywhere */
	off_t limit;          /* read no further than this offset; -1: to end of file */
	/* Results of the last wr_scan_run: */
	int torn;             /* 1 when bytes follow off that are not whole */
	off_t end;            /* file size seen */
	int64_t lines_read;
};

void wr_scan_init(struct wr_scan *s, int fd, const char *path);
/* Scans from s->off to end of file (or s->limit). Returns 0, or -1 on a read error
 * (message in wr_errmsg()). */
int wr_scan_run(struct wr_scan *s, const struct wr_scan_cb *cb);

#endif
