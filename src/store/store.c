/*
 * The store; see store.h for the contract every resource relies on.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "etcd/breaker.h"
#include "etcd/etcd.h"
#include "store/audit.h"
#include "store/replica.h"
#include "store/store.h"
#include "store/store_cache.h"
#include "store/user_doc.h"
#include "store/user_index.h"
#include "store/store_impl.h"

static struct {
	struct etcd_client	*etcd;
	struct replica		*replica;
	int			 ready;		/* a snapshot was seen: stays true */
	int			 remote;	/* etcd alone, no replica (dynconfctl) */
} store;

void
store_etcd_options(struct etcd_options *o, char *password, size_t password_len)
{
	memset(o, 0, sizeof(*o));
	o->endpoints = conf.etcd.endpoints;
	o->timeout_ms = conf.etcd.timeout;
	o->use_breaker = 1;
	if (conf.etcd.username[0] != '\0') {
		FILE *fp = fopen(conf.etcd.password_file, "r");

		password[0] = '\0';
		if (fp == NULL) {
			log_error("etcd.password_file %s: %s", conf.etcd.password_file,
			    strerror(errno));
		} else {
			if (fgets(password, (int)password_len, fp) != NULL)
				password[strcspn(password, "\r\n")] = '\0';
			fclose(fp);
		}
		o->username = conf.etcd.username;
		o->password = password;
	}
	if (conf.etcd.ca_file[0] != '\0')
		o->ca_file = conf.etcd.ca_file;
	if (conf.etcd.cert_file[0] != '\0')
		o->cert_file = conf.etcd.cert_file;
	if (conf.etcd.key_file[0] != '\0')
		o->key_file = conf.etcd.key_file;
}

int
store_open(void)
{
	struct etcd_options options;
	char password[256], err[512];

	if (store.replica != NULL || store.remote)
		return 0;
	store_etcd_options(&options, password, sizeof(password));
	store.etcd = etcd_client_new(&options);
	explicit_bzero(password, sizeof(password));
	store.replica = replica_open(conf.replica.path, err, sizeof(err));
	if (store.replica == NULL) {
		log_error("replica: %s", err);
		return -1;
	}
	return 0;
}

int
store_open_remote(void)
{
	struct etcd_options options;
	char password[256];

	if (store.etcd != NULL)
		return 0;
	store_etcd_options(&options, password, sizeof(password));
	/* One command, one try: no pool-wide breaker to consult. */
	options.use_breaker = 0;
	store.etcd = etcd_client_new(&options);
	explicit_bzero(password, sizeof(password));
	store.remote = 1;
	return store.etcd != NULL ? 0 : -1;
}

void
store_close(void)
{
	replica_close(store.replica);
	etcd_client_free(store.etcd);
	store_cache_clear();
	memset(&store, 0, sizeof(store));
}

struct replica *
store_replica(void)
{
	return store.replica;
}

int
store_etcd_up(void)
{
	return __atomic_load_n(&shared()->replica.etcd_up, __ATOMIC_RELAXED) &&
	    breaker_state() != BREAKER_OPEN;
}

int64_t
store_replica_revision(void)
{
	return __atomic_load_n(&shared()->replica.revision, __ATOMIC_RELAXED);
}

int
store_ready(void)
{
	if (store.ready)
		return 1;
	if (store.remote)
		return 0;
	if (__atomic_load_n(&shared()->replica.snapshot_loaded, __ATOMIC_RELAXED) ||
	    (store_open() == 0 && replica_snapshot_complete(store.replica)))
		store.ready = 1;
	return store.ready;
}

struct store_generation
store_generation(void)
{
	struct store_generation g;

	g.revision = __atomic_load_n(&shared()->replica.revision, __ATOMIC_ACQUIRE);
	g.writes = __atomic_load_n(&shared()->replica.local_writes, __ATOMIC_ACQUIRE);
	return g;
}

int
store_generation_current(const struct store_generation *generation)
{
	struct store_generation now = store_generation();

	return now.revision == generation->revision && now.writes == generation->writes;
}

