/*
 * Distributed locks over HTTP (API.md §9) and the seed's /lock/{name}; see
 * lock.h for how a holding lives in etcd. Every answer here is etcd's:
 * with etcd out of reach, each call is a 503 and nothing is held.
 *
 * wait: an acquisition may wait up to 60 s for a held lock. It waits in
 * the node's waiting process (http/wait.h), not in a responder: the first
 * try found the lock held, so the request waits there for the delete of
 * locks/NAME (a release, or its lease lapsing) that the watcher brings into
 * the replica, and then tries again, once. Nothing polls etcd meanwhile.
 * The oldest waiter of a lock tries first; a waiter that loses to another
 * caller waits on for that holder's delete.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"
#include "http/auth.h"
#include "http/wait.h"
#include "http/resource.h"
#include "model/keys.h"
#include "model/lock.h"
#include "model/token.h"
#include "resources/lock_resource.h"
#include "store/stored_doc.h"

/* The two forms of the API: /v1/locks and the seed's /lock. */
enum form { FORM_V1, FORM_SEED };

static void
add_time(struct json_object *obj, const char *name, int64_t unix_seconds)
{
	char text[32];

	format_rfc3339(unix_seconds, text, sizeof(text));
	json_object_object_add(obj, name, json_object_new_string(text));
}

/* When it lapses, for clients: null for a lock put by hand on no lease. */
static struct json_object *
expires_json(const struct lock_state *s)
{
	char text[32];

	if (s->expires_us == 0)
		return NULL;
	format_rfc3339(s->expires_us / 1000000, text, sizeof(text));
	return json_object_new_string(text);
}

/* What anyone with locks:write may see of a holding: never its token. */
static struct json_object *
lock_view(const struct lock_state *s)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "name", json_object_new_string(s->name));
	json_object_object_add(obj, "holder", s->holder != NULL ?
	    json_object_new_string(s->holder) : NULL);
	json_object_object_add(obj, "fencing_token",
	    json_object_new_int64(s->fencing_token));
	json_object_object_add(obj, "ttl", json_object_new_int64(s->ttl));
	add_time(obj, "acquired_at", s->acquired_at);
	json_object_object_add(obj, "expires_at", expires_json(s));
	json_object_object_add(obj, "revision", json_object_new_int64(s->revision));
	return obj;
}

static int
name_checked(struct exchange *ex, const char *name)
{
	if (name_valid(name))
		return 0;
	respond_problem(ex, 400, "invalid_key", "a lock name matches "
	    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
	return -1;
}

static void
respond_acquired(struct exchange *ex, enum form form,
    const struct lock_acquired *got)
{
	const struct lock_state *s = &got->state;
	struct json_object *body = json_object_new_object();

	if (form == FORM_SEED) {
		json_object_object_add(body, "mensagem",
		    json_object_new_string("Lock adquirido"));
		json_object_object_add(body, "recurso", json_object_new_string(s->name));
		json_object_object_add(body, "holder", json_object_new_string(s->holder));
		json_object_object_add(body, "token", json_object_new_string(got->token));
		json_object_object_add(body, "fencing_token",
		    json_object_new_int64(s->fencing_token));
		json_object_object_add(body, "expires_at", expires_json(s));
	} else {
		json_object_put(body);
		body = lock_view(s);
		json_object_object_add(body, "token", json_object_new_string(got->token));
	}
	respond_json(ex, form == FORM_SEED ? 200 : 201, body);
	json_object_put(body);
	if (form == FORM_V1)
		resource_etag(ex, s->revision);
}

/* 409 lock_held: who holds it, until when, and when to try again. */
static void
respond_held(struct exchange *ex, enum form form, const struct lock_state *held)
{
	int64_t left = held->expires_us - clock_realtime_us();
	struct json_object *v;
	char retry[32];

	/* The seed's "erro" is its own words here, not the detail. */
	ex->seed_errors = 0;
	respond_problem(ex, 409, "lock_held", "the lock %s is held by someone "
	    "else", held->name);
	if (form == FORM_SEED) {
		ex->seed_errors = 1;
		v = json_object_new_string("Recurso já bloqueado");
		problem_add_member(ex, "erro", v);
		json_object_put(v);
	}
	v = held->holder != NULL ? json_object_new_string(held->holder) : NULL;
	problem_add_member(ex, "holder", v);
	json_object_put(v);
	v = expires_json(held);
	problem_add_member(ex, "expires_at", v);
	json_object_put(v);
	/* Until it lapses, unless released sooner; a lock on no lease: 1 s. */
	snprintf(retry, sizeof(retry), "%lld", held->expires_us == 0 || left < 1000000 ?
	    1LL : (long long)((left + 999999) / 1000000));
	response_header(ex, "Retry-After", retry);
}

static void
lock_store_error(struct exchange *ex, enum store_result rc)
{
	if (rc == STORE_STALE)
		respond_problem(ex, 409, "not_lock_holder", "the lock is held with "
		    "another token");
	else if (rc == STORE_NOT_FOUND)
		respond_problem(ex, 404, "lock_not_found", "the lock is not held");
	else
		resource_store_error(ex, rc, "lock_not_found", "the lock");
}

/*
 * The last locks this process took, with the etcd revision of each: until
 * the replica reaches that revision it still shows them free, and every
 * other waiter of the lock would ask etcd in vain.
 */
#define TAKEN_SLOTS 64
static struct {
	char	 key[WAIT_KEY_MAX];
	int64_t	 revision;
} taken[TAKEN_SLOTS];

static size_t
taken_slot(const char *name)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return (size_t)(h % TAKEN_SLOTS);
}

