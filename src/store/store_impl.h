/*
 * What the store's own modules (store.c, lease.c) share and nothing above
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

#endif
