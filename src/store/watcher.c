/*
 * The watcher; see watcher.h.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "etcd/etcd.h"
#include "store/replica.h"
#include "store/snapshot_fetch.h"
#include "store/store.h"
#include "store/watcher.h"

/*
 * Keys per range of a snapshot. etcd counts every key left in the range
 * (of its segment, snapshot_fetch.h) for each page it answers, so a
 * snapshot costs it pages x keys: with 1000 a page, 200,000 keys took 11
 * to 15 s on the benchmark machine, with 10,000 about 5 s. A page of users
 * is about 3 MB of JSON.
 */
#define SNAPSHOT_PAGE 10000
/*
 * And bytes of keys and values per range, about: pages of 10,000 users
 * (about 2 MB) stay whole, while large values come a few at a time.
 */
#define SNAPSHOT_PAGE_BYTES (8 * 1024 * 1024)
#define HEARTBEAT_US 200000
#define WATCH_IDLE_MS 1000
#define RETRY_MIN_US 100000
#define RETRY_MAX_US 1000000

/* Set by the handler, read by both threads: atomic, not just volatile. */
static volatile sig_atomic_t stopping;
static volatile sig_atomic_t reopen_log;	/* SIGUSR1: log rotation */

struct watcher {
	struct etcd_client	*etcd;
	struct etcd_client	*fetchers[SNAPSHOT_FETCHERS];	/* snapshots only */
	struct replica		*replica;
	char			*prefix;
	size_t			 prefix_len;
	char			*prefix_end;
	size_t			 prefix_end_len;
	int64_t			 applied;
	int			 watching;	/* inside etcd_watch: the stream is up */
	int64_t			 pruned_at_us;	/* monotonic: audit rows last pruned */
};

static void
on_signal(int signo)
{
	if (signo == SIGUSR1)
		reopen_log = 1;
	else
		__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
}

static int
is_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_RELAXED);
}

