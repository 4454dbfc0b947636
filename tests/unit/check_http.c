/*
 * Unit tests of the plain HTTP exchange: percent-decoding, the query
 * string, RFC 9457 problem documents (checked by parsing them with json-c),
 * response headers and method names.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "http/http.h"

#include "check_suites.h"

/* percent_decode */

static const struct {
	const char	*src;
	size_t		 len;		/* 0: strlen(src) */
	int		 plus;
	const char	*want;		/* NULL: rejected */
} decode_cases[] = {
	{ "", 0, 0, "" },
	{ "abc", 0, 0, "abc" },
	{ "a%20b", 0, 0, "a b" },
	{ "%41%42%43", 0, 0, "ABC" },
	{ "%4a%4A", 0, 0, "JJ" },
	{ "%e2%82%ac", 0, 0, "\xe2\x82\xac" },
	{ "%25", 0, 0, "%" },
	{ "%2525", 0, 0, "%25" },		/* decoded once only */
	{ "%2F", 0, 0, "/" },
	{ "%01", 0, 0, "\x01" },
	{ "%ff", 0, 0, "\xff" },
	{ "a+b", 0, 0, "a+b" },
	{ "a+b", 0, 1, "a b" },
	{ "%2B", 0, 1, "+" },
	{ "%2b+%20", 0, 1, "+  " },
	{ "+", 0, 1, " " },
	{ "%zz", 0, 0, NULL },
	{ "%g0", 0, 0, NULL },
	{ "%0g", 0, 0, NULL },
	{ "%4", 0, 0, NULL },
	{ "a%4", 0, 1, NULL },
	{ "%", 0, 0, NULL },
	{ "abc%", 0, 0, NULL },
	{ "%%41", 0, 0, NULL },
	{ "%00", 0, 0, NULL },
	{ "a%00b", 0, 1, NULL },
	{ "% 1", 0, 0, NULL },
	{ "%+1", 0, 1, NULL },
	/* Only len bytes are read. */
	{ "abc%41", 3, 0, "abc" },
	{ "%41xyz", 3, 0, "A" },
	{ "%41", 2, 0, NULL },
	{ "a\0b", 3, 0, NULL },			/* a raw NUL inside */
};

START_TEST(test_percent_decode)
{
	struct arena a;
	size_t len = decode_cases[_i].len ? decode_cases[_i].len :
	    strlen(decode_cases[_i].src);
	const char *got;

	arena_init(&a);
	got = percent_decode(&a, decode_cases[_i].src, len, decode_cases[_i].plus);
	if (decode_cases[_i].want == NULL)
		ck_assert_msg(got == NULL, "percent_decode(\"%s\") = \"%s\", want NULL",
		    decode_cases[_i].src, got);
	else {
		ck_assert_msg(got != NULL, "percent_decode(\"%s\") rejected",
		    decode_cases[_i].src);
		ck_assert_str_eq(got, decode_cases[_i].want);
	}
	arena_free(&a);
}
END_TEST

/* query_parse and query_get */

struct pair {
	const char *name, *value;
};

static const struct {
	const char	*query;
	size_t		 count;
	struct pair	 params[4];	/* in order */
} good_queries[] = {
	{ NULL, 0, { { NULL, NULL } } },
	{ "", 0, { { NULL, NULL } } },
	{ "a=1", 1, { { "a", "1" } } },
	{ "a=1&b=2", 2, { { "a", "1" }, { "b", "2" } } },
	{ "a=&b", 2, { { "a", "" }, { "b", "" } } },
	{ "flag", 1, { { "flag", "" } } },
	{ "&&a=1&", 1, { { "a", "1" } } },
	{ "&", 0, { { NULL, NULL } } },
	{ "=v", 1, { { "", "v" } } },
	{ "a=b=c", 1, { { "a", "b=c" } } },
	{ "x=a+b%20c", 1, { { "x", "a b c" } } },
	{ "k%20ey=v%26w", 1, { { "k ey", "v&w" } } },
	{ "k+1=%2B", 1, { { "k 1", "+" } } },
	{ "prefix=app%2F&limit=10&offset=0", 3,
	    { { "prefix", "app/" }, { "limit", "10" }, { "offset", "0" } } },
};

