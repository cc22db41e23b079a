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
/* Local time for people: "2026-11-20 23:31:05 CET" into buf (at least
 * WR_TS_LEN bytes). */
char *wr_local_format(int64_t ms, char *buf);
/* When, for people: "2026-11-20 23:31:05 CET (in 2m50s)", or "(now)" when
 * ms is not after now. */
char *wr_when_format(int64_t ms, int64_t now, char *buf, size_t n);
/* Parses RFC 3339 (Z or +hh:mm offset, optional fraction). 0 or -1. */
int wr_ts_parse(const char *s, int64_t *ms);

/* Durations, the forms of timeout(1) and wr's own: a number (integer,
 * fraction, exponent: "10", ".5", "2.5e1", "1e-3") with an optional unit
 * s (the default), m, h, d, or ms; several numbers with units add up
 * ("1h30m", "1d2h3m4s5ms"; "1h30" is refused: 30 what?). A positive value
 * below a millisecond rounds up to 1 ms; a value too large to represent,
 * "inf" or "infinity" is WR_DUR_FOREVER, not an error. Returns 0 or -1;
 * wr_dur_parse_why also says why (*why: a static sentence, may be NULL).
 * Callers decide what 0 and WR_DUR_FOREVER mean for their option. */
#define WR_DUR_FOREVER ((int64_t)36500 * 86400000) /* 100 years: adding now never overflows */
int wr_dur_parse(const char *s, int64_t *ms);
int wr_dur_parse_why(const char *s, int64_t *ms, const char **why);
/* Formats like "1h30m", "90s" -> "1m30s", "250ms"; negative gets a '-'. */
char *wr_dur_format(int64_t ms, char *buf, size_t n);

#endif
