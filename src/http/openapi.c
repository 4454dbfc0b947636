/*
 * The OpenAPI 3.1 document, generated from the route table; see openapi.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "http/openapi.h"
#include "http/router.h"

/* "/v1/config/{key...}" becomes "/v1/config/{key}". */
static char *
openapi_path(const char *pattern)
{
	char *path = xstrdup(pattern), *dots;

	while ((dots = strstr(path, "...}")) != NULL)
		memmove(dots, dots + 3, strlen(dots + 3) + 1);
	return path;
}

static struct json_object *
problem_response(const char *description)
{
	struct json_object *response = json_object_new_object();
	struct json_object *content = json_object_new_object();
	struct json_object *media = json_object_new_object();
	struct json_object *schema = json_object_new_object();

	json_object_object_add(schema, "$ref",
	    json_object_new_string("#/components/schemas/Problem"));
	json_object_object_add(media, "schema", schema);
	json_object_object_add(content, "application/problem+json", media);
	json_object_object_add(response, "description",
	    json_object_new_string(description));
	json_object_object_add(response, "content", content);
	return response;
}

/* The JSON Schema of one declared parameter or body field. */
static struct json_object *
spec_schema(const struct param_spec *spec, int in_query)
{
	static const char *const types[] = {
		[SPEC_STRING] = "string", [SPEC_NAME] = "string",
		[SPEC_BOOL] = "boolean", [SPEC_INT] = "integer",
		[SPEC_OBJECT] = "object", [SPEC_ARRAY] = "array",
		[SPEC_SINCE] = "string",
	};
	struct json_object *schema = json_object_new_object(), *words;

	if (spec->type == SPEC_BOOL && in_query) {
		/* The query's booleans are words. */
		words = json_object_new_array();
		json_object_array_add(words, json_object_new_string("true"));
		json_object_array_add(words, json_object_new_string("false"));
		json_object_array_add(words, json_object_new_string("1"));
		json_object_array_add(words, json_object_new_string("0"));
		json_object_object_add(schema, "type", json_object_new_string("string"));
		json_object_object_add(schema, "enum", words);
	} else if (spec->type != SPEC_ANY) {
		json_object_object_add(schema, "type",
		    json_object_new_string(types[spec->type]));
	}
	switch (spec->type) {
	case SPEC_NAME:
		json_object_object_add(schema, "pattern",
		    json_object_new_string("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"));
		break;
	case SPEC_INT:
		json_object_object_add(schema, "minimum", json_object_new_int64(spec->min));
		json_object_object_add(schema, "maximum", json_object_new_int64(spec->max));
		break;
	case SPEC_SINCE:
		json_object_object_add(schema, "pattern", json_object_new_string(
		    "^([0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"
		    "(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))$"));
		/* FALLTHROUGH */
	case SPEC_STRING:
		if (spec->min > 0)
			json_object_object_add(schema, "minLength",
			    json_object_new_int64(spec->min));
		if (spec->max > 0)
			json_object_object_add(schema, "maxLength",
			    json_object_new_int64(spec->max));
		break;
	case SPEC_ARRAY:
		if (spec->min > 0)
			json_object_object_add(schema, "minItems",
			    json_object_new_int64(spec->min));
		if (spec->max > 0)
			json_object_object_add(schema, "maxItems",
			    json_object_new_int64(spec->max));
		break;
	case SPEC_BOOL:
	case SPEC_OBJECT:
	case SPEC_ANY:
		break;
	}
	if (spec->doc != NULL)
		json_object_object_add(schema, "description",
		    json_object_new_string(spec->doc));
	return schema;
}

/* The route's declared query parameters, added to params. */
static void
query_parameters(const struct route *r, struct json_object *params)
{
	const struct param_spec *spec;

	for (spec = r->query; spec != NULL && spec->name != NULL; spec++) {
		struct json_object *param = json_object_new_object();

		json_object_object_add(param, "name", json_object_new_string(spec->name));
		json_object_object_add(param, "in", json_object_new_string("query"));
		json_object_object_add(param, "required",
		    json_object_new_boolean((spec->flags & SPEC_REQUIRED) != 0));
		json_object_object_add(param, "schema", spec_schema(spec, 1));
		json_object_array_add(params, param);
	}
}

