/*
 * The route table: every endpoint dynconf serves, as const data, with the
 * query parameters and body fields each takes. Adding an endpoint means
 * adding a row here; routing, scopes, input validation, the OpenAPI
 * document, metrics labels and the authorization tests follow from it.
 */
#include "config.h"

#include "base/util.h"
#include "http/router.h"
#include "http/wait.h"
#include "model/flag.h"
#include "model/keys.h"
#include "model/lock.h"
#include "model/service.h"
#include "model/token.h"
#include "resources/audit_resource.h"
#include "resources/config_resource.h"
#include "resources/environment_resource.h"
#include "resources/evaluate_resource.h"
#include "resources/flag_resource.h"
#include "resources/flagsmith_resource.h"
#include "resources/lock_resource.h"
#include "resources/ofrep_resource.h"
#include "resources/ops.h"
#include "resources/responses.h"
#include "resources/segment_resource.h"
#include "resources/seed_resource.h"
#include "resources/service_resource.h"
#include "resources/token_resource.h"
#include "resources/user_resource.h"
#include "resources/watch_resource.h"
#include "resources/whoami_resource.h"
#include "store/user_doc.h"

/* -- query parameters */

static const struct param_spec force_query[] = { SPEC_FORCE, SPEC_END };

static const struct param_spec page_query[] = { SPEC_LIMIT, SPEC_OFFSET, SPEC_END };

static const struct param_spec config_list_query[] = {
	{ "prefix", SPEC_STRING, 0, 0, CONFIG_KEY_MAX_LEN,
	  "Only keys that start with it (app/ or app/ht)" },
	SPEC_LIMIT, SPEC_OFFSET, SPEC_END
};

static const struct param_spec environment_list_query[] = {
	SPEC_LIMIT, SPEC_OFFSET,
	{ "ordering", SPEC_STRING, 0, 0, 256,
	  "name (the default) or created_at, '-' first for descending" },
	SPEC_END
};

static const struct param_spec environment_delete_query[] = {
	{ "cascade", SPEC_BOOL, 0, 0, 0, "true: delete its flags with it" },
	SPEC_END
};

static const struct param_spec env_query[] = { SPEC_ENV, SPEC_END };

static const struct param_spec flag_get_query[] = { SPEC_ENV, SPEC_FORCE, SPEC_END };

static const struct param_spec flag_list_query[] = {
	SPEC_ENV,
	{ "prefix", SPEC_STRING, 0, 0, NAME_MAX_LEN,
	  "Only flags whose key starts with it" },
	{ "enabled", SPEC_BOOL, 0, 0, 0, "Only enabled (true) or disabled (false) flags" },
	SPEC_LIMIT, SPEC_OFFSET,
	{ "ordering", SPEC_STRING, 0, 0, 256,
	  "key (the default), created_at, updated_at; '-' first for descending" },
	SPEC_END
};

/* The other parameters of a GET evaluation are the context's attributes. */
static const struct param_spec evaluate_query[] = { SPEC_ENV, SPEC_FORCE, SPEC_END };

#define SPEC_FEATURE { "feature", SPEC_NAME, SPEC_REQUIRED, 0, 0, \
	"The flag's key, in the default environment" }
static const struct param_spec feature_query[] = { SPEC_FEATURE, SPEC_END };
static const struct param_spec feature_get_query[] = { SPEC_FEATURE, SPEC_FORCE, SPEC_END };

static const struct param_spec watch_query[] = {
	{ "prefix", SPEC_STRING, SPEC_REQUIRED, 0, 0,
	  "A resource folder and a key prefix: config/..., flags/ENV/..., services/NAME/..." },
	{ "since", SPEC_INT, 0, 0, INT64_MAX,
	  "Answer changes after this revision (without it: at once, no events)" },
	{ "timeout", SPEC_INT, 0, 0, WATCH_MAX_TIMEOUT,
	  "Seconds to wait for a change (default 30)" },
	SPEC_END
};

static const struct param_spec flagsmith_flags_query[] = {
	{ "feature", SPEC_STRING, 0, 1, 0, "Only this flag (404 when there is none)" },
	SPEC_END
};

static const struct param_spec flagsmith_identity_query[] = {
	{ "identifier", SPEC_STRING, SPEC_REQUIRED, 1, IDENTITY_MAX_LEN,
	  "The identity: 1 to 256 bytes, no '/' or control characters" },
	SPEC_END
};

#define USER_FILTERS \
	{ "email", SPEC_STRING, 0, 1, USER_EMAIL_MAX, \
	  "Only the user with this email (in any case)" }, \
	{ "search", SPEC_STRING, 0, 1, USER_NAME_MAX_BYTES, \
	  "Only users whose name or email holds it (in any case)" }, \
	SPEC_LIMIT, SPEC_OFFSET, \
	{ "ordering", SPEC_STRING, 0, 0, 256, "name, email, age, created_at " \
	  "(the default), updated_at; '-' first for descending" }
