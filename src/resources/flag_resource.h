/*
 * Feature flags over HTTP (API.md §5): CRUD and lists per environment,
 * evaluation of one flag or all of them, and the original seed's
 * /feature?feature=KEY routes on the default environment.
 */
#ifndef DYNCONF_FLAG_RESOURCE_H
#define DYNCONF_FLAG_RESOURCE_H

#include "http/router.h"

route_handler	handle_flag_put;
route_handler	handle_flag_update;
route_handler	handle_flag_get;
route_handler	handle_flag_delete;
route_handler	handle_flag_list;
route_handler	handle_feature_put;
route_handler	handle_feature_update;
route_handler	handle_feature_get;

#endif
