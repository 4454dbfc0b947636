/*
 * Response schemas; see responses.h. JSON Schema 2020-12 (OpenAPI 3.1),
 * written as text: openapi.c parses each when it builds the document.
 * A list's item schema is wrapped into {"items","total","limit","offset"}
 * by openapi.c (RESPONSE_LIST).
 */
#include "config.h"

#include "resources/responses.h"

#define INT "{\"type\":\"integer\"}"
#define STR "{\"type\":\"string\"}"
#define TIME "{\"type\":\"string\",\"format\":\"date-time\"}"
#define BOOL "{\"type\":\"boolean\"}"

#define CONFIG_ENTRY "{\"type\":\"object\",\"properties\":{\"key\":" STR \
	",\"value\":{},\"revision\":" INT ",\"updated_at\":" TIME "}," \
	"\"required\":[\"key\",\"value\",\"revision\"]}"

#define ENVIRONMENT "{\"type\":\"object\",\"properties\":{\"name\":" STR \
	",\"sdk_key\":{\"type\":\"string\",\"description\":\"Shown once, when " \
	"made\"},\"created_at\":" TIME ",\"revision\":" INT "}," \
	"\"required\":[\"name\",\"revision\"]}"

#define VARIANTS "{\"type\":\"array\",\"items\":{\"type\":\"object\"," \
	"\"properties\":{\"name\":" STR ",\"value\":{},\"weight\":" \
	"{\"type\":\"number\"}}}}"

#define FLAG "{\"type\":\"object\",\"properties\":{\"key\":" STR \
	",\"description\":" STR ",\"enabled\":" BOOL ",\"criteria\":" \
	"{\"type\":[\"object\",\"null\"]},\"value\":{},\"default\":{}," \
	"\"variants\":" VARIANTS ",\"rules\":{\"type\":\"array\",\"items\":" \
	"{\"type\":\"object\",\"properties\":{\"segments\":{\"type\":\"array\"," \
	"\"items\":" STR "},\"criteria\":{\"type\":\"object\"},\"value\":{}," \
	"\"variants\":" VARIANTS "}}},\"revision\":" INT ",\"created_at\":" TIME \
	",\"updated_at\":" TIME "},\"required\":[\"key\",\"enabled\",\"revision\"]}"

#define REASON "{\"enum\":[\"STATIC\",\"TARGETING_MATCH\",\"SPLIT\"," \
	"\"DEFAULT\",\"DISABLED\"]}"

#define EVALUATION "{\"type\":\"object\",\"properties\":{\"key\":" STR \
	",\"value\":{\"description\":\"Absent when no value applies\"}," \
	"\"variant\":{\"type\":[\"string\",\"null\"]},\"reason\":" REASON \
	",\"revision\":" INT "},\"required\":[\"key\",\"variant\",\"reason\"," \
	"\"revision\"]}"

#define TOKEN "{\"type\":\"object\",\"properties\":{\"token\":{\"type\":" \
	"\"string\",\"description\":\"Shown once, when made\"},\"id\":" STR \
	",\"name\":" STR ",\"scopes\":{\"type\":\"array\",\"items\":" STR "}," \
	"\"created_at\":" TIME ",\"expires_at\":{\"type\":[\"string\",\"null\"]}," \
	"\"expired\":" BOOL ",\"created_by\":{\"type\":[\"string\",\"null\"]}}," \
	"\"required\":[\"id\",\"name\",\"scopes\"]}"

#define SEGMENT "{\"type\":\"object\",\"properties\":{\"name\":" STR \
	",\"description\":" STR ",\"criteria\":{\"type\":\"object\"}," \
	"\"revision\":" INT ",\"created_at\":" TIME ",\"updated_at\":" TIME "}," \
	"\"required\":[\"name\",\"criteria\",\"revision\"]}"

#define USER "{\"type\":\"object\",\"properties\":{\"id\":" STR \
	",\"name\":" STR ",\"email\":{\"type\":[\"string\",\"null\"]}," \
	"\"age\":{\"type\":[\"integer\",\"null\"]},\"revision\":" INT \
	",\"created_at\":" TIME ",\"updated_at\":" TIME "}," \
	"\"required\":[\"id\",\"name\",\"revision\"]," \
	"\"additionalProperties\":true}"

