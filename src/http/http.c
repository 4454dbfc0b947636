/*
 * The plain HTTP exchange: method and status names, response building,
 * problem documents, percent-decoding and the query string; see http.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "base/log.h"
#include "base/util.h"
#include "http/http.h"

void
exchange_init(struct exchange *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->req.content_length = -1;
	arena_init(&ex->arena);
	buf_init(&ex->res.body);
	ex->started_us = clock_monotonic_us();
}

void
exchange_free(struct exchange *ex)
{
	if (ex->json != NULL)
		json_object_put(ex->json);
	buf_free(&ex->res.body);
	arena_free(&ex->arena);
	ex->json = NULL;
}

static const struct {
	enum http_method	 method;
	const char		*name;
} methods[] = {
	{ HTTP_GET, "GET" }, { HTTP_HEAD, "HEAD" }, { HTTP_POST, "POST" },
	{ HTTP_PUT, "PUT" }, { HTTP_PATCH, "PATCH" }, { HTTP_DELETE, "DELETE" },
	{ HTTP_OPTIONS, "OPTIONS" },
};

enum http_method
http_method_parse(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < ARRAY_SIZE(methods); i++)
		if (strcmp(name, methods[i].name) == 0)
			return methods[i].method;
	return HTTP_OTHER;
}

const char *
http_method_name(enum http_method method)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(methods); i++)
		if (methods[i].method == method)
			return methods[i].name;
	return "OTHER";
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

void
response_header(struct exchange *ex, const char *name, const char *value)
{
	struct response *res = &ex->res;
	size_t i;

	for (i = 0; i < res->nheaders; i++)
		if (strcasecmp(res->headers[i].name, name) == 0) {
			res->headers[i].value = arena_strdup(&ex->arena, value);
			return;
		}
	if (res->nheaders == RESPONSE_MAX_HEADERS)
		return;
	res->headers[res->nheaders].name = arena_strdup(&ex->arena, name);
	res->headers[res->nheaders].value = arena_strdup(&ex->arena, value);
	res->nheaders++;
}

const char *
response_header_get(const struct exchange *ex, const char *name)
{
	size_t i;

	for (i = 0; i < ex->res.nheaders; i++)
		if (strcasecmp(ex->res.headers[i].name, name) == 0)
			return ex->res.headers[i].value;
	return NULL;
}

void
respond_json(struct exchange *ex, int status, struct json_object *json)
{
	const char *text = json_object_to_json_string_ext(json,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	ex->res.status = status;
	ex->res.content_type = "application/json";
	buf_reset(&ex->res.body);
	/*
	 * json-c writes a string's bytes as they are: a key or a record written
	 * into etcd by hand that is not UTF-8 would make the answer no JSON a
	 * client can read (API.md section 1). Its bytes are all inside strings.
	 */
	if (buf_put_utf8(&ex->res.body, text, strlen(text)) > 0)
		log_warn("request id=%s: text that is not UTF-8 in the answer "
		    "(written into etcd by hand?): U+FFFD for each bad byte",
		    ex->request_id);
}

void
respond_empty(struct exchange *ex, int status)
{
	ex->res.status = status;
	ex->res.content_type = NULL;
	buf_reset(&ex->res.body);
}

static void
problem_begin(struct exchange *ex, int status, const char *code,
    const char *detail)
{
	struct buf *body = &ex->res.body;

	ex->res.status = status;
	ex->res.content_type = "application/problem+json";
	buf_reset(body);
	buf_printf(body, "{\"type\":\"about:blank\",\"title\":\"%s\","
	    "\"status\":%d,\"detail\":", http_status_text(status), status);
	buf_json_string(body, detail);
	buf_puts(body, ",\"code\":");
	buf_json_string(body, code);
	buf_puts(body, ",\"request_id\":");
	buf_json_string(body, ex->request_id);
	/* The seed's clients read their error from "erro" (API.md §7). */
	if (ex->seed_errors) {
		buf_puts(body, ",\"erro\":");
		buf_json_string(body, detail);
	}
}

