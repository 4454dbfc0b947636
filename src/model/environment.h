/*
 * Environments (API.md §4) as data: isolated sets of flags, each with an
 * SDK key that lets a client evaluate flags in it and nothing else. The SDK
 * key is shown when it is made and stored only as its SHA-256, under
 * index/sdk_keys/<hash> → environment name, so that a key can be looked up
 * without ever being kept. "default" always exists. The HTTP side is
 * resources/environment_resource.c; authentication finds an SDK key's
 * environment here.
 */
#ifndef DYNCONF_ENVIRONMENT_H
#define DYNCONF_ENVIRONMENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "store/store.h"

#define DEFAULT_ENVIRONMENT	"default"
#define SDK_KEY_PREFIX		"dcsdk_"

struct environment {
	const char	*name;
	const char	*sdk_key_hash;	/* hex SHA-256 */
	const char	*created_at;
	int64_t		 revision;
};

/* "environments/<name>" and "index/sdk_keys/<hash>", in arena. */
const char	*environment_key(struct arena *arena, const char *name);
const char	*environment_sdk_index_key(struct arena *arena, const char *hash);

/* A new SDK key and its hex SHA-256, both in arena; -1 without entropy. */
int	environment_new_sdk_key(struct arena *arena, const char **key,
	    const char **hash);

/* The stored document of an environment (never the key itself). */
const char	*environment_text(struct arena *arena, const char *name,
	    const char *hash, const char *created_at);

/*
 * Read the stored document into *env (strings in ctx's arena). STORE_CORRUPT
 * when it is not an environment document: name and revision are still set,
 * enough to delete it.
 */
enum store_result environment_read(struct store_ctx *ctx, const char *name,
	    int force, struct environment *env);

/*
 * Create name with a fresh SDK key in one transaction (the environment and
 * its key index together). STORE_STALE when it exists already.
 */
enum store_result environment_insert(struct store_ctx *ctx, const char *name,
	    const char **sdk_key, char *created_at, size_t created_len,
	    int64_t *revision);

/* Make "default" when it is missing; a concurrent maker winning is fine. */
enum store_result environment_ensure_default(struct store_ctx *ctx);

/*
 * The environment whose SDK key hashes to sha256 (hex): found through the
 * index, then the hash the environment stores is compared in constant time.
 * STORE_NOT_FOUND when no environment has that key.
 */
enum store_result environment_of_sdk_key(struct store_ctx *ctx,
	    const char *sha256, const char **name);

/*
 * A per-process note of environments found to exist, valid while the
 * replica generation they were found at is current.
 */
int	environment_known(const char *name);
void	environment_note(const char *name, const struct store_generation *at);

#endif
