/*
 * The route table and the router. A route is const data: method, a path
 * pattern with {name} parameters and an optional trailing {name...} that
 * takes the rest of the path, the scope it requires, and its handler. The
 * router, /v1/openapi.json, the metrics and the tests all walk route_table.
 */
#ifndef DYNCONF_ROUTER_H
#define DYNCONF_ROUTER_H

#include <stddef.h>

#include "http.h"
#include "scope.h"

typedef void route_handler(struct exchange *ex);

/* The route reads a JSON body (read and parsed before the handler runs). */
#define ROUTE_JSON_BODY		0x1
/* An environment's SDK key may call it too (flag evaluation, API.md §2). */
#define ROUTE_SDK_KEY		0x2
/*
 * The scope depends on the request (GET /v1/watch: on the prefix): the
 * pipeline only authenticates, the handler checks with auth_allows(); the
 * route's scope is what it needs when nothing narrower applies.
 */
#define ROUTE_SCOPE_IN_HANDLER	0x4

struct route {
	enum http_method	 method;
	const char		*pattern;
	enum scope		 scope;
	route_handler		*handler;
	unsigned		 flags;
	const char		*summary;	/* for the OpenAPI document */
};

extern const struct route	route_table[];
extern const size_t		route_count;

enum router_result {
	ROUTER_FOUND,
	ROUTER_NOT_FOUND,
	ROUTER_METHOD_NOT_ALLOWED,
	ROUTER_BAD_ENCODING,
};

/*
 * Match a raw request path against the table. On ROUTER_FOUND *route is set
 * and params[] holds the decoded parameters in pattern order. On
 * ROUTER_METHOD_NOT_ALLOWED *allowed is the set of methods the path takes.
 */
enum router_result router_match(const struct route *table, size_t count,
	    enum http_method method, const char *path, struct arena *arena,
	    const struct route **route, const char **params, unsigned *allowed);

/* Index of a route in route_table (for metrics); route_count when NULL. */
size_t	route_index(const struct route *route);

#endif
