/*
 * Unit tests of the router over a table of our own (exact, {param} and
 * trailing {key...} matches, decoding, 404/405, limits), and sanity checks
 * of the real route_table that every endpoint added later must pass.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/conf.h"
#include "base/util.h"
#include "http/api.h"
#include "http/metrics.h"
#include "http/router.h"

#include "check_suites.h"

static void
noop(struct exchange *ex)
{
	respond_empty(ex, 204);
}

enum {
	R_HEALTH, R_FLAGS, R_FLAG_GET, R_FLAG_PUT, R_FLAG_DELETE, R_EVAL_POST,
	R_EVAL_GET, R_CONFIG_GET, R_CONFIG_PUT, R_FLAGSMITH, R_HEARTBEAT,
	R_USER_SEARCH, R_USER, R_ROOT_ONLY_POST, R_COUNT
};

static const struct route table[] = {
	[R_HEALTH] = { .method = HTTP_GET, .pattern = "/v1/health",
	    .scope = SCOPE_PUBLIC, .handler = noop, .summary = "health" },
	[R_FLAGS] = { .method = HTTP_GET, .pattern = "/v1/flags",
	    .scope = SCOPE_FLAGS_READ, .handler = noop, .summary = "list" },
	[R_FLAG_GET] = { .method = HTTP_GET, .pattern = "/v1/flags/{key}",
	    .scope = SCOPE_FLAGS_READ, .handler = noop, .summary = "get" },
	[R_FLAG_PUT] = { .method = HTTP_PUT, .pattern = "/v1/flags/{key}",
	    .scope = SCOPE_FLAGS_WRITE, .handler = noop,
	    .flags = ROUTE_JSON_BODY, .summary = "put" },
	[R_FLAG_DELETE] = { .method = HTTP_DELETE,
	    .pattern = "/v1/flags/{key}", .scope = SCOPE_FLAGS_WRITE,
	    .handler = noop, .summary = "delete" },
	[R_EVAL_POST] = { .method = HTTP_POST,
	    .pattern = "/v1/flags/{key}/evaluate", .scope = SCOPE_FLAGS_READ,
	    .handler = noop, .flags = ROUTE_JSON_BODY, .summary = "evaluate" },
	[R_EVAL_GET] = { .method = HTTP_GET,
	    .pattern = "/v1/flags/{key}/evaluate", .scope = SCOPE_FLAGS_READ,
	    .handler = noop, .summary = "evaluate" },
	[R_CONFIG_GET] = { .method = HTTP_GET,
	    .pattern = "/v1/config/{key...}", .scope = SCOPE_CONFIG_READ,
	    .handler = noop, .summary = "config" },
	[R_CONFIG_PUT] = { .method = HTTP_PUT,
	    .pattern = "/v1/config/{key...}", .scope = SCOPE_CONFIG_WRITE,
	    .handler = noop, .flags = ROUTE_JSON_BODY, .summary = "config" },
	[R_FLAGSMITH] = { .method = HTTP_GET, .pattern = "/api/v1/flags/",
	    .scope = SCOPE_PUBLIC, .handler = noop, .summary = "flagsmith" },
	[R_HEARTBEAT] = { .method = HTTP_POST,
	    .pattern = "/v1/services/{name}/instances/{id}/heartbeat",
	    .scope = SCOPE_SERVICES_WRITE, .handler = noop,
	    .summary = "heartbeat" },
	[R_USER_SEARCH] = { .method = HTTP_GET, .pattern = "/v1/users/search",
	    .scope = SCOPE_USERS_READ, .handler = noop, .summary = "search" },
	[R_USER] = { .method = HTTP_GET, .pattern = "/v1/users/{id}",
	    .scope = SCOPE_USERS_READ, .handler = noop, .summary = "user" },
	[R_ROOT_ONLY_POST] = { .method = HTTP_POST, .pattern = "/v1/only-post",
	    .scope = SCOPE_ADMIN, .handler = noop, .summary = "post" },
};

#define NONE	(-1)
#define GH	(HTTP_GET | HTTP_HEAD)

static const struct {
	enum http_method	 method;
	const char		*path;
	enum router_result	 result;
	int			 route;		/* ROUTER_FOUND */
	const char		*params[3];	/* ROUTER_FOUND */
	unsigned		 allowed;	/* ROUTER_METHOD_NOT_ALLOWED */
} cases[] = {
	/* Exact. */
	{ HTTP_GET, "/v1/health", ROUTER_FOUND, R_HEALTH, { NULL }, 0 },
	{ HTTP_HEAD, "/v1/health", ROUTER_FOUND, R_HEALTH, { NULL }, 0 },
	{ HTTP_POST, "/v1/health", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL }, GH },
	{ HTTP_OPTIONS, "/v1/health", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL }, GH },
	{ HTTP_OTHER, "/v1/health", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL }, GH },
	{ HTTP_GET, "/v1/health/", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/healthz", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/healt", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/V1/health", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/health/x", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "//v1/health", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/%68ealth", ROUTER_FOUND, R_HEALTH, { NULL }, 0 },
	{ HTTP_GET, "/v1", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "v1/health", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/flags", ROUTER_FOUND, R_FLAGS, { NULL }, 0 },
	{ HTTP_POST, "/v1/only-post", ROUTER_FOUND, R_ROOT_ONLY_POST, { NULL }, 0 },
	/* HEAD is GET's, and only where GET is allowed. */
	{ HTTP_HEAD, "/v1/only-post", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL },
	    HTTP_POST },
	{ HTTP_GET, "/v1/only-post", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL },
	    HTTP_POST },
	/* Parameters. */
	{ HTTP_GET, "/v1/flags/new-checkout", ROUTER_FOUND, R_FLAG_GET,
	    { "new-checkout" }, 0 },
	{ HTTP_HEAD, "/v1/flags/x", ROUTER_FOUND, R_FLAG_GET, { "x" }, 0 },
	{ HTTP_PUT, "/v1/flags/x.y_z-1", ROUTER_FOUND, R_FLAG_PUT, { "x.y_z-1" }, 0 },
	{ HTTP_DELETE, "/v1/flags/x", ROUTER_FOUND, R_FLAG_DELETE, { "x" }, 0 },
	{ HTTP_GET, "/v1/flags/a%20b", ROUTER_FOUND, R_FLAG_GET, { "a b" }, 0 },
	{ HTTP_GET, "/v1/flags/caf%C3%A9", ROUTER_FOUND, R_FLAG_GET,
	    { "caf\xc3\xa9" }, 0 },
	{ HTTP_GET, "/v1/flags/a+b", ROUTER_FOUND, R_FLAG_GET, { "a+b" }, 0 },
	{ HTTP_GET, "/v1/flags/%7Bkey%7D", ROUTER_FOUND, R_FLAG_GET, { "{key}" }, 0 },
	{ HTTP_GET, "/v1/flags/a%2Fb", ROUTER_FOUND, R_FLAG_GET, { "a/b" }, 0 },
	{ HTTP_PATCH, "/v1/flags/x", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL },
	    GH | HTTP_PUT | HTTP_DELETE },
	{ HTTP_POST, "/v1/flags/x", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL },
	    GH | HTTP_PUT | HTTP_DELETE },
	{ HTTP_POST, "/v1/flags", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL }, GH },
	{ HTTP_GET, "/v1/flags/x/evaluate", ROUTER_FOUND, R_EVAL_GET, { "x" }, 0 },
	{ HTTP_POST, "/v1/flags/x/evaluate", ROUTER_FOUND, R_EVAL_POST, { "x" }, 0 },
	{ HTTP_PUT, "/v1/flags/x/evaluate", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL },
	    GH | HTTP_POST },
	{ HTTP_GET, "/v1/flags/x/evaluate/", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/flags/x/other", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_POST, "/v1/services/s1/instances/i-9/heartbeat", ROUTER_FOUND,
	    R_HEARTBEAT, { "s1", "i-9" }, 0 },
	{ HTTP_GET, "/v1/services/s1/instances/i-9/heartbeat",
	    ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL }, HTTP_POST },
	{ HTTP_POST, "/v1/services/s1/instances//heartbeat", ROUTER_NOT_FOUND, NONE,
	    { NULL }, 0 },
	/* A literal listed before a parameter wins. */
	{ HTTP_GET, "/v1/users/search", ROUTER_FOUND, R_USER_SEARCH, { NULL }, 0 },
	{ HTTP_GET, "/v1/users/u-1", ROUTER_FOUND, R_USER, { "u-1" }, 0 },
	/* Empty segments never fill a parameter. */
	{ HTTP_GET, "/v1/flags/", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_PUT, "/v1/flags/", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/flags//evaluate", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_POST, "/v1/flags//evaluate", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	/* The trailing wildcard. */
	{ HTTP_GET, "/v1/config/app", ROUTER_FOUND, R_CONFIG_GET, { "app" }, 0 },
	{ HTTP_GET, "/v1/config/app/db/url", ROUTER_FOUND, R_CONFIG_GET,
	    { "app/db/url" }, 0 },
	{ HTTP_HEAD, "/v1/config/app/x", ROUTER_FOUND, R_CONFIG_GET, { "app/x" }, 0 },
	{ HTTP_PUT, "/v1/config/app/db/url", ROUTER_FOUND, R_CONFIG_PUT,
	    { "app/db/url" }, 0 },
	{ HTTP_GET, "/v1/config/a%20b/c%2Ed", ROUTER_FOUND, R_CONFIG_GET,
	    { "a b/c.d" }, 0 },
	{ HTTP_GET, "/v1/config/evaluate", ROUTER_FOUND, R_CONFIG_GET,
	    { "evaluate" }, 0 },
	{ HTTP_GET, "/v1/config/", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/config//x", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/config", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_DELETE, "/v1/config/app/x", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL },
	    GH | HTTP_PUT },
	{ HTTP_DELETE, "/v1/config/", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	/* A pattern with a trailing slash. */
	{ HTTP_GET, "/api/v1/flags/", ROUTER_FOUND, R_FLAGSMITH, { NULL }, 0 },
	{ HTTP_HEAD, "/api/v1/flags/", ROUTER_FOUND, R_FLAGSMITH, { NULL }, 0 },
	{ HTTP_GET, "/api/v1/flags", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/api/v1/flags//", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_GET, "/api/v1/flags/x", ROUTER_NOT_FOUND, NONE, { NULL }, 0 },
	{ HTTP_POST, "/api/v1/flags/", ROUTER_METHOD_NOT_ALLOWED, NONE, { NULL }, GH },
	/* Bad encodings. */
	{ HTTP_GET, "/v1/flags/%zz", ROUTER_BAD_ENCODING, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/flags/%4", ROUTER_BAD_ENCODING, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/flags/%", ROUTER_BAD_ENCODING, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/flags/a%00b", ROUTER_BAD_ENCODING, NONE, { NULL }, 0 },
	{ HTTP_GET, "/v1/config/a/%zz/b", ROUTER_BAD_ENCODING, NONE, { NULL }, 0 },
	{ HTTP_GET, "/nowhere/%zz", ROUTER_BAD_ENCODING, NONE, { NULL }, 0 },
};

START_TEST(test_router_match)
{
	struct arena a;
	const struct route *route = (const struct route *)1;
	const char *params[ROUTE_MAX_PARAMS] = { NULL };
	unsigned allowed = 0xdead;
	enum router_result result;
	size_t i;

	arena_init(&a);
	result = router_match(table, ARRAY_SIZE(table), cases[_i].method,
	    cases[_i].path, &a, &route, params, &allowed);
	ck_assert_msg(result == cases[_i].result, "%s %s: result %d, want %d",
	    http_method_name(cases[_i].method), cases[_i].path, result,
	    cases[_i].result);
	if (result == ROUTER_FOUND) {
		ck_assert_msg(route == &table[cases[_i].route], "%s %s: route %s %s",
		    http_method_name(cases[_i].method), cases[_i].path,
		    http_method_name(route->method), route->pattern);
		for (i = 0; i < 3 && cases[_i].params[i] != NULL; i++) {
			ck_assert_ptr_nonnull(params[i]);
			ck_assert_str_eq(params[i], cases[_i].params[i]);
		}
	} else {
		ck_assert_ptr_null(route);
	}
	if (result == ROUTER_METHOD_NOT_ALLOWED)
		ck_assert_msg(allowed == cases[_i].allowed, "%s %s: allowed 0x%x, want 0x%x",
		    http_method_name(cases[_i].method), cases[_i].path, allowed,
		    cases[_i].allowed);
	arena_free(&a);
}
END_TEST

START_TEST(test_router_null_path)
{
	struct arena a;
	const struct route *route;
	const char *params[ROUTE_MAX_PARAMS];
	unsigned allowed;

	arena_init(&a);
	ck_assert_int_eq(router_match(table, ARRAY_SIZE(table), HTTP_GET, NULL, &a,
	    &route, params, &allowed), ROUTER_NOT_FOUND);
	ck_assert_ptr_null(route);
	/* An empty table finds nothing. */
	ck_assert_int_eq(router_match(table, 0, HTTP_GET, "/v1/health", &a,
	    &route, params, &allowed), ROUTER_NOT_FOUND);
	arena_free(&a);
}
END_TEST

/* "/v1/config/s/s/.../s" with nseg segments in all. */
static char *
deep_path(size_t nseg)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_puts(&b, "/v1/config");
	for (i = 2; i < nseg; i++)
		buf_printf(&b, "/s%zu", i);
	return b.data;
}

START_TEST(test_router_segment_limit)
{
	struct arena a;
	const struct route *route;
	const char *params[ROUTE_MAX_PARAMS] = { NULL };
	unsigned allowed;
	char *path;

	arena_init(&a);
	/* 64 segments: the wildcard takes the last 62. */
	path = deep_path(64);
	ck_assert_int_eq(router_match(table, ARRAY_SIZE(table), HTTP_GET, path, &a,
	    &route, params, &allowed), ROUTER_FOUND);
	ck_assert_ptr_eq(route, &table[R_CONFIG_GET]);
	ck_assert_str_eq(params[0], path + strlen("/v1/config/"));
	free(path);
	/* 65 and more: refused, whatever the table holds. */
	path = deep_path(65);
	ck_assert_int_ne(router_match(table, ARRAY_SIZE(table), HTTP_GET, path, &a,
	    &route, params, &allowed), ROUTER_FOUND);
	ck_assert_ptr_null(route);
	free(path);
	path = deep_path(1000);
	ck_assert_int_ne(router_match(table, ARRAY_SIZE(table), HTTP_GET, path, &a,
	    &route, params, &allowed), ROUTER_FOUND);
	free(path);
	arena_free(&a);
}
END_TEST

START_TEST(test_router_long_segment)
{
	struct arena a;
	const struct route *route;
	const char *params[ROUTE_MAX_PARAMS] = { NULL };
	unsigned allowed;
	struct buf path;
	int i;

	arena_init(&a);
	buf_init(&path);
	buf_puts(&path, "/v1/flags/");
	for (i = 0; i < 20000; i++)
		buf_puts(&path, "%41");
	ck_assert_int_eq(router_match(table, ARRAY_SIZE(table), HTTP_GET, path.data,
	    &a, &route, params, &allowed), ROUTER_FOUND);
	ck_assert_uint_eq(strlen(params[0]), 20000);
	ck_assert_int_eq(params[0][19999], 'A');
	buf_free(&path);
	arena_free(&a);
}
END_TEST

Suite *
router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("match");

	tcase_add_loop_test(tc, test_router_match, 0, (int)ARRAY_SIZE(cases));
	tcase_add_test(tc, test_router_null_path);
	tcase_add_test(tc, test_router_segment_limit);
	tcase_add_test(tc, test_router_long_segment);
	suite_add_tcase(s, tc);
	return s;
}

/* The real route table. */

static int
single_method(enum http_method m)
{
	unsigned bits = (unsigned)m;

	return bits != 0 && (bits & (bits - 1)) == 0 && m != HTTP_OTHER &&
	    m != HTTP_HEAD;
}

START_TEST(test_route_table_sane)
{
	size_t i, j;

	ck_assert_uint_gt(route_count, 0);
	ck_assert_msg(route_count <= METRICS_MAX_ROUTES,
	    "%zu routes, metrics hold %d", route_count, METRICS_MAX_ROUTES);
	for (i = 0; i < route_count; i++) {
		const struct route *r = &route_table[i];
		const char *p;
		int open = 0, wildcard_seen = 0;

		ck_assert_msg(r->pattern != NULL && r->pattern[0] == '/',
		    "route %zu: pattern %s", i, r->pattern);
		ck_assert_msg(single_method(r->method), "%s: method 0x%x", r->pattern,
		    (unsigned)r->method);
		ck_assert_msg((unsigned)r->scope < SCOPE_COUNT &&
		    strcmp(scope_name(r->scope), "unknown") != 0,
		    "%s %s: scope %d", http_method_name(r->method), r->pattern, r->scope);
		ck_assert_msg(r->handler != NULL, "%s: no handler", r->pattern);
		ck_assert_msg(r->summary != NULL && r->summary[0] != '\0',
		    "%s %s: no summary (the OpenAPI document needs one)",
		    http_method_name(r->method), r->pattern);
		ck_assert_msg((r->flags & ~(unsigned)(ROUTE_JSON_BODY |
		    ROUTE_SDK_KEY | ROUTE_OPEN_QUERY | ROUTE_OPEN_BODY |
		    ROUTE_BODY_OPTIONAL | ROUTE_FLAGSMITH | ROUTE_OFREP | ROUTE_SEED |
		    ROUTE_ANY_CREDENTIAL)) == 0,
		    "%s: unknown flags", r->pattern);
		/* The SDK APIs are evaluation: an SDK key may call them. */
		ck_assert_msg(!(r->flags & (ROUTE_FLAGSMITH | ROUTE_OFREP)) ||
		    (r->flags & ROUTE_SDK_KEY), "%s: SDK API without SDK keys",
		    r->pattern);
		/* Every route documents what it answers, in JSON Schema that parses. */
		ck_assert_msg(r->response != NULL, "%s %s: no response spec",
		    http_method_name(r->method), r->pattern);
		if (r->response->schema != NULL) {
			struct json_object *schema = json_tokener_parse(r->response->schema);

			ck_assert_msg(json_object_is_type(schema, json_type_object),
			    "%s %s: the response schema is not a JSON object",
			    http_method_name(r->method), r->pattern);
			json_object_put(schema);
		}
		/* Only the watch decides its scope by request (by prefix). */
		ck_assert_msg(r->scope_by_request == NULL ||
		    strcmp(r->pattern, "/v1/watch") == 0,
		    "%s: scope by request", r->pattern);
		/* A body route declares its fields: they are checked and documented. */
		ck_assert_msg(!(r->flags & ROUTE_JSON_BODY) || r->body != NULL,
		    "%s %s declares no body fields", http_method_name(r->method),
		    r->pattern);
		/* A DELETE's body is never needed (a lock's token, API.md §9). */
		ck_assert_msg(!(r->flags & ROUTE_JSON_BODY) ||
		    r->method == HTTP_POST || r->method == HTTP_PUT ||
		    r->method == HTTP_PATCH || (r->method == HTTP_DELETE &&
		    (r->flags & ROUTE_BODY_OPTIONAL)), "%s %s reads a body",
		    http_method_name(r->method), r->pattern);
		/* Braces pair up within one segment; {x...} only at the end. */
		for (p = r->pattern; *p != '\0'; p++) {
			ck_assert_msg(!wildcard_seen, "%s: wildcard not last", r->pattern);
			if (*p == '{') {
				ck_assert_msg(!open && p[-1] == '/', "%s: bad {", r->pattern);
				open = 1;
			} else if (*p == '}') {
				ck_assert_msg(open && p[-1] != '{' &&
				    (p[1] == '/' || p[1] == '\0'), "%s: bad }", r->pattern);
				open = 0;
				if (p - r->pattern >= 4 && strncmp(p - 3, "...", 3) == 0)
					wildcard_seen = 1;
			} else if (*p == '/') {
				ck_assert_msg(!open, "%s: / inside {}", r->pattern);
			} else if (*p == '?' || *p == '%' || *p == '#' || *p == ' ') {
				ck_abort_msg("%s: '%c' in a pattern", r->pattern, *p);
			}
		}
		ck_assert_msg(!open, "%s: unclosed {", r->pattern);
		for (j = 0; j < i; j++)
			ck_assert_msg(route_table[j].method != r->method ||
			    strcmp(route_table[j].pattern, r->pattern) != 0,
			    "%s %s twice in route_table", http_method_name(r->method),
			    r->pattern);
	}
	ck_assert_int_eq(route_index(NULL), route_count);
	for (i = 0; i < route_count; i++)
		ck_assert_uint_eq(route_index(&route_table[i]), i);
}
END_TEST

/*
 * API.md §2: exactly these routes are public, an SDK key reaches exactly
 * the evaluation routes (and GET /v1/whoami, which any credential may
 * call). A route added without a scope (or with SCOPE_PUBLIC by mistake)
 * fails here.
 */
START_TEST(test_route_table_auth)
{
	static const char *const public[] = { "GET /v1/health", "GET /v1/ready",
	    "GET /v1/openapi.json" };
	static const char *const sdk[] = { "POST /v1/flags/{key}/evaluate",
	    "GET /v1/flags/{key}/evaluate", "POST /v1/evaluate",
	    "GET /api/v1/flags/", "POST /api/v1/identities/",
	    "GET /api/v1/identities/", "POST /api/v1/analytics/flags/",
	    "POST /ofrep/v1/evaluate/flags/{key}", "POST /ofrep/v1/evaluate/flags" };
	static const char *const any[] = { "GET /v1/whoami" };
	size_t i, j, npublic = 0, nsdk = 0, nany = 0;

	for (i = 0; i < route_count; i++) {
		const struct route *r = &route_table[i];
		char name[256];
		int listed = 0;

		snprintf(name, sizeof(name), "%s %s", http_method_name(r->method),
		    r->pattern);
		for (j = 0; j < ARRAY_SIZE(any); j++)
			listed |= strcmp(name, any[j]) == 0;
		ck_assert_msg(((r->flags & ROUTE_ANY_CREDENTIAL) != 0) == listed,
		    "%s: any credential", name);
		nany += listed;
		listed = 0;
		for (j = 0; j < ARRAY_SIZE(public); j++)
			listed |= strcmp(name, public[j]) == 0;
		ck_assert_msg((r->scope == SCOPE_PUBLIC &&
		    !(r->flags & ROUTE_ANY_CREDENTIAL)) == listed,
		    "%s: scope %s", name, scope_name(r->scope));
		npublic += listed;
		listed = 0;
		for (j = 0; j < ARRAY_SIZE(sdk); j++)
			listed |= strcmp(name, sdk[j]) == 0;
		ck_assert_msg(((r->flags & ROUTE_SDK_KEY) != 0) == listed,
		    "%s: SDK key flag", name);
		nsdk += listed;
	}
	ck_assert_uint_eq(npublic, ARRAY_SIZE(public));
	ck_assert_uint_eq(nsdk, ARRAY_SIZE(sdk));
	ck_assert_uint_eq(nany, ARRAY_SIZE(any));
}
END_TEST

START_TEST(test_scope_closure)
{
	enum scope s;
	unsigned all = scope_closure(SCOPE_BIT(SCOPE_ADMIN));

	for (s = SCOPE_FLAGS_READ; s < SCOPE_COUNT; s++) {
		enum scope back;

		ck_assert(all & SCOPE_BIT(s));
		ck_assert_int_eq(scope_parse(scope_name(s), &back), 0);
		ck_assert_int_eq(back, s);
	}
	ck_assert(!(all & SCOPE_BIT(SCOPE_PUBLIC)));
	ck_assert_int_eq(scope_parse("public", &s), -1);
	ck_assert_int_eq(scope_parse("flags:admin", &s), -1);
	ck_assert_uint_eq(scope_closure(SCOPE_BIT(SCOPE_FLAGS_WRITE)),
	    SCOPE_BIT(SCOPE_FLAGS_WRITE) | SCOPE_BIT(SCOPE_FLAGS_READ));
	ck_assert_uint_eq(scope_closure(SCOPE_BIT(SCOPE_FLAGS_READ)),
	    SCOPE_BIT(SCOPE_FLAGS_READ));
	ck_assert_uint_eq(scope_closure(SCOPE_BIT(SCOPE_TOKENS_WRITE)),
	    SCOPE_BIT(SCOPE_TOKENS_WRITE));
	ck_assert(!(scope_closure(SCOPE_BIT(SCOPE_CONFIG_WRITE)) &
	    SCOPE_BIT(SCOPE_FLAGS_READ)));
}
END_TEST

/*
 * Every route is reachable: a concrete path made from its pattern routes to
 * it (a row shadowed by an earlier, more general one fails here).
 */
START_TEST(test_route_table_reachable)
{
	size_t i;

	for (i = 0; i < route_count; i++) {
		const struct route *r = &route_table[i], *found;
		const char *params[ROUTE_MAX_PARAMS], *p;
		struct arena a;
		struct buf path;
		unsigned allowed;
		enum router_result result;

		buf_init(&path);
		for (p = r->pattern; *p != '\0'; p++) {
			if (*p == '{') {
				const char *close = strchr(p, '}');

				buf_puts(&path, close - p > 4 && strncmp(close - 3, "...", 3) == 0 ?
				    "zz-x1/zz-x2" : "zz-p");
				p = close;
			} else {
				buf_putc(&path, *p);
			}
		}
		arena_init(&a);
		result = router_match(route_table, route_count, r->method, path.data,
		    &a, &found, params, &allowed);
		ck_assert_msg(result == ROUTER_FOUND && found == r,
		    "%s %s (pattern %s) routes to %s", http_method_name(r->method),
		    path.data, r->pattern, result == ROUTER_FOUND ? found->pattern :
		    "nothing");
		arena_free(&a);
		buf_free(&path);
	}
}
END_TEST

/* The real pipeline over the real table: the public operations endpoints. */
START_TEST(test_real_health)
{
	struct exchange ex;
	struct json_object *body;
	char err[256];

	ck_assert_int_eq(conf_load(&conf, NULL, err, sizeof(err)), 0);
	exchange_init(&ex);
	ex.req.method = "GET";
	ex.req.path = "/v1/health";
	api_handle(&ex);
	ck_assert_int_eq(ex.res.status, 200);
	ck_assert_pstr_eq(ex.res.content_type, "application/json");
	ck_assert_ptr_nonnull(response_header_get(&ex, "X-Request-Id"));
	body = test_json_parse(ex.res.body.data, "health");
	ck_assert_pstr_eq(test_json_string(body, "status"), "ok");
	ck_assert_pstr_eq(test_json_string(body, "version"), PACKAGE_VERSION);
	json_object_put(body);
	exchange_free(&ex);

	exchange_init(&ex);
	ex.req.method = "GET";
	ex.req.path = "/v1/no-such-route";
	api_handle(&ex);
	ck_assert_int_eq(ex.res.status, 404);
	exchange_free(&ex);
}
END_TEST

/* /v1/openapi.json covers every row of route_table. */
START_TEST(test_real_openapi)
{
	struct exchange ex;
	struct json_object *doc, *paths, *item, *op;
	char err[256];
	size_t i;

	ck_assert_int_eq(conf_load(&conf, NULL, err, sizeof(err)), 0);
	exchange_init(&ex);
	ex.req.method = "GET";
	ex.req.path = "/v1/openapi.json";
	api_handle(&ex);
	ck_assert_int_eq(ex.res.status, 200);
	ck_assert_pstr_eq(ex.res.content_type, "application/json");
	doc = test_json_parse(ex.res.body.data, "openapi.json");
	ck_assert_pstr_eq(test_json_string(doc, "openapi"), "3.1.0");
	ck_assert(json_object_object_get_ex(doc, "paths", &paths));
	for (i = 0; i < route_count; i++) {
		const struct route *r = &route_table[i];
		char path[512], method[16], *dots;
		size_t j;

		snprintf(path, sizeof(path), "%s", r->pattern);
		while ((dots = strstr(path, "...}")) != NULL)
			memmove(dots, dots + 3, strlen(dots + 3) + 1);
		snprintf(method, sizeof(method), "%s", http_method_name(r->method));
		for (j = 0; method[j] != '\0'; j++)
			method[j] = (char)(method[j] - 'A' + 'a');
		ck_assert_msg(json_object_object_get_ex(paths, path, &item),
		    "openapi.json lacks path %s", path);
		ck_assert_msg(json_object_object_get_ex(item, method, &op),
		    "openapi.json lacks %s %s", method, path);
		ck_assert_pstr_eq(test_json_string(op, "summary"), r->summary);
	}
	json_object_put(doc);
	exchange_free(&ex);
}
END_TEST

Suite *
route_table_suite(void)
{
	Suite *s = suite_create("route_table");
	TCase *tc = tcase_create("route_table");

	tcase_add_test(tc, test_route_table_sane);
	tcase_add_test(tc, test_route_table_auth);
	tcase_add_test(tc, test_scope_closure);
	tcase_add_test(tc, test_route_table_reachable);
	tcase_add_test(tc, test_real_health);
	tcase_add_test(tc, test_real_openapi);
	suite_add_tcase(s, tc);
	return s;
}
