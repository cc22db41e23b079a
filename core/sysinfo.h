/* sysinfo.h - facts about this host and its processes, for fencing.
 *
 * An attempt records host, boot_id, pid and pid_start (the process start
 * time in clock ticks since boot, from /proc/PID/stat) so that a checker on
 * the same host can tell a dead supervisor from a live one and a reused
 * pid from the original. */
#ifndef WR_SYSINFO_H
#define WR_SYSINFO_H

#include <stdint.h>
#include <sys/types.h>

const char *wr_hostname(void);     /* static; "" when unknown */
const char *wr_boot_id(void);      /* static; "" when unknown */
/* Start time of pid in clock ticks since boot; 0 when unknown. */
uint64_t wr_pid_start(pid_t pid);

enum wr_proc { WR_PROC_GONE, WR_PROC_ALIVE, WR_PROC_REUSED, WR_PROC_UNKNOWN };
/* Whether the process (pid, pid_start) recorded on this boot still runs. */
enum wr_proc wr_proc_check(int64_t pid, int64_t pid_start);
/* wr_proc_check as the probe decisions take (int result). */
int wr_proc_probe(int64_t pid, int64_t pid_start);

/* Live members of the process group pgid (recorded with its leader's start
 * time pgid_start) on this host: processes of that group, not zombies,
 * started no earlier than the leader was. -1 when the group's id now
 * belongs to another process (reused: never ours to kill). The leader may
 * be gone: what it left in its group still counts. */
int wr_group_members(int64_t pgid, int64_t pgid_start);
/* Ends the group's live members: SIGTERM, then SIGKILL after grace_ms.
 * Returns 0 when nothing of it ran, 1 when it was killed, -1 when some of
 * it survived even SIGKILL for 5 s. Blocks meanwhile. */
int wr_group_kill(int64_t pgid, int64_t pgid_start, int64_t grace_ms);

#endif
