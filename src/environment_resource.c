/*
 * Environments; see environment_resource.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "arena.h"
#include "auth.h"
#include "digest.h"
#include "environment_resource.h"
#include "keys.h"
#include "ordering.h"
#include "resource.h"
#include "stored_doc.h"
#include "util.h"

#define SDK_KEY_PREFIX "dcsdk_"
#define SDK_KEY_BYTES 32

struct environment {
	const char	*name;
	const char	*sdk_key_hash;	/* hex SHA-256 */
	const char	*created_at;
	int64_t		 revision;
};

static const char *
environment_key(struct exchange *ex, const char *name)
{
	return arena_concat(&ex->arena, "environments/", name, (char *)NULL);
}

static const char *
sdk_index_key(struct exchange *ex, const char *hash)
{
	return arena_concat(&ex->arena, "index/sdk_keys/", hash, (char *)NULL);
}

/* A new SDK key and its hex SHA-256, both in the arena. */
static int
new_sdk_key(struct exchange *ex, const char **key, const char **hash)
{
	char hex[SDK_KEY_BYTES * 2 + 1], digest[DIGEST_SHA256_HEX_LEN + 1], *k;

	if (random_hex(hex, SDK_KEY_BYTES) == -1)
		return -1;
	k = arena_concat(&ex->arena, SDK_KEY_PREFIX, hex, (char *)NULL);
	digest_sha256_hex(k, strlen(k), digest);
	*key = k;
	*hash = arena_strdup(&ex->arena, digest);
	return 0;
}

static const char *
environment_text(struct exchange *ex, const char *name, const char *hash,
    const char *created_at)
{
	struct json_object *doc = json_object_new_object();
	const char *text;

	json_object_object_add(doc, "name", json_object_new_string(name));
	json_object_object_add(doc, "sdk_key_sha256", json_object_new_string(hash));
	json_object_object_add(doc, "created_at", json_object_new_string(created_at));
	text = arena_strdup(&ex->arena, json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return text;
}

/* Read the stored document; 0 and *env filled, or the store's answer. */
static enum store_result
environment_read(struct exchange *ex, struct store_ctx *ctx, const char *name,
    int force, struct environment *env)
{
	struct json_object *doc, *field;
	struct store_item item;
	enum store_result rc;

	rc = store_get(ctx, environment_key(ex, name), force, &item);
	if (rc != STORE_OK)
		return rc;
	env->name = arena_strdup(&ex->arena, name);
	env->revision = item.mod_revision;
	env->sdk_key_hash = env->created_at = "";
	/* Filled enough to be deleted: the key and its revision. */
	if ((doc = stored_doc_parse(item.key, item.value, item.value_len)) == NULL)
		return STORE_CORRUPT;
	env->sdk_key_hash = json_object_object_get_ex(doc, "sdk_key_sha256", &field) ?
	    arena_strdup(&ex->arena, json_object_get_string(field)) : "";
	env->created_at = json_object_object_get_ex(doc, "created_at", &field) ?
	    arena_strdup(&ex->arena, json_object_get_string(field)) : "";
	json_object_put(doc);
	return STORE_OK;
}

static void
now_rfc3339(char *out, size_t len)
{
	format_rfc3339(clock_realtime_us() / 1000000, out, len);
}

/*
 * Create name with a fresh SDK key in one transaction (the environment and
 * its key index together). STORE_STALE when it exists already.
 */
static enum store_result
environment_insert(struct exchange *ex, struct store_ctx *ctx, const char *name,
    const char **sdk_key, char *created_at, size_t created_len, int64_t *revision)
{
	struct store_check check = { .kind = STORE_CHECK_ABSENT };
	struct store_op ops[2];
	const char *hash;
	size_t failed;

	if (new_sdk_key(ex, sdk_key, &hash) == -1)
		return STORE_FAILED;
	now_rfc3339(created_at, created_len);
	check.key = environment_key(ex, name);
	memset(ops, 0, sizeof(ops));
	ops[0].kind = STORE_OP_PUT;
	ops[0].key = check.key;
	ops[0].value = environment_text(ex, name, hash, created_at);
	ops[0].value_len = strlen(ops[0].value);
	ops[1].kind = STORE_OP_PUT;
	ops[1].key = sdk_index_key(ex, hash);
	ops[1].value = name;
	ops[1].value_len = strlen(name);
	return store_commit(ctx, &check, 1, ops, 2, revision, &failed);
}

static void
respond_environment(struct exchange *ex, int status, const char *name,
    const char *sdk_key, const char *created_at, int64_t revision)
{
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "name", json_object_new_string(name));
	if (sdk_key != NULL)
		json_object_object_add(body, "sdk_key", json_object_new_string(sdk_key));
	json_object_object_add(body, "created_at", json_object_new_string(created_at));
	json_object_object_add(body, "revision", json_object_new_int64(revision));
	respond_json(ex, status, body);
	json_object_put(body);
	resource_etag(ex, revision);
}

