/*
 * Requests that wait. A handler that has nothing to answer yet (a watch
 * before its change, a lock wait before the holder leaves) describes what
 * it waits for in a struct wait_request and returns without an answer. The
 * front end then hands the request, connection and all, to the node's one
 * waiting process, whose wait room (http/wait_room.h) holds every waiting
 * request and answers each through its kind when its change comes, its
 * deadline passes or the room closes. The responder goes back to work at
 * once: a waiting request costs a file descriptor and a few hundred bytes,
 * not a process.
 *
 * A struct wait_request is plain data of fixed size: it crosses from one
 * process to the other as the bytes of one message.
 */
#ifndef DYNCONF_WAIT_H
#define DYNCONF_WAIT_H

#include <stdint.h>

#include "base/shared.h"
#include "http/http.h"

struct store_event;

/* The kinds of waits; wait_kinds[] (resources/routes.c) says how each ends. */
enum wait_kind_id {
	WAIT_WATCH = 1,		/* GET /v1/watch (resources/watch_resource.c) */
	WAIT_LOCK = 2,		/* POST /v1/locks/{name} with wait (lock_resource.c) */
	WAIT_KIND_MAX = SHARED_WAIT_KINDS
};

#define WAIT_PATH_MAX	256	/* of the request path, for its log line */
#define WAIT_KEY_MAX	640	/* a store key or key prefix */
#define WAIT_ARG_MAX	512	/* what else a kind keeps */
#define WAIT_PRINCIPAL_MAX 255	/* a JWT's sub, the longest name kept */

struct wait_request {
	uint32_t	kind;		/* enum wait_kind_id */
	uint32_t	route;		/* its index in route_table */
	uint32_t	method;		/* enum http_method */
	uint32_t	reserved;
	int64_t		started_us;	/* monotonic: when the request came in */
	int64_t		deadline_us;	/* monotonic: when it ends, changed or not */
	int64_t		since;		/* changes after this revision end it */
	int64_t		seen;		/* the replica revision up to which the
					 * handler found nothing */
	char		request_id[REQUEST_ID_MAX + 1];
	/* Who asked (what the audit trail names): its kind and name. */
	uint32_t	principal;	/* enum principal_kind */
	uint32_t	reserved2;
	char		principal_name[WAIT_PRINCIPAL_MAX + 1];	/* token name, sub, env */
	char		token_id[WAIT_PRINCIPAL_MAX + 1];	/* API tokens */
	char		path[WAIT_PATH_MAX];
	char		key[WAIT_KEY_MAX];	/* changes to keys under it wake it */
	char		arg[WAIT_ARG_MAX];
};

enum wait_outcome { WAIT_ANSWERED, WAIT_GOES_ON };

/*
 * How a kind of wait ends. Every function answers into a fresh exchange
 * that carries the request's id, method and route (wait_exchange()).
 */
struct wait_kind {
	const char	*name;
	/* May this change end the wait? (Its key starts with req->key.) */
	int		(*wakes)(const struct wait_request *req,
			    const struct store_event *event);
	/*
	 * Look in the replica: answer ex, or WAIT_GOES_ON with req->seen
	 * moved to the revision the look found nothing up to.
	 */
	enum wait_outcome (*look)(struct exchange *ex, struct wait_request *req);
	/*
	 * Nothing happened up to revision clean (the deadline passed, or the
	 * waiting process stops or reloads): answer that.
	 */
	void		(*expire)(struct exchange *ex, const struct wait_request *req,
			    int64_t clean);
	/* The room is full: answer 429 with Retry-After. */
	void		(*refuse)(struct exchange *ex, const struct wait_request *req);
};

/* Indexed by enum wait_kind_id; NULL where no kind is. */
extern const struct wait_kind *const wait_kinds[WAIT_KIND_MAX];

/*
 * For a handler: wait for changes under key after revision since (the
 * handler has looked up to seen and found none), at most timeout_us. arg is
 * the kind's own text (NULL: none). The exchange gets no answer.
 */
void	respond_wait(struct exchange *ex, enum wait_kind_id kind, const char *key,
	    int64_t since, int64_t seen, int64_t timeout_us, const char *arg);

/* For a kind's refuse: 429 too_many_watches, Retry-After 1; what waits. */
void	respond_wait_refused(struct exchange *ex, const char *what);

/*
 * For a front end that could not hand a waiting request over (no waiting
 * process): 503 wait_unavailable with Retry-After, in place of the wait.
 */
void	respond_wait_unavailable(struct exchange *ex);

/*
 * Is a request read from another process well formed (strings terminated,
 * a known kind and route)? 0 or -1.
 */
int	wait_request_check(struct wait_request *req);

/*
 * ex, initialised, as the request's own exchange: id, method, route, path
 * and start time, with X-Request-Id set, for a kind to answer into and
 * api_finish() to log and count.
 */
void	wait_exchange(struct exchange *ex, const struct wait_request *req);

#endif
