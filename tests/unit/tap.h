/* tap.h - a few TAP helpers for the core unit tests (one program per
 * module). Each check prints "ok N - what" or "not ok N - what"; the
 * program exits non-zero when any failed. */
#ifndef WR_TAP_H
#define WR_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                                          \
	do {                                                                                            \
		long long g_ = (long long)(got), w_ = (long long)(want);                                \
		if (!ok(g_ == w_, __VA_ARGS__))                                                         \
			printf("#   got %lld, want %lld\n", g_, w_);                                     \
	} while (0)
#define is_str(got, want, ...)                                                                          \
	do {                                                                                            \
		const char *g_ = (got), *w_ = (want);                                                   \
		if (!ok(g_ && w_ ? !strcmp(g_, w_) : g_ == w_, __VA_ARGS__))                            \
			printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

__attribute__((format(printf, 4, 5))) static int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

#endif
