/*
 * Requests that wait; see wait.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/conf.h"
#include "base/util.h"
#include "http/router.h"
#include "http/wait.h"

/* Copy src into a field of cap bytes; -1 when it does not fit. */
static int
copy_field(char *dst, size_t cap, const char *src)
{
	size_t len = strlen(src);

	if (len >= cap)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

/*
 * Who made a request that waits, kept with it: what the waiting process
 * needs to name them in the audit trail when it acts for them (a lock).
 */
static void
principal_keep(struct wait_request *req, const struct principal *p)
{
	const char *name = p->kind == PRINCIPAL_TOKEN ? p->token_name :
	    p->kind == PRINCIPAL_JWT ? p->subject :
	    p->kind == PRINCIPAL_SDK_KEY ? p->environment : NULL;

	req->principal = (uint32_t)p->kind;
	snprintf(req->principal_name, sizeof(req->principal_name), "%s",
	    name != NULL ? name : "");
	snprintf(req->token_id, sizeof(req->token_id), "%s",
	    p->token_id != NULL ? p->token_id : "");
}

static void
principal_restore(struct exchange *ex, const struct wait_request *req)
{
	const char *name = req->principal_name[0] != '\0' ?
	    arena_strdup(&ex->arena, req->principal_name) : NULL;

	ex->principal.kind = (enum principal_kind)req->principal;
	if (req->token_id[0] != '\0')
		ex->principal.token_id = arena_strdup(&ex->arena, req->token_id);
	if (ex->principal.kind == PRINCIPAL_TOKEN)
		ex->principal.token_name = name;
	else if (ex->principal.kind == PRINCIPAL_JWT)
		ex->principal.subject = name;
	else if (ex->principal.kind == PRINCIPAL_SDK_KEY)
		ex->principal.environment = name;
}

void
respond_wait(struct exchange *ex, enum wait_kind_id kind, const char *key,
    int64_t since, int64_t seen, int64_t timeout_us, const char *arg)
{
	struct wait_request *req = arena_alloc(&ex->arena, sizeof(*req));
	const char *path = ex->req.path != NULL ? ex->req.path : "";

	req->kind = (uint32_t)kind;
	req->route = (uint32_t)route_index(ex->route);
	req->method = (uint32_t)ex->method;
	req->started_us = ex->started_us;
	req->deadline_us = clock_monotonic_us() + timeout_us;
	req->since = since;
	req->seen = seen;
	/* A path too long for the log line is cut there; it is only logged. */
	snprintf(req->path, sizeof(req->path), "%s", path);
	principal_keep(req, &ex->principal);
	if (copy_field(req->request_id, sizeof(req->request_id), ex->request_id) == -1 ||
	    copy_field(req->key, sizeof(req->key), key) == -1 ||
	    copy_field(req->arg, sizeof(req->arg), arg != NULL ? arg : "") == -1) {
		respond_problem(ex, 500, "internal_error", "this request cannot wait: "
		    "what it waits for is longer than a wait may name");
		return;
	}
	ex->wait = req;
}

void
respond_wait_refused(struct exchange *ex, const char *what)
{
	respond_problem(ex, 429, "too_many_watches", "as many %s as this node "
	    "allows (server.max_watches = %d) are waiting already; retry", what,
	    conf.server.max_watches);
	response_header(ex, "Retry-After", "1");
}

void
respond_wait_unavailable(struct exchange *ex)
{
	ex->wait = NULL;
	respond_problem(ex, 503, "wait_unavailable", "this node's waiting process "
	    "is not running (it is being restarted, or the pool is stopping); retry");
	response_header(ex, "Retry-After", "1");
}

/* Is the field NUL-terminated within its bytes? */
static int
terminated(const char *field, size_t cap)
{
	return memchr(field, '\0', cap) != NULL;
}

int
wait_request_check(struct wait_request *req)
{
	if (req->kind >= WAIT_KIND_MAX || wait_kinds[req->kind] == NULL ||
	    req->route >= route_count)
		return -1;
	if (!terminated(req->request_id, sizeof(req->request_id)) ||
	    !terminated(req->path, sizeof(req->path)) ||
	    !terminated(req->key, sizeof(req->key)) ||
	    !terminated(req->arg, sizeof(req->arg)) || req->key[0] == '\0' ||
	    !terminated(req->principal_name, sizeof(req->principal_name)) ||
	    !terminated(req->token_id, sizeof(req->token_id)) ||
	    req->principal > PRINCIPAL_SDK_KEY)
		return -1;
	/* One method that has a name. */
	if (http_method_parse(http_method_name((enum http_method)req->method)) !=
	    (enum http_method)req->method || req->method == HTTP_OTHER)
		return -1;
	return 0;
}

void
wait_exchange(struct exchange *ex, const struct wait_request *req)
{
	exchange_init(ex);
	ex->started_us = req->started_us;
	ex->deadline_us = clock_monotonic_us() + (int64_t)conf.server.request_timeout * 1000;
	ex->method = (enum http_method)req->method;
	ex->route = &route_table[req->route];
	ex->req.method = http_method_name(ex->method);
	ex->req.path = arena_strdup(&ex->arena, req->path);
	snprintf(ex->request_id, sizeof(ex->request_id), "%s", req->request_id);
	response_header(ex, "X-Request-Id", ex->request_id);
	principal_restore(ex, req);
}
