/*
 * One HTTP exchange as the core sees it: a plain request filled in by a
 * front end (fcgi/ for FastCGI, the unit tests for themselves), a response
 * the handlers fill in, and everything allocated on the way. exchange_free()
 * releases all of it in one place.
 */
#ifndef DYNCONF_HTTP_H
#define DYNCONF_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"

struct arg;
struct json_object;
struct route;
struct wait_request;

/* Methods are bits so that a set of them (for Allow) is one unsigned. */
enum http_method {
	HTTP_GET	= 1 << 0,
	HTTP_HEAD	= 1 << 1,
	HTTP_POST	= 1 << 2,
	HTTP_PUT	= 1 << 3,
	HTTP_PATCH	= 1 << 4,
	HTTP_DELETE	= 1 << 5,
	HTTP_OPTIONS	= 1 << 6,
	HTTP_OTHER	= 1 << 7,
};

#define REQUEST_ID_MAX 128
#define ROUTE_MAX_PARAMS 4
#define RESPONSE_MAX_HEADERS 16

/* Reads up to len body bytes; returns the count, 0 at the end, -1 on error. */
typedef long (*body_reader)(void *ctx, char *dst, size_t len);

struct query_param {
	const char	*name;	/* percent-decoded */
	const char	*value;
};

/* Everything a front end hands over. Strings are the front end's, NULL when absent. */
struct request {
	const char	*method;	/* as received, e.g. "GET" */
	const char	*path;		/* raw (still percent-encoded), no query */
	const char	*query;		/* raw query string without '?' */
	const char	*content_type;
	long long	 content_length;	/* -1 when not sent */
	const char	*authorization;
	const char	*environment_key;	/* X-Environment-Key (Flagsmith SDKs) */
	const char	*api_key;	/* X-API-Key (OFREP providers) */
	const char	*if_match;
	const char	*if_none_match;
	const char	*request_id;	/* X-Request-Id as sent */
	const char	*lock_token;	/* X-Lock-Token (API.md §9) */
	const char	*remote_addr;
	body_reader	 read_body;
	void		*body_ctx;
};

struct header {
	const char	*name;
	const char	*value;
};

struct response {
	int		 status;
	const char	*content_type;	/* NULL: no body */
	struct header	 headers[RESPONSE_MAX_HEADERS];
	size_t		 nheaders;
	struct buf	 body;
};

/* Who made the request, as the authorization step found (auth.c). */
enum principal_kind {
	PRINCIPAL_NONE,		/* a public route: nobody was asked */
	PRINCIPAL_OFF,		/* auth.mode = off: everything allowed */
	PRINCIPAL_TOKEN,	/* an API token */
	PRINCIPAL_JWT,
	PRINCIPAL_SDK_KEY,	/* an environment's SDK key */
};

struct principal {
	enum principal_kind	 kind;
	unsigned		 scopes;	/* scope_closure() applied */
	const char		*environment;	/* SDK keys: theirs */
	const char		*token_id;	/* API tokens: theirs */
	const char		*token_name;	/* API tokens: theirs, NULL if none */
	const char		*subject;	/* JWTs: sub, NULL when unusable */
	/* Unix seconds it stops working, 0 never: a JWT's exp, a token's
	 * earliest expiry up the chain of tokens that made it. */
	int64_t			 expires;
	int			 depth;		/* API tokens: makers above it */
};

struct exchange {
	struct request		 req;
	struct response		 res;
	struct arena		 arena;
	enum http_method	 method;
	char			 request_id[REQUEST_ID_MAX + 1];
	const struct route	*route;
	const char		*params[ROUTE_MAX_PARAMS];	/* path params, decoded */
	struct query_param	*query;
	size_t			 nquery;
	char			*body;		/* NUL-terminated copy */
	size_t			 body_len;
	struct json_object	*json;		/* parsed body, or NULL */
	struct arg		*query_args;	/* checked, in route->query order */
	struct arg		*body_args;	/* checked, in route->body order */
	struct principal	 principal;
	int			 seed_errors;	/* problems carry "erro" (ROUTE_SEED) */
	int64_t			 started_us;	/* monotonic */
	int64_t			 deadline_us;	/* monotonic */
	/* Set by a handler that waits (http/wait.h): no answer yet, the front
	 * end hands the request to the waiting process. */
	struct wait_request	*wait;
};

void	exchange_init(struct exchange *ex);
void	exchange_free(struct exchange *ex);

enum http_method http_method_parse(const char *name);
const char	*http_method_name(enum http_method method);
const char	*http_status_text(int status);

/* Response building. Strings are copied into the exchange's arena. */
void	response_header(struct exchange *ex, const char *name, const char *value);
const char *response_header_get(const struct exchange *ex, const char *name);
/* Serialize json as the body (the object is not consumed). */
void	respond_json(struct exchange *ex, int status, struct json_object *json);
/* An empty response (204, 304). */
void	respond_empty(struct exchange *ex, int status);

/*
 * RFC 9457 problem+json: type about:blank, the status's title, detail,
 * a stable snake_case code and the request id.
 */
void	respond_problem(struct exchange *ex, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct field_error {
	const char	*field;
	const char	*message;
};
/*
 * After respond_problem: one more member of the problem document (RFC 9457
 * extension members, such as a lock's "holder"); value is not consumed.
 */
void	problem_add_member(struct exchange *ex, const char *name,
	    struct json_object *value);

/* A 400 problem with an "errors" array naming each field. */
void	respond_invalid(struct exchange *ex, const char *code, const char *detail,
	    const struct field_error *errors, size_t nerrors);

/* Query access: the decoded value of the first parameter named, or NULL. */
const char *query_get(const struct exchange *ex, const char *name);

/*
 * Percent-decode src[0..len) into the arena. Returns NULL for a bad escape
 * or a decoded NUL byte. plus_is_space for query strings.
 */
char	*percent_decode(struct arena *arena, const char *src, size_t len,
	    int plus_is_space);

/* Parse the raw query into ex->query; -1 (after responding 400) on bad input. */
int	query_parse(struct exchange *ex);

#endif