/* {"required", "content": {"application/json": {"schema"}}} of a body. */
static struct json_object *
request_body(const struct route *r)
{
	struct json_object *body = json_object_new_object();
	struct json_object *content = json_object_new_object();
	struct json_object *media = json_object_new_object();
	struct json_object *schema = json_object_new_object();
	struct json_object *props = json_object_new_object();
	struct json_object *required = json_object_new_array();
	const struct param_spec *spec;

	for (spec = r->body; spec != NULL && spec->name != NULL; spec++) {
		json_object_object_add(props, spec->name, spec_schema(spec, 0));
		if (spec->flags & SPEC_REQUIRED)
			json_object_array_add(required, json_object_new_string(spec->name));
	}
	json_object_object_add(schema, "type", json_object_new_string("object"));
	json_object_object_add(schema, "properties", props);
	if (json_object_array_length(required) > 0)
		json_object_object_add(schema, "required", required);
	else
		json_object_put(required);
	json_object_object_add(schema, "additionalProperties",
	    json_object_new_boolean((r->flags & ROUTE_OPEN_BODY) != 0));
	json_object_object_add(media, "schema", schema);
	json_object_object_add(content, "application/json", media);
	json_object_object_add(body, "required",
	    json_object_new_boolean(!(r->flags & ROUTE_BODY_OPTIONAL)));
	json_object_object_add(body, "content", content);
	return body;
}

static struct json_object *
path_parameters(const char *pattern)
{
	struct json_object *params = json_object_new_array();
	const char *p = pattern;

	while ((p = strchr(p, '{')) != NULL) {
		const char *close = strchr(p, '}');
		struct json_object *param = json_object_new_object();
		struct json_object *schema = json_object_new_object();
		size_t len;

		if (close == NULL) {
			json_object_put(param);
			json_object_put(schema);
			break;
		}
		len = (size_t)(close - p - 1);
		if (len > 3 && memcmp(close - 3, "...", 3) == 0)
			len -= 3;
		json_object_object_add(param, "name",
		    json_object_new_string_len(p + 1, (int)len));
		json_object_object_add(param, "in", json_object_new_string("path"));
		json_object_object_add(param, "required", json_object_new_boolean(1));
		json_object_object_add(schema, "type", json_object_new_string("string"));
		json_object_object_add(param, "schema", schema);
		json_object_array_add(params, param);
		p = close + 1;
	}
	return params;
}

/* A response of a description and, with schema text, a body of media. */
static struct json_object *
response_object(const char *description, const char *media, const char *schema,
    unsigned flags)
{
	struct json_object *response = json_object_new_object(), *content, *item;
	struct json_object *parsed, *list, *props;

	json_object_object_add(response, "description",
	    json_object_new_string(description));
	if (schema == NULL)
		return response;
	/* The texts are the build's own (responses.c); the tests parse each. */
	if ((parsed = json_tokener_parse(schema)) == NULL)
		parsed = json_object_new_object();
	if (flags & RESPONSE_LIST) {
		list = json_tokener_parse("{\"type\":\"object\",\"properties\":"
		    "{\"items\":{\"type\":\"array\"},\"total\":{\"type\":\"integer\"},"
		    "\"limit\":{\"type\":\"integer\"},\"offset\":{\"type\":\"integer\"}},"
		    "\"required\":[\"items\",\"total\",\"limit\",\"offset\"]}");
		json_object_object_get_ex(list, "properties", &props);
		json_object_object_get_ex(props, "items", &item);
		json_object_object_add(item, "items", parsed);
		parsed = list;
	}
	content = json_object_new_object();
	item = json_object_new_object();
	json_object_object_add(item, "schema", parsed);
	json_object_object_add(content, media != NULL ? media : "application/json",
	    item);
	json_object_object_add(response, "content", content);
	return response;
}

