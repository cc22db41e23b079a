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

int wr_dur_parse(const char *s, int64_t *ms)
{
	if (!s || !*s)
		return -1;
	double total = 0;
	const char *p = s;
	int units = 0;
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		errno = 0;
		double v = strtod(p, &end);
		if (end == p || errno || v < 0 || !isfinite(v))
			return -1;
		p = end;
		double mult;
		if (!*p) {
			if (units)
				return -1; /* "1h30" is ambiguous */
			mult = 1000;
		} else if (p[0] == 'm' && p[1] == 's') {
			mult = 1;
			p += 2;
		} else if (*p == 's') {
			mult = 1000;
			p++;
		} else if (*p == 'm') {
			mult = 60000;
			p++;
		} else if (*p == 'h') {
			mult = 3600000;
			p++;
		} else if (*p == 'd') {
			mult = 86400000;
			p++;
		} else {
			return -1;
		}
		total += v * mult;
		units++;
		if (total > 9.2e15)
			return -1;
	}
	*ms = (int64_t)llround(total);
	return 0;
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
