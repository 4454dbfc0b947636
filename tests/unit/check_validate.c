/*
 * The table-driven request validation (src/http/validate.c) through the
 * whole pipeline, over routes of the test's own: each declared type takes
 * what it should and refuses the rest, every bad parameter and field is
 * named in one 400, the handler never runs on a refusal and reads typed
 * values when it does, and the one boolean rule holds everywhere.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base/conf.h"
#include "base/util.h"
#include "http/api.h"
#include "http/router.h"
#include "http/validate.h"

#include "check_suites.h"

static int handler_calls;
static long long seen_limit;
static int seen_flag;
static const char *seen_name;

static void
reader(struct exchange *ex)
{
	handler_calls++;
	seen_limit = arg_int(ex, "limit", -1);
	seen_flag = arg_bool(ex, "flag", -1);
	seen_name = arg_text(ex, "name", NULL);
	respond_empty(ex, 204);
}

static const struct param_spec things_query[] = {
	{ "limit", SPEC_INT, 0, 1, 100, "page size" },
	{ "flag", SPEC_BOOL, 0, 0, 0, "a switch" },
	{ "env", SPEC_NAME, 0, 0, 0, "a name" },
	{ "q", SPEC_STRING, 0, 1, 8, "1 to 8 bytes" },
	{ "must", SPEC_STRING, SPEC_REQUIRED, 0, 0, "required" },
	{ "since", SPEC_SINCE, 0, 0, 32, "a revision or a time" },
	SPEC_END
};

static const struct param_spec thing_body[] = {
	{ "name", SPEC_NAME, SPEC_REQUIRED, 0, 0, "a name" },
	{ "count", SPEC_INT, 0, 0, 10, "0 to 10" },
	{ "on", SPEC_BOOL, 0, 0, 0, "a boolean" },
	{ "tags", SPEC_ARRAY, 0, 1, 2, "1 or 2 items" },
	{ "meta", SPEC_OBJECT, SPEC_NULLABLE, 0, 0, "an object" },
	{ "text", SPEC_STRING, 0, 0, 4, "up to 4 bytes" },
	{ "any", SPEC_ANY, 0, 0, 0, "anything" },
	SPEC_END
};

static const struct route routes[] = {
	{ .method = HTTP_GET, .pattern = "/things", .scope = SCOPE_PUBLIC,
	    .handler = reader, .summary = "list", .query = things_query },
	{ .method = HTTP_POST, .pattern = "/things", .scope = SCOPE_PUBLIC,
	    .handler = reader, .flags = ROUTE_JSON_BODY, .summary = "create",
	    .body = thing_body },
	{ .method = HTTP_PUT, .pattern = "/open", .scope = SCOPE_PUBLIC,
	    .handler = reader, .flags = ROUTE_JSON_BODY | ROUTE_OPEN_BODY,
	    .summary = "open", .body = thing_body, .invalid_code = "own_code" },
	{ .method = HTTP_POST, .pattern = "/optional", .scope = SCOPE_PUBLIC,
	    .handler = reader, .flags = ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL,
	    .summary = "optional", .body = thing_body + 1 },
};

struct body_reader_state {
	const char	*data;
	size_t		 pos;
};

static long
read_all(void *ctx, char *dst, size_t len)
{
	struct body_reader_state *b = ctx;
	size_t n = strlen(b->data + b->pos);

	if (n > len)
		n = len;
	memcpy(dst, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

/* Run method path?query with body (NULL: none); the caller frees ex. */
static void
call(struct exchange *ex, const char *method, const char *path,
    const char *query, const char *body, struct body_reader_state *b)
{
	exchange_init(ex);
	ex->req.method = method;
	ex->req.path = path;
	ex->req.query = query;
	ex->req.content_length = -1;
	if (body != NULL) {
		b->data = body;
		b->pos = 0;
		ex->req.content_type = "application/json";
		ex->req.content_length = (long long)strlen(body);
		ex->req.read_body = read_all;
		ex->req.body_ctx = b;
	}
	api_handle_routes(ex, routes, ARRAY_SIZE(routes));
}

static void
setup(void)
{
	char err[1024];

	test_clear_dynconf_env();
	ck_assert_msg(conf_load(&conf, NULL, err, sizeof(err)) == 0, "%s", err);
	conf.auth.mode = AUTH_MODE_OFF;
	handler_calls = 0;
}

static void
teardown(void)
{
	char err[1024];

	(void)conf_load(&conf, NULL, err, sizeof(err));
}

/* The fields a 400 names, comma-joined, into out. */
static void
named_fields(const struct exchange *ex, char *out, size_t outlen)
{
	struct json_object *doc = test_json_parse(ex->res.body.data, "problem"), *errors;
	size_t i;

	out[0] = '\0';
	ck_assert(json_object_object_get_ex(doc, "errors", &errors));
	for (i = 0; i < json_object_array_length(errors); i++) {
		if (i > 0)
			strncat(out, ",", outlen - strlen(out) - 1);
		strncat(out, test_json_string(json_object_array_get_idx(errors, i),
		    "field"), outlen - strlen(out) - 1);
	}
	json_object_put(doc);
}

