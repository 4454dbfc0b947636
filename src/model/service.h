/*
 * Service discovery (API.md §8) as data and etcd operations, with no HTTP
 * in them. An instance is one key on one lease:
 *
 *	services/<name>/<id>	{"id", "service", "endpoint", "metadata", "ttl",
 *				 "registered_at", "expires_at", "expires"}
 *
 * id is the lease's id in 16 hex digits, so that an instance names its own
 * lease and nothing else can be revoked through it (the key must be on
 * exactly that lease). Registering grants the lease and puts the key on it;
 * a heartbeat renews the lease and rewrites the document with the new
 * expiry; deregistering deletes the key and revokes the lease. A lease
 * nobody renews lapses after ttl, and etcd deletes the key.
 *
 * The document carries its expiry ("expires", unix seconds, and
 * "expires_at"), taken on this node before etcd renewed the lease, so the
 * lease lapses no earlier. Lists read the replica and leave out what has
 * expired by that clock: an instance whose lease lapsed is never listed,
 * even before the watch brings its delete. A heartbeat after that expiry
 * is refused (the instance is gone for everyone) and its lease revoked.
 */
#ifndef DYNCONF_SERVICE_H
#define DYNCONF_SERVICE_H

#include <stdint.h>

#include "store/store.h"

#define SERVICE_TTL_MIN		5
#define SERVICE_TTL_MAX		3600
#define SERVICE_TTL_DEFAULT	30
#define SERVICE_ENDPOINT_MAX	1024
#define SERVICE_METADATA_MAX	4096
#define SERVICE_ID_LEN		16

struct json_object;

/*
 * NULL when endpoint is an absolute http or https URL with a host (no
 * user:password@), or host:port; else why not. A host is a DNS name, an
 * IPv4 address or an IPv6 address in brackets; a port is 1 to 65535.
 */
const char *service_endpoint_problem(const char *endpoint);

/* NULL when metadata is an object of at most SERVICE_METADATA_MAX bytes. */
const char *service_metadata_problem(struct json_object *metadata);

/* An instance as stored; doc is the parsed document (the caller puts it). */
struct service_instance {
	struct json_object *doc;
	const char	*id;		/* in doc */
	int64_t		 lease;
	int64_t		 expires;	/* unix seconds: gone from then on */
	int64_t		 revision;
};

/* Has it expired by now (unix µs)? */
int	service_expired(const struct service_instance *inst, int64_t now_us);

/* "services/<name>/" or "services/<name>/<id>" in the arena. */
const char *service_key(struct arena *arena, const char *name, const char *id);

/*
 * Register an instance of name on a fresh lease of ttl seconds. On
 * STORE_OK *inst is the stored instance. If the put fails, the lease is
 * revoked (or, etcd out of reach, left to lapse with no key on it).
 */
enum store_result service_register(struct store_ctx *ctx, const char *name,
	    const char *endpoint, struct json_object *metadata, int64_t ttl,
	    struct service_instance *inst);

/*
 * Renew instance id of name: STORE_OK with *inst as rewritten;
 * STORE_NOT_FOUND when there is no such instance, its lease lapsed, or it
 * had expired by its document (then its lease is revoked).
 */
enum store_result service_heartbeat(struct store_ctx *ctx, const char *name,
	    const char *id, struct service_instance *inst);

/* Delete instance id of name and revoke its lease; STORE_NOT_FOUND if none. */
enum store_result service_deregister(struct store_ctx *ctx, const char *name,
	    const char *id);

/*
 * The live instances of name, in id order, appended to the array items
 * (service_view of each); corrupt documents are left out, logged.
 * *first_expiry is the earliest "expires" among them (INT64_MAX if none):
 * the list stays true until then, or until the replica changes.
 */
enum store_result service_instances(struct store_ctx *ctx, const char *name,
	    struct json_object *items, int64_t *first_expiry);

/*
 * The services with a live instance, in name order: {"name", "instances"}
 * objects from offset, at most limit, into items; *total counts them all.
 */
enum store_result service_names(struct store_ctx *ctx, int64_t limit,
	    int64_t offset, struct json_object *items, int64_t *total);

/*
 * The stored document as clients see it: without the internal "expires",
 * with the key's revision. Changes doc and returns it.
 */
struct json_object *service_view(struct json_object *doc, int64_t revision);

#endif
