/*
 * GET /v1/watch (API.md §6): long-poll for changes under a resource folder
 * (config/, flags/ENV/, services/NAME/), answered from the replica's event
 * log as soon as it holds a change newer than ?since=, or empty at
 * ?timeout=. Watches that wait take a slot in a pool-wide table capped by
 * server.max_watches, so they can never occupy every responder.
 */
#ifndef DYNCONF_WATCH_RESOURCE_H
#define DYNCONF_WATCH_RESOURCE_H

#include <stdint.h>

#include "http.h"

#define WATCH_MAX_EVENTS	1000	/* per answer; the client watches on */
#define WATCH_MAX_BYTES		(1024 * 1024)	/* of values per answer, likewise */
#define WATCH_DEFAULT_TIMEOUT	30	/* seconds */
#define WATCH_MAX_TIMEOUT	60

void	handle_watch(struct exchange *ex);

/*
 * For the metrics: watches waiting now, pool-wide (slots left behind by a
 * responder that was killed while waiting are freed on the way), and
 * watches refused with 429 so far.
 */
int64_t	watch_waiting(void);
uint64_t watch_refused(void);

#endif
