/*
 * Environments; see environment_resource.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "base/arena.h"
#include "base/digest.h"
#include "base/util.h"
#include "http/auth.h"
#include "http/ordering.h"
#include "http/resource.h"
#include "http/validate.h"
#include "model/environment.h"
#include "model/keys.h"
#include "resources/environment_resource.h"
#include "store/stored_doc.h"

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

const char *
environment_of_request(struct exchange *ex, struct store_ctx *ctx)
{
	return environment_named(ex, ctx, arg_text(ex, "env", NULL));
}

const char *
environment_named(struct exchange *ex, struct store_ctx *ctx, const char *name)
{
	struct store_generation generation;
	struct environment env;
	enum store_result rc;

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
	rc = environment_read(ctx, name, 0, &env);
	if (rc == STORE_NOT_FOUND && strcmp(name, DEFAULT_ENVIRONMENT) == 0 &&
	    (rc = environment_ensure_default(ctx)) == STORE_OK)
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
	struct store_ctx ctx;
	enum store_result rc;
	const char *name = arg_text(ex, "name", NULL), *sdk_key;
	char created[32];
	int64_t revision;

	resource_store_ctx(ex, &ctx);
	rc = environment_insert(&ctx, name, &sdk_key, created, sizeof(created),
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

	resource_pagination(ex, &limit, &offset);
	if (ordering_parse(ex, environment_order_fields,
	    ARRAY_SIZE(environment_order_fields), &order) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	/* Every one: the page is cut after sorting. */
	if ((rc = environment_ensure_default(&ctx)) != STORE_OK ||
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
	rc = environment_read(ctx, name, 0, env);
	if (rc == STORE_NOT_FOUND && strcmp(name, DEFAULT_ENVIRONMENT) == 0 &&
	    (rc = environment_ensure_default(ctx)) == STORE_OK)
		rc = environment_read(ctx, name, 1, env);
	if (rc == STORE_CORRUPT && deleting)
		return 0;
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "environment_not_found",
		    rc == STORE_CORRUPT ? arena_concat(&ex->arena,
		    "the environment at ", environment_key(&ex->arena, name), (char *)NULL) :
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
	int all = arg_bool(ex, "cascade", 0);
	size_t failed = 0, nops = 0;
	int64_t revision;

	/*
	 * Refused before it is read: reading "default" makes it when it is
	 * missing, a write (with its audit record) that a refusal must not do.
	 */
	if (strcmp(ex->params[0], DEFAULT_ENVIRONMENT) == 0) {
		respond_problem(ex, 409, "default_environment",
		    "the default environment always exists");
		return;
	}
	if (path_environment(ex, &ctx, &env, 1) == -1)
		return;
	memset(checks, 0, sizeof(checks));
	memset(ops, 0, sizeof(ops));
	checks[0].kind = STORE_CHECK_REVISION;
	checks[0].key = environment_key(&ex->arena, env.name);
	checks[0].revision = env.revision;
	/* Without cascade the environment must hold no flag when etcd commits. */
	checks[1].kind = STORE_CHECK_PREFIX_EMPTY;
	checks[1].key = flag_store_key(&ex->arena, env.name, "");
	if (all) {
		ops[nops].kind = STORE_OP_DELETE_PREFIX;
		ops[nops++].key = checks[1].key;
	}
	/* Its identities (§11) go with it: a new one of that name starts afresh. */
	ops[nops].kind = STORE_OP_DELETE_PREFIX;
	ops[nops++].key = arena_concat(&ex->arena, "identities/", env.name, "/",
	    (char *)NULL);
	ops[nops].kind = STORE_OP_DELETE;
	ops[nops++].key = checks[0].key;
	ops[nops].kind = STORE_OP_DELETE;
	ops[nops++].key = environment_sdk_index_key(&ex->arena, env.sdk_key_hash);
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
	if (environment_new_sdk_key(&ex->arena, &sdk_key, &hash) == -1) {
		respond_problem(ex, 500, "internal_error", "no randomness");
		return;
	}
	check.kind = STORE_CHECK_REVISION;
	check.key = environment_key(&ex->arena, env.name);
	check.revision = env.revision;
	memset(ops, 0, sizeof(ops));
	ops[0].kind = STORE_OP_DELETE;
	ops[0].key = environment_sdk_index_key(&ex->arena, env.sdk_key_hash);
	ops[1].kind = STORE_OP_PUT;
	ops[1].key = environment_sdk_index_key(&ex->arena, hash);
	ops[1].value = env.name;
	ops[1].value_len = strlen(env.name);
	ops[2].kind = STORE_OP_PUT;
	ops[2].key = check.key;
	ops[2].value = environment_text(&ex->arena, env.name, hash, env.created_at);
	ops[2].value_len = strlen(ops[2].value);
	ctx.actor.action = "rotate_key";
	rc = store_commit(&ctx, &check, 1, ops, 3, &revision, &failed);
	if (rc != STORE_OK) {
		respond_commit_failed(ex, rc);
		return;
	}
	respond_environment(ex, 200, env.name, sdk_key, env.created_at, revision);
}