static void
success_responses(const struct response_spec *spec, struct json_object *responses)
{
	char code[8];

	snprintf(code, sizeof(code), "%d", spec->status);
	json_object_object_add(responses, code, response_object(spec->description,
	    spec->media, spec->status == 204 ? NULL : spec->schema, spec->flags));
	if (spec->also == 0)
		return;
	snprintf(code, sizeof(code), "%d", spec->also);
	json_object_object_add(responses, code, response_object(spec->also == 304 ?
	    "Not modified: If-None-Match holds the current ETag" : spec->description,
	    spec->media, spec->also == 304 ? NULL : spec->schema, spec->flags));
}

/* Problem documents, or the forms OFREP's and Flagsmith's clients parse. */
static void
error_responses(const struct route *r, struct json_object *responses)
{
	if (r->on_error != NULL) {
		json_object_object_add(responses, "401", response_object(
		    "No credential, or not a valid one (no body)", NULL, NULL, 0));
		json_object_object_add(responses, "403", response_object(
		    "The credential may not evaluate here (no body)", NULL, NULL, 0));
		json_object_object_add(responses, "default", response_object(
		    "An evaluation error in OFREP's form", NULL, "{\"type\":\"object\","
		    "\"properties\":{\"key\":{\"type\":\"string\"},\"errorCode\":"
		    "{\"enum\":[\"FLAG_NOT_FOUND\",\"PARSE_ERROR\",\"INVALID_CONTEXT\","
		    "\"GENERAL\"]},\"errorDetails\":{\"type\":\"string\"}},"
		    "\"required\":[\"errorCode\"]}", 0));
		return;
	}
	if (r->flags & ROUTE_FLAGSMITH) {
		json_object_object_add(responses, "403", response_object(
		    "Invalid or missing Environment key", NULL, "{\"type\":\"object\","
		    "\"properties\":{\"detail\":{\"type\":\"string\"}}}", 0));
		if (r->method == HTTP_GET && r->query != NULL)
			json_object_object_add(responses, "404", response_object(
			    "Given feature not found", NULL, "{\"type\":\"object\","
			    "\"properties\":{\"detail\":{\"type\":\"string\"}}}", 0));
	}
	json_object_object_add(responses, "default", problem_response("Error"));
}

/* {"scheme": [scopes]}, one alternative each: bearer, or the SDK headers. */
static void
add_requirement(struct json_object *security, const char *scheme,
    const char *scope)
{
	struct json_object *requirement = json_object_new_object();
	struct json_object *scopes = json_object_new_array();

	if (scope != NULL)
		json_object_array_add(scopes, json_object_new_string(scope));
	json_object_object_add(requirement, scheme, scopes);
	json_object_array_add(security, requirement);
}

static struct json_object *
security_of(const struct route *r)
{
	struct json_object *security = json_object_new_array();

	if (r->flags & ROUTE_FLAGSMITH) {
		add_requirement(security, "environmentKey", NULL);
		return security;
	}
	add_requirement(security, "bearer", (r->flags & ROUTE_ANY_CREDENTIAL) ?
	    NULL : scope_name(r->scope));
	if (r->flags & ROUTE_OFREP)
		add_requirement(security, "apiKey", NULL);
	return security;
}

