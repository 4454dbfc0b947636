/*
 * Environments as data; see environment.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "base/arena.h"
#include "base/digest.h"
#include "base/util.h"
#include "model/environment.h"
#include "model/keys.h"
#include "store/stored_doc.h"

#define SDK_KEY_BYTES 32

const char *
environment_key(struct arena *arena, const char *name)
{
	return arena_concat(arena, "environments/", name, (char *)NULL);
}

const char *
environment_sdk_index_key(struct arena *arena, const char *hash)
{
	return arena_concat(arena, "index/sdk_keys/", hash, (char *)NULL);
}

/* A new SDK key and its hex SHA-256, both in the arena. */
int
environment_new_sdk_key(struct arena *arena, const char **key, const char **hash)
{
	char hex[SDK_KEY_BYTES * 2 + 1], digest[DIGEST_SHA256_HEX_LEN + 1], *k;

	if (random_hex(hex, SDK_KEY_BYTES) == -1)
		return -1;
	k = arena_concat(arena, SDK_KEY_PREFIX, hex, (char *)NULL);
	digest_sha256_hex(k, strlen(k), digest);
	*key = k;
	*hash = arena_strdup(arena, digest);
	return 0;
}

const char *
environment_text(struct arena *arena, const char *name, const char *hash,
    const char *created_at)
{
	struct json_object *doc = json_object_new_object();
	const char *text;

	json_object_object_add(doc, "name", json_object_new_string(name));
	json_object_object_add(doc, "sdk_key_sha256", json_object_new_string(hash));
	json_object_object_add(doc, "created_at", json_object_new_string(created_at));
	text = arena_strdup(arena, json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return text;
}

/* Read the stored document; 0 and *env filled, or the store's answer. */
enum store_result
environment_read(struct store_ctx *ctx, const char *name,
    int force, struct environment *env)
{
	struct json_object *doc, *field;
	struct store_item item;
	enum store_result rc;

	rc = store_get(ctx, environment_key(ctx->arena, name), force, &item);
	if (rc != STORE_OK)
		return rc;
	env->name = arena_strdup(ctx->arena, name);
	env->revision = item.mod_revision;
	env->sdk_key_hash = env->created_at = "";
	/* Filled enough to be deleted: the key and its revision. */
	if ((doc = stored_doc_parse(item.key, item.value, item.value_len)) == NULL)
		return STORE_CORRUPT;
	env->sdk_key_hash = json_object_object_get_ex(doc, "sdk_key_sha256", &field) ?
	    arena_strdup(ctx->arena, json_object_get_string(field)) : "";
	env->created_at = json_object_object_get_ex(doc, "created_at", &field) ?
	    arena_strdup(ctx->arena, json_object_get_string(field)) : "";
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
enum store_result
environment_insert(struct store_ctx *ctx, const char *name,
    const char **sdk_key, char *created_at, size_t created_len, int64_t *revision)
{
	struct store_check check = { .kind = STORE_CHECK_ABSENT };
	struct store_op ops[2];
	const char *hash;
	size_t failed;

	if (environment_new_sdk_key(ctx->arena, sdk_key, &hash) == -1)
		return STORE_FAILED;
	now_rfc3339(created_at, created_len);
	check.key = environment_key(ctx->arena, name);
	memset(ops, 0, sizeof(ops));
	ops[0].kind = STORE_OP_PUT;
	ops[0].key = check.key;
	ops[0].value = environment_text(ctx->arena, name, hash, created_at);
	ops[0].value_len = strlen(ops[0].value);
	ops[1].kind = STORE_OP_PUT;
	ops[1].key = environment_sdk_index_key(ctx->arena, hash);
	ops[1].value = name;
	ops[1].value_len = strlen(name);
	return store_commit(ctx, &check, 1, ops, 2, revision, &failed);
}

/*
 * Make "default" when it is missing; a concurrent maker winning is fine.
 * dynconf makes it, not the request that found it missing (a read, or a
 * write that is then refused, records nothing: API.md §14), so its record
 * names dynconf itself.
 */
enum store_result
environment_ensure_default(struct store_ctx *ctx)
{
	struct environment env;
	enum store_result rc = environment_read(ctx, DEFAULT_ENVIRONMENT, 0, &env);
	struct store_ctx by_dynconf;
	const char *sdk_key;
	char created[32];
	int64_t revision;

	if (rc == STORE_CORRUPT)	/* it exists: reading it says the rest */
		return STORE_OK;
	if (rc != STORE_NOT_FOUND)
		return rc;
	by_dynconf = *ctx;
	memset(&by_dynconf.actor, 0, sizeof(by_dynconf.actor));
	by_dynconf.actor.name = "dynconf";
	by_dynconf.actor.kind = "dynconf";
	rc = environment_insert(&by_dynconf, DEFAULT_ENVIRONMENT, &sdk_key, created,
	    sizeof(created), &revision);
	ctx->cache = by_dynconf.cache;
	return rc == STORE_STALE ? STORE_OK : rc;
}

enum store_result
environment_of_sdk_key(struct store_ctx *ctx,
    const char *sha256, const char **name)
{
	struct environment env;
	struct store_item item;
	enum store_result rc;

	rc = store_get(ctx, environment_sdk_index_key(ctx->arena, sha256), 0, &item);
	if (rc != STORE_OK)
		return rc;
	if (!name_valid(item.value))
		return STORE_NOT_FOUND;
	rc = environment_read(ctx, item.value, 0, &env);
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

int
environment_known(const char *name)
{
	size_t i;

	for (i = 0; i < KNOWN_ENVIRONMENTS; i++)
		if (strcmp(known_environments[i].name, name) == 0)
			return store_generation_current(&known_environments[i].at);
	return 0;
}

void
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

