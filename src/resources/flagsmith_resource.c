/*
 * The Flagsmith SDK API; see flagsmith_resource.h.
 *
 * What a Flagsmith SDK reads of a flag: feature.id and feature.name,
 * enabled, feature_state_value. Here feature.id (and the state's id) is
 * the flag's etcd create revision, stable while the flag exists and never
 * 0; environment is a stable number made from the environment's name.
 * enabled is the flag's own; feature_state_value is the flag evaluated
 * (with segments) for the context: empty for the environment's flags, the
 * identity's traits plus targetingKey = identifier for an identity's.
 * Values keep their JSON types.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/util.h"
#include "http/metrics.h"
#include "http/resource.h"
#include "http/validate.h"
#include "model/eval.h"
#include "model/flag_cache.h"
#include "model/keys.h"
#include "model/segment.h"
#include "resources/environment_resource.h"
#include "resources/evaluate_resource.h"
#include "resources/flagsmith_resource.h"
#include "store/stored_doc.h"

#define IDENTIFY_ROUNDS 16	/* a concurrent trait write: read and merge again */

/* A stable, non-zero number for an environment (Flagsmith's are integers). */
static int64_t
environment_id(const char *env)
{
	return (int64_t)(string_hash(env) % 2147483646u) + 1;
}

/* One flag as Flagsmith's flag state. */
static void
put_flag_state(struct buf *out, const char *env, const char *key,
    const struct store_item *item, const struct flag *flag,
    struct json_object *context, struct store_ctx *ctx)
{
	struct eval_segments segments = { segment_lookup, ctx };
	struct eval_result result;

	eval_flag_in(flag, context, &segments, &result);
	buf_puts(out, "{\"id\":");
	buf_put_int(out, item->create_revision);
	buf_puts(out, ",\"feature\":{\"id\":");
	buf_put_int(out, item->create_revision);
	buf_puts(out, ",\"name\":");
	buf_json_string(out, key);
	buf_puts(out, flag_has_variants(flag) ? ",\"type\":\"MULTIVARIATE\"}" :
	    ",\"type\":\"STANDARD\"}");
	buf_puts(out, flag->enabled ? ",\"enabled\":true" : ",\"enabled\":false");
	buf_puts(out, ",\"feature_state_value\":");
	buf_puts(out, result.has_value && result.value != NULL ?
	    json_object_to_json_string_ext(result.value, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
	buf_puts(out, ",\"environment\":");
	buf_put_int(out, environment_id(env));
	buf_puts(out, ",\"identity\":null,\"feature_segment\":null}");
}

/* Every flag of env as a JSON array onto out; -1 after answering. */
static int
put_flag_states(struct exchange *ex, struct store_ctx *ctx, const char *env,
    struct json_object *context, struct buf *out)
{
	struct store_item *items;
	enum store_result rc;
	const char *folder = flag_store_key(&ex->arena, env, "");
	size_t count, i, written;
	int64_t total;

	rc = store_list(ctx, folder, 100000, 0, &items, &count, &total);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "flag_not_found", "the flags");
		return -1;
	}
	buf_putc(out, '[');
	for (i = 0, written = 0; i < count; i++) {
		const struct flag *flag = flag_cache_get(&items[i]);

		if (flag == NULL)
			continue;	/* corrupt: logged, left out as lists do */
		if (written++ > 0)
			buf_putc(out, ',');
		put_flag_state(out, env, items[i].key + strlen(folder), &items[i],
		    flag, context, ctx);
	}
	buf_putc(out, ']');
	return 0;
}

static struct buf *
start_answer(struct exchange *ex, int status)
{
	ex->res.status = status;
	ex->res.content_type = "application/json";
	buf_reset(&ex->res.body);
	return &ex->res.body;
}

/* GET /api/v1/flags/?feature=KEY: one flag state, or Flagsmith's 404. */
static void
one_flag(struct exchange *ex, struct store_ctx *ctx, const char *env,
    const char *key)
{
	struct store_item item;
	const struct flag *flag = NULL;
	enum store_result rc = STORE_NOT_FOUND;

	if (name_valid(key))
		rc = store_get(ctx, flag_store_key(&ex->arena, env, key), 0, &item);
	if (rc == STORE_OK && (flag = flag_cache_get(&item)) == NULL)
		rc = STORE_CORRUPT;
	if (rc == STORE_NOT_FOUND)
		buf_puts(start_answer(ex, 404), "{\"detail\":\"Given feature not found\"}");
	else if (rc != STORE_OK)
		resource_store_error(ex, rc, "flag_not_found", "the flag");
	else
		put_flag_state(start_answer(ex, 200), env, key, &item, flag, NULL, ctx);
}

