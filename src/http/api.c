/*
 * The request pipeline; see api.h. Every check that does not depend on a
 * particular resource happens here, once, before any handler runs, so a
 * handler only ever sees a routed request with a well-formed query and, when
 * its route takes one, a parsed JSON body.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "base/conf.h"
#include "base/json_check.h"
#include "base/log.h"
#include "base/util.h"
#include "http/api.h"
#include "http/auth.h"
#include "http/jwt.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/validate.h"
#include "store/store.h"

int
request_id_valid(const char *id)
{
	size_t n;

	if (id == NULL)
		return 0;
	for (n = 0; id[n] != '\0'; n++) {
		char c = id[n];

		if (n == REQUEST_ID_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

static void
assign_request_id(struct exchange *ex)
{
	if (request_id_valid(ex->req.request_id))
		snprintf(ex->request_id, sizeof(ex->request_id), "%s",
		    ex->req.request_id);
	else if (random_hex(ex->request_id, 16) == -1)
		snprintf(ex->request_id, sizeof(ex->request_id), "%llx",
		    (unsigned long long)clock_monotonic_us());
}

static void
respond_allow(struct exchange *ex, unsigned allowed)
{
	static const enum http_method order[] = { HTTP_GET, HTTP_HEAD,
	    HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE };
	char list[128] = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(order); i++)
		if (allowed & order[i]) {
			if (list[0] != '\0')
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, http_method_name(order[i]),
			    sizeof(list) - strlen(list) - 1);
		}
	respond_problem(ex, 405, "method_not_allowed",
	    "%s is not allowed here; allowed: %s", ex->req.method, list);
	response_header(ex, "Allow", list);
}

/* "application/json" or "application/json; charset=utf-8" and the like. */
static int
media_type_is(const char *content_type, const char *wanted)
{
	size_t n = strlen(wanted);

	if (content_type == NULL || strncasecmp(content_type, wanted, n) != 0)
		return 0;
	return content_type[n] == '\0' || content_type[n] == ';' ||
	    content_type[n] == ' ';
}

static int
content_type_acceptable(const struct exchange *ex)
{
	if (media_type_is(ex->req.content_type, "application/json"))
		return 1;
	return ex->method == HTTP_PATCH &&
	    media_type_is(ex->req.content_type, "application/merge-patch+json");
}

/* Read the whole body, refusing more than server.max_body bytes. */
static int
read_body(struct exchange *ex)
{
	long long max = conf.server.max_body;
	struct buf body;

	if (ex->req.read_body == NULL)
		return 0;
	buf_init(&body);
	for (;;) {
		char chunk[16384];
		long n = ex->req.read_body(ex->req.body_ctx, chunk, sizeof(chunk));

		if (n < 0) {
			buf_free(&body);
			respond_problem(ex, 400, "body_unreadable",
			    "the request body could not be read");
			return -1;
		}
		if (n == 0)
			break;
		if ((long long)(body.len + (size_t)n) > max) {
			buf_free(&body);
			respond_problem(ex, 413, "payload_too_large",
			    "the body is larger than %lld bytes", max);
			return -1;
		}
		buf_append(&body, chunk, (size_t)n);
	}
	ex->body = arena_strndup(&ex->arena, body.data ? body.data : "", body.len);
	ex->body_len = body.len;
	buf_free(&body);
	return 0;
}

/*
 * The tokener parsing request bodies: one per process, reset after each
 * body (a new one allocates its parse stack every time).
 */
static struct json_tokener *
body_tokener(void)
{
	static struct json_tokener *tok;

	if (tok == NULL) {
		/*
		 * json-c counts a value inside the innermost container as a
		 * level. json_check has validated the UTF-8 already, more
		 * strictly than JSON_TOKENER_VALIDATE_UTF8 would, so json-c
		 * need not again.
		 */
		if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1)) != NULL)
			json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	}
	return tok;
}

/* A refusal naming the field: "value.a[1]", or the body itself. */
static void
refuse_field(struct exchange *ex, const char *code, const char *what,
    const char *message, const struct json_check_where *where)
{
	struct field_error error = { where->path, message };

	if (where->path[0] == '\0')
		respond_invalid(ex, code, arena_concat(&ex->arena, "the body is ",
		    what, (char *)NULL), &error, 1);
	else
		respond_invalid(ex, code, arena_concat(&ex->arena, where->path,
		    " is ", what, (char *)NULL), &error, 1);
}

/* The strict check of json_check.h, with every rule (API.md §1); -1 after 400. */
static int
body_checked(struct exchange *ex)
{
	struct json_check_where where;

	switch (json_check_ex(ex->body, ex->body_len, JSON_MAX_DEPTH,
	    JSON_CHECK_REQUEST, &where)) {
	case JSON_CHECK_OK:
		return 0;
	case JSON_CHECK_DEPTH:
		respond_problem(ex, 400, "json_too_deep",
		    "the body is nested deeper than %d levels", JSON_MAX_DEPTH);
		break;
	case JSON_CHECK_UTF8:
		refuse_field(ex, "invalid_utf8", "not valid UTF-8", "not valid "
		    "UTF-8 (a lone UTF-16 surrogate escape counts)", &where);
		break;
	case JSON_CHECK_NUL:
		refuse_field(ex, "nul_in_string", "a string holding \\u0000",
		    "\\u0000 is not allowed in a string or a member name", &where);
		break;
	case JSON_CHECK_NUMBER:
		refuse_field(ex, "number_out_of_range", "a number that would not "
		    "read back as sent", "an integer must be from "
		    "-9223372036854775808 to 18446744073709551615 and not -0; "
		    "any other number must be finite as a double (at most about "
		    "1.797e308 in magnitude)", &where);
		break;
	case JSON_CHECK_SYNTAX:
		respond_problem(ex, 400, "invalid_json", "the body is not valid "
		    "JSON (at byte %zu)", where.offset);
		break;
	}
	return -1;
}

