/* wr-run - one supervised attempt of a command, recorded in the ledger.
 *
 * Order of work: the child is forked first and held before exec (it blocks
 * reading a pipe), so that attempt.started can carry its process group;
 * only after that decision is committed does the parent release it, sending
 * the WR_* environment down the same pipe. A failed commit closes the pipe
 * unwritten and the command never runs. Then one poll() loop passes the
 * child's output through, reads progress lines, heartbeats, and enforces
 * the timeout, the stuck rules and forwarded signals, until the child is
 * reaped and its process group is gone; wait4 gives the rusage for
 * attempt.finished. All decisions are in core/decide_run.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decide_run.h"
#include "err.h"
#include "ledger.h"
#include "output.h"
#include "sysinfo.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"
#include "uuid.h"

static const char usage[] =
	"Usage: wr-run [options] -- COMMAND [ARG]...\n"
	"       wr-run [options] --run ID [-- COMMAND [ARG]...]\n"
	"\n"
	"Run COMMAND once, supervised, and record the attempt in the ledger:\n"
	"run.created (a new run) or the next attempt of --run ID, attempt.started,\n"
	"heartbeats, progress and attempt.finished with its resource usage.\n"
	"COMMAND is executed directly (PATH lookup, never a shell) in its own process\n"
	"group; its stdout and stderr pass through byte for byte.\n"
	"\n"
	"Options:\n"
	"  --workflow NAME       workflow of a new run (default: COMMAND's basename)\n"
	"  --run ID              continue run ID (a unique prefix, or the short id of\n"
	"                        wr-watch tables) as its next attempt, with the\n"
	"                        policy, command and directory it was created with;\n"
	"                        policy options are refused then\n"
	"  --timeout DUR         kill the attempt DUR after it started (absolute:\n"
	"                        heartbeats and progress never extend it); also bounds\n"
	"                        the wait for a concurrency slot (default: none)\n"
	"  --kill-after DUR      grace between SIGTERM and SIGKILL (default 10s)\n"
	"  --heartbeat DUR       record a heartbeat every DUR (default 30s)\n"
	"  --lease DUR           each heartbeat extends the lease by DUR; an attempt\n"
	"                        whose lease ran out may be declared lost (default 2m)\n"
	"  --stuck-repeat N      stuck when the same output line comes N times in a row\n"
	"                        on stdout or on stderr (each stream on its own)\n"
	"  --no-progress DUR     stuck when no progress line came for DUR\n"
	"  --stuck-action A      abort (default: kill, outcome stuck, exit 123) or\n"
	"                        notify (record it, enqueue a notification, go on)\n"
	"  --max-attempts N      attempts for the run in all, for wr-recover (default 3)\n"
	"  --backoff I[,F[,M]]   retry backoff: initial, factor, max (30s,2,1h)\n"
	"  --deadline DUR        the whole run, across all attempts, ends DUR after it\n"
	"                        was created\n"
	"  --no-retry-on CODES   exit codes that are final, e.g. 2,64\n"
	"  --concurrency N       at most N running attempts of the workflow; at the\n"
	"                        limit, --wait (default) queues and --no-wait rejects\n"
	"  --wait, --no-wait\n"
	"  --log FILE            append the output to FILE as well (created 0600)\n"
	"  --label K=V           a label of the new run (repeatable)\n"
	"  --ledger PATH         the ledger (default $WR_LEDGER, else\n"
	"                        ${XDG_STATE_HOME:-~/.local/state}/wr/ledger.jsonl)\n"
	"  -h, --help            show this help\n"
	"      --version         show the version\n"
	"\n"
	"Durations: 250ms, 90s, 5m, 1h30m, 2d; a bare number is seconds.\n"
	"\n"
	"COMMAND gets WR_LEDGER, WR_RUN, WR_WORKFLOW, WR_ATTEMPT, WR_STAGES_DONE\n"
	"(comma-separated stages done by earlier attempts) and WR_PROGRESS_FD=3, a\n"
	"pipe for progress lines: {\"stage\":\"fetch\",\"status\":\"started|done\"}.\n"
	"\n"
	"Signals TERM, INT, HUP and QUIT are passed to COMMAND's process group and\n"
	"end the attempt as cancelled; USR1 and USR2 are passed on. When COMMAND\n"
	"ends, what is left of its process group is killed too.\n"
	"\n"
	"Exit status:\n"
	"  N        COMMAND's exit status\n"
	"  128+N    COMMAND died of signal N, or wr-run was cancelled by signal N\n"
	"           (or 'wr-recover cancel' stopped COMMAND with it)\n"
	"  123      stuck, aborted\n"
	"  124      timed out\n"
	"  125      wr-run itself failed (usage, ledger I/O such as ENOSPC, a refused\n"
	"           --run, a --run whose directory is gone: recorded as a failed\n"
	"           attempt); when the start cannot be recorded COMMAND never runs\n"
	"  126      COMMAND cannot be executed\n"
	"  127      COMMAND not found\n"
	"  75       rejected: the workflow's circuit breaker is open, or the\n"
	"           concurrency limit was reached (--no-wait, or --timeout passed)\n"
	"When the end of the attempt cannot be recorded wr-run says so and exits\n"
	"125; the attempt stays live in the ledger until 'wr-watch check' finds its\n"
	"supervisor gone and records it lost.\n"
	"\n"
	"Examples:\n"
	"  wr-run --timeout 1h --stuck-repeat 50 -- ./nightly-import.sh\n"
	"  wr-run --workflow backup --concurrency 1 --no-wait -- restic backup /srv\n"
	"  wr-run --run 0193a1b2 -- ./nightly-import.sh\n";

#define EXIT_REJECTED 75
#define EXIT_STUCK 123
#define EXIT_TIMEOUT 124
#define EXIT_FAILED 125
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

#define IOBUF (256 * 1024)
#define LINE_CAP (64 * 1024)     /* longer lines never count as repeated */
#define PROGRESS_CAP (64 * 1024) /* longer progress lines are bad */
#define MAX_WARN_BAD 10

/* ---- options ---- */

struct opts {
	const char *ledger, *workflow, *run, *log;
	struct wr_policy pol;
	json_t *labels;
	int wait;
	const char *policy_opt;     /* the first policy option given, for --run */
};

static void set_policy_opt(struct opts *o, const char *name)
{
	if (!o->policy_opt)
		o->policy_opt = name;
}

static int64_t parse_dur(const char *opt, const char *s, int zero_ok)
{
	int64_t ms;
	if (wr_dur_parse(s, &ms) < 0 || (!zero_ok && ms <= 0))
		wr_usage_error(EXIT_FAILED, "option '--%s': invalid duration '%s' (write 90s, 5m, 1h30m, 2d, 250ms)",
			       opt, s);
	return ms;
}