/*
 * An environment's flags for the empty context depend on nothing but the
 * replica: each process keeps the answer it made, by environment, while
 * the replica's generation stays (as flag_cache.c keeps a flag's text).
 * SDKs poll this route; most polls then cost no replica read at all.
 */
#define ANSWER_SLOTS 8

static struct {
	char			 env[NAME_MAX_LEN + 1];	/* "": empty */
	struct store_generation	 at;
	struct buf		 body;
} answers[ANSWER_SLOTS];

static void
environment_flags(struct exchange *ex, struct store_ctx *ctx, const char *env)
{
	struct store_generation generation = store_generation();
	size_t slot = (size_t)(string_hash(env) % ANSWER_SLOTS);
	struct buf *out = start_answer(ex, 200);

	if (strcmp(answers[slot].env, env) == 0 &&
	    store_generation_current(&answers[slot].at)) {
		store_count_cached_read(ctx);
		buf_append(out, answers[slot].body.data, answers[slot].body.len);
		return;
	}
	if (put_flag_states(ex, ctx, env, NULL, out) == -1)
		return;
	snprintf(answers[slot].env, sizeof(answers[slot].env), "%s", env);
	answers[slot].at = generation;
	buf_reset(&answers[slot].body);
	buf_append(&answers[slot].body, out->data, out->len);
}

void
handle_flagsmith_flags(struct exchange *ex)
{
	struct store_ctx ctx;
	const char *env, *feature = arg_text(ex, "feature", NULL);

	resource_store_ctx(ex, &ctx);
	if ((env = environment_of_request(ex, &ctx)) == NULL)
		return;
	if (feature != NULL)
		one_flag(ex, &ctx, env, feature);
	else
		environment_flags(ex, &ctx, env);
	resource_read_headers(ex, &ctx);
}

/* -- identities */

static int
identifier_valid(const char *id)
{
	size_t i, len = id != NULL ? strlen(id) : 0;

	if (len == 0 || len > IDENTITY_MAX_LEN || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f || id[i] == '/')
			return 0;
	return 1;
}

/* The stored traits of the identity (a new object, {} when none). */
static enum store_result
stored_traits(struct store_ctx *ctx, const char *key, int force,
    struct json_object **traits, int64_t *revision)
{
	struct store_item item;
	struct json_object *doc, *t;
	enum store_result rc;

	*traits = NULL;
	*revision = 0;
	rc = store_get(ctx, key, force, &item);
	if (rc == STORE_OK) {
		*revision = item.mod_revision;
		doc = stored_doc_parse(item.key, item.value, item.value_len);
		if (doc != NULL && json_object_object_get_ex(doc, "traits", &t) &&
		    json_object_is_type(t, json_type_object))
			*traits = json_object_get(t);
		json_object_put(doc);
	}
	if (*traits == NULL)
		*traits = json_object_new_object();
	return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

struct trait_change {
	const char		*key;
	struct json_object	*value;	/* NULL: remove */
	int			 keep;	/* stored, not transient */
};

/* The body's traits; -1 after answering 400. */
static int
parse_traits(struct exchange *ex, struct trait_change **out, size_t *count)
{
	struct json_object *arr = arg_json(ex, "traits"), *t, *k, *v, *tr;
	int transient = arg_bool(ex, "transient", 0);
	struct field_error error = { "traits", NULL };
	size_t i, n = arr != NULL ? json_object_array_length(arr) : 0;

	*out = arena_alloc(&ex->arena, sizeof(**out) * (n + 1));
	*count = n;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(arr, i);
		error.field = arena_printf(&ex->arena, "traits[%zu]", i);
		error.message = "must be {\"trait_key\": a string, \"trait_value\": "
		    "a string, number, boolean or null, \"transient\": a boolean}";
		if (!json_object_is_type(t, json_type_object) ||
		    !json_object_object_get_ex(t, "trait_key", &k) ||
		    !json_object_is_type(k, json_type_string) ||
		    json_object_get_string_len(k) == 0 ||
		    json_object_get_string_len(k) > TRAIT_KEY_MAX_LEN ||
		    (json_object_object_get_ex(t, "trait_value", &v) && v != NULL &&
		    (json_object_is_type(v, json_type_object) ||
		    json_object_is_type(v, json_type_array))) ||
		    (json_object_object_get_ex(t, "transient", &tr) && tr != NULL &&
		    !json_object_is_type(tr, json_type_boolean))) {
			respond_invalid(ex, "validation_failed", error.message, &error, 1);
			return -1;
		}
		(*out)[i].key = json_object_get_string(k);
		(*out)[i].value = json_object_object_get_ex(t, "trait_value", &v) ?
		    v : NULL;
		(*out)[i].keep = !transient && !(json_object_object_get_ex(t,
		    "transient", &tr) && json_object_get_boolean(tr));
	}
	return 0;
}

