/*
 * API tokens over HTTP; see token_resource.h. A token is made with the
 * document and its hash index in one transaction and revoked by deleting
 * both in one transaction, so every node's replica sees it gone at once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "auth.h"
#include "keys.h"
#include "resource.h"
#include "scope.h"
#include "stored_doc.h"
#include "token.h"
#include "token_resource.h"
#include "util.h"

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

	if (!json_object_is_type(list, json_type_array) ||
	    (n = json_object_array_length(list)) == 0)
		return invalid(ex, "scopes", "a non-empty array of scope names");
	for (i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(list, i);
		enum scope s;

		if (!json_object_is_type(item, json_type_string) ||
		    scope_parse(json_object_get_string(item), &s) == -1)
			return invalid(ex, "scopes", "an unknown scope");
		*scopes |= SCOPE_BIT(s);
	}
	return 0;
}

/* {"name", "scopes", "ttl"} into *r; -1 after answering 400. */
static int
parse_request(struct exchange *ex, struct token_request *r)
{
	struct json_object *v;

	memset(r, 0, sizeof(*r));
	if (ex->json == NULL || !json_object_is_type(ex->json, json_type_object))
		return invalid(ex, "name", "the body must be {\"name\": ..., "
		    "\"scopes\": [...], \"ttl\": seconds}");
	json_object_object_foreach(ex->json, field, value) {
		(void)value;
		if (strcmp(field, "name") != 0 && strcmp(field, "scopes") != 0 &&
		    strcmp(field, "ttl") != 0)
			return invalid(ex, arena_strdup(&ex->arena, field),
			    "unknown field");
	}
	if (!json_object_object_get_ex(ex->json, "name", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !name_valid(r->name = json_object_get_string(v)))
		return invalid(ex, "name", "must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
	if (!json_object_object_get_ex(ex->json, "scopes", &v) ||
	    parse_scopes(ex, v, &r->scopes) == -1)
		return ex->res.status != 0 ? -1 :
		    invalid(ex, "scopes", "required");
	if (json_object_object_get_ex(ex->json, "ttl", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_int) ||
		    (r->ttl = json_object_get_int64(v)) < 1 || r->ttl > TOKEN_MAX_TTL)
			return invalid(ex, "ttl", "seconds, from 1 to ten years");
	}
	return 0;
}

static void
respond_minted(struct exchange *ex, const struct token_minted *t,
    const char *doc)
{
	struct json_object *body = json_tokener_parse(doc);

	/* The stored document plus the token, once; the hash is no business of the client's. */
	json_object_object_del(body, "sha256");
	json_object_object_del(body, "expires");
	json_object_object_add(body, "token", json_object_new_string(t->text));
	respond_json(ex, 201, body);
	json_object_put(body);
}

void
handle_token_create(struct exchange *ex)
{
	struct token_request r;
	struct token_minted t;
	struct store_ctx ctx;
	struct store_check check = { .kind = STORE_CHECK_ABSENT };
	struct store_op ops[2];
	enum store_result rc;
	char *doc, key[64], index[128];
	int64_t revision;
	size_t failed;

	if (parse_request(ex, &r) == -1)
		return;
	/* No token grants more than its maker holds. */
	if ((scope_closure(r.scopes) & ~ex->principal.scopes) != 0 &&
	    ex->principal.kind != PRINCIPAL_OFF) {
		auth_forbid(ex, "admin", "a token cannot have scopes its maker lacks");
		return;
	}
	if (token_mint(&t, r.ttl) == -1) {
		respond_problem(ex, 500, "internal_error", "no randomness");
		return;
	}
	doc = token_doc(&t, r.name, r.scopes);
	token_key(key, sizeof(key), t.id);
	token_index_key(index, sizeof(index), t.sha256);
	check.key = key;
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct store_op){ .kind = STORE_OP_PUT, .key = key, .value = doc, .value_len = strlen(doc) };
	ops[1] = (struct store_op){ .kind = STORE_OP_PUT, .key = index, .value = t.id, .value_len = strlen(t.id) };
	resource_store_ctx(ex, &ctx);
	rc = store_commit(&ctx, &check, 1, ops, 2, &revision, &failed);
	if (rc == STORE_OK)
		respond_minted(ex, &t, doc);
	else
		resource_store_error(ex, rc == STORE_STALE ? STORE_FAILED : rc,
		    "token_not_found", "the token");
	explicit_bzero(&t, sizeof(t));
	free(doc);
}

void
handle_token_list(struct exchange *ex)
{
	struct json_object *items;
	struct store_item *found;
	struct store_ctx ctx;
	enum store_result rc;
	int64_t limit, offset, total;
	size_t count, i;

	if (resource_pagination(ex, &limit, &offset) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	rc = store_list(&ctx, "tokens/", limit, offset, &found, &count, &total);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "token_not_found", "the token");
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < count; i++) {
		struct json_object *doc = stored_doc_parse(found[i].key,
		    found[i].value, found[i].value_len);

		/* A corrupt document is left out (and logged), as in every list. */
		if (doc == NULL)
			continue;
		json_object_object_del(doc, "sha256");
		json_object_object_del(doc, "expires");
		json_object_array_add(items, doc);
	}
	resource_respond_list(ex, &ctx, items, total, limit, offset);
}

void
handle_token_delete(struct exchange *ex)
{
	struct store_check check = { .kind = STORE_CHECK_REVISION };
	struct store_op ops[2];
	struct store_item item;
	struct store_ctx ctx;
	struct token_info info;
	struct json_object *doc = NULL;
	enum store_result rc;
	char key[64], index[128] = "";
	int64_t revision;
	size_t failed, nops;

	if (!name_valid(ex->params[0]) || strlen(ex->params[0]) > 32) {
		respond_problem(ex, 404, "token_not_found", "no such token");
		return;
	}
	token_key(key, sizeof(key), ex->params[0]);
	resource_store_ctx(ex, &ctx);
	/* Forced: revoking must not miss a token this replica has not seen yet. */
	if ((rc = store_get(&ctx, key, 1, &item)) != STORE_OK)
		goto fail;
	/* A corrupt document (logged) names no index entry: the token goes alone. */
	doc = stored_doc_parse(item.key, item.value, item.value_len);
	nops = doc != NULL && token_info(doc, &info) == 0 ? 2 : 1;
	if (nops == 2)
		token_index_key(index, sizeof(index), info.sha256);
	check.key = key;
	check.revision = item.mod_revision;
	memset(ops, 0, sizeof(ops));
	ops[0].kind = ops[1].kind = STORE_OP_DELETE;
	ops[0].key = key;
	ops[1].key = index;
	if ((rc = store_commit(&ctx, &check, 1, ops, nops, &revision,
	    &failed)) != STORE_OK)
		goto fail;
	json_object_put(doc);
	respond_empty(ex, 204);
	return;
fail:
	json_object_put(doc);
	if (rc == STORE_STALE)
		respond_problem(ex, 409, "conflict", "the token changed; try again");
	else
		resource_store_error(ex, rc, "token_not_found", "no such token");
}
