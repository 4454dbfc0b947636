/*
 * Names and keys; see keys.h.
 */
#include "config.h"

#include <string.h>

#include "base/arena.h"
#include "model/keys.h"

static int
name_char(char c, int first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	return !first && (c == '.' || c == '_' || c == '-');
}

/* Validate the name in s[0..len). */
static int
name_valid_len(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!name_char(s[i], i == 0))
			return 0;
	return 1;
}

int
name_valid(const char *name)
{
	return name != NULL && name_valid_len(name, strlen(name));
}

/* Segments of s, each valid; allow_trailing_slash for list prefixes. */
static int
segments_valid(const char *s, int allow_trailing_slash, int allow_empty)
{
	size_t len = strlen(s), segments = 0;
	const char *p = s, *slash;

	if (len == 0)
		return allow_empty;
	if (len > CONFIG_KEY_MAX_LEN)
		return 0;
	for (;;) {
		slash = strchr(p, '/');
		if (slash == NULL)
			slash = p + strlen(p);
		if (slash == p && *slash == '\0' && allow_trailing_slash && segments > 0)
			return 1;
		if (!name_valid_len(p, (size_t)(slash - p)))
			return 0;
		if (++segments > CONFIG_KEY_MAX_SEGMENTS)
			return 0;
		if (*slash == '\0')
			return 1;
		p = slash + 1;
	}
}

int
config_key_valid(const char *key)
{
	return key != NULL && segments_valid(key, 0, 0);
}

int
config_prefix_valid(const char *prefix)
{
	return prefix != NULL && segments_valid(prefix, 1, 1);
}

int
stored_key_deletable(const char *key)
{
	const char *p = key, *slash;
	size_t len;

	if (key == NULL || (len = strlen(key)) == 0 || len > STORED_KEY_MAX_LEN)
		return 0;
	for (;;) {
		if ((slash = strchr(p, '/')) == NULL)
			slash = p + strlen(p);
		len = (size_t)(slash - p);
		if (len == 0 || (p[0] == '.' && (len == 1 || (len == 2 && p[1] == '.'))))
			return 0;
		if (*slash == '\0')
			return 1;
		p = slash + 1;
	}
}

const char *
flag_store_key(struct arena *arena, const char *env, const char *key)
{
	return arena_concat(arena, "flags/", env, "/", key, (char *)NULL);
}
