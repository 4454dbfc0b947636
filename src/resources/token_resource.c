/*
 * API tokens over HTTP; see token_resource.h. A token is made with the
 * document and its hash index in one transaction and revoked by deleting
 * both in one transaction, so every node's replica sees it gone at once.
 * No token outranks or outlives its maker (token.h): it holds no scope the
 * maker lacks and expires no later, and nobody lists or revokes a token
 * holding a scope they lack.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/util.h"
#include "http/auth.h"
#include "http/resource.h"
#include "http/validate.h"
#include "model/keys.h"
#include "model/scope.h"
#include "model/token.h"
#include "resources/token_resource.h"
#include "store/stored_doc.h"

struct token_request {
	const char	*name;
	unsigned	 scopes;
	int64_t		 ttl;
};

static int
invalid(struct exchange *ex, const char *field, const char *message)
{
	struct field_error error = { field, message };

	respond_invalid(ex, "validation_failed", "the token request is not "
	    "valid", &error, 1);
	return -1;
}

static int
parse_scopes(struct exchange *ex, struct json_object *list, unsigned *scopes)
{
	size_t i, n;

	n = json_object_array_length(list);	/* an array of 1 to 64 */
	for (i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(list, i);
		enum scope s;

		if (!json_object_is_type(item, json_type_string) ||
		    scope_parse(json_object_get_string(item), &s) == -1)
			return invalid(ex, "scopes", "an unknown scope");
		if (*scopes & SCOPE_BIT(s))
			return invalid(ex, "scopes", "a scope is named twice");
		*scopes |= SCOPE_BIT(s);
	}
	return 0;
}

/* The checked {"name", "scopes", "ttl"} into *r; -1 after answering 400. */
static int
parse_request(struct exchange *ex, struct token_request *r)
{
	memset(r, 0, sizeof(*r));
	r->name = arg_text(ex, "name", NULL);
	r->ttl = arg_int(ex, "ttl", 0);
	return parse_scopes(ex, arg_json(ex, "scopes"), &r->scopes);
}

/* Does the caller hold every scope of scopes (all with auth.mode = off)? */
static int
holds_all(const struct exchange *ex, unsigned scopes)
{
	return ex->principal.kind == PRINCIPAL_OFF ||
	    (scope_closure(scopes) & ~ex->principal.scopes) == 0;
}

/* The scopes the caller lacks of scopes, for WWW-Authenticate. */
static const char *
lacking(struct exchange *ex, unsigned scopes)
{
	const char *text = "";
	int i;

	for (i = 1; i < SCOPE_COUNT; i++)
		if (scopes & ~ex->principal.scopes & SCOPE_BIT(i))
			text = arena_concat(&ex->arena, text, text[0] ? " " : "",
			    scope_name((enum scope)i), NULL);
	return text;
}

/* A stored document as clients see it: no hash, and whether it expired. */
static struct json_object *
token_view(struct json_object *doc, int64_t expires)
{
	json_object_object_del(doc, "sha256");
	json_object_object_del(doc, "expires");
	json_object_object_add(doc, "expired", json_object_new_boolean(expires != 0 &&
	    expires <= clock_realtime_us() / 1000000));
	return doc;
}

static void
respond_minted(struct exchange *ex, const struct token_minted *t,
    const char *doc)
{
	struct json_object *body = token_view(json_tokener_parse(doc), t->expires);

	/* The token itself, once. */
	json_object_object_add(body, "token", json_object_new_string(t->text));
	respond_json(ex, 201, body);
	json_object_put(body);
}

/*
 * What the maker records as created_by (NULL: nobody, auth.mode = off);
 * -1 after answering when it may make no token.
 */
