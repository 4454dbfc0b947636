/*
 * Names and keys (API.md §1): what may name a flag, lock, service or
 * environment, and what may be a config key. Everything that becomes part
 * of an etcd key passes through here first, so nothing escapes the prefix.
 */
#ifndef DYNCONF_KEYS_H
#define DYNCONF_KEYS_H

#define NAME_MAX_LEN 128
#define CONFIG_KEY_MAX_LEN 512
#define CONFIG_KEY_MAX_SEGMENTS 16
#define STORED_KEY_MAX_LEN 4096

/* [A-Za-z0-9][A-Za-z0-9._-]{0,127} */
int	name_valid(const char *name);

/* 1–16 names joined by '/', no '.' or '..' segment, at most 512 bytes. */
int	config_key_valid(const char *key);

/* A list prefix: empty, or a config key, optionally ending in '/', or a partial last segment. */
int	config_prefix_valid(const char *prefix);

/*
 * A key DELETE may name although it breaks the rules above: one written
 * into etcd by hand, which a list shows. It stays inside its folder: 1 to
 * 4096 bytes, no empty, '.' or '..' segment (a path parameter never holds
 * a NUL).
 */
int	stored_key_deletable(const char *key);

struct arena;

/*
 * The store key of flag key in environment env: "flags/ENV/KEY". With key
 * "", the environment's folder of flags; with part of a key, a prefix.
 */
const char *flag_store_key(struct arena *arena, const char *env,
	    const char *key);

#endif
