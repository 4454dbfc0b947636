/*
 * Unit tests of the request pipeline (api_handle_routes) over a table of our
 * own: request ids, 404/405, 413 (before reading, and while streaming), 415,
 * the JSON checks (syntax, depth 64, UTF-8 and surrogate escapes, NUL and
 * \u0000, numbers json-c would change, the field a refusal names) and that
 * no handler runs on any error. Bodies come from a fake body_reader that
 * can hand data out in small chunks and counts how it was called. Also the
 * write preconditions every resource shares (resource_condition).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/conf.h"
#include "base/json_check.h"
#include "base/util.h"
#include "http/api.h"
#include "http/resource.h"
#include "http/router.h"

#include "check_suites.h"

/* The fake front end's body. */
struct fake_body {
	const char	*data;
	size_t		 len;
	size_t		 pos;
	size_t		 chunk;		/* 0: as much as asked for */
	int		 fail;		/* return -1 after the first chunk */
	int		 calls;
};

static long
fake_read(void *ctx, char *dst, size_t len)
{
	struct fake_body *fb = ctx;
	size_t n = fb->len - fb->pos;

	fb->calls++;
	if (fb->fail && fb->pos > 0)
		return -1;
	if (n > len)
		n = len;
	if (fb->chunk > 0 && n > fb->chunk)
		n = fb->chunk;
	memcpy(dst, fb->data + fb->pos, n);
	fb->pos += n;
	return (long)n;
}

/* Handlers: count calls; echo the parsed body, the params and a query value. */
static int handler_calls;

static void
echo(struct exchange *ex)
{
	struct json_object *out = json_object_new_object();
	size_t i;

	handler_calls++;
	json_object_object_add(out, "body", ex->json != NULL ?
	    json_object_get(ex->json) : NULL);
	for (i = 0; i < ROUTE_MAX_PARAMS && ex->params[i] != NULL; i++) {
		char name[8];

		snprintf(name, sizeof(name), "p%zu", i);
		json_object_object_add(out, name, json_object_new_string(ex->params[i]));
	}
	if (query_get(ex, "q") != NULL)
		json_object_object_add(out, "q", json_object_new_string(query_get(ex, "q")));
	respond_json(ex, 200, out);
	json_object_put(out);
}

static void
silent(struct exchange *ex)
{
	handler_calls++;
}

static const struct route routes[] = {
	{ .method = HTTP_GET, .pattern = "/v1/things", .scope = SCOPE_PUBLIC,
	    .handler = echo, .summary = "list" },
	{ .method = HTTP_POST, .pattern = "/v1/things",
	    .scope = SCOPE_FLAGS_WRITE, .handler = echo,
	    .flags = ROUTE_JSON_BODY, .summary = "create" },
	{ .method = HTTP_GET, .pattern = "/v1/things/{key}",
	    .scope = SCOPE_FLAGS_READ, .handler = echo, .summary = "get" },
	{ .method = HTTP_PUT, .pattern = "/v1/things/{key}",
	    .scope = SCOPE_FLAGS_WRITE, .handler = echo,
	    .flags = ROUTE_JSON_BODY, .summary = "put" },
	{ .method = HTTP_PATCH, .pattern = "/v1/things/{key}",
	    .scope = SCOPE_FLAGS_WRITE, .handler = echo,
	    .flags = ROUTE_JSON_BODY, .summary = "patch" },
	{ .method = HTTP_DELETE, .pattern = "/v1/things/{key}",
	    .scope = SCOPE_FLAGS_WRITE, .handler = echo, .summary = "delete" },
	{ .method = HTTP_GET, .pattern = "/v1/blobs/{key...}",
	    .scope = SCOPE_CONFIG_READ, .handler = echo, .summary = "blob" },
	{ .method = HTTP_GET, .pattern = "/v1/silent", .scope = SCOPE_PUBLIC,
	    .handler = silent, .summary = "no answer" },
};

static void
setup(void)
{
	char err[1024];

	test_clear_dynconf_env();
	ck_assert_msg(conf_load(&conf, NULL, err, sizeof(err)) == 0, "%s", err);
	/* The pipeline's own checks; authorization has its tests (check_auth.c). */
	conf.auth.mode = AUTH_MODE_OFF;
	handler_calls = 0;
}

static void
teardown(void)
{
	char err[1024];

	(void)conf_load(&conf, NULL, err, sizeof(err));
}

#define AUTO_LENGTH	(-2)	/* Content-Length: the body's length */

struct call {
	const char	*method;
	const char	*path;
	const char	*query;
	const char	*content_type;
	long long	 content_length;	/* -1: not sent; AUTO_LENGTH */
	const char	*body;		/* NULL: no body reader at all */
	size_t		 body_len;	/* 0: strlen(body) */
	size_t		 chunk;
	const char	*request_id;
};

/* Run one request; the caller frees ex. */
static void
run(struct exchange *ex, const struct call *c, struct fake_body *fb)
{
	memset(fb, 0, sizeof(*fb));
	exchange_init(ex);
	ex->req.method = c->method;
	ex->req.path = c->path;
	ex->req.query = c->query;
	ex->req.content_type = c->content_type;
	ex->req.request_id = c->request_id;
	if (c->body != NULL) {
		fb->data = c->body;
		fb->len = c->body_len ? c->body_len : strlen(c->body);
		fb->chunk = c->chunk;
		ex->req.read_body = fake_read;
		ex->req.body_ctx = fb;
	}
	ex->req.content_length = c->content_length == AUTO_LENGTH ?
	    (long long)fb->len : c->content_length;
	api_handle_routes(ex, routes, ARRAY_SIZE(routes));
}

