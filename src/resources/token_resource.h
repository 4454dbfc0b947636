/*
 * /v1/tokens (API.md §10): make, list and revoke API tokens. See token.h
 * for how they are stored.
 */
#ifndef DYNCONF_TOKEN_RESOURCE_H
#define DYNCONF_TOKEN_RESOURCE_H

#include "http/router.h"

route_handler	handle_token_create;
route_handler	handle_token_list;
route_handler	handle_token_delete;

#endif
