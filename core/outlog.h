/* outlog.h - what an attempt printed: the last bytes of its stdout and
 * stderr, kept beside the ledger (wr-run writes them, wr-watch logs reads
 * them, wr-ledger compact removes them with the runs it archives).
 *
 * Where: LEDGER.logs/RUN/ATTEMPT.log (and wr-recover's ATTEMPT.launch.log:
 * what the wr-run it launched printed), directories created with the mode
 * of the ledger's directory (refused when not the caller's or writable by
 * group or others, like the ledger's), files 0600. A run id that is not a
 * plain file name (UUIDs are) gets no log.
 *
 * Format: one JSON header line, then the kept bytes of stdout, then those
 * of stderr, byte for byte:
 *
 *   {"wr_log":1,"run":"ID","attempt":N,"live":true|false,
 *    "stdout":{"bytes":TOTAL,"kept":K},"stderr":{"bytes":TOTAL,"kept":K}}
 *
 * bytes is all the stream printed so far, kept (at most WR_OUTLOG_KEEP)
 * its last bytes that follow: the stream's bytes [bytes - kept, bytes).
 *
 * Writing: during the attempt each stream goes into an in-memory ring of
 * WR_OUTLOG_KEEP bytes; wr_outlog_save replaces the file whole (a temp
 * file, rename), live while the attempt runs (at most once a second, no
 * fsync: a reader follows it) and once more at the end, final, fsynced
 * with its directory. A crash leaves the last complete file, never half
 * of one; the file never holds more than a header and 2 * WR_OUTLOG_KEEP.
 *
 * The tail for a notification (wr_outlog_tail_json) is the last
 * WR_OUTLOG_TAIL_LINES lines, at most WR_OUTLOG_TAIL_BYTES, of each
 * stream, sanitized line by line (core/sanitize.h; of a line rewritten
 * with carriage returns only what a terminal would show last). */
#ifndef WR_OUTLOG_H
#define WR_OUTLOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define WR_OUTLOG_KEEP ((size_t)64 * 1024)
#define WR_OUTLOG_TAIL_LINES 20
#define WR_OUTLOG_TAIL_BYTES ((size_t)4096)
#define WR_OUTLOG_STDOUT 0
#define WR_OUTLOG_STDERR 1

/* The last cap bytes of a stream, and how many came in all. */
struct wr_ring {
	char *p;
	size_t cap, start, len;
	int64_t total;
};

void wr_ring_init(struct wr_ring *r, size_t cap);
void wr_ring_add(struct wr_ring *r, const void *p, size_t n);
/* The kept bytes in order: up to two pieces (b may be empty). */
void wr_ring_pieces(const struct wr_ring *r, const char **a, size_t *na, const char **b, size_t *nb);
/* The kept bytes in order, in one piece, NUL-terminated (newly allocated). */
char *wr_ring_flat(const struct wr_ring *r);
void wr_ring_free(struct wr_ring *r);

/* The log of one attempt being written. */
struct wr_outlog {
	char *path;                /* NULL: no log (none could be made) */
	char *run;
	int64_t attempt;
	struct wr_ring st[2];      /* WR_OUTLOG_STDOUT, WR_OUTLOG_STDERR */
	char *ledger;              /* where the directories go, until made */
	int dirty;                 /* output since the last save */
	int64_t saved_at;          /* mono ms of the last save */
};

/* LEDGER.logs (newly allocated). */
char *wr_outlog_dir(const char *ledger);
/* LEDGER.logs/RUN/ATTEMPT.log (newly allocated), or NULL when run is no
 * plain file name. */
char *wr_outlog_path(const char *ledger, const char *run, int64_t attempt);

/* Makes LEDGER.logs/RUN (as below) and returns it (newly allocated), or
 * NULL with wr_errmsg(). */
char *wr_outlog_run_dir(const char *ledger, const char *run);
/* Sets o up for attempt of run; its directories are made by the first
 * save, so an attempt that prints nothing costs no file. Returns 0, or
 * -1 with wr_errmsg() for a run id that is no plain file name (o is
 * usable then: it keeps the rings, saves nothing). */
int wr_outlog_open(struct wr_outlog *o, const char *ledger, const char *run, int64_t attempt);
void wr_outlog_add(struct wr_outlog *o, int stream, const void *p, size_t n);
/* Replaces the file with the rings (final: not live, fsynced), making
 * the directories first (as wr_outlog_run_dir). 0, or -1 with
 * wr_errmsg(). Nothing to do without a path, nor for a final save when
 * nothing was printed and no live log was written. */
int wr_outlog_save(struct wr_outlog *o, int final);
/* Saves live when there is output unsaved and every_ms have passed since
 * the last save (now is mono ms). Returns what wr_outlog_save does, or 0. */
int wr_outlog_tick(struct wr_outlog *o, int64_t now, int64_t every_ms);
void wr_outlog_free(struct wr_outlog *o);

/* A log as read back. */
struct wr_outlog_file {
	int live;
	int64_t bytes[2];
	size_t kept[2];
	char *data[2];             /* kept[i] bytes each (NUL-terminated) */
};

/* Reads the log at path. 0; -1 with errno ENOENT when there is none; -1
 * with wr_errmsg() naming the file and what is wrong when it is not a
 * complete log. */
int wr_outlog_read(const char *path, struct wr_outlog_file *f);
void wr_outlog_file_free(struct wr_outlog_file *f);

/* The tail of out and err for an outbox entry's details: {"stderr": "...",
 * "stdout": "..."}, each stream only when it printed something; NULL when
 * neither did. A new reference. */
json_t *wr_outlog_tail_json(const char *out, size_t nout, const char *err, size_t nerr);
/* The same from the rings of o. */
json_t *wr_outlog_tail(const struct wr_outlog *o);
/* The same from the log of attempt of run beside ledger; NULL when it has
 * none. */
json_t *wr_outlog_tail_of(const char *ledger, const char *run, int64_t attempt);

/* Removes the logs of run (its directory under LEDGER.logs). 1, 0 when
 * it had none, or -1 with wr_errmsg(). */
int wr_outlog_remove_run(const char *ledger, const char *run);

#endif
