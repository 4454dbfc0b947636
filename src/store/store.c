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

/* Transactions again at another revision of an If-Match list, at most. */
#define STORE_RETARGETS 2

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

static char *
full_key(struct store_ctx *ctx, const char *key, size_t *len)
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

static void
item_from_kv(struct store_ctx *ctx, const struct etcd_kv *kv, struct store_item *item)
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

static void
event_of(const struct store_item *item, int deleted, struct replica_event *event)
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
static void
write_through_events(const struct replica_event *events, size_t count)
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

	event_of(item, deleted, &event);
	write_through_events(&event, 1);
}

/*
 * An item's updated_at is when this node first saw its revision (etcd
 * keeps no time). The replica keeps that time with each row, whoever
 * brought it (the watcher, a write-through, a snapshot), so an item just
 * read from or written to etcd takes it from there once the replica holds
 * that revision: one revision, one time.
 */
static void
first_seen(struct store_ctx *ctx, struct store_item *item)
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
	char *k = full_key(ctx, key, &len);

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
		item_from_kv(ctx, &result.kvs[0], item);
		if (!ctx->no_write_through)
			write_through(item, 0);
		first_seen(ctx, item);
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
	char *k = full_key(ctx, prefix, &len);

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
			item_from_kv(ctx, &result.kvs[i], &(*items)[(*count)++]);
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

/*
 * Single-key writes are one-check transactions: the condition becomes a
 * check, and a failed check says why from whether the key is there.
 */
static size_t
condition_check(const struct store_condition *condition, const char *key,
    struct store_check *check)
{
	memset(check, 0, sizeof(*check));
	check->key = key;
	check->revision = condition->revision;
	check->also = condition->also;
	check->nalso = condition->nalso;
	switch (condition->kind) {
	case STORE_IF_ANY:
		return 0;
	case STORE_IF_ABSENT:
		check->kind = STORE_CHECK_ABSENT;
		break;
	case STORE_IF_PRESENT:
		check->kind = STORE_CHECK_PRESENT;
		break;
	case STORE_IF_REVISION:
		check->kind = STORE_CHECK_REVISION;
		break;
	}
	return 1;
}

static enum store_result
check_failure(const struct store_check *check)
{
	if (check->kind == STORE_CHECK_ABSENT)
		return STORE_EXISTS;
	return check->found ? STORE_STALE : STORE_NOT_FOUND;
}

enum store_result
store_put(struct store_ctx *ctx, const char *key, const char *value,
    size_t value_len, int64_t lease, const struct store_condition *condition,
    struct store_item *item, int *created)
{
	struct store_check check;
	struct store_op op;
	enum store_result rc;
	size_t nchecks = condition_check(condition, key, &check), failed;
	int64_t revision;

	memset(&op, 0, sizeof(op));
	op.kind = STORE_OP_PUT;
	op.key = key;
	op.value = value;
	op.value_len = value_len;
	op.lease = lease;
	rc = store_commit(ctx, &check, nchecks, &op, 1, &revision, &failed);
	if (rc == STORE_STALE)
		return check_failure(&check);
	if (rc != STORE_OK)
		return rc;
	*created = !op.existed;
	item->key = arena_strdup(ctx->arena, key);
	item->value = arena_strndup(ctx->arena, value, value_len);
	item->value_len = value_len;
	item->mod_revision = revision;
	item->create_revision = op.create_revision;
	item->version = op.version;
	item->lease = lease;
	item->updated_at = clock_realtime_us();
	first_seen(ctx, item);
	return STORE_OK;
}

