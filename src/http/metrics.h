/*
 * Pool-wide metrics. The counters live in one shared memory segment that
 * every process of the pool maps (anonymous and inherited in standalone
 * mode; a file that sibling processes map under spawn-fcgi), updated with
 * atomic adds, so /v1/metrics answers for the whole pool from any responder.
 */
#ifndef DYNCONF_METRICS_H
#define DYNCONF_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/shared.h"
#include "http/http.h"

/* More routes than this is a build error caught by the unit tests. */
#define METRICS_MAX_ROUTES SHARED_MAX_ROUTES

/*
 * Map the shared counters: path NULL for an anonymous mapping that children
 * inherit, else a file shared by unrelated processes. Returns 0 or -1.
 * Without a mapping the counters are process-local.
 */
int	metrics_attach(const char *path);

void	metrics_record_request(size_t route_index, enum http_method method,
	    int status, int64_t micros);

/* The responders the master runs (for the dynconf_responders gauge). */
void	metrics_set_responders(int count);

/*
 * Add count reported evaluations of flag in environment (names, checked
 * by the caller) to the pool-wide counters.
 */
void	metrics_record_flag_usage(const char *environment, const char *flag,
	    uint64_t count);

/* The Prometheus text exposition of every counter. */
void	metrics_render(struct buf *out);

#endif
