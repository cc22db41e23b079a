/* test-outlog - the output logs of attempts (core/outlog.h): the ring keeps
 * the last bytes whatever the sizes written, a saved log reads back as it
 * was (live, then final), a damaged one is named and refused, the tail for
 * a notification is bounded and sanitized, a run's logs are removed, and
 * run ids that are no plain file name get no log. */
#include "tap.h"
#include "err.h"
#include "outlog.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Against a plain model: every split of a long text keeps its last cap bytes. */
static void ring_model(void)
{
	char text[1000];
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (char)('a' + i % 26);
	static const size_t chunks[] = {1, 3, 7, 10, 11, 64, 999};
	int bad = 0;
	for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
		struct wr_ring r;
		wr_ring_init(&r, 10);
		for (size_t off = 0; off < sizeof text; off += chunks[c]) {
			size_t n = off + chunks[c] > sizeof text ? sizeof text - off : chunks[c];
			wr_ring_add(&r, text + off, n);
			size_t upto = off + n, keep = upto < 10 ? upto : 10;
			char *s = wr_ring_flat(&r);
			if (r.len != keep || memcmp(s, text + upto - keep, keep) || r.total != (int64_t)upto)
				bad++;
			free(s);
		}
		wr_ring_free(&r);
	}
	is_int(bad, 0, "the ring holds the last cap bytes and counts all, for every chunk size");
}

static void save_and_read(const char *ledger)
{
	struct wr_outlog o;
	struct stat sb;
	char *top = wr_outlog_dir(ledger);
	struct wr_outlog empty;
	is_int(wr_outlog_open(&empty, ledger, "run-0", 1), 0, "open");
	is_int(wr_outlog_save(&empty, 1), 0, "the final save of an attempt that printed nothing");
	ok(stat(top, &sb) < 0 && errno == ENOENT, "... makes no file and no directory");
	wr_outlog_free(&empty);
	is_int(wr_outlog_open(&o, ledger, "run-1", 2), 0, "open");
	char *path = wr_outlog_path(ledger, "run-1", 2);
	char *want = wr_xasprintf("%s.logs/run-1/2.log", ledger);
	is_str(path, want, "the path is LEDGER.logs/RUN/ATTEMPT.log");
	wr_outlog_add(&o, WR_OUTLOG_STDOUT, "hello\n", 6);
	wr_outlog_add(&o, WR_OUTLOG_STDERR, "oops\n", 5);
	is_int(wr_outlog_tick(&o, 5000, 1000), 0, "a tick saves (live), making LEDGER.logs/RUN");
	ok(stat(top, &sb) == 0 && (sb.st_mode & 0777) == 0700, "the directory has the ledger directory's mode");
	free(top);
	struct wr_outlog_file f;
	is_int(wr_outlog_read(path, &f), 0, "the live log reads back");
	ok(f.live && f.bytes[0] == 6 && f.kept[1] == 5 && !strcmp(f.data[0], "hello\n") && !strcmp(f.data[1], "oops\n"),
	   "live, with both streams");
	wr_outlog_file_free(&f);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "the file is 0600");
	wr_outlog_add(&o, WR_OUTLOG_STDOUT, "x", 1);
	is_int(wr_outlog_tick(&o, 5500, 1000), 0, "no save within the interval");
	is_int(wr_outlog_read(path, &f), 0, "still the last save");
	is_int(f.bytes[0], 6, "the unsaved byte is not in the file yet");
	wr_outlog_file_free(&f);
	char big[100000];
	memset(big, 'z', sizeof big);
	big[sizeof big - 1] = 'E';
	wr_outlog_add(&o, WR_OUTLOG_STDOUT, big, sizeof big);
	is_int(wr_outlog_save(&o, 1), 0, "the final save");
	is_int(wr_outlog_read(path, &f), 0, "the final log reads back");
	ok(!f.live && f.bytes[0] == 6 + 1 + (int64_t)sizeof big && f.kept[0] == WR_OUTLOG_KEEP &&
	       f.data[0][WR_OUTLOG_KEEP - 1] == 'E',
	   "final, its stdout bounded to the last 64 KiB");
	wr_outlog_file_free(&f);
	ok(stat(path, &sb) == 0 && (size_t)sb.st_size < 2 * WR_OUTLOG_KEEP + 512, "the file is bounded");
	/* Damage: cut short, then no header. */
	is_int(truncate(path, sb.st_size - 1), 0, "cut a byte off");
	ok(wr_outlog_read(path, &f) < 0 && strstr(wr_errmsg(), "cut short") && strstr(wr_errmsg(), path),
	   "a log cut short is named and refused: %s", wr_errmsg());
	int fd = open(path, O_WRONLY | O_TRUNC);
	ok(fd >= 0 && write(fd, "garbage\n", 8) == 8 && close(fd) == 0, "overwrite with garbage");
	ok(wr_outlog_read(path, &f) < 0 && strstr(wr_errmsg(), "no log header"), "garbage is refused: %s",
	   wr_errmsg());
	char *none = wr_outlog_path(ledger, "run-1", 3);
	ok(wr_outlog_read(none, &f) < 0 && errno == ENOENT, "a missing log: ENOENT");
	free(none);
	struct wr_outlog z;
	is_int(wr_outlog_open(&z, ledger, "run-1", 4), 0, "another attempt");
	wr_outlog_add(&z, WR_OUTLOG_STDERR, "a\0b\n", 4);
	char *zp = wr_outlog_path(ledger, "run-1", 4);
	ok(wr_outlog_save(&z, 1) == 0 && wr_outlog_read(zp, &f) == 0 && f.kept[1] == 4 && !memcmp(f.data[1], "a\0b\n", 4),
	   "NUL bytes are kept byte for byte");
	wr_outlog_file_free(&f);
	json_t *zt = wr_outlog_tail_of(ledger, "run-1", 4);
	is_str(json_string_value(json_object_get(zt, "stderr")), "a?b", "and become '?' in the tail");
	json_decref(zt);
	free(zp);
	wr_outlog_free(&z);
	is_int(wr_outlog_remove_run(ledger, "run-1"), 1, "remove the run's logs");
	char *rundir = wr_xasprintf("%s.logs/run-1", ledger);
	ok(stat(rundir, &sb) < 0 && errno == ENOENT, "the run's directory is gone");
	is_int(wr_outlog_remove_run(ledger, "run-1"), 0, "removing again is fine");
	free(rundir);
	wr_outlog_free(&o);
	free(path);
	free(want);
}

