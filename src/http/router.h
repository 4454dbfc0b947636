/*
 * The route table and the router. A route is const data: method, a path
 * pattern with {name} parameters and an optional trailing {name...} that
 * takes the rest of the path, the scope it requires, its handler, and the
 * query parameters and body fields it takes (validate.h). The router, the
 * validator, /v1/openapi.json, the metrics and the tests all walk
 * route_table.
 */
#ifndef DYNCONF_ROUTER_H
#define DYNCONF_ROUTER_H

#include <stddef.h>

#include "http/http.h"
#include "http/validate.h"
#include "model/scope.h"

typedef void route_handler(struct exchange *ex);

/*
 * What a route answers when it succeeds, for the OpenAPI document: the
 * status (and a second one, 201 beside 200 for PUT), the media type, and
 * a JSON Schema as text (NULL: no body).
 */
struct response_spec {
	int		 status;
	int		 also;		/* 0: none */
	const char	*schema;	/* NULL: no body */
	const char	*description;
	unsigned	 flags;
	const char	*media;		/* NULL: application/json */
};
/* schema is a list's item: the answer is {"items","total","limit","offset"}. */
#define RESPONSE_LIST	0x1
/*
 * The scope a request needs when it depends on the request (GET /v1/watch:
 * on the prefix), from its raw query; the route's scope is what it needs
 * when nothing narrower applies, and what OpenAPI shows.
 */
typedef enum scope route_scope_fn(const struct exchange *ex);

/* The route reads a JSON body (read and parsed before the handler runs). */
#define ROUTE_JSON_BODY		0x1
/* An environment's SDK key may call it too (flag evaluation, API.md §2). */
#define ROUTE_SDK_KEY		0x2
/* Query parameters beyond the declared ones are the handler's (attributes). */
#define ROUTE_OPEN_QUERY	0x8
/* Body fields beyond the declared ones are the handler's to judge. */
#define ROUTE_OPEN_BODY		0x10
/* No body at all is as good as {} (the body's fields are all optional). */
#define ROUTE_BODY_OPTIONAL	0x20
/* The Flagsmith SDK API: the SDK key comes as X-Environment-Key (§11). */
#define ROUTE_FLAGSMITH		0x40
/* OFREP: the credential comes as Authorization: Bearer or X-API-Key (§12). */
#define ROUTE_OFREP		0x80
/* A route of the Flask seed's API: its errors also carry "erro" (API.md §7). */
#define ROUTE_SEED		0x100
/*
 * Any valid credential may call it, whatever its scopes, an SDK key too
 * (GET /v1/whoami); its .scope is SCOPE_PUBLIC, as it needs none.
 */
#define ROUTE_ANY_CREDENTIAL	0x200

struct route {
	enum http_method	 method;
	const char		*pattern;
	enum scope		 scope;
	route_handler		*handler;
	unsigned		 flags;
	const char		*summary;	/* for the OpenAPI document */
	const struct param_spec	*query;		/* SPEC_END-terminated, or NULL */
	const struct param_spec	*body;		/* the same, ROUTE_JSON_BODY routes */
	const char		*invalid_code;	/* for a bad body; validation_failed */
	route_scope_fn		*scope_by_request;	/* NULL: .scope */
	/*
	 * Rewrites an error answer (a problem document, from the pipeline or
	 * the handler) into the form the route's clients parse (OFREP's);
	 * NULL: problem documents as everywhere.
	 */
	route_handler		*on_error;
	const struct response_spec *response;	/* for the OpenAPI document */
	/*
	 * Rules of the body's declared fields beyond their type (an email's
	 * form): NULL, or why the value of field is refused.
	 */
	const char		*(*body_check)(const char *field,
				    struct json_object *value);
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

/* The flags of every route whose pattern matches path, or-ed (for a 405). */
unsigned	router_path_flags(const struct route *table, size_t count,
	    const char *path, struct arena *arena);

/* Index of a route in route_table (for metrics); route_count when NULL. */
size_t	route_index(const struct route *route);

#endif
