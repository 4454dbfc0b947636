/*
 * GET /v1/watch (API.md §6): long-poll for changes under a resource folder
 * (config/, flags/ENV/, services/NAME/), answered from the replica's event
 * log as soon as it holds a change newer than ?since=, or empty at
 * ?timeout=. A watch that must wait is handed to the node's waiting
 * process (http/wait.h), where watch_wait_kind ends it.
 */
#ifndef DYNCONF_WATCH_RESOURCE_H
#define DYNCONF_WATCH_RESOURCE_H

#include <stdint.h>

#include "http/http.h"
#include "http/wait.h"
#include "model/scope.h"

#define WATCH_MAX_EVENTS	1000	/* per answer; the client watches on */
#define WATCH_MAX_BYTES		(1024 * 1024)	/* of values per answer, likewise */
#define WATCH_DEFAULT_TIMEOUT	30	/* seconds */
#define WATCH_MAX_TIMEOUT	60

void	handle_watch(struct exchange *ex);
/* The scope a watch needs: its folder's read scope (route_scope_fn). */
enum scope	watch_scope(const struct exchange *ex);
/* How a waiting watch ends (WAIT_WATCH). */
extern const struct wait_kind watch_wait_kind;

#endif
