/* verify.h - checking a ledger, as 'wr-ledger verify' does: every line
 * decodes and keeps the state's invariants, the tail is a whole decision,
 * the archive chain is whole with no orphan segments, and (deep) the state
 * a snapshot gives equals a full replay.
 *
 * A reader: no lock is waited for, so a busy writer never makes a check
 * wait or fail. The lock is only tried (never waited for) to confirm what
 * a writer under way also explains: a torn tail, orphan segments. What
 * cannot be confirmed is warned about (wr_warn), not counted.
 *
 * Each problem goes to on_problem as it is found; events stamped ahead of
 * this host's clock are a note (kind clock_skew), not a problem: the
 * ledger is sound, a host's clock is not. */
#ifndef WR_VERIFY_H
#define WR_VERIFY_H

#include <stdint.h>

#include "ledger.h"
#include "util.h"

struct wr_problem {
	const char *file;          /* the ledger, an archive segment, the snapshot */
	int64_t line;              /* 0: about the file as a whole */
	int column;
	const char *field;         /* NULL when none */
	const char *kind;          /* invalid, invariant, torn, archive, orphan, deep, clock_skew */
	const char *msg;           /* names data of the line: sanitize it for people */
	const char *host;          /* clock_skew: the host of the event ahead, or NULL */
	int64_t skew_ms;           /* clock_skew: how far ahead */
};

struct wr_verify {
	int deep;                  /* compare a snapshot's state with the replay */
	void (*on_problem)(void *ctx, const struct wr_problem *p);
	void *ctx;
	int64_t problems;          /* out: the problems found (notes not counted) */
};

/* Checks the ledger l, opened with WR_LEDGER_QUIET | WR_LEDGER_LAZY |
 * WR_LEDGER_NOSNAP and not yet read (its progress callback may be set).
 * Returns 0 when the check ran (v->problems says what it found), -1 with
 * wr_errmsg() when reading failed. */
int wr_verify_run(struct wr_ledger *l, struct wr_verify *v);

/* A problem as JSON: {file, line, column, field, kind, message} (line,
 * column and field null when none), with host and skew_ms for a
 * clock_skew note. */
json_t *wr_problem_json(const struct wr_problem *p);
/* A problem for people: "FILE:LINE:COLUMN: message" (the message made
 * safe for a terminal: it names data of the line), or "FILE: message"
 * for the file as a whole; with a newline. */
void wr_problem_text(struct wr_buf *b, const struct wr_problem *p);

#endif