/* Apply the changes: into effective all of them, into stored the kept ones. */
static void
merge_traits(const struct trait_change *changes, size_t n,
    struct json_object *stored, struct json_object *effective)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (changes[i].value == NULL) {
			json_object_object_del(effective, changes[i].key);
			if (changes[i].keep)
				json_object_object_del(stored, changes[i].key);
			continue;
		}
		json_object_object_add(effective, changes[i].key,
		    json_object_get(changes[i].value));
		if (changes[i].keep)
			json_object_object_add(stored, changes[i].key,
			    json_object_get(changes[i].value));
	}
}

static const char *
traits_text(struct json_object *traits)
{
	return json_object_to_json_string_ext(traits, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Write stored traits if they changed: STORE_STALE when raced. */
static enum store_result
save_traits(struct exchange *ex, struct store_ctx *ctx, const char *key,
    const char *identifier, const char *before, struct json_object *stored,
    int64_t revision)
{
	struct store_condition condition;
	struct store_item item;
	struct json_object *doc;
	const char *text;
	enum store_result rc;
	int created;

	if (strcmp(before, traits_text(stored)) == 0)
		return STORE_OK;	/* nothing new: no etcd write */
	memset(&condition, 0, sizeof(condition));
	condition.kind = revision > 0 ? STORE_IF_REVISION : STORE_IF_ABSENT;
	condition.revision = revision;
	doc = json_object_new_object();
	json_object_object_add(doc, "identifier", json_object_new_string(identifier));
	json_object_object_add(doc, "traits", json_object_get(stored));
	text = arena_strdup(&ex->arena, traits_text(doc));
	json_object_put(doc);
	rc = store_put(ctx, key, text, strlen(text), 0, &condition, &item, &created);
	return rc == STORE_EXISTS ? STORE_STALE : rc;
}

/*
 * The traits to evaluate with (a new object): stored ones merged with the
 * request's, the kept ones written back when they changed. -1 after
 * answering.
 */
static int
identity_traits(struct exchange *ex, struct store_ctx *ctx, const char *key,
    const char *identifier, const struct trait_change *changes, size_t n,
    struct json_object **effective)
{
	struct json_object *stored;
	enum store_result rc = STORE_OK;
	const char *before;
	int64_t revision;
	int round;

	for (round = 0; round < IDENTIFY_ROUNDS; round++) {
		if ((rc = stored_traits(ctx, key, round > 0, &stored, &revision)) !=
		    STORE_OK)
			break;
		before = arena_strdup(&ex->arena, traits_text(stored));
		*effective = json_object_new_object();
		json_object_object_foreach(stored, name, value)
			json_object_object_add(*effective, name, json_object_get(value));
		merge_traits(changes, n, stored, *effective);
		if (json_object_object_length(stored) > IDENTITY_MAX_TRAITS ||
		    json_object_object_length(*effective) > IDENTITY_MAX_TRAITS) {
			json_object_put(stored);
			json_object_put(*effective);
			respond_problem(ex, 400, "validation_failed", "an identity "
			    "holds at most %d traits", IDENTITY_MAX_TRAITS);
			return -1;
		}
		rc = save_traits(ex, ctx, key, identifier, before, stored, revision);
		json_object_put(stored);
		if (rc != STORE_STALE)
			break;
		json_object_put(*effective);
		*effective = NULL;
	}
	if (rc == STORE_OK)
		return 0;
	if (*effective != NULL)
		json_object_put(*effective);
	resource_store_error(ex, rc, "identity_not_found", "the identity");
	return -1;
}

/* {"identifier","traits":[{"trait_key","trait_value"}],"flags":[...]}. */
static void
respond_identity(struct exchange *ex, struct store_ctx *ctx, const char *env,
    const char *identifier, struct json_object *traits)
{
	struct json_object *context;
	struct buf *out;
	size_t i = 0;

	if (!evaluate_context_fits(traits)) {
		respond_problem(ex, 400, "invalid_context", "a trait value is longer "
		    "than %d bytes", FLAG_MAX_REGEX_SUBJECT);
		return;
	}
	out = start_answer(ex, 200);
	buf_puts(out, "{\"identifier\":");
	buf_json_string(out, identifier);
	buf_puts(out, ",\"traits\":[");
	json_object_object_foreach(traits, name, value) {
		buf_puts(out, i++ > 0 ? ",{\"trait_key\":" : "{\"trait_key\":");
		buf_json_string(out, name);
		buf_puts(out, ",\"trait_value\":");
		buf_puts(out, value != NULL ? traits_text(value) : "null");
		buf_putc(out, '}');
	}
	buf_puts(out, "],\"flags\":");
	context = json_object_get(traits);
	json_object_object_add(context, "targetingKey",
	    json_object_new_string(identifier));
	if (put_flag_states(ex, ctx, env, context, out) == 0)
		buf_putc(out, '}');
	json_object_put(context);
}

static void
identify(struct exchange *ex, const char *identifier,
    const struct trait_change *changes, size_t n)
{
	struct json_object *traits;
	struct store_ctx ctx;
	const char *env, *key;

	if (!identifier_valid(identifier)) {
		struct field_error error = { "identifier", "1 to 256 bytes, no '/' "
		    "or control characters, not . or .." };

		respond_invalid(ex, "validation_failed", "the identifier is not "
		    "valid", &error, 1);
		return;
	}
	resource_store_ctx(ex, &ctx);
	if ((env = environment_of_request(ex, &ctx)) == NULL)
		return;
	key = arena_concat(&ex->arena, "identities/", env, "/", identifier,
	    (char *)NULL);
	if (identity_traits(ex, &ctx, key, identifier, changes, n, &traits) == -1)
		return;
	respond_identity(ex, &ctx, env, identifier, traits);
	json_object_put(traits);
	resource_read_headers(ex, &ctx);
}

void
handle_flagsmith_identify(struct exchange *ex)
{
	struct trait_change *changes;
	size_t n;

	if (parse_traits(ex, &changes, &n) == 0)
		identify(ex, arg_text(ex, "identifier", NULL), changes, n);
}

void
handle_flagsmith_identity(struct exchange *ex)
{
	identify(ex, arg_text(ex, "identifier", NULL), NULL, 0);
}

/* -- analytics */

void
handle_flagsmith_analytics(struct exchange *ex)
{
	struct store_ctx ctx;
	const char *env;
	struct field_error error = { NULL, "a flag key and a count of "
	    "evaluations, a whole number from 0 to 10^12" };

	if (ex->json == NULL || !json_object_is_type(ex->json, json_type_object)) {
		error.field = "";
		respond_invalid(ex, "validation_failed", "the body is an object of "
		    "flag key: count", &error, 1);
		return;
	}
	json_object_object_foreach(ex->json, name, count) {
		if (!name_valid(name) || !json_object_is_type(count, json_type_int) ||
		    json_object_get_int64(count) < 0 ||
		    json_object_get_int64(count) > 1000000000000LL) {
			error.field = name;
			respond_invalid(ex, "validation_failed", "a count is not valid",
			    &error, 1);
			return;
		}
	}
	resource_store_ctx(ex, &ctx);
	if ((env = environment_of_request(ex, &ctx)) == NULL)
		return;
	json_object_object_foreach(ex->json, key, n)
		metrics_record_flag_usage(env, key, (uint64_t)json_object_get_int64(n));
	buf_puts(start_answer(ex, 200), "{}");
}