static int64_t parse_num(const char *opt, const char *s, int64_t min, int64_t max)
{
	int64_t v;
	if (wr_parse_int(s, min, max, &v) < 0)
		wr_usage_error(EXIT_FAILED, "option '--%s': expected a whole number from %lld to %lld, not '%s'", opt,
			       (long long)min, (long long)max, s);
	return v;
}

static void parse_backoff(struct wr_policy *p, const char *s)
{
	char *copy = wr_xstrdup(s), *save = NULL;
	char *parts[4] = {0};
	int n = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (n < 4)
			parts[n++] = t;
	if (n < 1 || n > 3)
		wr_usage_error(EXIT_FAILED, "option '--backoff': expected INITIAL[,FACTOR[,MAX]], e.g. 30s,2,1h");
	p->backoff_initial_ms = parse_dur("backoff", parts[0], 0);
	if (n > 1) {
		char *end;
		errno = 0;
		double f = strtod(parts[1], &end);
		if (errno || *end || !isfinite(f) || f < 1.0 || f > 100.0)
			wr_usage_error(EXIT_FAILED, "option '--backoff': factor must be a number from 1 to 100, not '%s'",
				       parts[1]);
		p->backoff_factor = f;
	}
	if (n > 2)
		p->backoff_max_ms = parse_dur("backoff", parts[2], 0);
	if (p->backoff_max_ms < p->backoff_initial_ms)
		wr_usage_error(EXIT_FAILED, "option '--backoff': MAX must not be less than INITIAL");
	free(copy);
}

static void parse_codes(struct wr_policy *p, const char *s)
{
	char *copy = wr_xstrdup(s), *save = NULL;
	wr_policy_free(p);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int64_t v = parse_num("no-retry-on", t, 0, 255);
		p->no_retry_on = wr_xrealloc(p->no_retry_on, (p->n_no_retry_on + 1) * sizeof *p->no_retry_on);
		p->no_retry_on[p->n_no_retry_on++] = (int)v;
	}
	if (!p->n_no_retry_on)
		wr_usage_error(EXIT_FAILED, "option '--no-retry-on': expected exit codes, e.g. 2,64");
	free(copy);
}

static void parse_label(json_t *labels, const char *s)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s)
		wr_usage_error(EXIT_FAILED, "option '--label': expected KEY=VALUE, not '%s'", s);
	char *k = wr_xstrndup(s, (size_t)(eq - s));
	if (!wr_utf8_valid(s, strlen(s)))
		wr_usage_error(EXIT_FAILED, "option '--label': '%s' is not valid UTF-8", k);
	char *nk = wr_id_nfc(k);
	json_object_set_new(labels, nk, json_string(eq + 1));
	free(nk);
	free(k);
}

