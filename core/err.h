/* err.h - one error module for every wr tool.
 *
 * Messages read "wr-run: what failed: why". Library code never prints: it
 * records its message with wr_seterr()/wr_seterrsys() and returns -1; the
 * tool decides whether to die, warn or go on. Die functions keep errno. */
#ifndef WR_ERR_H
#define WR_ERR_H

#include <stdarg.h>
#include <stdnoreturn.h>

/* Exit statuses shared by the tools (wr-run follows timeout(1) instead). */
enum {
	WR_EXIT_OK = 0,
	WR_EXIT_ATTENTION = 1,  /* something needs a human, like grep's 1 */
	WR_EXIT_USAGE = 2,
	WR_EXIT_IO = 74,        /* I/O or ledger error */
	WR_EXIT_TEMPFAIL = 75,  /* lock wait timed out, rejected: retry later */
};

extern const char *wr_prog;     /* "wr-run", set by each tool */
extern int wr_exit_failure;     /* status for fatal internal errors: 74, or 125 in wr-run */
extern int wr_sigpipe_ignored;  /* SIGPIPE was ignored when the tool started (core/main.c) */

void wr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wr_warnsys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void wr_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void wr_diesys(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: prints the message and "Try 'PROG --help'." then exits. */
noreturn void wr_usage_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last library error. wr_seterrsys appends ": strerror(errno)". */
void wr_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wr_seterrsys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *wr_errmsg(void);
/* Kind of the last library error, so tools can map it to an exit status. */
enum wr_errkind { WR_E_IO = 1, WR_E_LOCK_TIMEOUT, WR_E_REFUSED, WR_E_INPUT, WR_E_NOLEDGER };
void wr_seterrkind(enum wr_errkind k);
enum wr_errkind wr_errkind(void);

/* A stop asked for by a signal: a tool's handler notes it (async-signal
 * safe), and the waits on a ledger's servers give up at it instead of
 * trying again (core/store_nats.c). The signal, or 0. */
void wr_stop_note(int sig);
int wr_stop_pending(void);

#endif
