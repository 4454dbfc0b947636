/*
 * The OpenAPI 3.1 document, generated from the route table so that it can
 * never drift from what the router serves.
 */
#ifndef DYNCONF_OPENAPI_H
#define DYNCONF_OPENAPI_H

#include <stddef.h>

#include "http/router.h"

struct json_object;

/* A new document for the routes (the caller puts it). */
struct json_object *openapi_document(const struct route *table, size_t count);

#endif
