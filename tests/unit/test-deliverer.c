/* test-deliverer - one run of an outbox deliverer: its input, its status
 * and output in the recorded error, the timeout that kills its group. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tap.h"

#include "deliverer.h"

static int run(char **argv, int64_t timeout_ms, const char *input, struct wr_delivered *res)
{
	char *env[] = {"WR_OUTBOX_ID=e1", NULL};
	struct wr_deliverer d = {argv, env, timeout_ms, 100};
	return wr_deliverer_run(&d, input, strlen(input), res);
}

int main(void)
{
	struct wr_delivered res;
	ok(wr_deliverer_signals() == 0, "signals caught");
	char *cat[] = {"sh", "-c", "cat; echo \"id $WR_OUTBOX_ID\" >&2", NULL};
	is_int(run(cat, 10000, "{\"id\":\"e1\"}\n", &res), 0, "a deliverer runs");
	ok(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0, "and succeeds");
	ok(strstr(res.out, "{\"id\":\"e1\"}") != NULL, "it read the entry on stdin");
	ok(strstr(res.out, "id e1") != NULL, "with the environment given");
	ok(wr_delivered_error("sh", 10000, &res) == NULL, "a success is no error");

	char *fail[] = {"sh", "-c", "echo 'curl: (22) error: 500'; exit 22", NULL};
	run(fail, 10000, "", &res);
	char *e = wr_delivered_error("curl", 10000, &res);
	is_str(e, "curl exited with status 22: curl: (22) error: 500", "the status and the output's end");
	free(e);

	char *chatty[] = {"sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done; exit 1", NULL};
	run(chatty, 10000, "", &res);
	is_int((long long)res.outlen, WR_DELIVERER_TAIL, "only the end of a long output is kept");
	e = wr_delivered_error("sh", 10000, &res);
	ok(strstr(e, ": ...") && strstr(e, "line 199") && !strstr(e, "line 1 "), "a cut start is marked: %s", e);
	free(e);

	char *slow[] = {"sleep", "30", NULL};
	run(slow, 200, "", &res);
	ok(res.timed_out, "a deliverer past its timeout is stopped");
	e = wr_delivered_error("sleep", 200, &res);
	is_str(e, "timed out after 200ms; process group killed", "and that is the error");
	free(e);

	char *none[] = {"/nonexistent/deliverer", NULL};
	run(none, 1000, "", &res);
	e = wr_delivered_error("/nonexistent/deliverer", 1000, &res);
	ok(e && strstr(e, "cannot execute /nonexistent/deliverer"), "a command that cannot run: %s", e);
	free(e);
	return done_testing();
}
