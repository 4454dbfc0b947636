/*
 * Distributed locks (API.md §9) as data and etcd operations, with no HTTP
 * in them, so that whatever answers a request (a responder, or the
 * waiting process for an acquisition that waits) acquires the same way. A holding is one key
 * on one lease:
 *
 *	locks/<name>	{"name", "holder", "sha256", "ttl", "acquired_at"}
 *
 * Acquiring grants a lease of ttl seconds and, in one etcd transaction,
 * puts the key on it if the key is absent: two callers can never both
 * hold it. The key's create_revision is the fencing token: every holding
 * creates the key anew, at a revision above every earlier one, so tokens
 * strictly increase from holder to holder, on every node and across
 * restarts, a forced release or a lapse included. The lock token (dcl_ and
 * 32 hex digits: 128 random bits) is shown once; the key holds only its
 * SHA-256. Refreshing renews the lease; releasing revokes it, which deletes
 * the key; a lease nobody renews lapses after ttl and takes the key along.
 *
 * Nothing is answered from the replica. The replica may only point a
 * refresh or a release at the lease its token belongs to (the token's hash
 * names exactly one holding); the outcome is always etcd's. So lock writes
 * leave the replica to the watcher (each call sets ctx->no_write_through).
 * Results use the
 * store's words: STORE_EXISTS is "held by someone else", STORE_STALE "held
 * with another token", STORE_NOT_FOUND "not held".
 */
#ifndef DYNCONF_LOCK_H
#define DYNCONF_LOCK_H

#include <stdint.h>

#include "store/store.h"

#define LOCK_TOKEN_PREFIX	"dcl_"
#define LOCK_TOKEN_BYTES	16
#define LOCK_TOKEN_LEN		(sizeof(LOCK_TOKEN_PREFIX) - 1 + 2 * LOCK_TOKEN_BYTES)
#define LOCK_TTL_MIN		5
#define LOCK_TTL_MAX		3600
#define LOCK_TTL_DEFAULT	30
#define LOCK_WAIT_MAX		60
#define LOCK_HOLDER_MAX		256

/* A holding as etcd has it. Strings live in the store context's arena. */
struct lock_state {
	const char	*name;
	const char	*holder;	/* NULL when the document is corrupt */
	int64_t		 fencing_token;	/* the key's create_revision */
	int64_t		 revision;	/* its mod_revision: wait for a delete after it */
	int64_t		 lease;
	int64_t		 ttl;		/* seconds, as granted */
	int64_t		 acquired_at;	/* unix seconds */
	int64_t		 expires_us;	/* unix µs it lapses at the earliest; 0: never */
	char		 sha256[65];	/* the token's hash, "" when unknown */
};

/* What one acquisition made: the holding and its token, shown once. */
struct lock_acquired {
	struct lock_state state;
	char		 token[LOCK_TOKEN_LEN + 1];
};

/*
 * NULL when holder may name a holder (it is shown to others and logged):
 * text without control characters; else why not. Its length is the route's.
 */
const char *lock_holder_problem(const char *holder);

/* Is text a lock token as lock_try_acquire makes them (dcl_ + 32 hex)? */
int	lock_token_valid(const char *text);

/* "locks/<name>" in the arena. */
const char *lock_key(struct arena *arena, const char *name);

/*
 * One attempt at the lock, never waiting. STORE_OK: *got holds it.
 * STORE_EXISTS: someone else does, *held says who, until when, and at which
 * revision (a waiter waits for the key's delete after held->revision, or
 * its deadline, and calls again). STORE_UNAVAILABLE when etcd could not be
 * reached or did not answer: nothing is held then, the lease granted for
 * the attempt is revoked, or, if etcd cannot be told, left to lapse after
 * ttl (a transaction whose answer was lost may then hold the lock, with a
 * token nobody knows, until it lapses).
 */
enum store_result lock_try_acquire(struct store_ctx *ctx, const char *name,
	    const char *holder, int64_t ttl, struct lock_acquired *got,
	    struct lock_state *held);

/* The holding read from etcd, with its time left: STORE_NOT_FOUND if none. */
enum store_result lock_read(struct store_ctx *ctx, const char *name,
	    struct lock_state *state);

/* Renew the holding of token for its ttl: *state as renewed. */
enum store_result lock_refresh(struct store_ctx *ctx, const char *name,
	    const char *token, struct lock_state *state);

/* Release the holding of token: *state as it was. */
enum store_result lock_release(struct store_ctx *ctx, const char *name,
	    const char *token, struct lock_state *state);

/* Release whoever holds it, without a token (the seed's forced release). */
enum store_result lock_force_release(struct store_ctx *ctx, const char *name,
	    struct lock_state *state);

#endif
