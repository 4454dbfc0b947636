/*
 * The store: the one way every resource reaches etcd and the replica.
 *
 * Writes go to etcd first, as a transaction when a condition applies, and
 * are acknowledged only once etcd committed them; the new revision is then
 * written through into the local replica so the caller reads its own write
 * on this node. Reads come from the replica (CACHE_HIT, or CACHE_STALE while
 * etcd is unreachable); a forced read goes to etcd linearizably and
 * refreshes the replica (CACHE_BYPASS). A node whose replica holds no
 * snapshot yet reads from etcd, and with etcd down answers
 * STORE_UNAVAILABLE, never a false "not found".
 *
 * Keys are relative to etcd.prefix ("config/app/x"). Results are allocated
 * in ctx->arena.
 */
#ifndef DYNCONF_STORE_H
#define DYNCONF_STORE_H

#include <stddef.h>
#include <stdint.h>

struct arena;

enum store_result {
	STORE_OK,
	STORE_NOT_FOUND,
	STORE_EXISTS,		/* a create-only write found the key */
	STORE_STALE,		/* a revision condition did not hold */
	STORE_UNAVAILABLE,	/* etcd unreachable; a write was not applied: retry */
	STORE_OUTCOME_UNKNOWN,	/* a write etcd may or may not have applied */
	STORE_GONE,		/* history asked for is no longer kept */
	STORE_CORRUPT,		/* the stored document is not what the key holds; logged */
	STORE_FAILED,		/* anything else; logged */
};

enum cache_state { CACHE_HIT, CACHE_STALE, CACHE_BYPASS };

/*
 * Who writes, for the audit trail (API.md §14): plain strings, as the
 * caller names them. A write made with a name puts one more key into its
 * own transaction (store/audit.h), so that its record commits with it or
 * not at all. name NULL writes no record: the watcher then shows the
 * change as etcd's (made by hand), or, for a key kept on the same lease,
 * as a renewal, which is not recorded.
 */
struct store_actor {
	const char	*name;		/* a token's name, a JWT's sub, sdk:ENV... */
	const char	*kind;		/* token, jwt, sdk, anonymous, dynconfctl */
	const char	*token_id;	/* API tokens: its id; else NULL */
	const char	*request_id;	/* NULL: none */
	/* A verb for the resource keys written (acquire...); NULL: create,
	 * update or delete, as each key fared. */
	const char	*action;
};

struct store_ctx {
	struct arena	*arena;
	int64_t		 deadline_us;	/* monotonic; bounds every etcd call */
	enum cache_state cache;		/* set by reads */
	/*
	 * Writes and forced reads leave the replica to the watcher, for keys
	 * nothing answers from it (locks): no responder then queues for
	 * SQLite's write lock behind the watcher applying the same change.
	 * (store_commit then leaves its ops' create_revision and version unset.)
	 */
	int		 no_write_through;
	struct store_actor actor;	/* for the audit trail */
};

struct store_item {
	const char	*key;
	const char	*value;		/* NUL-terminated */
	size_t		 value_len;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 lease;
	int64_t		 updated_at;	/* unix µs this node first saw the revision */
};

enum store_condition_kind {
	STORE_IF_ANY,		/* create or replace */
	STORE_IF_ABSENT,	/* create only (If-None-Match: *) */
	STORE_IF_PRESENT,	/* replace only */
	STORE_IF_REVISION,	/* replace only at this mod_revision (If-Match) */
};

struct store_condition {
	enum store_condition_kind kind;
	int64_t		 revision;
	/* STORE_IF_REVISION: an If-Match list's other revisions; any will do. */
	const int64_t	*also;
	size_t		 nalso;
};

/* Connect this process (call after fork). 0, or -1 when the replica can't open. */
int	store_open(void);
/*
 * Or etcd alone, with no replica (dynconfctl, which may run where no
 * replica is, or as another user than the pool's): reads go to etcd and
 * writes are not written through; the pools' watchers bring them.
 */
int	store_open_remote(void);
void	store_close(void);

enum store_result store_get(struct store_ctx *ctx, const char *key, int force,
	    struct store_item *item);
/* Items under prefix in key order; *total counts every match. */
enum store_result store_list(struct store_ctx *ctx, const char *prefix,
	    int64_t limit, int64_t offset, struct store_item **items,
	    size_t *count, int64_t *total);
/* On STORE_OK *item is the stored item and *created says whether it is new. */
enum store_result store_put(struct store_ctx *ctx, const char *key,
	    const char *value, size_t value_len, int64_t lease,
	    const struct store_condition *condition, struct store_item *item,
	    int *created);
