/*
 * A small etcd v3 client over the JSON gateway (/v3/...), on libcurl: our
 * "libetcd". It speaks etcd's own terms (keys and values are byte strings,
 * revisions are int64) and hides the gateway's quirks: base64 keys and
 * values, int64 fields sent as strings, zero-valued fields omitted, watch
 * frames that split across HTTP chunks, errors as {"error","code","message"}.
 *
 * One client per process (never share one across fork). It keeps its
 * connection alive, fails over between endpoints, applies a deadline to
 * every call, retries idempotent calls with backoff and jitter inside that
 * deadline (never a write whose outcome is unknown), and consults the
 * pool-wide circuit breaker (breaker.h) before touching the network.
 */
#ifndef DYNCONF_ETCD_H
#define DYNCONF_ETCD_H

#include <stddef.h>
#include <stdint.h>

struct etcd_client;

/*
 * ETCD_UNAVAILABLE promises that a write was not applied: it never reached
 * etcd, or etcd refused it before proposing it to raft. A write that may
 * have been applied (sent, then no answer; or an answer such as "request
 * timed out" that etcd gives after proposing) is ETCD_UNKNOWN.
 */
enum etcd_status {
	ETCD_OK = 0,
	ETCD_UNAVAILABLE,	/* no endpoint answered in time, or breaker open */
	ETCD_COMPACTED,		/* the revision asked for was compacted */
	ETCD_NOT_FOUND,		/* e.g. an unknown or expired lease */
	ETCD_ERROR,		/* etcd answered with an error (see message) */
	ETCD_UNKNOWN,		/* a write that may or may not have been applied */
};

struct etcd_error {
	enum etcd_status status;
	int		 code;		/* gRPC code from the gateway, 0 if none */
	int		 not_sent;	/* refused here: breaker open, deadline past */
	/* Names the endpoint (never its user:password@) when one was tried. */
	char		 message[256];
};

struct etcd_options {
	const char	*endpoints;	/* comma-separated http(s)://host:port */
	int		 timeout_ms;	/* default deadline of one call */
	const char	*username;	/* etcd auth, NULL for none */
	const char	*password;
	const char	*ca_file;	/* TLS, NULL for none */
	const char	*cert_file;
	const char	*key_file;
	int		 use_breaker;	/* consult the shared circuit breaker */
};

struct etcd_kv {
	char		*key;		/* NUL-terminated; key_len excludes the NUL */
	size_t		 key_len;
	char		*value;		/* NUL-terminated; may contain NULs */
	size_t		 value_len;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 lease;
};

struct etcd_range_result {
	int64_t		 revision;	/* header revision */
	struct etcd_kv	*kvs;
	size_t		 count;
	int		 more;
	int64_t		 total;		/* "count" from etcd */
};

struct etcd_range_options {
	const char	*range_end;	/* NULL: just key; etcd_prefix_end() for prefixes */
	size_t		 range_end_len;
	int64_t		 limit;		/* 0: no limit */
	int64_t		 revision;	/* 0: latest */
	int		 serializable;	/* 0: linearizable */
	int		 keys_only;
	int		 count_only;
};

enum etcd_compare_target { ETCD_CMP_VERSION, ETCD_CMP_CREATE, ETCD_CMP_MOD,
	ETCD_CMP_VALUE, ETCD_CMP_LEASE };
enum etcd_compare_result { ETCD_CMP_EQUAL, ETCD_CMP_GREATER, ETCD_CMP_LESS,
	ETCD_CMP_NOT_EQUAL };

struct etcd_compare {
	const char			*key;
	size_t				 key_len;
	enum etcd_compare_target	 target;
	enum etcd_compare_result	 result;
	int64_t				 number;	/* version/create/mod/lease */
	const char			*value;		/* ETCD_CMP_VALUE */
	size_t				 value_len;
	/*
	 * Non-NULL: every key in [key, range_end) must satisfy the compare;
	 * an empty range compares as one absent key (so CREATE == 0 over a
	 * prefix holds exactly when no key has it).
	 */
	const char			*range_end;
	size_t				 range_end_len;
};

enum etcd_op_type { ETCD_OP_PUT, ETCD_OP_DELETE, ETCD_OP_RANGE };

struct etcd_op {
	enum etcd_op_type	 type;
	const char		*key;
	size_t			 key_len;
	const char		*value;		/* PUT */
	size_t			 value_len;
	int64_t			 lease;		/* PUT */
	const char		*range_end;	/* DELETE, RANGE; NULL for one key */
	size_t			 range_end_len;
	int			 prev_kv;	/* PUT, DELETE: return the previous kv */
};