/* Make "default" when it is missing; a concurrent maker winning is fine. */
static enum store_result
ensure_default(struct exchange *ex, struct store_ctx *ctx)
{
	struct environment env;
	enum store_result rc = environment_read(ex, ctx, DEFAULT_ENVIRONMENT, 0, &env);
	const char *sdk_key;
	char created[32];
	int64_t revision;

	if (rc == STORE_CORRUPT)	/* it exists: reading it says the rest */
		return STORE_OK;
	if (rc != STORE_NOT_FOUND)
		return rc;
	rc = environment_insert(ex, ctx, DEFAULT_ENVIRONMENT, &sdk_key, created,
	    sizeof(created), &revision);
	return rc == STORE_STALE ? STORE_OK : rc;
}

enum store_result
environment_of_sdk_key(struct exchange *ex, struct store_ctx *ctx,
    const char *sha256, const char **name)
{
	struct environment env;
	struct store_item item;
	enum store_result rc;

	rc = store_get(ctx, sdk_index_key(ex, sha256), 0, &item);
	if (rc != STORE_OK)
		return rc;
	if (!name_valid(item.value))
		return STORE_NOT_FOUND;
	rc = environment_read(ex, ctx, item.value, 0, &env);
	if (rc != STORE_OK)
		return rc;
	/* An index left behind by a rotation must not keep the old key alive. */
	if (strlen(env.sdk_key_hash) != strlen(sha256) ||
	    CRYPTO_memcmp(env.sdk_key_hash, sha256, strlen(sha256)) != 0)
		return STORE_NOT_FOUND;
	*name = env.name;
	return STORE_OK;
}

/*
 * Environments this process found to exist, and the replica generation it
 * found them at: while that generation is current they still exist, and a
 * flag request needs no read of its environment.
 */
#define KNOWN_ENVIRONMENTS 16

static struct {
	char			 name[NAME_MAX_LEN + 1];
	struct store_generation	 at;
} known_environments[KNOWN_ENVIRONMENTS];

static int
environment_known(const char *name)
{
	size_t i;

	for (i = 0; i < KNOWN_ENVIRONMENTS; i++)
		if (strcmp(known_environments[i].name, name) == 0)
			return store_generation_current(&known_environments[i].at);
	return 0;
}

static void
environment_note(const char *name, const struct store_generation *at)
{
	static size_t next;
	size_t i, slot = next;

	for (i = 0; i < KNOWN_ENVIRONMENTS; i++)
		if (strcmp(known_environments[i].name, name) == 0)
			slot = i;
	if (slot == next)
		next = (next + 1) % KNOWN_ENVIRONMENTS;
	snprintf(known_environments[slot].name, sizeof(known_environments[slot].name),
	    "%s", name);
	known_environments[slot].at = *at;
}

const char *
environment_of_request(struct exchange *ex, struct store_ctx *ctx)
{
	struct store_generation generation;
	const char *name = query_get(ex, "env");
	struct environment env;
	enum store_result rc;

	/* An empty ?env= is a script's unset variable, never "default". */
	if (name != NULL && *name == '\0') {
		respond_problem(ex, 400, "invalid_key", "env is empty; leave it "
		    "out for the default environment");
		return NULL;
	}
	if (ex->principal.kind == PRINCIPAL_SDK_KEY) {
		/* An SDK key evaluates in its own environment only. */
		if (name != NULL && strcmp(name, ex->principal.environment) != 0) {
			auth_forbid(ex, "flags:read", "this SDK key belongs "
			    "to another environment");
			return NULL;
		}
		name = ex->principal.environment;
	}
	if (name == NULL)
		name = DEFAULT_ENVIRONMENT;
	if (!name_valid(name)) {
		respond_problem(ex, 400, "invalid_key", "env must match "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
		return NULL;
	}
	if (environment_known(name))
		return name;
	generation = store_generation();
	rc = environment_read(ex, ctx, name, 0, &env);
	if (rc == STORE_NOT_FOUND && strcmp(name, DEFAULT_ENVIRONMENT) == 0 &&
	    (rc = ensure_default(ex, ctx)) == STORE_OK)
		return name;
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "environment_not_found",
		    "the environment");
		return NULL;
	}
	environment_note(name, &generation);
	return name;
}