START_TEST(test_query_parse)
{
	struct exchange ex;
	size_t i;

	exchange_init(&ex);
	ex.req.query = good_queries[_i].query;
	ck_assert_int_eq(query_parse(&ex), 0);
	ck_assert_int_eq(ex.res.status, 0);
	ck_assert_uint_eq(ex.nquery, good_queries[_i].count);
	for (i = 0; i < good_queries[_i].count; i++) {
		ck_assert_str_eq(ex.query[i].name, good_queries[_i].params[i].name);
		ck_assert_str_eq(ex.query[i].value, good_queries[_i].params[i].value);
	}
	for (i = 0; i < good_queries[_i].count; i++)
		ck_assert_str_eq(query_get(&ex, good_queries[_i].params[i].name),
		    good_queries[_i].params[i].value);
	ck_assert_ptr_null(query_get(&ex, "missing"));
	exchange_free(&ex);
}
END_TEST

static const struct {
	const char	*query;
	const char	*code;
} bad_queries[] = {
	{ "a=%zz", "invalid_encoding" },
	{ "%zz=1", "invalid_encoding" },
	{ "ok=1&a=%4", "invalid_encoding" },
	{ "a=%00", "invalid_encoding" },
	{ "a%00=1", "invalid_encoding" },
	{ "a=%", "invalid_encoding" },
	{ "a=1&a=2", "repeated_parameter" },
	{ "a=1&a=1", "repeated_parameter" },
	{ "a&b=2&a", "repeated_parameter" },
	{ "a%3D=1&a%3d=2", "repeated_parameter" },
	{ "x+y=1&x%20y=2", "repeated_parameter" },
	{ NULL, "invalid_query" },		/* 257 parameters, built below */
};

/* Check a problem response: status, content type, every RFC 9457 member. */
static struct json_object *
check_problem(struct exchange *ex, int status, const char *code)
{
	struct json_object *body, *member;

	ck_assert_int_eq(ex->res.status, status);
	ck_assert_pstr_eq(ex->res.content_type, "application/problem+json");
	body = test_json_parse(ex->res.body.data, "problem body");
	ck_assert(json_object_is_type(body, json_type_object));
	ck_assert_pstr_eq(test_json_string(body, "type"), "about:blank");
	ck_assert_pstr_eq(test_json_string(body, "title"), http_status_text(status));
	ck_assert(json_object_object_get_ex(body, "status", &member));
	ck_assert(json_object_is_type(member, json_type_int));
	ck_assert_int_eq(json_object_get_int(member), status);
	ck_assert_ptr_nonnull(test_json_string(body, "detail"));
	ck_assert_pstr_eq(test_json_string(body, "code"), code);
	ck_assert_pstr_eq(test_json_string(body, "request_id"), ex->request_id);
	return body;
}

START_TEST(test_query_bad)
{
	struct exchange ex;
	struct buf many;
	int i;

	buf_init(&many);
	for (i = 0; i < 257; i++)
		buf_printf(&many, "%sp%d=%d", i ? "&" : "", i, i);
	exchange_init(&ex);
	snprintf(ex.request_id, sizeof(ex.request_id), "req-%d", _i);
	ex.req.query = bad_queries[_i].query != NULL ? bad_queries[_i].query : many.data;
	ck_assert_int_eq(query_parse(&ex), -1);
	json_object_put(check_problem(&ex, 400, bad_queries[_i].code));
	exchange_free(&ex);
	buf_free(&many);
}
END_TEST

START_TEST(test_query_many)
{
	struct exchange ex;
	struct buf q;
	int i;

	buf_init(&q);
	for (i = 0; i < 256; i++)
		buf_printf(&q, "%sp%d=%d", i ? "&" : "", i, i);
	exchange_init(&ex);
	ex.req.query = q.data;
	ck_assert_int_eq(query_parse(&ex), 0);
	ck_assert_uint_eq(ex.nquery, 256);
	ck_assert_pstr_eq(query_get(&ex, "p255"), "255");
	exchange_free(&ex);
	buf_free(&q);
}
END_TEST

/* Problem documents */

static const struct {
	int		 status;
	const char	*code;
	const char	*title;
} problems[] = {
	{ 400, "invalid_json", "Bad Request" },
	{ 401, "unauthenticated", "Unauthorized" },
	{ 403, "insufficient_scope", "Forbidden" },
	{ 404, "not_found", "Not Found" },
	{ 405, "method_not_allowed", "Method Not Allowed" },
	{ 409, "revision_mismatch", "Conflict" },
	{ 410, "history_compacted", "Gone" },
	{ 412, "already_exists", "Precondition Failed" },
	{ 413, "payload_too_large", "Content Too Large" },
	{ 415, "unsupported_media_type", "Unsupported Media Type" },
	{ 500, "internal_error", "Internal Server Error" },
	{ 503, "store_unavailable", "Service Unavailable" },
};

