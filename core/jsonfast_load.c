/* jsonfast_load.c - the fast reader of ledger lines, loaded when a
 * process has enough lines to read for it to pay.
 *
 * simdjson is C++: loading it brings libstdc++, libgcc_s and simdjson's
 * own start-up (it picks its kernel for the CPU), about 0.5 ms of CPU,
 * about as much as a short wr-run spends on everything else, while
 * jansson reads a line some 10 us slower. A start decodes a few dozen
 * lines at most (the tail after the state cache, and in each commit what
 * the others appended, unless a newer cache lets it jump over that:
 * core/ledger.c), so the reader (core/jsonfast.cc) is a module of its
 * own, wr-jsonfast.so, opened with dlopen when a scan is about to read
 * WR_JSONFAST_EAGER bytes or more (a replay, a verify, a start without
 * a cache), or at the WR_JSONFAST_AFTER-th line a process decodes (a
 * long-lived reader that catches up often). Until it is loaded, and when
 * it cannot be (not installed, not from this build), every line goes to
 * jansson, the decoder of record, which reads all lines the same, only
 * slower.
 *
 * The module comes from the build tree when the running program is one
 * of its own (tests and benchmarks run there), else from the installed
 * WR_JSONFAST_MODULE. Its ABI stamp must be this build's: a module of
 * another version is not used. */
#include "jsonfast.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifndef WR_JSONFAST_STATIC
/* Lines decoded before the module is loaded, and the bytes a scan about
 * to read loads it at once: about where jansson's extra time has paid
 * for the load (BENCHMARKS.md). */
#ifndef WR_JSONFAST_AFTER
#define WR_JSONFAST_AFTER 128
#endif
#define WR_JSONFAST_EAGER (64 * 1024)

typedef struct wr_ev_fields *(*reader_fn)(const char *, size_t, int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic(reader_fn) reader;
static atomic_size_t lines;

/* Whether the running program lives under the build tree dir. */
static int from_build_tree(const char *dir)
{
	char exe[PATH_MAX];
	if (!realpath("/proc/self/exe", exe))
		return 0;
	size_t n = strlen(dir);
	return n > 1 && !strncmp(exe, dir, n) && exe[n] == '/';
}

static void load(void)
{
	const char *path = WR_JSONFAST_MODULE;
#ifdef WR_JSONFAST_BUILD_ROOT
	if (from_build_tree(WR_JSONFAST_BUILD_ROOT))
		path = WR_JSONFAST_BUILD_ROOT "/core/wr-jsonfast.so";
#endif
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	union {
		void *v;
		unsigned long (*abi)(void);
		reader_fn read;
	} a, r;
	a.v = dlsym(h, "wr_jsonfast_abi");
	r.v = dlsym(h, "wr_jsonfast_read");
	if (!a.v || !r.v || a.abi() != WR_JSONFAST_ABI) {
		dlclose(h);
		return;
	}
	atomic_store(&reader, r.read);
}

int wr_jsonfast_load(void)
{
	pthread_once(&once, load);
	return atomic_load(&reader) ? 0 : -1;
}

void wr_jsonfast_expect(int64_t bytes)
{
	if (bytes >= WR_JSONFAST_EAGER && !atomic_load_explicit(&reader, memory_order_relaxed))
		(void)wr_jsonfast_load();
}

struct wr_ev_fields *wr_jsonfast_fields(const char *line, size_t len, int max_depth)
{
	reader_fn f = atomic_load_explicit(&reader, memory_order_acquire);
	if (!f) {
		if (atomic_fetch_add_explicit(&lines, 1, memory_order_relaxed) < WR_JSONFAST_AFTER ||
		    wr_jsonfast_load() < 0)
			return NULL;
		f = atomic_load(&reader);
	}
	return f(line, len, max_depth);
}
#else
/* Linked in (the fuzzer's build): always there. */
int wr_jsonfast_load(void)
{
	return 0;
}

void wr_jsonfast_expect(int64_t bytes)
{
	(void)bytes;
}

struct wr_ev_fields *wr_jsonfast_fields(const char *line, size_t len, int max_depth)
{
	return wr_jsonfast_read(line, len, max_depth);
}
#endif
