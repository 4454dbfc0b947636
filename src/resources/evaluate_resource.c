/*
 * Flag evaluation over HTTP; see evaluate_resource.h. Flags are read from
 * the replica and parsed once per revision (flag_cache.c); evaluation
 * itself is eval.c's pure code.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/util.h"
#include "http/resource.h"
#include "http/validate.h"
#include "model/eval.h"
#include "model/flag.h"
#include "model/flag_cache.h"
#include "model/keys.h"
#include "model/segment.h"
#include "resources/environment_resource.h"
#include "resources/evaluate_resource.h"

/*
 * Is every string in the context (its member names aside) at most
 * FLAG_MAX_REGEX_SUBJECT bytes? A longer one could never be matched by a
 * regex, and a silent non-match would look like a targeting decision.
 */
int
evaluate_context_fits(struct json_object *value)
{
	size_t i, n;

	switch (json_object_get_type(value)) {
	case json_type_string:
		return json_object_get_string_len(value) <= FLAG_MAX_REGEX_SUBJECT;
	case json_type_array:
		n = json_object_array_length(value);
		for (i = 0; i < n; i++)
			if (!evaluate_context_fits(json_object_array_get_idx(value, i)))
				return 0;
		return 1;
	case json_type_object: {
		json_object_object_foreach(value, name, member) {
			(void)name;
			if (!evaluate_context_fits(member))
				return 0;
		}
		return 1;
	}
	default:
		return 1;
	}
}

static int
context_too_long(struct exchange *ex)
{
	respond_problem(ex, 400, "invalid_context", "a context string is longer "
	    "than %d bytes, the most a matcher reads", FLAG_MAX_REGEX_SUBJECT);
	return -1;
}

/* targetingKey, when present, is a string or a number (or null: none). */
static int
targeting_key_valid(struct json_object *context)
{
	struct json_object *v;

	if (!json_object_object_get_ex(context, "targetingKey", &v) || v == NULL)
		return 1;
	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_double:
		return 1;
	default:
		return 0;
	}
}

/*
 * The evaluation context: the body's "context" object, or for GET the
 * query's undeclared parameters (the route's ROUTE_OPEN_QUERY). A new
 * reference (or NULL for none); -1 after 400.
 */
int
evaluate_request_context(struct exchange *ex, struct json_object **context)
{
	struct json_object *value;
	size_t i;

	*context = NULL;
	if (ex->method == HTTP_GET) {
		*context = json_object_new_object();
		for (i = 0; i < ex->nquery; i++)
			/* The declared ones (env, force) steer the request. */
			if (ex->query[i].name[0] != '\0' &&
			    !validate_declares(ex->route, ex->query[i].name))
				json_object_object_add(*context, ex->query[i].name,
				    json_object_new_string(ex->query[i].value));
		if (!evaluate_context_fits(*context)) {
			json_object_put(*context);
			*context = NULL;
			return context_too_long(ex);
		}
		return 0;
	}
	/* Checked already: an object or absent (validate.h). */
	if ((value = arg_json(ex, "context")) == NULL)
		return 0;
	if (!targeting_key_valid(value)) {
		respond_problem(ex, 400, "invalid_context",
		    "targetingKey must be a string (or a number)");
		return -1;
	}
	if (!evaluate_context_fits(value))
		return context_too_long(ex);
	*context = json_object_get(value);
	return 0;
}

/*
 * {"key","value","variant","reason","revision"}, value absent when none
 * applies, written straight out: building json-c objects only to print
 * them was a tenth of an evaluation's work, and all of a bulk one's.
 */
static void
put_evaluation(struct buf *out, const char *key, const struct flag *flag,
    struct json_object *context, int64_t revision, struct store_ctx *ctx)
{
	struct eval_segments segments = { segment_lookup, ctx };
	struct eval_result result;

	eval_flag_in(flag, context, &segments, &result);
	buf_puts(out, "{\"key\":");
	buf_json_string(out, key);
	if (result.has_value) {
		buf_puts(out, ",\"value\":");
		buf_puts(out, json_object_to_json_string_ext(result.value,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	buf_puts(out, ",\"variant\":");
	if (result.variant != NULL)
		buf_json_string(out, result.variant);
	else
		buf_puts(out, "null");
	buf_puts(out, ",\"reason\":\"");
	buf_puts(out, eval_reason_name(result.reason));
	buf_puts(out, "\",\"revision\":");
	buf_put_int(out, revision);
	buf_putc(out, '}');
}

/* A 200 JSON answer whose body the caller writes. */
static struct buf *
start_answer(struct exchange *ex)
{
	ex->res.status = 200;
	ex->res.content_type = "application/json";
	buf_reset(&ex->res.body);
	return &ex->res.body;
}

void
handle_flag_evaluate(struct exchange *ex)
{
	struct json_object *context;
	struct store_ctx ctx;
	const struct flag *flag;
	enum store_result rc;
	const char *env, *key = ex->params[0], *store_key;
	int64_t revision;

	if (!name_valid(key)) {
		respond_problem(ex, 400, "invalid_key", "a flag key matches "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
		return;
	}
	resource_store_ctx(ex, &ctx);
	if ((env = environment_of_request(ex, &ctx)) == NULL ||
	    evaluate_request_context(ex, &context) == -1)
		return;
	store_key = flag_store_key(&ex->arena, env, key);
	rc = flag_cache_read(&ctx, store_key, 0, &flag, &revision);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "flag_not_found", rc == STORE_CORRUPT ?
		    arena_concat(&ex->arena, "the flag at ", store_key, (char *)NULL) :
		    "the flag");
	} else {
		put_evaluation(start_answer(ex), key, flag, context, revision, &ctx);
	}
	json_object_put(context);
	resource_read_headers(ex, &ctx);
}

void
handle_evaluate_all(struct exchange *ex)
{
	struct json_object *context;
	struct buf *body;
	struct store_item *items;
	struct store_ctx ctx;
	enum store_result rc;
	const char *env, *folder;
	size_t count, i, skip, written;
	int64_t total;

	resource_store_ctx(ex, &ctx);
	if ((env = environment_of_request(ex, &ctx)) == NULL ||
	    evaluate_request_context(ex, &context) == -1)
		return;
	folder = flag_store_key(&ex->arena, env, "");
	rc = store_list(&ctx, folder, 100000, 0, &items, &count, &total);
	if (rc != STORE_OK) {
		json_object_put(context);
		resource_store_error(ex, rc, "flag_not_found", "the flag");
		return;
	}
	skip = strlen(folder);
	body = start_answer(ex);
	buf_puts(body, "{\"flags\":[");
	for (i = 0, written = 0; i < count; i++) {
		const struct flag *flag = flag_cache_get(&items[i]);

		if (flag == NULL)
			continue;
		if (written++ > 0)
			buf_putc(body, ',');
		put_evaluation(body, items[i].key + skip, flag, context,
		    items[i].mod_revision, &ctx);
	}
	buf_puts(body, "],\"revision\":");
	buf_put_int(body, store_replica_revision());
	buf_putc(body, '}');
	json_object_put(context);
	resource_read_headers(ex, &ctx);
}
