/* timefmt.h - clocks, RFC 3339 timestamps and human durations.
 *
 * Times are int64 milliseconds since the Unix epoch (UTC). Durations are
 * written 90s, 5m, 1h30m, 2d (and 250ms below a second). */
#ifndef WR_TIMEFMT_H
#define WR_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define WR_TS_LEN 64

int64_t wr_now_ms(void);   /* wall clock */
int64_t wr_mono_ms(void);  /* monotonic clock, for timeouts */

/* "2026-11-20T22:31:05.123Z" into buf (at least WR_TS_LEN bytes). */
char *wr_ts_format(int64_t ms, char *buf);
/* Parses RFC 3339 (Z or +hh:mm offset, optional fraction). 0 or -1. */
int wr_ts_parse(const char *s, int64_t *ms);

/* Parses "90s", "5m", "1h30m", "2d", "250ms", "1.5h"; a bare number means
 * seconds, as in timeout(1). Returns 0 or -1. */
int wr_dur_parse(const char *s, int64_t *ms);
/* Formats like "1h30m", "90s" -> "1m30s", "250ms"; negative gets a '-'. */
char *wr_dur_format(int64_t ms, char *buf, size_t n);

#endif
