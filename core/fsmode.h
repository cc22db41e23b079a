/* fsmode.h - who may use the files beside a ledger, and the modes new ones
 * are made with: the one place that decides which directories and files
 * are safe, used by every creation (ledger, lock, snapshot, archives, temp
 * files, quarantine, output logs and their directories, launch locks).
 *
 * A ledger's directory is one of:
 *   private  owned by the caller (or root), writable by no one else (0700,
 *            0755): files must be the caller's and writable by no one else;
 *            new files are 0600. Root may read any private ledger, never
 *            write to one (its files would be root's in a user's directory).
 *   shared   setgid, group-writable, not writable by others (2770, 2775),
 *            owned by root or a member of its group, the caller a member (or
 *            root): the group's members are trusted with the ledger. Files
 *            owned by any member (or root) are accepted, writable by the
 *            directory's group only; new files are 0660 and new directories
 *            2770, whatever the umask, with the directory's group (setgid).
 * Anything else is refused: writable by others (always), group-writable
 * without the setgid bit (the message says how to opt in), owned by a user
 * outside the group. See wr(7), "Shared ledgers". */
#ifndef WR_FSMODE_H
#define WR_FSMODE_H

#include <sys/stat.h>
#include <sys/types.h>

/* 1 when a directory's stat makes it a shared ledger directory: setgid,
 * group-writable, not writable by others. */
int wr_fs_is_shared(const struct stat *dir);

/* Decides whether the ledger at path may be used, from its directory:
 * reading says the caller only reads (root may read any ledger). A
 * missing directory passes (a writer creates it). Returns 0, or -1 with
 * wr_errmsg() (kind WR_E_REFUSED) saying why and what mode to use. */
int wr_fs_check_dir(const char *path, int reading);

/* Refuses the file open at fd (at path; what names it in the message:
 * "ledger", "lock file") when someone not trusted with the ledger could
 * have written it (see above). 0, or -1 with wr_errmsg() set. */
int wr_fs_check_file(int fd, const char *path, const char *what, int reading);

/* Checks a directory below the ledger's (what: "log directory"): as the
 * file check, and in a shared directory it must be shared with the same
 * group. 0, or -1 with wr_errmsg() set. */
int wr_fs_check_subdir(const char *dir, const char *what, int reading);

/* open(2) of path with flags; with O_CREAT a new file gets the mode of
 * its directory (0660 in a shared one, else 0600) whatever the umask (a
 * file that was there keeps its mode). Returns the fd, or -1 with errno. */
int wr_fs_open(const char *path, int flags);

/* Sets the error of an open(2) of path (what: "ledger") that failed with
 * errno, adding, when it was refused in a shared directory, that the file
 * must be the group's (a file made before the directory was shared). */
void wr_fs_seterr_open(const char *path, const char *what);

/* The mode a new file at path gets: 0660 in a shared directory, else 0600. */
mode_t wr_fs_file_mode(const char *path);

/* Makes the directory dir unless it is there: 2770 inside a shared
 * directory (whatever the umask), else private_mode. wr_fs_mkdirs makes
 * the missing parents too. 0, or -1 with errno. */
int wr_fs_mkdir(const char *dir, mode_t private_mode);
int wr_fs_mkdirs(const char *dir, mode_t private_mode);

/* 1 when the caller may add files (a snapshot) beside the ledger open at
 * fd: its owner, or anyone in a shared directory; root reading a user's
 * ledger leaves nothing behind. */
int wr_fs_may_create(int fd, const char *path);

#endif