static const struct {
	const char	*query;
	int		 status;
	const char	*code;
	const char	*fields;	/* named by the 400 */
} queries[] = {
	{ "must=x", 204, NULL, NULL },
	{ "must=", 204, NULL, NULL },
	{ "", 400, "invalid_query", "must" },
	{ "must=x&limit=5&flag=1&env=prod&q=abc", 204, NULL, NULL },
	/* One boolean rule: true, false, 1, 0, nothing else. */
	{ "must=x&flag=true", 204, NULL, NULL },
	{ "must=x&flag=0", 204, NULL, NULL },
	{ "must=x&flag=yes", 400, "invalid_query", "flag" },
	{ "must=x&flag=", 400, "invalid_query", "flag" },
	{ "must=x&flag=TRUE", 400, "invalid_query", "flag" },
	{ "must=x&limit=0", 400, "invalid_query", "limit" },
	{ "must=x&limit=101", 400, "invalid_query", "limit" },
	{ "must=x&limit=1e2", 400, "invalid_query", "limit" },
	{ "must=x&limit=", 400, "invalid_query", "limit" },
	{ "must=x&limit=99999999999999999999", 400, "invalid_query", "limit" },
	{ "must=x&env=", 400, "invalid_key", "env" },
	{ "must=x&env=a%20b", 400, "invalid_key", "env" },
	{ "must=x&q=", 400, "invalid_query", "q" },
	{ "must=x&q=123456789", 400, "invalid_query", "q" },
	/* Every bad one is named, in the declared order. */
	{ "limit=0&flag=maybe&q=", 400, "invalid_query", "limit,flag,q,must" },
	/* Parameters nobody declared are ignored. */
	{ "must=x&other=1", 204, NULL, NULL },
	/* A revision or an RFC 3339 time, checked with the rest. */
	{ "must=x&since=0", 204, NULL, NULL },
	{ "must=x&since=9223372036854775807", 204, NULL, NULL },
	{ "must=x&since=2026-11-22T10:00:00.5%2B01:00", 204, NULL, NULL },
	{ "must=x&since=1969-12-31T23:59:59Z", 204, NULL, NULL },
	{ "must=x&since=0000-01-01T00:00:00Z", 204, NULL, NULL },
	{ "must=x&since=1970-01-01T00:00:00%2B01:00", 204, NULL, NULL },
	{ "must=x&since=1969-02-29T00:00:00Z", 400, "invalid_query", "since" },
	{ "must=x&since=", 400, "invalid_query", "since" },
	{ "must=x&since=-1", 400, "invalid_query", "since" },
	{ "must=x&since=9223372036854775808", 400, "invalid_query", "since" },
	{ "must=x&since=2026-11-22", 400, "invalid_query", "since" },
	{ "must=x&since=2026-11-22T10:00:00.000000000000000Z", 400, "invalid_query", "since" },
	{ "limit=0&since=x&env=a/b", 400, "invalid_query", "limit,env,must,since" },
};

START_TEST(test_query_specs)
{
	struct exchange ex;
	struct body_reader_state b;
	char fields[256];

	call(&ex, "GET", "/things", queries[_i].query, NULL, &b);
	ck_assert_msg(ex.res.status == queries[_i].status, "%s: status %d: %s",
	    queries[_i].query, ex.res.status, ex.res.body.data ? ex.res.body.data : "");
	if (queries[_i].status == 400) {
		ck_assert_int_eq(handler_calls, 0);
		ck_assert_ptr_nonnull(strstr(ex.res.body.data, queries[_i].code));
		named_fields(&ex, fields, sizeof(fields));
		ck_assert_str_eq(fields, queries[_i].fields);
	} else {
		ck_assert_int_eq(handler_calls, 1);
	}
	exchange_free(&ex);
}
END_TEST

START_TEST(test_handlers_read_typed_values)
{
	struct exchange ex;
	struct body_reader_state b;

	call(&ex, "GET", "/things", "must=x&limit=42&flag=false", NULL, &b);
	ck_assert_int_eq(ex.res.status, 204);
	ck_assert_int_eq(seen_limit, 42);
	ck_assert_int_eq(seen_flag, 0);
	exchange_free(&ex);
	call(&ex, "GET", "/things", "must=x", NULL, &b);
	ck_assert_int_eq(seen_limit, -1);	/* absent: the caller's default */
	ck_assert_int_eq(seen_flag, -1);
	exchange_free(&ex);
	call(&ex, "POST", "/things", NULL, "{\"name\":\"n1\"}", &b);
	ck_assert_int_eq(ex.res.status, 204);
	ck_assert_pstr_eq(seen_name, "n1");
	exchange_free(&ex);
}
END_TEST