#define USER_NAME_FILTER(required) \
	{ "name", SPEC_STRING, required, 1, USER_NAME_MAX_BYTES, \
	  "Only users whose name holds it (in any case)" }

static const struct param_spec user_list_query[] = {
	USER_NAME_FILTER(0), USER_FILTERS, SPEC_END
};

static const struct param_spec user_search_query[] = {
	USER_NAME_FILTER(SPEC_REQUIRED), USER_FILTERS, SPEC_END
};

static const struct param_spec seed_search_query[] = {
	{ "nome", SPEC_STRING, SPEC_REQUIRED, 1, USER_NAME_MAX_BYTES,
	  "Users whose name holds it (in any case)" },
	SPEC_LIMIT, SPEC_OFFSET, SPEC_END
};

static const struct param_spec audit_query[] = {
	{ "resource", SPEC_NAME, 0, 0, 0, "Only this resource: config, flags, users..." },
	{ "key", SPEC_STRING, 0, 1, STORED_KEY_MAX_LEN,
	  "Only this key of the resource (prod/x for a flag); ending in '/', every key under it" },
	{ "actor", SPEC_STRING, 0, 1, 300, "Only changes by this actor (a token's name, "
	  "a JWT's sub, sdk:ENV, etcd, lease)" },
	{ "since", SPEC_SINCE, 0, 1, 64, "Only changes after this revision, or at or "
	  "after this RFC 3339 time" },
	SPEC_LIMIT, SPEC_OFFSET, SPEC_END
};

/* -- bodies */

static const struct param_spec segment_body[] = {
	{ "name", SPEC_STRING, 0, 0, 0, "The segment's name; must equal the path's" },
	{ "description", SPEC_STRING, 0, 0, 0, "Free text" },
	{ "criteria", SPEC_OBJECT, SPEC_REQUIRED, 0, 0,
	  "Attribute matchers, as a flag's, that must all hold" },
	{ "revision", SPEC_ANY, 0, 0, 0, "Ignored: send If-Match" },
	{ "created_at", SPEC_STRING, 0, 0, 0, "Ignored: set by the server" },
	{ "updated_at", SPEC_STRING, 0, 0, 0, "Ignored: set by the server" },
	SPEC_END
};

/* Flagsmith's SDKs send these; other fields are ignored, as Flagsmith does. */
static const struct param_spec flagsmith_identity_body[] = {
	{ "identifier", SPEC_STRING, SPEC_REQUIRED, 1, IDENTITY_MAX_LEN,
	  "The identity: 1 to 256 bytes, no '/' or control characters" },
	{ "traits", SPEC_ARRAY, SPEC_NULLABLE, 0, IDENTITY_MAX_TRAITS,
	  "{trait_key, trait_value, transient}: null removes a trait" },
	{ "transient", SPEC_BOOL, SPEC_NULLABLE, 0, 0,
	  "true: store neither the identity nor its traits" },
	SPEC_END
};

/* An object of flag key: count, checked by the handler. */
static const struct param_spec any_object_body[] = { SPEC_END };

static const struct param_spec config_body[] = {
	{ "value", SPEC_ANY, SPEC_REQUIRED, 0, 0, "The value: any JSON, null included" },
	SPEC_END
};

static const struct param_spec environment_body[] = {
	{ "name", SPEC_NAME, SPEC_REQUIRED, 0, 0, "The environment's name" },
	SPEC_END
};

/* flag.c checks the document through; these are its top-level members. */
static const struct param_spec flag_body[] = {
	{ "key", SPEC_STRING, 0, 0, 0, "The flag's key; must equal the path's" },
	{ "description", SPEC_STRING, 0, 0, 0, "Free text" },
	{ "enabled", SPEC_BOOL, 0, 0, 0, "false: always the default (default true)" },
	{ "criteria", SPEC_OBJECT, SPEC_NULLABLE, 0, 0,
	  "Attribute matchers that must all hold for value" },
	{ "value", SPEC_ANY, 0, 0, 0, "The value when the criteria hold" },
	{ "default", SPEC_ANY, 0, 0, 0, "The value otherwise" },
	{ "variants", SPEC_ARRAY, 0, 0, FLAG_MAX_VARIANTS,
	  "Weighted values {name, value, weight} split by targetingKey" },
	{ "rules", SPEC_ARRAY, 0, 0, FLAG_MAX_RULES,
	  "{criteria, value | variants}, the first that matches wins" },
	{ "revision", SPEC_ANY, 0, 0, 0,
	  "The revision this document was read at: a stale one is a 409" },
	{ "created_at", SPEC_STRING, 0, 0, 0, "Ignored: set by the server" },
	{ "updated_at", SPEC_STRING, 0, 0, 0, "Ignored: set by the server" },
	SPEC_END
};