static void
lock_taken_here(const char *name, int64_t revision)
{
	size_t i = taken_slot(name);

	snprintf(taken[i].key, sizeof(taken[i].key), "%s", name);
	taken[i].revision = revision;
}

static int
lock_taken_unseen(const char *name)
{
	size_t i = taken_slot(name);

	return strcmp(taken[i].key, name) == 0 &&
	    store_replica_revision() < taken[i].revision;
}

/*
 * Acquire name for holder, once; when it is held and wait (0 to 60 s) is
 * not 0, the request waits for it in the waiting process (see the top of
 * this file and lock_wait_kind below).
 */
static void
acquire(struct exchange *ex, enum form form, const char *name,
    const char *holder, int64_t ttl, int64_t wait)
{
	struct field_error error = { "holder", lock_holder_problem(holder) };
	int64_t seen = store_replica_revision();
	struct lock_acquired got;
	struct lock_state held;
	struct store_ctx ctx;
	enum store_result rc;
	char arg[WAIT_ARG_MAX];

	if (error.message != NULL) {
		respond_invalid(ex, "validation_failed", "the body is not valid: "
		    "holder must not hold control characters", &error, 1);
		return;
	}
	resource_store_ctx(ex, &ctx);
	rc = lock_try_acquire(&ctx, name, holder, ttl, &got, &held);
	if (rc == STORE_OK) {
		respond_acquired(ex, form, &got);
		lock_taken_here(got.state.name, got.state.revision);
	} else if (rc == STORE_EXISTS && wait > 0) {
		/* seen was taken before the try: the holder's delete comes after. */
		snprintf(arg, sizeof(arg), "%lld %s", (long long)ttl, holder);
		respond_wait(ex, WAIT_LOCK, lock_key(&ex->arena, name),
		    held.revision, seen, wait * 1000000, arg);
	} else if (rc == STORE_EXISTS) {
		respond_held(ex, form, &held);
	} else {
		resource_store_error(ex, rc, "lock_not_found", "the lock");
	}
	explicit_bzero(&got, sizeof(got));
}

void
handle_lock_acquire(struct exchange *ex)
{
	if (name_checked(ex, ex->params[0]) == -1)
		return;
	acquire(ex, FORM_V1, ex->params[0], arg_text(ex, "holder", ""),
	    arg_int(ex, "ttl", LOCK_TTL_DEFAULT), arg_int(ex, "wait", 0));
}

void
handle_seed_lock_acquire(struct exchange *ex)
{
	if (name_checked(ex, ex->params[0]) == -1)
		return;
	acquire(ex, FORM_SEED, ex->params[0], arg_text(ex, "holder", ""),
	    arg_int(ex, "ttl", LOCK_TTL_DEFAULT), 0);
}

