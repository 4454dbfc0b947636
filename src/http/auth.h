/*
 * Authentication and authorization (API.md §2), run by the pipeline after
 * routing and before the query or the body is read: find who the bearer
 * token names (an API token, a JWT or an environment's SDK key), set
 * ex->principal, and refuse with 401 or 403 unless the principal holds the
 * scope the route names.
 */
#ifndef DYNCONF_AUTH_H
#define DYNCONF_AUTH_H

#include "http/http.h"
#include "model/scope.h"

/* 0 when the request may go on; -1 after answering 401, 403 or 503. */
int	auth_check(struct exchange *ex);

/* Does the request's principal hold scope? (Always with auth.mode = off.) */
int	auth_allows(const struct exchange *ex, enum scope scope);

/* 401 unauthenticated, the bearer token refused (detail: why). */
void	auth_refuse(struct exchange *ex, const char *detail);

/* 403 insufficient_scope naming what was needed (detail: why). */
void	auth_forbid(struct exchange *ex, const char *needed, const char *detail);

#endif
