/* replace.c - the temp files of an atomic replace (replace.h). */
#include "replace.h"
#include "sysinfo.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *wr_temp_path(const char *final)
{
	const char *host = wr_hostname();
	return wr_xasprintf("%s.tmp.%ld@%s", final, (long)getpid(), *host ? host : "-");
}

/* 1 when a name in the ledger's directory is a temp file (of the ledger
 * whose base name is base) whose writer is dead on this host. Names
 * without a host (older versions) count as this host's. */
static int stale_temp(const char *name, const char *base, size_t bl, const char *host)
{
	if (strncmp(name, base, bl) || name[bl] != '.')
		return 0;
	const char *t = strstr(name + bl, ".tmp."), *next;
	while (t && (next = strstr(t + 1, ".tmp.")))
		t = next;
	if (!t)
		return 0;
	char *end;
	long pid = strtol(t + 5, &end, 10);
	if (end == t + 5 || pid <= 0 || (*end && *end != '@'))
		return 0;
	if (*end == '@' && strcmp(end + 1, *host ? host : "-"))
		return 0; /* another host's: its writer may be alive */
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int wr_temp_clean(const char *path)
{
	char *dir = wr_xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		strcpy(dir, ".");
	size_t bl = strlen(base);
	int removed = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!stale_temp(e->d_name, base, bl, wr_hostname()))
			continue;
		char *p = wr_xasprintf("%s/%s", dir, e->d_name);
		if (unlink(p) == 0)
			removed++;
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
	return removed;
}
