/*
 * The route table: every endpoint dynconf serves, as const data. Adding an
 * endpoint means adding a row here; routing, scopes, the OpenAPI document,
 * metrics labels and the authorization tests follow from it.
 */
#include "config.h"

#include "config_resource.h"
#include "ops.h"
#include "router.h"
#include "util.h"
#include "watch_resource.h"

const struct route route_table[] = {
	{ HTTP_GET, "/v1/health", SCOPE_PUBLIC, handle_health, 0,
	  "Liveness, version and storage state" },
	{ HTTP_GET, "/v1/ready", SCOPE_PUBLIC, handle_ready, 0,
	  "Ready once the replica holds a full snapshot" },
	{ HTTP_GET, "/v1/openapi.json", SCOPE_PUBLIC, handle_openapi, 0,
	  "This OpenAPI document" },
	{ HTTP_GET, "/v1/metrics", SCOPE_METRICS_READ, handle_metrics, 0,
	  "Prometheus metrics for the whole pool" },

	{ HTTP_GET, "/v1/config", SCOPE_CONFIG_READ, handle_config_list, 0,
	  "List config entries under ?prefix=" },
	{ HTTP_PUT, "/v1/config/{key...}", SCOPE_CONFIG_WRITE, handle_config_put,
	  ROUTE_JSON_BODY, "Create or replace a config entry" },
	{ HTTP_GET, "/v1/config/{key...}", SCOPE_CONFIG_READ, handle_config_get, 0,
	  "Read a config entry (?force=true reads from etcd)" },
	{ HTTP_DELETE, "/v1/config/{key...}", SCOPE_CONFIG_WRITE,
	  handle_config_delete, 0, "Delete a config entry" },

	/*
	 * config:read for now; per-prefix scopes (flags:read for flags/, ...)
	 * come with the authorization work, checked in the handler.
	 */
	{ HTTP_GET, "/v1/watch", SCOPE_CONFIG_READ, handle_watch, 0,
	  "Long-poll for changes under a resource folder" },
};

const size_t route_count = ARRAY_SIZE(route_table);
