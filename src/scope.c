/*
 * Scope names (API.md §2).
 */
#include "config.h"

#include "scope.h"

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
	[SCOPE_ADMIN] = "admin",
};

const char *
scope_name(enum scope scope)
{
	if ((unsigned)scope >= SCOPE_COUNT)
		return "unknown";
	return scope_names[scope];
}
