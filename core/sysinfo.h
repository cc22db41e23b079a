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

#endif
