/*
 * The route table: every endpoint dynconf serves, as const data. Adding an
 * endpoint means adding a row here; routing, scopes, the OpenAPI document,
 * metrics labels and the authorization tests follow from it.
 */
#include "config.h"

#include "config_resource.h"
#include "environment_resource.h"
#include "evaluate_resource.h"
#include "flag_resource.h"
#include "ops.h"
#include "router.h"
#include "token_resource.h"
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

	{ HTTP_POST, "/v1/environments", SCOPE_ENVIRONMENTS_WRITE,
	  handle_environment_create, ROUTE_JSON_BODY,
	  "Create an environment; its SDK key is shown once" },
	{ HTTP_GET, "/v1/environments", SCOPE_FLAGS_READ, handle_environment_list, 0,
	  "List environments" },
	{ HTTP_GET, "/v1/environments/{name}", SCOPE_FLAGS_READ,
	  handle_environment_get, 0, "Read an environment (never its SDK key)" },
	{ HTTP_DELETE, "/v1/environments/{name}", SCOPE_ENVIRONMENTS_WRITE,
	  handle_environment_delete, 0,
	  "Delete an empty environment (?cascade=true: with its flags)" },
	{ HTTP_POST, "/v1/environments/{name}/rotate-key", SCOPE_ENVIRONMENTS_WRITE,
	  handle_environment_rotate_key, 0,
	  "Replace the SDK key; the old one stops working" },

	{ HTTP_GET, "/v1/flags", SCOPE_FLAGS_READ, handle_flag_list, 0,
	  "List flags (?env= ?prefix= ?enabled= ?ordering=)" },
	{ HTTP_PUT, "/v1/flags/{key}", SCOPE_FLAGS_WRITE, handle_flag_put,
	  ROUTE_JSON_BODY, "Create or replace a flag" },
	{ HTTP_POST, "/v1/flags/{key}", SCOPE_FLAGS_WRITE, handle_flag_update,
	  ROUTE_JSON_BODY, "Update a flag at a known revision" },
	{ HTTP_GET, "/v1/flags/{key}", SCOPE_FLAGS_READ, handle_flag_get, 0,
	  "Read a flag (?force=true reads from etcd)" },
	{ HTTP_DELETE, "/v1/flags/{key}", SCOPE_FLAGS_WRITE, handle_flag_delete, 0,
	  "Delete a flag" },
	{ HTTP_POST, "/v1/flags/{key}/evaluate", SCOPE_FLAGS_READ,
	  handle_flag_evaluate, ROUTE_JSON_BODY | ROUTE_SDK_KEY,
	  "Evaluate a flag for {\"context\": {...}}" },
	{ HTTP_GET, "/v1/flags/{key}/evaluate", SCOPE_FLAGS_READ,
	  handle_flag_evaluate, ROUTE_SDK_KEY,
	  "Evaluate a flag for the query's attributes" },
	{ HTTP_POST, "/v1/evaluate", SCOPE_FLAGS_READ, handle_evaluate_all,
	  ROUTE_JSON_BODY | ROUTE_SDK_KEY, "Evaluate every flag of an environment" },

	/* tokens:write for the list too: §2 has no tokens:read. */
	{ HTTP_POST, "/v1/tokens", SCOPE_TOKENS_WRITE, handle_token_create,
	  ROUTE_JSON_BODY, "Make an API token; the token is shown once" },
	{ HTTP_GET, "/v1/tokens", SCOPE_TOKENS_WRITE, handle_token_list, 0,
	  "List API tokens (never the tokens themselves)" },
	{ HTTP_DELETE, "/v1/tokens/{id}", SCOPE_TOKENS_WRITE, handle_token_delete,
	  0, "Revoke an API token on every node" },

	/* The original seed's API: /v1/flags/KEY on the default environment. */
	{ HTTP_PUT, "/feature", SCOPE_FLAGS_WRITE, handle_feature_put,
	  ROUTE_JSON_BODY, "Seed form: create or replace ?feature=KEY" },
	{ HTTP_POST, "/feature", SCOPE_FLAGS_WRITE, handle_feature_update,
	  ROUTE_JSON_BODY, "Seed form: update ?feature=KEY at a revision" },
	{ HTTP_GET, "/feature", SCOPE_FLAGS_READ, handle_feature_get, 0,
	  "Seed form: read ?feature=KEY" },

	/* config:read, or flags:read / services:read for those folders. */
	{ HTTP_GET, "/v1/watch", SCOPE_CONFIG_READ, handle_watch,
	  ROUTE_SCOPE_IN_HANDLER,
	  "Long-poll for changes under a resource folder" },
};

const size_t route_count = ARRAY_SIZE(route_table);