void
handle_lock_get(struct exchange *ex)
{
	struct json_object *body;
	struct lock_state state;
	struct store_ctx ctx;
	enum store_result rc;

	if (name_checked(ex, ex->params[0]) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	if ((rc = lock_read(&ctx, ex->params[0], &state)) != STORE_OK) {
		lock_store_error(ex, rc);
		return;
	}
	body = lock_view(&state);
	respond_json(ex, 200, body);
	json_object_put(body);
	resource_etag(ex, state.revision);
	response_header(ex, "Cache-Control", "no-store");
}

/*
 * The token from the body or X-Lock-Token: NULL when neither holds one
 * (then *sent says whether the request tried); -1 after answering 400.
 */
static int
request_token(struct exchange *ex, const char **token)
{
	const char *body = arg_text(ex, "token", NULL), *header = ex->req.lock_token;
	struct field_error error = { "token", NULL };

	if (header != NULL && *header == '\0')
		header = NULL;
	if (body != NULL && header != NULL && strcmp(body, header) != 0)
		error.message = "the body and X-Lock-Token name different tokens";
	*token = body != NULL ? body : header;
	if (error.message == NULL && *token != NULL && !lock_token_valid(*token))
		error.message = "a lock token is dcl_ and 32 lowercase hex digits";
	if (error.message == NULL)
		return 0;
	respond_invalid(ex, "validation_failed", "the lock token is not valid",
	    &error, 1);
	return -1;
}

/* The token a refresh or a /v1 release needs; -1 after answering 400. */
static int
required_token(struct exchange *ex, const char **token)
{
	struct field_error error = { "token", "required: in the body as "
	    "{\"token\": ...} or in X-Lock-Token" };

	if (name_checked(ex, ex->params[0]) == -1 || request_token(ex, token) == -1)
		return -1;
	if (*token != NULL)
		return 0;
	respond_invalid(ex, "lock_token_required", "this needs the lock's "
	    "token", &error, 1);
	return -1;
}

void
handle_lock_refresh(struct exchange *ex)
{
	struct json_object *body;
	struct lock_state state;
	struct store_ctx ctx;
	enum store_result rc;
	const char *token;

	if (required_token(ex, &token) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	if ((rc = lock_refresh(&ctx, ex->params[0], token, &state)) != STORE_OK) {
		lock_store_error(ex, rc);
		return;
	}
	body = lock_view(&state);
	respond_json(ex, 200, body);
	json_object_put(body);
}

void
handle_lock_release(struct exchange *ex)
{
	struct lock_state state;
	struct store_ctx ctx;
	enum store_result rc;
	const char *token;

	if (required_token(ex, &token) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	if ((rc = lock_release(&ctx, ex->params[0], token, &state)) != STORE_OK)
		lock_store_error(ex, rc);
	else
		respond_empty(ex, 204);
}

/* The name the caller's API token was made with, from the replica. */
static const char *
token_name(struct exchange *ex)
{
	struct json_object *doc, *name;
	struct store_item item;
	struct store_ctx ctx;
	const char *found = "(unnamed)";
	char key[64];

	token_key(key, sizeof(key), ex->principal.token_id);
	resource_store_ctx(ex, &ctx);
	if (store_get(&ctx, key, 0, &item) != STORE_OK ||
	    (doc = stored_doc_parse(item.key, item.value, item.value_len)) == NULL)
		return found;
	if (json_object_object_get_ex(doc, "name", &name) &&
	    json_object_is_type(name, json_type_string))
		found = arena_strdup(&ex->arena, json_object_get_string(name));
	json_object_put(doc);
	return found;
}

/* Who asked, for the log: a token's name, a JWT's subject, or neither. */
static const char *
caller_name(struct exchange *ex)
{
	const struct principal *p = &ex->principal;

	if (p->kind == PRINCIPAL_TOKEN)
		return arena_concat(&ex->arena, "API token \"", token_name(ex),
		    "\" (id ", p->token_id, ")", (char *)NULL);
	if (p->kind == PRINCIPAL_JWT)
		return arena_concat(&ex->arena, "JWT sub ",
		    p->subject != NULL ? p->subject : "(none)", (char *)NULL);
	return "anyone (auth.mode = off)";
}

static void
respond_seed_released(struct exchange *ex)
{
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "mensagem", json_object_new_string("Lock liberado"));
	respond_json(ex, 200, body);
	json_object_put(body);
}

/* The seed's release without a token: admin only, and logged. */
static void
force_release(struct exchange *ex)
{
	struct lock_state state;
	struct store_ctx ctx;
	enum store_result rc;

	resource_store_ctx(ex, &ctx);
	if ((rc = lock_read(&ctx, ex->params[0], &state)) != STORE_OK &&
	    rc != STORE_CORRUPT) {
		lock_store_error(ex, rc);
		return;
	}
	if (!auth_allows(ex, SCOPE_ADMIN)) {
		auth_forbid(ex, "admin", "releasing a lock without its token is "
		    "for admin tokens only");
		return;
	}
	if ((rc = lock_force_release(&ctx, ex->params[0], &state)) != STORE_OK) {
		lock_store_error(ex, rc);
		return;
	}
	log_warn("lock %s released by force by %s (holder %s, fencing token %lld)",
	    ex->params[0], caller_name(ex), state.holder != NULL ? state.holder :
	    "(unknown)", (long long)state.fencing_token);
	respond_seed_released(ex);
}

void
handle_seed_lock_release(struct exchange *ex)
{
	struct lock_state state;
	struct store_ctx ctx;
	enum store_result rc;
	const char *token;

	if (name_checked(ex, ex->params[0]) == -1 || request_token(ex, &token) == -1)
		return;
	if (token == NULL) {
		force_release(ex);
		return;
	}
	resource_store_ctx(ex, &ctx);
	if ((rc = lock_release(&ctx, ex->params[0], token, &state)) != STORE_OK)
		lock_store_error(ex, rc);
	else
		respond_seed_released(ex);
}

/* -- in the waiting process */

/* The name, ttl and holder a waiting acquisition keeps (acquire()). */
struct lock_wait_args {
	const char	*name;
	int64_t		 ttl;
	const char	*holder;
};

static int
wait_args(const struct wait_request *req, struct lock_wait_args *a)
{
	const char *space = strchr(req->arg, ' '), *error = NULL;
	char ttl[16];

	if (strncmp(req->key, "locks/", 6) != 0 || space == NULL ||
	    (size_t)(space - req->arg) >= sizeof(ttl))
		return -1;
	memcpy(ttl, req->arg, (size_t)(space - req->arg));
	ttl[space - req->arg] = '\0';
	a->ttl = strtonum(ttl, LOCK_TTL_MIN, LOCK_TTL_MAX, &error);
	if (error != NULL)
		return -1;
	a->name = req->key + 6;
	a->holder = space + 1;
	return 0;
}

/* Only the lock's own delete (a release, or its lease lapsing) wakes it. */
static int
lock_wakes(const struct wait_request *req, const struct store_event *event)
{
	return event->deleted && strcmp(event->item.key, req->key) == 0;
}

/*
 * Try once more. WAIT_GOES_ON while someone holds it: the replica shows a
 * holder (whose delete will wake this), or this process just gave it to
 * an older waiter, or etcd says another caller was faster.
 */
static enum wait_outcome
lock_wait_look(struct exchange *ex, struct wait_request *req)
{
	struct lock_wait_args a;
	struct lock_acquired got;
	struct lock_state held;
	struct store_item item;
	struct store_ctx ctx;
	enum store_result rc;

	if (wait_args(req, &a) == -1) {
		respond_problem(ex, 500, "internal_error", "a lock wait lost its lock");
		return WAIT_ANSWERED;
	}
	resource_store_ctx(ex, &ctx);
	req->seen = store_replica_revision();
	if (lock_taken_unseen(a.name) ||
	    store_get(&ctx, req->key, 0, &item) == STORE_OK)
		return WAIT_GOES_ON;
	rc = lock_try_acquire(&ctx, a.name, a.holder, a.ttl, &got, &held);
	if (rc == STORE_EXISTS)
		return WAIT_GOES_ON;
	if (rc == STORE_OK) {
		respond_acquired(ex, FORM_V1, &got);
		lock_taken_here(a.name, got.state.revision);
	} else {
		resource_store_error(ex, rc, "lock_not_found", "the lock");
	}
	explicit_bzero(&got, sizeof(got));
	return WAIT_ANSWERED;
}

/*
 * The wait is over: one last try at its deadline (a delete the replica
 * missed still counts), else 409 as without wait. Before its deadline the
 * waiting process is stopping or reloading: 503, to retry at once.
 */
static void
lock_expire(struct exchange *ex, const struct wait_request *req, int64_t clean)
{
	struct lock_wait_args a;
	struct lock_acquired got;
	struct lock_state held;
	struct store_ctx ctx;
	enum store_result rc;

	(void)clean;
	if (clock_monotonic_us() < req->deadline_us || wait_args(req, &a) == -1) {
		respond_wait_unavailable(ex);
		return;
	}
	resource_store_ctx(ex, &ctx);
	rc = lock_try_acquire(&ctx, a.name, a.holder, a.ttl, &got, &held);
	if (rc == STORE_OK) {
		respond_acquired(ex, FORM_V1, &got);
		lock_taken_here(a.name, got.state.revision);
	} else if (rc == STORE_EXISTS) {
		respond_held(ex, FORM_V1, &held);
	} else {
		resource_store_error(ex, rc, "lock_not_found", "the lock");
	}
	explicit_bzero(&got, sizeof(got));
}

static void
lock_refuse(struct exchange *ex, const struct wait_request *req)
{
	(void)req;
	respond_wait_refused(ex, "requests");
}

const struct wait_kind lock_wait_kind = {
	.name = "lock",
	.wakes = lock_wakes,
	.look = lock_wait_look,
	.expire = lock_expire,
	.refuse = lock_refuse,
};
