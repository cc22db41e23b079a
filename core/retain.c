/* retain.c - deleting archive segments and logs on purpose (retain.h). */
#include "retain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compact.h"
#include "err.h"
#include "fsmode.h"
#include "event.h"
#include "outlog.h"
#include "scan.h"
#include "timefmt.h"
#include "util.h"

/* The ts of the last line of the file at path, or -1. */
static int64_t newest_ts(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	int64_t ts = -1;
	if (fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size > 1) {
		size_t size = (size_t)sb.st_size;
		for (size_t win = 65536;; win *= 4) {
			size_t n = size < win ? size : win, s = n - 1;
			char *b = wr_xmalloc(n);
			int whole = 0;
			if (pread(fd, b, n, (off_t)(size - n)) == (ssize_t)n && b[n - 1] == '\n') {
				while (s > 0 && b[s - 1] != '\n')
					s--;
				whole = s > 0 || n == size;
			}
			struct wr_event ev;
			struct wr_decode_err err;
			if (whole && wr_event_decode(b + s, n - 1 - s, &ev, &err) == 0) {
				ts = ev.ts;
				wr_event_clear(&ev);
			}
			free(b);
			if (whole || n == size || win > WR_LINE_MAX)
				break;
		}
	}
	if (fd >= 0)
		close(fd);
	return ts;
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Rewrites seg's first line, a marker naming a deleted segment, without
 * that link and with what was pruned. 0, or -1 with wr_errmsg(). */
static int unlink_chain(const char *seg, char **gone, size_t ngone, int64_t cutoff, int64_t now)
{
	struct wr_buf b = {0};
	int fd = open(seg, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char chunk[65536];
	ssize_t r = fd < 0 ? -1 : 0;
	while (fd >= 0 && (r = wr_read(fd, chunk, sizeof chunk)) > 0)
		wr_buf_add(&b, chunk, (size_t)r);
	if (fd >= 0)
		close(fd);
	char *nl = r == 0 && b.len ? memchr(b.p, '\n', b.len) : NULL;
	json_t *m = nl ? json_loadb(b.p, (size_t)(nl - b.p), JSON_PRESERVE_ORDER, NULL) : NULL;
	const char *type = json_string_value(json_object_get(m, "type"));
	if (!type || strcmp(type, WR_COMPACTED_TYPE)) {
		json_decref(m);
		wr_buf_free(&b);
		wr_seterr("archive segment %s does not start with a compaction marker; nothing deleted", seg);
		return -1;
	}
	json_object_del(m, "archive");
	json_t *p = json_object(), *names = json_array();
	char ts[WR_TS_LEN];
	wr_jset_str(p, "at", wr_ts_format(now, ts));
	wr_jset_str(p, "older_than", wr_ts_format(cutoff, ts));
	for (size_t i = 0; i < ngone; i++)
		json_array_append_new(names, json_string(base_of(gone[i])));
	wr_jset(p, "archives", names);
	wr_jset(m, "pruned", p);
	char *line = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(m);
	if (!line)
		wr_die(wr_exit_failure, "out of memory");
	struct wr_buf nb = {0};
	wr_buf_addstr(&nb, line);
	wr_buf_add(&nb, nl, b.len - (size_t)(nl - b.p));
	int rc = wr_replace_file(seg, nb.p, nb.len, wr_fs_file_mode(seg));
	if (rc < 0)
		wr_seterrsys("unable to rewrite archive segment %s", seg);
	wr_buf_free(&nb);
	free(line);
	wr_buf_free(&b);
	return rc;
}

int wr_ledger_prune_archives(struct wr_ledger *l, int64_t keep_ms, struct wr_prune_result *res)
{
	memset(res, 0, sizeof *res);
	if (wr_ledger_lock(l) < 0)
		return -1;
	size_t n, k = 0;
	char **v = wr_ledger_archives(l->path, &n);
	int64_t now = wr_now_ms(), cutoff = now - keep_ms;
	/* Oldest first; the newest (named by the live ledger) always stays. */
	while (k + 1 < n) {
		int64_t ts = newest_ts(v[k]);
		if (ts < 0 || ts >= cutoff)
			break;
		k++;
	}
	int rc = 0;
	res->names = wr_xcalloc(k + 1, sizeof *res->names);
	if (k > 0 && unlink_chain(v[k], v, k, cutoff, now) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < k; i++) {
		struct stat sb;
		int64_t size = stat(v[i], &sb) == 0 ? (int64_t)sb.st_size : 0;
		if (unlink(v[i]) < 0 && errno != ENOENT) {
			wr_seterrsys("unable to delete archive segment %s", v[i]);
			rc = -1;
			break;
		}
		res->bytes += size;
		res->segments++;
		res->names[res->segments - 1] = v[i];
		v[i] = NULL;
	}
	if (rc == 0 && res->segments && wr_fsync_dir_of(l->path) < 0) {
		wr_seterrsys("unable to sync the directory of %s", l->path);
		rc = -1;
	}
	wr_ledger_unlock(l);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return rc < 0 ? -1 : (int)res->segments;
}

void wr_prune_result_free(struct wr_prune_result *res)
{
	for (int64_t i = 0; res->names && i < res->segments; i++)
		free(res->names[i]);
	free(res->names);
	memset(res, 0, sizeof *res);
}

/* ---- the logs of archived runs ---- */

char **wr_run_ids(const struct wr_state *st, size_t *n)
{
	size_t k = 0, all = wr_state_nruns(st);
	char **v = wr_xcalloc(all + 1, sizeof *v);
	struct wr_runs_iter it;
	wr_runs_begin(&it, st);
	for (const struct wr_run *r; (r = wr_runs_next(&it)) && k < all;)
		v[k++] = wr_xstrdup(r->id);
	wr_runs_end(&it);
	*n = k;
	return v;
}

int64_t wr_outlog_prune(const char *ledger, char **ids, size_t n, const struct wr_state *after)
{
	int64_t removed = 0;
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (wr_state_run(after, ids[i]))
			continue;
		int r = wr_outlog_remove_run(ledger, ids[i]);
		failed |= r < 0;
		removed += r > 0;
	}
	return failed ? -1 : removed;
}
