/* fsmode.c - who may use the files beside a ledger, and the modes new ones
 * are made with (fsmode.h). */
#include "fsmode.h"
#include "err.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The directory that holds path ("/" or "." when it has no other). Newly
 * allocated. */
static char *dir_of(const char *path)
{
	char *dir = wr_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		strcpy(dir, ".");
	return dir;
}

/* stat of the directory holding path: 0, or -1 with errno. */
static int stat_dir_of(const char *path, struct stat *sb)
{
	char *dir = dir_of(path);
	int r = stat(dir, sb);
	int e = errno;
	free(dir);
	errno = e;
	return r;
}

int wr_fs_is_shared(const struct stat *dir)
{
	return S_ISDIR(dir->st_mode) && (dir->st_mode & S_ISGID) && (dir->st_mode & S_IWGRP) && !(dir->st_mode & S_IWOTH);
}

/* The group's name for a message, else its number. */
static const char *group_name(gid_t gid, char buf[24])
{
	struct group *g = getgrgid(gid);
	if (g && g->gr_name)
		return g->gr_name;
	snprintf(buf, 24, "%lu", (unsigned long)gid);
	return buf;
}

/* 1 when the caller is root or in group gid (effective or supplementary). */
static int caller_in(gid_t gid)
{
	if (geteuid() == 0 || getegid() == gid)
		return 1;
	gid_t groups[256];
	int n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/* 1 when uid is root, or in group gid by the user and group databases (the
 * caller: by its credentials). The answers are kept: a few per process. */
static int member(uid_t uid, gid_t gid)
{
	static struct seen {
		uid_t uid;
		gid_t gid;
		int yes;
	} seen[8];
	static size_t nseen;
	if (uid == 0)
		return 1;
	if (uid == geteuid())
		return caller_in(gid);
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].uid == uid && seen[i].gid == gid)
			return seen[i].yes;
	struct passwd *pw = getpwuid(uid);
	int yes = pw && pw->pw_gid == gid;
	struct group *g = pw && !yes ? getgrgid(gid) : NULL;
	for (char **m = g ? g->gr_mem : NULL; m && *m && !yes; m++)
		yes = !strcmp(*m, pw->pw_name);
	if (nseen < sizeof seen / sizeof seen[0])
		seen[nseen++] = (struct seen){uid, gid, yes};
	return yes;
}

static int refused(void)
{
	wr_seterrkind(WR_E_REFUSED);
	return -1;
}

/* The checks of a shared directory dir (stat sb) holding the ledger path. */
static int check_shared_dir(const char *path, const char *dir, const struct stat *sb)
{
	char gb[24];
	const char *g = group_name(sb->st_gid, gb);
	if (!caller_in(sb->st_gid)) {
		wr_seterr("refusing ledger %s: its directory %s is shared with group %s (mode %04o), and you (uid %lu) are "
			  "not in it; ask to be added (usermod -aG %s USER, then log in again)",
			  path, dir, g, (unsigned)(sb->st_mode & 07777), (unsigned long)geteuid(), g);
		return refused();
	}
	if (!member(sb->st_uid, sb->st_gid)) {
		wr_seterr("refusing ledger %s: its directory %s is owned by uid %lu, who is not in its group %s and could "
			  "change who may replace the ledger; give it to root or a member: chown root %s",
			  path, dir, (unsigned long)sb->st_uid, g, dir);
		return refused();
	}
	return 0;
}

int wr_fs_check_dir(const char *path, int reading)
{
	char *dir = dir_of(path);
	struct stat sb;
	int rc = 0;
	if (stat(dir, &sb) < 0) {
		rc = errno == ENOENT ? 0 : -1; /* missing: a writer creates it, or there is no ledger */
		if (rc < 0)
			wr_seterrsys("unable to stat the directory of ledger %s", path);
	} else if (sb.st_mode & S_IWOTH) {
		wr_seterr("refusing ledger %s: its directory %s is writable by others (mode %04o), who could replace the "
			  "ledger or its lock file; use a directory of your own (chmod 0700 %s) or one shared with a "
			  "group (see wr(7), Shared ledgers)",
			  path, dir, (unsigned)(sb.st_mode & 07777), dir);
		rc = refused();
	} else if (wr_fs_is_shared(&sb)) {
		rc = check_shared_dir(path, dir, &sb);
	} else if (sb.st_uid != geteuid() && !(reading && geteuid() == 0) && sb.st_uid != 0) {
		wr_seterr("refusing ledger %s: its directory %s is owned by uid %lu, who could replace the ledger or its "
			  "lock file; keep the ledger in a directory of your own (mode 0700)",
			  path, dir, (unsigned long)sb.st_uid);
		rc = refused();
	} else if (sb.st_mode & S_IWGRP) {
		char gb[24];
		const char *g = group_name(sb.st_gid, gb);
		wr_seterr("refusing ledger %s: its directory %s is writable by group %s (mode %04o), who could replace the "
			  "ledger or its lock file; keep it private (chmod 0700 %s), or share the ledger with the group by "
			  "setting the setgid bit (chmod 2770 %s; see wr(7), Shared ledgers)",
			  path, dir, g, (unsigned)(sb.st_mode & 07777), dir, dir);
		rc = refused();
	}
	free(dir);
	return rc;
}

/* Why the file or directory sb (in a directory dsb, shared or not) is not
 * to be trusted, or NULL; *bymode says a change of mode would do. */