static int
maker_of(struct exchange *ex, const char **created_by)
{
	const struct principal *p = &ex->principal;

	*created_by = NULL;
	if (p->kind == PRINCIPAL_TOKEN && p->depth >= TOKEN_MAX_DEPTH) {
		respond_problem(ex, 403, "token_chain_too_deep", "this token was "
		    "made by a chain of %d tokens; it can make no more", p->depth);
		return -1;
	}
	/* A JWT within auth.jwt_leeway: what it made would be born expired. */
	if (p->expires != 0 && p->expires <= clock_realtime_us() / 1000000) {
		respond_problem(ex, 403, "maker_expired", "this credential has "
		    "expired; a token it made would be expired too");
		return -1;
	}
	if (p->kind == PRINCIPAL_TOKEN)
		*created_by = p->token_id;
	else if (p->kind == PRINCIPAL_JWT)
		*created_by = arena_concat(&ex->arena, TOKEN_MAKER_JWT,
		    p->subject != NULL ? p->subject : "", NULL);
	return 0;
}

/* The document and its index, while the maker's token still exists. */
static void
store_token(struct exchange *ex, const struct token_minted *t, const char *doc)
{
	struct store_check checks[2];
	struct store_op ops[2];
	struct store_ctx ctx;
	enum store_result rc;
	char key[64], index[128], maker[64];
	size_t nchecks = 1, failed = 0;
	int64_t revision;

	token_key(key, sizeof(key), t->id);
	token_index_key(index, sizeof(index), t->sha256);
	memset(checks, 0, sizeof(checks));
	checks[0] = (struct store_check){ .kind = STORE_CHECK_ABSENT, .key = key };
	if (ex->principal.kind == PRINCIPAL_TOKEN) {
		token_key(maker, sizeof(maker), ex->principal.token_id);
		checks[nchecks++] = (struct store_check){
		    .kind = STORE_CHECK_PRESENT, .key = maker };
	}
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct store_op){ .kind = STORE_OP_PUT, .key = key, .value = doc, .value_len = strlen(doc) };
	ops[1] = (struct store_op){ .kind = STORE_OP_PUT, .key = index, .value = t->id, .value_len = strlen(t->id) };
	resource_store_ctx(ex, &ctx);
	rc = store_commit(&ctx, checks, nchecks, ops, 2, &revision, &failed);
	if (rc == STORE_OK)
		respond_minted(ex, t, doc);
	else if (rc == STORE_STALE && failed == 1)
		auth_refuse(ex, "the token was revoked");
	else
		resource_store_error(ex, rc == STORE_STALE ? STORE_FAILED : rc,
		    "token_not_found", "the token");
}

void
handle_token_create(struct exchange *ex)
{
	struct token_request r;
	struct token_minted t;
	const char *created_by;
	char *doc;

	if (parse_request(ex, &r) == -1)
		return;
	/* No token grants more than its maker holds... */
	if (!holds_all(ex, r.scopes)) {
		auth_forbid(ex, lacking(ex, r.scopes),
		    "a token cannot have scopes its maker lacks");
		return;
	}
	if (maker_of(ex, &created_by) == -1)
		return;
	/* ... nor outlives it: a longer ttl is cut to the maker's expiry. */
	if (token_mint(&t, r.ttl, ex->principal.expires) == -1) {
		respond_problem(ex, 500, "internal_error", "no randomness");
		return;
	}
	doc = token_doc(&t, r.name, r.scopes, created_by);
	store_token(ex, &t, doc);
	explicit_bzero(&t, sizeof(t));
	free(doc);
}

/* A stored token the caller may see, parsed, or NULL. */
static struct json_object *
visible_token(const struct exchange *ex, const struct store_item *item,
    int64_t *expires)
{
	/* A corrupt document is left out (and logged), as in every list. */
	struct json_object *doc = stored_doc_parse(item->key, item->value,
	    item->value_len);
	struct token_info info;

	if (doc == NULL || token_info(doc, &info) == -1 ||
	    !holds_all(ex, info.scopes)) {
		json_object_put(doc);
		return NULL;
	}
	*expires = info.expires;
	return doc;
}

/*
 * The visible tokens from offset (at most limit into items) and how many
 * there are. Which count depends on the caller, so all are read, a store
 * page at a time, each page in an arena of its own.
 */
