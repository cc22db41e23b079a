/* timefmt.c - clocks, RFC 3339 and durations. */
#include "timefmt.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t wr_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wr_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

char *wr_ts_format(int64_t ms, char *buf)
{
	int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int msec = (int)(ms - s * 1000);
	int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	int64_t rem = s - days * 86400;
	int64_t y;
	int mo, d;
	civil_from_days(days, &y, &mo, &d);
	snprintf(buf, WR_TS_LEN, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, mo, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), msec);
	return buf;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int wr_ts_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, se;
	if (strlen(s) < 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		return -1;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return -1;
	const char *p = s + 19;
	int frac = 0;
	if (*p == '.') {
		p++;
		int n = 0, scale = 100;
		while (isdigit((unsigned char)*p)) {
			if (n < 3) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
			n++;
			p++;
		}
		if (n == 0)
			return -1;
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 60 + om);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se);
	secs -= (int64_t)off * 60;
	*ms = secs * 1000 + frac;
	return 0;
}

/* One number of a duration, as timeout(1) reads it: digits with an
 * optional fraction and exponent ("10", ".5", "2.5e1", "1e-3"). Returns
 * the length scanned (0: no number) and sets *nonzero when a mantissa
 * digit is not 0, so that an underflow to 0.0 is still known positive. */
static size_t scan_number(const char *p, int *nonzero)
{
	size_t i = 0, mant = 0;
	*nonzero = 0;
	while (isdigit((unsigned char)p[i])) {
		*nonzero |= p[i++] != '0';
		mant++;
	}
	if (p[i] == '.') {
		i++;
		while (isdigit((unsigned char)p[i])) {
			*nonzero |= p[i++] != '0';
			mant++;
		}
	}
	if (!mant)
		return 0;
	if (p[i] == 'e' || p[i] == 'E') {
		size_t j = i + 1;
		if (p[j] == '+' || p[j] == '-')
			j++;
		if (isdigit((unsigned char)p[j])) {
			while (isdigit((unsigned char)p[j]))
				j++;
			i = j;
		}
	}
	return i;
}

/* The unit at p: its milliseconds and length, or 0 when there is none. */
static size_t scan_unit(const char *p, double *mult)
{
	switch (*p) {
	case 'm':
		if (p[1] == 's') {
			*mult = 1;
			return 2;
		}
		*mult = 60000;
		return 1;
	case 's':
		*mult = 1000;
		return 1;
	case 'h':
		*mult = 3600000;
		return 1;
	case 'd':
		*mult = 86400000;
		return 1;
	default:
		return 0;
	}
}

int wr_dur_parse_why(const char *s, int64_t *ms, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (!s || !*s) {
		*why = "the duration is empty";
		return -1;
	}
	if (*s == '-') {
		*why = "a duration cannot be negative";
		return -1;
	}
	if (!strcmp(s, "inf") || !strcmp(s, "infinity")) {
		*ms = WR_DUR_FOREVER;
		return 0;
	}
	double total = 0;
	int positive = 0, parts = 0;
	for (const char *p = s; *p;) {
		int nonzero;
		size_t n = scan_number(p, &nonzero);
		if (!n) {
			*why = isspace((unsigned char)*p) ? "spaces are not allowed"
			       : parts ? "expected a number after the unit (write 1h30m)"
				       : "expected a number, such as 90, 1.5, 2.5e1";
			return -1;
		}
		char *end;
		double v = strtod(p, &end); /* an ERANGE gives 0 or HUGE_VAL: both are handled */
		if (end != p + n) { /* "0x10": strtod reads more than a decimal number */
			*why = "unexpected character after the number";
			return -1;
		}
		double mult = 1000;
		size_t u = scan_unit(p + n, &mult);
		if (!u && p[n]) {
			*why = isalpha((unsigned char)p[n]) ? "unknown unit: use ms, s, m, h or d (lower case)"
			       : isspace((unsigned char)p[n]) ? "spaces are not allowed"
							      : "unexpected character after the number";
			return -1;
		}
		if (!u && parts) {
			*why = "a number after a unit needs its own unit (write 1h30m, not 1h30)";
			return -1;
		}
		total += v * mult;
		n += u;
		positive |= nonzero;
		p += n;
		parts++;
	}
	if (total >= (double)WR_DUR_FOREVER) {
		*ms = WR_DUR_FOREVER; /* too large to represent: forever, as timeout(1) */
		return 0;
	}
	int64_t v = (int64_t)llround(total);
	/* A positive duration below a millisecond is one millisecond. */
	*ms = v == 0 && positive ? 1 : v;
	return 0;
}

int wr_dur_parse(const char *s, int64_t *ms)
{
	return wr_dur_parse_why(s, ms, NULL);
}

char *wr_local_format(int64_t ms, char *buf)
{
	time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;
	if (!localtime_r(&s, &tm) || !strftime(buf, WR_TS_LEN, "%Y-%m-%d %H:%M:%S %Z", &tm))
		wr_ts_format(ms, buf);
	return buf;
}

char *wr_when_format(int64_t ms, int64_t now, char *buf, size_t n)
{
	char t[WR_TS_LEN], d[32];
	wr_local_format(ms, t);
	if (ms > now)
		snprintf(buf, n, "%s (in %s)", t, wr_dur_format(ms - now, d, sizeof d));
	else
		snprintf(buf, n, "%s (now)", t);
	return buf;
}

char *wr_dur_format(int64_t ms, char *buf, size_t n)
{
	char *p = buf;
	size_t left = n;
	if (ms < 0) {
		snprintf(p, left, "-");
		p++;
		left--;
		ms = -ms;
	}
	if (ms < 1000) {
		snprintf(p, left, "%lldms", (long long)ms);
		return buf;
	}
	int64_t s = ms / 1000;
	int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
	buf[n - 1] = 0;
	int w = 0;
	if (d)
		w += snprintf(p + w, left - (size_t)w, "%lldd", (long long)d);
	if (h)
		w += snprintf(p + w, left - (size_t)w, "%lldh", (long long)h);
	if (m && d < 10)
		w += snprintf(p + w, left - (size_t)w, "%lldm", (long long)m);
	if (sec && !d && !h)
		w += snprintf(p + w, left - (size_t)w, "%llds", (long long)sec);
	if (!w)
		snprintf(p, left, "0s");
	return buf;
}