struct etcd_txn {
	const struct etcd_compare	*compare;
	size_t				 ncompare;
	const struct etcd_op		*success;
	size_t				 nsuccess;
	const struct etcd_op		*failure;
	size_t				 nfailure;
};

/* The outcome of one op of the branch taken. */
struct etcd_op_result {
	enum etcd_op_type	 type;
	struct etcd_range_result range;	/* RANGE: kvs; PUT/DELETE: prev kvs */
	int64_t			 deleted;	/* DELETE */
};

struct etcd_txn_result {
	int64_t			 revision;
	int			 succeeded;
	struct etcd_op_result	*results;
	size_t			 count;
};

enum etcd_event_type { ETCD_EVENT_PUT, ETCD_EVENT_DELETE };

struct etcd_event {
	enum etcd_event_type	 type;
	struct etcd_kv		 kv;	/* DELETE: key and mod_revision only */
};

/*
 * Called for the watch responses that carry events or progress, once for
 * all of those that arrived together: all their events in order, and the
 * last one's header revision (which, when that response carries events,
 * does not promise that nothing below it is still to come). Return 0 to go
 * on, non-zero to stop watching (etcd_watch then returns ETCD_OK).
 */
typedef int (*etcd_watch_fn)(void *ctx, int64_t revision,
    const struct etcd_event *events, size_t count);

struct etcd_status_result {
	int64_t		 revision;
	int64_t		 leader;
	int64_t		 member_id;
	int64_t		 raft_term;
	int64_t		 db_size;
	char		 version[32];
};

/* A member of the cluster (etcd_member_list). */
struct etcd_member {
	int64_t		 id;		/* a uint64 in etcd, kept bit for bit */
	char		 name[64];
	char		 client_urls[256];	/* comma-separated */
	int		 is_learner;
};

struct etcd_client *etcd_client_new(const struct etcd_options *options);
void	etcd_client_free(struct etcd_client *client);

/* The endpoint the next call goes to first, fit for a log (no credentials). */
const char *etcd_endpoint(const struct etcd_client *client);

/*
 * The deadline (CLOCK_MONOTONIC microseconds, util.h clock_monotonic_us)
 * that bounds the calls made from now on; 0 restores the default timeout
 * per call. A request sets its own so that no etcd call outlives it.
 */
void	etcd_set_deadline(struct etcd_client *client, int64_t deadline_us);

/* The end of the range covering every key that starts with prefix. */
char	*etcd_prefix_end(const char *prefix, size_t len, size_t *end_len);

/*
 * Every call returns its status, the same as error->status (error may be
 * NULL when only the status matters): switch on it, without a default, so
 * that the compiler names every caller a new status would reach.
 */
enum etcd_status etcd_range(struct etcd_client *client, const char *key,
	    size_t key_len, const struct etcd_range_options *options,
	    struct etcd_range_result *result, struct etcd_error *error);
enum etcd_status etcd_put(struct etcd_client *client, const char *key,
	    size_t key_len, const char *value, size_t value_len, int64_t lease,
	    int64_t *revision, struct etcd_error *error);
enum etcd_status etcd_delete(struct etcd_client *client, const char *key,
	    size_t key_len, const char *range_end, size_t range_end_len,
	    int64_t *deleted, int64_t *revision, struct etcd_error *error);
enum etcd_status etcd_txn(struct etcd_client *client,
	    const struct etcd_txn *txn, struct etcd_txn_result *result,
	    struct etcd_error *error);

/*
 * Leases, as etcd v3.4's gateway answers. A lease is etcd's: the client
 * keeps no state about it and returns no memory, so any client of the same
 * etcd may keep alive or revoke a lease another one granted. Ids are
 * positive; 0 means "no lease" (etcd_put, struct etcd_op). A put on a
 * lease that is gone is ETCD_NOT_FOUND.
 *
 * Each call ends by the deadline (etcd_set_deadline, else timeout_ms from
 * the call): ETCD_UNAVAILABLE when etcd could not be reached or had no
 * leader in time, ETCD_ERROR for an answer not listed below. A grant is
 * never sent again once it may have reached etcd; keep-alive, revoke and
 * time-to-live may be, with backoff, within the deadline.
 *
 * ETCD_UNAVAILABLE says nothing of the lease itself: a keep-alive may or
 * may not have reached etcd. A holder that must know (a lock) takes its
 * lease to end ttl seconds after it sent the last grant or keep-alive that
 * returned ETCD_OK, and acts on it no longer.
 */

