/* state.h - the derived state, and the reducer that builds it from events.
 *
 * The state is a pure fold of the ledger: wr_state_apply(st, ev) for each
 * event in order. It holds runs (status, attempts, stages, recoveries,
 * lease, next retry, stale count), workflows (running attempts, breaker
 * window, figures) and outbox entries. Memory grows with runs and entries,
 * never with the number of heartbeats or progress lines.
 *
 * Fencing: an event about an attempt that is not the run's current live
 * attempt (superseded, or already finished), and any second
 * attempt.finished, is stale: wr_state_apply returns WR_APPLY_STALE, the
 * state is unchanged but for the stale counters. The first finish wins.
 *
 * Every member of the records below is listed in core/state_fields.h,
 * from which snapshots, the state dump and the compaction marker are
 * generated: a member added here goes there too (tests/unit/test-fields.c
 * fails until it does). */
#ifndef WR_STATE_H
#define WR_STATE_H

#include <jansson.h>
#include <stdint.h>

#include "event.h"
#include "map.h"

/* rejected: the run's only start was refused (breaker open, concurrency
 * limit with --no-wait): it ended without an attempt, as flock -n leaves
 * nothing behind, and is never retried or escalated. */
enum wr_status { WR_ST_RUNNING, WR_ST_SUCCEEDED, WR_ST_FAILED, WR_ST_RETRY_WAIT, WR_ST_BLOCKED, WR_ST_CANCELLED,
		 WR_ST_REJECTED, WR_ST__COUNT };
enum wr_outbox_state { WR_OB_PENDING, WR_OB_CLAIMED, WR_OB_DELIVERED, WR_OB_DEAD, WR_OB_ACKED, WR_OB__COUNT };

/* String tables (strtable.h): NULL out of range, -1 when unknown. The
 * outcome and breaker enums are the schema's (event.h). */
const char *wr_status_name(enum wr_status s);
int wr_status_from_name(const char *s);
/* 1 for the statuses a run never leaves: succeeded, cancelled, rejected. */
int wr_status_ended(enum wr_status s);
const char *wr_outbox_state_name(enum wr_outbox_state s);
int wr_outbox_state_from_name(const char *s);

/* Defaults (docs/DESIGN.md "Policies"). */
#define WR_DEF_MAX_ATTEMPTS 3
#define WR_DEF_HEARTBEAT_MS 30000
#define WR_DEF_LEASE_MS 120000
#define WR_DEF_KILL_AFTER_MS 10000
#define WR_DEF_BACKOFF_INITIAL_MS 30000
#define WR_DEF_BACKOFF_FACTOR 2.0
#define WR_DEF_BACKOFF_MAX_MS 3600000
#define WR_BREAKER_WINDOW 10
#define WR_BREAKER_MIN 5
#define WR_BREAKER_RATE 0.5
#define WR_BREAKER_COOLDOWN_MS 300000
#define WR_BREAKER_COOLDOWN_MAX_MS 3600000

struct wr_policy {
	int64_t timeout_ms;        /* 0: none */
	int64_t kill_after_ms;
	int64_t heartbeat_ms;
	int64_t lease_ms;
	int64_t max_attempts;
	int64_t backoff_initial_ms;
	double backoff_factor;
	int64_t backoff_max_ms;
	int64_t stuck_repeat;      /* 0: off */
	int64_t no_progress_ms;    /* 0: off */
	int64_t no_output_ms;      /* 0: off; neither stdout nor stderr wrote a byte for it */
	int stuck_abort;           /* 1 abort, 0 notify */
	int64_t term_signal;       /* sent at the timeout, the deadline, a stuck abort (SIGTERM) */
	int64_t concurrency;       /* 0: unlimited */
	int64_t deadline_ms;       /* 0: none; counted from run creation */
	int64_t max_turns;         /* 0: none; an attempt ends (timeout) at this turn */
	int64_t stuck_repeat_tool; /* 0: off; the same tool call N times in a row */
	int64_t no_progress_turns; /* 0: off; N turns without a stage line */
	int *no_retry_on;
	size_t n_no_retry_on;
};