static const struct param_spec evaluate_body[] = {
	{ "context", SPEC_OBJECT, SPEC_NULLABLE, 0, 0,
	  "targetingKey and the attributes criteria read" },
	SPEC_END
};

static const struct param_spec token_body[] = {
	{ "name", SPEC_NAME, SPEC_REQUIRED, 0, 0, "What the token is for" },
	{ "scopes", SPEC_ARRAY, SPEC_REQUIRED, 1, 64,
	  "Scopes, none its maker lacks" },
	{ "ttl", SPEC_INT, SPEC_NULLABLE, 1, TOKEN_MAX_TTL,
	  "Seconds it lives (at most as long as its maker)" },
	SPEC_END
};

/* Other members are the user's own, kept as given (ROUTE_OPEN_BODY). */
#define USER_BODY(name_flags) \
	{ "name", SPEC_STRING, name_flags, 1, USER_NAME_MAX_BYTES, \
	  "1 to 200 characters" }, \
	{ "email", SPEC_STRING, SPEC_NULLABLE, 1, USER_EMAIL_MAX, \
	  "An email address, no other user's (in any case)" }, \
	{ "age", SPEC_INT, SPEC_NULLABLE, 0, USER_AGE_MAX, "0 to 150" }, \
	{ "id", SPEC_STRING, 0, 0, 0, "Set by the server; if sent, the path's" }, \
	{ "revision", SPEC_ANY, 0, 0, 0, \
	  "The revision it was read at: a stale one is a 409" }, \
	{ "created_at", SPEC_ANY, 0, 0, 0, "Ignored: set by the server" }, \
	{ "updated_at", SPEC_ANY, 0, 0, 0, "Ignored: set by the server" }, \
	{ "nome", SPEC_ANY, 0, 0, 0, "Refused: /usuarios's name for name" }, \
	{ "idade", SPEC_ANY, 0, 0, 0, "Refused: /usuarios's name for age" }, \
	{ "_id", SPEC_ANY, 0, 0, 0, "Refused: /usuarios's name for id" }

static const struct param_spec user_body[] = { USER_BODY(SPEC_REQUIRED), SPEC_END };

/* RFC 7386: null removes a member (name cannot go). */
static const struct param_spec user_patch_body[] = {
	USER_BODY(SPEC_NULLABLE), SPEC_END
};

static const struct param_spec seed_user_body[] = {
	{ "nome", SPEC_STRING, SPEC_REQUIRED, 1, USER_NAME_MAX_BYTES,
	  "The name: 1 to 200 characters" },
	{ "email", SPEC_STRING, SPEC_NULLABLE, 1, USER_EMAIL_MAX,
	  "An email address, no other user's (in any case)" },
	{ "idade", SPEC_INT, SPEC_NULLABLE, 0, USER_AGE_MAX, "The age: 0 to 150" },
	{ "_id", SPEC_STRING, 0, 0, 0, "Set by the server; if sent, the path's" },
	{ "name", SPEC_ANY, 0, 0, 0, "Refused: /v1/users's name for nome" },
	{ "age", SPEC_ANY, 0, 0, 0, "Refused: /v1/users's name for idade" },
	{ "id", SPEC_ANY, 0, 0, 0, "Refused: /v1/users's name for _id" },
	SPEC_END
};

static const struct param_spec seed_config_body[] = {
	{ "valor", SPEC_ANY, SPEC_REQUIRED, 0, 0, "The value: any JSON, null included" },
	SPEC_END
};

#define SPEC_SERVICE_TTL { "ttl", SPEC_INT, 0, SERVICE_TTL_MIN, SERVICE_TTL_MAX, \
	"Seconds it lives without a heartbeat, 5 to 3600 (default 30)" }
#define SPEC_ENDPOINT { "endpoint", SPEC_STRING, SPEC_REQUIRED, 1, \
	SERVICE_ENDPOINT_MAX, "An http:// or https:// URL with a host, or host:port" }

static const struct param_spec instance_body[] = {
	SPEC_ENDPOINT, SPEC_SERVICE_TTL,
	{ "metadata", SPEC_OBJECT, SPEC_NULLABLE, 0, 0,
	  "Anything the clients want to know, at most 4096 bytes of JSON" },
	SPEC_END
};

static const struct param_spec seed_instance_body[] = {
	{ "nome", SPEC_NAME, SPEC_REQUIRED, 0, 0, "The service's name" },
	SPEC_ENDPOINT, SPEC_SERVICE_TTL, SPEC_END
};