/*
 * Grant a lease of ttl seconds. etcd raises a ttl below its minimum (1.5
 * election timeouts, rounded up: 2 s with etcd's defaults), and a ttl of 0
 * or less, to that minimum; *granted_ttl (may be NULL) is what it gave.
 * A ttl above 9,000,000,000 s is ETCD_ERROR ("too large lease TTL").
 * Unless ETCD_OK, *id and *granted_ttl are 0. ETCD_UNKNOWN: a lease may
 * have been granted all the same; nothing keeps it alive, so it expires
 * after its TTL.
 */
enum etcd_status etcd_lease_grant(struct etcd_client *client, int64_t ttl,
	    int64_t *id, int64_t *granted_ttl, struct etcd_error *error);

/*
 * Renew lease id once: etcd restarts its full TTL, which *ttl (may be
 * NULL) gets, when the renewal arrives, so unless revoked the lease lives
 * at least ttl seconds from the call (longer if etcd's leader changes
 * meanwhile: the new one extends every lease). ETCD_NOT_FOUND (error->code 5) when etcd
 * does not know the lease: never granted, revoked, or expired (etcd
 * answers that once it has revoked an expired lease, never renews it).
 * Unless ETCD_OK, *ttl is 0.
 */
enum etcd_status etcd_lease_keepalive(struct etcd_client *client, int64_t id,
	    int64_t *ttl, struct etcd_error *error);

/*
 * Revoke lease id: it and every key attached to it are deleted, in one
 * revision. ETCD_NOT_FOUND (error->code 5) when etcd does not know the
 * lease: never granted, expired, or already revoked, which may be by this
 * very call when an attempt's answer was lost and it was tried again.
 * Either way the lease is gone: to a caller, as good as ETCD_OK.
 */
enum etcd_status etcd_lease_revoke(struct etcd_client *client, int64_t id,
	    struct etcd_error *error);

/*
 * The seconds lease id has left, rounded down, into *ttl, and its granted
 * TTL into *granted_ttl (either may be NULL). A lease etcd does not know
 * (never granted, revoked, expired) is ETCD_OK with *ttl -1 and
 * *granted_ttl 0, not ETCD_NOT_FOUND. *ttl is 0 in the lease's last second,
 * and may be 0 or below for a moment after it expired, until etcd revokes
 * it. Unless ETCD_OK, *ttl is -1 and *granted_ttl 0 as well: check the
 * status before reading them as "expired".
 */
enum etcd_status etcd_lease_timetolive(struct etcd_client *client, int64_t id,
	    int64_t *ttl, int64_t *granted_ttl, struct etcd_error *error);

enum etcd_status etcd_status(struct etcd_client *client,
	    struct etcd_status_result *result, struct etcd_error *error);
/* The cluster's members into *members (free() it), *count of them. */
enum etcd_status etcd_member_list(struct etcd_client *client,
	    struct etcd_member **members, size_t *count, struct etcd_error *error);

/*
 * Watch [key, range_end) from start_revision, calling fn for every
 * response, until fn returns non-zero, the stream fails or idle_timeout_ms
 * passes without a frame (0: no limit). Returns ETCD_COMPACTED (with
 * error->message naming the compact revision) when start_revision is gone.
 * Blocks: the watcher process runs it; responders never do.
 */
enum etcd_status etcd_watch(struct etcd_client *client, const char *key,
	    size_t key_len, const char *range_end, size_t range_end_len,
	    int64_t start_revision, int idle_timeout_ms, etcd_watch_fn fn,
	    void *ctx, struct etcd_error *error);

/*
 * What etcd_watch makes of a stream, without a connection: the bytes of
 * chunks[0..count) go through exactly as libcurl would hand them over (each
 * chunk, then a progress call), and fn gets what a watch would give it.
 * Returns the status etcd_watch would (ETCD_UNAVAILABLE, "stream ended",
 * when the stream ends well). For tests and the fuzz harness
 * (tests/fuzz/fuzz_watch.c).
 */
int	etcd_watch_replay(const char *const *chunks, const size_t *lens,
	    size_t count, etcd_watch_fn fn, void *ctx, struct etcd_error *error);

void	etcd_range_result_free(struct etcd_range_result *result);
void	etcd_txn_result_free(struct etcd_txn_result *result);

#endif