static enum store_result
list_visible(struct exchange *ex, struct store_ctx *ctx, int64_t limit,
    int64_t offset, struct json_object *items, int64_t *total)
{
	struct arena *own = ctx->arena;
	enum store_result rc = STORE_OK;
	int64_t start, stored = 1, expires = 0;

	*total = 0;
	for (start = 0; rc == STORE_OK && start < stored; start += LIST_MAX_LIMIT) {
		struct arena page;
		struct store_item *found;
		size_t count = 0, i;

		arena_init(&page);
		ctx->arena = &page;
		rc = store_list(ctx, "tokens/", LIST_MAX_LIMIT, start, &found,
		    &count, &stored);
		for (i = 0; rc == STORE_OK && i < count; i++) {
			struct json_object *doc = visible_token(ex, &found[i],
			    &expires);

			if (doc == NULL)
				continue;
			if (*total >= offset && *total - offset < limit)
				json_object_array_add(items, token_view(doc, expires));
			else
				json_object_put(doc);
			(*total)++;
		}
		arena_free(&page);
		if (count == 0)
			break;
	}
	ctx->arena = own;
	return rc;
}

void
handle_token_list(struct exchange *ex)
{
	struct json_object *items;
	struct store_ctx ctx;
	enum store_result rc;
	int64_t limit, offset, total;

	resource_pagination(ex, &limit, &offset);
	resource_store_ctx(ex, &ctx);
	items = json_object_new_array();
	rc = list_visible(ex, &ctx, limit, offset, items, &total);
	if (rc != STORE_OK) {
		json_object_put(items);
		resource_store_error(ex, rc, "token_not_found", "the token");
		return;
	}
	resource_respond_list(ex, &ctx, items, total, limit, offset);
}

/*
 * The stored token named by the path, read from etcd: 1, or 0 for a corrupt
 * document (logged; its scopes unknown, so only admin may delete it), or -1
 * after answering.
 */
static int
read_target(struct exchange *ex, struct store_ctx *ctx, const char *key,
    struct store_item *item, struct token_info *info)
{
	struct json_object *doc;
	enum store_result rc;
	int ok;

	/* Forced: revoking must not miss a token this replica has not seen yet. */
	if ((rc = store_get(ctx, key, 1, item)) != STORE_OK) {
		resource_store_error(ex, rc, "token_not_found", "the token");
		return -1;
	}
	ok = (doc = stored_doc_parse(item->key, item->value, item->value_len)) !=
	    NULL && token_info(doc, info) == 0;
	json_object_put(doc);
	if (!ok) {
		if (auth_allows(ex, SCOPE_ADMIN))
			return 0;
		auth_forbid(ex, "admin", "only admin may delete a corrupt token");
		return -1;
	}
	if (!holds_all(ex, info->scopes)) {
		auth_forbid(ex, lacking(ex, info->scopes),
		    "a token with scopes the caller lacks cannot be revoked by it");
		return -1;
	}
	return 1;
}

void
handle_token_delete(struct exchange *ex)
{
	struct store_check check = { .kind = STORE_CHECK_REVISION };
	struct store_op ops[2];
	struct store_item item;
	struct store_ctx ctx;
	struct token_info info;
	enum store_result rc;
	char key[64], index[128] = "";
	int64_t revision;
	size_t failed;
	int nops;

	if (!name_valid(ex->params[0]) || strlen(ex->params[0]) > 32) {
		respond_problem(ex, 404, "token_not_found", "no such token");
		return;
	}
	token_key(key, sizeof(key), ex->params[0]);
	resource_store_ctx(ex, &ctx);
	/* A corrupt document names no index entry: the token goes alone. */
	if ((nops = read_target(ex, &ctx, key, &item, &info)) == -1)
		return;
	nops++;
	if (nops == 2)
		token_index_key(index, sizeof(index), info.sha256);
	check.key = key;
	check.revision = item.mod_revision;
	memset(ops, 0, sizeof(ops));
	ops[0].kind = ops[1].kind = STORE_OP_DELETE;
	ops[0].key = key;
	ops[1].key = index;
	rc = store_commit(&ctx, &check, 1, ops, (size_t)nops, &revision, &failed);
	if (rc == STORE_OK)
		respond_empty(ex, 204);
	else if (rc == STORE_STALE)
		respond_problem(ex, 409, "conflict", "the token changed; try again");
	else
		resource_store_error(ex, rc, "token_not_found", "the token");
}