void wr_policy_defaults(struct wr_policy *p);
/* Reads a policy object (validated by the event layer), defaults filled. */
void wr_policy_from_json(struct wr_policy *p, json_t *o);
/* The policy object recorded in run.created. */
json_t *wr_policy_to_json(const struct wr_policy *p);
void wr_policy_free(struct wr_policy *p);
int wr_policy_no_retry(const struct wr_policy *p, int exit_code);

struct wr_attempt {
	int64_t n;
	int64_t started_ts, finished_ts;
	int64_t lease_until;
	char *host, *boot_id;
	int64_t pid, pid_start;    /* the supervisor (wr-run) */
	int64_t pgid, pgid_start;  /* the command's process group leader; 0 unknown */
	int finished;
	enum wr_outcome outcome;
	int64_t exit_code;         /* -1 when none */
	int64_t signal;            /* 0 when none */
	int64_t duration_ms, cpu_ms, max_rss_kb, output_bytes;
	char *reason;              /* why it ended, when said */
	int stuck;                 /* attempt.stuck events seen */
	int64_t seq_started;
	/* What an agent reported on the progress channel, as of the latest
	 * heartbeat, stuck or finish that said: turns ended, tool calls, and
	 * metrics summed (object name -> integer, NULL when none). */
	int64_t turns, tool_calls;
	json_t *metrics;
};

/* The latest launch (run.launched) of the run's next attempt, until an
 * attempt starts or the run is rejected, blocked, unblocked or cancelled
 * (then attempt is 0): the launched wr-run (pid, start time, host, boot),
 * the lease for where that pid cannot be checked, forced (its start may
 * come before the run's not_before), and how many launches of this
 * attempt were recorded without a start. */
struct wr_launch {
	int64_t attempt;           /* 0: none */
	int64_t ts, lease_until;
	char *host, *boot_id;
	int64_t pid, pid_start;
	int forced;
	int64_t count;
};

struct wr_run {
	char *id;
	char *workflow;
	json_t *argv;              /* array of strings */
	char *cwd;
	json_t *labels;            /* object or NULL */
	struct wr_policy policy;
	int64_t created_ts, updated_ts;
	int64_t seq_created;
	enum wr_status status;
	struct wr_attempt *att;    /* att[0] is attempt 1 */
	size_t natt, capatt;
	char **stages_done;        /* distinct, in order of completion */
	size_t nstages, capstages;
	char *stage;               /* current stage (last started, not done) */
	int64_t recoveries;        /* recoveries used since creation or unblock */
	int64_t decided_attempt;   /* attempt the last recovery decision was about */
	int64_t next_retry_ts;     /* 0 when none */
	int64_t first_failure_ts;  /* for time to recovery; 0 when none */
	int64_t stale;             /* stale events seen for this run */
	char *reason;              /* last block / cancel / rejection reason */
	char *note;                /* last unblock note */
	int rejected;              /* last attempt.rejected: 1 breaker, 2 concurrency */
	struct wr_launch launch;
	int64_t ord;               /* creation order in the state: 0, 1, ... */
};

/* Free a run, a workflow, an outbox entry and all they hold (a map's
 * freeval). */
void wr_run_free(void *r);
void wr_workflow_free(void *w);
void wr_outbox_free(void *o);

/* The current attempt (the latest started), or NULL. */
struct wr_attempt *wr_run_current(const struct wr_run *r);
/* 1 when the run's latest attempt is started and not finished. */
int wr_run_live(const struct wr_run *r);
int wr_run_has_stage(const struct wr_run *r, const char *stage);

