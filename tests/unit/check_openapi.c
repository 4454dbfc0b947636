/*
 * Unit tests of the OpenAPI document generated from a route table: version,
 * one path item per pattern ({key...} written {key}), one operation per
 * route, path parameters, security for non-public routes, request bodies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "http/openapi.h"
#include "http/router.h"

#include "check_suites.h"

static void
noop(struct exchange *ex)
{
	respond_empty(ex, 204);
}

static const struct route table[] = {
	{ .method = HTTP_GET, .pattern = "/v1/health", .scope = SCOPE_PUBLIC,
	    .handler = noop, .summary = "Health" },
	{ .method = HTTP_GET, .pattern = "/v1/flags/{key}",
	    .scope = SCOPE_FLAGS_READ, .handler = noop,
	    .summary = "Get a flag" },
	{ .method = HTTP_PUT, .pattern = "/v1/flags/{key}",
	    .scope = SCOPE_FLAGS_WRITE, .handler = noop,
	    .flags = ROUTE_JSON_BODY, .summary = "Put a flag" },
	{ .method = HTTP_DELETE, .pattern = "/v1/flags/{key}",
	    .scope = SCOPE_FLAGS_WRITE, .handler = noop,
	    .summary = "Delete a flag" },
	{ .method = HTTP_POST, .pattern = "/v1/flags/{key}/evaluate",
	    .scope = SCOPE_FLAGS_READ, .handler = noop,
	    .flags = ROUTE_JSON_BODY, .summary = "Evaluate" },
	{ .method = HTTP_GET, .pattern = "/v1/config/{key...}",
	    .scope = SCOPE_CONFIG_READ, .handler = noop,
	    .summary = "Get config" },
	{ .method = HTTP_PATCH, .pattern = "/v1/users/{id}",
	    .scope = SCOPE_USERS_WRITE, .handler = noop,
	    .flags = ROUTE_JSON_BODY, .summary = "Patch a user" },
	{ .method = HTTP_GET, .pattern = "/api/v1/flags/",
	    .scope = SCOPE_PUBLIC, .handler = noop,
	    .summary = "Flagsmith flags" },
	{ .method = HTTP_POST,
	    .pattern = "/v1/services/{name}/instances/{id}/heartbeat",
	    .scope = SCOPE_SERVICES_WRITE, .handler = noop,
	    .summary = "Heartbeat" },
	{ .method = HTTP_GET, .pattern = "/v1/metrics",
	    .scope = SCOPE_METRICS_READ, .handler = noop, .summary = "Metrics" },
	{ .method = HTTP_GET, .pattern = "/v1/whoami", .scope = SCOPE_PUBLIC,
	    .flags = ROUTE_ANY_CREDENTIAL, .handler = noop, .summary = "Whoami" },
};

/* The distinct paths of the table, in OpenAPI form. */
static const char *const paths[] = {
	"/v1/health", "/v1/flags/{key}", "/v1/flags/{key}/evaluate",
	"/v1/config/{key}", "/v1/users/{id}", "/api/v1/flags/",
	"/v1/services/{name}/instances/{id}/heartbeat", "/v1/metrics",
	"/v1/whoami",
};

static struct json_object *doc;

static void
setup(void)
{
	struct json_object *generated = openapi_document(table, ARRAY_SIZE(table));

	ck_assert_ptr_nonnull(generated);
	/* Through its text, as clients see it. */
	doc = test_json_parse(json_object_to_json_string_ext(generated,
	    JSON_C_TO_STRING_PLAIN), "openapi document");
	json_object_put(generated);
}

static void
teardown(void)
{
	json_object_put(doc);
	doc = NULL;
}

static struct json_object *
get(struct json_object *obj, const char *name)
{
	struct json_object *member = NULL;

	ck_assert_msg(obj != NULL && json_object_object_get_ex(obj, name, &member),
	    "no \"%s\" in %.1000s", name, obj ? json_object_to_json_string(obj) : "NULL");
	return member;
}

static struct json_object *
operation(const struct route *r)
{
	char path[256], method[16], *dots;
	size_t i;

	snprintf(path, sizeof(path), "%s", r->pattern);
	while ((dots = strstr(path, "...}")) != NULL)
		memmove(dots, dots + 3, strlen(dots + 3) + 1);
	snprintf(method, sizeof(method), "%s", http_method_name(r->method));
	for (i = 0; method[i] != '\0'; i++)
		method[i] = (char)(method[i] - 'A' + 'a');
	return get(get(get(doc, "paths"), path), method);
}

START_TEST(test_header)
{
	struct json_object *info = get(doc, "info");

	ck_assert_pstr_eq(test_json_string(doc, "openapi"), "3.1.0");
	ck_assert_pstr_eq(test_json_string(info, "title"), "dynconf");
	ck_assert_pstr_eq(test_json_string(info, "version"), PACKAGE_VERSION);
}
END_TEST

