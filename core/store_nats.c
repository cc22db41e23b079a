/* store_nats.c - the JetStream backend of the store (core/store.h).
 *
 * The ledger nats://HOST:PORT[,HOST:PORT...]/STREAM is the stream STREAM,
 * whose one subject is wr.STREAM; each message is one whole decision (its
 * JSONL lines). The handle keeps the messages it caught up with, in order,
 * in a memory file that core/scan reads as it reads a ledger file; the
 * stream's sequence of the last one is last_seq. An append publishes one
 * message with Nats-Expected-Last-Sequence: last_seq, so the server refuses
 * it (JetStream error 10071) when another writer appended first, and a
 * Nats-Msg-Id of its own, so that the publish can be sent again after a
 * lost acknowledgment without being stored twice. */
#include "store.h"
#include "store_impl.h"
#include "err.h"
#include "fsmode.h"
#include "random.h"
#include "snapshot.h"
#include "timefmt.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* libnats (with OpenSSL and protobuf-c) is loaded when a ledger is on NATS,
 * not at every start of every tool: each function the backend calls goes
 * through a pointer that nats_load() fills with dlsym. */
#define NATS_FUNCS(X) X(jsCtx_Destroy) X(jsMsgMetaData_Destroy) X(jsOptions_Init) \
	X(jsPubAck_Destroy) X(jsPubOptions_Init) X(jsStreamConfig_Init) X(jsStreamInfo_Destroy) \
	X(jsSubOptions_Init) X(js_AddStream) X(js_GetMsg) X(js_GetStreamInfo) X(js_PublishMsg) \
	X(js_Subscribe) X(js_SubscribeSync) X(natsConnection_Connect) X(natsConnection_Destroy) \
	X(natsConnection_JetStream) X(natsConnection_Subscribe) X(natsMsgHeader_Get) X(natsMsgHeader_Set) \
	X(natsMsg_Create) X(natsMsg_Destroy) X(natsMsg_GetData) X(natsMsg_GetDataLength) \
	X(natsMsg_GetMetaData) X(natsOptions_Create) X(natsOptions_Destroy) \
	X(natsOptions_LoadCATrustedCertificates) X(natsOptions_LoadCertificatesChain) \
	X(natsOptions_SetMaxReconnect) X(natsOptions_SetNKeyFromSeed) X(natsOptions_SetName) \
	X(natsOptions_SetReconnectWait) X(natsOptions_SetSecure) X(natsOptions_SetServers) \
	X(natsOptions_SetTimeout) X(natsOptions_SetToken) X(natsOptions_SetUserCredentialsFromFiles) \
	X(natsOptions_SetUserInfo) X(natsStatus_GetText) X(natsSubscription_Destroy) \
	X(natsSubscription_IsValid) X(natsSubscription_NextMsg) X(natsSubscription_Unsubscribe)

#define NATS_PTR(f) static __typeof__(f) *p_##f;
NATS_FUNCS(NATS_PTR)
#undef NATS_PTR