enum {
	O_WORKFLOW = 256, O_RUN, O_TIMEOUT, O_KILL_AFTER, O_HEARTBEAT, O_LEASE, O_STUCK_REPEAT, O_NO_PROGRESS,
	O_STUCK_ACTION, O_MAX_ATTEMPTS, O_BACKOFF, O_DEADLINE, O_NO_RETRY_ON, O_CONCURRENCY, O_WAIT, O_NO_WAIT,
	O_LOG, O_LABEL, O_LEDGER, O_VERSION,
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"workflow", required_argument, NULL, O_WORKFLOW},
		{"run", required_argument, NULL, O_RUN},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"kill-after", required_argument, NULL, O_KILL_AFTER},
		{"heartbeat", required_argument, NULL, O_HEARTBEAT},
		{"lease", required_argument, NULL, O_LEASE},
		{"stuck-repeat", required_argument, NULL, O_STUCK_REPEAT},
		{"no-progress", required_argument, NULL, O_NO_PROGRESS},
		{"stuck-action", required_argument, NULL, O_STUCK_ACTION},
		{"max-attempts", required_argument, NULL, O_MAX_ATTEMPTS},
		{"backoff", required_argument, NULL, O_BACKOFF},
		{"deadline", required_argument, NULL, O_DEADLINE},
		{"no-retry-on", required_argument, NULL, O_NO_RETRY_ON},
		{"concurrency", required_argument, NULL, O_CONCURRENCY},
		{"wait", no_argument, NULL, O_WAIT},
		{"no-wait", no_argument, NULL, O_NO_WAIT},
		{"log", required_argument, NULL, O_LOG},
		{"label", required_argument, NULL, O_LABEL},
		{"ledger", required_argument, NULL, O_LEDGER},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	int c, heartbeat_set = 0, lease_set = 0;
	wr_policy_defaults(&o->pol);
	o->labels = json_object();
	o->wait = 1;
	opterr = 0;
	/* '+': stop at COMMAND, so its own options are left alone. */
	while ((c = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		const char *name = c >= O_WORKFLOW && c < O_VERSION ? lo[c - O_WORKFLOW].name : "";
		switch (c) {
		case O_WORKFLOW:
			o->workflow = optarg;
			break;
		case O_RUN:
			o->run = optarg;
			break;
		case O_TIMEOUT:
			o->pol.timeout_ms = parse_dur(name, optarg, 0);
			set_policy_opt(o, name);
			break;
		case O_KILL_AFTER:
			o->pol.kill_after_ms = parse_dur(name, optarg, 1);
			set_policy_opt(o, name);
			break;
		case O_HEARTBEAT:
			o->pol.heartbeat_ms = parse_dur(name, optarg, 0);
			heartbeat_set = 1;
			set_policy_opt(o, name);
			break;
		case O_LEASE:
			o->pol.lease_ms = parse_dur(name, optarg, 0);
			lease_set = 1;
			set_policy_opt(o, name);
			break;
		case O_STUCK_REPEAT:
			o->pol.stuck_repeat = parse_num(name, optarg, 2, 1000000000);
			set_policy_opt(o, name);
			break;
		case O_NO_PROGRESS:
			o->pol.no_progress_ms = parse_dur(name, optarg, 0);
			set_policy_opt(o, name);
			break;
		case O_STUCK_ACTION:
			if (!strcmp(optarg, "abort"))
				o->pol.stuck_abort = 1;
			else if (!strcmp(optarg, "notify"))
				o->pol.stuck_abort = 0;
			else
				wr_usage_error(EXIT_FAILED, "option '--stuck-action': expected abort or notify, not '%s'",
					       optarg);
			set_policy_opt(o, name);
			break;
		case O_MAX_ATTEMPTS:
			o->pol.max_attempts = parse_num(name, optarg, 1, 1000000);
			set_policy_opt(o, name);
			break;
		case O_BACKOFF:
			parse_backoff(&o->pol, optarg);
			set_policy_opt(o, name);
			break;
		case O_DEADLINE:
			o->pol.deadline_ms = parse_dur(name, optarg, 0);
			set_policy_opt(o, name);
			break;
		case O_NO_RETRY_ON:
			parse_codes(&o->pol, optarg);
			set_policy_opt(o, name);
			break;
		case O_CONCURRENCY:
			o->pol.concurrency = parse_num(name, optarg, 1, 1000000);
			set_policy_opt(o, name);
			break;
		case O_WAIT:
			o->wait = 1;
			break;
		case O_NO_WAIT:
			o->wait = 0;
			break;
		case O_LOG:
			o->log = optarg;
			break;
		case O_LABEL:
			parse_label(o->labels, optarg);
			set_policy_opt(o, name);
			break;
		case O_LEDGER:
			o->ledger = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case O_VERSION:
			wr_print_version();
			exit(0);
		case ':':
			wr_usage_error(EXIT_FAILED, "option '%s' needs a value", argv[optind - 1]);
		default:
			wr_usage_error(EXIT_FAILED, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->pol.lease_ms <= o->pol.heartbeat_ms && (heartbeat_set || lease_set)) {
		char h[32], l[32], t[32];
		wr_usage_error(EXIT_FAILED,
			       "--lease (%s) must be longer than --heartbeat (%s), or the lease runs out between "
			       "heartbeats; try --lease %s",
			       wr_dur_format(o->pol.lease_ms, l, sizeof l), wr_dur_format(o->pol.heartbeat_ms, h, sizeof h),
			       wr_dur_format(o->pol.heartbeat_ms * 4, t, sizeof t));
	}
	return optind;
}

/* ---- signals: a self-pipe read by the event loop ---- */

static int sigfd[2] = {-1, -1};
static const int handled[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD};
#define NHANDLED (sizeof handled / sizeof handled[0])

static void on_signal(int sig)
{
	int e = errno;
	unsigned char c = (unsigned char)sig;
	(void)!write(sigfd[1], &c, 1);
	errno = e;
}

static void setup_signals(sigset_t *mask)
{
	if (pipe2(sigfd, O_CLOEXEC | O_NONBLOCK) < 0)
		wr_diesys(EXIT_FAILED, "unable to create a pipe");
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigemptyset(mask);
	for (size_t i = 0; i < NHANDLED; i++) {
		sigaction(handled[i], &sa, NULL);
		sigaddset(mask, handled[i]);
	}
	/* A closed stdout is handled by closing the child's pipe (below), so
	 * that wr-run lives on to record the end. */
	signal(SIGPIPE, SIG_IGN);
}

/* ---- the child, held before exec ---- */

struct child {
	pid_t pid;
	int out_r, out_w, err_r, err_w; /* err_* -1 when stdout and stderr are one file */
	int prog_r, prog_w;
	int hold_r, hold_w;
	int exec_r, exec_w;        /* the child's failure before exec: {stage, errno} */
	const char *dir;           /* directory to run in (a --run's recorded cwd), or NULL */
};

/* The child's fd for progress lines: the first after stdin, out and err. */
#define PROGRESS_FD 3

/* What the child reports on exec_w when it cannot run the command. */
enum { CHILD_CHDIR = 1, CHILD_EXEC = 2 };

static void xpipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		wr_diesys(EXIT_FAILED, "unable to create a pipe");
}

static void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In the child between fork and exec: wait for the environment, then exec.
 * An empty hold pipe means the start was not recorded: never run. */
static _Noreturn void child_main(struct child *c, char **argv, const sigset_t *mask)
{
	for (size_t i = 0; i < NHANDLED; i++)
		signal(handled[i], SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, mask, NULL);
	/* Our copies of the parent's ends would keep the hold pipe from ever
	 * reaching EOF. */
	close(c->hold_w);
	close(c->exec_r);
	close(c->out_r);
	if (c->err_r >= 0)
		close(c->err_r);
	close(c->prog_r);
	close(sigfd[0]);
	close(sigfd[1]);
	setpgid(0, 0);
	if (dup2(c->out_w, 1) < 0 || dup2(c->err_w >= 0 ? c->err_w : c->out_w, 2) < 0)
		_exit(EXIT_FAILED);
	struct wr_buf env = {0};
	char buf[4096];
	ssize_t n;
	while ((n = wr_read(c->hold_r, buf, sizeof buf)) > 0)
		wr_buf_add(&env, buf, (size_t)n);
	if (n < 0 || env.len == 0)
		_exit(EXIT_FAILED);
	close(c->hold_r);
	/* The progress pipe goes to fd 3 (WR_PROGRESS_FD=3), where any shell
	 * can name it: dash takes one digit in '>&3'. */
	if (c->exec_w == PROGRESS_FD)
		c->exec_w = fcntl(c->exec_w, F_DUPFD_CLOEXEC, PROGRESS_FD + 1);
	if (c->prog_w != PROGRESS_FD) {
		if (dup2(c->prog_w, PROGRESS_FD) < 0)
			_exit(EXIT_FAILED);
		close(c->prog_w);
	} else {
		fcntl(PROGRESS_FD, F_SETFD, 0);
	}
	for (size_t off = 0; off < env.len;) {
		char *kv = env.p + off;
		size_t len = strnlen(kv, env.len - off);
		char *eq = memchr(kv, '=', len);
		if (eq) {
			*eq = 0;
			kv[len] = 0;
			setenv(kv, eq + 1, 1);
		}
		off += len + 1;
	}
	int e[2] = {CHILD_CHDIR, 0};
	if (c->dir && chdir(c->dir) < 0) {
		e[1] = errno;
		(void)!write(c->exec_w, e, sizeof e);
		_exit(EXIT_FAILED);
	}
	execvp(argv[0], argv);
	e[0] = CHILD_EXEC;
	e[1] = errno;
	(void)!write(c->exec_w, e, sizeof e);
	_exit(e[1] == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void spawn_held(struct child *c, char **argv, const sigset_t *mask)
{
	int p[2];
	xpipe(p);
	c->out_r = p[0], c->out_w = p[1];
	c->err_r = c->err_w = -1;
	/* One file behind both (a terminal, 2>&1): one pipe keeps the order. */
	if (!same_file(1, 2)) {
		xpipe(p);
		c->err_r = p[0], c->err_w = p[1];
	}
	xpipe(p);
	c->prog_r = p[0], c->prog_w = p[1];
	xpipe(p);
	c->hold_r = p[0], c->hold_w = p[1];
	xpipe(p);
	c->exec_r = p[0], c->exec_w = p[1];
	/* Bigger pipes: fewer wake-ups on heavy output (best effort). */
	fcntl(c->out_r, F_SETPIPE_SZ, 1 << 20);
	if (c->err_r >= 0)
		fcntl(c->err_r, F_SETPIPE_SZ, 1 << 20);
	sigset_t old;
	sigprocmask(SIG_BLOCK, mask, &old);
	c->pid = fork();
	if (c->pid < 0)
		wr_diesys(EXIT_FAILED, "unable to fork");
	if (c->pid == 0)
		child_main(c, argv, mask);
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* Both sides set the group, so it exists whoever runs first. */
	setpgid(c->pid, c->pid);
	closefd(&c->out_w);
	closefd(&c->err_w);
	closefd(&c->hold_r);
	closefd(&c->exec_w);
	fcntl(c->out_r, F_SETFL, O_NONBLOCK);
	if (c->err_r >= 0)
		fcntl(c->err_r, F_SETFL, O_NONBLOCK);
	fcntl(c->prog_r, F_SETFL, O_NONBLOCK);
}

/* ---- output passthrough with the repeated-line detector ---- */

struct stream {
	const char *name;          /* "stdout", "stderr" */
	int fd;                    /* read end, -1 when closed */
	int dest;                  /* 1 or 2 */
	int wfd;                   /* where writes go: dest, or a non-blocking reopen of it */
	int nonblock;              /* 1: wfd does not block (poll for POLLOUT); 2: a socket (send) */
	char *buf;
	size_t off, len;           /* pending output */
	/* repeated lines */
	char *cur, *prev;
	size_t curlen, prevlen;
	int cur_over, prev_over, cur_match, have_prev;
	int64_t repeat;
};

/* Non-blocking writes to a pipe or socket, so that a stalled reader of our
 * stdout cannot stall the loop: the timeout and heartbeats go on. A pipe is
 * reopened through /proc (a new open file description: the shared one's
 * flags stay untouched); files and terminals are written as they are. */
static void stream_dest(struct stream *s, int dest)
{
	struct stat sb;
	s->dest = s->wfd = dest;
	s->nonblock = 0;
	if (fstat(dest, &sb) < 0)
		return;
	if (S_ISSOCK(sb.st_mode)) {
		s->nonblock = 2;
	} else if (S_ISFIFO(sb.st_mode)) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", dest);
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			s->wfd = fd;
			s->nonblock = 1;
		}
	}
}

struct sup;
static void stuck_detected(struct sup *S, const char *reason, char *detail);

/* ---- the supervisor's state ---- */

struct sup {
	struct wr_ledger l;
	const char *run, *workflow;
	int64_t attempt;
	struct wr_policy pol;
	struct child c;
	struct stream st[2];
	int nstreams;
	int logfd;
	int log_failed;
	int64_t output_bytes;
	/* progress pipe */
	char *pline;
	size_t plen;
	int pskip;                 /* dropping the rest of an overlong line */
	int64_t bad_progress;
	int64_t last_progress;     /* mono */
	struct wr_progress_item *items;
	size_t nitems, capitems;
	/* the end */
	int reaped, status;
	struct rusage ru;
	enum wr_outcome ending;    /* NONE, or why we are killing the group */
	int cancel_sig;
	char *end_reason;
	int64_t kill_at;           /* mono time to SIGKILL the group; 0 none */
	int group_term_sent, group_gone;
	int fenced;
	int stuck_notified[2];     /* per reason: repeated_output, no_progress */
	int hb_failed;
	int by_deadline;           /* the run's deadline comes before the timeout */
};

static int group_alive(pid_t pgid)
{
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

/* Begins the end of the attempt: signal the group, SIGKILL after the grace. */
static void terminate(struct sup *S, enum wr_outcome why, int sig, char *reason)
{
	if (S->ending != WR_OUT_NONE || S->reaped) {
		free(reason);
		if (!S->reaped || !S->group_gone)
			kill(-S->c.pid, sig);
		return;
	}
	S->ending = why;
	S->end_reason = reason;
	kill(-S->c.pid, sig);
	if (sig != SIGKILL)
		S->kill_at = wr_mono_ms() + S->pol.kill_after_ms;
}

static void log_write(struct sup *S, const char *p, size_t n)
{
	if (S->logfd < 0 || S->log_failed)
		return;
	if (wr_write_all(S->logfd, p, n) < 0) {
		wr_warnsys("unable to write the log; the command goes on without it");
		S->log_failed = 1;
	}
}

/* Printable, valid UTF-8, at most 200 bytes: for a ledger detail. */
static char *clean_text(const char *p, size_t n)
{
	size_t m = n > 200 ? 200 : n;
	char *s = wr_xstrndup(p, m);
	for (size_t i = 0; i < m; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	if (!wr_utf8_valid(s, m)) {
		for (size_t i = 0; i < m; i++)
			if ((unsigned char)s[i] >= 0x80)
				s[i] = '?';
	}
	return s;
}

/* Feeds output to the repeated-line detector: compares each line with the
 * previous one of the same stream as it arrives, without changing it. */
static void detect_repeat(struct sup *S, struct stream *s, const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t seg = (size_t)((nl ? nl : end) - p);
		if (!s->cur_over) {
			if (s->curlen + seg > LINE_CAP) {
				s->cur_over = 1;
			} else {
				if (s->cur_match && (!s->have_prev || s->prev_over || s->curlen + seg > s->prevlen ||
						     memcmp(s->prev + s->curlen, p, seg)))
					s->cur_match = 0;
				memcpy(s->cur + s->curlen, p, seg);
				s->curlen += seg;
			}
		}
		if (!nl)
			break;
		if (!s->cur_over && s->cur_match && s->have_prev && !s->prev_over && s->curlen == s->prevlen) {
			s->repeat++;
		} else {
			char *t = s->prev;
			s->prev = s->cur;
			s->cur = t;
			s->prevlen = s->curlen;
			s->prev_over = s->cur_over;
			s->have_prev = 1;
			s->repeat = 1;
		}
		s->curlen = 0;
		s->cur_over = 0;
		s->cur_match = 1;
		p = nl + 1;
		if (s->repeat >= S->pol.stuck_repeat && !S->stuck_notified[0]) {
			char *line = clean_text(s->prev, s->prevlen);
			char *detail = wr_xasprintf("the same line %lld times in a row on %s: %s", (long long)s->repeat,
						    s->name, line);
			free(line);
			stuck_detected(S, "repeated_output", detail);
		}
	}
}

/* Writes what is pending; returns 0, or -1 when the destination is gone. */
static int stream_flush(struct stream *s)
{
	while (s->off < s->len) {
		ssize_t w;
		size_t n = s->len - s->off;
		if (s->nonblock == 2)
			w = send(s->wfd, s->buf + s->off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(s->wfd, s->buf + s->off, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (!s->nonblock) { /* not ours to poll: wait here */
					struct pollfd pf = {s->wfd, POLLOUT, 0};
					poll(&pf, 1, 100);
					continue;
				}
				return 0;
			}
			if (errno != EPIPE)
				wr_warnsys("unable to pass the command's %s on", s->name);
			return -1;
		}
		s->off += (size_t)w;
	}
	s->off = s->len = 0;
	return 0;
}

/* Our reader of stdout (or stderr) went away: close the command's pipe, so
 * that it meets EPIPE/SIGPIPE as it would have without wr-run between. */
static void stream_close(struct stream *s)
{
	closefd(&s->fd);
	s->off = s->len = 0;
}

/* Reads once from the command; 1 when something came, 0 nothing now, -1 EOF. */
static int stream_read(struct sup *S, struct stream *s)
{
	ssize_t n = read(s->fd, s->buf, IOBUF);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	S->output_bytes += n;
	log_write(S, s->buf, (size_t)n);
	if (S->pol.stuck_repeat)
		detect_repeat(S, s, s->buf, (size_t)n);
	s->off = 0;
	s->len = (size_t)n;
	if (stream_flush(s) < 0)
		stream_close(s);
	return 1;
}

/* ---- progress lines ---- */

static void bad_progress(struct sup *S, const char *why)
{
	S->bad_progress++;
	if (S->bad_progress <= MAX_WARN_BAD)
		wr_warn("ignoring a bad progress line on WR_PROGRESS_FD: %s%s", why,
			S->bad_progress == MAX_WARN_BAD ? " (further bad lines are ignored silently)" : "");
}

static void progress_line(struct sup *S, char *line, size_t n)
{
	if (n && line[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	json_error_t jerr;
	json_t *o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		char why[300];
		snprintf(why, sizeof why, "not JSON: %s", jerr.text);
		bad_progress(S, why);
		return;
	}
	const char *stage = json_string_value(json_object_get(o, "stage"));
	const char *status = json_string_value(json_object_get(o, "status"));
	json_t *detail = json_object_get(o, "detail");
	if (!json_is_object(o))
		bad_progress(S, "expected an object like {\"stage\":\"fetch\",\"status\":\"done\"}");
	else if (!stage || !*stage || strlen(stage) > 256 || strchr(stage, ','))
		bad_progress(S, "\"stage\" must be a non-empty string of at most 256 bytes without ','");
	else if (!status || (strcmp(status, "started") && strcmp(status, "done")))
		bad_progress(S, "\"status\" must be \"started\" or \"done\"");
	else if (detail && !json_is_null(detail) && !json_is_string(detail))
		bad_progress(S, "\"detail\" must be a string");
	else {
		WR_GROW(S->items, S->capitems, S->nitems + 1);
		struct wr_progress_item *it = &S->items[S->nitems++];
		it->stage = wr_xstrdup(stage);
		it->done = !strcmp(status, "done");
		it->detail = json_is_string(detail) ? wr_xstrdup(json_string_value(detail)) : NULL;
	}
	json_decref(o);
}

static void progress_commit(struct sup *S)
{
	if (!S->nitems)
		return;
	struct wr_beat_req q = {S->run, S->attempt, 0, S->items, S->nitems, 0};
	if (wr_ledger_commit(&S->l, wr_decide_run_beat, &q) < 0)
		wr_warn("unable to record progress: %s", wr_errmsg());
	else if (q.fenced)
		S->fenced = 1;
	for (size_t i = 0; i < S->nitems; i++) {
		free(S->items[i].stage);
		free(S->items[i].detail);
	}
	S->nitems = 0;
	S->last_progress = wr_mono_ms();
}

/* Reads progress lines; 1 some came, 0 none now, -1 EOF. */
static int progress_read(struct sup *S)
{
	char buf[16384];
	ssize_t n = read(S->c.prog_r, buf, sizeof buf);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (S->pskip)
				bad_progress(S, "line longer than 64 KiB");
			else
				progress_line(S, S->pline, S->plen);
			S->plen = 0;
			S->pskip = 0;
		} else if (S->plen < PROGRESS_CAP) {
			S->pline[S->plen++] = buf[i];
		} else {
			S->pskip = 1;
		}
	}
	progress_commit(S);
	return 1;
}

/* ---- stuck, heartbeat ---- */

static void stuck_detected(struct sup *S, const char *reason, char *detail)
{
	int which = !strcmp(reason, "no_progress");
	S->stuck_notified[which] = 1;
	struct wr_stuck_req q = {S->run, S->attempt, reason, detail, S->pol.stuck_abort, 0};
	if (wr_ledger_commit(&S->l, wr_decide_run_stuck, &q) < 0)
		wr_warn("unable to record that the command is stuck: %s", wr_errmsg());
	else if (q.fenced)
		S->fenced = 1;
	wr_warn("command looks stuck (%s): %s%s", reason, detail,
		S->pol.stuck_abort ? "; stopping it" : "; it goes on (--stuck-action notify)");
	if (S->pol.stuck_abort)
		terminate(S, WR_OUT_STUCK, SIGTERM, wr_xasprintf("%s: %s", reason, detail));
	free(detail);
}

static void heartbeat(struct sup *S)
{
	struct wr_beat_req q = {S->run, S->attempt, S->pol.lease_ms, NULL, 0, 0};
	if (wr_ledger_commit(&S->l, wr_decide_run_beat, &q) < 0) {
		if (!S->hb_failed)
			wr_warn("unable to record a heartbeat (will keep trying): %s", wr_errmsg());
		S->hb_failed = 1;
		return;
	}
	if (S->hb_failed)
		wr_warn("heartbeats are recorded again");
	S->hb_failed = 0;
	if (q.fenced)
		S->fenced = 1;
}

/* ---- the loop ---- */

/* Reaps the command, and as a subreaper whatever of its descendants was
 * orphaned, so that a dead group empties at once whatever init does. */
static void reap(struct sup *S)
{
	for (;;) {
		int status;
		struct rusage ru;
		pid_t p = wait4(-1, &status, WNOHANG, &ru);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return;
		if (p == S->c.pid) {
			S->reaped = 1;
			S->status = status;
			S->ru = ru;
		}
	}
}

static int64_t min_t(int64_t a, int64_t b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

static void supervise(struct sup *S, int64_t t0, int64_t hard_end)
{
	int64_t hb_next = t0 + S->pol.heartbeat_ms;
	S->last_progress = t0;
	int prog_open = 1;
	for (;;) {
		reap(S);
		int64_t now = wr_mono_ms();
		if (S->reaped && !S->group_gone) {
			if (!group_alive(S->c.pid)) {
				S->group_gone = 1;
			} else if (!S->group_term_sent) {
				/* The command is done; what it left in its group must not go on. */
				S->group_term_sent = 1;
				kill(-S->c.pid, SIGTERM);
				if (!S->kill_at)
					S->kill_at = now + S->pol.kill_after_ms;
			}
		}
		/* Once nothing of the group is left, take what the pipes hold and
		 * stop: a process that left the group must not keep us here. */
		int open_streams = 0;
		for (int i = 0; i < S->nstreams; i++) {
			struct stream *s = &S->st[i];
			if (s->fd >= 0 && S->group_gone && s->off == s->len) {
				int r;
				while ((r = stream_read(S, s)) > 0 && s->off == s->len)
					;
				if (r <= 0)
					stream_close(s);
			}
			open_streams += s->fd >= 0;
		}
		if (prog_open && S->group_gone) {
			while (progress_read(S) > 0)
				;
			prog_open = 0;
			closefd(&S->c.prog_r);
		}
		if (S->reaped && S->group_gone && !open_streams)
			break;

		struct pollfd pf[6];
		int np = 0, ix[2] = {-1, -1}, ox[2] = {-1, -1}, px = -1;
		pf[np++] = (struct pollfd){sigfd[0], POLLIN, 0};
		for (int i = 0; i < S->nstreams; i++) {
			struct stream *s = &S->st[i];
			if (s->fd < 0)
				continue;
			if (s->off < s->len) {
				ox[i] = np;
				pf[np++] = (struct pollfd){s->wfd, POLLOUT, 0};
			} else {
				ix[i] = np;
				pf[np++] = (struct pollfd){s->fd, POLLIN, 0};
			}
		}
		if (prog_open) {
			px = np;
			pf[np++] = (struct pollfd){S->c.prog_r, POLLIN, 0};
		}
		int64_t next = 0;
		if (S->ending == WR_OUT_NONE && !S->reaped) {
			next = min_t(next, hb_next);
			next = min_t(next, hard_end);
			if (S->pol.no_progress_ms && !S->stuck_notified[1])
				next = min_t(next, S->last_progress + S->pol.no_progress_ms);
		}
		next = min_t(next, S->kill_at);
		if (S->reaped && !S->group_gone)
			next = min_t(next, now + 20); /* watch the group die */
		int timeout = -1;
		if (next)
			timeout = next <= now ? 0 : next - now > INT_MAX ? INT_MAX : (int)(next - now);
		int r = poll(pf, (nfds_t)np, timeout);
		if (r < 0 && errno != EINTR)
			wr_diesys(EXIT_FAILED, "poll failed");

		if (r > 0 && pf[0].revents) {
			unsigned char sigs[64];
			ssize_t n = read(sigfd[0], sigs, sizeof sigs);
			for (ssize_t i = 0; i < n; i++) {
				int sig = sigs[i];
				if (sig == SIGCHLD)
					continue;
				if (sig == SIGUSR1 || sig == SIGUSR2) {
					kill(-S->c.pid, sig);
					continue;
				}
				if (S->ending == WR_OUT_NONE && !S->reaped) {
					S->cancel_sig = sig;
					wr_warn("got signal %s; passing it to the command's process group", strsignal(sig));
				}
				terminate(S, WR_OUT_CANCELLED, sig, wr_xasprintf("wr-run got signal %d (%s)", sig, strsignal(sig)));
			}
		}
		for (int i = 0; r > 0 && i < S->nstreams; i++) {
			struct stream *s = &S->st[i];
			if (ox[i] >= 0 && pf[ox[i]].revents) {
				if (stream_flush(s) < 0)
					stream_close(s);
			} else if (ix[i] >= 0 && pf[ix[i]].revents) {
				if (stream_read(S, s) < 0)
					stream_close(s);
			}
		}
		if (r > 0 && px >= 0 && pf[px].revents) {
			if (progress_read(S) < 0) {
				prog_open = 0;
				closefd(&S->c.prog_r);
			}
		}
		now = wr_mono_ms();
		if (S->fenced && S->ending == WR_OUT_NONE && !S->reaped) {
			wr_warn("attempt %lld of run %s was ended in the ledger by another process; stopping the command",
				(long long)S->attempt, S->run);
			terminate(S, WR_OUT_CANCELLED, SIGTERM, wr_xstrdup("fenced: ended by another process"));
		}
		if (S->ending == WR_OUT_NONE && !S->reaped) {
			if (hard_end && now >= hard_end) {
				char d[32];
				const char *what = S->by_deadline ? "reached the run's deadline" : "timed out";
				wr_dur_format(now - t0, d, sizeof d);
				wr_warn("command %s after %s; sending SIGTERM to its process group", what, d);
				terminate(S, WR_OUT_TIMEOUT, SIGTERM, wr_xasprintf("%s after %s", what, d));
			} else if (S->pol.no_progress_ms && !S->stuck_notified[1] &&
				   now >= S->last_progress + S->pol.no_progress_ms) {
				char d[32];
				stuck_detected(S, "no_progress",
					       wr_xasprintf("no progress line for %s",
							    wr_dur_format(now - S->last_progress, d, sizeof d)));
			}
		}
		if (S->ending == WR_OUT_NONE && !S->reaped && now >= hb_next) {
			heartbeat(S);
			hb_next = wr_mono_ms() + S->pol.heartbeat_ms;
		}
		if (S->kill_at && now >= S->kill_at) {
			if (!S->reaped || group_alive(S->c.pid)) {
				wr_warn("the command's process group outlived the grace of %lldms; sending SIGKILL",
					(long long)S->pol.kill_after_ms);
				kill(-S->c.pid, SIGKILL);
			}
			S->kill_at = 0;
		}
	}
}

/* ---- start ---- */

static json_t *argv_json(char **argv, int argc)
{
	json_t *a = json_array();
	for (int i = 0; i < argc; i++) {
		if (!wr_utf8_valid(argv[i], strlen(argv[i])))
			wr_die(EXIT_FAILED, "argument %d of the command is not valid UTF-8; the ledger records argv as UTF-8",
			       i + 1);
		json_array_append_new(a, json_string(argv[i]));
	}
	return a;
}

static void env_add(struct wr_buf *b, const char *k, const char *v)
{
	wr_buf_addf(b, "%s=%s", k, v);
	wr_buf_add(b, "", 1);
}

static void kill_held(struct child *c)
{
	closefd(&c->hold_w);
	kill(c->pid, SIGKILL);
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int wr_main(int argc, char **argv)
{
	wr_prog = "wr-run";
	wr_exit_failure = EXIT_FAILED;
	/* wr_main runs once per process; what it sets up lives until exit
	 * (static, so reachable for the leak checker after it returns). */
	static struct opts o;
	int first = parse_opts(argc, argv, &o);
	char **cmd = argv + first;
	int ncmd = argc - first;
	if (!o.run && ncmd == 0)
		wr_usage_error(EXIT_FAILED, "missing COMMAND: write 'wr-run [options] -- COMMAND [ARG]...'");

	static struct sup S;
	memset(&S, 0, sizeof S);
	S.logfd = -1;
	if (wr_ledger_open(&S.l, o.ledger, WR_LEDGER_WRITE) < 0)
		wr_die(EXIT_FAILED, "%s", wr_errmsg());

	static struct wr_start_req q;
	static char run_id[WR_UUID_LEN];
	static json_t *jargv;
	static char *cwd, *workflow, *run_dir;
	static char **exec_argv;
	exec_argv = cmd;
	if (o.run) {
		/* The run's command, directory and policy are fixed at creation:
		 * read them here; the decision checks its status under the lock. */
		if (o.policy_opt)
			wr_usage_error(EXIT_FAILED,
				       "--%s cannot be used with --run: a run keeps the policy and labels it was created "
				       "with (see 'wr-watch show %s')",
				       o.policy_opt, o.run);
		int amb = 0;
		struct wr_run *r = wr_state_find_run(&S.l.st, o.run, &amb);
		if (!r)
			wr_die(EXIT_FAILED, amb ? "run id prefix '%s' matches several runs; give more of the id"
						: "no run '%s' in the ledger %s",
			       o.run, S.l.path);
		if (o.workflow) {
			char *w = wr_id_nfc(o.workflow);
			if (!w || strcmp(w, r->workflow))
				wr_die(EXIT_FAILED, "run %s belongs to workflow %s, not %s; leave out --workflow", r->id,
				       r->workflow, o.workflow);
			free(w);
		}
		size_t n = json_array_size(r->argv);
		if (ncmd) {
			int same = (size_t)ncmd == n;
			for (size_t i = 0; same && i < n; i++)
				same = !strcmp(json_string_value(json_array_get(r->argv, i)), cmd[i]);
			if (!same)
				wr_die(EXIT_FAILED, "run %s was created with another command; leave out COMMAND to run the "
						    "recorded one (see 'wr-watch show %s')",
				       r->id, r->id);
		} else {
			exec_argv = wr_xcalloc(n + 1, sizeof *exec_argv);
			for (size_t i = 0; i < n; i++)
				exec_argv[i] = wr_xstrdup(json_string_value(json_array_get(r->argv, i)));
		}
		if (n == 0)
			wr_die(EXIT_FAILED, "run %s has no command recorded", r->id);
		/* The child changes to it: when it is gone, that is a failed
		 * attempt (recorded, counted, escalated in the end), not a retry
		 * that silently never starts. */
		run_dir = wr_xstrdup(r->cwd);
		json_t *pj = wr_policy_to_json(&r->policy);
		wr_policy_free(&o.pol);
		wr_policy_from_json(&o.pol, pj);
		json_decref(pj);
		q.run = o.run;
	} else {
		jargv = argv_json(cmd, ncmd);
		cwd = getcwd(NULL, 0);
		if (!cwd)
			wr_diesys(EXIT_FAILED, "unable to get the current directory");
		if (!wr_utf8_valid(cwd, strlen(cwd)))
			wr_die(EXIT_FAILED, "the current directory's name is not valid UTF-8; the ledger records it as UTF-8");
		const char *wf = o.workflow;
		if (!wf) {
			const char *slash = strrchr(cmd[0], '/');
			wf = slash && slash[1] ? slash + 1 : cmd[0];
		}
		workflow = wr_id_nfc(wf);
		if (!workflow || !*workflow || strlen(workflow) > 256)
			wr_die(EXIT_FAILED, "invalid workflow name '%s': it must be 1 to 256 bytes of UTF-8%s", wf,
			       o.workflow ? "" : "; name one with --workflow");
		q.run = wr_uuid7(run_id);
		q.is_new = 1;
		q.workflow = workflow;
		q.argv = jargv;
		q.cwd = cwd;
		q.labels = o.labels;
		q.policy = &o.pol;
	}
	S.pol = o.pol;
	if (o.log) {
		S.logfd = open(o.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (S.logfd < 0)
			wr_diesys(EXIT_FAILED, "unable to open log file %s", o.log);
	}

	sigset_t mask;
	setup_signals(&mask);
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	S.c.dir = run_dir;
	spawn_held(&S.c, exec_argv, &mask);
	q.wait = o.wait;
	q.host = wr_hostname();
	q.boot_id = wr_boot_id();
	q.pid = getpid();
	q.pid_start = (int64_t)wr_pid_start(getpid());
	q.pgid = S.c.pid;
	q.pgid_start = (int64_t)wr_pid_start(S.c.pid);

	/* Start: decide again while waiting for a slot; the wait is bounded by
	 * --timeout, and then the limit rejects. */
	int64_t wait_end = S.pol.timeout_ms ? wr_mono_ms() + S.pol.timeout_ms : 0;
	srand((unsigned)(getpid() ^ wr_now_ms()));
	int said_wait = 0;
	for (;;) {
		q.give_up = wait_end && wr_mono_ms() >= wait_end;
		if (wr_ledger_commit(&S.l, wr_decide_run_start, &q) < 0) {
			kill_held(&S.c);
			wr_die(EXIT_FAILED, "%s%s", wr_errmsg(),
			       wr_errkind() == WR_E_REFUSED ? "" : "; the command was not run");
		}
		if (q.result != WR_START_BUSY)
			break;
		if (!said_wait) {
			wr_warn("waiting for a slot: %lld of at most %lld attempts of workflow %s are running",
				(long long)q.running, (long long)S.pol.concurrency, q.run_workflow);
			said_wait = 1;
		}
		struct pollfd pf = {sigfd[0], POLLIN, 0};
		if (poll(&pf, 1, 100 + rand() % 400) > 0) {
			unsigned char sigs[64];
			ssize_t n = read(sigfd[0], sigs, sizeof sigs);
			for (ssize_t i = 0; i < n; i++) {
				if (sigs[i] == SIGCHLD || sigs[i] == SIGUSR1 || sigs[i] == SIGUSR2)
					continue;
				kill_held(&S.c);
				wr_warn("got signal %s while waiting for a slot; the command was not run", strsignal(sigs[i]));
				return 128 + sigs[i];
			}
		}
	}
	S.run = q.run_id;
	S.workflow = q.run_workflow;
	if (q.result == WR_START_BREAKER || q.result == WR_START_LIMIT) {
		kill_held(&S.c);
		const struct wr_workflow *w = wr_state_workflow(&S.l.st, q.run_workflow);
		char ts[WR_TS_LEN];
		if (q.result == WR_START_BREAKER)
			wr_warn("rejected: the circuit breaker of workflow %s is open%s%s; run %s recorded as rejected",
				q.run_workflow, w && w->open_until ? " until " : "",
				w && w->open_until ? wr_ts_format(w->open_until, ts) : " (a trial attempt is running)", q.run_id);
		else
			wr_warn("rejected: %lld of at most %lld attempts of workflow %s are running%s; run %s recorded as "
				"rejected",
				(long long)q.running, (long long)S.pol.concurrency, q.run_workflow,
				o.wait ? " and the wait reached --timeout" : "", q.run_id);
		return EXIT_REJECTED;
	}
	S.attempt = q.attempt;

	/* Release the held child with its environment. */
	struct wr_buf env = {0};
	char num[32];
	env_add(&env, "WR_LEDGER", S.l.path);
	env_add(&env, "WR_RUN", S.run);
	env_add(&env, "WR_WORKFLOW", S.workflow);
	snprintf(num, sizeof num, "%lld", (long long)S.attempt);
	env_add(&env, "WR_ATTEMPT", num);
	struct wr_buf stages = {0};
	for (size_t i = 0; i < json_array_size(q.resume); i++)
		wr_buf_addf(&stages, "%s%s", i ? "," : "", json_string_value(json_array_get(q.resume, i)));
	env_add(&env, "WR_STAGES_DONE", wr_buf_str(&stages));
	snprintf(num, sizeof num, "%d", PROGRESS_FD);
	env_add(&env, "WR_PROGRESS_FD", num);
	int64_t t0 = wr_mono_ms();
	(void)wr_write_all(S.c.hold_w, env.p, env.len); /* EPIPE: it died; reaped below */
	closefd(&S.c.hold_w);
	closefd(&S.c.prog_w);
	wr_buf_free(&env);
	wr_buf_free(&stages);
	int child_err[2] = {0, 0};
	ssize_t got;
	do
		got = read(S.c.exec_r, child_err, sizeof child_err);
	while (got < 0 && errno == EINTR);
	closefd(&S.c.exec_r);
	if (got != (ssize_t)sizeof child_err)
		child_err[0] = child_err[1] = 0;
	int exec_errno = child_err[1];

	/* The timeout counts from the start; the run's deadline caps it. */
	int64_t hard_end = S.pol.timeout_ms ? t0 + S.pol.timeout_ms : 0;
	if (q.deadline_at) {
		int64_t d = t0 + (q.deadline_at - wr_now_ms());
		S.by_deadline = !hard_end || d < hard_end;
		hard_end = min_t(hard_end, d);
	}

	S.st[0] = (struct stream){.name = "stdout", .fd = S.c.out_r};
	stream_dest(&S.st[0], 1);
	S.nstreams = 1;
	if (S.c.err_r >= 0) {
		S.st[1] = (struct stream){.name = "stderr", .fd = S.c.err_r};
		stream_dest(&S.st[1], 2);
		S.nstreams = 2;
	}
	for (int i = 0; i < S.nstreams; i++) {
		S.st[i].buf = wr_xmalloc(IOBUF);
		S.st[i].cur_match = 1;
		if (S.pol.stuck_repeat) {
			S.st[i].cur = wr_xmalloc(LINE_CAP);
			S.st[i].prev = wr_xmalloc(LINE_CAP);
		}
	}
	S.pline = wr_xmalloc(PROGRESS_CAP);

	int rc;
	static struct wr_end_req end;
	end.run = S.run;
	end.fin.attempt = S.attempt;
	end.fin.cpu_ms = end.fin.max_rss_kb = end.fin.output_bytes = -1;
	if (exec_errno) {
		while (waitpid(S.c.pid, &S.status, 0) < 0 && errno == EINTR)
			;
		S.reaped = 1;
		if (child_err[0] == CHILD_CHDIR) {
			rc = EXIT_FAILED;
			wr_warn("unable to change to the run's directory %s: %s", run_dir, strerror(exec_errno));
			S.end_reason = wr_xasprintf("cannot change to the run's directory %s: %s", run_dir,
						    strerror(exec_errno));
			end.fin.exit_code = -1; /* the command never ran */
		} else {
			rc = exec_errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
			wr_warn("unable to run %s: %s", exec_argv[0], strerror(exec_errno));
			S.end_reason = wr_xasprintf("%s %s: %s",
						    rc == EXIT_NOTFOUND ? "command not found:" : "cannot execute",
						    exec_argv[0], strerror(exec_errno));
			end.fin.exit_code = rc;
		}
		end.fin.outcome = WR_OUT_ERROR;
		end.fin.duration_ms = wr_mono_ms() - t0;
		end.fin.output_bytes = 0;
	} else {
		supervise(&S, t0, hard_end);
		end.fin.duration_ms = wr_mono_ms() - t0;
		end.fin.cpu_ms = ((int64_t)S.ru.ru_utime.tv_sec + S.ru.ru_stime.tv_sec) * 1000 +
				 ((int64_t)S.ru.ru_utime.tv_usec + S.ru.ru_stime.tv_usec) / 1000;
		end.fin.max_rss_kb = S.ru.ru_maxrss;
		end.fin.output_bytes = S.output_bytes;
		end.fin.exit_code = WIFEXITED(S.status) ? WEXITSTATUS(S.status) : -1;
		end.fin.signal = WIFSIGNALED(S.status) ? WTERMSIG(S.status) : 0;
		switch (S.ending) {
		case WR_OUT_TIMEOUT:
			rc = EXIT_TIMEOUT;
			end.fin.outcome = WR_OUT_TIMEOUT;
			break;
		case WR_OUT_STUCK:
			rc = EXIT_STUCK;
			end.fin.outcome = WR_OUT_STUCK;
			break;
		case WR_OUT_CANCELLED:
			rc = S.fenced ? EXIT_FAILED : 128 + S.cancel_sig;
			end.fin.outcome = WR_OUT_CANCELLED;
			break;
		default:
			if (WIFEXITED(S.status)) {
				rc = WEXITSTATUS(S.status);
				end.fin.outcome = rc == 0 ? WR_OUT_SUCCESS : WR_OUT_ERROR;
			} else {
				rc = 128 + WTERMSIG(S.status);
				end.fin.outcome = WR_OUT_ERROR;
				S.end_reason = wr_xasprintf("died of signal %d (%s)", WTERMSIG(S.status),
							    strsignal(WTERMSIG(S.status)));
			}
			break;
		}
	}
	end.fin.reason = S.end_reason;
	if (wr_ledger_commit(&S.l, wr_decide_run_finish, &end) < 0) {
		wr_warn("unable to record the end of attempt %lld of run %s (%s, exit %d): %s; the attempt stays live in "
			"the ledger until 'wr-watch check' finds wr-run gone and records it lost",
			(long long)S.attempt, S.run, wr_outcome_name(end.fin.outcome), rc, wr_errmsg());
		return EXIT_FAILED;
	}
	if (end.fenced && end.fenced_outcome == WR_OUT_CANCELLED) {
		/* 'wr-recover cancel' ended it and stopped the command: a
		 * cancellation, as if wr-run had been sent the signal itself. */
		wr_warn("attempt %lld of run %s was cancelled: %s", (long long)S.attempt, S.run, end.fenced_why);
		if (S.reaped && WIFSIGNALED(S.status))
			return 128 + WTERMSIG(S.status);
		return S.reaped && WIFEXITED(S.status) ? WEXITSTATUS(S.status) : rc;
	}
	if (end.fenced) {
		wr_warn("the end of attempt %lld of run %s (%s, exit %d) was not recorded: %s", (long long)S.attempt,
			S.run, wr_outcome_name(end.fin.outcome), rc, end.fenced_why);
		return EXIT_FAILED;
	}
	if (S.fenced)
		return EXIT_FAILED;
	return rc;
}
