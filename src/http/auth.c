/*
 * Authentication and authorization; see auth.h.
 *
 * Tokens are looked up by their SHA-256 through the replica (store_get,
 * never etcd on the request path), so a revocation, which deletes the
 * index entry, reaches every node as fast as the watcher brings it, and
 * the stored hash is compared to the presented one in constant time.
 * Nothing here logs a token: only its kind and, on failure, the reason.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "base/conf.h"
#include "base/digest.h"
#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "http/auth.h"
#include "http/jwt.h"
#include "http/resource.h"
#include "http/router.h"
#include "model/environment.h"
#include "model/keys.h"
#include "model/token.h"
#include "store/stored_doc.h"

#define BEARER_MAX_LEN		8192

enum verdict { AUTH_OK, AUTH_INVALID, AUTH_FAILED };

/*
 * Credentials this process verified, by the SHA-256 of their text: while
 * the replica has not changed since (neither the watcher's revision nor a
 * responder's own write-through moved), a request skips the two replica
 * reads. Any change at all, a revocation or rotation among them, makes
 * every entry verify again, so the cache never outlives what it read.
 */
#define CREDENTIAL_SLOTS	256
#define CREDENTIAL_TTL_US	5000000

struct credential {
	char		 sha256[DIGEST_SHA256_HEX_LEN + 1];	/* "" when empty */
	enum principal_kind kind;
	unsigned	 scopes;
	int64_t		 expires;	/* unix seconds, 0 never (tokens) */
	int		 depth;		/* tokens */
	char		 token_id[2 * TOKEN_ID_BYTES + 1];	/* tokens */
	char		 token_name[NAME_MAX_LEN + 1];	/* tokens, "" for none */
	char		 environment[NAME_MAX_LEN + 1];	/* SDK keys */
	int64_t		 verified_us;	/* monotonic */
	struct store_generation generation;	/* the replica as it was then */
};

static struct credential credentials[CREDENTIAL_SLOTS];

/* The slot is the hash's first byte (its first two lowercase hex digits). */
static struct credential *
credential_slot(const char *sha256)
{
	unsigned hi = sha256[0] <= '9' ? (unsigned)(sha256[0] - '0') :
	    (unsigned)(sha256[0] - 'a' + 10);
	unsigned lo = sha256[1] <= '9' ? (unsigned)(sha256[1] - '0') :
	    (unsigned)(sha256[1] - 'a' + 10);

	return &credentials[((hi << 4) | lo) % CREDENTIAL_SLOTS];
}

/* A fresh enough verdict for this hash: the principal is set from it. */
static int
credential_cached(struct exchange *ex, const char *sha256)
{
	struct credential *c = credential_slot(sha256);

	if (c->sha256[0] == '\0' || strcmp(c->sha256, sha256) != 0 ||
	    !store_generation_current(&c->generation) ||
	    clock_monotonic_us() - c->verified_us >= CREDENTIAL_TTL_US ||
	    (c->expires != 0 && c->expires <= clock_realtime_us() / 1000000))
		return 0;
	ex->principal.kind = c->kind;
	ex->principal.scopes = c->scopes;
	ex->principal.environment = c->kind == PRINCIPAL_SDK_KEY ?
	    arena_strdup(&ex->arena, c->environment) : NULL;
	ex->principal.token_id = c->kind == PRINCIPAL_TOKEN ?
	    arena_strdup(&ex->arena, c->token_id) : NULL;
	ex->principal.token_name = c->kind == PRINCIPAL_TOKEN && c->token_name[0] ?
	    arena_strdup(&ex->arena, c->token_name) : NULL;
	ex->principal.expires = c->expires;
	ex->principal.depth = c->depth;
	return 1;
}

/*
 * Remember a verdict reached from the replica at generation, taken before
 * the lookups: a change landing during them then already invalidates it.
 */
