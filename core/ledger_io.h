/* ledger_io.h - moving a ledger in and out of its store: export (its
 * decisions as JSONL, byte for byte what a file ledger holds) and import
 * (a ledger file into an empty store, decision by decision, keeping every
 * seq and id). */
#ifndef WR_LEDGER_IO_H
#define WR_LEDGER_IO_H

#include <stdint.h>

#include "ledger.h"

/* Writes l's whole decisions (a torn tail left out) to fd. 0 or -1. */
int wr_ledger_export(struct wr_ledger *l, int fd);

struct wr_import_result {
	int64_t decisions;      /* decisions in the file */
	int64_t skipped;        /* of which the store held already (a second import) */
	int64_t appended;
};

/* Appends the decisions of the ledger file path to l (opened for writing):
 * l must be empty or hold a beginning of the file (an import done before,
 * or cut short), whose decisions are skipped. A file with bad lines or a
 * torn tail, a store that holds anything else, or another writer appending
 * meanwhile, is refused. 0, or -1 with wr_errmsg(). */
int wr_ledger_import(struct wr_ledger *l, const char *path, struct wr_import_result *res);

#endif