/* The Flask seed's names for a user's fields (API.md §7). */
#define SEED_USER "{\"type\":\"object\",\"properties\":{\"_id\":" STR \
	",\"nome\":" STR ",\"email\":{\"type\":[\"string\",\"null\"]}," \
	"\"idade\":{\"type\":[\"integer\",\"null\"]}},\"required\":" \
	"[\"_id\",\"nome\"],\"additionalProperties\":true}"

#define SEED_MESSAGE "{\"type\":\"object\",\"properties\":{\"mensagem\":" \
	STR ",\"id\":" STR ",\"chave\":" STR "},\"required\":[\"mensagem\"]}"

#define INSTANCE "{\"type\":\"object\",\"properties\":{\"id\":" STR \
	",\"service\":" STR ",\"endpoint\":" STR ",\"metadata\":" \
	"{\"type\":[\"object\",\"null\"]},\"ttl\":" INT ",\"registered_at\":" \
	TIME ",\"expires_at\":" TIME ",\"revision\":" INT "},\"required\":" \
	"[\"id\",\"service\",\"endpoint\",\"ttl\",\"expires_at\"]}"

#define SEED_INSTANCE "{\"type\":\"object\",\"properties\":{\"id\":" STR \
	",\"endpoint\":" STR ",\"status\":{\"enum\":[\"active\"]},\"timestamp\":" \
	TIME ",\"expires_at\":" TIME "},\"required\":[\"id\",\"endpoint\"," \
	"\"status\"]}"

#define LOCK "{\"type\":\"object\",\"properties\":{\"name\":" STR \
	",\"holder\":" STR ",\"token\":{\"type\":\"string\",\"description\":" \
	"\"Shown once, to the holder that acquired it\"},\"fencing_token\":" INT \
	",\"ttl\":" INT ",\"acquired_at\":" TIME ",\"expires_at\":" TIME \
	",\"revision\":" INT "},\"required\":[\"name\",\"holder\"," \
	"\"fencing_token\",\"expires_at\"]}"

#define FLAG_STATE "{\"type\":\"object\",\"properties\":{\"id\":" INT \
	",\"feature\":{\"type\":\"object\",\"properties\":{\"id\":" INT \
	",\"name\":" STR ",\"type\":{\"enum\":[\"STANDARD\",\"MULTIVARIATE\"]}}," \
	"\"required\":[\"id\",\"name\",\"type\"]},\"enabled\":" BOOL \
	",\"feature_state_value\":{},\"environment\":" INT ",\"identity\":" \
	"{\"type\":\"null\"},\"feature_segment\":{\"type\":\"null\"}}," \
	"\"required\":[\"id\",\"feature\",\"enabled\",\"feature_state_value\"]}"

#define OFREP_SUCCESS "{\"type\":\"object\",\"properties\":{\"key\":" STR \
	",\"value\":{\"description\":\"Absent when no value applies: the " \
	"caller's default\"},\"reason\":" REASON ",\"variant\":" STR \
	",\"metadata\":{\"type\":\"object\",\"properties\":{\"revision\":" INT \
	"}}},\"required\":[\"key\",\"reason\"]}"

const struct response_spec response_health = { 200, 0, "{\"type\":\"object\","
    "\"properties\":{\"status\":" STR ",\"version\":" STR ",\"etcd\":{\"enum\":"
    "[\"up\",\"down\"]},\"replica_revision\":" INT ",\"replica_lag_ms\":" INT
    "},\"required\":[\"status\",\"version\",\"etcd\"]}", "Serving", 0, NULL };
const struct response_spec response_ready = { 200, 0, "{\"type\":\"object\","
    "\"properties\":{\"ready\":" BOOL ",\"replica_revision\":" INT "}}",
    "The replica holds a full snapshot (503 before)", 0, NULL };
const struct response_spec response_openapi = { 200, 0, "{\"type\":\"object\"}",
    "This document", 0, NULL };
const struct response_spec response_metrics = { 200, 0, "{\"type\":\"string\"}",
    "Prometheus text format", 0, "text/plain" };
const struct response_spec response_config = { 200, 201, CONFIG_ENTRY,
    "The entry", 0, NULL };
const struct response_spec response_config_list = { 200, 0, CONFIG_ENTRY,
    "A page of entries", RESPONSE_LIST, NULL };
