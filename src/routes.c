/*
 * The route table: every endpoint dynconf serves, as const data. Adding an
 * endpoint means adding a row here; routing, scopes, the OpenAPI document,
 * metrics labels and the authorization tests follow from it.
 */
#include "config.h"

#include "ops.h"
#include "router.h"
#include "util.h"

const struct route route_table[] = {
	{ HTTP_GET, "/v1/health", SCOPE_PUBLIC, handle_health, 0,
	  "Liveness, version and storage state" },
	{ HTTP_GET, "/v1/openapi.json", SCOPE_PUBLIC, handle_openapi, 0,
	  "This OpenAPI document" },
	{ HTTP_GET, "/v1/metrics", SCOPE_METRICS_READ, handle_metrics, 0,
	  "Prometheus metrics for the whole pool" },
};

const size_t route_count = ARRAY_SIZE(route_table);