enum store_result
store_delete(struct store_ctx *ctx, const char *key,
    const struct store_condition *condition, int64_t *revision)
{
	struct store_condition present = { .kind = STORE_IF_PRESENT };
	struct store_check check;
	struct store_op op;
	enum store_result rc;
	size_t failed;

	/* Deleting what is not there is a 404, whatever the condition. */
	if (condition->kind != STORE_IF_REVISION)
		condition = &present;
	condition_check(condition, key, &check);
	memset(&op, 0, sizeof(op));
	op.kind = STORE_OP_DELETE;
	op.key = key;
	rc = store_commit(ctx, &check, 1, &op, 1, revision, &failed);
	return rc == STORE_STALE ? check_failure(&check) : rc;
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

/* The etcd compare for one check. */
static void
check_compare(struct store_ctx *ctx, const struct store_check *check,
    struct etcd_compare *cmp)
{
	size_t len;

	memset(cmp, 0, sizeof(*cmp));
	cmp->key = full_key(ctx, check->key, &len);
	cmp->key_len = len;
	cmp->target = check->kind == STORE_CHECK_REVISION ? ETCD_CMP_MOD :
	    check->kind == STORE_CHECK_LEASE ? ETCD_CMP_LEASE : ETCD_CMP_CREATE;
	cmp->result = check->kind == STORE_CHECK_PRESENT ? ETCD_CMP_GREATER : ETCD_CMP_EQUAL;
	cmp->number = check->kind == STORE_CHECK_REVISION ? check->revision :
	    check->kind == STORE_CHECK_LEASE ? check->lease : 0;
	if (check->kind == STORE_CHECK_PREFIX_UNCHANGED) {
		/* Every key in the range was last written before revision + 1. */
		cmp->target = ETCD_CMP_MOD;
		cmp->result = ETCD_CMP_LESS;
		cmp->number = check->revision + 1;
	}
	if (check->kind == STORE_CHECK_PREFIX_EMPTY ||
	    check->kind == STORE_CHECK_PREFIX_UNCHANGED) {
		char *end = etcd_prefix_end(cmp->key, len, &cmp->range_end_len);

		cmp->range_end = arena_strndup(ctx->arena, end, cmp->range_end_len);
		free(end);
	}
}

static void
op_for(struct store_ctx *ctx, const struct store_op *op, struct etcd_op *eop)
{
	size_t len;

	memset(eop, 0, sizeof(*eop));
	eop->key = full_key(ctx, op->key, &len);
	eop->key_len = len;
	/* Puts' and deletes' previous kvs: write-through and audit rows. */
	eop->prev_kv = op->kind != STORE_OP_DELETE_PREFIX;
	switch (op->kind) {
	case STORE_OP_PUT:
		eop->type = ETCD_OP_PUT;
		eop->value = op->value;
		eop->value_len = op->value_len;
		eop->lease = op->lease;
		break;
	case STORE_OP_DELETE:
		eop->type = ETCD_OP_DELETE;
		break;
	case STORE_OP_DELETE_PREFIX: {
		char *end = etcd_prefix_end(eop->key, len, &eop->range_end_len);

		eop->type = ETCD_OP_DELETE;
		eop->range_end = arena_strndup(ctx->arena, end, eop->range_end_len);
		free(end);
		break;
	}
	}
}

/* Which check failed, from the failure branch's reads (one per check). */
static size_t
first_failed_check(struct store_ctx *ctx, struct store_check *checks,
    size_t nchecks, const struct etcd_txn_result *result)
{
	size_t i;

	for (i = 0; i < nchecks && i < result->count; i++) {
		checks[i].found = result->results[i].range.count > 0;
		checks[i].current = checks[i].found ?
		    result->results[i].range.kvs[0].mod_revision : 0;
		if (checks[i].found)
			item_from_kv(ctx, &result->results[i].range.kvs[0],
			    &checks[i].seen);
	}
	for (i = 0; i < nchecks && i < result->count; i++) {
		const struct etcd_range_result *r = &result->results[i].range;
		int present = r->count > 0;

		switch (checks[i].kind) {
		case STORE_CHECK_ABSENT:
		case STORE_CHECK_PREFIX_EMPTY:
			if (present)
				return i;
			break;
		case STORE_CHECK_PRESENT:
			if (!present)
				return i;
			break;
		case STORE_CHECK_REVISION:
			if (!present || r->kvs[0].mod_revision != checks[i].revision)
				return i;
			break;
		case STORE_CHECK_PREFIX_UNCHANGED: {
			size_t k;

			for (k = 0; k < r->count; k++)
				if (r->kvs[k].mod_revision > checks[i].revision)
					return i;
			break;
		}
		case STORE_CHECK_LEASE:
			if (!present || r->kvs[0].lease != checks[i].lease)
				return i;
			break;
		}
	}
	return 0;
}

/*
 * A revision check failed, and the key is at a revision its If-Match list
 * also named: compare against that one instead. 1 if there is one to try.
 */
static int
retarget(struct store_check *check, struct etcd_compare *cmp)
{
	size_t i;

	if (check->kind != STORE_CHECK_REVISION || !check->found ||
	    check->current == check->revision)
		return 0;
	for (i = 0; i < check->nalso; i++) {
		if (check->also[i] == check->current) {
			check->revision = cmp->number = check->current;
			return 1;
		}
	}
	return 0;
}

/* What etcd said ops[i]'s key was before the transaction (its prev_kv). */
static void
event_prev(const struct store_op *op, size_t i,
    const struct etcd_txn_result *result, struct replica_event *event)
{
	const struct etcd_range_result *prev = i < result->count ?
	    &result->results[i].range : NULL;

	event->prev_known = op->kind != STORE_OP_DELETE_PREFIX;
	if (event->prev_known && prev != NULL && prev->count > 0) {
		event->prev_revision = prev->kvs[0].mod_revision;
		event->prev_lease = prev->kvs[0].lease;
	}
}

/*
 * A prefix delete's events: the keys the replica holds under it (etcd
 * was not asked for their values), added to *events; the new count.
 */
static size_t
prefix_events(struct store_ctx *ctx, const struct store_op *op,
    struct store_item *item, struct replica_event **events, size_t n,
    size_t *room)
{
	struct replica_row *rows;
	struct replica_event *more;
	int64_t total;
	long found, j;

	if (store.replica == NULL)
		return n;
	found = replica_list(store.replica, op->key, 10000, 0, ctx->arena, &rows,
	    &total);
	if (found <= 0)
		return n;
	more = arena_alloc(ctx->arena, sizeof(*more) * (*room + (size_t)found));
	memcpy(more, *events, sizeof(**events) * n);
	*events = more;
	*room += (size_t)found;
	for (j = 0; j < found; j++) {
		item->key = rows[j].key;
		event_of(item, 1, &more[n]);
		more[n].prev_known = 1;
		more[n].prev_revision = rows[j].mod_revision;
		more[n].prev_lease = rows[j].lease;
		n++;
	}
	return n;
}

/*
 * Bring the replica up to the committed ops at once (read your own write),
 * all of them in one SQLite transaction.
 */
static void
commit_write_through(struct store_ctx *ctx, struct store_op *ops,
    size_t nops, const struct etcd_txn_result *result)
{
	struct replica_event *events;
	size_t room = nops, n = 0, i;
	int64_t now = clock_realtime_us();

	if (ctx->no_write_through)
		return;
	events = arena_alloc(ctx->arena, sizeof(*events) * (room ? room : 1));
	for (i = 0; i < nops; i++) {
		const struct etcd_kv *prev = NULL;
		struct store_item item;

		if (ops[i].kind == STORE_OP_PUT && i < result->count &&
		    result->results[i].range.count > 0)
			prev = &result->results[i].range.kvs[0];
		memset(&item, 0, sizeof(item));
		item.key = ops[i].key;
		item.value = ops[i].kind == STORE_OP_PUT ? ops[i].value : "";
		item.value_len = ops[i].kind == STORE_OP_PUT ? ops[i].value_len : 0;
		item.mod_revision = result->revision;
		item.create_revision = prev ? prev->create_revision : result->revision;
		item.version = prev ? prev->version + 1 : 1;
		ops[i].create_revision = item.create_revision;
		ops[i].version = item.version;
		item.lease = ops[i].lease;
		item.updated_at = now;
		if (ops[i].kind == STORE_OP_DELETE_PREFIX) {
			n = prefix_events(ctx, &ops[i], &item, &events, n, &room);
			continue;
		}
		event_of(&item, ops[i].kind != STORE_OP_PUT, &events[n]);
		event_prev(&ops[i], i, result, &events[n++]);
	}
	write_through_events(events, n);
}

/*
 * Run the transaction, again at another revision of an If-Match list when
 * that is what failed (bounded: the key may move on between the rounds).
 * STORE_OK with *result, or why not.
 */
static enum store_result
txn_rounds(struct store_ctx *ctx, struct etcd_txn *txn, struct etcd_compare *cmps,
    struct store_check *checks, size_t nchecks, size_t *failed,
    struct etcd_txn_result *result, struct etcd_error *error)
{
	int round;

	for (round = 0; ; round++) {
		memset(result, 0, sizeof(*result));
		etcd_set_deadline(store.etcd, call_deadline(ctx));
		if (etcd_txn(store.etcd, txn, result, error) != ETCD_OK)
			return STORE_FAILED;
		if (result->succeeded)
			return STORE_OK;
		*failed = first_failed_check(ctx, checks, nchecks, result);
		etcd_txn_result_free(result);
		if (round == STORE_RETARGETS || !retarget(&checks[*failed], &cmps[*failed]))
			return STORE_STALE;
	}
}

/*
 * The caller's ops and, when the write is audited, its record (audit.h)
 * after them: *all, *nall.
 */
static enum store_result
with_record(struct store_ctx *ctx, const struct store_check *checks,
    size_t nchecks, struct store_op *ops, size_t nops, struct store_op **all,
    size_t *nall)
{
	struct store_op record;
	enum store_result rc;

	*all = ops;
	*nall = nops;
	if ((rc = audit_record_op(ctx, checks, nchecks, ops, nops, &record)) != STORE_OK ||
	    record.key == NULL)
		return rc;
	*all = arena_alloc(ctx->arena, sizeof(**all) * (nops + 1));
	memcpy(*all, ops, sizeof(*ops) * nops);
	(*all)[nops] = record;
	*nall = nops + 1;
	return STORE_OK;
}

enum store_result
store_commit(struct store_ctx *ctx, struct store_check *checks,
    size_t nchecks, struct store_op *ops, size_t nops, int64_t *revision,
    size_t *failed)
{
	struct etcd_compare *cmps = arena_alloc(ctx->arena, sizeof(*cmps) * (nchecks + 1));
	struct etcd_op *reads = arena_alloc(ctx->arena, sizeof(*reads) * (nchecks + 1));
	struct etcd_op *eops;
	struct store_op *all;
	struct etcd_txn txn;
	struct etcd_txn_result result;
	struct etcd_error error;
	enum store_result rc;
	size_t i, nall;

	if (store_open() == -1)
		return STORE_FAILED;
	if ((rc = with_record(ctx, checks, nchecks, ops, nops, &all, &nall)) != STORE_OK)
		return rc;
	for (i = 0; i < nchecks; i++) {
		check_compare(ctx, &checks[i], &cmps[i]);
		reads[i].type = ETCD_OP_RANGE;
		reads[i].key = cmps[i].key;
		reads[i].key_len = cmps[i].key_len;
		reads[i].range_end = cmps[i].range_end;
		reads[i].range_end_len = cmps[i].range_end_len;
	}
	eops = arena_alloc(ctx->arena, sizeof(*eops) * (nall + 1));
	for (i = 0; i < nall; i++)
		op_for(ctx, &all[i], &eops[i]);
	/* A record's key is new: nothing before it to send back. */
	if (nall > nops)
		eops[nops].prev_kv = 0;
	memset(&txn, 0, sizeof(txn));
	txn.compare = cmps;
	txn.ncompare = nchecks;
	txn.success = eops;
	txn.nsuccess = nall;
	txn.failure = reads;
	txn.nfailure = nchecks;
	rc = txn_rounds(ctx, &txn, cmps, checks, nchecks, failed, &result, &error);
	/* The record's lease is gone (revoked by hand?): once more on a new one. */
	if (rc == STORE_FAILED && error.status == ETCD_NOT_FOUND && nall > nops &&
	    all[nops].lease != 0) {
		audit_lease_lost(all[nops].lease);
		if ((rc = with_record(ctx, checks, nchecks, ops, nops, &all, &nall)) != STORE_OK)
			return rc;
		op_for(ctx, &all[nops], &eops[nops]);
		eops[nops].prev_kv = 0;
		rc = txn_rounds(ctx, &txn, cmps, checks, nchecks, failed, &result, &error);
	}
	if (rc == STORE_FAILED)
		return store_etcd_failure(&error, "txn");
	if (rc != STORE_OK)
		return rc;
	*revision = result.revision;
	for (i = 0; i < nall && i < result.count; i++)
		all[i].existed = all[i].kind == STORE_OP_PUT ?
		    result.results[i].range.count > 0 : result.results[i].deleted > 0;
	/* The record reaches the replica through the watcher, which derives its rows. */
	commit_write_through(ctx, all, nops, &result);
	etcd_txn_result_free(&result);
	if (all != ops)
		for (i = 0; i < nops; i++)
			ops[i] = all[i];
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