static const char *distrust(const struct stat *sb, const struct stat *dsb, int shared, int reading, char why[160],
			    int *bymode)
{
	char gb[24];
	*bymode = 1;
	if (!shared && (sb->st_uid == geteuid() || (reading && geteuid() == 0)))
		return sb->st_mode & 022 ? "writable by group or others" : NULL;
	if (shared && (sb->st_mode & S_IWOTH))
		return "writable by others";
	*bymode = 0;
	if (!shared)
		snprintf(why, 160, "owned by uid %lu, not by you (uid %lu)", (unsigned long)sb->st_uid,
			 (unsigned long)geteuid());
	else if (!member(sb->st_uid, dsb->st_gid))
		snprintf(why, 160, "owned by uid %lu, who is not in group %s of the shared directory",
			 (unsigned long)sb->st_uid, group_name(dsb->st_gid, gb));
	else if ((sb->st_mode & S_IWGRP) && sb->st_gid != dsb->st_gid)
		snprintf(why, 160, "writable by group %s, not by the shared directory's group", group_name(sb->st_gid, gb));
	else
		return NULL;
	return why;
}

int wr_fs_check_file(int fd, const char *path, const char *what, int reading)
{
	struct stat sb, dsb;
	if (fstat(fd, &sb) < 0) {
		wr_seterrsys("unable to stat %s %s", what, path);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		wr_seterr("refusing %s %s: not a regular file", what, path);
		return refused();
	}
	int shared = stat_dir_of(path, &dsb) == 0 && wr_fs_is_shared(&dsb), bymode;
	char buf[160];
	const char *why = distrust(&sb, &dsb, shared, reading, buf, &bymode);
	if (why && bymode)
		wr_seterr("refusing %s %s: %s (mode %04o); fix it with: %s %s", what, path, why,
			  (unsigned)(sb.st_mode & 07777), shared ? "chmod o-w" : "chmod go-w", path);
	else if (why)
		wr_seterr("refusing %s %s: %s", what, path, why);
	return why ? refused() : 0;
}

int wr_fs_check_subdir(const char *dir, const char *what, int reading)
{
	struct stat sb, dsb;
	if (lstat(dir, &sb) < 0) {
		wr_seterrsys("unable to read the directory %s", dir);
		return -1;
	}
	int shared = stat_dir_of(dir, &dsb) == 0 && wr_fs_is_shared(&dsb);
	char buf[160];
	int bymode;
	const char *why = !S_ISDIR(sb.st_mode) ? "not a directory" : distrust(&sb, &dsb, shared, reading, buf, &bymode);
	if (!why && shared && (!wr_fs_is_shared(&sb) || sb.st_gid != dsb.st_gid))
		why = "not shared with the group of the directory above it (mode 2770, same group)";
	if (why) {
		wr_seterr("refusing the %s %s: %s", what, dir, why);
		return refused();
	}
	return 0;
}

void wr_fs_seterr_open(const char *path, const char *what)
{
	int e = errno;
	struct stat dsb;
	if (e == EACCES && stat_dir_of(path, &dsb) == 0 && wr_fs_is_shared(&dsb)) {
		char gb[24];
		const char *g = group_name(dsb.st_gid, gb);
		errno = e;
		wr_seterrsys("unable to open %s %s (a file of a shared directory must be its group's: as its owner, "
			     "chgrp %s %s && chmod 0660 %s; see wr(7), Shared ledgers)",
			     what, path, g, path, path);
	} else {
		errno = e;
		wr_seterrsys("unable to open %s %s", what, path);
	}
}

mode_t wr_fs_file_mode(const char *path)
{
	struct stat dsb;
	return stat_dir_of(path, &dsb) == 0 && wr_fs_is_shared(&dsb) ? 0660 : 0600;
}

/* fd was just created at path: gives it mode exactly, else removes it. */
static int set_mode(int fd, const char *path, mode_t mode)
{
	if (fchmod(fd, mode) == 0)
		return fd;
	int e = errno;
	close(fd);
	unlink(path);
	errno = e;
	return -1;
}

int wr_fs_open(const char *path, int flags)
{
	if (!(flags & O_CREAT))
		return open(path, flags);
	mode_t mode = wr_fs_file_mode(path);
	if (flags & O_EXCL) {
		int fd = open(path, flags, mode);
		return fd < 0 ? -1 : set_mode(fd, path, mode);
	}
	/* Whether it was there decides its mode: create exclusively, else
	 * open what is there (it may go in between: then again). */
	for (int tries = 0;; tries++) {
		int fd = open(path, flags | O_EXCL, mode);
		if (fd >= 0)
			return set_mode(fd, path, mode);
		if (errno != EEXIST)
			return -1;
		fd = open(path, flags & ~O_CREAT);
		if (fd >= 0 || errno != ENOENT || tries == 3)
			return fd;
	}
}

int wr_fs_mkdir(const char *dir, mode_t private_mode)
{
	struct stat dsb;
	int shared = stat_dir_of(dir, &dsb) == 0 && wr_fs_is_shared(&dsb);
	if (mkdir(dir, shared ? 02770 : private_mode) < 0)
		return errno == EEXIST ? 0 : -1;
	if (!shared)
		return 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = fd < 0 ? -1 : fchmod(fd, 02770);
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return r;
}

int wr_fs_mkdirs(const char *dir, mode_t private_mode)
{
	char *p = wr_xstrdup(dir);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	int r = 0;
	for (char *s = p + 1; r == 0; s++) {
		if (*s == '/' || *s == 0) {
			char c = *s;
			*s = 0;
			r = wr_fs_mkdir(p, private_mode);
			*s = c;
			if (!c)
				break;
		}
	}
	int e = errno;
	free(p);
	errno = e;
	return r;
}

int wr_fs_may_create(int fd, const char *path)
{
	struct stat sb, dsb;
	if (fstat(fd, &sb) < 0)
		return 0;
	if (sb.st_uid == geteuid())
		return 1;
	return stat_dir_of(path, &dsb) == 0 && wr_fs_is_shared(&dsb) && caller_in(dsb.st_gid);
}