static void
count_cache(enum cache_state cache)
{
	struct shared_metrics *m = &shared()->metrics;
	uint64_t *counter = cache == CACHE_HIT ? &m->cache_hit :
	    cache == CACHE_STALE ? &m->cache_stale : &m->cache_bypass;

	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

void
store_count_cached_read(struct store_ctx *ctx)
{
	ctx->cache = store_etcd_up() ? CACHE_HIT : CACHE_STALE;
	count_cache(ctx->cache);
}

char *
store_full_key(struct store_ctx *ctx, const char *key, size_t *len)
{
	char *k = arena_concat(ctx->arena, conf.etcd.prefix, key, (char *)NULL);

	*len = strlen(k);
	return k;
}

/*
 * One etcd call may take etcd.timeout, and never past the request's own
 * deadline: a write stuck behind a lost leader gives up (503) in time for
 * the client's next attempt to find the new one.
 */
static int64_t
call_deadline(const struct store_ctx *ctx)
{
	int64_t own = clock_monotonic_us() + (int64_t)conf.etcd.timeout * 1000;

	return ctx->deadline_us > 0 && ctx->deadline_us < own ? ctx->deadline_us : own;
}

struct etcd_client *
store_etcd_for(const struct store_ctx *ctx)
{
	if (store_open() == -1)
		return NULL;
	etcd_set_deadline(store.etcd, call_deadline(ctx));
	return store.etcd;
}

enum store_result
store_etcd_failure(const struct etcd_error *error, const char *what)
{
	switch (error->status) {
	case ETCD_UNAVAILABLE:
		return STORE_UNAVAILABLE;
	case ETCD_UNKNOWN:
		/* The client may have been told nothing: the operator learns why. */
		log_warn("etcd %s: %s", what, error->message);
		return STORE_OUTCOME_UNKNOWN;
	case ETCD_OK:
	case ETCD_COMPACTED:
	case ETCD_NOT_FOUND:
	case ETCD_ERROR:
		break;
	}
	log_error("etcd %s: %s", what, error->message);
	return STORE_FAILED;
}

void
store_item_from_kv(struct store_ctx *ctx, const struct etcd_kv *kv,
    struct store_item *item)
{
	size_t plen = strlen(conf.etcd.prefix);

	item->key = arena_strdup(ctx->arena, kv->key_len >= plen ? kv->key + plen : kv->key);
	item->value = arena_strndup(ctx->arena, kv->value, kv->value_len);
	item->value_len = kv->value_len;
	item->create_revision = kv->create_revision;
	item->mod_revision = kv->mod_revision;
	item->version = kv->version;
	item->lease = kv->lease;
	item->updated_at = clock_realtime_us();
}

void
store_event_of(const struct store_item *item, int deleted, struct replica_event *event)
{
	memset(event, 0, sizeof(*event));
	event->deleted = deleted;
	event->row.key = item->key;
	event->row.value = item->value;
	event->row.value_len = item->value_len;
	event->row.create_revision = item->create_revision;
	event->row.mod_revision = item->mod_revision;
	event->row.version = item->version;
	event->row.lease = item->lease;
	event->row.updated_at = item->updated_at;
}

/* Changes at one revision, written through in one SQLite transaction. */
void
store_write_through_events(const struct replica_event *events, size_t count)
{
	/*
	 * Under load the watcher has usually applied the change before etcd's
	 * answer reaches us: then there is nothing to write, and not taking
	 * SQLite's write lock keeps the responders from queueing on it.
	 */
	if (count == 0 || __atomic_load_n(&shared()->replica.revision,
	    __ATOMIC_ACQUIRE) >= events[0].row.mod_revision)
		return;
	if (store.replica != NULL &&
	    replica_write_through_all(store.replica, events, count) == -1)
		log_warn("replica write-through of %s failed; the watcher will bring it",
		    events[0].row.key);
	/* Whatever was derived from the replica (auth.c's cache) is stale now. */
	__atomic_fetch_add(&shared()->replica.local_writes, 1, __ATOMIC_RELEASE);
}

static void
write_through(const struct store_item *item, int deleted)
{
	struct replica_event event;

	store_event_of(item, deleted, &event);
	store_write_through_events(&event, 1);
}

/*
 * An item's updated_at is when this node first saw its revision (etcd
 * keeps no time). The replica keeps that time with each row, whoever
 * brought it (the watcher, a write-through, a snapshot), so an item just
 * read from or written to etcd takes it from there once the replica holds
 * that revision: one revision, one time.
 */
void
store_first_seen(struct store_ctx *ctx, struct store_item *item)
{
	struct replica_row row;

	if (store.replica != NULL &&
	    replica_get(store.replica, item->key, ctx->arena, &row) == 1 &&
	    row.mod_revision == item->mod_revision)
		item->updated_at = row.updated_at;
}

/* A linearizable read from etcd that refreshes the replica. */
static enum store_result
get_from_etcd(struct store_ctx *ctx, const char *key, struct store_item *item)
{
	struct etcd_range_options options;
	struct etcd_range_result result;
	struct etcd_error error;
	enum store_result rc;
	size_t len;
	char *k = store_full_key(ctx, key, &len);

	memset(&options, 0, sizeof(options));
	memset(&result, 0, sizeof(result));
	etcd_set_deadline(store.etcd, call_deadline(ctx));
	if (etcd_range(store.etcd, k, len, &options, &result, &error) != ETCD_OK)
		return store_etcd_failure(&error, "range");
	ctx->cache = CACHE_BYPASS;
	if (result.count == 0) {
		struct store_item gone;

		memset(&gone, 0, sizeof(gone));
		gone.key = key;
		gone.value = "";
		gone.mod_revision = result.revision;
		gone.updated_at = clock_realtime_us();
		if (!ctx->no_write_through)
			write_through(&gone, 1);
		rc = STORE_NOT_FOUND;
	} else {
		store_item_from_kv(ctx, &result.kvs[0], item);
		if (!ctx->no_write_through)
			write_through(item, 0);
		store_first_seen(ctx, item);
		rc = STORE_OK;
	}
	etcd_range_result_free(&result);
	return rc;
}

static void
item_from_row(const struct replica_row *row, struct store_item *item)
{
	item->key = row->key;
	item->value = row->value;
	item->value_len = row->value_len;
	item->create_revision = row->create_revision;
	item->mod_revision = row->mod_revision;
	item->version = row->version;
	item->lease = row->lease;
	item->updated_at = row->updated_at;
}

enum store_result
store_get(struct store_ctx *ctx, const char *key, int force,
    struct store_item *item)
{
	struct store_generation read_at;
	struct replica_row row;
	enum store_result rc;
	int found;

	if (store_open() == -1)
		return STORE_FAILED;
	if (force || !store_ready()) {
		rc = get_from_etcd(ctx, key, item);
		if (rc == STORE_OK || rc == STORE_NOT_FOUND)
			count_cache(ctx->cache);
		return rc;
	}
	/* Taken before the read: a change committed meanwhile retires the entry. */
	read_at = store_generation();
	if (!store_cache_lookup(key, &read_at, ctx->arena, item, &found)) {
		if ((found = replica_get(store.replica, key, ctx->arena, &row)) == -1)
			return STORE_FAILED;
		if (found)
			item_from_row(&row, item);
		store_cache_keep(key, found ? item : NULL, &read_at);
	}
	store_count_cached_read(ctx);
	return found ? STORE_OK : STORE_NOT_FOUND;
}

/* A cold node lists from etcd: the first offset + limit keys, in key order. */
static enum store_result
list_from_etcd(struct store_ctx *ctx, const char *prefix, int64_t limit,
    int64_t offset, struct store_item **items, size_t *count, int64_t *total)
{
	struct etcd_range_options options;
	struct etcd_range_result result;
	struct etcd_error error;
	size_t len, i;
	char *k = store_full_key(ctx, prefix, &len);

	memset(&options, 0, sizeof(options));
	memset(&result, 0, sizeof(result));
	options.range_end = etcd_prefix_end(k, len, &options.range_end_len);
	options.limit = offset + limit;
	etcd_set_deadline(store.etcd, call_deadline(ctx));
	if (etcd_range(store.etcd, k, len, &options, &result, &error) != ETCD_OK) {
		free((char *)options.range_end);
		return store_etcd_failure(&error, "range");
	}
	free((char *)options.range_end);
	*total = result.total;
	*count = 0;
	*items = arena_alloc(ctx->arena, sizeof(**items) * (size_t)(limit > 0 ? limit : 1));
	/* A key with a NUL byte would pose as a shorter one (watcher.c). */
	for (i = (size_t)offset; i < result.count; i++)
		if (memchr(result.kvs[i].key, '\0', result.kvs[i].key_len) == NULL)
			store_item_from_kv(ctx, &result.kvs[i], &(*items)[(*count)++]);
	etcd_range_result_free(&result);
	ctx->cache = CACHE_BYPASS;
	return STORE_OK;
}

enum store_result
store_list(struct store_ctx *ctx, const char *prefix, int64_t limit,
    int64_t offset, struct store_item **items, size_t *count, int64_t *total)
{
	struct replica_row *rows;
	long n, i;

	if (store_open() == -1)
		return STORE_FAILED;
	if (!store_ready())
		return list_from_etcd(ctx, prefix, limit, offset, items, count, total);
	n = replica_list(store.replica, prefix, limit, offset, ctx->arena, &rows, total);
	if (n < 0)
		return STORE_FAILED;
	*items = arena_alloc(ctx->arena, sizeof(**items) * (size_t)(n > 0 ? n : 1));
	for (i = 0; i < n; i++)
		item_from_row(&rows[i], &(*items)[i]);
	*count = (size_t)n;
	store_count_cached_read(ctx);
	return STORE_OK;
}


enum store_result
store_user_search(struct store_ctx *ctx, const struct user_query *q,
    struct store_item **items, unsigned char **plain, size_t *count,
    int64_t *total)
{
	struct user_hit *hits;
	long n, i;

	if (store_open() == -1)
		return STORE_FAILED;
	/* etcd cannot search: a node without its snapshot yet says so (503). */
	if (!store_ready())
		return STORE_UNAVAILABLE;
	if ((n = replica_user_search(store.replica, q, ctx->arena, &hits, total)) < 0)
		return STORE_FAILED;
	*items = arena_alloc(ctx->arena, sizeof(**items) * (size_t)(n > 0 ? n : 1));
	*plain = arena_alloc(ctx->arena, (size_t)(n > 0 ? n : 1));
	for (i = 0; i < n; i++) {
		struct store_item *item = &(*items)[i];

		item->key = arena_concat(ctx->arena, USER_FOLDER, hits[i].id, (char *)NULL);
		item->value = hits[i].doc;
		item->value_len = hits[i].doc_len;
		item->create_revision = hits[i].create_revision;
		item->mod_revision = hits[i].mod_revision;
		item->version = hits[i].version;
		item->updated_at = hits[i].seen_at;
		(*plain)[i] = (unsigned char)hits[i].plain;
	}
	*count = (size_t)n;
	store_count_cached_read(ctx);
	return STORE_OK;
}

enum store_result
store_events_since(struct store_ctx *ctx, const char *prefix, int64_t since,
    int64_t limit, struct store_event **events, size_t *count)
{
	struct replica_event *found;
	long n, i;

	if (store_open() == -1)
		return STORE_FAILED;
	if (!store_ready())
		return STORE_UNAVAILABLE;
	n = replica_events_since(store.replica, prefix, since, limit, ctx->arena, &found);
	if (n == -2)
		return STORE_GONE;
	if (n < 0)
		return STORE_FAILED;
	*events = arena_alloc(ctx->arena, sizeof(**events) * (size_t)(n > 0 ? n : 1));
	for (i = 0; i < n; i++) {
		(*events)[i].deleted = found[i].deleted;
		item_from_row(&found[i].row, &(*events)[i].item);
	}
	*count = (size_t)n;
	ctx->cache = store_etcd_up() ? CACHE_HIT : CACHE_STALE;
	return STORE_OK;
}


enum store_result
store_audit_list(struct store_ctx *ctx, const struct audit_query *q,
    struct audit_row **rows, size_t *count, int64_t *total)
{
	long n;

	if (store_open() == -1)
		return STORE_FAILED;
	/* A node without its snapshot yet has no trail to show (503). */
	if (!store_ready())
		return STORE_UNAVAILABLE;
	if ((n = replica_audit_list(store.replica, q, ctx->arena, rows, total)) < 0)
		return STORE_FAILED;
	*count = (size_t)n;
	store_count_cached_read(ctx);
	return STORE_OK;
}