const struct response_spec response_no_content = { 204, 0, NULL, "Done", 0, NULL };
const struct response_spec response_environment_created = { 201, 0, ENVIRONMENT,
    "The environment, with its SDK key", 0, NULL };
const struct response_spec response_environment = { 200, 0, ENVIRONMENT,
    "The environment", 0, NULL };
const struct response_spec response_environment_list = { 200, 0, ENVIRONMENT,
    "A page of environments", RESPONSE_LIST, NULL };
const struct response_spec response_flag = { 200, 0, FLAG, "The flag", 0, NULL };
const struct response_spec response_flag_created = { 200, 201, FLAG,
    "The stored flag (201 when new)", 0, NULL };
const struct response_spec response_flag_list = { 200, 0, FLAG,
    "A page of flags", RESPONSE_LIST, NULL };
const struct response_spec response_evaluation = { 200, 0, EVALUATION,
    "The flag's value for the context", 0, NULL };
const struct response_spec response_evaluation_all = { 200, 0,
    "{\"type\":\"object\",\"properties\":{\"flags\":{\"type\":\"array\","
    "\"items\":" EVALUATION "},\"revision\":" INT "},\"required\":[\"flags\","
    "\"revision\"]}", "Every flag's value for the context", 0, NULL };
const struct response_spec response_token_created = { 201, 0, TOKEN,
    "The token, shown this once", 0, NULL };
const struct response_spec response_token_list = { 200, 0, TOKEN,
    "A page of tokens (never the tokens themselves)", RESPONSE_LIST, NULL };
const struct response_spec response_watch = { 200, 0, "{\"type\":\"object\","
    "\"properties\":{\"revision\":" INT ",\"events\":{\"type\":\"array\","
    "\"items\":{\"type\":\"object\",\"properties\":{\"type\":{\"enum\":"
    "[\"put\",\"delete\"]},\"resource\":" STR ",\"environment\":" STR
    ",\"key\":" STR ",\"value\":{},\"revision\":" INT "}}}},\"required\":"
    "[\"revision\",\"events\"]}", "Changes after since (none at timeout)", 0,
    NULL };
const struct response_spec response_segment = { 200, 0, SEGMENT, "The segment",
    0, NULL };
const struct response_spec response_segment_created = { 200, 201, SEGMENT,
    "The stored segment (201 when new)", 0, NULL };
const struct response_spec response_segment_list = { 200, 0, SEGMENT,
    "A page of segments", RESPONSE_LIST, NULL };
const struct response_spec response_flagsmith_flags = { 200, 0,
    "{\"oneOf\":[{\"type\":\"array\",\"items\":" FLAG_STATE "}," FLAG_STATE "]}",
    "The flags (one, with ?feature=)", 0, NULL };
const struct response_spec response_flagsmith_identity = { 200, 0,
    "{\"type\":\"object\",\"properties\":{\"identifier\":" STR ",\"traits\":"
    "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":"
    "{\"trait_key\":" STR ",\"trait_value\":{}}}},\"flags\":{\"type\":"
    "\"array\",\"items\":" FLAG_STATE "}},\"required\":[\"identifier\","
    "\"traits\",\"flags\"]}", "The identity's traits and flags", 0, NULL };
const struct response_spec response_flagsmith_analytics = { 200, 0,
    "{\"type\":\"object\"}", "Counted", 0, NULL };
const struct response_spec response_ofrep_evaluation = { 200, 0, OFREP_SUCCESS,
    "The flag's value for the context", 0, NULL };
const struct response_spec response_ofrep_bulk = { 200, 304,
    "{\"type\":\"object\",\"properties\":{\"flags\":{\"type\":\"array\","
    "\"items\":" OFREP_SUCCESS "}},\"required\":[\"flags\"]}",
    "Every flag's value (304 when If-None-Match holds the ETag)", 0, NULL };
const struct response_spec response_user = { 200, 0, USER, "The user", 0, NULL };
const struct response_spec response_user_new = { 201, 0, USER,
    "The new user, with its id", 0, NULL };
const struct response_spec response_user_created = { 201, 200, USER,
    "The stored user (201 when new)", 0, NULL };
const struct response_spec response_user_list = { 200, 0, USER,
    "A page of users", RESPONSE_LIST, NULL };
const struct response_spec response_seed_user = { 200, 0, SEED_USER,
    "The user, in the seed's field names", 0, NULL };