void
respond_problem(struct exchange *ex, int status, const char *code,
    const char *fmt, ...)
{
	struct buf detail;
	va_list ap;

	buf_init(&detail);
	va_start(ap, fmt);
	buf_vprintf(&detail, fmt, ap);
	va_end(ap);
	problem_begin(ex, status, code, detail.data != NULL ? detail.data : "");
	buf_putc(&ex->res.body, '}');
	buf_free(&detail);
}

void
problem_add_member(struct exchange *ex, const char *name,
    struct json_object *value)
{
	struct buf *body = &ex->res.body;

	/* The document ends in its closing brace: the member goes before it. */
	if (body->len == 0 || body->data[body->len - 1] != '}')
		return;
	body->len--;
	buf_putc(body, ',');
	buf_json_string(body, name);
	buf_putc(body, ':');
	buf_puts(body, json_object_to_json_string_ext(value,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_putc(body, '}');
}

void
respond_invalid(struct exchange *ex, const char *code, const char *detail,
    const struct field_error *errors, size_t nerrors)
{
	size_t i;

	problem_begin(ex, 400, code, detail);
	buf_puts(&ex->res.body, ",\"errors\":[");
	for (i = 0; i < nerrors; i++) {
		buf_puts(&ex->res.body, i ? ",{\"field\":" : "{\"field\":");
		buf_json_string(&ex->res.body, errors[i].field);
		buf_puts(&ex->res.body, ",\"message\":");
		buf_json_string(&ex->res.body, errors[i].message);
		buf_putc(&ex->res.body, '}');
	}
	buf_puts(&ex->res.body, "]}");
}

char *
percent_decode(struct arena *arena, const char *src, size_t len,
    int plus_is_space)
{
	char *out = arena_alloc(arena, len + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (src[i] == '%') {
			int hi, lo;

			if (len - i < 3)
				return NULL;
			hi = hex_digit((unsigned char)src[i + 1]);
			lo = hex_digit((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (src[i] == '\0') {
			return NULL;
		} else if (src[i] == '+' && plus_is_space) {
			*o++ = ' ';
		} else {
			*o++ = src[i];
		}
	}
	*o = '\0';
	return out;
}

/*
 * Is query[n]'s name among the n before it? No parameter of the API takes
 * more than one value, so a repeat is a mistake (or an attempt to make a
 * proxy and dynconf read different values): refused, never first-wins.
 */
static int
query_repeats(const struct query_param *query, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(query[i].name, query[n].name) == 0)
			return 1;
	return 0;
}

int
query_parse(struct exchange *ex)
{
	const char *q = ex->req.query, *p, *amp, *eq;
	size_t count = 0, n = 0;

	if (q == NULL || *q == '\0')
		return 0;
	for (p = q; *p != '\0'; p++)
		if (*p == '&')
			count++;
	count++;
	if (count > 256) {
		respond_problem(ex, 400, "invalid_query", "too many query parameters");
		return -1;
	}
	ex->query = arena_alloc(&ex->arena, count * sizeof(*ex->query));
	for (p = q; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		ex->query[n].name = percent_decode(&ex->arena, p,
		    (size_t)((eq ? eq : amp) - p), 1);
		ex->query[n].value = eq ? percent_decode(&ex->arena, eq + 1,
		    (size_t)(amp - eq - 1), 1) : "";
		if (ex->query[n].name == NULL || ex->query[n].value == NULL) {
			respond_problem(ex, 400, "invalid_encoding",
			    "the query string has a bad percent-encoding or a NUL byte");
			return -1;
		}
		if (query_repeats(ex->query, n)) {
			respond_problem(ex, 400, "repeated_parameter", "the query "
			    "parameter %s is given more than once; every parameter "
			    "takes one value", ex->query[n].name);
			return -1;
		}
		n++;
	}
	ex->nquery = n;
	return 0;
}

const char *
query_get(const struct exchange *ex, const char *name)
{
	size_t i;

	for (i = 0; i < ex->nquery; i++)
		if (strcmp(ex->query[i].name, name) == 0)
			return ex->query[i].value;
	return NULL;
}