/* The response is a problem with this status and code; the handler never ran. */
static void
expect_problem(struct exchange *ex, int status, const char *code)
{
	struct json_object *body, *member;

	ck_assert_msg(ex->res.status == status, "status %d, want %d: %.2000s",
	    ex->res.status, status, ex->res.body.data ? ex->res.body.data : "");
	ck_assert_pstr_eq(ex->res.content_type, "application/problem+json");
	body = test_json_parse(ex->res.body.data, "problem body");
	ck_assert_msg(test_json_string(body, "code") != NULL &&
	    strcmp(test_json_string(body, "code"), code) == 0,
	    "code in %s, want %s", ex->res.body.data, code);
	ck_assert_pstr_eq(test_json_string(body, "type"), "about:blank");
	ck_assert_pstr_eq(test_json_string(body, "title"), http_status_text(status));
	ck_assert(json_object_object_get_ex(body, "status", &member));
	ck_assert_int_eq(json_object_get_int(member), status);
	ck_assert_ptr_nonnull(test_json_string(body, "detail"));
	ck_assert_pstr_eq(test_json_string(body, "request_id"), ex->request_id);
	ck_assert_pstr_eq(response_header_get(ex, "X-Request-Id"), ex->request_id);
	ck_assert_msg(handler_calls == 0, "the handler ran on a %d", status);
	json_object_put(body);
}

/* The handler ran once and answered 200; returns its echo. */
static struct json_object *
expect_ok(struct exchange *ex)
{
	ck_assert_msg(ex->res.status == 200, "status %d, want 200: %.2000s",
	    ex->res.status, ex->res.body.data ? ex->res.body.data : "");
	ck_assert_int_eq(handler_calls, 1);
	ck_assert_pstr_eq(response_header_get(ex, "X-Request-Id"), ex->request_id);
	return test_json_parse(ex->res.body.data, "echo");
}

/* Request ids */

static const struct {
	const char	*sent;
	int		 kept;
} request_ids[] = {
	{ "abc-123_X.y", 1 },
	{ "0", 1 },
	{ "6f1c0a7e-6f1c-4a7e-8f1c-0a7e6f1c0a7e", 1 },
	{ "........", 1 },
	{ NULL, 0 },
	{ "", 0 },
	{ "abc def", 0 },
	{ "abc/def", 0 },
	{ "abc\"def", 0 },
	{ "abc\ndef", 0 },
	{ "abc\xc3\xa9", 0 },
	{ "a:b", 0 },
	{ "a%20", 0 },
};