#define SPEC_HOLDER { "holder", SPEC_STRING, SPEC_REQUIRED, 1, LOCK_HOLDER_MAX, \
	"Who holds it (shown to others)" }
#define SPEC_LOCK_TTL { "ttl", SPEC_INT, 0, LOCK_TTL_MIN, LOCK_TTL_MAX, \
	"Seconds it is held without a refresh, 5 to 3600 (default 30)" }

static const struct param_spec lock_body[] = {
	SPEC_HOLDER, SPEC_LOCK_TTL,
	{ "wait", SPEC_INT, 0, 0, LOCK_WAIT_MAX,
	  "Seconds to wait for a held lock, 0 to 60 (default 0: a held lock "
	  "answers 409 at once)" },
	SPEC_END
};

static const struct param_spec seed_lock_body[] = {
	SPEC_HOLDER, SPEC_LOCK_TTL, SPEC_END
};

static const struct param_spec lock_token_body[] = {
	{ "token", SPEC_STRING, 0, 0, 0,
	  "The lock's token (or send it as X-Lock-Token)" },
	SPEC_END
};

const struct route route_table[] = {
	{ .method = HTTP_GET, .pattern = "/v1/health", .scope = SCOPE_PUBLIC,
	  .handler = handle_health, .response = &response_health, .summary = "Liveness, version and storage state" },
	{ .method = HTTP_GET, .pattern = "/v1/ready", .scope = SCOPE_PUBLIC,
	  .handler = handle_ready, .response = &response_ready,
	  .summary = "Ready once the replica holds a full snapshot" },
	{ .method = HTTP_GET, .pattern = "/v1/openapi.json", .scope = SCOPE_PUBLIC,
	  .handler = handle_openapi, .response = &response_openapi, .summary = "This OpenAPI document" },
	{ .method = HTTP_GET, .pattern = "/v1/metrics", .scope = SCOPE_METRICS_READ,
	  .handler = handle_metrics, .response = &response_metrics, .summary = "Prometheus metrics for the whole pool" },
	{ .method = HTTP_GET, .pattern = "/v1/whoami", .scope = SCOPE_PUBLIC,
	  .flags = ROUTE_ANY_CREDENTIAL, .handler = handle_whoami, .response = &response_whoami,
	  .summary = "Who the credential names, and its scopes (any valid credential)" },

	{ .method = HTTP_GET, .pattern = "/v1/config", .scope = SCOPE_CONFIG_READ,
	  .handler = handle_config_list, .response = &response_config_list, .query = config_list_query,
	  .summary = "List config entries under ?prefix=" },
	{ .method = HTTP_PUT, .pattern = "/v1/config/{key...}",
	  .scope = SCOPE_CONFIG_WRITE, .handler = handle_config_put, .response = &response_config,
	  .flags = ROUTE_JSON_BODY, .body = config_body,
	  .summary = "Create or replace a config entry" },
	{ .method = HTTP_GET, .pattern = "/v1/config/{key...}",
	  .scope = SCOPE_CONFIG_READ, .handler = handle_config_get, .response = &response_config,
	  .query = force_query,
	  .summary = "Read a config entry (?force=true reads from etcd)" },
	{ .method = HTTP_DELETE, .pattern = "/v1/config/{key...}",
	  .scope = SCOPE_CONFIG_WRITE, .handler = handle_config_delete, .response = &response_no_content,
	  .summary = "Delete a config entry" },

	{ .method = HTTP_POST, .pattern = "/v1/environments",
	  .scope = SCOPE_ENVIRONMENTS_WRITE, .handler = handle_environment_create, .response = &response_environment_created,
	  .flags = ROUTE_JSON_BODY, .body = environment_body,
	  .summary = "Create an environment; its SDK key is shown once" },
	{ .method = HTTP_GET, .pattern = "/v1/environments",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_environment_list, .response = &response_environment_list,
	  .query = environment_list_query, .summary = "List environments" },
	{ .method = HTTP_GET, .pattern = "/v1/environments/{name}",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_environment_get, .response = &response_environment,
	  .summary = "Read an environment (never its SDK key)" },
	{ .method = HTTP_DELETE, .pattern = "/v1/environments/{name}",
	  .scope = SCOPE_ENVIRONMENTS_WRITE, .handler = handle_environment_delete, .response = &response_no_content,
	  .query = environment_delete_query,
	  .summary = "Delete an empty environment (?cascade=true: with its flags)" },
	{ .method = HTTP_POST, .pattern = "/v1/environments/{name}/rotate-key",
	  .scope = SCOPE_ENVIRONMENTS_WRITE,
	  .handler = handle_environment_rotate_key, .response = &response_environment,
	  .summary = "Replace the SDK key; the old one stops working" },

	{ .method = HTTP_GET, .pattern = "/v1/flags", .scope = SCOPE_FLAGS_READ,
	  .handler = handle_flag_list, .response = &response_flag_list, .query = flag_list_query,
	  .summary = "List flags (?env= ?prefix= ?enabled= ?ordering=)" },
	{ .method = HTTP_PUT, .pattern = "/v1/flags/{key}", .scope = SCOPE_FLAGS_WRITE,
	  .handler = handle_flag_put, .response = &response_flag_created, .flags = ROUTE_JSON_BODY,
	  .query = env_query, .body = flag_body,
	  .summary = "Create or replace a flag" },
	{ .method = HTTP_POST, .pattern = "/v1/flags/{key}", .scope = SCOPE_FLAGS_WRITE,
	  .handler = handle_flag_update, .response = &response_flag, .flags = ROUTE_JSON_BODY,
	  .query = env_query, .body = flag_body,
	  .summary = "Update a flag at a known revision" },
	{ .method = HTTP_GET, .pattern = "/v1/flags/{key}", .scope = SCOPE_FLAGS_READ,
	  .handler = handle_flag_get, .response = &response_flag, .query = flag_get_query,
	  .summary = "Read a flag (?force=true reads from etcd)" },
	{ .method = HTTP_DELETE, .pattern = "/v1/flags/{key}",
	  .scope = SCOPE_FLAGS_WRITE, .handler = handle_flag_delete, .response = &response_no_content,
	  .query = env_query, .summary = "Delete a flag" },
	{ .method = HTTP_POST, .pattern = "/v1/flags/{key}/evaluate",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_flag_evaluate, .response = &response_evaluation,
	  .flags = ROUTE_JSON_BODY | ROUTE_SDK_KEY | ROUTE_BODY_OPTIONAL,
	  .query = env_query, .body = evaluate_body, .invalid_code = "invalid_context",
	  .summary = "Evaluate a flag for {\"context\": {...}}" },
	{ .method = HTTP_GET, .pattern = "/v1/flags/{key}/evaluate",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_flag_evaluate, .response = &response_evaluation,
	  .flags = ROUTE_SDK_KEY | ROUTE_OPEN_QUERY, .query = evaluate_query,
	  .summary = "Evaluate a flag for the query's attributes" },
	{ .method = HTTP_POST, .pattern = "/v1/evaluate", .scope = SCOPE_FLAGS_READ,
	  .handler = handle_evaluate_all, .response = &response_evaluation_all,
	  .flags = ROUTE_JSON_BODY | ROUTE_SDK_KEY | ROUTE_BODY_OPTIONAL,
	  .query = env_query, .body = evaluate_body, .invalid_code = "invalid_context",
	  .summary = "Evaluate every flag of an environment" },

	{ .method = HTTP_GET, .pattern = "/v1/segments", .scope = SCOPE_FLAGS_READ,
	  .handler = handle_segment_list, .response = &response_segment_list, .query = page_query,
	  .summary = "List segments (shared by every environment)" },
	{ .method = HTTP_PUT, .pattern = "/v1/segments/{name}",
	  .scope = SCOPE_FLAGS_WRITE, .handler = handle_segment_put, .response = &response_segment_created,
	  .flags = ROUTE_JSON_BODY, .body = segment_body,
	  .summary = "Create or replace a segment; every flag using it follows" },
	{ .method = HTTP_GET, .pattern = "/v1/segments/{name}",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_segment_get, .response = &response_segment,
	  .query = force_query, .summary = "Read a segment" },
	{ .method = HTTP_DELETE, .pattern = "/v1/segments/{name}",
	  .scope = SCOPE_FLAGS_WRITE, .handler = handle_segment_delete, .response = &response_no_content,
	  .summary = "Delete a segment no flag uses (409 segment_in_use)" },

	/* The Flagsmith SDK API: the SDK key is X-Environment-Key. */
	{ .method = HTTP_GET, .pattern = "/api/v1/flags/", .scope = SCOPE_FLAGS_READ,
	  .handler = handle_flagsmith_flags, .response = &response_flagsmith_flags, .flags = ROUTE_SDK_KEY | ROUTE_FLAGSMITH,
	  .query = flagsmith_flags_query,
	  .summary = "Flagsmith SDKs: the environment's flags" },
	{ .method = HTTP_POST, .pattern = "/api/v1/identities/",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_flagsmith_identify, .response = &response_flagsmith_identity,
	  .flags = ROUTE_JSON_BODY | ROUTE_OPEN_BODY | ROUTE_SDK_KEY | ROUTE_FLAGSMITH,
	  .body = flagsmith_identity_body,
	  .summary = "Flagsmith SDKs: an identity's flags; its traits stored" },
	{ .method = HTTP_GET, .pattern = "/api/v1/identities/",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_flagsmith_identity, .response = &response_flagsmith_identity,
	  .flags = ROUTE_SDK_KEY | ROUTE_FLAGSMITH, .query = flagsmith_identity_query,
	  .summary = "Flagsmith SDKs: an identity's flags with its stored traits" },
	{ .method = HTTP_POST, .pattern = "/api/v1/analytics/flags/",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_flagsmith_analytics, .response = &response_flagsmith_analytics,
	  .flags = ROUTE_JSON_BODY | ROUTE_OPEN_BODY | ROUTE_SDK_KEY | ROUTE_FLAGSMITH,
	  .body = any_object_body,
	  .summary = "Flagsmith SDKs: evaluation counts, into /v1/metrics" },

	/* OFREP: an SDK key or a token as Bearer or X-API-Key. */
	{ .method = HTTP_POST, .pattern = "/ofrep/v1/evaluate/flags/{key}",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_ofrep_evaluate, .response = &response_ofrep_evaluation,
	  .flags = ROUTE_JSON_BODY | ROUTE_SDK_KEY | ROUTE_BODY_OPTIONAL | ROUTE_OFREP,
	  .query = env_query, .body = evaluate_body, .invalid_code = "invalid_context",
	  .on_error = ofrep_error, .summary = "OFREP: evaluate one flag" },
	{ .method = HTTP_POST, .pattern = "/ofrep/v1/evaluate/flags",
	  .scope = SCOPE_FLAGS_READ, .handler = handle_ofrep_bulk, .response = &response_ofrep_bulk,
	  .flags = ROUTE_JSON_BODY | ROUTE_SDK_KEY | ROUTE_BODY_OPTIONAL | ROUTE_OFREP,
	  .query = env_query, .body = evaluate_body, .invalid_code = "invalid_context",
	  .on_error = ofrep_error,
	  .summary = "OFREP: evaluate every flag (ETag, If-None-Match: 304)" },

	/* tokens:write for the list too: §2 has no tokens:read. */
	{ .method = HTTP_POST, .pattern = "/v1/tokens", .scope = SCOPE_TOKENS_WRITE,
	  .handler = handle_token_create, .response = &response_token_created, .flags = ROUTE_JSON_BODY,
	  .body = token_body,
	  .summary = "Make an API token; the token is shown once" },
	{ .method = HTTP_GET, .pattern = "/v1/tokens", .scope = SCOPE_TOKENS_WRITE,
	  .handler = handle_token_list, .response = &response_token_list, .query = page_query,
	  .summary = "List API tokens (never the tokens themselves)" },
	{ .method = HTTP_DELETE, .pattern = "/v1/tokens/{id}",
	  .scope = SCOPE_TOKENS_WRITE, .handler = handle_token_delete, .response = &response_no_content,
	  .summary = "Revoke an API token on every node" },

	/* The original seed's API: /v1/flags/KEY on the default environment. */
	{ .method = HTTP_PUT, .pattern = "/feature", .scope = SCOPE_FLAGS_WRITE,
	  .handler = handle_feature_put, .response = &response_flag_created, .flags = ROUTE_JSON_BODY,
	  .query = feature_query, .body = flag_body,
	  .summary = "Seed form: create or replace ?feature=KEY" },
	{ .method = HTTP_POST, .pattern = "/feature", .scope = SCOPE_FLAGS_WRITE,
	  .handler = handle_feature_update, .response = &response_flag, .flags = ROUTE_JSON_BODY,
	  .query = feature_query, .body = flag_body,
	  .summary = "Seed form: update ?feature=KEY at a revision" },
	{ .method = HTTP_GET, .pattern = "/feature", .scope = SCOPE_FLAGS_READ,
	  .handler = handle_feature_get, .response = &response_flag, .query = feature_get_query,
	  .summary = "Seed form: read ?feature=KEY" },

	{ .method = HTTP_POST, .pattern = "/v1/users", .response = &response_user_new, .scope = SCOPE_USERS_WRITE,
	  .handler = handle_user_create, .flags = ROUTE_JSON_BODY | ROUTE_OPEN_BODY,
	  .body = user_body, .body_check = user_body_check,
	  .summary = "Create a user; its id is made by the server" },
	{ .method = HTTP_GET, .pattern = "/v1/users", .response = &response_user_list, .scope = SCOPE_USERS_READ,
	  .handler = handle_user_list, .query = user_list_query,
	  .summary = "List and search users (?name= ?email= ?search= ?ordering=)" },
	{ .method = HTTP_GET, .pattern = "/v1/users/search", .response = &response_user_list, .scope = SCOPE_USERS_READ,
	  .handler = handle_user_list, .query = user_search_query,
	  .summary = "Users whose name holds ?name= (in any case)" },
	{ .method = HTTP_GET, .pattern = "/v1/users/{id}", .response = &response_user, .scope = SCOPE_USERS_READ,
	  .handler = handle_user_get, .query = force_query,
	  .summary = "Read a user (?force=true reads from etcd)" },
	{ .method = HTTP_PUT, .pattern = "/v1/users/{id}", .response = &response_user_created, .scope = SCOPE_USERS_WRITE,
	  .handler = handle_user_put, .flags = ROUTE_JSON_BODY | ROUTE_OPEN_BODY,
	  .body = user_body, .body_check = user_body_check,
	  .summary = "Create or replace a user, whole" },
	{ .method = HTTP_PATCH, .pattern = "/v1/users/{id}", .response = &response_user, .scope = SCOPE_USERS_WRITE,
	  .handler = handle_user_patch, .flags = ROUTE_JSON_BODY | ROUTE_OPEN_BODY,
	  .body = user_patch_body, .body_check = user_body_check,
	  .summary = "Change a user with a merge patch (RFC 7386)" },
	{ .method = HTTP_DELETE, .pattern = "/v1/users/{id}", .response = &response_no_content,
	  .scope = SCOPE_USERS_WRITE, .handler = handle_user_delete,
	  .summary = "Delete a user" },

	/* The Flask + etcd seed's own API, on the same users and config. */
	{ .method = HTTP_POST, .pattern = "/usuarios", .response = &response_seed_created, .scope = SCOPE_USERS_WRITE,
	  .handler = handle_seed_user_create,
	  .flags = ROUTE_JSON_BODY | ROUTE_OPEN_BODY | ROUTE_SEED,
	  .body = seed_user_body, .body_check = seed_user_body_check,
	  .summary = "Seed form: create a user {nome, email, idade}" },
	{ .method = HTTP_GET, .pattern = "/usuarios", .response = &response_seed_user_list, .scope = SCOPE_USERS_READ,
	  .handler = handle_seed_user_list, .flags = ROUTE_SEED, .query = page_query,
	  .summary = "Seed form: every user, as a JSON array" },
	{ .method = HTTP_GET, .pattern = "/usuarios/buscar", .response = &response_seed_user_list, .scope = SCOPE_USERS_READ,
	  .handler = handle_seed_user_search, .flags = ROUTE_SEED,
	  .query = seed_search_query,
	  .summary = "Seed form: users whose name holds ?nome=" },
	{ .method = HTTP_GET, .pattern = "/usuarios/{id}", .response = &response_seed_user, .scope = SCOPE_USERS_READ,
	  .handler = handle_seed_user_get, .flags = ROUTE_SEED,
	  .summary = "Seed form: read a user" },
	{ .method = HTTP_PUT, .pattern = "/usuarios/{id}", .response = &response_seed_message, .scope = SCOPE_USERS_WRITE,
	  .handler = handle_seed_user_put,
	  .flags = ROUTE_JSON_BODY | ROUTE_OPEN_BODY | ROUTE_SEED,
	  .body = seed_user_body, .body_check = seed_user_body_check,
	  .summary = "Seed form: replace a user" },
	{ .method = HTTP_DELETE, .pattern = "/usuarios/{id}", .response = &response_seed_message,
	  .scope = SCOPE_USERS_WRITE, .handler = handle_seed_user_delete,
	  .flags = ROUTE_SEED, .summary = "Seed form: delete a user" },
	{ .method = HTTP_GET, .pattern = "/config/{key...}", .response = &response_seed_config, .scope = SCOPE_CONFIG_READ,
	  .handler = handle_seed_config_get, .flags = ROUTE_SEED,
	  .summary = "Seed form: {\"K\": value} of the config entry app/K" },
	{ .method = HTTP_PUT, .pattern = "/config/{key...}", .response = &response_seed_message, .scope = SCOPE_CONFIG_WRITE,
	  .handler = handle_seed_config_put, .flags = ROUTE_JSON_BODY | ROUTE_SEED,
	  .body = seed_config_body,
	  .summary = "Seed form: set the config entry app/K to {\"valor\": value}" },
	{ .method = HTTP_GET, .pattern = "/v1/services", .response = &response_service_list, .scope = SCOPE_SERVICES_READ,
	  .handler = handle_service_list, .query = page_query,
	  .summary = "Services with live instances, and how many" },
	{ .method = HTTP_GET, .pattern = "/v1/services/{name}", .response = &response_service,
	  .scope = SCOPE_SERVICES_READ, .handler = handle_service_get,
	  .summary = "A service's live instances" },
	{ .method = HTTP_POST, .pattern = "/v1/services/{name}/instances", .response = &response_instance_created,
	  .scope = SCOPE_SERVICES_WRITE, .handler = handle_service_register,
	  .flags = ROUTE_JSON_BODY, .body = instance_body,
	  .summary = "Register an instance on a lease of ttl seconds" },
	{ .method = HTTP_POST,
	  .pattern = "/v1/services/{name}/instances/{id}/heartbeat", .response = &response_instance,
	  .scope = SCOPE_SERVICES_WRITE, .handler = handle_service_heartbeat,
	  .summary = "Renew an instance for its ttl (404 once expired)" },
	{ .method = HTTP_DELETE, .pattern = "/v1/services/{name}/instances/{id}", .response = &response_no_content,
	  .scope = SCOPE_SERVICES_WRITE, .handler = handle_service_deregister,
	  .summary = "Deregister an instance" },

	{ .method = HTTP_POST, .pattern = "/v1/locks/{name}", .response = &response_lock_acquired, .scope = SCOPE_LOCKS_WRITE,
	  .handler = handle_lock_acquire, .flags = ROUTE_JSON_BODY, .body = lock_body,
	  .summary = "Acquire a lock: its token once, and a fencing token" },
	{ .method = HTTP_GET, .pattern = "/v1/locks/{name}", .response = &response_lock, .scope = SCOPE_LOCKS_WRITE,
	  .handler = handle_lock_get,
	  .summary = "Who holds a lock, and until when (never its token)" },
	{ .method = HTTP_POST, .pattern = "/v1/locks/{name}/refresh", .response = &response_lock,
	  .scope = SCOPE_LOCKS_WRITE, .handler = handle_lock_refresh,
	  .flags = ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL, .body = lock_token_body,
	  .summary = "Keep a lock for another ttl, with its token" },
	{ .method = HTTP_DELETE, .pattern = "/v1/locks/{name}", .response = &response_no_content,
	  .scope = SCOPE_LOCKS_WRITE, .handler = handle_lock_release,
	  .flags = ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL, .body = lock_token_body,
	  .summary = "Release a lock, with its token" },

	/* The seed's service registry and locks. */
	{ .method = HTTP_POST, .pattern = "/servicos/registrar", .response = &response_seed_registered,
	  .scope = SCOPE_SERVICES_WRITE, .handler = handle_seed_service_register,
	  .flags = ROUTE_JSON_BODY | ROUTE_SEED, .body = seed_instance_body,
	  .summary = "Seed form: register an instance of nome" },
	{ .method = HTTP_GET, .pattern = "/servicos/{nome}", .response = &response_seed_instance_list,
	  .scope = SCOPE_SERVICES_READ, .handler = handle_seed_service_get,
	  .flags = ROUTE_SEED,
	  .summary = "Seed form: the live instances of a service, as an array" },
	{ .method = HTTP_POST, .pattern = "/lock/{name}", .response = &response_seed_lock, .scope = SCOPE_LOCKS_WRITE,
	  .handler = handle_seed_lock_acquire, .flags = ROUTE_JSON_BODY | ROUTE_SEED,
	  .body = seed_lock_body, .summary = "Seed form: acquire a lock" },
	{ .method = HTTP_DELETE, .pattern = "/lock/{name}", .response = &response_seed_lock, .scope = SCOPE_LOCKS_WRITE,
	  .handler = handle_seed_lock_release,
	  .flags = ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL | ROUTE_SEED, .body = lock_token_body,
	  .summary = "Seed form: release a lock (without its token: admin only)" },

	{ .method = HTTP_GET, .pattern = "/v1/audit", .response = &response_audit_list,
	  .scope = SCOPE_AUDIT_READ, .handler = handle_audit_list, .query = audit_query,
	  .summary = "Who changed what, newest first (?resource= ?key= ?actor= ?since=)" },

	/* config:read, or flags:read / services:read for those folders. */
	{ .method = HTTP_GET, .pattern = "/v1/watch", .scope = SCOPE_CONFIG_READ,
	  .handler = handle_watch, .response = &response_watch, .scope_by_request = watch_scope,
	  .query = watch_query,
	  .summary = "Long-poll for changes under a resource folder" },
};

const size_t route_count = ARRAY_SIZE(route_table);

/* The waits the routes may hand to the waiting process (http/wait.h). */
const struct wait_kind *const wait_kinds[WAIT_KIND_MAX] = {
	[WAIT_WATCH] = &watch_wait_kind,
	[WAIT_LOCK] = &lock_wait_kind,
};
