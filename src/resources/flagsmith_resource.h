/*
 * The Flagsmith SDK API (API.md §11), for Flagsmith's own SDKs pointed at
 * dynconf (apiUrl .../api/v1/) with an environment's SDK key as
 * X-Environment-Key: the environment's flags, an identity's flags with
 * its traits (stored per identity at identities/ENV/IDENTIFIER unless
 * transient), and the SDKs' analytics, counted in /v1/metrics.
 */
#ifndef DYNCONF_FLAGSMITH_RESOURCE_H
#define DYNCONF_FLAGSMITH_RESOURCE_H

#include "http/router.h"

route_handler	handle_flagsmith_flags;
route_handler	handle_flagsmith_identify;
route_handler	handle_flagsmith_identity;
route_handler	handle_flagsmith_analytics;

/* The most traits an identity keeps, and the longest identifier (bytes). */
#define IDENTITY_MAX_TRAITS	100
#define IDENTITY_MAX_LEN	256
#define TRAIT_KEY_MAX_LEN	256

#endif