static int
is_fresh_id(const char *id)
{
	size_t i;

	if (strlen(id) != 32)
		return 0;
	for (i = 0; i < 32; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

START_TEST(test_request_id)
{
	struct call c = { "GET", "/v1/things", NULL, NULL, -1, NULL, 0, 0,
	    request_ids[_i].sent };
	struct exchange ex;
	struct fake_body fb;
	const char *header;

	run(&ex, &c, &fb);
	json_object_put(expect_ok(&ex));
	header = response_header_get(&ex, "X-Request-Id");
	ck_assert_ptr_nonnull(header);
	if (request_ids[_i].kept) {
		ck_assert_str_eq(header, request_ids[_i].sent);
		ck_assert_int_eq(request_id_valid(request_ids[_i].sent), 1);
	} else {
		ck_assert_msg(is_fresh_id(header), "id \"%s\" for \"%s\"", header,
		    request_ids[_i].sent ? request_ids[_i].sent : "(none)");
		ck_assert_int_eq(request_id_valid(request_ids[_i].sent), 0);
	}
	ck_assert_str_eq(ex.request_id, header);
	exchange_free(&ex);
}
END_TEST

START_TEST(test_request_id_length)
{
	char id[REQUEST_ID_MAX + 2];
	struct call c = { "GET", "/nowhere", NULL, NULL, -1, NULL, 0, 0, id };
	struct exchange ex;
	struct fake_body fb;

	/* 128 characters: kept, also on an error response. */
	memset(id, 'a', REQUEST_ID_MAX);
	id[REQUEST_ID_MAX] = '\0';
	run(&ex, &c, &fb);
	expect_problem(&ex, 404, "not_found");
	ck_assert_str_eq(response_header_get(&ex, "X-Request-Id"), id);
	exchange_free(&ex);
	/* 129: replaced. */
	id[REQUEST_ID_MAX] = 'a';
	id[REQUEST_ID_MAX + 1] = '\0';
	run(&ex, &c, &fb);
	expect_problem(&ex, 404, "not_found");
	ck_assert_msg(is_fresh_id(response_header_get(&ex, "X-Request-Id")),
	    "129-character id kept as %s", response_header_get(&ex, "X-Request-Id"));
	exchange_free(&ex);
}
END_TEST

START_TEST(test_request_id_fresh_each_time)
{
	struct call c = { "GET", "/v1/things", NULL, NULL, -1, NULL, 0, 0, NULL };
	struct exchange ex;
	struct fake_body fb;
	char first[REQUEST_ID_MAX + 1];

	run(&ex, &c, &fb);
	snprintf(first, sizeof(first), "%s", ex.request_id);
	exchange_free(&ex);
	run(&ex, &c, &fb);
	ck_assert(is_fresh_id(first) && is_fresh_id(ex.request_id));
	ck_assert_str_ne(first, ex.request_id);
	exchange_free(&ex);
}
END_TEST

/* Routing errors and success */

static const char empty_json[] = "{}";

static const struct {
	struct call	 call;
	int		 status;
	const char	*code;
	const char	*allow;
} routing[] = {
	{ { "GET", "/nowhere", NULL, NULL, -1, NULL, 0, 0, NULL }, 404, "not_found", NULL },
	{ { "GET", "/v1/things/", NULL, NULL, -1, NULL, 0, 0, NULL }, 404, "not_found", NULL },
	{ { "GET", "/v1/blobs/", NULL, NULL, -1, NULL, 0, 0, NULL }, 404, "not_found", NULL },
	{ { "GET", "relative", NULL, NULL, -1, NULL, 0, 0, NULL }, 404, "not_found", NULL },
	{ { "DELETE", "/v1/things", NULL, NULL, -1, NULL, 0, 0, NULL }, 405,
	    "method_not_allowed", "GET, HEAD, POST" },
	{ { "POST", "/v1/things/k", NULL, "application/json", AUTO_LENGTH, empty_json,
	    0, 0, NULL }, 405, "method_not_allowed",
	    "GET, HEAD, PUT, PATCH, DELETE" },
	{ { "BREW", "/v1/things", NULL, NULL, -1, NULL, 0, 0, NULL }, 405,
	    "method_not_allowed", "GET, HEAD, POST" },
	{ { "get", "/v1/things", NULL, NULL, -1, NULL, 0, 0, NULL }, 405,
	    "method_not_allowed", "GET, HEAD, POST" },
	{ { "PUT", "/v1/blobs/a/b", NULL, "application/json", AUTO_LENGTH, empty_json,
	    0, 0, NULL }, 405, "method_not_allowed", "GET, HEAD" },
	{ { "GET", "/v1/things/%zz", NULL, NULL, -1, NULL, 0, 0, NULL }, 400,
	    "invalid_encoding", NULL },
	{ { "GET", "/v1/things/a%00", NULL, NULL, -1, NULL, 0, 0, NULL }, 400,
	    "invalid_encoding", NULL },
	{ { "GET", "/v1/things", "q=%zz", NULL, -1, NULL, 0, 0, NULL }, 400,
	    "invalid_encoding", NULL },
	{ { "GET", "/v1/silent", NULL, NULL, -1, NULL, 0, 0, NULL }, 500,
	    "internal_error", NULL },
};

START_TEST(test_routing_errors)
{
	struct exchange ex;
	struct fake_body fb;
	int want_calls = routing[_i].status == 500;	/* the silent handler ran */

	run(&ex, &routing[_i].call, &fb);
	if (want_calls) {
		ck_assert_int_eq(handler_calls, 1);
		handler_calls = 0;
	}
	expect_problem(&ex, routing[_i].status, routing[_i].code);
	if (routing[_i].allow != NULL)
		ck_assert_pstr_eq(response_header_get(&ex, "Allow"), routing[_i].allow);
	else
		ck_assert_ptr_null(response_header_get(&ex, "Allow"));
	ck_assert_int_eq(fb.calls, 0);
	exchange_free(&ex);
}
END_TEST

START_TEST(test_routing_ok)
{
	static const struct call calls[] = {
		{ "GET", "/v1/things", "q=a+b%20c&x=1", NULL, -1, NULL, 0, 0, NULL },
		{ "HEAD", "/v1/things/k%20ey", NULL, NULL, -1, NULL, 0, 0, NULL },
		{ "DELETE", "/v1/things/k", NULL, NULL, -1, NULL, 0, 0, NULL },
		{ "GET", "/v1/blobs/a/b%2Fc/d", NULL, NULL, -1, NULL, 0, 0, NULL },
	};
	static const char *const p0[] = { NULL, "k ey", "k", "a/b/c/d" };
	struct exchange ex;
	struct fake_body fb;
	struct json_object *echoed;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		handler_calls = 0;
		run(&ex, &calls[i], &fb);
		echoed = expect_ok(&ex);
		if (p0[i] != NULL)
			ck_assert_pstr_eq(test_json_string(echoed, "p0"), p0[i]);
		if (i == 0)
			ck_assert_pstr_eq(test_json_string(echoed, "q"), "a b c");
		json_object_put(echoed);
		exchange_free(&ex);
	}
}
END_TEST

/* A GET route does not read a body it was sent, nor refuse its type. */
START_TEST(test_body_ignored_without_json_flag)
{
	struct call c = { "DELETE", "/v1/things/k", NULL, "text/plain", AUTO_LENGTH,
	    "hello", 0, 0, NULL };
	struct exchange ex;
	struct fake_body fb;

	run(&ex, &c, &fb);
	json_object_put(expect_ok(&ex));
	ck_assert_int_eq(fb.calls, 0);
	exchange_free(&ex);
}
END_TEST

/* Body size */

/* A JSON document of exactly n bytes: {"s":"xxxx"}. */
static char *
json_of_size(size_t n)
{
	char *s = malloc(n + 1);

	ck_assert(n >= 8);
	memcpy(s, "{\"s\":\"", 6);
	memset(s + 6, 'x', n - 8);
	memcpy(s + n - 2, "\"}", 3);
	return s;
}

START_TEST(test_413_without_reading)
{
	static const char *const methods[] = { "POST", "GET" };
	struct call c = { NULL, "/v1/things", NULL, "application/json", 0, NULL, 0, 0,
	    NULL };
	struct exchange ex;
	struct fake_body fb;
	char *body = json_of_size(4096);
	size_t i;

	conf.server.max_body = 2048;
	c.body = body;
	for (i = 0; i < ARRAY_SIZE(methods); i++) {
		c.method = methods[i];
		c.content_length = 2049;
		run(&ex, &c, &fb);
		expect_problem(&ex, 413, "payload_too_large");
		ck_assert_msg(fb.calls == 0, "%s: the body reader was called %d times "
		    "before the 413", methods[i], fb.calls);
		exchange_free(&ex);
		/* Even a huge declared length, and before the 415. */
		c.content_length = (long long)1 << 40;
		c.content_type = "text/plain";
		run(&ex, &c, &fb);
		expect_problem(&ex, 413, "payload_too_large");
		ck_assert_int_eq(fb.calls, 0);
		exchange_free(&ex);
		c.content_type = "application/json";
	}
	free(body);
}
END_TEST

START_TEST(test_413_streaming)
{
	static const size_t chunks[] = { 1, 100, 1000, 0 };
	struct call c = { "POST", "/v1/things", NULL, "application/json", -1, NULL,
	    0, 0, NULL };
	struct exchange ex;
	struct fake_body fb;
	char *body = json_of_size(100000);
	size_t i;

	conf.server.max_body = 1024;
	c.body = body;
	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		c.chunk = chunks[i];
		/* No Content-Length, and a Content-Length that lies. */
		c.content_length = i % 2 ? -1 : 10;
		run(&ex, &c, &fb);
		expect_problem(&ex, 413, "payload_too_large");
		/* Not read whole: reading stopped soon after the limit. */
		ck_assert_msg(fb.pos <= 1024 + 16384, "read %zu bytes of %zu before "
		    "the 413 (chunk %zu)", fb.pos, fb.len, chunks[i]);
		exchange_free(&ex);
	}
	free(body);
}
END_TEST

