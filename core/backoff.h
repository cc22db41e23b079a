/* backoff.h - how long to wait after a failure, for everything in wr that
 * retries. Pure arithmetic: the jitter is drawn by the caller. */
#ifndef WR_BACKOFF_H
#define WR_BACKOFF_H

#include <stdint.h>

/* The one backoff rule, for run retries (wr-recover) and outbox deliveries
 * (wr-outbox deliver) alike. The delay after the nth failure (n >= 1) is
 *     base = min(initial * factor^(n-1), max)        factor < 1 counts as 1
 *     delay = base * (1 - J + 2 J jitter)            J = WR_BACKOFF_JITTER
 * with jitter uniform in [0, 1) (wr_random_unit, drawn by the tool and
 * passed in the request): uniform within +-20% of base, so many failures
 * at once are not retried in step. A jitter outside [0, 1) counts as 0.5
 * (no jitter). */
#define WR_BACKOFF_JITTER 0.2
int64_t wr_backoff(int64_t initial_ms, double factor, int64_t max_ms, int64_t n, double jitter);

#endif
