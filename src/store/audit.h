/*
 * The audit trail's records in etcd (API.md §14, §13). A write whose
 * store_ctx names an actor (store.h) gets one more put in its own
 * transaction, so that the record is as durable as the change and costs
 * no extra round trip:
 *
 *	audit/<time>-<request id>-<tag>	{"actor", "actor_kind", "token_id",
 *					 "request_id", "time", "ops": [{"key",
 *					 "action"[, "prefix": true]}]}
 *
 * <time> is RFC 3339 UTC to the microsecond, so the keys sort by time;
 * <tag> is the writing process's random one (no request id: the tag
 * alone), so that one X-Request-Id sent to two processes at once still
 * makes two keys. The
 * ops name each resource key the transaction writes (never index/ or
 * audit/ keys) and what it does to it: create, update, put (create or
 * replace: the transaction did not say which), delete, or the caller's
 * verb (acquire, release, register, deregister, rotate_key). The new
 * revision is the record's own mod_revision (the same transaction).
 *
 * The key is put on the node's audit lease, whose TTL is audit.retention
 * plus the time one lease is used for (at most an hour), so etcd deletes
 * each record by itself between retention and retention plus an hour
 * after it was written. audit.retention = 0 keeps records forever (no
 * lease).
 *
 * The replica's audit table (audit_index.h) is derived from these records
 * and from the events they commit with.
 */
#ifndef DYNCONF_AUDIT_H
#define DYNCONF_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define AUDIT_FOLDER	"audit/"

struct arena;

/* index/ and audit/ keys: dynconf's own bookkeeping, never audited. */
int	audit_key_internal(const char *key);

/*
 * The record of a transaction of ops (with its checks, which tell a create
 * from an update) as one more op into *op: STORE_OK with op->key NULL
 * when no record is due (no actor, no resource key written), or a failure
 * to get the audit lease (the write is then not made).
 */
enum store_result audit_record_op(struct store_ctx *ctx,
	    const struct store_check *checks, size_t nchecks,
	    const struct store_op *ops, size_t nops, struct store_op *op);

/*
 * etcd does not know the lease the record was put on (revoked by hand,
 * or etcd restored from a backup): forget it, so that the next record
 * gets a fresh one.
 */
void	audit_lease_lost(int64_t lease);

/* A record read back from etcd. */
struct audit_record_op {
	const char	*key;
	const char	*action;
	int		 prefix;	/* key is a prefix: everything under it */
};

struct audit_record {
	const char	*actor;
	const char	*actor_kind;
	const char	*token_id;	/* NULL: none */
	const char	*request_id;	/* NULL: none */
	int64_t		 time_us;	/* unix µs */
	struct audit_record_op *ops;
	size_t		 nops;
};

/*
 * The time a record's key names, "audit/<time to the microsecond>-...":
 * 0 and *time_us, or -1 when it names none.
 */
int	audit_record_key_time(const char *key, int64_t *time_us);

/*
 * Parse the record at key (strings in arena); -1, logged, when text is
 * not one (written by hand?): its transaction then counts as one without
 * a record. A record is one only at the key dynconf writes it at, naming
 * its time: its rows are found by that time when it goes.
 */
int	audit_record_parse(const char *key, const char *text, size_t len,
	    struct arena *arena, struct audit_record *record);

/* The action the record names for key (an op's key, or under a prefix op); NULL: none. */
const char *audit_record_action(const struct audit_record *record,
	    const char *key);

#endif
