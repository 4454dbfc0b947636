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
	SCOPE_AUDIT_READ,
	SCOPE_ADMIN,
	SCOPE_COUNT
};

/* A set of scopes, one bit per enum scope. */
#define SCOPE_BIT(s)	(1u << (unsigned)(s))

/* "flags:read" etc.; "public" for SCOPE_PUBLIC. */
const char	*scope_name(enum scope scope);

/* The scope a name (as in a token or a JWT claim) names; -1 when none. */
int	scope_parse(const char *name, enum scope *scope);

/*
 * The set with its implications applied once: admin implies every scope,
 * X:write implies X:read. Checks compare against this, never the raw set.
 */
unsigned	scope_closure(unsigned set);

#endif