static int nats_load(const char *where)
{
	static int loaded;
	if (loaded)
		return 0;
	void *h = dlopen(WR_LIBNATS_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		wr_seterr("ledger %s is on NATS, but the NATS C client cannot be loaded: %s"
			  " (Debian: apt-get install libnats3.4)", where, dlerror());
		wr_seterrkind(WR_E_REFUSED);
		return -1;
	}
	union {
		void *v;
		void (*fn)(void);
	} u;
#define NATS_SYM(f)                                                                                    \
	if (!(u.v = dlsym(h, #f))) {                                                                   \
		wr_seterr("ledger %s: the NATS C client %s has no %s", where, WR_LIBNATS_SONAME, #f); \
		wr_seterrkind(WR_E_REFUSED);                                                           \
		return -1;                                                                             \
	}                                                                                              \
	p_##f = (__typeof__(p_##f))u.fn;
	NATS_FUNCS(NATS_SYM)
#undef NATS_SYM
	loaded = 1;
	return 0;
}

#define jsCtx_Destroy p_jsCtx_Destroy
#define jsMsgMetaData_Destroy p_jsMsgMetaData_Destroy
#define jsOptions_Init p_jsOptions_Init
#define jsPubAck_Destroy p_jsPubAck_Destroy
#define jsPubOptions_Init p_jsPubOptions_Init
#define jsStreamConfig_Init p_jsStreamConfig_Init
#define jsStreamInfo_Destroy p_jsStreamInfo_Destroy
#define jsSubOptions_Init p_jsSubOptions_Init
#define js_AddStream p_js_AddStream
#define js_GetMsg p_js_GetMsg
#define js_GetStreamInfo p_js_GetStreamInfo
#define js_PublishMsg p_js_PublishMsg
#define js_Subscribe p_js_Subscribe
#define js_SubscribeSync p_js_SubscribeSync
#define natsConnection_Connect p_natsConnection_Connect
#define natsConnection_Destroy p_natsConnection_Destroy
#define natsConnection_JetStream p_natsConnection_JetStream
#define natsConnection_Subscribe p_natsConnection_Subscribe
#define natsMsgHeader_Get p_natsMsgHeader_Get
#define natsMsgHeader_Set p_natsMsgHeader_Set
#define natsMsg_Create p_natsMsg_Create
#define natsMsg_Destroy p_natsMsg_Destroy
#define natsMsg_GetData p_natsMsg_GetData
#define natsMsg_GetDataLength p_natsMsg_GetDataLength
#define natsMsg_GetMetaData p_natsMsg_GetMetaData
#define natsOptions_Create p_natsOptions_Create
#define natsOptions_Destroy p_natsOptions_Destroy
#define natsOptions_LoadCATrustedCertificates p_natsOptions_LoadCATrustedCertificates
#define natsOptions_LoadCertificatesChain p_natsOptions_LoadCertificatesChain
#define natsOptions_SetMaxReconnect p_natsOptions_SetMaxReconnect
#define natsOptions_SetNKeyFromSeed p_natsOptions_SetNKeyFromSeed
#define natsOptions_SetName p_natsOptions_SetName
#define natsOptions_SetReconnectWait p_natsOptions_SetReconnectWait
#define natsOptions_SetSecure p_natsOptions_SetSecure
#define natsOptions_SetServers p_natsOptions_SetServers
#define natsOptions_SetTimeout p_natsOptions_SetTimeout
#define natsOptions_SetToken p_natsOptions_SetToken
#define natsOptions_SetUserCredentialsFromFiles p_natsOptions_SetUserCredentialsFromFiles
#define natsOptions_SetUserInfo p_natsOptions_SetUserInfo
#define natsStatus_GetText p_natsStatus_GetText
#define natsSubscription_Destroy p_natsSubscription_Destroy
#define natsSubscription_IsValid p_natsSubscription_IsValid
#define natsSubscription_NextMsg p_natsSubscription_NextMsg
#define natsSubscription_Unsubscribe p_natsSubscription_Unsubscribe

#define WRONG_LAST_SEQ 10071
#define STREAM_NOT_FOUND 10059
#define NO_MESSAGE_FOUND 10037
#define DEFAULT_TIMEOUT_MS 5000
/* The longest of one wait on the servers in a loop that tries again: a
 * stop (wr_stop_pending) is seen within it, whatever WR_NATS_TIMEOUT is. */
#define SLICE_MS 500

struct wr_nats {
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	/* The wait for new entries: an ordered consumer on the stream, whose
	 * messages the library's thread queues (mu) and signals on pipe. */
	natsSubscription *sub;
	int pipe[2];
	pthread_mutex_t mu;
	natsMsg **q;
	size_t qn, qcap;
	uint64_t pushed;        /* messages kept as the consumer delivered them */
	int64_t checked_ms;     /* a reader's last look at the stream's info */
	char *stream, *subject;
	uint64_t last_seq;      /* the stream's sequence of the last message in fd */
	off_t end;              /* the size of fd */
	int64_t timeout_ms;
	/* The stream's identity, and the copy on this host's disk (NULL: a
	 * memory file of this process's own). */
	int64_t created;
	char *cluster;
	struct wr_ncache *cache;
	uint64_t cached, fetched; /* messages found in the copy, fetched (WR_NATS_TRACE) */
	int mu_init;
	const char *rebuilt;    /* why the copy was made again at open, or NULL */
};

static int open_copy(struct wr_store *s, uint64_t first, uint64_t last);
static int fetch(struct wr_store *s, uint64_t first, uint64_t last);
static void unwatch(struct wr_nats *t);
static int take_pushed(struct wr_store *s);
static int pushed_any(struct wr_nats *t);
static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure);
static void set_identity(struct wr_nats *t, const jsStreamInfo *si);

/* Sets the error for a failed call: the library's words, the server's
 * JetStream error code when there is one. */
static int nats_err(struct wr_store *s, const char *what, natsStatus st, jsErrCode jerr)
{
	if (jerr)
		wr_seterr("%s on NATS %s: JetStream error %d (%s)", what, s->path, (int)jerr, natsStatus_GetText(st));
	else
		wr_seterr("%s on NATS %s: %s", what, s->path, natsStatus_GetText(st));
	/* A server away, a leader being elected: try again later (exit 75). */
	wr_seterrkind(jerr ? WR_E_IO : WR_E_LOCK_TIMEOUT);
	return -1;
}

int wr_nats_parse(const char *url, char ***servers, int *n, char **stream)
{
	const char *hosts = url + strlen("nats://");
	const char *slash = strchr(hosts, '/');
	*servers = NULL;
	*n = 0;
	*stream = NULL;
	if (strchr(url, '@')) {
		wr_seterr("refusing ledger %s: no credentials in the URL (it is shown in messages and given to jobs); "
			  "use WR_NATS_CREDS, WR_NATS_NKEY, WR_NATS_USER and WR_NATS_PASSWORD, or WR_NATS_TOKEN (wr(7))",
			  url);
		return -1;
	}
	if (!slash || slash == hosts || !slash[1]) {
		wr_seterr("bad ledger URL %s: write nats://HOST:PORT[,HOST:PORT...]/STREAM", url);
		return -1;
	}
	const char *name = slash + 1;
	if (strlen(name) > 200 || strcspn(name, ". *>/\\\t\r\n") != strlen(name)) {
		wr_seterr("bad stream name '%s' in %s: a JetStream stream name has no '.', '*', '>', '/', '\\' or "
			  "white space", name, url);
		return -1;
	}
	char *list = wr_xstrndup(hosts, (size_t)(slash - hosts));
	for (char *save, *h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
		*servers = wr_xrealloc(*servers, (size_t)(*n + 1) * sizeof **servers);
		(*servers)[(*n)++] = wr_xasprintf("nats://%s", h);
	}
	free(list);
	if (!*n) {
		wr_seterr("bad ledger URL %s: no HOST:PORT before /%s", url, name);
		return -1;
	}
	*stream = wr_xstrdup(name);
	return 0;
}

/* Credentials and TLS from the environment (wr(7)). 0 or -1. */
static int set_auth(struct wr_store *s, natsOptions *o)
{
	const char *creds = getenv("WR_NATS_CREDS"), *nkey = getenv("WR_NATS_NKEY"),
		   *seed = getenv("WR_NATS_NKEY_SEED"), *user = getenv("WR_NATS_USER"),
		   *pass = getenv("WR_NATS_PASSWORD"), *token = getenv("WR_NATS_TOKEN"), *ca = getenv("WR_NATS_TLS_CA"),
		   *cert = getenv("WR_NATS_TLS_CERT"), *key = getenv("WR_NATS_TLS_KEY"), *tls = getenv("WR_NATS_TLS");
	natsStatus st = NATS_OK;
	const char *what = NULL;
	if (creds && *creds && (st = natsOptions_SetUserCredentialsFromFiles(o, creds, NULL)) != NATS_OK)
		what = "WR_NATS_CREDS";
	else if (nkey && *nkey && (!seed || !*seed)) {
		wr_seterr("WR_NATS_NKEY is set but WR_NATS_NKEY_SEED (the file of its seed) is not");
		return -1;
	} else if (nkey && *nkey && (st = natsOptions_SetNKeyFromSeed(o, nkey, seed)) != NATS_OK)
		what = "WR_NATS_NKEY";
	else if (user && *user && (st = natsOptions_SetUserInfo(o, user, pass ? pass : "")) != NATS_OK)
		what = "WR_NATS_USER";
	else if (token && *token && (st = natsOptions_SetToken(o, token)) != NATS_OK)
		what = "WR_NATS_TOKEN";
	else if (((ca && *ca) || (cert && *cert) || (tls && *tls && strcmp(tls, "0"))) &&
		 (st = natsOptions_SetSecure(o, true)) != NATS_OK)
		what = "WR_NATS_TLS";
	else if (ca && *ca && (st = natsOptions_LoadCATrustedCertificates(o, ca)) != NATS_OK)
		what = "WR_NATS_TLS_CA";
	else if (cert && *cert && (st = natsOptions_LoadCertificatesChain(o, cert, key ? key : cert)) != NATS_OK)
		what = "WR_NATS_TLS_CERT";
	if (!what)
		return 0;
	wr_seterr("unable to use %s for NATS %s: %s", what, s->path, natsStatus_GetText(st));
	return -1;
}

/* The connection options: the servers, timeouts, a bounded reconnect. */
static int make_opts(struct wr_store *s, char **servers, int n)
{
	struct wr_nats *t = s->nats;
	char name[96];
	snprintf(name, sizeof name, "%s/%ld", wr_prog, (long)getpid());
	natsStatus st = natsOptions_Create(&t->opts);
	if (st == NATS_OK)
		st = natsOptions_SetServers(t->opts, (const char **)servers, n);
	if (st == NATS_OK)
		st = natsOptions_SetName(t->opts, name);
	if (st == NATS_OK)
		st = natsOptions_SetTimeout(t->opts, t->timeout_ms);
	if (st == NATS_OK)
		st = natsOptions_SetMaxReconnect(t->opts, -1);
	if (st == NATS_OK)
		st = natsOptions_SetReconnectWait(t->opts, 100);
	if (st != NATS_OK)
		return nats_err(s, "unable to set up the connection", st, 0);
	return set_auth(s, t->opts);
}

/* Connects and opens the JetStream context; signals blocked meanwhile, so
 * that the library's threads never take the tool's signals. */
static int connect_js(struct wr_store *s, char **servers, int n)
{
	struct wr_nats *t = s->nats;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = make_opts(s, servers, n);
	natsStatus st = NATS_OK;
	if (r == 0 && (st = natsConnection_Connect(&t->nc, t->opts)) != NATS_OK) {
		wr_seterr("unable to reach NATS at %s: %s", s->path, natsStatus_GetText(st));
		wr_seterrkind(WR_E_LOCK_TIMEOUT);
		r = -1;
	}
	jsOptions jo;
	jsOptions_Init(&jo);
	jo.Wait = t->timeout_ms;
	if (r == 0 && (st = natsConnection_JetStream(&t->js, t->nc, &jo)) != NATS_OK)
		r = nats_err(s, "unable to use JetStream", st, 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* What is wrong with a stream's settings for a ledger, "" when nothing. */
void wr_nats_config_problems(const jsStreamConfig *c, const char *subject, int replicas, char *buf, size_t size)
{
	buf[0] = 0;
	size_t len = 0;
#define PROBLEM(...) (len += (size_t)snprintf(buf + len, len < size ? size - len : 0, __VA_ARGS__))
	int has_subject = 0;
	for (int i = 0; i < c->SubjectsLen; i++)
		has_subject |= !strcmp(c->Subjects[i], subject);
	if (!has_subject || c->SubjectsLen != 1)
		PROBLEM("%ssubjects must be exactly [%s]", len ? "; " : "", subject);
	if (c->Retention != js_LimitsPolicy)
		PROBLEM("%sretention must be limits (a ledger keeps every message)", len ? "; " : "");
	if (c->MaxMsgs > 0 || c->MaxBytes > 0 || c->MaxAge > 0 || c->MaxMsgsPerSubject > 0)
		PROBLEM("%smax_msgs, max_bytes, max_age and max_msgs_per_subject must be unlimited (the server would "
			"drop decisions)", len ? "; " : "");
	if (c->Storage != js_FileStorage)
		PROBLEM("%sstorage must be file (memory loses the ledger with the server)", len ? "; " : "");
	if (!c->DenyDelete || !c->DenyPurge)
		PROBLEM("%sdeny_delete and deny_purge must be set (no message of a ledger is ever removed)",
			len ? "; " : "");
	if (c->AllowRollup)
		PROBLEM("%sallow_rollup must be off", len ? "; " : "");
	if (c->Sealed || c->Mirror || c->SourcesLen)
		PROBLEM("%sa sealed stream, a mirror or a stream with sources cannot be written to", len ? "; " : "");
	if (replicas > 0 && c->Replicas != replicas)
		PROBLEM("%sit has %d replica%s, not %d", len ? "; " : "", (int)c->Replicas, c->Replicas == 1 ? "" : "s",
			replicas);
#undef PROBLEM
}

/* One wait of a loop that tries again (again()): SLICE_MS at most. */
static int64_t slice_ms(const struct wr_nats *t)
{
	return t->timeout_ms < SLICE_MS ? t->timeout_ms : SLICE_MS;
}

static jsOptions *slice_opts(const struct wr_nats *t, jsOptions *o)
{
	jsOptions_Init(o);
	o->Wait = slice_ms(t);
	return o;
}

static void pause_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Temporary failures (no answer: a server away, a leader being elected,
 * JetStream error 10008; no responders, which the client reports as
 * JetStream error 10076, "not enabled": a server whose JetStream is not
 * up yet after a restart) are tried again for six timeouts, each try
 * waiting SLICE_MS at most; never once a stop is pending (a signal to the
 * tool: it ends rather than wait for the servers). 1: try again (after a
 * pause), 0: give up. */
static int again(struct wr_store *s, int64_t *until, natsStatus st, jsErrCode jerr)
{
	if ((jerr && jerr != 10008 && !(jerr == 10076 && st == NATS_NO_RESPONDERS)) || st == NATS_CONNECTION_CLOSED ||
	    st == NATS_NOT_FOUND || wr_stop_pending())
		return 0;
	int64_t now = wr_mono_ms();
	if (!*until) {
		*until = now + 6 * s->nats->timeout_ms;
		if (getenv("WR_NATS_TRACE"))
			fprintf(stderr, "%s: %s: %s; trying again for %" PRId64 " ms\n", wr_prog, s->path,
				natsStatus_GetText(st), 6 * s->nats->timeout_ms);
	}
	if (now >= *until)
		return 0;
	pause_ms(200);
	return 1;
}

/* The stream's info; a missing stream is "no ledger". 0 or -1. */
static int stream_info(struct wr_store *s, jsStreamInfo **si)
{
	struct wr_nats *t = s->nats;
	jsErrCode jerr = 0;
	natsStatus st;
	int64_t until = 0;
	jsOptions o;
	while ((st = js_GetStreamInfo(si, t->js, t->stream, slice_opts(t, &o), &jerr)) != NATS_OK &&
	       again(s, &until, st, jerr))
		jerr = 0;
	if (st == NATS_OK)
		return 0;
	if (jerr == STREAM_NOT_FOUND || st == NATS_NOT_FOUND) {
		wr_seterr("no ledger at %s: the stream %s does not exist; create it with: wr-ledger init --ledger %s",
			  s->path, t->stream, s->path);
		wr_seterrkind(WR_E_NOLEDGER);
		return -1;
	}
	return nats_err(s, "unable to read the stream", st, jerr);
}

/* The handle's state and its connection. 0 or -1. */
static int nats_connect(struct wr_store *s)
{
	struct wr_nats *t = s->nats = wr_xcalloc(1, sizeof *t);
	t->pipe[0] = t->pipe[1] = -1;
	pthread_mutex_init(&t->mu, NULL);
	t->mu_init = 1;
	if (nats_load(s->path) < 0)
		return -1;
	t->timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *to = getenv("WR_NATS_TIMEOUT");
	int64_t ms;
	if (to && wr_dur_parse(to, &ms) == 0 && ms > 0)
		t->timeout_ms = ms;
	char **servers;
	int n;
	if (wr_nats_parse(s->path, &servers, &n, &t->stream) < 0) {
		wr_seterrkind(WR_E_INPUT);
		return -1;
	}
	t->subject = wr_xasprintf("wr.%s", t->stream);
	int r = connect_js(s, servers, n);
	for (int i = 0; i < n; i++)
		free(servers[i]);
	free(servers);
	return r;
}

/* Refuses a stream whose settings are not a ledger's (what is wrong). */
static int check_config(struct wr_store *s, const jsStreamConfig *c, int replicas)
{
	char why[1024];
	wr_nats_config_problems(c, s->nats->subject, replicas, why, sizeof why);
	if (!why[0])
		return 0;
	wr_seterr("refusing ledger %s: the stream %s is not set up for a ledger: %s", s->path, s->nats->stream, why);
	wr_seterrkind(WR_E_REFUSED);
	return -1;
}

/* The stream's info, its settings checked, its identity kept: 0 with
 * *first and *last; -1 (a missing stream: WR_E_NOLEDGER). */
static int stream_found(struct wr_store *s, uint64_t *first, uint64_t *last)
{
	jsStreamInfo *si = NULL;
	if (stream_info(s, &si) < 0)
		return -1;
	int r = check_config(s, si->Config, 0);
	*first = si->State.FirstSeq;
	*last = si->State.LastSeq;
	set_identity(s->nats, si);
	jsStreamInfo_Destroy(si);
	return r;
}

/* A reader's stream that did not exist at its open (an empty ledger,
 * WR_LEDGER_MISSING_OK), asked about again: 0 while it still does not, 1
 * once it does and is read (a new ledger, as a file created meanwhile),
 * -1 on another error. */
static int appeared(struct wr_store *s)
{
	uint64_t first, last;
	if (!s->nats->js)
		return 0;
	if (stream_found(s, &first, &last) < 0)
		return wr_errkind() == WR_E_NOLEDGER ? 0 : -1;
	return open_copy(s, first, last) < 0 ? -1 : 1;
}

int wr_nats_open(struct wr_store *s)
{
	if (nats_connect(s) < 0)
		return -1;
	uint64_t first, last;
	if (stream_found(s, &first, &last) < 0)
		return (s->flags & WR_LEDGER_MISSING_OK) && wr_errkind() == WR_E_NOLEDGER ? 0 : -1;
	if (s->flags & WR_LEDGER_WRITE) {
		/* This host's files of the ledger (output logs) go there. */
		char *local = wr_store_local(s->path), *slash = strrchr(local, '/');
		if (slash && slash != local)
			*slash = 0;
		if (wr_fs_mkdirs(local, 0700) < 0) {
			wr_seterrsys("unable to create directory %s", local);
			free(local);
			return -1;
		}
		free(local);
	}
	return open_copy(s, first, last) < 0 ? -1 : 0;
}

int wr_nats_init(struct wr_store *s, int replicas, int *created)
{
	if (nats_connect(s) < 0)
		return -1;
	struct wr_nats *t = s->nats;
	jsStreamInfo *si = NULL;
	if (stream_info(s, &si) == 0) {
		int r = check_config(s, si->Config, replicas);
		jsStreamInfo_Destroy(si);
		return r;
	}
	if (wr_errkind() != WR_E_NOLEDGER)
		return -1;
	jsStreamConfig c;
	jsStreamConfig_Init(&c);
	const char *subjects[] = {t->subject};
	c.Name = t->stream;
	c.Description = "wr ledger: one message per decision";
	c.Subjects = subjects;
	c.SubjectsLen = 1;
	c.Retention = js_LimitsPolicy;
	c.Storage = js_FileStorage;
	c.Discard = js_DiscardNew;
	c.Replicas = replicas > 0 ? replicas : 1;
	c.DenyDelete = true;
	c.DenyPurge = true;
	jsErrCode jerr = 0;
	natsStatus st = js_AddStream(&si, t->js, &c, NULL, &jerr);
	if (st != NATS_OK)
		return nats_err(s, "unable to create the stream", st, jerr);
	jsStreamInfo_Destroy(si);
	*created = 1;
	return 0;
}

void wr_nats_close(struct wr_store *s)
{
	struct wr_nats *t = s->nats;
	if (!t)
		return;
	if (getenv("WR_NATS_TRACE") && t->sub)
		fprintf(stderr, "%s: %s: %" PRIu64 " messages from the consumer, %" PRIu64 " fetched\n", wr_prog, s->path,
			t->pushed, t->fetched);
	unwatch(t);
	if (t->mu_init)
		pthread_mutex_destroy(&t->mu);
	if (t->js)
		jsCtx_Destroy(t->js);
	if (t->nc)
		natsConnection_Destroy(t->nc);
	if (t->opts)
		natsOptions_Destroy(t->opts);
	for (int i = 0; i < 2; i++)
		if (t->pipe[i] >= 0)
			close(t->pipe[i]);
	if (s->fd >= 0)
		close(s->fd);
	wr_ncache_free(t->cache);
	s->cache = NULL;
	free(t->cluster);
	free(t->stream);
	free(t->subject);
	free(t);
	s->nats = NULL;
}

/* Adds one message's bytes to fd; a message is a whole decision, so one
 * without its final newline gets one (its last line is then a bad line,
 * never a torn tail that would wait forever). */
static int keep(struct wr_store *s, const char *p, size_t n)
{
	struct wr_nats *t = s->nats;
	int nl = n == 0 || p[n - 1] != '\n';
	if (pwrite(s->fd, p, n, t->end) != (ssize_t)n || (nl && pwrite(s->fd, "\n", 1, t->end + (off_t)n) != 1)) {
		wr_seterrsys("unable to keep the messages of %s", s->path);
		return -1;
	}
	t->end += (off_t)(n + (size_t)nl);
	t->last_seq++;
	s->limit = t->end;
	if (t->cache)
		wr_ncache_kept(t->cache, p, n, t->end);
	return 0;
}

/* The copy on disk is no longer this process's to write (another made it
 * again, or it could not be written): the fd goes on as a copy of its own. */
static void leave_cache(struct wr_store *s)
{
	struct wr_nats *t = s->nats;
	if (getenv("WR_NATS_TRACE") && t->cache)
		fprintf(stderr, "%s: %s: the cache %s is left: %s\n", wr_prog, s->path, t->cache->path, wr_errmsg());
	wr_ncache_free(t->cache);
	t->cache = NULL;
	s->cache = NULL;
	/* What it holds goes to a memory file under the same fd number (the
	 * scanner reads through it), so that nothing is written to a file
	 * others may append to without the lock. Failing that, the bytes it
	 * would write there are the very bytes others write at the same
	 * offsets, and a copy longer than described is made again. */
	int m = memfd_create("wr-ledger", MFD_CLOEXEC);
	char *buf = m >= 0 ? wr_xmalloc(1 << 16) : NULL;
	off_t at = 0;
	while (buf && at < t->end) {
		size_t want = t->end - at < (1 << 16) ? (size_t)(t->end - at) : (1 << 16);
		ssize_t n = pread(s->fd, buf, want, at);
		if (n <= 0 || pwrite(m, buf, (size_t)n, at) != n)
			break;
		at += n;
	}
	free(buf);
	if (m >= 0 && at == t->end && dup3(m, s->fd, O_CLOEXEC) == s->fd)
		wr_store_identify(s);
	if (m >= 0)
		close(m);
}

/* Under the copy's lock: takes what other processes added to it. */
static int cache_begin(struct wr_store *s)
{
	struct wr_nats *t = s->nats;
	if (!t->cache)
		return 0;
	if (wr_ncache_lock(t->cache, s->lock_timeout_ms) < 0) {
		leave_cache(s);
		return 0;
	}
	if (wr_ncache_adopt(t->cache, s->fd, &t->last_seq, &t->end) < 0) {
		wr_seterr("it was made again by another process");
		leave_cache(s);
		return 0;
	}
	s->limit = t->end;
	return 1;
}

static void cache_end(struct wr_store *s)
{
	struct wr_nats *t = s->nats;
	if (!t->cache)
		return;
	if (wr_ncache_save(t->cache, s->fd) < 0) {
		leave_cache(s);
		return;
	}
	wr_ncache_unlock(t->cache);
}

/* From this many messages behind, the catch-up reads them through one
 * ordered consumer (delivered in order without a request each) rather than
 * one request per message. */
#define BULK_FROM 16
/* How often a reader fed by its consumer asks for the stream's info. */
#define CHECK_MS 5000

/* An ordered consumer of the stream from the message after last_seq:
 * delivered to cb on the library's thread, or, cb NULL, read with
 * natsSubscription_NextMsg. Signals blocked meanwhile (connect_js). */
static natsStatus subscribe_next(struct wr_store *s, natsSubscription **sub, natsMsgHandler cb)
{
	struct wr_nats *t = s->nats;
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = t->stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = t->last_seq + 1;
	jsErrCode jerr = 0;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	natsStatus st = cb ? js_Subscribe(sub, t->js, t->subject, cb, t, NULL, &so, &jerr)
			   : js_SubscribeSync(sub, t->js, t->subject, NULL, &so, &jerr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (st != NATS_OK)
		*sub = NULL;
	return st;
}

/* The consumer's next message, waited for the timeout at most, by slices
 * (a stop ends the wait). */
static natsStatus next_msg(const struct wr_nats *t, natsSubscription *sub, natsMsg **m)
{
	int64_t until = wr_mono_ms() + t->timeout_ms;
	natsStatus st;
	while ((st = natsSubscription_NextMsg(m, sub, slice_ms(t))) == NATS_TIMEOUT && !wr_stop_pending() &&
	       wr_mono_ms() < until)
		;
	return st;
}

/* Reads the messages after last_seq up to last through an ordered
 * consumer, as far as it gets: what it could not read (a server gone, a
 * leader being elected) is left to the reads one by one, which wait for
 * the cluster. -1 only when a message cannot be kept. */
static int fetch_bulk(struct wr_store *s, uint64_t last)
{
	struct wr_nats *t = s->nats;
	natsSubscription *sub = NULL;
	if (subscribe_next(s, &sub, NULL) != NATS_OK)
		return 0;
	int r = 0, more = 1;
	while (r == 0 && more && t->last_seq < last) {
		natsMsg *m = NULL;
		jsMsgMetaData *md = NULL;
		more = next_msg(t, sub, &m) == NATS_OK &&
		       natsMsg_GetMetaData(&md, m) == NATS_OK && md->Sequence.Stream == t->last_seq + 1;
		if (more && (r = keep(s, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m))) == 0)
			t->fetched++;
		if (md)
			jsMsgMetaData_Destroy(md);
		natsMsg_Destroy(m);
	}
	natsSubscription_Unsubscribe(sub); /* the consumer goes with it */
	natsSubscription_Destroy(sub);
	return r;
}

#ifdef WR_FAULT_INJECTION
/* The tests' fault hooks: 1 for the first N calls, N from the variable
 * name (*n starts at -1). */
static int fault_first(const char *name, long *n)
{
	if (*n < 0)
		*n = getenv(name) ? atol(getenv(name)) : 0;
	return *n > 0 && (*n)--;
}
/* WR_FAULT_NATS_READ=N: the first N reads of a message time out, as while
 * the stream's leader is being elected. */
static long fault_read_n = -1;
#define fault_read() fault_first("WR_FAULT_NATS_READ", &fault_read_n)
/* WR_FAULT_NATS_NOACK=N: the acknowledgments of the first N publishes
 * are lost: each is sent, and stored, then taken as never answered. */
static long fault_noack_n = -1;
#define fault_noack() fault_first("WR_FAULT_NATS_NOACK", &fault_noack_n)
#else
#define fault_read() 0
#define fault_noack() 0
#endif

/* The stream's message seq, each try waiting SLICE_MS at most, tried
 * again while the failure is temporary (again()): the library's status,
 * *jerr the JetStream error. */
static natsStatus get_msg(struct wr_store *s, uint64_t seq, natsMsg **m, jsErrCode *jerr)
{
	struct wr_nats *t = s->nats;
	natsStatus st;
	int64_t until = 0;
	jsOptions o;
	*jerr = 0;
	while ((st = fault_read() ? NATS_TIMEOUT : js_GetMsg(m, t->js, t->stream, seq, slice_opts(t, &o), jerr)) !=
		       NATS_OK &&
	       again(s, &until, st, *jerr))
		*jerr = 0;
	return st;
}

/* Fetches the messages after last_seq up to last into fd. 0 or -1. */
static int fetch(struct wr_store *s, uint64_t first, uint64_t last)
{
	struct wr_nats *t = s->nats;
	if (last > t->last_seq && first > t->last_seq + 1) {
		wr_seterr("the stream of %s has lost its messages %" PRIu64 " to %" PRIu64 " (deleted or purged): it is "
			  "no whole ledger", s->path, t->last_seq + 1, first - 1);
		return -1;
	}
	if (last - t->last_seq >= BULK_FROM && fetch_bulk(s, last) < 0)
		return -1;
	while (t->last_seq < last) {
		natsMsg *m = NULL;
		jsErrCode jerr;
		natsStatus st = get_msg(s, t->last_seq + 1, &m, &jerr);
		if (st != NATS_OK) {
			if (jerr == NO_MESSAGE_FOUND)
				wr_seterr("the stream of %s has lost its message %" PRIu64 " (deleted): it is no whole ledger",
					  s->path, t->last_seq + 1);
			return jerr == NO_MESSAGE_FOUND ? -1 : nats_err(s, "unable to read", st, jerr);
		}
		int r = keep(s, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
		natsMsg_Destroy(m);
		if (r < 0)
			return -1;
		t->fetched++;
	}
	return 0;
}

/* Whether the stream's message seq is the one the copy ends with (its
 * hash): 1 it is, 0 it is not (another message, or none there), -1 it
 * cannot be read (the servers away or electing a leader for six timeouts;
 * wr_errmsg says so). A copy that cannot be checked is not made again for
 * that: a new one would have to be fetched from the same servers. */
static int same_last(struct wr_store *s, uint64_t seq, uint64_t hash)
{
	natsMsg *m = NULL;
	jsErrCode jerr;
	natsStatus st = get_msg(s, seq, &m, &jerr);
	if (st != NATS_OK && jerr == NO_MESSAGE_FOUND)
		return 0;
	if (st != NATS_OK)
		return nats_err(s, "unable to read the message this host's copy of the stream ends with", st, jerr);
	int r = wr_snapshot_hash(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m)) == hash;
	natsMsg_Destroy(m);
	return r;
}

/* Under its lock: the copy on disk when it is one of this stream and goes
 * on in it (its last message the stream's at that sequence, nothing lost
 * before), else a new one. The fd, -1 (then none is used), or -2 when
 * the stream's message could not be read to check it (wr_errmsg). */
static int cache_open(struct wr_store *s, uint64_t first, uint64_t last)
{
	struct wr_nats *t = s->nats;
	struct wr_ncache *c = t->cache;
	const char *why = NULL;
	/* A handle that replays every decision (no state cache: verify,
	 * export) reads the whole copy anyway: it checks it whole first. */
	int fd = wr_ncache_load(c, !!(s->flags & WR_LEDGER_NOSNAP), &why), same = 1;
	if (fd >= 0 && c->m.seq > last)
		why = "the stream is shorter than the cache";
	else if (fd >= 0 && c->m.seq && first > 1)
		why = "the stream lost its first messages (purged)";
	else if (fd >= 0 && c->m.seq && (same = same_last(s, c->m.seq, c->m.last_hash)) <= 0)
		why = "its last message is not the stream's";
	else if (fd >= 0)
		why = NULL;
	if (same < 0) {
		close(fd);
		return -2;
	}
	if (fd >= 0 && why) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		t->rebuilt = why;
		fd = wr_ncache_create(c);
	}
	return fd;
}

/* The messages of the stream, up to last, in fd: the copy on disk when
 * there is one to use, with what it lacks fetched; else a memory file. */
static int open_copy(struct wr_store *s, uint64_t first, uint64_t last)
{
	struct wr_nats *t = s->nats;
	t->end = 0;
	t->last_seq = t->cached = t->fetched = 0;
	t->rebuilt = NULL;
	s->cache = NULL;
	t->cache = wr_ncache_new(t->stream, t->cluster, t->created);
	int fd = t->cache && wr_ncache_lock(t->cache, s->lock_timeout_ms) == 0 ? cache_open(s, first, last) : -1;
	if (fd == -2) {
		wr_ncache_free(t->cache);
		t->cache = NULL;
		s->fd = -1;
		return -1;
	}
	if (fd >= 0) {
		s->fd = fd;
		t->end = t->cache->m.size;
		t->last_seq = t->cached = t->cache->m.seq;
		s->cache = t->cache->path;
	} else {
		if (t->cache && getenv("WR_NATS_TRACE"))
			fprintf(stderr, "%s: %s: no cache: %s\n", wr_prog, s->path, wr_errmsg());
		wr_ncache_free(t->cache);
		t->cache = NULL;
		s->fd = memfd_create("wr-ledger", MFD_CLOEXEC);
		if (s->fd < 0) {
			wr_seterrsys("unable to keep the messages of %s", s->path);
			return -1;
		}
	}
	s->limit = t->end;
	wr_store_identify(s);
	int r = fetch(s, first, last);
	cache_end(s);
	if (getenv("WR_NATS_TRACE"))
		fprintf(stderr, "%s: %s: %" PRIu64 " cached, %" PRIu64 " fetched%s%s%s\n", wr_prog, s->path, t->cached,
			t->fetched, t->rebuilt ? " (cache made again: " : "", t->rebuilt ? t->rebuilt : "",
			t->rebuilt ? ")" : "");
	return r;
}

/* The stream's identity from its info (a new one: created again). */
static int same_stream(struct wr_nats *t, const jsStreamInfo *si)
{
	const char *cl = si->Cluster && si->Cluster->Name ? si->Cluster->Name : "";
	return si->Created == t->created && t->cluster && !strcmp(cl, t->cluster);
}

static void set_identity(struct wr_nats *t, const jsStreamInfo *si)
{
	free(t->cluster);
	t->cluster = wr_xstrdup(si->Cluster && si->Cluster->Name ? si->Cluster->Name : "");
	t->created = si->Created;
}

int wr_nats_catch_up(struct wr_store *s, off_t off)
{
	struct wr_nats *t = s->nats;
	(void)off;
	if (s->fd < 0)
		return appeared(s); /* no stream at the open (a reader's empty ledger) */
	if (t->sub && !natsSubscription_IsValid(t->sub))
		unwatch(t); /* the library gave up on it: a new one at the next wait */
	if (t->sub && pushed_any(t)) {
		cache_begin(s);
		int r = take_pushed(s);
		cache_end(s);
		if (r < 0)
			return -1;
	}
	/* A reader that follows the consumer asks the stream itself now and
	 * then only (a message the consumer missed, a stream created again);
	 * a writer always, before it decides. */
	int64_t now = wr_mono_ms();
	if (t->sub && !(s->flags & WR_LEDGER_WRITE) && !s->locked && now - t->checked_ms < CHECK_MS)
		return 0;
	t->checked_ms = now;
	jsStreamInfo *si = NULL;
	if (stream_info(s, &si) < 0)
		return -1;
	uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
	int same = same_stream(t, si);
	if (!same)
		set_identity(t, si);
	jsStreamInfo_Destroy(si);
	if (!same || last < t->last_seq) {
		/* Another stream (deleted and created again): its own copy. */
		unwatch(t);
		wr_ncache_free(t->cache);
		t->cache = NULL;
		close(s->fd);
		return open_copy(s, first, last) < 0 ? -1 : 1;
	}
	if (last == t->last_seq)
		return 0;
	cache_begin(s);
	uint64_t before = t->fetched;
	int r = fetch(s, first, last);
	cache_end(s);
	/* A reader's consumer that missed messages (its server lost, and the
	 * library could not start it again): a new one from here. */
	if (t->sub && t->fetched > before && !(s->flags & WR_LEDGER_WRITE))
		unwatch(t);
	return r;
}

/* One publish of the decision expecting the stream to end at expect.
 * Returns the library's status; *seq the acknowledged sequence. */
static natsStatus publish_once(struct wr_store *s, const char *p, size_t n, uint64_t expect, const char *msgid,
			       uint64_t *seq, jsErrCode *jerr)
{
	struct wr_nats *t = s->nats;
	natsMsg *m = NULL;
	char ex[32];
	snprintf(ex, sizeof ex, "%" PRIu64, expect);
	/* Set by hand: jsPubOptions.ExpectLastSeq cannot say "an empty stream". */
	natsStatus st = natsMsg_Create(&m, t->subject, NULL, p, (int)n);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Nats-Expected-Last-Sequence", ex);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Nats-Msg-Id", msgid);
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = slice_ms(t); /* unanswered: sent again (again()), stored once */
	jsPubAck *pa = NULL;
	*jerr = 0;
	if (st == NATS_OK)
		st = js_PublishMsg(&pa, t->js, m, &po, jerr);
	if (st == NATS_OK && fault_noack())
		st = NATS_TIMEOUT;
	if (st == NATS_OK)
		*seq = pa->Sequence;
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	return st;
}

/* Whether the message at seq is the one published with msgid: 1 it is,
 * 0 it is not (or there is none), -1 it cannot be read (the servers away
 * for six timeouts, tried again as the other requests are). */
static int is_ours(struct wr_store *s, uint64_t seq, const char *msgid)
{
	natsMsg *m = NULL;
	const char *id = NULL;
	jsErrCode jerr;
	natsStatus st = get_msg(s, seq, &m, &jerr);
	if (st != NATS_OK)
		return jerr == NO_MESSAGE_FOUND ? 0 : -1;
	int r = natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id && !strcmp(id, msgid);
	natsMsg_Destroy(m);
	return r;
}

/* A decision sent and never answered, as far as this handle knows: in
 * the stream or not. -1. */
static int unanswered(struct wr_store *s, const char *why, uint64_t seq, const char *msgid)
{
	wr_seterr("lost NATS %s while appending a decision (%s): whether it is in the stream (as message %" PRIu64
		  ", Nats-Msg-Id %s) is not known; see with: wr-ledger export --ledger %s",
		  s->path, why, seq, msgid, s->path);
	wr_seterrkind(WR_E_LOCK_TIMEOUT);
	s->unknown = 1;
	return -1;
}

int wr_nats_append(struct wr_store *s, const char *p, size_t n, off_t at)
{
	struct wr_nats *t = s->nats;
	if (at != t->end)
		return WR_STORE_CONFLICT;
	uint64_t expect = t->last_seq, seq = 0;
	unsigned char r[12];
	wr_random_bytes(r, sizeof r);
	char msgid[64];
	snprintf(msgid, sizeof msgid, "wr-%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
		 r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
	/* No answer (a lost connection, a leader being elected): the same
	 * message again, whose id the server remembers (its duplicate window):
	 * stored once either way. */
	int64_t until = 0;
	int unknown = 0;
	s->unknown = 0;
	for (;;) {
		jsErrCode jerr = 0;
		natsStatus st = publish_once(s, p, n, expect, msgid, &seq, &jerr);
		if (st == NATS_OK)
			break;
		/* Another writer came first, unless an earlier try of ours that
		 * went unanswered is the one there; when that cannot be read,
		 * it is not known. */
		int ours = jerr == WRONG_LAST_SEQ && unknown ? is_ours(s, expect + 1, msgid) : 0;
		if (ours < 0)
			return unanswered(s, "a message is there that cannot be read", expect + 1, msgid);
		if (jerr == WRONG_LAST_SEQ && !ours)
			return WR_STORE_CONFLICT;
		if (jerr == WRONG_LAST_SEQ) {
			seq = expect + 1;
			break;
		}
		unknown |= !jerr; /* no answer: stored or not, not known yet */
		if (!again(s, &until, st, jerr))
			return unknown ? unanswered(s, natsStatus_GetText(st), expect + 1, msgid)
				       : nats_err(s, "unable to append", st, jerr);
	}
	if (seq != expect + 1) {
		wr_seterr("NATS %s stored the decision as message %" PRIu64 ", not %" PRIu64 " as it was asked to",
			  s->path, seq, expect + 1);
		return -1;
	}
	/* Another process here may have fetched it into the copy already,
	 * and more after it: this handle reads up to its own decision only,
	 * as a file's writer that holds the lock. */
	off_t mine = at + (off_t)n + (n == 0 || p[n - 1] != '\n');
	int rc = 0;
	if (cache_begin(s) && t->last_seq > expect) {
		t->last_seq = expect + 1;
		t->end = s->limit = mine;
	} else {
		rc = keep(s, p, n);
	}
	cache_end(s);
	return rc;
}

/* The library's thread: a message of the consumer, queued in order. */
static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	(void)nc;
	(void)sub;
	struct wr_nats *t = closure;
	pthread_mutex_lock(&t->mu);
	WR_GROW(t->q, t->qcap, t->qn + 1);
	t->q[t->qn++] = msg;
	pthread_mutex_unlock(&t->mu);
	(void)!write(t->pipe[1], "", 1);
}

/* The consumer goes (the server's with it), and what it queued. */
static void unwatch(struct wr_nats *t)
{
	if (t->sub) {
		natsSubscription_Unsubscribe(t->sub);
		natsSubscription_Destroy(t->sub);
		t->sub = NULL;
	}
	if (!t->mu_init)
		return;
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->qn; i++)
		natsMsg_Destroy(t->q[i]);
	free(t->q);
	t->q = NULL;
	t->qn = t->qcap = 0;
	pthread_mutex_unlock(&t->mu);
}

/* Keeps what the consumer delivered, in sequence: one seen already is
 * dropped (a consumer started again delivers from where it was told), a
 * gap is fetched first. 0 or -1. */
static int take_pushed(struct wr_store *s)
{
	struct wr_nats *t = s->nats;
	pthread_mutex_lock(&t->mu);
	natsMsg **q = t->q;
	size_t n = t->qn;
	t->q = NULL;
	t->qn = t->qcap = 0;
	pthread_mutex_unlock(&t->mu);
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		jsMsgMetaData *md = NULL;
		if (r == 0 && natsMsg_GetMetaData(&md, q[i]) == NATS_OK && md->Sequence.Stream > t->last_seq) {
			uint64_t seq = md->Sequence.Stream;
			if (seq > t->last_seq + 1)
				r = fetch(s, t->last_seq + 1, seq - 1);
			if (r == 0 && (r = keep(s, natsMsg_GetData(q[i]), (size_t)natsMsg_GetDataLength(q[i]))) == 0)
				t->pushed++;
		}
		if (md)
			jsMsgMetaData_Destroy(md);
		natsMsg_Destroy(q[i]);
	}
	free(q);
	return r;
}

/* 1 when the consumer queued messages. */
static int pushed_any(struct wr_nats *t)
{
	pthread_mutex_lock(&t->mu);
	int r = t->qn > 0;
	pthread_mutex_unlock(&t->mu);
	return r;
}

int wr_nats_watch(struct wr_store *s)
{
	struct wr_nats *t = s->nats;
	if (!t || !t->js || s->fd < 0)
		return -1;
	if (t->sub)
		return t->pipe[0];
	if (t->pipe[0] < 0 && pipe2(t->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	if (wr_stop_pending())
		return -1; /* no new consumer for a follower that is ending */
	if (subscribe_next(s, &t->sub, on_msg) != NATS_OK) {
		t->sub = NULL;
		return -1;
	}
	if (getenv("WR_NATS_TRACE"))
		fprintf(stderr, "%s: %s: following from message %" PRIu64 "\n", wr_prog, s->path, t->last_seq + 1);
	return t->pipe[0];
}

void wr_nats_watch_drain(struct wr_store *s)
{
	char buf[256];
	while (s->nats && s->nats->pipe[0] >= 0 && read(s->nats->pipe[0], buf, sizeof buf) > 0)
		;
}
