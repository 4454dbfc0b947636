/*
 * /v1/locks (API.md §9): acquire, read, refresh and release distributed
 * locks, and the seed's POST and DELETE /lock/{name}. See lock.h for how a
 * lock lives in etcd.
 */
#ifndef DYNCONF_LOCK_RESOURCE_H
#define DYNCONF_LOCK_RESOURCE_H

#include "http/router.h"
#include "http/wait.h"

route_handler	handle_lock_acquire;
route_handler	handle_lock_get;
route_handler	handle_lock_refresh;
route_handler	handle_lock_release;
route_handler	handle_seed_lock_acquire;
route_handler	handle_seed_lock_release;

/* How a waiting acquisition ends (WAIT_LOCK). */
extern const struct wait_kind lock_wait_kind;

#endif
