/*
 * Flag evaluation over HTTP (API.md §5): one flag for a context (POST with
 * {"context":{...}}, or GET with the attributes as query parameters), or
 * every flag of an environment at once.
 */
#ifndef DYNCONF_EVALUATE_RESOURCE_H
#define DYNCONF_EVALUATE_RESOURCE_H

#include "http/router.h"

route_handler	handle_flag_evaluate;
route_handler	handle_evaluate_all;

#endif
