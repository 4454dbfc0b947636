/*
 * What the store's own modules (store.c, store_commit.c, lease.c) share and nothing above
 * the store layer sees: the process's etcd client, bound to a request's
 * deadline, and how an etcd failure becomes a store result.
 */
#ifndef DYNCONF_STORE_IMPL_H
#define DYNCONF_STORE_IMPL_H

#include "etcd/etcd.h"
#include "store/store.h"

/*
 * The etcd client of this process with its next calls bounded by
 * etcd.timeout and ctx's deadline; NULL when the store cannot open (logged).
 */
struct etcd_client *store_etcd_for(const struct store_ctx *ctx);

/*
 * An etcd failure as a store result: STORE_UNAVAILABLE (not applied),
 * STORE_OUTCOME_UNKNOWN (a write that may have been applied; logged at
 * warn), STORE_FAILED otherwise (logged). what names the call in the log.
 */
enum store_result store_etcd_failure(const struct etcd_error *error,
	    const char *what);

/*
 * What store.c shares with store_commit.c: the replica (NULL on etcd
 * alone), a key with the prefix (in ctx's arena), an etcd kv as an item,
 * an item as a replica event, events of one revision written through at
 * once (unless the watcher applied them first), and an item's updated_at
 * from the replica once it holds that revision.
 */
struct replica;
struct replica_event;
struct etcd_kv;
struct replica *store_replica(void);
char	*store_full_key(struct store_ctx *ctx, const char *key, size_t *len);
void	store_item_from_kv(struct store_ctx *ctx, const struct etcd_kv *kv,
	    struct store_item *item);
void	store_event_of(const struct store_item *item, int deleted,
	    struct replica_event *event);
void	store_write_through_events(const struct replica_event *events,
	    size_t count);
void	store_first_seen(struct store_ctx *ctx, struct store_item *item);

#endif
