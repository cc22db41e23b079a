/* run.h - the parts of wr-run, private to cmd/wr-run*.c and cmd/run-*.c.
 *
 * wr-run.c holds wr_main; run-opts.c parses the options; run-start.c spawns
 * the held child, decides the start and records the finish; run-stream.c
 * passes the output through (with the log and the repeated-line detector);
 * run-progress.c reads the progress fd; run-supervise.c is the poll loop
 * (heartbeats, stuck, timeout, forwarded signals, terminate, reap). */
#ifndef WR_CMD_RUN_H
#define WR_CMD_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "decide_run.h"
#include "event.h"
#include "ledger.h"
#include "outlog.h"
#include "proc.h"
#include "util.h"
#include "uuid.h"

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
	int64_t attempt;            /* --attempt: with --run, start this attempt or nothing */
	struct wr_policy pol;
	json_t *labels;
	int wait;
	const char *policy_opt;     /* the first policy option given, for --run */
	int heartbeat_set, lease_set;
	int preserve_status;        /* exit with COMMAND's status even on a timeout */
	int foreground;             /* COMMAND stays in wr-run's process group */
	int verbose;                /* -v: say each signal sent */
	int quiet_on_success;       /* keep the output, print it unless the attempt succeeded */
	int print_id;               /* say the run id on stderr (always on a terminal) */
	int expect, grace_set;      /* --expect-every, --grace given */
	int64_t expect_every_ms, expect_grace_ms;
};

/* Parses the options into o; returns the index of COMMAND in argv. Exits
 * on a usage error, --help and --version. */
int parse_opts(int argc, char **argv, struct opts *o);

/* ---- signals: a self-pipe read by the event loop ---- */

extern int sigfd[2];
/* Notes the signals ignored and blocked when wr-run started, which
 * COMMAND gets so (nohup, as under timeout(1)); changes nothing. Before
 * spawn_held and setup_signals. */
void signals_at_start(void);
/* Catches the signals wr-run passes on, except those ignored when it
 * started: they stay ignored, in wr-run and in COMMAND. Signals blocked
 * at the start are unblocked here and blocked again in COMMAND. */
void setup_signals(void);

/* ---- the child, held before exec ---- */

/* The child's fd for progress lines: the first after stdin, out and err. */
#define PROGRESS_FD 3

void closefd(int *fd);
/* Forks the command held before exec (core/proc.h) in its own group (in
 * wr-run's with foreground), with pipes for its stdout, its stderr (one
 * pipe when both are one file) and progress on fd 3; dir is where it runs,
 * or NULL. It gets the signals ignored and blocked when wr-run started. */
void spawn_held(struct wr_child *c, char **argv, const char *dir, int foreground);
json_t *argv_json(char **argv, int argc);

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

/* ---- an agent's turns, tool calls and metrics (run-agent.c) ---- */

struct agent {
	int64_t turns, tool_calls;
	json_t *metrics;           /* name -> sum; NULL until the first */
	int have_call;
	uint64_t call_hash;        /* the last tool call: hash of name and args */
	char call_summary[320];    /* and its short summary */
	int64_t repeat;            /* the last call this many times in a row */
	int repeat_fired;          /* stuck reported for this streak */
	int64_t advance_turn;      /* the turn of the last stage line (0: none) */
	int noprog_fired;          /* stuck reported since that stage line */
};

/* ---- the supervisor's state ---- */

struct sup {
	struct wr_ledger l;
	const char *run, *workflow;
	int64_t attempt;
	struct wr_policy pol;
	struct wr_child c;
	struct stream st[2];
	int nstreams;
	int logfd;
	int log_failed;
	struct wr_outlog log;       /* the output kept beside the ledger (run-outlog.c) */
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
	const char *end_code;      /* reason token of the stop (wr_reason_name), or NULL */
	struct agent ag;
	int64_t kill_at;           /* mono time to SIGKILL the group; 0 none */
	int group_term_sent, group_gone;
	int fenced;
	int stuck_notified[WR_REASON__STUCK]; /* per once-per-attempt detector */
	int64_t last_output;       /* mono: the last byte on stdout or stderr */
	int foreground;            /* signals go to the command alone, not a group */
	int verbose;               /* say each signal sent */
	const char *cmd_name;      /* argv[0], for -v */
	int killed;                /* the SIGKILL after the grace was sent */
	int hb_failed;
	int by_deadline;           /* the run's deadline comes before the timeout */
	struct quiet *quiet;       /* --quiet-on-success: the output kept, or NULL */
};

void stream_dest(struct stream *s, int dest);
/* Writes what is pending; returns 0, or -1 when the destination is gone. */
int stream_flush(struct stream *s);
void stream_close(struct stream *s);
/* Reads once from the command; 1 when something came, 0 nothing now, -1 EOF. */
int stream_read(struct sup *S, struct stream *s);
/* Sets up S's streams for the command's pipes. */
void streams_init(struct sup *S);

/* ---- --quiet-on-success (run-quiet.c) ---- */

struct quiet;
/* Keeps output for temporary files in the ledger's directory. */
struct quiet *quiet_new(const char *ledger_path);
/* Keeps n bytes of stream i (0 stdout, 1 stderr) bound for fd dest.
 * Returns 0, or -1 when they were not kept (the keeping failed: what was
 * kept has been printed, the caller passes these on). */