const struct response_spec response_seed_user_list = { 200, 0,
    "{\"type\":\"array\",\"items\":" SEED_USER "}",
    "The users, in the seed's field names", 0, NULL };
const struct response_spec response_seed_message = { 200, 0, SEED_MESSAGE,
    "The seed's confirmation", 0, NULL };
const struct response_spec response_seed_created = { 201, 0, SEED_MESSAGE,
    "The seed's confirmation, with the new id and its etcd key", 0, NULL };
const struct response_spec response_seed_config = { 200, 0,
    "{\"type\":\"object\",\"description\":\"{K: value}\"}",
    "The entry as the seed answers it", 0, NULL };
const struct response_spec response_instance_created = { 201, 0, INSTANCE,
    "The registered instance", 0, NULL };
const struct response_spec response_instance = { 200, 0, INSTANCE,
    "The instance, with its new expires_at", 0, NULL };
const struct response_spec response_service = { 200, 0,
    "{\"type\":\"object\",\"properties\":{\"name\":" STR ",\"instances\":"
    "{\"type\":\"array\",\"items\":" INSTANCE "}},\"required\":[\"name\","
    "\"instances\"]}", "The service's live instances", 0, NULL };
const struct response_spec response_service_list = { 200, 0,
    "{\"type\":\"object\",\"properties\":{\"name\":" STR ",\"instances\":"
    INT "},\"required\":[\"name\",\"instances\"]}",
    "A page of services with live instances", RESPONSE_LIST, NULL };
const struct response_spec response_seed_instance_list = { 200, 0,
    "{\"type\":\"array\",\"items\":" SEED_INSTANCE "}",
    "The live instances, in the seed's form", 0, NULL };
const struct response_spec response_seed_registered = { 200, 0,
    "{\"type\":\"object\",\"properties\":{\"mensagem\":" STR ",\"chave\":"
    STR ",\"id\":" STR ",\"expires_at\":" TIME "},\"required\":"
    "[\"mensagem\",\"id\"]}", "The seed's confirmation", 0, NULL };
const struct response_spec response_lock_acquired = { 201, 0, LOCK,
    "The lock, with its token (shown this once)", 0, NULL };
const struct response_spec response_lock = { 200, 0, LOCK,
    "The lock (never its token)", 0, NULL };
const struct response_spec response_seed_lock = { 200, 0,
    "{\"type\":\"object\",\"properties\":{\"mensagem\":" STR ",\"recurso\":"
    STR ",\"holder\":" STR ",\"token\":" STR ",\"fencing_token\":" INT
    ",\"expires_at\":" TIME "},\"required\":[\"mensagem\"]}",
    "The seed's confirmation (with the token when acquired)", 0, NULL };
const struct response_spec response_whoami = { 200, 0, "{\"type\":\"object\","
    "\"properties\":{\"actor\":" STR ",\"kind\":{\"enum\":[\"token\","
    "\"jwt\",\"sdk_key\",\"anonymous\"]},\"scopes\":{\"type\":\"array\","
    "\"items\":" STR "},\"token_id\":" STR ",\"environment\":" STR
    ",\"expires_at\":" TIME "},\"required\":[\"actor\",\"kind\","
    "\"scopes\"]}", "The credential's actor, kind and scopes (implied ones "
    "included)", 0, NULL };

#define NULLABLE_INT "{\"type\":[\"integer\",\"null\"]}"
#define NULLABLE_STR "{\"type\":[\"string\",\"null\"]}"
#define AUDIT_ROW "{\"type\":\"object\",\"properties\":{\"new_revision\":" \
	INT ",\"old_revision\":" NULLABLE_INT ",\"resource\":" STR ",\"key\":" \
	STR ",\"action\":" STR ",\"actor\":" STR ",\"actor_kind\":" STR \
	",\"token_id\":" NULLABLE_STR ",\"request_id\":" NULLABLE_STR \
	",\"time\":" TIME "},\"required\":[\"new_revision\",\"old_revision\"," \
	"\"resource\",\"key\",\"action\",\"actor\",\"actor_kind\",\"time\"]}"

const struct response_spec response_audit_list = { 200, 0, AUDIT_ROW,
    "A page of the audit trail, newest first", RESPONSE_LIST, NULL };