START_TEST(test_max_body_boundary)
{
	struct call c = { "POST", "/v1/things", NULL, "application/json", AUTO_LENGTH,
	    NULL, 0, 7, NULL };
	struct exchange ex;
	struct fake_body fb;
	struct json_object *echoed, *b;
	char *body = json_of_size(1024), *over = json_of_size(1025);

	conf.server.max_body = 1024;
	c.body = body;
	run(&ex, &c, &fb);
	echoed = expect_ok(&ex);
	ck_assert(json_object_object_get_ex(echoed, "body", &b));
	ck_assert_uint_eq(strlen(test_json_string(b, "s")), 1024 - 8);
	json_object_put(echoed);
	exchange_free(&ex);
	/* One more byte, declared or streamed. */
	handler_calls = 0;
	c.body = over;
	run(&ex, &c, &fb);
	expect_problem(&ex, 413, "payload_too_large");
	ck_assert_int_eq(fb.calls, 0);
	exchange_free(&ex);
	c.content_length = -1;
	run(&ex, &c, &fb);
	expect_problem(&ex, 413, "payload_too_large");
	exchange_free(&ex);
	free(body);
	free(over);
}
END_TEST

START_TEST(test_body_read_error)
{
	struct call c = { "POST", "/v1/things", NULL, "application/json", AUTO_LENGTH,
	    "{\"a\":1}", 0, 2, NULL };
	struct exchange ex;
	struct fake_body fb;

	memset(&fb, 0, sizeof(fb));
	exchange_init(&ex);
	ex.req.method = c.method;
	ex.req.path = c.path;
	ex.req.content_type = c.content_type;
	fb.data = c.body;
	fb.len = strlen(c.body);
	fb.chunk = 2;
	fb.fail = 1;
	ex.req.read_body = fake_read;
	ex.req.body_ctx = &fb;
	ex.req.content_length = (long long)fb.len;
	api_handle_routes(&ex, routes, ARRAY_SIZE(routes));
	ck_assert_int_eq(ex.res.status, 400);
	ck_assert_int_eq(handler_calls, 0);
	ck_assert_pstr_eq(ex.res.content_type, "application/problem+json");
	exchange_free(&ex);
}
END_TEST

/* Content types */

static const struct {
	const char	*method;
	const char	*path;
	const char	*content_type;
	long long	 content_length;
	int		 ok;
} media_types[] = {
	{ "POST", "/v1/things", "application/json", AUTO_LENGTH, 1 },
	{ "POST", "/v1/things", "application/json; charset=utf-8", AUTO_LENGTH, 1 },
	{ "POST", "/v1/things", "application/json;charset=UTF-8", AUTO_LENGTH, 1 },
	{ "POST", "/v1/things", "Application/JSON", AUTO_LENGTH, 1 },
	{ "POST", "/v1/things", "text/plain", AUTO_LENGTH, 0 },
	{ "POST", "/v1/things", "text/plain", -1, 0 },		/* streamed */
	{ "POST", "/v1/things", NULL, AUTO_LENGTH, 0 },
	{ "POST", "/v1/things", NULL, -1, 0 },
	{ "POST", "/v1/things", "", AUTO_LENGTH, 0 },
	{ "POST", "/v1/things", "application/jsonp", AUTO_LENGTH, 0 },
	{ "POST", "/v1/things", "application/json-seq", AUTO_LENGTH, 0 },
	{ "POST", "/v1/things", "application/x-www-form-urlencoded", AUTO_LENGTH, 0 },
	{ "POST", "/v1/things", "multipart/form-data; boundary=x", AUTO_LENGTH, 0 },
	{ "POST", "/v1/things", "application/merge-patch+json", AUTO_LENGTH, 0 },
	{ "PUT", "/v1/things/k", "application/merge-patch+json", AUTO_LENGTH, 0 },
	{ "PUT", "/v1/things/k", "application/json", AUTO_LENGTH, 1 },
	{ "PATCH", "/v1/things/k", "application/merge-patch+json", AUTO_LENGTH, 1 },
	{ "PATCH", "/v1/things/k", "application/merge-patch+json; charset=utf-8",
	    AUTO_LENGTH, 1 },
	{ "PATCH", "/v1/things/k", "application/json", AUTO_LENGTH, 1 },
	{ "PATCH", "/v1/things/k", "application/json-patch+json", AUTO_LENGTH, 0 },
	{ "PATCH", "/v1/things/k", "text/plain", -1, 0 },
};

START_TEST(test_media_type)
{
	struct call c = { media_types[_i].method, media_types[_i].path, NULL,
	    media_types[_i].content_type, media_types[_i].content_length,
	    "{\"a\":[1,\"two\",null]}", 0, 0, NULL };
	struct exchange ex;
	struct fake_body fb;

	run(&ex, &c, &fb);
	if (media_types[_i].ok) {
		struct json_object *echoed = expect_ok(&ex), *b, *sent;

		ck_assert(json_object_object_get_ex(echoed, "body", &b));
		sent = test_json_parse(c.body, "sent");
		ck_assert_msg(json_object_equal(b, sent), "echo %.2000s", ex.res.body.data);
		json_object_put(sent);
		json_object_put(echoed);
	} else {
		expect_problem(&ex, 415, "unsupported_media_type");
		if (media_types[_i].content_length != -1)
			ck_assert_msg(fb.calls == 0, "read a body before its 415");
	}
	exchange_free(&ex);
}
END_TEST

/* No body at all on a JSON route: the handler sees no JSON, and no 415. */
START_TEST(test_no_body)
{
	static const struct call calls[] = {
		{ "POST", "/v1/things", NULL, NULL, -1, NULL, 0, 0, NULL },
		{ "POST", "/v1/things", NULL, NULL, 0, "", 0, 0, NULL },
		{ "POST", "/v1/things", NULL, "text/plain", -1, "", 0, 0, NULL },
	};
	struct exchange ex;
	struct fake_body fb;
	struct json_object *echoed, *b;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		handler_calls = 0;
		run(&ex, &calls[i], &fb);
		echoed = expect_ok(&ex);
		ck_assert_ptr_null(ex.json);
		ck_assert(json_object_object_get_ex(echoed, "body", &b));
		ck_assert_ptr_null(b);
		json_object_put(echoed);
		exchange_free(&ex);
	}
}
END_TEST

/* JSON bodies */