static const struct {
	const char	*path;
	const char	*body;
	int		 status;
	const char	*code;
	const char	*fields;
} bodies[] = {
	{ "/things", "{\"name\":\"a\"}", 204, NULL, NULL },
	{ "/things", "{\"name\":\"a\",\"count\":10,\"on\":true,\"tags\":[1],"
	    "\"meta\":{},\"text\":\"abcd\",\"any\":[null]}", 204, NULL, NULL },
	{ "/things", "{\"name\":\"a\",\"meta\":null,\"any\":null}", 204, NULL, NULL },
	{ "/things", "{}", 400, "validation_failed", "name" },
	{ "/things", "null", 400, "validation_failed", "body" },
	{ "/things", "[]", 400, "validation_failed", "body" },
	{ "/things", "{\"name\":\"a b\"}", 400, "invalid_key", "name" },
	{ "/things", "{\"name\":7}", 400, "validation_failed", "name" },
	{ "/things", "{\"name\":\"a\",\"count\":11}", 400, "validation_failed", "count" },
	{ "/things", "{\"name\":\"a\",\"count\":1.5}", 400, "validation_failed", "count" },
	{ "/things", "{\"name\":\"a\",\"count\":\"1\"}", 400, "validation_failed", "count" },
	{ "/things", "{\"name\":\"a\",\"count\":18446744073709551615}", 400,
	    "validation_failed", "count" },
	{ "/things", "{\"name\":\"a\",\"on\":1}", 400, "validation_failed", "on" },
	{ "/things", "{\"name\":\"a\",\"tags\":[]}", 400, "validation_failed", "tags" },
	{ "/things", "{\"name\":\"a\",\"tags\":[1,2,3]}", 400, "validation_failed", "tags" },
	{ "/things", "{\"name\":\"a\",\"meta\":[]}", 400, "validation_failed", "meta" },
	{ "/things", "{\"name\":\"a\",\"text\":\"abcde\"}", 400, "validation_failed", "text" },
	/* Every problem named at once; an unknown field sets the code. */
	{ "/things", "{\"count\":-1,\"on\":\"yes\",\"typo\":1}", 400, "unknown_field",
	    "typo,name,count,on" },
	/* A field given twice: json-c keeps the last, a proxy may read the first. */
	{ "/things", "{\"name\":\"a\",\"name\":\"b\"}", 400, "validation_failed", "body" },
	{ "/things", "{\"name\":\"a\",\"meta\":{\"x\":1,\"x\":2}}", 204, NULL, NULL },
	/* An open body takes fields it does not declare; its own code. */
	{ "/open", "{\"name\":\"a\",\"extra\":1}", 204, NULL, NULL },
	{ "/open", "{\"name\":\"a\",\"count\":\"x\"}", 400, "own_code", "count" },
};

START_TEST(test_body_specs)
{
	struct exchange ex;
	struct body_reader_state b;
	char fields[256];
	const char *method = strcmp(bodies[_i].path, "/open") == 0 ? "PUT" : "POST";

	call(&ex, method, bodies[_i].path, NULL, bodies[_i].body, &b);
	ck_assert_msg(ex.res.status == bodies[_i].status, "%s: status %d: %s",
	    bodies[_i].body, ex.res.status, ex.res.body.data ? ex.res.body.data : "");
	if (bodies[_i].status == 400) {
		ck_assert_int_eq(handler_calls, 0);
		ck_assert_msg(strstr(ex.res.body.data, bodies[_i].code) != NULL,
		    "%s: %s", bodies[_i].body, ex.res.body.data);
		named_fields(&ex, fields, sizeof(fields));
		ck_assert_msg(strcmp(fields, bodies[_i].fields) == 0, "%s: named %s",
		    bodies[_i].body, fields);
	}
	exchange_free(&ex);
}
END_TEST

START_TEST(test_optional_body)
{
	struct exchange ex;
	struct body_reader_state b;

	call(&ex, "POST", "/optional", NULL, NULL, &b);
	ck_assert_int_eq(ex.res.status, 204);
	exchange_free(&ex);
	call(&ex, "POST", "/optional", NULL, "null", &b);
	ck_assert_int_eq(ex.res.status, 400);
	exchange_free(&ex);
	/* A body is required where the route does not say otherwise. */
	handler_calls = 0;
	call(&ex, "POST", "/things", NULL, NULL, &b);
	ck_assert_int_eq(ex.res.status, 400);
	ck_assert_int_eq(handler_calls, 0);
	exchange_free(&ex);
}
END_TEST

Suite *
validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("specs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_query_specs, 0, (int)ARRAY_SIZE(queries));
	tcase_add_test(tc, test_handlers_read_typed_values);
	tcase_add_loop_test(tc, test_body_specs, 0, (int)ARRAY_SIZE(bodies));
	tcase_add_test(tc, test_optional_body);
	suite_add_tcase(s, tc);
	return s;
}