static void
credential_remember(const struct exchange *ex, const char *sha256,
    const struct store_generation *generation)
{
	struct credential *c = credential_slot(sha256);

	memset(c, 0, sizeof(*c));
	snprintf(c->sha256, sizeof(c->sha256), "%s", sha256);
	c->generation = *generation;
	c->kind = ex->principal.kind;
	c->scopes = ex->principal.scopes;
	c->expires = ex->principal.expires;
	c->depth = ex->principal.depth;
	if (ex->principal.token_id != NULL)
		snprintf(c->token_id, sizeof(c->token_id), "%s",
		    ex->principal.token_id);
	if (ex->principal.token_name != NULL)
		snprintf(c->token_name, sizeof(c->token_name), "%s",
		    ex->principal.token_name);
	if (ex->principal.environment != NULL)
		snprintf(c->environment, sizeof(c->environment), "%s",
		    ex->principal.environment);
	c->verified_us = clock_monotonic_us();
}

static void
respond_unauthenticated(struct exchange *ex, int invalid, const char *detail)
{
	respond_problem(ex, 401, "unauthenticated", "%s", detail);
	response_header(ex, "WWW-Authenticate", invalid ?
	    "Bearer error=\"invalid_token\"" : "Bearer");
}

void
auth_refuse(struct exchange *ex, const char *detail)
{
	respond_unauthenticated(ex, 1, detail);
}

void
auth_forbid(struct exchange *ex, const char *needed, const char *detail)
{
	respond_problem(ex, 403, "insufficient_scope", "%s", detail);
	response_header(ex, "WWW-Authenticate", arena_printf(&ex->arena,
	    "Bearer error=\"insufficient_scope\", scope=\"%s\"", needed));
}

int
auth_allows(const struct exchange *ex, enum scope scope)
{
	if (ex->principal.kind == PRINCIPAL_OFF)
		return 1;
	return (ex->principal.scopes & SCOPE_BIT(scope)) != 0;
}