enum store_result store_delete(struct store_ctx *ctx, const char *key,
	    const struct store_condition *condition, int64_t *revision);

/*
 * A transaction over several keys, for writes that must hold together
 * (a flag and its environment, an environment and its SDK key index). All
 * checks must hold for the ops to apply; keys are relative, as everywhere.
 */
enum store_check_kind {
	STORE_CHECK_ABSENT,		/* key does not exist */
	STORE_CHECK_PRESENT,		/* key exists */
	STORE_CHECK_REVISION,		/* key exists at this mod_revision */
	STORE_CHECK_PREFIX_EMPTY,	/* no key starts with key */
	STORE_CHECK_PREFIX_UNCHANGED,	/* no key under key changed after revision */
	STORE_CHECK_LEASE,		/* key exists on this lease */
};

struct store_check {
	enum store_check_kind	 kind;
	const char		*key;
	int64_t			 revision;
	const int64_t		*also;		/* REVISION: these will do too */
	size_t			 nalso;
	int64_t			 lease;		/* LEASE: the lease it must be on */
	int			 found;		/* out, on STORE_STALE: key exists */
	int64_t			 current;	/* out, on STORE_STALE: its mod_revision */
	struct store_item	 seen;		/* out, on STORE_STALE when found: the key */
};

enum store_op_kind { STORE_OP_PUT, STORE_OP_DELETE, STORE_OP_DELETE_PREFIX };

struct store_op {
	enum store_op_kind	 kind;
	const char		*key;
	const char		*value;		/* PUT */
	size_t			 value_len;
	int64_t			 lease;
	int			 existed;	/* out, PUT and DELETE: the key was there */
	int64_t			 create_revision;	/* out, PUT */
	int64_t			 version;	/* out, PUT */
};

/*
 * Apply ops atomically if every check holds. STORE_OK with *revision the
 * commit's revision; STORE_STALE with *failed the index of the first check
 * that did not hold. Puts and deletes are written through to the replica.
 */
enum store_result store_commit(struct store_ctx *ctx,
	    struct store_check *checks, size_t nchecks, struct store_op *ops,
	    size_t nops, int64_t *revision, size_t *failed);

/*
 * Users as a query asks for them (store/user_index.h: filters, order, a
 * page), from the replica's users index, never from etcd: *items in the
 * query's order, *total every match; (*plain)[i] when item i's text is
 * exactly as the server writes users (model/user.c serves it as it is).
 * A node without its snapshot yet answers STORE_UNAVAILABLE.
 */
struct user_query;
enum store_result store_user_search(struct store_ctx *ctx,
	    const struct user_query *q, struct store_item **items,
	    unsigned char **plain, size_t *count, int64_t *total);

/*
 * The audit trail as a query asks for it (store/audit_index.h: filters and
 * a page), newest first, from the replica, never from etcd: *rows and
 * their count, *total every match. A node without its snapshot yet
 * answers STORE_UNAVAILABLE.
 */
struct audit_query;
struct audit_row;
enum store_result store_audit_list(struct store_ctx *ctx,
	    const struct audit_query *q, struct audit_row **rows, size_t *count,
	    int64_t *total);

/* A change the replica's event log kept, for /v1/watch. */
struct store_event {
	int			 deleted;
	struct store_item	 item;		/* deletes: key and mod_revision */
};

/*
 * Events under prefix with revision > since, oldest first, at most limit,
 * from the replica's bounded log. STORE_GONE when since is older than the
 * log keeps (the client lists again and watches from that revision).
 */
enum store_result store_events_since(struct store_ctx *ctx, const char *prefix,
	    int64_t since, int64_t limit, struct store_event **events, size_t *count);

/*
 * The replica's generation: it moves whenever the replica may have changed
 * (the watcher applied something, or a responder wrote through). What a
 * process derived from replica reads stays true while the generation it
 * was read at is the current one: the caches of verified credentials,
 * environments and parsed flags rely on that.
 */
struct store_generation {
	int64_t		 revision;
	uint64_t	 writes;
};

struct store_generation store_generation(void);
int	store_generation_current(const struct store_generation *generation);
/* A read answered from such a cache: set ctx->cache and count it like one. */
void	store_count_cached_read(struct store_ctx *ctx);

/* What the replica holds: its revision, and whether a full snapshot is in. */
int64_t	store_replica_revision(void);
int	store_ready(void);
/* Is etcd reachable as far as this pool knows? */
int	store_etcd_up(void);

/* The etcd client options from the configuration (for the watcher too). */
struct etcd_options;
void	store_etcd_options(struct etcd_options *options, char *password,
	    size_t password_len);

#endif
