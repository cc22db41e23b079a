/* test-timefmt - RFC 3339 timestamps and human durations. */
#include "tap.h"
#include "timefmt.h"

#include <stdint.h>
#include <string.h>

static void ts_round(int64_t ms, const char *want)
{
	char b[WR_TS_LEN];
	int64_t back = -1;
	is_str(wr_ts_format(ms, b), want, "format %lld", (long long)ms);
	ok(wr_ts_parse(b, &back) == 0, "parse %s", b);
	is_int(back, ms, "round trip of %s", want);
}

static void ts_is(const char *s, int64_t want)
{
	int64_t ms = -1;
	int r = wr_ts_parse(s, &ms);
	ok(r == 0, "parses %s", s);
	if (r == 0)
		is_int(ms, want, "value of %s", s);
}

static void ts_bad(const char *s)
{
	int64_t ms = 4242;
	ok(wr_ts_parse(s, &ms) < 0, "refuses \"%s\"", s);
}

static void dur_is(const char *s, int64_t want)
{
	int64_t ms = -1;
	int r = wr_dur_parse(s, &ms);
	ok(r == 0, "duration %s parses", s);
	if (r == 0)
		is_int(ms, want, "duration %s", s);
}

static void dur_bad(const char *s)
{
	int64_t ms = 4242;
	ok(wr_dur_parse(s, &ms) < 0, "duration \"%s\" refused", s ? s : "(null)");
}

static void dur_fmt(int64_t ms, const char *want)
{
	char b[32];
	is_str(wr_dur_format(ms, b, sizeof b), want, "format %lld ms", (long long)ms);
}