static const struct {
	const char	*body;
	size_t		 len;		/* 0: strlen */
	const char	*code;		/* NULL: accepted */
} json_bodies[] = {
	{ "{}", 0, NULL },
	{ "[]", 0, NULL },
	{ "{\"a\":1}", 0, NULL },
	{ " \t\r\n{\"a\":[1,2.5,-3e2,true,false,null,{\"b\":\"c\"}]} \n", 0, NULL },
	{ "{\"a\":1}\n", 0, NULL },		/* curl --data-binary @file */
	{ "{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", 0, NULL },
	{ "{\"s\":\"\\u00e9\\ud83d\\ude00\\n\\\"\"}", 0, NULL },
	{ "\"just a string\"", 0, NULL },
	{ "42", 0, NULL },			/* any JSON text (RFC 8259) */
	{ "-0.5", 0, NULL },
	{ "true", 0, NULL },
	{ "null", 0, NULL },
	/* Not JSON. */
	{ "{\"a\":1", 0, "invalid_json" },		/* truncated */
	{ "{\"a\":", 0, "invalid_json" },
	{ "[1,2", 0, "invalid_json" },
	{ "{\"a\":1}x", 0, "invalid_json" },		/* trailing garbage */
	{ "{\"a\":1} x", 0, "invalid_json" },
	{ "{\"a\":1}{}", 0, "invalid_json" },
	{ "{} {}", 0, "invalid_json" },
	{ "12 3", 0, "invalid_json" },
	{ "{\"a\":}", 0, "invalid_json" },
	{ "{\"a\":1,}", 0, "invalid_json" },
	{ "[1,]", 0, "invalid_json" },
	{ "{a:1}", 0, "invalid_json" },
	{ "{'a':1}", 0, "invalid_json" },
	{ "['a']", 0, "invalid_json" },
	{ "[01]", 0, "invalid_json" },
	{ "[.5]", 0, "invalid_json" },
	{ "[1.]", 0, "invalid_json" },
	{ "[NaN]", 0, "invalid_json" },
	{ "[Infinity]", 0, "invalid_json" },
	{ "{\"a\":-Infinity}", 0, "invalid_json" },
	{ "[True]", 0, "invalid_json" },
	{ "[\"a\\x41\"]", 0, "invalid_json" },
	{ "[\"tab\tinside\"]", 0, "invalid_json" },	/* raw control character */
	{ "[\"new\nline\"]", 0, "invalid_json" },
	{ "[1]/*c*/", 0, "invalid_json" },
	{ "   ", 0, "invalid_json" },
	{ "{\"a\":\"b\0c\"}", 11, "invalid_json" },	/* NUL byte */
	{ "{\"a\":1}\0", 8, "invalid_json" },
	{ "\0{}", 3, "invalid_json" },
	/* Not UTF-8. */
	{ "{\"a\":\"\xff\"}", 0, "invalid_utf8" },
	{ "{\"\xc3\x28\":1}", 0, "invalid_utf8" },
	{ "[\"\xc3\"]", 0, "invalid_utf8" },			/* truncated sequence */
	{ "[\"\x80\"]", 0, "invalid_utf8" },			/* lone continuation */
	{ "[\"\xf8\x88\x80\x80\x80\"]", 0, "invalid_utf8" },	/* 5-byte form */
	{ "[\"\xc0\xaf\"]", 0, "invalid_utf8" },		/* overlong '/' */
	{ "[\"\xe0\x80\xaf\"]", 0, "invalid_utf8" },		/* overlong '/' */
	{ "[\"\xed\xa0\x80\"]", 0, "invalid_utf8" },		/* a UTF-16 surrogate */
	{ "[\"\xf4\x90\x80\x80\"]", 0, "invalid_utf8" },	/* above U+10FFFF */
	/* UTF-16 surrogate escapes: a pair is one character, a lone half none. */
	{ "[\"\\ud83d\\ude00\"]", 0, NULL },
	{ "[\"\\uD83D\\uDE00\"]", 0, NULL },
	{ "[\"\\ud800\"]", 0, "invalid_utf8" },
	{ "[\"\\udbff\"]", 0, "invalid_utf8" },
	{ "[\"\\udc00\"]", 0, "invalid_utf8" },		/* a lone low half */
	{ "[\"\\ude00\\ud83d\"]", 0, "invalid_utf8" },	/* in the wrong order */
	{ "[\"\\ud800\\u0041\"]", 0, "invalid_utf8" },
	{ "[\"\\ud800\\ud800\"]", 0, "invalid_utf8" },
	{ "[\"\\ud800x\"]", 0, "invalid_utf8" },
	{ "[\"\\ud800\\n\"]", 0, "invalid_utf8" },
	{ "{\"\\ud800\":1}", 0, "invalid_utf8" },		/* a member name too */
	/* \u0000 would cut a name short in json-c (API.md §1). */
	{ "[\"\\u0001 \\u001f\"]", 0, NULL },
	{ "[\"\\\\u0000\"]", 0, NULL },			/* a backslash, then u0000 */
	{ "[\"\\u0000\"]", 0, "nul_in_string" },
	{ "{\"name\":\"admin\\u0000\"}", 0, "nul_in_string" },
	{ "{\"a\\u0000b\":1}", 0, "nul_in_string" },
	{ "\"\\u0000\"", 0, "nul_in_string" },
	/* Numbers that json-c keeps as sent, and those it would change. */
	{ "[9223372036854775807,-9223372036854775808,18446744073709551615]", 0, NULL },
	{ "[0,-1,1.5,-0.0,1e3,1E2,1.0,0.10000000000000000000001,1e-400]", 0, NULL },
	{ "[1.7976931348623157e308,-1.7976931348623158e308]", 0, NULL },
	{ "[18446744073709551616]", 0, "number_out_of_range" },
	{ "[99999999999999999999]", 0, "number_out_of_range" },
	{ "[123456789012345678901234567890]", 0, "number_out_of_range" },
	{ "[-9223372036854775809]", 0, "number_out_of_range" },
	{ "[-10000000000000000000]", 0, "number_out_of_range" },
	{ "[-0]", 0, "number_out_of_range" },
	{ "[1e400]", 0, "number_out_of_range" },
	{ "[-1e309]", 0, "number_out_of_range" },
	{ "[1.7976931348623159e308]", 0, "number_out_of_range" },
	{ "[1e999999999999999999999]", 0, "number_out_of_range" },
	{ "[0e999999999999999999999]", 0, NULL },		/* zero all the same */
	{ "[0.001e310]", 0, NULL },
};