START_TEST(test_respond_problem)
{
	struct exchange ex;
	struct json_object *body;
	static const char nasty[] = "quote \" backslash \\ newline \n tab \t ctl \x01 "
	    "slash / utf8 \xc3\xa9";

	exchange_init(&ex);
	snprintf(ex.request_id, sizeof(ex.request_id), "0123abcd");
	/* A first answer is replaced, not appended to. */
	respond_problem(&ex, 500, "internal_error", "first");
	respond_problem(&ex, problems[_i].status, problems[_i].code, "%s #%d", nasty, 7);
	body = check_problem(&ex, problems[_i].status, problems[_i].code);
	ck_assert_pstr_eq(test_json_string(body, "title"), problems[_i].title);
	ck_assert_msg(strncmp(test_json_string(body, "detail"), nasty,
	    sizeof(nasty) - 1) == 0, "detail mangled: %s", ex.res.body.data);
	ck_assert_str_eq(test_json_string(body, "detail") + sizeof(nasty) - 1, " #7");
	ck_assert_int_eq(json_object_object_length(body), 6);
	json_object_put(body);
	exchange_free(&ex);
}
END_TEST

START_TEST(test_respond_problem_empty_detail)
{
	struct exchange ex;
	struct json_object *body;

	exchange_init(&ex);
	respond_problem(&ex, 404, "not_found", "%s", "");
	body = check_problem(&ex, 404, "not_found");
	ck_assert_str_eq(test_json_string(body, "detail"), "");
	ck_assert_str_eq(test_json_string(body, "request_id"), "");
	json_object_put(body);
	exchange_free(&ex);
}
END_TEST

START_TEST(test_respond_invalid)
{
	static const struct field_error errors[] = {
		{ "email", "not an email address" },
		{ "age", "must be an integer from 0 to 150" },
		{ "we\"ird\n", "tab\there" },
	};
	struct exchange ex;
	struct json_object *body, *list, *item;
	size_t n, i;

	for (n = 0; n <= ARRAY_SIZE(errors); n++) {
		exchange_init(&ex);
		snprintf(ex.request_id, sizeof(ex.request_id), "r%zu", n);
		respond_invalid(&ex, "invalid_user", "the user is not valid", errors, n);
		body = check_problem(&ex, 400, "invalid_user");
		ck_assert_str_eq(test_json_string(body, "detail"), "the user is not valid");
		ck_assert(json_object_object_get_ex(body, "errors", &list));
		ck_assert(json_object_is_type(list, json_type_array));
		ck_assert_uint_eq(json_object_array_length(list), n);
		for (i = 0; i < n; i++) {
			item = json_object_array_get_idx(list, i);
			ck_assert(json_object_is_type(item, json_type_object));
			ck_assert_pstr_eq(test_json_string(item, "field"), errors[i].field);
			ck_assert_pstr_eq(test_json_string(item, "message"), errors[i].message);
		}
		json_object_put(body);
		exchange_free(&ex);
	}
}
END_TEST

START_TEST(test_respond_json)
{
	struct exchange ex;
	struct json_object *obj = json_object_new_object(), *back;

	json_object_object_add(obj, "path", json_object_new_string("a/b"));
	json_object_object_add(obj, "n", json_object_new_int(3));
	exchange_init(&ex);
	respond_problem(&ex, 500, "internal_error", "replaced");
	respond_json(&ex, 201, obj);
	ck_assert_int_eq(ex.res.status, 201);
	ck_assert_pstr_eq(ex.res.content_type, "application/json");
	ck_assert_msg(strstr(ex.res.body.data, "\"a/b\"") != NULL,
	    "slashes escaped: %s", ex.res.body.data);
	back = test_json_parse(ex.res.body.data, "respond_json body");
	ck_assert(json_object_equal(obj, back));
	json_object_put(back);
	respond_empty(&ex, 204);
	ck_assert_int_eq(ex.res.status, 204);
	ck_assert_ptr_null(ex.res.content_type);
	ck_assert_uint_eq(ex.res.body.len, 0);
	json_object_put(obj);
	exchange_free(&ex);
}
END_TEST

