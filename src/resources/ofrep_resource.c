/*
 * OFREP; see ofrep_resource.h. Evaluation is the native one (eval.c, with
 * segments); only the answer's form differs. A type mismatch is the
 * client's to see: the value keeps its JSON type, and the provider
 * compares it with the type it asked for (TYPE_MISMATCH).
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/digest.h"
#include "base/util.h"
#include "http/resource.h"
#include "model/eval.h"
#include "model/flag_cache.h"
#include "model/keys.h"
#include "model/segment.h"
#include "model/token.h"
#include "resources/environment_resource.h"
#include "resources/evaluate_resource.h"
#include "resources/ofrep_resource.h"

/* dynconf's problem codes as OpenFeature error codes; the rest: GENERAL. */
static const struct {
	const char	*code;
	const char	*error;
} error_codes[] = {
	{ "flag_not_found", "FLAG_NOT_FOUND" },
	{ "invalid_context", "INVALID_CONTEXT" },
	{ "validation_failed", "INVALID_CONTEXT" },
	{ "unknown_field", "INVALID_CONTEXT" },
	{ "invalid_key", "INVALID_CONTEXT" },
	{ "invalid_json", "PARSE_ERROR" },
	{ "json_too_deep", "PARSE_ERROR" },
	{ "invalid_utf8", "PARSE_ERROR" },
	{ "nul_in_string", "PARSE_ERROR" },
	{ "number_out_of_range", "PARSE_ERROR" },
	{ "unsupported_media_type", "PARSE_ERROR" },
};

static const char *
error_code(const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < ARRAY_SIZE(error_codes); i++)
		if (strcmp(error_codes[i].code, code) == 0)
			return error_codes[i].error;
	return "GENERAL";
}

void
ofrep_error(struct exchange *ex)
{
	struct json_object *problem = NULL, *v;
	const char *code = NULL, *detail = "";
	struct buf *out = &ex->res.body;

	if (ex->res.status == 401 || ex->res.status == 403) {
		/* §12: no body; WWW-Authenticate says the rest. */
		ex->res.content_type = NULL;
		buf_reset(out);
		return;
	}
	if (out->len > 0)
		problem = json_tokener_parse(out->data);
	if (problem != NULL && json_object_object_get_ex(problem, "code", &v))
		code = json_object_get_string(v);
	if (problem != NULL && json_object_object_get_ex(problem, "detail", &v))
		detail = json_object_get_string(v);
	detail = arena_strdup(&ex->arena, detail != NULL ? detail : "");
	code = error_code(code);
	json_object_put(problem);
	buf_reset(out);
	buf_putc(out, '{');
	if (ex->route->method == HTTP_POST && ex->params[0] != NULL) {
		/* The single-flag form: key is always a string. */
		buf_puts(out, "\"key\":");
		buf_json_string(out, ex->params[0]);
		buf_putc(out, ',');
	}
	buf_puts(out, "\"errorCode\":\"");
	buf_puts(out, code);
	buf_puts(out, "\",\"errorDetails\":");
	buf_json_string(out, detail);
	buf_putc(out, '}');
	ex->res.content_type = "application/json";
}

/* {"key","value","reason","variant","metadata":{"revision"}}. */
static void
put_result(struct buf *out, const char *key, const struct flag *flag,
    struct json_object *context, int64_t revision, struct store_ctx *ctx)
{
	struct eval_segments segments = { segment_lookup, ctx };
	struct eval_result result;