START_TEST(test_json_body)
{
	size_t len = json_bodies[_i].len ? json_bodies[_i].len :
	    strlen(json_bodies[_i].body);
	struct call c = { "POST", "/v1/things", NULL, "application/json", AUTO_LENGTH,
	    json_bodies[_i].body, len, 3, NULL };
	struct exchange ex;
	struct fake_body fb;

	run(&ex, &c, &fb);
	if (json_bodies[_i].code == NULL) {
		struct json_object *echoed, *b, *sent;

		ck_assert_msg(ex.res.status == 200, "body %s: status %d: %.2000s",
		    json_bodies[_i].body, ex.res.status, ex.res.body.data);
		echoed = expect_ok(&ex);
		ck_assert(json_object_object_get_ex(echoed, "body", &b));
		sent = test_json_parse(json_bodies[_i].body, "sent");
		ck_assert_msg(json_object_equal(b, sent), "echo %.2000s", ex.res.body.data);
		json_object_put(sent);
		json_object_put(echoed);
	} else {
		ck_assert_msg(ex.res.status == 400, "body \"%s\" (%zu bytes): status %d, "
		    "want 400 %s", json_bodies[_i].body, len, ex.res.status,
		    json_bodies[_i].code);
		expect_problem(&ex, 400, json_bodies[_i].code);
		ck_assert_ptr_null(ex.json);
	}
	exchange_free(&ex);
}
END_TEST

/* Nesting: 64 levels are fine (API.md §1), 65 are not. */
static const struct {
	int		 levels;
	int		 objects;	/* {"a":...} rather than [...] */
	int		 leaf;		/* a value in the innermost container */
	int		 ok;
} depths[] = {
	{ 1, 0, 1, 1 },
	{ 63, 0, 1, 1 },
	{ 64, 0, 0, 1 },	/* [[...[]...]] */
	{ 64, 0, 1, 1 },	/* [[...[1]...]] */
	{ 64, 1, 0, 1 },	/* {"a":{..."a":{}...}} */
	{ 64, 1, 1, 1 },	/* {"a":{..."a":{"a":1}...}} */
	{ 65, 0, 0, 0 },
	{ 65, 0, 1, 0 },
	{ 65, 1, 0, 0 },
	{ 65, 1, 1, 0 },
	{ 1000, 0, 0, 0 },
	{ 100000, 0, 1, 0 },
};

static char *
nested(int levels, int objects, int leaf)
{
	struct buf b;
	int i;

	buf_init(&b);
	for (i = 0; i < levels; i++)
		buf_puts(&b, objects ? "{\"a\":" : "[");
	/* The innermost container: {"a": was already written for objects. */
	if (objects) {
		b.len -= 5;
		buf_puts(&b, leaf ? "{\"a\":1" : "{");
	} else if (leaf) {
		buf_puts(&b, "1");
	}
	for (i = 0; i < levels; i++)
		buf_puts(&b, objects ? "}" : "]");
	return b.data;
}

START_TEST(test_json_depth)
{
	char *body = nested(depths[_i].levels, depths[_i].objects, depths[_i].leaf);
	struct call c = { "PUT", "/v1/things/k", NULL, "application/json",
	    AUTO_LENGTH, body, 0, 0, NULL };
	struct exchange ex;
	struct fake_body fb;

	run(&ex, &c, &fb);
	if (depths[_i].ok) {
		ck_assert_msg(ex.res.status == 200, "%d levels of %s%s: status %d: %.2000s",
		    depths[_i].levels, depths[_i].objects ? "objects" : "arrays",
		    depths[_i].leaf ? " around a value" : "", ex.res.status,
		    ex.res.body.data);
		json_object_put(expect_ok(&ex));
	} else {
		ck_assert_msg(ex.res.status == 400, "%d levels of %s: status %d",
		    depths[_i].levels, depths[_i].objects ? "objects" : "arrays",
		    ex.res.status);
		expect_problem(&ex, 400, "json_too_deep");
	}
	exchange_free(&ex);
	free(body);
}
END_TEST

/* If-Match values, and the condition they make (status 400: malformed). */
static const struct {
	const char	*if_match;
	int		 status;
	int		 kind;		/* enum store_condition_kind */
	int64_t		 revision;
	size_t		 nalso;
	int64_t		 also;		/* the first of them */
} if_matches[] = {
	{ "\"42\"", 0, STORE_IF_REVISION, 42, 0, 0 },
	{ "*", 0, STORE_IF_PRESENT, 0, 0, 0 },
	{ "\"41\", \"42\"", 0, STORE_IF_REVISION, 41, 1, 42 },
	{ "\"41\",,\t\"42\" ,", 0, STORE_IF_REVISION, 41, 1, 42 },
	/* Strong comparison: a weak tag never matches, nor a tag not ours. */
	{ "W/\"42\"", 0, STORE_IF_REVISION, INT64_MAX, 0, 0 },
	{ "W/\"41\", \"42\"", 0, STORE_IF_REVISION, 42, 0, 0 },
	{ "\"abc\"", 0, STORE_IF_REVISION, INT64_MAX, 0, 0 },
	{ "\"042\"", 0, STORE_IF_REVISION, INT64_MAX, 0, 0 },
	{ "\"\"", 0, STORE_IF_REVISION, INT64_MAX, 0, 0 },
	{ "\"99999999999999999999\"", 0, STORE_IF_REVISION, INT64_MAX, 0, 0 },
	/* Not entity tags. */
	{ "118", 400, 0, 0, 0, 0 },
	{ "\"118", 400, 0, 0, 0, 0 },
	{ "W/118", 400, 0, 0, 0, 0 },
	{ "w/\"118\"", 400, 0, 0, 0, 0 },
	{ "\"1\" \"2\"", 400, 0, 0, 0, 0 },
	{ "\"1 2\"", 400, 0, 0, 0, 0 },
	{ "*, \"1\"", 400, 0, 0, 0, 0 },
	{ ",", 400, 0, 0, 0, 0 },
	{ "garbage", 400, 0, 0, 0, 0 },
};

