/* uuid.c - UUIDv7 from the clock and the random source (random.h). */
#include "uuid.h"
#include "timefmt.h"
#include "random.h"

#include <stdio.h>
#include <string.h>

char *wr_uuid7_at(int64_t ms, char *out)
{
	unsigned char b[16];
	wr_random_bytes(b + 6, 10);
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

const char *wr_short_id(const char *id)
{
	size_t n = strlen(id);
	return n > 8 ? id + n - 8 : id;
}