int main(void)
{
	/* format and round trip */
	ts_round(0, "1970-01-01T00:00:00.000Z");
	ts_round(1795213865123LL, "2026-11-20T22:31:05.123Z");
	ts_round(951782400000LL, "2000-02-29T00:00:00.000Z");          /* leap day, 400-year rule */
	ts_round(1709164800001LL, "2024-02-29T00:00:00.001Z");
	ts_round(1709251199999LL, "2024-02-29T23:59:59.999Z");
	ts_round(1735689599999LL, "2024-12-31T23:59:59.999Z");
	ts_round(-1, "1969-12-31T23:59:59.999Z");
	ts_round(253402300799999LL, "9999-12-31T23:59:59.999Z");
	{
		char b[WR_TS_LEN];
		int64_t now = wr_now_ms(), back;
		ok(now > 1700000000000LL, "wr_now_ms is milliseconds since the epoch");
		ok(wr_ts_parse(wr_ts_format(now, b), &back) == 0 && back == now, "now round trips");
		ok(strlen(b) == 24 && b[23] == 'Z' && b[19] == '.', "format is 24 chars, ms and Z: %s", b);
		int64_t m1 = wr_mono_ms(), m2 = wr_mono_ms();
		ok(m2 >= m1, "monotonic clock does not go back");
	}

	/* offsets, fractions, case */
	ts_is("2026-11-20T22:31:05Z", 1795213865000LL);
	ts_is("2026-11-20T22:31:05.1Z", 1795213865100LL);
	ts_is("2026-11-20T22:31:05.12Z", 1795213865120LL);
	ts_is("2026-11-20T22:31:05.123456789Z", 1795213865123LL);
	ts_is("2026-11-20t22:31:05.123z", 1795213865123LL);
	ts_is("2026-11-20T23:31:05.123+01:00", 1795213865123LL);
	ts_is("2026-11-20T17:01:05.123-05:30", 1795213865123LL);
	ts_is("2026-11-21T00:31:05.123+02:00", 1795213865123LL);      /* across midnight */
	ts_is("2026-11-20T22:31:05.123-00:00", 1795213865123LL);
	ts_is("2000-03-01T00:30:00+01:00", 951782400000LL + 84600000LL); /* 2000-02-29T23:30Z */
	ts_is("2024-02-29T12:00:00Z", 1709208000000LL);
	ts_is("2016-12-31T23:59:60Z", 1483228799000LL);                 /* leap second: taken as :59 */

	/* invalid dates and syntax */
	ts_bad("");
	ts_bad("2026-11-20");
	ts_bad("2026-11-20T22:31:05");            /* no zone */
	ts_bad("2026-11-20 22:31:05Z");
	ts_bad("2026-13-01T00:00:00Z");
	ts_bad("2026-00-01T00:00:00Z");
	ts_bad("2026-04-31T00:00:00Z");
	ts_bad("2026-02-30T00:00:00Z");
	ts_bad("2023-02-29T00:00:00Z");            /* not a leap year */
	ts_bad("1900-02-29T00:00:00Z");            /* century, not a leap year */
	ts_bad("2026-11-00T00:00:00Z");
	ts_bad("2026-11-20T24:00:00Z");
	ts_bad("2026-11-20T22:60:00Z");
	ts_bad("2026-11-20T22:31:61Z");
	ts_bad("2026-11-20T22:31:05.Z");
	ts_bad("2026-11-20T22:31:05.123");
	ts_bad("2026-11-20T22:31:05.123ZZ");
	ts_bad("2026-11-20T22:31:05.123Z ");
	ts_bad("2026-11-20T22:31:05+0100");
	ts_bad("2026-11-20T22:31:05+01");
	ts_bad("2026-11-20T22:31:05+24:00");
	ts_bad("2026-11-20T22:31:05+01:60");
	ts_bad("26-11-20T22:31:05Z");
	ts_bad("2026-1a-20T22:31:05Z");
	ts_bad("+026-11-20T22:31:05Z");
	ts_bad("2026-11-20T22:31:05.123X");
	ts_bad("1795213865123");

	/* durations */
	dur_is("90s", 90000);
	dur_is("5m", 300000);
	dur_is("1h30m", 5400000);
	dur_is("2d", 172800000);
	dur_is("250ms", 250);
	dur_is("1.5h", 5400000);
	dur_is("0.5s", 500);
	dur_is("30", 30000);                       /* bare number: seconds, as timeout(1) */
	dur_is("0", 0);
	dur_is("1d2h3m4s5ms", 93784005);
	dur_is("1m30s", 90000);
	dur_bad(NULL);
	dur_bad("");
	dur_bad("s");
	dur_bad("m5");
	dur_bad("5x");
	dur_bad("5 m");
	dur_bad(" 5m");
	dur_bad("5m ");
	dur_bad("-5s");
	dur_bad("+5s");
	dur_bad("1h30");                           /* ambiguous: 30 what? */
	dur_bad("1.2.3s");
	dur_bad(".");
	dur_bad("nan");
	dur_bad("5mss");
	dur_bad("5M");

	/* timeout(1)'s forms (coreutils tests/timeout/timeout-parameters.sh,
	 * timeout-large-parameters.sh): exponents, fractions, units on them */
	dur_is("1e-3", 1);
	dur_is("2.5e1m", 1500000);
	dur_is("1E3", 1000000);
	dur_is("1e+2s", 100000);
	dur_is("10.34", 10340);
	dur_is("9.999999999", 10000);
	dur_is(".5", 500);
	dur_is("1.", 1000);
	dur_is("1d", 86400000);
	dur_is("0e-5", 0);
	dur_is("0.0", 0);
	dur_is("1.5e3ms", 1500);
	dur_is("1h1e1m", 4200000);
	/* a tiny positive value rounds up to the smallest unit, 1 ms */
	dur_is("1e-10000", 1);
	dur_is("0.0001", 1);
	dur_is("0.4ms", 1);
	dur_is("0.5ms", 1);
	dur_is("1.4ms", 1);
	/* too large to represent: forever, not an error */
	dur_is("99999999999999999d", WR_DUR_FOREVER);
	dur_is("9223372036854775808", WR_DUR_FOREVER);  /* TIME_T_OFLOW */
	dur_is("9223372036854775808d", WR_DUR_FOREVER);
	dur_is("4294967296", WR_DUR_FOREVER);           /* UINT_OFLOW seconds: 136 years */
	dur_is("2.34e+5d", WR_DUR_FOREVER);
	dur_is("1.18973149535723176502e+4932", WR_DUR_FOREVER); /* LDBL_MAX */
	dur_is("1e999999999999", WR_DUR_FOREVER);
	dur_is("inf", WR_DUR_FOREVER);
	dur_is("infinity", WR_DUR_FOREVER);
	dur_is("36499d", 36499LL * 86400000);
	dur_bad("-1.18973149535723176502e+4932");
	dur_bad("-1e-10000");
	dur_bad(" -0.1");
	dur_bad("-0.1");
	dur_bad("-0");
	dur_bad("42D");
	dur_bad("invalid");
	dur_bad("0x10");
	dur_bad("1e");
	dur_bad("1e+");
	dur_bad("e5");
	dur_bad("inf5");
	dur_bad("5s5");
	{
		/* the error says what was wrong */
		const char *why = NULL;
		int64_t ms;
		ok(wr_dur_parse_why("-1s", &ms, &why) < 0 && why && strstr(why, "negative"), "negative: %s", why ? why : "(none)");
		ok(wr_dur_parse_why("42D", &ms, &why) < 0 && why && strstr(why, "unit"), "unit: %s", why ? why : "(none)");
		ok(wr_dur_parse_why("1h30", &ms, &why) < 0 && why && strstr(why, "1h30m"), "1h30: %s", why ? why : "(none)");
		ok(wr_dur_parse_why("", &ms, &why) < 0 && why && strstr(why, "empty"), "empty: %s", why ? why : "(none)");
		ok(wr_dur_parse_why("abc", &ms, &why) < 0 && why && strstr(why, "number"), "abc: %s", why ? why : "(none)");
		ok(wr_dur_parse_why("5 m", &ms, &why) < 0 && why && strstr(why, "spaces"), "space: %s", why ? why : "(none)");
		ok(wr_dur_parse_why("5s", &ms, &why) == 0 && !why, "no why on success");
		ok(wr_dur_parse_why("5s", &ms, NULL) == 0 && ms == 5000, "why may be NULL");
	}

	/* formatting */
	dur_fmt(0, "0ms");
	dur_fmt(250, "250ms");
	dur_fmt(999, "999ms");
	dur_fmt(1000, "1s");
	dur_fmt(90000, "1m30s");
	dur_fmt(300000, "5m");
	dur_fmt(5400000, "1h30m");
	dur_fmt(3600000, "1h");
	dur_fmt(172800000, "2d");
	dur_fmt(93784005, "1d2h3m");
	dur_fmt(-90000, "-1m30s");
	dur_fmt(-250, "-250ms");
	{
		/* what is formatted parses back to the same (at its precision) */
		static const int64_t v[] = {250, 1000, 59000, 90000, 300000, 3600000, 5400000, 86400000, 172800000};
		for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
			char b[32];
			int64_t back = -1;
			wr_dur_format(v[i], b, sizeof b);
			ok(wr_dur_parse(b, &back) == 0 && back == v[i], "%s parses back to %lld", b, (long long)v[i]);
		}
	}
	return done_testing();
}
