/* backoff.c - the one backoff rule (backoff.h). */
#include "backoff.h"

#include <math.h>

int64_t wr_backoff(int64_t initial_ms, double factor, int64_t max_ms, int64_t n, double jitter)
{
	double max = (double)max_ms;
	double f = factor >= 1.0 ? factor : 1.0;
	double base = (double)initial_ms * pow(f, (double)(n > 1 ? n - 1 : 0));
	if (!isfinite(base) || base > max)
		base = max;
	if (base < 0)
		base = 0;
	if (!(jitter >= 0 && jitter < 1))
		jitter = 0.5;
	return (int64_t)(base * (1.0 - WR_BACKOFF_JITTER + 2.0 * WR_BACKOFF_JITTER * jitter));
}