static struct json_object *
operation(const struct route *r)
{
	struct json_object *op = json_object_new_object();
	struct json_object *responses = json_object_new_object();
	struct json_object *ok = json_object_new_object();
	struct json_object *params = path_parameters(r->pattern);

	json_object_object_add(op, "summary", json_object_new_string(r->summary));
	json_object_object_add(op, "x-dynconf-scope", json_object_new_string(
	    (r->flags & ROUTE_ANY_CREDENTIAL) ? "any" : scope_name(r->scope)));
	if (r->scope_by_request != NULL)
		json_object_object_add(op, "x-dynconf-scope-by-request",
		    json_object_new_boolean(1));
	if (r->flags & ROUTE_SDK_KEY)
		json_object_object_add(op, "x-dynconf-sdk-key",
		    json_object_new_boolean(1));
	query_parameters(r, params);
	if (json_object_array_length(params) > 0)
		json_object_object_add(op, "parameters", params);
	else
		json_object_put(params);
	if (r->scope != SCOPE_PUBLIC || (r->flags & ROUTE_ANY_CREDENTIAL)) {
		json_object_object_add(op, "security", security_of(r));
	} else {
		json_object_object_add(op, "security", json_object_new_array());
	}
	if (r->flags & ROUTE_JSON_BODY)
		json_object_object_add(op, "requestBody", request_body(r));
	if (r->response != NULL) {
		json_object_put(ok);
		success_responses(r->response, responses);
	} else {
		json_object_object_add(ok, "description", json_object_new_string("Success"));
		json_object_object_add(responses, "2XX", ok);
	}
	error_responses(r, responses);
	json_object_object_add(op, "responses", responses);
	return op;
}

static struct json_object *
header_key(const char *header, const char *description)
{
	struct json_object *scheme = json_object_new_object();

	json_object_object_add(scheme, "type", json_object_new_string("apiKey"));
	json_object_object_add(scheme, "in", json_object_new_string("header"));
	json_object_object_add(scheme, "name", json_object_new_string(header));
	json_object_object_add(scheme, "description",
	    json_object_new_string(description));
	return scheme;
}

static struct json_object *
components(void)
{
	static const char *const fields[] = { "type", "title", "detail", "code",
	    "request_id" };
	struct json_object *comps = json_object_new_object();
	struct json_object *schemas = json_object_new_object();
	struct json_object *problem = json_object_new_object();
	struct json_object *props = json_object_new_object();
	struct json_object *schemes = json_object_new_object();
	struct json_object *bearer = json_object_new_object();
	struct json_object *status = json_object_new_object();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		struct json_object *prop = json_object_new_object();

		json_object_object_add(prop, "type", json_object_new_string("string"));
		json_object_object_add(props, fields[i], prop);
	}
	json_object_object_add(status, "type", json_object_new_string("integer"));
	json_object_object_add(props, "status", status);
	json_object_object_add(problem, "type", json_object_new_string("object"));
	json_object_object_add(problem, "properties", props);
	json_object_object_add(schemas, "Problem", problem);
	json_object_object_add(bearer, "type", json_object_new_string("http"));
	json_object_object_add(bearer, "scheme", json_object_new_string("bearer"));
	json_object_object_add(schemes, "bearer", bearer);
	json_object_object_add(schemes, "environmentKey", header_key("X-Environment-Key",
	    "An environment's SDK key (the Flagsmith SDK API)"));
	json_object_object_add(schemes, "apiKey", header_key("X-API-Key",
	    "An SDK key or an API token (OFREP)"));
	json_object_object_add(comps, "schemas", schemas);
	json_object_object_add(comps, "securitySchemes", schemes);
	return comps;
}

struct json_object *
openapi_document(const struct route *table, size_t count)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *info = json_object_new_object();
	struct json_object *paths = json_object_new_object();
	size_t i;

	json_object_object_add(doc, "openapi", json_object_new_string("3.1.0"));
	json_object_object_add(info, "title", json_object_new_string("dynconf"));
	json_object_object_add(info, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(doc, "info", info);
	for (i = 0; i < count; i++) {
		char *path = openapi_path(table[i].pattern), *method;
		struct json_object *item;
		size_t j;

		if (!json_object_object_get_ex(paths, path, &item)) {
			item = json_object_new_object();
			json_object_object_add(paths, path, item);
		}
		method = xstrdup(http_method_name(table[i].method));
		for (j = 0; method[j] != '\0'; j++)
			method[j] = (char)(method[j] | 0x20);
		json_object_object_add(item, method, operation(&table[i]));
		free(method);
		free(path);
	}
	json_object_object_add(doc, "paths", paths);
	json_object_object_add(doc, "components", components());
	return doc;
}