static void unsafe_ids(const char *ledger)
{
	ok(!wr_outlog_path(ledger, "../x", 1) && !wr_outlog_path(ledger, "a/b", 1) && !wr_outlog_path(ledger, ".", 1) &&
	       !wr_outlog_path(ledger, "", 1) && !wr_outlog_path(ledger, "ok", 0),
	   "ids that are no plain file name, and attempt 0, have no path");
	struct wr_outlog o;
	ok(wr_outlog_open(&o, ledger, "../escape", 1) < 0, "open refuses them");
	wr_outlog_add(&o, 0, "still kept in memory\n", 21);
	is_int(wr_outlog_save(&o, 1), 0, "and saves nothing");
	ok(o.st[0].len == 21, "the ring still works without a file");
	wr_outlog_free(&o);
	is_int(wr_outlog_remove_run(ledger, "../.."), 0, "remove ignores them");
}

static void tails(void)
{
	struct wr_buf b = {0};
	for (int i = 1; i <= 30; i++)
		wr_buf_addf(&b, "line %d\n", i);
	const char *err = "bad \033[31mred\033[0m\nprogress 10%\rprogress 99%\r\n";
	json_t *j = wr_outlog_tail_json(b.p, b.len, err, strlen(err));
	const char *o = json_string_value(json_object_get(j, "stdout"));
	ok(o && !strncmp(o, "line 11\n", 8) && strstr(o, "line 30") && !strstr(o, "line 10\n"),
	   "stdout: the last 20 lines");
	ok(o && o[strlen(o) - 1] != '\n', "without the final newline");
	is_str(json_string_value(json_object_get(j, "stderr")), "bad ?[31mred?[0m\nprogress 99%",
	       "stderr sanitized, a redrawn line as a terminal shows it");
	json_decref(j);
	wr_buf_free(&b);
	memset(&b, 0, sizeof b);
	for (int i = 0; i < 3; i++) {
		for (int k = 0; k < 3000; k++)
			wr_buf_add(&b, "y", 1);
		wr_buf_add(&b, "\n", 1);
	}
	j = wr_outlog_tail_json(b.p, b.len, "", 0);
	o = json_string_value(json_object_get(j, "stdout"));
	ok(o && strlen(o) <= WR_OUTLOG_TAIL_BYTES && strlen(o) == 3000, "long lines: at most 4 KiB, whole lines");
	ok(!json_object_get(j, "stderr"), "an empty stream is left out");
	json_decref(j);
	ok(!wr_outlog_tail_json("\n\n", 2, "", 0), "nothing printed: no tail");
	j = wr_outlog_tail_json("\xff\xfe broken", 9, NULL, 0);
	is_str(json_string_value(json_object_get(j, "stdout")), "?? broken", "broken UTF-8 becomes '?'");
	json_decref(j);
	wr_buf_free(&b);
}

int main(void)
{
	char dir[] = "/tmp/test-outlog.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char *ledger = wr_xasprintf("%s/ledger.jsonl", dir);
	ring_model();
	save_and_read(ledger);
	unsafe_ids(ledger);
	tails();
	char *top = wr_outlog_dir(ledger);
	rmdir(top);
	rmdir(dir);
	free(top);
	free(ledger);
	return done_testing();
}
