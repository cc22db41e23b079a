/* err.c - messages on stderr, the last library error, a stop asked for. */
#include "err.h"
#include "sanitize.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *wr_prog = "wr";
int wr_exit_failure = WR_EXIT_IO;

static char errbuf[2048];
static enum wr_errkind errkind = WR_E_IO;

/* Makes each line of a message safe for a terminal: names and ids in
 * messages come from data. The lines a message is made of stay lines. */
static void clean_lines(char *s)
{
	for (;;) {
		char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		size_t k = wr_sanitize(s, n);
		if (!nl)
			return;
		memmove(s + k + 1, nl + 1, strlen(nl + 1) + 1); /* s[k] holds the NUL wr_sanitize wrote */
		s[k] = '\n';
		s += k + 1;
	}
}

static void vmsg(const char *fmt, va_list ap, int err)
{
	char buf[4096];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		buf[0] = 0;
	clean_lines(buf);
	if (err)
		fprintf(stderr, "%s: %s: %s\n", wr_prog, buf, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", wr_prog, buf);
}

void wr_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	errno = e;
}

void wr_warnsys(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
	errno = e;
}

void wr_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	exit(code);
}

void wr_diesys(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
	exit(code);
}

void wr_usage_error(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", wr_prog);
	exit(code);
}

void wr_seterr(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
	errkind = WR_E_IO;
	errno = e;
}

void wr_seterrsys(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof errbuf)
		snprintf(errbuf + n, sizeof errbuf - (size_t)n, ": %s", strerror(e));
	errkind = WR_E_IO;
	errno = e;
}

const char *wr_errmsg(void) { return errbuf; }
void wr_seterrkind(enum wr_errkind k) { errkind = k; }
enum wr_errkind wr_errkind(void) { return errkind; }

static volatile sig_atomic_t stop_sig;
void wr_stop_note(int sig) { stop_sig = sig; }
int wr_stop_pending(void) { return stop_sig; }
