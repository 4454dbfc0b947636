/*
 * Environments over HTTP (API.md §4): create, list, read, delete, rotate the
 * SDK key, and the environment a flag request names. The SDK key is shown
 * only when it is made (create, rotate-key). The data side is
 * model/environment.c.
 */
#ifndef DYNCONF_ENVIRONMENT_RESOURCE_H
#define DYNCONF_ENVIRONMENT_RESOURCE_H

#include "http/router.h"
#include "model/environment.h"
#include "store/store.h"

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
/* The same for a name the caller chose (NULL: "default"). */
const char	*environment_named(struct exchange *ex, struct store_ctx *ctx,
	    const char *name);

#endif