static int
parse_json_body(struct exchange *ex)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;

	if (ex->body_len == 0)
		return 0;
	if (memchr(ex->body, '\0', ex->body_len) != NULL) {
		respond_problem(ex, 400, "invalid_json",
		    "the body contains a NUL byte");
		return -1;
	}
	if (body_checked(ex) == -1)
		return -1;
	if ((tok = body_tokener()) == NULL) {
		respond_problem(ex, 500, "internal_error", "out of memory");
		return -1;
	}
	/*
	 * Hand json-c the terminating NUL too (ex->body has one and no NUL
	 * inside): it ends a top-level number or literal, which json-c would
	 * otherwise leave waiting for more input.
	 */
	ex->json = json_tokener_parse_ex(tok, ex->body, (int)ex->body_len + 1);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (jerr == json_tokener_success &&
	    json_tokener_get_parse_end(tok) != ex->body_len)
		jerr = json_tokener_error_parse_unexpected;
	/* What a failed parse built goes now, not at the next body. */
	json_tokener_reset(tok);
	if (jerr == json_tokener_success)
		return 0;
	if (ex->json != NULL) {
		json_object_put(ex->json);
		ex->json = NULL;
	}
	if (jerr == json_tokener_error_depth)
		respond_problem(ex, 400, "json_too_deep",
		    "the body is nested deeper than %d levels", JSON_MAX_DEPTH);
	else if (jerr == json_tokener_error_parse_utf8_string)
		respond_problem(ex, 400, "invalid_utf8",
		    "the body is not valid UTF-8");
	else
		respond_problem(ex, 400, "invalid_json", "the body is not valid JSON: %s",
		    json_tokener_error_desc(jerr));
	return -1;
}

/* 413 and 415 before the body is read; then read and parse it. */
static int
accept_body(struct exchange *ex)
{
	int has_body = ex->req.content_length > 0;

	if (ex->req.content_length > conf.server.max_body) {
		respond_problem(ex, 413, "payload_too_large",
		    "the body is larger than %lld bytes", conf.server.max_body);
		return -1;
	}
	if (!(ex->route->flags & ROUTE_JSON_BODY))
		return 0;
	if (has_body && !content_type_acceptable(ex)) {
		respond_problem(ex, 415, "unsupported_media_type",
		    "send the body as Content-Type: application/json");
		return -1;
	}
	if (read_body(ex) == -1)
		return -1;
	if (ex->body_len > 0 && !has_body && !content_type_acceptable(ex)) {
		respond_problem(ex, 415, "unsupported_media_type",
		    "send the body as Content-Type: application/json");
		return -1;
	}
	return parse_json_body(ex);
}

static void
dispatch(struct exchange *ex, const struct route *table, size_t count)
{
	unsigned allowed;

	ex->method = http_method_parse(ex->req.method);
	switch (router_match(table, count, ex->method, ex->req.path,
	    &ex->arena, &ex->route, ex->params, &allowed)) {
	case ROUTER_FOUND:
		ex->seed_errors = (ex->route->flags & ROUTE_SEED) != 0;
		break;
	case ROUTER_BAD_ENCODING:
		respond_problem(ex, 400, "invalid_encoding",
		    "the path has a bad percent-encoding or a NUL byte");
		return;
	case ROUTER_METHOD_NOT_ALLOWED:
		ex->seed_errors = (router_path_flags(table, count, ex->req.path,
		    &ex->arena) & ROUTE_SEED) != 0;
		respond_allow(ex, allowed);
		return;
	case ROUTER_NOT_FOUND:
		respond_problem(ex, 404, "not_found", "no such route");
		return;
	}
	/*
	 * The query first (a watch's scope depends on it); authorization
	 * before the body is read, so nobody unauthorized makes us read it;
	 * then every declared parameter and field is checked.
	 */
	if (query_parse(ex) != -1 && auth_check(ex) != -1 && accept_body(ex) != -1 &&
	    validate_request(ex) != -1) {
		ex->route->handler(ex);
		/* A request that waits is answered later, by the waiting process. */
		if (ex->res.status == 0 && ex->wait == NULL)
			respond_problem(ex, 500, "internal_error",
			    "the handler gave no answer");
	}
	if (ex->route->on_error != NULL && ex->res.status >= 400)
		ex->route->on_error(ex);
}

void
api_handle_routes(struct exchange *ex, const struct route *table, size_t count)
{
	assign_request_id(ex);
	/* First, so that no number of later headers can crowd it out. */
	response_header(ex, "X-Request-Id", ex->request_id);
	ex->deadline_us = ex->started_us + (int64_t)conf.server.request_timeout * 1000;
	dispatch(ex, table, count);
}

void
api_handle(struct exchange *ex)
{
	api_handle_routes(ex, route_table, route_count);
}

void
api_finish(struct exchange *ex)
{
	int64_t micros = clock_monotonic_us() - ex->started_us;

	log_request(ex->request_id, ex->req.method ? ex->req.method : "-",
	    ex->req.path ? ex->req.path : "-", ex->res.status, micros);
	metrics_record_request(route_index(ex->route), ex->method,
	    ex->res.status, micros);
}

void
api_reload(void)
{
	jwt_reset();
	store_close();
}