void
handle_environment_create(struct exchange *ex)
{
	struct field_error error = { "name", "required" };
	struct json_object *name_field;
	struct store_ctx ctx;
	enum store_result rc;
	const char *name, *sdk_key;
	char created[32];
	int64_t revision;

	if (ex->json == NULL || !json_object_is_type(ex->json, json_type_object)) {
		respond_invalid(ex, "validation_failed", "the body must be "
		    "{\"name\": \"...\"}", &error, 1);
		return;
	}
	json_object_object_foreach(ex->json, field, value) {
		(void)value;
		if (strcmp(field, "name") != 0) {
			error.field = arena_strdup(&ex->arena, field);
			error.message = "unknown field";
			respond_invalid(ex, "unknown_field", "an environment has only "
			    "a name", &error, 1);
			return;
		}
	}
	if (!json_object_object_get_ex(ex->json, "name", &name_field)) {
		respond_invalid(ex, "validation_failed", "name is required", &error, 1);
		return;
	}
	if (!json_object_is_type(name_field, json_type_string)) {
		error.message = "must be a string";
		respond_invalid(ex, "validation_failed", "name is not a string",
		    &error, 1);
		return;
	}
	name = json_object_get_string(name_field);
	if ((size_t)json_object_get_string_len(name_field) != strlen(name) ||
	    !name_valid(name)) {
		error.message = "must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}";
		respond_invalid(ex, "invalid_key", "name is not a valid "
		    "environment name", &error, 1);
		return;
	}
	resource_store_ctx(ex, &ctx);
	rc = environment_insert(ex, &ctx, name, &sdk_key, created, sizeof(created),
	    &revision);
	if (rc == STORE_STALE) {
		respond_problem(ex, 409, "environment_exists",
		    "an environment named %s exists", name);
		return;
	}
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "environment_not_found", "the environment");
		return;
	}
	respond_environment(ex, 201, name, sdk_key, created, revision);
}

static const char *const environment_order_fields[] = { "name", "created_at" };

/*
 * An environment as listed: {"name", "created_at", "revision"}; NULL for a
 * corrupt document (logged), left out as in every list.
 */
static struct json_object *
listed_environment(const struct store_item *found)
{
	struct json_object *doc, *item, *at;

	if ((doc = stored_doc_parse(found->key, found->value,
	    found->value_len)) == NULL)
		return NULL;
	item = json_object_new_object();
	json_object_object_add(item, "name", json_object_new_string(
	    found->key + strlen("environments/")));
	if (json_object_object_get_ex(doc, "created_at", &at))
		json_object_object_add(item, "created_at", json_object_get(at));
	json_object_object_add(item, "revision",
	    json_object_new_int64(found->mod_revision));
	json_object_put(doc);
	return item;
}

void
handle_environment_list(struct exchange *ex)
{
	struct json_object *items, **all;
	struct store_item *found;
	struct ordering order;
	struct store_ctx ctx;
	enum store_result rc;
	int64_t limit, offset, total;
	size_t count, i, listed;

	if (resource_pagination(ex, &limit, &offset) == -1 ||
	    ordering_parse(ex, environment_order_fields,
	    ARRAY_SIZE(environment_order_fields), &order) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	/* Every one: the page is cut after sorting. */
	if ((rc = ensure_default(ex, &ctx)) != STORE_OK ||
	    (rc = store_list(&ctx, "environments/", 100000, 0, &found, &count,
	    &total)) != STORE_OK) {
		resource_store_error(ex, rc, "environment_not_found", "the environment");
		return;
	}
	all = arena_alloc(&ex->arena, sizeof(*all) * (count ? count : 1));
	for (i = 0, listed = 0; i < count; i++)
		if ((all[listed] = listed_environment(&found[i])) != NULL)
			listed++;
	count = listed;
	ordering_sort(all, count, &order);
	items = json_object_new_array();
	for (i = 0; i < count; i++) {
		if ((int64_t)i >= offset && (int64_t)i < offset + limit)
			json_object_array_add(items, all[i]);
		else
			json_object_put(all[i]);
	}
	resource_respond_list(ex, &ctx, items, (int64_t)count, limit, offset);
}

/*
 * The path's environment, read; -1 after answering. deleting: a corrupt
 * document will do (env holds its name and revision).
 */
static int
path_environment(struct exchange *ex, struct store_ctx *ctx,
    struct environment *env, int deleting)
{
	const char *name = ex->params[0];
	enum store_result rc;

	if (!name_valid(name)) {
		respond_problem(ex, 400, "invalid_key", "an environment name matches "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
		return -1;
	}
	resource_store_ctx(ex, ctx);
	rc = environment_read(ex, ctx, name, 0, env);
	if (rc == STORE_NOT_FOUND && strcmp(name, DEFAULT_ENVIRONMENT) == 0 &&
	    (rc = ensure_default(ex, ctx)) == STORE_OK)
		rc = environment_read(ex, ctx, name, 1, env);
	if (rc == STORE_CORRUPT && deleting)
		return 0;
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "environment_not_found",
		    rc == STORE_CORRUPT ? arena_concat(&ex->arena,
		    "the environment at ", environment_key(ex, name), (char *)NULL) :
		    "the environment");
		return -1;
	}
	return 0;
}