struct wr_workflow {
	char *name;
	int64_t running;           /* attempts started, not finished */
	enum wr_breaker_state breaker;
	int64_t open_until;
	int64_t reopens;           /* consecutive opens without a success */
	int64_t opens;             /* times opened in all */
	int64_t half_open_trial;   /* run attempts started while half open */
	unsigned char window[WR_BREAKER_WINDOW]; /* 1 failure, 0 success; oldest first */
	int nwindow;
	int64_t runs, succeeded, failed_final;
	int64_t finished[WR_OUT__COUNT];          /* attempt outcomes */
	/* An agent's figures over the finished attempts that reported any
	 * (totals, kept by compaction): attempts, turns, tool calls, and each
	 * metric summed (object name -> integer, at most WR_METRICS_MAX names;
	 * NULL none). */
	int64_t agent_attempts, agent_turns, agent_tool_calls;
	json_t *agent_metrics;
	/* The expectation (workflow.expected; every 0: none), set at since;
	 * the last successful attempt's finish; the latest missed period
	 * recorded (workflow.overdue) since the later of the two, 0: none;
	 * overdue: 1 from a workflow.overdue to the next success (a new
	 * setting restarts the periods, not this), or until cleared. */
	int64_t expect_every_ms, expect_grace_ms, expect_since;
	int64_t last_success_ts;
	int64_t overdue_period;
	int64_t overdue;
	/* Statistics of the runs compaction archived (core/stats.c), kept so
	 * that wr-watch stats covers all of history even once the archive
	 * segments are gone; NULL: none. */
	json_t *archived;
};

/* Adds a finished attempt's agent figures to its workflow's totals. */
void wr_workflow_add_agent(struct wr_workflow *w, const struct wr_attempt *a);

struct wr_outbox {
	char *id;
	char *kind, *message, *reason, *run, *workflow;
	json_t *details;
	int64_t created_ts, seq;
	enum wr_outbox_state state;
	int64_t attempts;          /* delivery attempts */
	int64_t next_at;           /* 0: due now */
	int64_t lease_until;       /* while claimed */
	char *delivery;            /* current claim */
	char *error;               /* last error */
	int64_t delivered_ts;
};

struct wr_cold;
struct wr_cold_iter;
struct wr_state;

/* What the state asks of its cold store (core/cold.h sets it with the
 * store), so that the reducer does not depend on the store's module. */
struct wr_cold_ops {
	struct wr_run *(*get)(struct wr_cold *c, const char *id);
	int (*has)(struct wr_cold *c, const char *id);
	struct wr_run *(*find)(struct wr_cold *c, const char *part, int suffix, size_t *count);
	void (*evict)(struct wr_cold *c, struct wr_run *r);
	void (*update)(struct wr_cold *c, const struct wr_run *r);
	struct wr_cold_iter *(*iter_new)(struct wr_cold *c);
	int64_t (*iter_peek)(struct wr_cold_iter *it);
	const struct wr_run *(*iter_next)(struct wr_cold_iter *it);
	void (*iter_free)(struct wr_cold_iter *it);
	void (*free)(struct wr_cold *c);
	/* For snapshots: a new empty store like this one, whether every
	 * run is in a file, the files (name, tag, records), adding one. */
	struct wr_cold *(*create)(void);
	int (*persisted)(const struct wr_cold *c);
	size_t (*nfiles)(const struct wr_cold *c);
	void (*file)(const struct wr_cold *c, size_t i, const char **path, uint64_t *tag, uint64_t *n);
	int (*attach)(struct wr_cold *c, const char *path, uint64_t tag, uint64_t n);
	/* The outbox file: which it is (0: none), naming one (checked),
	 * loading it into st->outbox (-1: damaged). */
	int (*outbox_file)(const struct wr_cold *c, const char **path, uint64_t *tag, uint64_t *n);
	int (*outbox_ref)(struct wr_cold *c, const char *path, uint64_t tag, uint64_t n);
	int (*outbox_load)(struct wr_state *st);
};

