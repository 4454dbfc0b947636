/*
 * The OpenFeature Remote Evaluation Protocol (API.md §12), for the
 * OpenFeature OFREP providers: one flag, or every flag of an environment
 * with an ETag (If-None-Match: 304). Errors take the form the providers
 * parse ({"key","errorCode","errorDetails"}); 401 and 403 carry no body.
 * Credentials: Authorization: Bearer or X-API-Key, an SDK key (its
 * environment) or a token with flags:read (?env=).
 */
#ifndef DYNCONF_OFREP_RESOURCE_H
#define DYNCONF_OFREP_RESOURCE_H

#include "http/router.h"

route_handler	handle_ofrep_evaluate;
route_handler	handle_ofrep_bulk;
/* The routes' on_error: a problem document in OFREP's form. */
route_handler	ofrep_error;

#endif
