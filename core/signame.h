/* signame.h - signal names as kill(1) and timeout(1) spell them.
 *
 * "TERM", "SIGTERM", "term" and "15" all name SIGTERM; "0" is signal 0
 * (timeout -s0: nothing is delivered, only the SIGKILL after the grace). */
#ifndef WR_SIGNAME_H
#define WR_SIGNAME_H

#define WR_SIGNAME_LEN 16

/* The signal s names, or -1 when it names none. */
int wr_sig_parse(const char *s);
/* "TERM", "KILL", "0"; the number when the signal has no name. */
const char *wr_sig_name(int sig, char buf[WR_SIGNAME_LEN]);

#endif