int quiet_keep(struct quiet *q, int i, int dest, const char *p, size_t n);
/* The attempt ended: print everything kept (print), or drop it; frees q
 * (NULL: nothing). */
void quiet_end(struct quiet *q, int print);

/* ---- what wr-run says at the terminal (run-tell.c) ---- */

/* 1 when the run's id is to be said as the attempt starts: --print-id, or
 * stderr a terminal (without --quiet-on-success). */
int tell_id_wanted(const struct opts *o);
/* "wr-run: running as run ID, attempt N" on stderr. */
void tell_started(const struct sup *S);
/* After a failed attempt, on a terminal: when wr-recover would retry it
 * (local time, and in how long) and the command that stops it; nothing
 * when the failure is final. */
void tell_retry(struct sup *S);

/* ---- the output log beside the ledger (run-outlog.c) ---- */

/* Opens the attempt's log once the start is recorded (warns when it
 * cannot: the command runs all the same). */
void outlog_start(struct sup *S);
/* Output of stream s, as it passes through. */
void outlog_output(struct sup *S, const struct stream *s, const char *p, size_t n);
/* When the live log is due for a rewrite (mono), 0 none; the loop's wait
 * ends by then, and outlog_tick rewrites it when due. */
int64_t outlog_next(const struct sup *S);
void outlog_tick(struct sup *S, int64_t now);
/* The final log, and the tail of the output in fin->output (a new
 * reference for the caller to drop after the commit). */
void outlog_end(struct sup *S, struct wr_finish *fin);

/* ---- progress lines ---- */

/* Reads progress lines; 1 some came, 0 none now, -1 EOF. */
int progress_read(struct sup *S);
/* Reports a bad progress line (the first MAX_WARN_BAD) and counts it. */
void bad_progress(struct sup *S, const char *why);

/* An agent line (turn, tool, metric): counts it, runs the turn and tool
 * detectors; returns 0 when o is none of them (a stage line). */
int agent_line(struct sup *S, json_t *o);
/* A stage line came: the turns without progress count from here. */
void agent_stage_advance(struct sup *S);
/* The counts so far, in c (metrics borrowed); returns c. */
const struct wr_agent_counts *agent_counts(const struct sup *S, struct wr_agent_counts *c);

/* ---- the supervision loop ---- */

void terminate(struct sup *S, enum wr_outcome why, int sig, char *reason);
/* terminate, recording code (a wr_reason_name token) as what stopped it
 * when this is the first reason to end the attempt. */
void terminate_code(struct sup *S, enum wr_outcome why, int sig, char *reason, const char *code);
/* The attempt looks stuck: attempt.stuck (and, with notify, an outbox
 * entry), then abort or go on per --stuck-action; frees detail. */
void stuck_record(struct sup *S, const char *reason, char *detail);
/* stuck_record for the once-per-attempt detectors (repeated_output,
 * no_progress by time, no_output). */
void stuck_detected(struct sup *S, const char *reason, char *detail);
int64_t min_t(int64_t a, int64_t b);
void supervise(struct sup *S, int64_t t0, int64_t hard_end);

/* ---- start and finish ---- */

/* Decides the start, waiting for a slot while the limit is reached;
 * returns 0 when the attempt started, else wr-run's exit status. */
int run_start(struct sup *S, struct wr_start_req *q, int wait);
/* Releases the held child with its environment; returns the start (mono).
 * S->c.exec_stage and exec_errno say whether it ran. */
int64_t run_release(struct sup *S, const struct wr_start_req *q);
/* Records the end of the attempt; returns wr-run's exit status. */
int run_finish(struct sup *S, struct wr_end_req *end, int rc);
/* The command's own status once reaped (128+N for signal N), else dflt. */
int command_status(const struct sup *S, int dflt);

/* ---- what to run, and the end of the attempt (run-plan.c) ---- */

/* The command, where it runs, and the start request. */
struct job {
	char **argv;
	char *dir;                 /* a --run's recorded directory, or NULL: here */
	char run_id[WR_UUID_LEN];  /* a new run's id */
	struct wr_start_req q;
};

/* --run: the run's recorded command, directory and policy (o->pol). */
void plan_continue(struct opts *o, struct sup *S, struct job *j, char **cmd, int ncmd);
/* A new run of cmd in this directory. */
void plan_new(struct opts *o, struct job *j, char **cmd, int ncmd);
/* The facts of the start request: host, boot, this process, the child,
 * and what o asks of the start (--wait, --attempt, --expect-every). */
void plan_facts(struct job *j, const struct sup *S, const struct opts *o);
/* When the attempt must end (mono; 0: never): --timeout, the deadline. */
int64_t attempt_hard_end(struct sup *S, const struct wr_start_req *q, int64_t t0);
/* The end of an attempt whose command never ran (chdir or exec failed),
 * and of a supervised one; each fills end and returns wr-run's exit
 * status (with preserve_status the command's own, even on a timeout). */
int attempt_unrun(struct sup *S, const struct job *j, struct wr_end_req *end, int64_t t0);
int attempt_supervised(struct sup *S, struct wr_end_req *end, int64_t t0, int64_t hard_end, int preserve_status);

#endif