START_TEST(test_response_headers)
{
	struct exchange ex;
	char name[32], value[32];
	int i;

	exchange_init(&ex);
	response_header(&ex, "ETag", "\"1\"");
	response_header(&ex, "etag", "\"2\"");		/* replaces, any case */
	ck_assert_uint_eq(ex.res.nheaders, 1);
	ck_assert_pstr_eq(response_header_get(&ex, "ETAG"), "\"2\"");
	ck_assert_ptr_null(response_header_get(&ex, "X-Cache"));
	/* The value is copied. */
	snprintf(value, sizeof(value), "hit");
	response_header(&ex, "X-Cache", value);
	value[0] = 'X';
	ck_assert_pstr_eq(response_header_get(&ex, "x-cache"), "hit");
	for (i = 0; i < RESPONSE_MAX_HEADERS + 4; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		response_header(&ex, name, "v");
	}
	ck_assert_uint_eq(ex.res.nheaders, RESPONSE_MAX_HEADERS);
	/* An existing header can still be replaced when the table is full. */
	response_header(&ex, "ETag", "\"3\"");
	ck_assert_pstr_eq(response_header_get(&ex, "ETag"), "\"3\"");
	exchange_free(&ex);
}
END_TEST

START_TEST(test_methods)
{
	static const struct {
		const char		*name;
		enum http_method	 method;
	} methods[] = {
		{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
		{ "PUT", HTTP_PUT }, { "PATCH", HTTP_PATCH }, { "DELETE", HTTP_DELETE },
		{ "OPTIONS", HTTP_OPTIONS },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(methods); i++) {
		ck_assert_int_eq(http_method_parse(methods[i].name), methods[i].method);
		ck_assert_str_eq(http_method_name(methods[i].method), methods[i].name);
	}
	/* Methods are case-sensitive (RFC 9110 §9.1). */
	ck_assert_int_eq(http_method_parse("get"), HTTP_OTHER);
	ck_assert_int_eq(http_method_parse("BREW"), HTTP_OTHER);
	ck_assert_int_eq(http_method_parse(""), HTTP_OTHER);
	ck_assert_int_eq(http_method_parse(NULL), HTTP_OTHER);
	ck_assert_str_eq(http_method_name(HTTP_OTHER), "OTHER");
	ck_assert_str_eq(http_status_text(200), "OK");
	ck_assert_str_eq(http_status_text(413), "Content Too Large");
}
END_TEST

START_TEST(test_exchange_init)
{
	struct exchange ex;

	memset(&ex, 0x77, sizeof(ex));
	exchange_init(&ex);
	ck_assert(ex.req.content_length == -1);
	ck_assert_ptr_null(ex.req.method);
	ck_assert_int_eq(ex.res.status, 0);
	ck_assert_uint_eq(ex.res.nheaders, 0);
	ck_assert_ptr_null(ex.json);
	ck_assert(ex.started_us > 0);
	ex.json = json_object_new_object();	/* freed by exchange_free */
	exchange_free(&ex);
	ck_assert_ptr_null(ex.json);
}
END_TEST
START_TEST(test_problem_add_member)
{
	struct exchange ex;
	struct json_object *body, *holder = json_object_new_string("w\"1");
	struct json_object *value;

	exchange_init(&ex);
	respond_problem(&ex, 409, "lock_held", "held");
	problem_add_member(&ex, "holder", holder);
	problem_add_member(&ex, "expires_at", NULL);
	body = check_problem(&ex, 409, "lock_held");
	ck_assert_pstr_eq(test_json_string(body, "holder"), "w\"1");
	ck_assert(json_object_object_get_ex(body, "expires_at", &value));
	ck_assert_ptr_null(value);
	ck_assert_int_eq(json_object_object_length(body), 8);
	json_object_put(body);
	json_object_put(holder);
	exchange_free(&ex);
}
END_TEST

Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("percent_decode");

	tcase_add_loop_test(tc, test_percent_decode, 0, (int)ARRAY_SIZE(decode_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("query");
	tcase_add_loop_test(tc, test_query_parse, 0, (int)ARRAY_SIZE(good_queries));
	tcase_add_loop_test(tc, test_query_bad, 0, (int)ARRAY_SIZE(bad_queries));
	tcase_add_test(tc, test_query_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_loop_test(tc, test_respond_problem, 0, (int)ARRAY_SIZE(problems));
	tcase_add_test(tc, test_respond_problem_empty_detail);
	tcase_add_test(tc, test_respond_invalid);
	tcase_add_test(tc, test_problem_add_member);
	tcase_add_test(tc, test_respond_json);
	tcase_add_test(tc, test_response_headers);
	tcase_add_test(tc, test_methods);
	tcase_add_test(tc, test_exchange_init);
	suite_add_tcase(s, tc);
	return s;
}