	eval_flag_in(flag, context, &segments, &result);
	buf_puts(out, "{\"key\":");
	buf_json_string(out, key);
	/* No value: the caller's default applies (the provider's rule). */
	if (result.has_value) {
		buf_puts(out, ",\"value\":");
		buf_puts(out, json_object_to_json_string_ext(result.value,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	buf_puts(out, ",\"reason\":\"");
	buf_puts(out, eval_reason_name(result.reason));
	buf_putc(out, '"');
	if (result.variant != NULL) {
		buf_puts(out, ",\"variant\":");
		buf_json_string(out, result.variant);
	}
	buf_puts(out, ",\"metadata\":{\"revision\":");
	buf_put_int(out, revision);
	buf_puts(out, "}}");
}

static struct buf *
start_answer(struct exchange *ex)
{
	ex->res.status = 200;
	ex->res.content_type = "application/json";
	buf_reset(&ex->res.body);
	return &ex->res.body;
}

void
handle_ofrep_evaluate(struct exchange *ex)
{
	struct json_object *context;
	struct store_ctx ctx;
	const struct flag *flag;
	enum store_result rc;
	const char *env, *key = ex->params[0], *store_key;
	int64_t revision;

	resource_store_ctx(ex, &ctx);
	if (!name_valid(key)) {
		/* No flag has a key that is not a name. */
		respond_problem(ex, 404, "flag_not_found", "no flag has that key");
		return;
	}
	if ((env = environment_of_request(ex, &ctx)) == NULL ||
	    evaluate_request_context(ex, &context) == -1)
		return;
	store_key = flag_store_key(&ex->arena, env, key);
	rc = flag_cache_read(&ctx, store_key, 0, &flag, &revision);
	if (rc != STORE_OK)
		resource_store_error(ex, rc, "flag_not_found", rc == STORE_CORRUPT ?
		    arena_concat(&ex->arena, "the flag at ", store_key, (char *)NULL) :
		    arena_concat(&ex->arena, "flag ", key, (char *)NULL));
	else
		put_result(start_answer(ex), key, flag, context, revision, &ctx);
	json_object_put(context);
	resource_read_headers(ex, &ctx);
}

/* Does If-None-Match (a list of entity tags, or *) hold etag? */
static int
etag_listed(const char *header, const char *etag)
{
	size_t len = strlen(etag);

	while (header != NULL && *header != '\0') {
		header += strspn(header, " \t,");
		if (*header == '*')
			return 1;
		/* If-None-Match compares weakly (RFC 9110 §13.1.2). */
		if (strncmp(header, "W/", 2) == 0)
			header += 2;
		if (strncmp(header, etag, len) == 0 &&
		    (header[len] == '\0' || strchr(" \t,", header[len]) != NULL))
			return 1;
		header += strcspn(header, ",");
	}
	return 0;
}

void
handle_ofrep_bulk(struct exchange *ex)
{
	struct json_object *context;
	struct store_item *items;
	struct store_ctx ctx;
	struct buf *body;
	enum store_result rc;
	const char *env, *folder, *etag;
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	size_t count, i, written;
	int64_t total;

	resource_store_ctx(ex, &ctx);
	if ((env = environment_of_request(ex, &ctx)) == NULL ||
	    evaluate_request_context(ex, &context) == -1)
		return;
	folder = flag_store_key(&ex->arena, env, "");
	rc = store_list(&ctx, folder, 100000, 0, &items, &count, &total);
	if (rc != STORE_OK) {
		json_object_put(context);
		resource_store_error(ex, rc, "flag_not_found", "the flags");
		return;
	}
	body = start_answer(ex);
	buf_puts(body, "{\"flags\":[");
	for (i = 0, written = 0; i < count; i++) {
		const struct flag *flag = flag_cache_get(&items[i]);

		if (flag == NULL)
			continue;
		if (written++ > 0)
			buf_putc(body, ',');
		put_result(body, items[i].key + strlen(folder), flag, context,
		    items[i].mod_revision, &ctx);
	}
	buf_puts(body, "]}");
	json_object_put(context);
	/* The answer itself names its version: any change to it moves the tag. */
	digest_sha256_hex(body->data, body->len, hash);
	hash[32] = '\0';
	etag = arena_concat(&ex->arena, "\"", hash, "\"", (char *)NULL);
	if (etag_listed(ex->req.if_none_match, etag))
		respond_empty(ex, 304);
	response_header(ex, "ETag", etag);
	resource_read_headers(ex, &ctx);
}