static void
sleep_us(int64_t us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void
publish_applied(struct watcher *w)
{
	struct shared_replica *sr = &shared()->replica;
	int64_t now = clock_monotonic_us();

	/* Released: a reader that sees this revision sees what was committed. */
	__atomic_store_n(&sr->revision, w->applied, __ATOMIC_RELEASE);
	__atomic_store_n(&sr->current_at_us, now, __ATOMIC_RELAXED);
	__atomic_store_n(&sr->heard_at_us, now, __ATOMIC_RELAXED);
	__atomic_store_n(&sr->etcd_up, 1, __ATOMIC_RELAXED);
}

/*
 * etcd's kv as a replica row, key made relative; 0 when outside the prefix
 * or unusable. The replica and everything above it keep keys as C strings:
 * "config/a\0x", written into etcd through its gateway, would stand for
 * "config/a" and overwrite (or delete) it. It is left out, and logged.
 */
static int
row_from_kv(struct watcher *w, const struct etcd_kv *kv, struct replica_row *row)
{
	if (kv->key_len < w->prefix_len ||
	    memcmp(kv->key, w->prefix, w->prefix_len) != 0)
		return 0;
	if (memchr(kv->key, '\0', kv->key_len) != NULL) {
		log_warn("etcd key %.200s\\0... holds a NUL byte: not replicated",
		    kv->key);
		return 0;
	}
	memset(row, 0, sizeof(*row));
	row->key = kv->key + w->prefix_len;
	row->value = kv->value ? kv->value : "";
	row->value_len = kv->value_len;
	row->create_revision = kv->create_revision;
	row->mod_revision = kv->mod_revision;
	row->version = kv->version;
	row->lease = kv->lease;
	row->updated_at = clock_realtime_us();
	return 1;
}

/* What load_snapshot's pages go to. */
struct snapshot_load {
	struct watcher		*watcher;
	struct replica_row	*rows;
	size_t			 total;
	int64_t			 stored_us;	/* time spent storing pages */
	size_t			 pages;
	size_t			 largest;	/* bytes of keys and values in a page */
};

static int
store_page(void *ctx, const struct etcd_range_result *page)
{
	struct snapshot_load *load = ctx;
	int64_t started = clock_monotonic_us();
	size_t i, n = 0, bytes = snapshot_page_bytes(page);

	for (i = 0; i < page->count; i++)
		n += (size_t)row_from_kv(load->watcher, &page->kvs[i], &load->rows[n]);
	load->pages++;
	if (bytes > load->largest)
		load->largest = bytes;
	if (replica_snapshot_add(load->watcher->replica, load->rows, n) == -1)
		return -1;
	load->total += n;
	load->stored_us += clock_monotonic_us() - started;
	return 0;
}

/* Load every key under the prefix as of one revision. */
static int
load_snapshot(struct watcher *w)
{
	struct snapshot_range range = { w->prefix, w->prefix_len, w->prefix_end,
	    w->prefix_end_len, SNAPSHOT_PAGE, SNAPSHOT_PAGE_BYTES };
	struct snapshot_load load = { w, NULL, 0, 0, 0, 0 };
	int64_t revision = 0, started = clock_monotonic_us(), fetched;
	int rc = -1;

	load.rows = xcalloc(SNAPSHOT_PAGE, sizeof(*load.rows));
	if (replica_snapshot_begin(w->replica) == -1 ||
	    snapshot_fetch(w->etcd, w->fetchers, &range, store_page, &load,
	    &revision) == -1)
		goto done;
	fetched = clock_monotonic_us();
	if (replica_snapshot_commit(w->replica, revision) == -1)
		goto done;
	w->applied = revision;
	__atomic_store_n(&shared()->replica.snapshot_loaded, 1, __ATOMIC_RELAXED);
	publish_applied(w);
	log_info("snapshot loaded: %zu keys at revision %lld in %lld ms (read in"
	    " %lld ms, %lld ms of it storing pages; %zu pages, the largest %zu KB)",
	    load.total, (long long)revision,
	    (long long)(clock_monotonic_us() - started) / 1000,
	    (long long)(fetched - started) / 1000, (long long)load.stored_us / 1000,
	    load.pages, load.largest / 1024);
	rc = 0;
done:
	free(load.rows);
	return rc;
}

/*
 * The audit rows this node derived without a record (changes made by
 * hand, lapsed leases) have no etcd key whose lease ends them: they go
 * after audit.retention, looked for every quarter of it (a minute at most).
 */
static void
prune_audit(struct watcher *w)
{
	int64_t retention = conf.audit.retention, every, now = clock_monotonic_us();

	if (retention <= 0)
		return;
	every = retention / 4 > 60 ? 60 : retention / 4 < 1 ? 1 : retention / 4;
	if (now - w->pruned_at_us < every * 1000000)
		return;
	w->pruned_at_us = now;
	if (replica_audit_prune(w->replica, clock_realtime_us() - retention * 1000000) == -1)
		log_warn("replica: could not drop old audit rows; trying again later");
}

/*
 * Work the replica leaves for quiet moments (the users index's merges),
 * a bounded amount each time: changes that arrive meanwhile wait for it.
 */
#define TIDY_BUDGET_US 200000

static void
tidy(struct watcher *w)
{
	if (replica_compact(w->replica, TIDY_BUDGET_US) == -1)
		log_warn("replica: could not tidy the users index; trying again later");
	prune_audit(w);
}

static int
apply_batch(void *ctx, int64_t revision, const struct etcd_event *events,
    size_t count)
{
	struct watcher *w = ctx;
	struct replica_event *batch = xcalloc(count ? count : 1, sizeof(*batch));
	int64_t upto = count == 0 ? revision : 0;
	size_t i, n = 0;

	for (i = 0; i < count; i++) {
		if (events[i].kv.mod_revision > upto)
			upto = events[i].kv.mod_revision;
		if (!row_from_kv(w, &events[i].kv, &batch[n].row))
			continue;
		batch[n].deleted = events[i].type == ETCD_EVENT_DELETE;
		n++;
	}
	if (upto < w->applied)
		upto = w->applied;
	if (replica_apply_events(w->replica, upto, batch, n, conf.replica.history) == -1) {
		free(batch);
		log_error("could not apply %zu events; watching again", n);
		return -1;
	}
	free(batch);
	w->applied = upto;
	__atomic_fetch_add(&shared()->replica.events_applied, n, __ATOMIC_RELAXED);
	publish_applied(w);
	/* A progress notification: a quiet moment to tidy the index. */
	if (count == 0)
		tidy(w);
	return is_stopping() ? 1 : 0;
}

/*
 * What the heartbeat makes of etcd, and has told the log: one line when
 * etcd goes down, one when it is back (the pool's one heartbeat writes
 * them, so they come once per node). The first contact is no news.
 */
struct beat {
	enum { SEEN_NOTHING, SEEN_UP, SEEN_DOWN } seen;
	int		 failures;
	int64_t		 down_at_us;
	/* The last failure that reached etcd, not a refusal of the breaker. */
	char		 last_error[sizeof(((struct etcd_error *)0)->message)];
};

static void
beat_failed(struct beat *b, struct etcd_client *client,
    const struct etcd_error *error)
{
	if (!error->not_sent)
		snprintf(b->last_error, sizeof(b->last_error), "%s", error->message);
	if (++b->failures < 2)
		return;
	__atomic_store_n(&shared()->replica.etcd_up, 0, __ATOMIC_RELAXED);
	if (b->seen == SEEN_DOWN)
		return;
	b->seen = SEEN_DOWN;
	b->down_at_us = clock_monotonic_us();
	/* Messages name the endpoint without its credentials (etcd.h). */
	if (b->last_error[0] != '\0')
		log_warn("etcd down: %s", b->last_error);
	else
		log_warn("etcd down: %s: %s", etcd_endpoint(client), error->message);
}

static void
beat_answered(struct beat *b, struct etcd_client *client,
    const struct etcd_status_result *status)
{
	if (b->seen == SEEN_DOWN)
		log_info("etcd up: %s answered (etcd %s, revision %lld) after %.1f s "
		    "down", etcd_endpoint(client), status->version,
		    (long long)status->revision,
		    (double)(clock_monotonic_us() - b->down_at_us) / 1e6);
	b->seen = SEEN_UP;
	b->failures = 0;
	b->last_error[0] = '\0';
}

/* Answers from etcd keep the health figures honest while nothing changes. */
static void *
heartbeat(void *arg)
{
	struct watcher *w = arg;
	struct etcd_options options;
	struct etcd_client *client;
	struct beat beat;
	char password[256];

	memset(&beat, 0, sizeof(beat));
	store_etcd_options(&options, password, sizeof(password));
	client = etcd_client_new(&options);
	explicit_bzero(password, sizeof(password));
	while (!is_stopping()) {
		struct shared_replica *sr = &shared()->replica;
		struct etcd_status_result status;
		struct etcd_error error;
		int64_t now;

		etcd_set_deadline(client, clock_monotonic_us() + 1000000);
		if (etcd_status(client, &status, &error) == ETCD_OK) {
			now = clock_monotonic_us();
			beat_answered(&beat, client, &status);
			__atomic_store_n(&sr->etcd_up, 1, __ATOMIC_RELAXED);
			__atomic_store_n(&sr->heard_at_us, now, __ATOMIC_RELAXED);
			if (__atomic_load_n(&w->watching, __ATOMIC_RELAXED) ||
			    status.revision <= __atomic_load_n(&sr->revision, __ATOMIC_RELAXED))
				__atomic_store_n(&sr->current_at_us, now, __ATOMIC_RELAXED);
		} else {
			beat_failed(&beat, client, &error);
		}
		sleep_us(HEARTBEAT_US);
	}
	etcd_client_free(client);
	return NULL;
}

/*
 * Watch from the revision after the applied one until it breaks: 0 to
 * watch again at once, -1 after a failure (back off), 1 to resync. A quiet
 * range ends the stream every WATCH_IDLE_MS (the idle timeout is how a
 * dead connection is noticed): a stream that lived that long is no failure
 * to back off from, or every change made during the back-off (grown to a
 * second) would reach the replica, and its watches, that much later.
 */
static int
watch_once(struct watcher *w)
{
	int64_t started = clock_monotonic_us();
	struct etcd_error error;
	enum etcd_status rc;

	__atomic_store_n(&w->watching, 1, __ATOMIC_RELAXED);
	rc = etcd_watch(w->etcd, w->prefix, w->prefix_len, w->prefix_end,
	    w->prefix_end_len, w->applied + 1, WATCH_IDLE_MS, apply_batch, w, &error);
	__atomic_store_n(&w->watching, 0, __ATOMIC_RELAXED);
	switch (rc) {
	case ETCD_OK:
		return 0;
	case ETCD_COMPACTED:
		log_warn("watch: revision %lld was compacted (%s); resyncing",
		    (long long)w->applied + 1, error.message);
		__atomic_fetch_add(&shared()->replica.resyncs, 1, __ATOMIC_RELAXED);
		return 1;
	case ETCD_UNAVAILABLE:
	case ETCD_NOT_FOUND:
	case ETCD_ERROR:
	case ETCD_UNKNOWN:
		break;
	}
	if (clock_monotonic_us() - started >= (int64_t)WATCH_IDLE_MS * 1000)
		return 0;
	return -1;
}

static void
watch_forever(struct watcher *w)
{
	int64_t retry = RETRY_MIN_US;
	int need_snapshot = !replica_snapshot_complete(w->replica);

	while (!is_stopping()) {
		int rc;

		if (reopen_log) {
			reopen_log = 0;
			log_reopen();
		}
		if (need_snapshot) {
			if (load_snapshot(w) == -1) {
				sleep_us(retry);
				retry = retry * 2 > RETRY_MAX_US ? RETRY_MAX_US : retry * 2;
				continue;
			}
			need_snapshot = 0;
		}
		rc = watch_once(w);
		/* The watch ended: idle, or broken; either way a quiet moment. */
		tidy(w);
		if (rc == 1) {
			need_snapshot = 1;
		} else if (rc == -1) {
			sleep_us(retry);
			retry = retry * 2 > RETRY_MAX_US ? RETRY_MAX_US : retry * 2;
		} else {
			retry = RETRY_MIN_US;
		}
	}
}

int
watcher_run(void)
{
	struct watcher w;
	struct etcd_options options;
	struct sigaction sa;
	pthread_t beat;
	char password[256], err[512];
	size_t i;

	memset(&w, 0, sizeof(w));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* The master forwards SIGUSR1 for log rotation: reopen, don't die. */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	log_set_role("watcher");
	__atomic_store_n(&shared()->pool.watcher_pid, (int32_t)getpid(), __ATOMIC_RELAXED);
	if ((w.replica = replica_open(conf.replica.path, err, sizeof(err))) == NULL) {
		log_error("replica: %s", err);
		return 1;
	}
	replica_applied_revision(w.replica, &w.applied);
	if (replica_snapshot_complete(w.replica)) {
		__atomic_store_n(&shared()->replica.snapshot_loaded, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&shared()->replica.revision, w.applied, __ATOMIC_RELAXED);
	}
	store_etcd_options(&options, password, sizeof(password));
	/*
	 * A watch holds the breaker's probe for as long as it streams; the
	 * watcher retries with its own backoff and leaves probing to the
	 * heartbeat.
	 */
	options.use_breaker = 0;
	w.etcd = etcd_client_new(&options);
	for (i = 0; i < SNAPSHOT_FETCHERS; i++)
		w.fetchers[i] = etcd_client_new(&options);
	explicit_bzero(password, sizeof(password));
	w.prefix = conf.etcd.prefix;
	w.prefix_len = strlen(conf.etcd.prefix);
	w.prefix_end = etcd_prefix_end(w.prefix, w.prefix_len, &w.prefix_end_len);
	if (pthread_create(&beat, NULL, heartbeat, &w) != 0) {
		log_error("cannot start the heartbeat thread");
		return 1;
	}
	log_info("watching %s from revision %lld", w.prefix, (long long)w.applied);
	watch_forever(&w);
	pthread_join(beat, NULL);
	free(w.prefix_end);
	etcd_client_free(w.etcd);
	for (i = 0; i < SNAPSHOT_FETCHERS; i++)
		etcd_client_free(w.fetchers[i]);
	replica_close(w.replica);
	return 0;
}