/* RFC 6750 §2.1: "Bearer" 1*SP b64token; NULL when malformed. */
static const char *
bearer_token(const char *header)
{
	const char *t;
	size_t n;

	if (strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	for (t = header + 7; *t == ' '; t++)
		;
	n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~+/");
	n += strspn(t + n, "=");
	if (n == 0 || t[n] != '\0' || n > BEARER_MAX_LEN)
		return NULL;
	return t;
}

/* A store failure while looking up: answered as the store's error. */
static enum verdict
lookup_failed(struct exchange *ex, enum store_result rc)
{
	if (rc == STORE_NOT_FOUND)
		return AUTH_INVALID;
	resource_store_error(ex, rc, "unauthenticated", "the token");
	return AUTH_FAILED;
}

/* The earlier of two expiries, 0 meaning never. */
static int64_t
earlier(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	return b == 0 || a < b ? a : b;
}

/* tokens/<id> from the replica, while it has not expired. */
static enum verdict
token_read(struct exchange *ex, struct store_ctx *ctx, const char *id,
    int64_t now, struct token_info *info)
{
	char key[128];
	struct json_object *doc;
	struct store_item item;
	enum store_result rc;
	int ok;

	if (!token_id_valid(id))
		return AUTH_INVALID;
	token_key(key, sizeof(key), id);
	if ((rc = store_get(ctx, key, 0, &item)) != STORE_OK)
		return lookup_failed(ex, rc);
	if ((doc = stored_doc_parse(item.key, item.value, item.value_len)) == NULL)
		return AUTH_INVALID;
	ok = token_info(doc, info) == 0 &&
	    (info->expires == 0 || info->expires > now);
	json_object_put(doc);
	return ok ? AUTH_OK : AUTH_INVALID;
}

/*
 * Every token up the created_by chain from info must still exist and not
 * have expired: revoking a token revokes all made under it. The principal's
 * expiry becomes the earliest on the way, its depth the chain's length.
 */
static enum verdict
verify_makers(struct exchange *ex, struct store_ctx *ctx,
    const struct token_info *info, int64_t now)
{
	struct token_info maker;
	char id[TOKEN_MAKER_MAX + 1];
	enum verdict v;

	ex->principal.expires = info->expires;
	ex->principal.depth = 0;
	snprintf(id, sizeof(id), "%s", info->created_by);
	/* A JWT's or no maker ends the chain. */
	while (id[0] != '\0' &&
	    strncmp(id, TOKEN_MAKER_JWT, strlen(TOKEN_MAKER_JWT)) != 0) {
		if (++ex->principal.depth > TOKEN_MAX_DEPTH)
			return AUTH_INVALID;
		if ((v = token_read(ex, ctx, id, now, &maker)) != AUTH_OK)
			return v;
		ex->principal.expires = earlier(ex->principal.expires, maker.expires);
		snprintf(id, sizeof(id), "%s", maker.created_by);
	}
	return AUTH_OK;
}

static enum verdict
verify_api_token(struct exchange *ex, const char *text)
{
	char hash[DIGEST_SHA256_HEX_LEN + 1], key[128];
	struct token_info info;
	struct store_item item;
	struct store_ctx ctx;
	enum store_result rc;
	enum verdict v;
	struct store_generation generation;
	int64_t now = clock_realtime_us() / 1000000;

	if (strlen(text) != TOKEN_TEXT_LEN)
		return AUTH_INVALID;
	digest_sha256_hex(text, strlen(text), hash);
	if (credential_cached(ex, hash))
		return AUTH_OK;
	generation = store_generation();
	resource_store_ctx(ex, &ctx);
	token_index_key(key, sizeof(key), hash);
	if ((rc = store_get(&ctx, key, 0, &item)) != STORE_OK)
		return lookup_failed(ex, rc);
	if ((v = token_read(ex, &ctx, item.value, now, &info)) != AUTH_OK)
		return v;
	if (CRYPTO_memcmp(info.sha256, hash, DIGEST_SHA256_HEX_LEN) != 0)
		return AUTH_INVALID;
	if ((v = verify_makers(ex, &ctx, &info, now)) != AUTH_OK)
		return v;
	ex->principal.kind = PRINCIPAL_TOKEN;
	ex->principal.scopes = scope_closure(info.scopes);
	ex->principal.token_id = arena_strdup(&ex->arena, item.value);
	ex->principal.token_name = info.name[0] != '\0' ?
	    arena_strdup(&ex->arena, info.name) : NULL;
	credential_remember(ex, hash, &generation);
	return AUTH_OK;
}

static enum verdict
verify_sdk_key(struct exchange *ex, const char *text)
{
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	struct store_ctx ctx;
	enum store_result rc;
	const char *env;
	struct store_generation generation;

	digest_sha256_hex(text, strlen(text), hash);
	if (credential_cached(ex, hash))
		return AUTH_OK;
	generation = store_generation();
	resource_store_ctx(ex, &ctx);
	if ((rc = environment_of_sdk_key(&ctx, hash, &env)) != STORE_OK)
		return lookup_failed(ex, rc);
	ex->principal.kind = PRINCIPAL_SDK_KEY;
	ex->principal.environment = env;
	ex->principal.scopes = 0;
	credential_remember(ex, hash, &generation);
	return AUTH_OK;
}

static enum verdict
verify_jwt(struct exchange *ex, const char *text)
{
	const char *why;
	struct jwt_claims claims;

	if (jwt_verify(text, &claims, &why) == -1) {
		log_debug("request %s: JWT refused: %s", ex->request_id, why);
		return AUTH_INVALID;
	}
	ex->principal.kind = PRINCIPAL_JWT;
	ex->principal.scopes = scope_closure(claims.scopes);
	ex->principal.expires = claims.exp;	/* > 0: it was not expired */
	ex->principal.subject = claims.sub[0] != '\0' ?
	    arena_strdup(&ex->arena, claims.sub) : NULL;
	return AUTH_OK;
}

/* Who the token names; AUTH_FAILED after answering. */
static enum verdict
authenticate(struct exchange *ex, const char *token)
{
	if (strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0)
		return verify_api_token(ex, token);
	if (strncmp(token, SDK_KEY_PREFIX, strlen(SDK_KEY_PREFIX)) == 0)
		return verify_sdk_key(ex, token);
	if (strchr(token, '.') != NULL)
		return verify_jwt(ex, token);
	return AUTH_INVALID;
}

/* May this principal call this route? */
static int
authorize(struct exchange *ex)
{
	enum scope needed = ex->route->scope_by_request != NULL ?
	    ex->route->scope_by_request(ex) : ex->route->scope;

	if (ex->route->flags & ROUTE_ANY_CREDENTIAL)
		return 0;
	if (ex->principal.kind == PRINCIPAL_SDK_KEY) {
		if (ex->route->flags & ROUTE_SDK_KEY)
			return 0;
		auth_forbid(ex, scope_name(needed),
		    "an SDK key may only evaluate flags in its environment");
		return -1;
	}
	if (auth_allows(ex, needed))
		return 0;
	auth_forbid(ex, scope_name(needed), arena_printf(&ex->arena,
	    "this route needs the %s scope", scope_name(needed)));
	return -1;
}

static void
authorize_everything(struct exchange *ex)
{
	ex->principal.kind = PRINCIPAL_OFF;
	ex->principal.scopes = scope_closure(SCOPE_BIT(SCOPE_ADMIN));
}

/*
 * The Flagsmith SDK API (§11): X-Environment-Key is an SDK key and names
 * the environment; anything else is the 403 Flagsmith answers, which its
 * SDKs take for "use the default flags". With auth.mode = off a missing
 * or unknown key means the default environment.
 */
static int
flagsmith_check(struct exchange *ex)
{
	const char *key = ex->req.environment_key;

	if (key != NULL && strncmp(key, SDK_KEY_PREFIX,
	    strlen(SDK_KEY_PREFIX)) == 0 && strlen(key) <= BEARER_MAX_LEN) {
		switch (verify_sdk_key(ex, key)) {
		case AUTH_OK:
			return 0;
		case AUTH_FAILED:
			return -1;
		case AUTH_INVALID:
			break;
		}
	}
	if (conf.auth.mode == AUTH_MODE_OFF) {
		authorize_everything(ex);
		return 0;
	}
	ex->res.status = 403;
	ex->res.content_type = "application/json";
	buf_reset(&ex->res.body);
	buf_puts(&ex->res.body, "{\"detail\":\"Invalid or missing Environment key\"}");
	return -1;
}

/* The Authorization header, or for OFREP an X-API-Key as "Bearer KEY". */
static const char *
credential_header(struct exchange *ex)
{
	const char *key = ex->req.api_key;

	if ((ex->req.authorization == NULL || ex->req.authorization[0] == '\0') &&
	    (ex->route->flags & ROUTE_OFREP) && key != NULL && key[0] != '\0')
		return arena_concat(&ex->arena, "Bearer ", key, (char *)NULL);
	return ex->req.authorization;
}

int
auth_check(struct exchange *ex)
{
	const char *token, *header;

	if (ex->route->scope == SCOPE_PUBLIC &&
	    !(ex->route->flags & ROUTE_ANY_CREDENTIAL))
		return 0;
	if (ex->route->flags & ROUTE_FLAGSMITH)
		return flagsmith_check(ex);
	if (conf.auth.mode == AUTH_MODE_OFF) {
		authorize_everything(ex);
		return 0;
	}
	header = credential_header(ex);
	if (header == NULL || header[0] == '\0') {
		respond_unauthenticated(ex, 0, "send Authorization: Bearer <token>");
		return -1;
	}
	if ((token = bearer_token(header)) == NULL) {
		respond_unauthenticated(ex, 1,
		    "the Authorization header is not \"Bearer <token>\"");
		return -1;
	}
	switch (authenticate(ex, token)) {
	case AUTH_OK:
		return authorize(ex);
	case AUTH_INVALID:
		respond_unauthenticated(ex, 1,
		    "the token is unknown, expired, revoked or malformed");
		return -1;
	case AUTH_FAILED:
		break;
	}
	return -1;
}