/* Runs live in two places. runs holds every run that can still change
 * (running, failed, retry_wait, blocked) and the runs that ended lately;
 * with a cold store (core/cold.h, a ledger's state has one) the ended ones
 * move there, HOT_ENDED at a time, and come back as structs only when
 * asked for: wr_state_run and wr_state_find_run look in both,
 * wr_runs_next walks both in creation order. Walking runs directly sees
 * every run that is not ended, and only some that are. */
#define WR_HOT_ENDED 64

struct wr_state {
	struct wr_map runs;        /* id -> struct wr_run: the hot runs */
	struct wr_cold *cold;      /* ended runs; NULL: all in runs */
	const struct wr_cold_ops *cold_ops;
	int64_t nruns;             /* runs in all (the next ord) */
	int64_t hot_ended;         /* ended runs still in runs */
	int64_t hot_ended_max;     /* how many stay there; 0: WR_HOT_ENDED */
	/* The outbox entries may wait in the cold store's file until first
	 * asked for (wr_state_outboxes loads them). */
	int outbox_lazy;           /* not loaded yet */
	int outbox_dirty;          /* changed since loaded or written */
	struct wr_map workflows;   /* name -> struct wr_workflow */
	struct wr_map outbox;      /* id -> struct wr_outbox */
	int64_t last_seq;
	int64_t last_ts;
	int64_t events, stale, invalid, repaired;
	int64_t by_type[WR_EV__COUNT];
	int64_t unknown_types;
	/* Set by a compaction marker (core/compact.h): workflows and the
	 * counters above already hold the effects of every event with seq <=
	 * this; ledger replay applies such events to runs and outbox only. */
	int64_t compacted_through;
};

/* OK: applied. STALE: fenced off (a superseded or finished attempt, a claim
 * no longer valid): normal after a crash or a lost attempt. IGNORED: an
 * unknown type. INVALID: breaks an invariant (attempt started twice, a
 * finish without a start, an event of an unknown run, an impossible status
 * transition): wr-ledger verify reports it. Only OK changes the state. */
enum wr_apply { WR_APPLY_OK = 0, WR_APPLY_STALE = 1, WR_APPLY_IGNORED = 2, WR_APPLY_INVALID = 3 };

void wr_state_init(struct wr_state *st);
void wr_state_free(struct wr_state *st);
/* Applies one event. Returns enum wr_apply; *why (may be NULL) says why an
 * event was stale or ignored. */
int wr_state_apply(struct wr_state *st, const struct wr_event *ev, const char **why);

struct wr_run *wr_state_run(const struct wr_state *st, const char *id);
struct wr_workflow *wr_state_workflow(const struct wr_state *st, const char *name);
struct wr_outbox *wr_state_outbox(const struct wr_state *st, const char *id);
/* Every outbox entry (id -> struct wr_outbox), loaded when they wait in a
 * file: walk this, never st->outbox. */
const struct wr_map *wr_state_outboxes(const struct wr_state *st);
/* Every run, hot and cold, in creation order: a cold one is a struct valid
 * until the next call (take wr_state_run(st, r->id) to keep it). */
struct wr_runs_iter {
	const struct wr_state *st;
	size_t ihot;
	int cold_started;
	struct wr_cold_iter *cold;
};
void wr_runs_begin(struct wr_runs_iter *it, const struct wr_state *st);
/* The next run, or NULL at the end (the iterator is then freed). */
const struct wr_run *wr_runs_next(struct wr_runs_iter *it);
/* Frees an iterator left before its end (harmless after it). */
void wr_runs_end(struct wr_runs_iter *it);
size_t wr_state_nruns(const struct wr_state *st);

/* A run by id, unambiguous prefix or, when no prefix matches, unambiguous
 * suffix (the short id of tables). Returns NULL and sets *ambiguous. */
struct wr_run *wr_state_find_run(const struct wr_state *st, const char *prefix, int *ambiguous);

/* JSON view of a run's derived state (for --json). */
json_t *wr_run_to_json(const struct wr_run *r);
json_t *wr_workflow_to_json(const struct wr_workflow *w);
json_t *wr_outbox_to_json(const struct wr_outbox *o);

#endif
