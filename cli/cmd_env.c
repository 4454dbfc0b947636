/*
 * dynconfctl env create|list|rotate-key: environments (API.md §4) through
 * model/environment.c, in the same transactions as the API's handlers. An
 * SDK key is printed once, on stdout, when it is made.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "ctl.h"
#include "model/environment.h"
#include "model/keys.h"
#include "store/stored_doc.h"

/* The one operand, an environment name; NULL after a usage error. */
static const char *
name_operand(int argc, char **argv)
{
	const char *name;

	if (ctl_getopt(argc, argv, ":", NULL) != -1 ||
	    ctl_operands(argc, argv, 1, 1, "the environment name") != 0)
		return NULL;
	name = argv[optind];
	if (!name_valid(name)) {
		ctl_usage("%.128s is not a valid name: [A-Za-z0-9][A-Za-z0-9._-]{0,127}",
		    name);
		return NULL;
	}
	return name;
}

int
cmd_env_create(int argc, char **argv)
{
	struct store_ctx ctx;
	struct arena arena;
	enum store_result rc;
	const char *name = name_operand(argc, argv), *sdk_key;
	char created[32];
	int64_t revision;

	if (name == NULL)
		return CTL_USAGE;
	ctl_ctx_init(&ctx, &arena);
	rc = environment_insert(&ctx, name, &sdk_key, created, sizeof(created),
	    &revision);
	if (rc == STORE_OK) {
		printf("%s\n", sdk_key);
		fprintf(stderr, "dynconfctl: environment %s made at revision %lld; "
		    "its SDK key is shown only now\n", name, (long long)revision);
	} else if (rc == STORE_STALE) {
		rc = STORE_EXISTS;
	}
	ctl_ctx_free(&ctx);
	return ctl_store_failed(rc, "the environment");
}

int
cmd_env_list(int argc, char **argv)
{
	struct store_item *found;
	struct store_ctx ctx;
	struct arena arena;
	enum store_result rc;
	int64_t total;
	size_t count, i;

	if (ctl_getopt(argc, argv, ":", NULL) != -1 ||
	    ctl_operands(argc, argv, 0, 0, "") != 0)
		return CTL_USAGE;
	ctl_ctx_init(&ctx, &arena);
	rc = store_list(&ctx, "environments/", 100000, 0, &found, &count, &total);
	if (rc == STORE_OK)
		printf("NAME\tCREATED\tREVISION\n");
	for (i = 0; rc == STORE_OK && i < count; i++) {
		struct json_object *doc = stored_doc_parse(found[i].key,
		    found[i].value, found[i].value_len), *at = NULL;

		printf("%s\t%s\t%lld\n", found[i].key + strlen("environments/"),
		    doc != NULL && json_object_object_get_ex(doc, "created_at", &at) ?
		    json_object_get_string(at) : "?", (long long)found[i].mod_revision);
		json_object_put(doc);
	}
	ctl_ctx_free(&ctx);
	return ctl_store_failed(rc, "the environment list");
}

/* A new key in one transaction with the environment, if it did not move. */
static enum store_result
rotate(struct store_ctx *ctx, const struct environment *env, const char **sdk_key,
    int64_t *revision)
{
	struct store_check check = { .kind = STORE_CHECK_REVISION };
	struct store_op ops[3];
	const char *hash;
	size_t failed;

	if (environment_new_sdk_key(ctx->arena, sdk_key, &hash) == -1)
		return STORE_FAILED;
	check.key = environment_key(ctx->arena, env->name);
	check.revision = env->revision;
	memset(ops, 0, sizeof(ops));
	ops[0].kind = STORE_OP_DELETE;
	ops[0].key = environment_sdk_index_key(ctx->arena, env->sdk_key_hash);
	ops[1].kind = STORE_OP_PUT;
	ops[1].key = environment_sdk_index_key(ctx->arena, hash);
	ops[1].value = env->name;
	ops[1].value_len = strlen(env->name);
	ops[2].kind = STORE_OP_PUT;
	ops[2].key = check.key;
	ops[2].value = environment_text(ctx->arena, env->name, hash, env->created_at);
	ops[2].value_len = strlen(ops[2].value);
	return store_commit(ctx, &check, 1, ops, 3, revision, &failed);
}

int
cmd_env_rotate_key(int argc, char **argv)
{
	struct environment env;
	struct store_ctx ctx;
	struct arena arena;
	enum store_result rc;
	const char *name = name_operand(argc, argv), *sdk_key;
	int64_t revision;

	if (name == NULL)
		return CTL_USAGE;
	ctl_ctx_init(&ctx, &arena);
	if ((rc = environment_read(&ctx, name, 1, &env)) == STORE_OK &&
	    (rc = rotate(&ctx, &env, &sdk_key, &revision)) == STORE_OK) {
		printf("%s\n", sdk_key);
		fprintf(stderr, "dynconfctl: environment %s has a new SDK key "
		    "(revision %lld); the old one no longer works\n", name,
		    (long long)revision);
	}
	ctl_ctx_free(&ctx);
	return ctl_store_failed(rc, "the environment");
}