START_TEST(test_if_match)
{
	struct store_condition condition;
	struct exchange ex;
	int rc;

	exchange_init(&ex);
	snprintf(ex.request_id, sizeof(ex.request_id), "if-match");
	ex.req.if_match = if_matches[_i].if_match;
	rc = resource_condition(&ex, STORE_IF_ANY, &condition);
	if (if_matches[_i].status == 400) {
		ck_assert_msg(rc == -1 && ex.res.status == 400, "%s: status %d",
		    if_matches[_i].if_match, ex.res.status);
		ck_assert_ptr_nonnull(strstr(ex.res.body.data,
		    "\"code\":\"invalid_precondition\""));
	} else {
		ck_assert_msg(rc == 0, "%s refused", if_matches[_i].if_match);
		ck_assert_int_eq(condition.kind, if_matches[_i].kind);
		ck_assert_int_eq(condition.revision, if_matches[_i].revision);
		ck_assert_uint_eq(condition.nalso, if_matches[_i].nalso);
		if (condition.nalso > 0)
			ck_assert_int_eq(condition.also[0], if_matches[_i].also);
	}
	exchange_free(&ex);
}
END_TEST

/* The field a refusal names: errors[0].field of the problem. */
static const struct {
	const char	*body;
	const char	*code;
	const char	*field;
} json_fields[] = {
	{ "{\"value\":123456789012345678901234567890}", "number_out_of_range",
	  "value" },
	{ "{\"value\":{\"a\":[1, -9223372036854775809]}}", "number_out_of_range",
	  "value.a[1]" },
	{ "{\"a\":{\"b\":1},\"c\":[0,{\"d\":-0}]}", "number_out_of_range",
	  "c[1].d" },
	{ "[[1],[2,[3,1e999]]]", "number_out_of_range", "[1][1][1]" },
	{ "-0", "number_out_of_range", "" },
	{ "{\"variants\":[{\"name\":\"a\"},{\"name\":\"b\\u0000\"}]}",
	  "nul_in_string", "variants[1].name" },
	{ "{\"context\":{\"user\":{\"name\":\"x\\u0000y\"}}}", "nul_in_string",
	  "context.user.name" },
	{ "{\"criteria\":{\"country\\u0000\":\"de\"}}", "nul_in_string",
	  "criteria.country\\u0000" },
	{ "{\"scopes\":[\"flags:read\",\"admin\\u0000\"]}", "nul_in_string",
	  "scopes[1]" },
	{ "{\"a \\\" b\":{\"c\":\"\\ud800\"}}", "invalid_utf8",
	  "a \\\" b.c" },
	{ "{\"value\":\"\xff\"}", "invalid_utf8", "value" },
};

START_TEST(test_json_field)
{
	struct call c = { "POST", "/v1/things", NULL, "application/json", AUTO_LENGTH,
	    json_fields[_i].body, 0, 0, NULL };
	struct json_object *problem, *errors, *first;
	struct exchange ex;
	struct fake_body fb;

	run(&ex, &c, &fb);
	expect_problem(&ex, 400, json_fields[_i].code);
	problem = test_json_parse(ex.res.body.data, "problem");
	ck_assert(json_object_object_get_ex(problem, "errors", &errors));
	ck_assert_int_eq(json_object_array_length(errors), 1);
	first = json_object_array_get_idx(errors, 0);
	ck_assert_msg(strcmp(test_json_string(first, "field"),
	    json_fields[_i].field) == 0, "body %s: field %s, want %s",
	    json_fields[_i].body, test_json_string(first, "field"),
	    json_fields[_i].field);
	ck_assert_ptr_nonnull(test_json_string(first, "message"));
	/* The detail names it too, where there is a name. */
	if (json_fields[_i].field[0] != '\0')
		ck_assert_ptr_nonnull(strstr(test_json_string(problem, "detail"),
		    json_fields[_i].field));
	json_object_put(problem);
	exchange_free(&ex);
}
END_TEST

/* What is accepted goes through json-c and prints back exactly as sent. */
static const char *const numbers_kept[] = {
	"9223372036854775807", "-9223372036854775808", "18446744073709551615",
	"9223372036854775808", "0", "-1", "1.5", "1e3", "1E2", "1.0", "-0.0",
	"0.10000000000000000000001", "1e-400", "1.7976931348623157e308",
	"123456789012345678901234567890.0", "2.5E-3",
};

START_TEST(test_json_numbers_read_back)
{
	char body[128], want[160];
	struct call c = { "POST", "/v1/things", NULL, "application/json", AUTO_LENGTH,
	    body, 0, 0, NULL };
	struct exchange ex;
	struct fake_body fb;

	snprintf(body, sizeof(body), "{\"value\":{\"a\":[1,%s]}}", numbers_kept[_i]);
	snprintf(want, sizeof(want), "{\"body\":%s}", body);
	run(&ex, &c, &fb);
	ck_assert_msg(ex.res.status == 200, "%s: %d %s", body, ex.res.status,
	    ex.res.body.data);
	ck_assert_str_eq(ex.res.body.data, want);
	exchange_free(&ex);
}
END_TEST

/*
 * A double is refused exactly when strtod (and so json-c) would read it as
 * infinity: around 2^1024 - 2^970, the point halfway past DBL_MAX.
 */
START_TEST(test_json_double_limit)
{
	static const char *const near[] = {
		"1.7976931348623157e308", "1.7976931348623158e308",
		"1.79769313486231580793e308", "1.797693134862315807937e308",
		"1.7976931348623159e308", "1.8e308", "0.17976931348623158079e309",
		"0.1797693134862315808e309", "17976931348623158079e289",
		"17976931348623158080e289", "0.0017976931348623158e311",
		"179769313486231580793728971405303415079934132710037826936173778980"
		"444968292764750946649017977587207096330286416692887910946555547851"
		"940402630657488671505820681908902000708383676273854845817711531764"
		"475730270069855571366959622842914819860834936475292719074168444365"
		"510704342711559699508093042880177904174497791.9",
		"179769313486231580793728971405303415079934132710037826936173778980"
		"444968292764750946649017977587207096330286416692887910946555547851"
		"940402630657488671505820681908902000708383676273854845817711531764"
		"475730270069855571366959622842914819860834936475292719074168444365"
		"510704342711559699508093042880177904174497792.0",
		"1e308", "9.99e308", "1e309", "-1e309", "1e-400",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(near); i++) {
		int inf = isinf(strtod(near[i], NULL)) != 0;
		enum json_check rc = json_check_ex(near[i], strlen(near[i]), 64,
		    JSON_CHECK_FINITE, NULL);

		ck_assert_msg((rc == JSON_CHECK_NUMBER) == inf,
		    "%s: json_check %d, strtod %s", near[i], rc, inf ? "inf" : "finite");
	}
}
END_TEST

