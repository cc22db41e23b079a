/* signame.c - signal names and numbers (glibc's sigabbrev_np). */
#include "signame.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

int wr_sig_parse(const char *s)
{
	int64_t n;
	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)*s))
		return wr_parse_int(s, 0, SIGRTMAX, &n) == 0 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *name = sigabbrev_np(i);
		if (name && !strcasecmp(name, s))
			return i;
	}
	return -1;
}

const char *wr_sig_name(int sig, char buf[WR_SIGNAME_LEN])
{
	const char *name = sig > 0 ? sigabbrev_np(sig) : NULL;
	if (name)
		snprintf(buf, WR_SIGNAME_LEN, "%s", name);
	else
		snprintf(buf, WR_SIGNAME_LEN, "%d", sig);
	return buf;
}