void
handle_environment_get(struct exchange *ex)
{
	struct environment env;
	struct store_ctx ctx;

	if (path_environment(ex, &ctx, &env, 0) == -1)
		return;
	respond_environment(ex, 200, env.name, NULL, env.created_at, env.revision);
	resource_read_headers(ex, &ctx);
}

/* A commit guarded by the environment's revision failed: 409 if it moved. */
static void
respond_commit_failed(struct exchange *ex, enum store_result rc)
{
	if (rc == STORE_STALE)
		respond_problem(ex, 409, "revision_mismatch", "the environment "
		    "changed meanwhile; try again");
	else
		resource_store_error(ex, rc, "environment_not_found", "the environment");
}

void
handle_environment_delete(struct exchange *ex)
{
	struct store_check checks[2];
	struct store_op ops[4];
	struct environment env;
	struct store_ctx ctx;
	enum store_result rc;
	const char *cascade = query_get(ex, "cascade");
	int all = cascade != NULL && (strcmp(cascade, "true") == 0 || strcmp(cascade, "1") == 0);
	size_t failed = 0, nops = 0;
	int64_t revision;

	if (path_environment(ex, &ctx, &env, 1) == -1)
		return;
	if (strcmp(env.name, DEFAULT_ENVIRONMENT) == 0) {
		respond_problem(ex, 409, "default_environment",
		    "the default environment always exists");
		return;
	}
	memset(checks, 0, sizeof(checks));
	memset(ops, 0, sizeof(ops));
	checks[0].kind = STORE_CHECK_REVISION;
	checks[0].key = environment_key(ex, env.name);
	checks[0].revision = env.revision;
	/* Without cascade the environment must hold no flag when etcd commits. */
	checks[1].kind = STORE_CHECK_PREFIX_EMPTY;
	checks[1].key = flag_store_key(&ex->arena, env.name, "");
	if (all) {
		ops[nops].kind = STORE_OP_DELETE_PREFIX;
		ops[nops++].key = checks[1].key;
		ops[nops].kind = STORE_OP_DELETE_PREFIX;
		ops[nops++].key = arena_concat(&ex->arena, "identities/",
		    env.name, "/", (char *)NULL);
	}
	ops[nops].kind = STORE_OP_DELETE;
	ops[nops++].key = checks[0].key;
	ops[nops].kind = STORE_OP_DELETE;
	ops[nops++].key = sdk_index_key(ex, env.sdk_key_hash);
	rc = store_commit(&ctx, checks, all ? 1 : 2, ops, nops, &revision, &failed);
	if (rc == STORE_STALE && failed == 1) {
		respond_problem(ex, 409, "environment_not_empty", "the environment "
		    "holds flags; delete them first or pass ?cascade=true");
		return;
	}
	if (rc != STORE_OK) {
		respond_commit_failed(ex, rc);
		return;
	}
	respond_empty(ex, 204);
}

void
handle_environment_rotate_key(struct exchange *ex)
{
	struct store_check check;
	struct store_op ops[3];
	struct environment env;
	struct store_ctx ctx;
	enum store_result rc;
	const char *sdk_key, *hash;
	size_t failed;
	int64_t revision;

	if (path_environment(ex, &ctx, &env, 0) == -1)
		return;
	if (new_sdk_key(ex, &sdk_key, &hash) == -1) {
		respond_problem(ex, 500, "internal_error", "no randomness");
		return;
	}
	check.kind = STORE_CHECK_REVISION;
	check.key = environment_key(ex, env.name);
	check.revision = env.revision;
	memset(ops, 0, sizeof(ops));
	ops[0].kind = STORE_OP_DELETE;
	ops[0].key = sdk_index_key(ex, env.sdk_key_hash);
	ops[1].kind = STORE_OP_PUT;
	ops[1].key = sdk_index_key(ex, hash);
	ops[1].value = env.name;
	ops[1].value_len = strlen(env.name);
	ops[2].kind = STORE_OP_PUT;
	ops[2].key = check.key;
	ops[2].value = environment_text(ex, env.name, hash, env.created_at);
	ops[2].value_len = strlen(ops[2].value);
	rc = store_commit(&ctx, &check, 1, ops, 3, &revision, &failed);
	if (rc != STORE_OK) {
		respond_commit_failed(ex, rc);
		return;
	}
	respond_environment(ex, 200, env.name, sdk_key, env.created_at, revision);
}
