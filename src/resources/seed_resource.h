/*
 * The Flask + etcd seed's own API (API.md §7, seed form), on the same data
 * as /v1: /usuarios with Portuguese field names over the users of
 * /v1/users, and /config/{k} {"valor"} over the config entry app/{k}.
 * Success bodies are the seed's; errors are the usual problem documents
 * with the seed's "erro" member too (routes.c marks these ROUTE_SEED).
 */
#ifndef DYNCONF_SEED_RESOURCE_H
#define DYNCONF_SEED_RESOURCE_H

#include "http/router.h"

route_handler	handle_seed_user_create;
route_handler	handle_seed_user_list;
route_handler	handle_seed_user_search;
route_handler	handle_seed_user_get;
route_handler	handle_seed_user_put;
route_handler	handle_seed_user_delete;
route_handler	handle_seed_config_get;
route_handler	handle_seed_config_put;

#endif
