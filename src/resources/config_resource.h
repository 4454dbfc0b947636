/*
 * Dynamic configuration (API.md §6): any JSON value under a slash-separated
 * key. The etcd value is the JSON text of the value itself, so what
 * `etcdctl put <prefix>config/app/x 100` writes reads back as 100, and a
 * value that is not JSON reads back as a string.
 */
#ifndef DYNCONF_CONFIG_RESOURCE_H
#define DYNCONF_CONFIG_RESOURCE_H

#include "http/router.h"

route_handler	handle_config_put;
route_handler	handle_config_get;
route_handler	handle_config_delete;
route_handler	handle_config_list;

#endif
