/*
 * GET /v1/whoami: who the request's credential names and what it may do,
 * for clients that offer only what their caller may take (the admin UI).
 * Our addition to the contract (API.md §2).
 */
#ifndef DYNCONF_WHOAMI_RESOURCE_H
#define DYNCONF_WHOAMI_RESOURCE_H

#include "http/router.h"

route_handler	handle_whoami;

#endif
