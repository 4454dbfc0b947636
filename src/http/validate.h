/*
 * Request input checked against the route's declaration, before the
 * handler runs (in the spirit of kcgi's per-key validators). Each route row
 * lists its query parameters and, when it takes one, its body's top-level
 * fields: name, type, bounds, required. The pipeline checks every one of
 * them, answers 400 naming every bad field at once, and keeps the parsed
 * values; handlers read them typed (arg_*) and never parse again. The same
 * declarations print as the parameters and request bodies of
 * /v1/openapi.json.
 *
 * Rules that hold everywhere: a boolean is true, false, 1 or 0 and nothing
 * else; an empty value is never taken for a default; a parameter not
 * declared is ignored (a route with ROUTE_OPEN_QUERY reads it itself), a
 * body field not declared is refused unless the route says ROUTE_OPEN_BODY.
 */
#ifndef DYNCONF_VALIDATE_H
#define DYNCONF_VALIDATE_H

#include <stdint.h>

#include "http/http.h"

enum spec_type {
	SPEC_STRING,	/* any text; min, max bound its bytes (max 0: none) */
	SPEC_NAME,	/* a name: [A-Za-z0-9][A-Za-z0-9._-]{0,127} */
	SPEC_BOOL,	/* query: true|false|1|0; body: a JSON boolean */
	SPEC_INT,	/* a whole number from min to max */
	SPEC_OBJECT,	/* body only: a JSON object */
	SPEC_ARRAY,	/* body only: a JSON array; min, max bound its length */
	SPEC_ANY,	/* body only: any JSON value */
	SPEC_SINCE,	/* query only: a revision (digits) or an RFC 3339 time;
			 * max bounds its bytes */
};

#define SPEC_REQUIRED	0x1	/* absent is a 400 */
#define SPEC_NULLABLE	0x2	/* body: null counts as absent */

struct param_spec {
	const char	*name;		/* NULL ends a list */
	enum spec_type	 type;
	unsigned	 flags;
	long long	 min, max;
	const char	*doc;		/* one line for the OpenAPI document */
};

/* What a declared parameter or field held; in the order of its spec list. */
struct arg {
	int			 present;
	const char		*text;		/* query values, and body strings */
	long long		 number;	/* SPEC_INT */
	int			 boolean;	/* SPEC_BOOL */
	struct json_object	*json;		/* body fields (the body owns it) */
};

/*
 * Check ex's query and body against its route. -1 after answering 400 with
 * an "errors" entry for each bad parameter or field.
 */
int	validate_request(struct exchange *ex);

struct route;
/* Does the route declare a query parameter or body field of that name? */
int	validate_declares(const struct route *route, const char *name);

/*
 * The checked value of a declared query parameter or body field, by name;
 * NULL when it was not sent (or is not declared: a programming error,
 * logged).
 */
const struct arg *arg_get(const struct exchange *ex, const char *name);

/* The same, typed, with the value to use when it was not sent. */
const char	*arg_text(const struct exchange *ex, const char *name,
	    const char *absent);
long long	 arg_int(const struct exchange *ex, const char *name,
	    long long absent);
int		 arg_bool(const struct exchange *ex, const char *name, int absent);
struct json_object *arg_json(const struct exchange *ex, const char *name);

/*
 * A SPEC_SINCE value: digits are a revision (into *revision, *time_us 0),
 * anything else an RFC 3339 time (into *time_us, *revision 0; one before
 * 1970 as 0, which every row is after). -1 when it is neither.
 */
int	since_parse(const char *text, int64_t *revision, int64_t *time_us);

/* Declarations many routes share. */
#define LIST_DEFAULT_LIMIT 50
#define LIST_MAX_LIMIT 1000
#define SPEC_LIMIT { "limit", SPEC_INT, 0, 1, LIST_MAX_LIMIT, \
	"Items per page, 1 to 1000 (default 50)" }
#define SPEC_OFFSET { "offset", SPEC_INT, 0, 0, INT64_MAX / 2, \
	"Items to skip (default 0)" }
#define SPEC_FORCE { "force", SPEC_BOOL, 0, 0, 0, \
	"true: read from etcd (linearizable) instead of the replica" }
#define SPEC_ENV { "env", SPEC_NAME, 0, 0, 0, \
	"Environment (default: default; an SDK key implies its own)" }
#define SPEC_END { NULL, SPEC_STRING, 0, 0, 0, NULL }

#endif
