/*
 * Feature flags; see flag_resource.h. Every write validates the whole
 * document into a struct flag first (flag.c), then goes to etcd in one
 * transaction together with the check that its environment exists, so a
 * flag can never land in an environment being deleted.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/util.h"
#include "http/ordering.h"
#include "http/resource.h"
#include "http/validate.h"
#include "model/flag.h"
#include "model/flag_cache.h"
#include "model/keys.h"
#include "model/segment.h"
#include "resources/environment_resource.h"
#include "resources/flag_resource.h"

/* Where a write's revision requirement came from: it decides 409 vs 412. */
enum revision_source { REVISION_NONE, REVISION_BODY, REVISION_IF_MATCH };

static int
flag_key_ok(struct exchange *ex, const char *key)
{
	if (key != NULL && name_valid(key))
		return 1;
	respond_problem(ex, 400, "invalid_key", "a flag key matches "
	    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
	return 0;
}

static void
respond_flag(struct exchange *ex, int status, const struct flag *flag,
    int64_t revision)
{
	struct json_object *body = flag_to_json(flag, revision);

	respond_json(ex, status, body);
	json_object_put(body);
	resource_etag(ex, revision);
}

static void
respond_flag_errors(struct exchange *ex, const struct flag_errors *errors)
{
	struct field_error list[FLAG_MAX_ERRORS];
	size_t i;

	for (i = 0; i < errors->count; i++) {
		list[i].field = errors->items[i].field;
		list[i].message = errors->items[i].message;
	}
	respond_invalid(ex, errors->unknown_field ? "unknown_field" :
	    "validation_failed", "the flag document is not valid", list,
	    errors->count);
}

/*
 * The body as a flag; -1 after answering 400. *flag is initialised either
 * way (flag_parse does it first), so the caller always frees it.
 */
static int
parse_body(struct exchange *ex, const char *key, struct flag *flag)
{
	struct flag_errors errors;

	if (flag_parse(ex->json, key, flag, &errors) == -1) {
		respond_flag_errors(ex, &errors);
		return -1;
	}
	return 0;
}

/*
 * The body's "revision" (a positive integer, or its decimal text): 1 when
 * there is one, 0 when absent or null, -1 after answering 400.
 */
static int
body_revision(struct exchange *ex, int64_t *revision)
{
	struct json_object *field;
	const char *errstr = NULL;

	if (!json_object_object_get_ex(ex->json, "revision", &field) ||
	    json_object_is_type(field, json_type_null))
		return 0;
	/* json-c gives a uint64 above INT64_MAX as INT64_MAX: not that revision. */
	*revision = json_object_is_type(field, json_type_int) &&
	    json_object_get_uint64(field) <= INT64_MAX ?
	    json_object_get_int64(field) : -1;
	if (json_object_is_type(field, json_type_string))
		*revision = strtonum(json_object_get_string(field), 1, INT64_MAX,
		    &errstr);
	if (*revision < 1 || errstr != NULL) {
		struct field_error error = { "revision", "must be a positive integer" };

		respond_invalid(ex, "validation_failed", "the revision in the body "
		    "is not a positive integer", &error, 1);
		return -1;
	}
	return 1;
}

/*
 * The write condition: If-Match or If-None-Match when sent, else the body's
 * "revision" (a stale one is a 409, as API.md §5 says for updates), else
 * fallback. -1 after answering.
 */
static int
write_condition(struct exchange *ex, enum store_condition_kind fallback,
    struct store_condition *condition, enum revision_source *source)
{
	int64_t revision;
	int found;

	if (resource_condition(ex, STORE_IF_ANY, condition) == -1)
		return -1;
	*source = REVISION_IF_MATCH;
	if (condition->kind != STORE_IF_ANY)
		return 0;
	if ((found = body_revision(ex, &revision)) == -1)
		return -1;
	if (found) {
		condition->kind = STORE_IF_REVISION;
		condition->revision = revision;
		*source = REVISION_BODY;
	} else {
		condition->kind = fallback;
	}
	return 0;
}

/* The revision a POST update names: body "revision" or If-Match. */
static int
update_revision(struct exchange *ex, struct store_condition *condition,
    enum revision_source *source)
{
	if (write_condition(ex, STORE_IF_ANY, condition, source) == -1)
		return -1;
	if (condition->kind == STORE_IF_REVISION)
		return 0;
	respond_problem(ex, 428, "revision_required", "an update needs the "
	    "revision it was made against: \"revision\" in the body or If-Match");
	return -1;
}

/* Keep created_at across replaces; everything else is the body's. */
static void
stamp_times(struct store_ctx *ctx, const char *store_key, struct flag *flag)
{
	struct store_item existing;
	const struct flag *old;
	char now[32];

	format_rfc3339(clock_realtime_us() / 1000000, now, sizeof(now));
	snprintf(flag->created_at, sizeof(flag->created_at), "%s", now);
	if (store_get(ctx, store_key, 0, &existing) == STORE_OK &&
	    (old = flag_cache_get(&existing)) != NULL && old->created_at[0] != '\0')
		snprintf(flag->created_at, sizeof(flag->created_at), "%s",
		    old->created_at);
	snprintf(flag->updated_at, sizeof(flag->updated_at), "%s", now);
}

/* The segment checks of a write start here: after the environment and the
 * condition (an empty slot when there is none). */
#define SEGMENT_CHECKS_AT 2

/* 400 unknown_segment naming it: the write's check found it missing. */
static void
respond_unknown_segment(struct exchange *ex, const char *name)
{
	struct field_error error = { "rules", NULL };

	error.message = arena_concat(&ex->arena, "segment ", name,
	    " does not exist", (char *)NULL);
	respond_invalid(ex, "unknown_segment", error.message, &error, 1);
}

/* A failed write: which check, and what it means for this request. */
static void
respond_write_failure(struct exchange *ex, struct store_ctx *ctx,
    enum store_result rc, size_t failed, const char *store_key,
    const struct store_condition *condition, enum revision_source source)
{
	struct store_item now;

	if (rc != STORE_STALE) {
		resource_store_error(ex, rc, "flag_not_found", "the flag");
		return;
	}
	if (failed == 0) {
		respond_problem(ex, 404, "environment_not_found",
		    "the environment does not exist");
		return;
	}
	if (condition->kind == STORE_IF_ABSENT) {
		resource_store_error(ex, STORE_EXISTS, "flag_not_found", "the flag");
		return;
	}
	if (store_get(ctx, store_key, 1, &now) == STORE_NOT_FOUND) {
		resource_store_error(ex, STORE_NOT_FOUND, "flag_not_found", "the flag");
		return;
	}
	if (source == REVISION_BODY)
		respond_problem(ex, 409, "revision_mismatch", "the flag has changed "
		    "since revision %lld; read it again", (long long)condition->revision);
	else
		resource_store_error(ex, STORE_STALE, "flag_not_found", "the flag");
}

/* Write flag under env if the condition holds; answers either way. */
static void
flag_write(struct exchange *ex, const char *env, struct flag *flag,
    const struct store_condition *condition, enum revision_source source)
{
	struct store_check checks[SEGMENT_CHECKS_AT + FLAG_MAX_SEGMENTS];
	const char *segments[FLAG_MAX_SEGMENTS];
	struct store_op op;
	struct store_ctx ctx;
	struct json_object *doc;
	enum store_result rc;
	const char *store_key = flag_store_key(&ex->arena, env, flag->key);
	size_t nchecks, nsegments, i, failed = 0;
	int64_t revision;

	resource_store_ctx(ex, &ctx);
	stamp_times(&ctx, store_key, flag);
	memset(checks, 0, sizeof(checks));
	checks[0].kind = STORE_CHECK_PRESENT;
	checks[0].key = arena_concat(&ex->arena, "environments/", env, (char *)NULL);
	/* No condition: the environment checked twice, for fixed positions. */
	checks[1] = checks[0];
	if (condition->kind != STORE_IF_ANY) {
		checks[1].key = store_key;
		checks[1].kind = condition->kind == STORE_IF_ABSENT ? STORE_CHECK_ABSENT :
		    condition->kind == STORE_IF_PRESENT ? STORE_CHECK_PRESENT :
		    STORE_CHECK_REVISION;
		checks[1].revision = condition->revision;
		checks[1].also = condition->also;
		checks[1].nalso = condition->nalso;
	}
	/* Every segment its rules name exists (segment_resource.c). */
	nsegments = flag_segments(flag, segments);
	for (i = 0; i < nsegments; i++) {
		checks[SEGMENT_CHECKS_AT + i].kind = STORE_CHECK_PRESENT;
		checks[SEGMENT_CHECKS_AT + i].key = segment_store_key(&ex->arena,
		    segments[i]);
	}
	nchecks = SEGMENT_CHECKS_AT + nsegments;
	doc = flag_to_json(flag, 0);
	memset(&op, 0, sizeof(op));
	op.kind = STORE_OP_PUT;
	op.key = store_key;
	op.value = arena_strdup(&ex->arena, json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	op.value_len = strlen(op.value);
	json_object_put(doc);
	rc = store_commit(&ctx, checks, nchecks, &op, 1, &revision, &failed);
	if (rc == STORE_STALE && failed >= SEGMENT_CHECKS_AT) {
		respond_unknown_segment(ex, segments[failed - SEGMENT_CHECKS_AT]);
		return;
	}
	if (rc != STORE_OK) {
		respond_write_failure(ex, &ctx, rc, failed, store_key, condition, source);
		return;
	}
	respond_flag(ex, op.existed ? 200 : 201, flag, revision);
}

static void
flag_put(struct exchange *ex, const char *env, const char *key)
{
	struct store_condition condition;
	enum revision_source source;
	struct flag flag;

	if (parse_body(ex, key, &flag) == 0 &&
	    write_condition(ex, STORE_IF_ANY, &condition, &source) == 0)
		flag_write(ex, env, &flag, &condition, source);
	flag_free(&flag);
}

static void
flag_update(struct exchange *ex, const char *env, const char *key)
{
	struct store_condition condition;
	enum revision_source source = REVISION_NONE;
	struct flag flag;

	if (parse_body(ex, key, &flag) == 0 &&
	    update_revision(ex, &condition, &source) == 0)
		flag_write(ex, env, &flag, &condition, source);
	flag_free(&flag);
}

static void
flag_get(struct exchange *ex, const char *env, const char *key)
{
	struct store_ctx ctx;
	const char *text, *store_key;
	int64_t revision;
	const struct flag *flag;
	enum store_result rc;
	int force;

	force = arg_bool(ex, "force", 0);
	resource_store_ctx(ex, &ctx);
	store_key = flag_store_key(&ex->arena, env, key);
	rc = flag_cache_read(&ctx, store_key, force, &flag, &revision);
	if (rc != STORE_OK)
		resource_store_error(ex, rc, "flag_not_found", rc == STORE_CORRUPT ?
		    arena_concat(&ex->arena, "the flag at ", store_key, (char *)NULL) :
		    "the flag");
	else if ((text = flag_cache_text(flag)) != NULL) {
		/* Served as made once per revision: the JSON work is not redone. */
		ex->res.status = 200;
		ex->res.content_type = "application/json";
		buf_puts(&ex->res.body, text);
		resource_etag(ex, revision);
	} else
		respond_flag(ex, 200, flag, revision);
	if (rc == STORE_OK || rc == STORE_NOT_FOUND)
		resource_read_headers(ex, &ctx);
}

void
handle_flag_put(struct exchange *ex)
{
	struct store_ctx ctx;
	const char *env;

	resource_store_ctx(ex, &ctx);
	if (flag_key_ok(ex, ex->params[0]) &&
	    (env = environment_of_request(ex, &ctx)) != NULL)
		flag_put(ex, env, ex->params[0]);
}

void
handle_flag_update(struct exchange *ex)
{
	struct store_ctx ctx;
	const char *env;

	resource_store_ctx(ex, &ctx);
	if (flag_key_ok(ex, ex->params[0]) &&
	    (env = environment_of_request(ex, &ctx)) != NULL)
		flag_update(ex, env, ex->params[0]);
}

void
handle_flag_get(struct exchange *ex)
{
	struct store_ctx ctx;
	const char *env;

	resource_store_ctx(ex, &ctx);
	if (flag_key_ok(ex, ex->params[0]) &&
	    (env = environment_of_request(ex, &ctx)) != NULL)
		flag_get(ex, env, ex->params[0]);
}

void
handle_flag_delete(struct exchange *ex)
{
	struct store_condition condition;
	struct store_ctx ctx;
	enum store_result rc;
	const char *env;
	int64_t revision;

	resource_store_ctx(ex, &ctx);
	/* A key written by hand that a list shows can be deleted (keys.h). */
	if ((!stored_key_deletable(ex->params[0]) &&
	    !flag_key_ok(ex, ex->params[0])) ||
	    (env = environment_of_request(ex, &ctx)) == NULL ||
	    resource_condition(ex, STORE_IF_PRESENT, &condition) == -1)
		return;
	rc = store_delete(&ctx, flag_store_key(&ex->arena, env, ex->params[0]),
	    &condition, &revision);
	if (rc != STORE_OK)
		resource_store_error(ex, rc, "flag_not_found", "the flag");
	else
		respond_empty(ex, 204);
}

/* The seed's routes name the flag with ?feature= (checked: required, a name). */
static const char *
feature_key(struct exchange *ex)
{
	return arg_text(ex, "feature", NULL);
}

/* The seed form always means "default", made on first use. */
static int
default_environment(struct exchange *ex)
{
	struct store_ctx ctx;

	resource_store_ctx(ex, &ctx);
	return environment_named(ex, &ctx, DEFAULT_ENVIRONMENT) != NULL ? 0 : -1;
}

void
handle_feature_put(struct exchange *ex)
{
	const char *key = feature_key(ex);

	if (key != NULL && default_environment(ex) == 0)
		flag_put(ex, DEFAULT_ENVIRONMENT, key);
}

void
handle_feature_update(struct exchange *ex)
{
	const char *key = feature_key(ex);

	if (key != NULL && default_environment(ex) == 0)
		flag_update(ex, DEFAULT_ENVIRONMENT, key);
}

void
handle_feature_get(struct exchange *ex)
{
	const char *key = feature_key(ex);

	if (key != NULL && default_environment(ex) == 0)
		flag_get(ex, DEFAULT_ENVIRONMENT, key);
}

static const char *const flag_order_fields[] = { "key", "created_at", "updated_at" };

/* Every flag of the environment under prefix, as JSON, filtered. */
static enum store_result
collect_flags(struct exchange *ex, struct store_ctx *ctx, const char *env,
    const char *prefix, int enabled, struct json_object ***out, size_t *count)
{
	struct store_item *items;
	enum store_result rc;
	int64_t total;
	size_t n, i;

	rc = store_list(ctx, flag_store_key(&ex->arena, env, prefix),
	    100000, 0, &items, &n, &total);
	if (rc != STORE_OK)
		return rc;
	*out = arena_alloc(&ex->arena, sizeof(**out) * (n ? n : 1));
	*count = 0;
	for (i = 0; i < n; i++) {
		const struct flag *flag = flag_cache_get(&items[i]);

		if (flag == NULL || (enabled >= 0 && flag->enabled != enabled))
			continue;
		/* JSON now: the cache may reuse this flag's slot on the next get. */
		(*out)[(*count)++] = flag_to_json(flag, items[i].mod_revision);
	}
	return STORE_OK;
}

void
handle_flag_list(struct exchange *ex)
{
	struct json_object *array, **flags;
	struct ordering order;
	struct store_ctx ctx;
	enum store_result rc;
	const char *env, *prefix = arg_text(ex, "prefix", "");
	int64_t limit, offset;
	size_t count = 0, i;
	/* ?enabled=true|false, or -1 for either. */
	int enabled = arg_bool(ex, "enabled", -1);

	resource_store_ctx(ex, &ctx);
	if (*prefix != '\0' && !config_prefix_valid(prefix)) {
		respond_problem(ex, 400, "invalid_key", "prefix must be the start of a flag key");
		return;
	}
	resource_pagination(ex, &limit, &offset);
	if (ordering_parse(ex, flag_order_fields, ARRAY_SIZE(flag_order_fields),
	    &order) == -1 || (env = environment_of_request(ex, &ctx)) == NULL)
		return;
	rc = collect_flags(ex, &ctx, env, prefix, enabled, &flags, &count);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "flag_not_found", "the flag");
		return;
	}
	ordering_sort(flags, count, &order);
	array = json_object_new_array();
	for (i = 0; i < count; i++) {
		if ((int64_t)i >= offset && (int64_t)i < offset + limit)
			json_object_array_add(array, flags[i]);
		else
			json_object_put(flags[i]);
	}
	resource_respond_list(ex, &ctx, array, (int64_t)count, limit, offset);
}
