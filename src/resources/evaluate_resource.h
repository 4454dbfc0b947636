/*
 * Flag evaluation over HTTP (API.md §5): one flag for a context (POST with
 * {"context":{...}}, or GET with the attributes as query parameters), or
 * every flag of an environment at once.
 */
#ifndef DYNCONF_EVALUATE_RESOURCE_H
#define DYNCONF_EVALUATE_RESOURCE_H

#include "http/router.h"

route_handler	handle_flag_evaluate;
route_handler	handle_evaluate_all;

struct json_object;

/*
 * The evaluation context of a request: the body's "context" object (its
 * targetingKey a string or a number), or for GET the query's undeclared
 * parameters. A new reference, NULL for none; -1 after answering 400
 * invalid_context.
 */
int	evaluate_request_context(struct exchange *ex, struct json_object **context);

/* Is every string in value at most FLAG_MAX_REGEX_SUBJECT bytes? */
int	evaluate_context_fits(struct json_object *value);

#endif
