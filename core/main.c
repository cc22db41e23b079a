/* main.c - the one main of every wr tool.
 *
 * Sets up signals and standard fds, runs the tool's wr_main, then flushes
 * and closes stdout and fails when that fails: a full disk or a closed pipe
 * must not look like success. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "err.h"

int wr_main(int argc, char **argv);

int wr_sigpipe_ignored;

int main(int argc, char **argv)
{
	/* Output goes into jq and head: die quietly on a closed pipe. wr-run
	 * gives its command the disposition it was started with. */
	wr_sigpipe_ignored = signal(SIGPIPE, SIG_DFL) == SIG_IGN;
	/* A tool started with a standard fd closed must not write its ledger
	 * to it by accident: fill 0-2 with /dev/null. */
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n > 2)
				close(n);
		}
	}
	int r = wr_main(argc, argv);
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno == EPIPE)
			return r;
		wr_warnsys("unable to write standard output");
		return r ? r : wr_exit_failure;
	}
	return r;
}
