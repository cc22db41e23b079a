/* test-uuid - UUIDv7: layout, version and variant, order by time. */
#include "tap.h"
#include "uuid.h"
#include "timefmt.h"

#include <ctype.h>
#include <stdint.h>

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10;
}

static int well_formed(const char *u)
{
	if (strlen(u) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return 0;
		} else if (!isdigit((unsigned char)u[i]) && !(u[i] >= 'a' && u[i] <= 'f')) {
			return 0;
		}
	}
	return 1;
}

int main(void)
{
	char a[WR_UUID_LEN], b[WR_UUID_LEN];
	int64_t ms = 1795213865123LL;     /* 0x01a1f5c2e8a3 */
	wr_uuid7_at(ms, a);
	ok(well_formed(a), "36 characters, lowercase hex in 8-4-4-4-12: %s", a);
	is_int(a[14], '7', "version nibble is 7");
	ok(strchr("89ab", a[19]) != NULL, "variant bits are 10 (got %c)", a[19]);
	{
		char hex[13];
		snprintf(hex, sizeof hex, "%012llx", (unsigned long long)ms);
		char got[13];
		memcpy(got, a, 8);
		memcpy(got + 8, a + 9, 4);
		got[12] = 0;
		is_str(got, hex, "first 48 bits are the unix milliseconds");
	}
	wr_uuid7_at(ms, b);
	ok(strcmp(a, b) != 0, "two ids of the same millisecond differ (random part)");
	ok(!memcmp(a, b, 13), "but share their time prefix");

	/* version and variant on many ids; the random bits vary */
	int bad = 0, seen_var[4] = {0};
	unsigned char ones = 0, zeros = 0xff;
	for (int i = 0; i < 2000; i++) {
		wr_uuid7(a);
		if (!well_formed(a) || a[14] != '7' || !strchr("89ab", a[19]))
			bad++;
		else
			seen_var[hexval(a[19]) - 8]++;
		unsigned char x = (unsigned char)hexval(a[35]);
		ones |= x;
		zeros &= x;
	}
	is_int(bad, 0, "2000 ids all well formed, version 7, variant 10");
	ok(seen_var[0] && seen_var[1] && seen_var[2] && seen_var[3], "the two free variant-nibble bits are random");
	ok(ones == 0xf && zeros == 0, "the last nibble takes every bit value");

	/* time-sortable: a later millisecond sorts after, whatever the random part */
	int order = 1;
	char prev[WR_UUID_LEN];
	wr_uuid7_at(1000, prev);
	static const int64_t t[] = {1001, 1002, 1255, 65536, 16777216, 1795213865123LL, 1795213865124LL, 281474976710655LL};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		for (int k = 0; k < 50; k++) {
			wr_uuid7_at(t[i], a);
			if (strcmp(prev, a) >= 0)
				order = 0;
		}
		strcpy(prev, a);
	}
	ok(order, "ids of later milliseconds sort after earlier ones");
	wr_uuid7(a);
	int64_t now = wr_now_ms();
	wr_uuid7_at(now - 1000, b);
	ok(strcmp(b, a) < 0, "wr_uuid7 uses the current clock");
	return done_testing();
}
