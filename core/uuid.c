/* uuid.c - UUIDv7 from the clock and getrandom(2). */
#include "uuid.h"
#include "timefmt.h"
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

char *wr_uuid7_at(int64_t ms, char *out)
{
	unsigned char b[16];
	size_t got = 0;
	while (got < 10) {
		ssize_t r = getrandom(b + 6 + got, 10 - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			wr_diesys(wr_exit_failure, "unable to read random bytes");
		}
		got += (size_t)r;
	}
	uint64_t t = (uint64_t)ms;
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(t >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	static const char hex[] = "0123456789abcdef";
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p = 0;
	return out;
}

char *wr_uuid7(char *out)
{
	return wr_uuid7_at(wr_now_ms(), out);
}
