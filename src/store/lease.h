/*
 * Leases: the one way dynconf makes keys that vanish by themselves, for
 * service instances (API.md §8) and locks (§9). A lease is etcd's: granted
 * with a TTL, renewed by keep-alives, revoked, or lapsed once nobody renewed
 * it for its TTL. Every key put on it (store_put or store_commit with
 * .lease) is deleted with it, all in one revision, and every node's replica
 * learns of those deletes from the watch like of any other change.
 *
 * Nothing here is answered from the replica: every result is etcd's. A
 * lapsed or revoked lease is STORE_NOT_FOUND in every call. Times are taken
 * on this node before the call, so expires_us is the earliest moment the
 * lease can lapse (etcd starts the TTL when it handles the call, later), a
 * bound a reader can filter by without asking etcd.
 */
#ifndef DYNCONF_LEASE_H
#define DYNCONF_LEASE_H

#include <stdint.h>

#include "store/store.h"

struct store_lease {
	int64_t		 id;
	int64_t		 ttl;		/* seconds, as etcd granted or renewed it */
	int64_t		 expires_us;	/* unix µs: it lapses no earlier */
};

/*
 * A fresh lease of ttl seconds; etcd may grant more than asked (its minimum
 * TTL), lease->ttl says what it granted. STORE_UNAVAILABLE when etcd is out
 * of reach, and also when the answer was lost (the grant may have happened:
 * such a lease holds no key and lapses after ttl by itself).
 */
enum store_result store_lease_grant(struct store_ctx *ctx, int64_t ttl,
	    struct store_lease *lease);

/*
 * Renew lease id for its full TTL: STORE_OK with lease filled in,
 * STORE_NOT_FOUND once it lapsed or was revoked (its keys are gone).
 * Idempotent: a lost answer is retried.
 */
enum store_result store_lease_keepalive(struct store_ctx *ctx, int64_t id,
	    struct store_lease *lease);

/*
 * Revoke lease id: its keys are deleted in one revision. STORE_NOT_FOUND
 * when it had lapsed or was revoked already. Idempotent: a revoke retried
 * after a lost answer finds the lease gone (STORE_NOT_FOUND) though this
 * call revoked it.
 */
enum store_result store_lease_revoke(struct store_ctx *ctx, int64_t id);

/*
 * What is left of lease id: STORE_OK with lease->ttl the seconds left
 * (whole, rounded down, as etcd says) and expires_us from it;
 * STORE_NOT_FOUND once it lapsed or was revoked.
 */
enum store_result store_lease_ttl(struct store_ctx *ctx, int64_t id,
	    struct store_lease *lease);

/* "%016llx" of the lease id (17 bytes with the NUL), and back: 0 if not one. */
void	store_lease_hex(int64_t id, char out[17]);
int64_t	store_lease_parse_hex(const char *text);

#endif
