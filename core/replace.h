/* replace.h - the temp files of an atomic replace (compaction, snapshots,
 * archive segments): each is named after the file it replaces, its writer
 * and its host, so that a writer can tell a dead writer's leftover from a
 * live one's and remove it. */
#ifndef WR_REPLACE_H
#define WR_REPLACE_H

/* The temp file for an atomic replace of final (compaction, snapshots):
 * "FINAL.tmp.PID@HOST", so that a writer can tell a dead writer's leftover
 * from a live one's. Newly allocated. */
char *wr_temp_path(const char *final);
/* Removes the temp files beside the ledger at path whose writer is dead
 * (same host, pid gone); a writer's open calls it. Returns how many. */
int wr_temp_clean(const char *path);

#endif