/* Each rule on its own; a stored value (no rules) only needs to be JSON. */
START_TEST(test_json_check_rules)
{
	static const struct {
		const char	*text;
		unsigned	 rules;
		enum json_check	 want;
	} cases[] = {
		{ "\"a\\u0000b\"", 0, JSON_CHECK_OK },
		{ "\"a\\u0000b\"", JSON_CHECK_NO_NUL, JSON_CHECK_NUL },
		{ "\"a\\u0000b\"", JSON_CHECK_INT_EXACT | JSON_CHECK_FINITE, JSON_CHECK_OK },
		{ "[-0,1e999,99999999999999999999]", 0, JSON_CHECK_OK },
		{ "[-0]", JSON_CHECK_INT_EXACT, JSON_CHECK_NUMBER },
		{ "[1e999]", JSON_CHECK_INT_EXACT, JSON_CHECK_OK },
		{ "[1e999]", JSON_CHECK_FINITE, JSON_CHECK_NUMBER },
		{ "[99999999999999999999]", JSON_CHECK_FINITE, JSON_CHECK_OK },
		{ "\"\\ud800\"", 0, JSON_CHECK_UTF8 },
		{ "[\"\\u0000\", 1e999, \"\xff\"]", JSON_CHECK_REQUEST, JSON_CHECK_NUL },
	};
	struct json_check_where where;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		ck_assert_msg(json_check_ex(cases[i].text, strlen(cases[i].text), 64,
		    cases[i].rules, &where) == cases[i].want, "%s with rules %u",
		    cases[i].text, cases[i].rules);
	ck_assert_int_eq(json_check("\"a\\u0000b\"", 10, 64), JSON_CHECK_OK);
}
END_TEST

/* A path longer than the room for it is cut, never overrun. */
START_TEST(test_json_path_cut)
{
	struct json_check_where where;
	struct buf b;
	int i;

	buf_init(&b);
	for (i = 0; i < 40; i++)
		buf_puts(&b, "{\"abcdefghijklmnopqrstuvwxyz\":");
	buf_puts(&b, "-0");
	for (i = 0; i < 40; i++)
		buf_putc(&b, '}');
	ck_assert_int_eq(json_check_ex(b.data, b.len, 64, JSON_CHECK_REQUEST, &where),
	    JSON_CHECK_NUMBER);
	ck_assert_uint_eq(strlen(where.path), JSON_CHECK_PATH_MAX - 1);
	ck_assert(strncmp(where.path, "abcdefghijklmnopqrstuvwxyz.abc", 30) == 0);
	ck_assert_uint_eq(where.offset, b.len - 42);
	buf_free(&b);
}
END_TEST

/* What json_repair_utf8 makes of a stored document that is not UTF-8. */
static const struct {
	const char	*in;
	const char	*out;
} repairs[] = {
	{ "\"caf\xe9\"", "\"caf\xef\xbf\xbd\"" },
	{ "[\"\xc0\xaf\",\"\xe2\x82\xac\"]", "[\"\xef\xbf\xbd\xef\xbf\xbd\",\"\xe2\x82\xac\"]" },
	{ "\"\\ud800\"", "\"\\ufffd\"" },
	{ "\"\\udc00x\"", "\"\\ufffdx\"" },
	{ "\"\\ud800\\ud800\\udc00\"", "\"\\ufffd\\ud800\\udc00\"" },
	{ "\"\\ud83d\\ude00\"", "\"\\ud83d\\ude00\"" },	/* a pair stays */
	{ "\"\\\\ud800\"", "\"\\\\ud800\"" },		/* a backslash, then text */
	{ "{\"k\\ud800\":\"\xff\"}", "{\"k\\ufffd\":\"\xef\xbf\xbd\"}" },
	{ "\"\\ud80", "\"\\ud80" },				/* cut short: not ours */
};

START_TEST(test_json_repair_utf8)
{
	struct buf out;

	buf_init(&out);
	json_repair_utf8(repairs[_i].in, strlen(repairs[_i].in), &out);
	ck_assert_str_eq(out.data, repairs[_i].out);
	if (json_check(repairs[_i].in, strlen(repairs[_i].in), 64) != JSON_CHECK_SYNTAX)
		ck_assert_int_eq(json_check(out.data, out.len, 64), JSON_CHECK_OK);
	buf_free(&out);
}
END_TEST

Suite *
api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("request_id");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_request_id, 0, (int)ARRAY_SIZE(request_ids));
	tcase_add_test(tc, test_request_id_length);
	tcase_add_test(tc, test_request_id_fresh_each_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("routing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_routing_errors, 0, (int)ARRAY_SIZE(routing));
	tcase_add_test(tc, test_routing_ok);
	tcase_add_test(tc, test_body_ignored_without_json_flag);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_413_without_reading);
	tcase_add_test(tc, test_413_streaming);
	tcase_add_test(tc, test_max_body_boundary);
	tcase_add_test(tc, test_body_read_error);
	tcase_add_loop_test(tc, test_media_type, 0, (int)ARRAY_SIZE(media_types));
	tcase_add_test(tc, test_no_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_json_body, 0, (int)ARRAY_SIZE(json_bodies));
	tcase_add_loop_test(tc, test_json_depth, 0, (int)ARRAY_SIZE(depths));
	tcase_add_loop_test(tc, test_json_field, 0, (int)ARRAY_SIZE(json_fields));
	tcase_add_loop_test(tc, test_json_numbers_read_back, 0,
	    (int)ARRAY_SIZE(numbers_kept));
	tcase_add_test(tc, test_json_double_limit);
	tcase_add_test(tc, test_json_check_rules);
	tcase_add_test(tc, test_json_path_cut);
	tcase_add_loop_test(tc, test_json_repair_utf8, 0, (int)ARRAY_SIZE(repairs));
	suite_add_tcase(s, tc);

	tc = tcase_create("preconditions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_if_match, 0, (int)ARRAY_SIZE(if_matches));
	suite_add_tcase(s, tc);
	return s;
}
