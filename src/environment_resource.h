/*
 * Environments (API.md §4): isolated sets of flags, each with an SDK key
 * that lets a client evaluate flags in it and nothing else. The SDK key is
 * shown when it is made (create, rotate-key) and stored only as its
 * SHA-256, under index/sdk_keys/<hash> → environment name, so that a key
 * can be looked up without ever being kept. "default" always exists.
 */
#ifndef DYNCONF_ENVIRONMENT_RESOURCE_H
#define DYNCONF_ENVIRONMENT_RESOURCE_H

#include "router.h"
#include "store.h"

#define DEFAULT_ENVIRONMENT "default"

route_handler	handle_environment_create;
route_handler	handle_environment_list;
route_handler	handle_environment_get;
route_handler	handle_environment_delete;
route_handler	handle_environment_rotate_key;

/*
 * The environment a flag request names with ?env= (default "default"),
 * checked to exist ("default" is made when missing). With an SDK key it is
 * the key's environment, and ?env= naming another one is refused. NULL
 * after answering 400, 403 or 404.
 */
const char	*environment_of_request(struct exchange *ex, struct store_ctx *ctx);

/*
 * The environment whose SDK key hashes to sha256 (hex): found through the
 * index, then the hash the environment stores is compared in constant time.
 * STORE_NOT_FOUND when no environment has that key.
 */
enum store_result environment_of_sdk_key(struct exchange *ex,
	    struct store_ctx *ctx, const char *sha256, const char **name);

#endif
