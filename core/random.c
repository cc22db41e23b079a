/* random.c - random bytes from getrandom(2), and what is built on them. */
#include "random.h"
#include "err.h"

#include <errno.h>
#include <sys/random.h>

void wr_random_bytes(void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom((char *)p + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			wr_diesys(wr_exit_failure, "unable to read random bytes");
		}
		got += (size_t)r;
	}
}

double wr_random_unit(void)
{
	uint64_t x;
	wr_random_bytes(&x, sizeof x);
	return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

int64_t wr_random_below(int64_t n)
{
	if (n < 1)
		return 0;
	uint64_t x, lim = UINT64_MAX - UINT64_MAX % (uint64_t)n; /* no modulo bias */
	do
		wr_random_bytes(&x, sizeof x);
	while (x >= lim);
	return (int64_t)(x % (uint64_t)n);
}
