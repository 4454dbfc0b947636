/*
 * Authorization scopes (API.md §2). Every route names the one it needs.
 */
#ifndef DYNCONF_SCOPE_H
#define DYNCONF_SCOPE_H

enum scope {
	SCOPE_PUBLIC,		/* no token needed */
	SCOPE_FLAGS_READ,
	SCOPE_FLAGS_WRITE,
	SCOPE_CONFIG_READ,
	SCOPE_CONFIG_WRITE,
	SCOPE_USERS_READ,
	SCOPE_USERS_WRITE,
	SCOPE_SERVICES_READ,
	SCOPE_SERVICES_WRITE,
	SCOPE_LOCKS_WRITE,
	SCOPE_ENVIRONMENTS_WRITE,
	SCOPE_TOKENS_WRITE,
	SCOPE_METRICS_READ,
	SCOPE_ADMIN,
	SCOPE_COUNT
};

/* "flags:read" etc.; "public" for SCOPE_PUBLIC. */
const char	*scope_name(enum scope scope);

#endif
