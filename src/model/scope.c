/*
 * Scope names (API.md §2).
 */
#include "config.h"

#include <string.h>

#include "model/scope.h"

static const char *const scope_names[SCOPE_COUNT] = {
	[SCOPE_PUBLIC] = "public",
	[SCOPE_FLAGS_READ] = "flags:read",
	[SCOPE_FLAGS_WRITE] = "flags:write",
	[SCOPE_CONFIG_READ] = "config:read",
	[SCOPE_CONFIG_WRITE] = "config:write",
	[SCOPE_USERS_READ] = "users:read",
	[SCOPE_USERS_WRITE] = "users:write",
	[SCOPE_SERVICES_READ] = "services:read",
	[SCOPE_SERVICES_WRITE] = "services:write",
	[SCOPE_LOCKS_WRITE] = "locks:write",
	[SCOPE_ENVIRONMENTS_WRITE] = "environments:write",
	[SCOPE_TOKENS_WRITE] = "tokens:write",
	[SCOPE_METRICS_READ] = "metrics:read",
	[SCOPE_AUDIT_READ] = "audit:read",
	[SCOPE_ADMIN] = "admin",
};

const char *
scope_name(enum scope scope)
{
	if ((unsigned)scope >= SCOPE_COUNT)
		return "unknown";
	return scope_names[scope];
}

int
scope_parse(const char *name, enum scope *scope)
{
	int i;

	/* From 1: "public" is no scope a token can hold. */
	for (i = 1; i < SCOPE_COUNT; i++)
		if (strcmp(name, scope_names[i]) == 0) {
			*scope = (enum scope)i;
			return 0;
		}
	return -1;
}

unsigned
scope_closure(unsigned set)
{
	static const enum scope implied[][2] = {
		{ SCOPE_FLAGS_WRITE, SCOPE_FLAGS_READ },
		{ SCOPE_CONFIG_WRITE, SCOPE_CONFIG_READ },
		{ SCOPE_USERS_WRITE, SCOPE_USERS_READ },
		{ SCOPE_SERVICES_WRITE, SCOPE_SERVICES_READ },
	};
	size_t i;

	if (set & SCOPE_BIT(SCOPE_ADMIN))
		return (SCOPE_BIT(SCOPE_COUNT) - 1) & ~SCOPE_BIT(SCOPE_PUBLIC);
	for (i = 0; i < sizeof(implied) / sizeof(implied[0]); i++)
		if (set & SCOPE_BIT(implied[i][0]))
			set |= SCOPE_BIT(implied[i][1]);
	return set & ~SCOPE_BIT(SCOPE_PUBLIC);
}