START_TEST(test_paths)
{
	struct json_object *p = get(doc, "paths");
	size_t i;

	ck_assert_int_eq(json_object_object_length(p), (int)ARRAY_SIZE(paths));
	for (i = 0; i < ARRAY_SIZE(paths); i++)
		(void)get(p, paths[i]);
	{
		json_object_object_foreach(p, key, val) {
			(void)val;
			ck_assert_msg(strstr(key, "...") == NULL, "path %s", key);
			ck_assert_msg(key[0] == '/', "path %s", key);
		}
	}
	/* Three methods share one path item. */
	ck_assert_int_eq(json_object_object_length(get(p, "/v1/flags/{key}")), 3);
}
END_TEST

/* Each route: summary, scope, security, parameters, body, responses. */
START_TEST(test_operation)
{
	const struct route *r = &table[_i];
	struct json_object *op = operation(r), *security, *params, *responses;
	const char *p;
	size_t nparams = 0, k;

	ck_assert_pstr_eq(test_json_string(op, "summary"), r->summary);

	/* Public routes need no token; the others name their scope, those
	 * that any credential may call a bearer token with none. */
	if (r->flags & ROUTE_ANY_CREDENTIAL) {
		ck_assert_pstr_eq(test_json_string(op, "x-dynconf-scope"), "any");
		security = get(op, "security");
		ck_assert_uint_eq(json_object_array_length(security), 1);
		ck_assert_uint_eq(json_object_array_length(get(
		    json_object_array_get_idx(security, 0), "bearer")), 0);
	} else if (r->scope == SCOPE_PUBLIC) {
		ck_assert_pstr_eq(test_json_string(op, "x-dynconf-scope"), "public");
		if (json_object_object_get_ex(op, "security", &security))
			ck_assert_uint_eq(json_object_array_length(security), 0);
	} else {
		struct json_object *req, *scopes;

		ck_assert_pstr_eq(test_json_string(op, "x-dynconf-scope"),
		    scope_name(r->scope));
		security = get(op, "security");
		ck_assert(json_object_is_type(security, json_type_array));
		ck_assert_uint_eq(json_object_array_length(security), 1);
		req = json_object_array_get_idx(security, 0);
		scopes = get(req, "bearer");
		ck_assert_uint_eq(json_object_array_length(scopes), 1);
		ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(scopes, 0)),
		    scope_name(r->scope));
	}

	/* One required path parameter per {name}, in order. */
	for (p = r->pattern; (p = strchr(p, '{')) != NULL; p++)
		nparams++;
	if (nparams == 0) {
		if (json_object_object_get_ex(op, "parameters", &params))
			ck_assert_uint_eq(json_object_array_length(params), 0);
	} else {
		params = get(op, "parameters");
		ck_assert_uint_eq(json_object_array_length(params), nparams);
		for (k = 0, p = r->pattern; (p = strchr(p, '{')) != NULL; k++) {
			struct json_object *param = json_object_array_get_idx(params, k);
			size_t len = strcspn(p + 1, ".}");

			ck_assert_msg(strlen(test_json_string(param, "name")) == len &&
			    strncmp(test_json_string(param, "name"), p + 1, len) == 0,
			    "%s: parameter %zu is %s", r->pattern, k,
			    test_json_string(param, "name"));
			ck_assert_pstr_eq(test_json_string(param, "in"), "path");
			ck_assert(json_object_get_boolean(get(param, "required")));
			ck_assert_pstr_eq(test_json_string(get(param, "schema"), "type"),
			    "string");
			p++;
		}
	}

	if (r->flags & ROUTE_JSON_BODY)
		(void)get(get(get(op, "requestBody"), "content"), "application/json");
	else
		ck_assert(!json_object_object_get_ex(op, "requestBody", NULL));

	responses = get(op, "responses");
	ck_assert_int_gt(json_object_object_length(responses), 0);
	(void)get(get(get(responses, "default"), "content"), "application/problem+json");
}
END_TEST

START_TEST(test_components)
{
	struct json_object *comps = get(doc, "components");
	struct json_object *bearer = get(get(comps, "securitySchemes"), "bearer");
	struct json_object *props = get(get(get(comps, "schemas"), "Problem"),
	    "properties");
	static const char *const fields[] = { "type", "title", "status", "detail",
	    "code", "request_id" };
	size_t i;

	ck_assert_pstr_eq(test_json_string(bearer, "type"), "http");
	ck_assert_pstr_eq(test_json_string(bearer, "scheme"), "bearer");
	for (i = 0; i < ARRAY_SIZE(fields); i++)
		(void)get(props, fields[i]);
	ck_assert_pstr_eq(test_json_string(get(props, "status"), "type"), "integer");
}
END_TEST

START_TEST(test_empty_table)
{
	struct json_object *empty = openapi_document(table, 0), *p;

	ck_assert(json_object_object_get_ex(empty, "paths", &p));
	ck_assert_int_eq(json_object_object_length(p), 0);
	json_object_put(empty);
}
END_TEST

Suite *
openapi_suite(void)
{
	Suite *s = suite_create("openapi");
	TCase *tc = tcase_create("document");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_paths);
	tcase_add_loop_test(tc, test_operation, 0, (int)ARRAY_SIZE(table));
	tcase_add_test(tc, test_components);
	tcase_add_test(tc, test_empty_table);
	suite_add_tcase(s, tc);
	return s;
}
