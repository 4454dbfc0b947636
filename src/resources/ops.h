/*
 * Operations endpoints: health, the OpenAPI document and metrics (API.md §3).
 */
#ifndef DYNCONF_OPS_H
#define DYNCONF_OPS_H

#include "http/router.h"

route_handler	handle_health;
route_handler	handle_ready;
route_handler	handle_openapi;
route_handler	handle_metrics;

#endif
