/*
 * The request pipeline, the whole of what happens between a front end
 * handing over a request and writing the response: request id, routing,
 * 404/405, query and body checks (413, 415, 400), the handler, and after the
 * response is out, the log line and the metrics.
 */
#ifndef DYNCONF_API_H
#define DYNCONF_API_H

#include "http/http.h"

/*
 * Run the pipeline: on return ex->res is the complete response, unless
 * ex->wait is set (http/wait.h): then the front end hands the request on.
 */
void	api_handle(struct exchange *ex);

struct route;
/* The same over another table (the unit tests bring their own routes). */
void	api_handle_routes(struct exchange *ex, const struct route *table,
	    size_t count);

/* After the response was written: one log line and the pool's counters. */
void	api_finish(struct exchange *ex);

/*
 * The configuration changed under a running process (a responder that
 * reloads in place, under spawn-fcgi): drop what was made from the old
 * one, the JWT keys and the store's etcd client, so that the next request
 * makes them anew. (The pool's master starts new responders instead.)
 */
void	api_reload(void);

/* Is ex->req.request_id a usable incoming id ([A-Za-z0-9._-]{1,128})? */
int	request_id_valid(const char *id);

#endif
