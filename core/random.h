/* random.h - the one random source of wr: getrandom(2).
 *
 * Ids (uuid.c), the backoff's jitter (drawn by the tools and passed to the
 * decisions in their requests, so the decisions stay pure) and the short
 * random waits of wr-run all come from here; nothing seeds rand(). */
#ifndef WR_RANDOM_H
#define WR_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Fills p with n random bytes; dies (wr_exit_failure) when the kernel
 * cannot give them. EINTR is retried. */
void wr_random_bytes(void *p, size_t n);
/* Uniform in [0, 1), 53 random bits. */
double wr_random_unit(void);
/* Uniform in [0, n) for n >= 1 (0 when n < 1). */
int64_t wr_random_below(int64_t n);

#endif
