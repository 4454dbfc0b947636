/*
 * GET /v1/whoami; see whoami_resource.h.
 *
 * Any valid credential may ask (ROUTE_ANY_CREDENTIAL): an API token, a JWT
 * or an SDK key, whatever its scopes. The scopes answered are the ones the
 * credential holds once implied scopes are added (admin holds every scope,
 * X:write holds X:read), which is what every route checks against, so a
 * client can tell what it may call without trying it.
 */
#include "config.h"

#include <json-c/json.h>

#include "base/arena.h"
#include "base/util.h"
#include "http/resource.h"
#include "model/scope.h"
#include "model/token.h"
#include "resources/whoami_resource.h"
#include "store/stored_doc.h"

/* The name an API token was made with (its id when it cannot be read). */
static const char *
token_name(struct exchange *ex)
{
	struct json_object *doc, *name;
	struct store_item item;
	struct store_ctx ctx;
	const char *found = ex->principal.token_id;
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

/* Adds "actor", "kind" and the kind's own member (token_id, environment). */
static void
add_identity(struct exchange *ex, struct json_object *body)
{
	const struct principal *p = &ex->principal;
	const char *kind, *actor;

	switch (p->kind) {
	case PRINCIPAL_TOKEN:
		kind = "token";
		actor = token_name(ex);
		json_object_object_add(body, "token_id",
		    json_object_new_string(p->token_id));
		break;
	case PRINCIPAL_JWT:
		kind = "jwt";
		actor = p->subject != NULL ? p->subject : "";
		break;
	case PRINCIPAL_SDK_KEY:
		kind = "sdk_key";
		actor = arena_concat(&ex->arena, "sdk:", p->environment,
		    (char *)NULL);
		json_object_object_add(body, "environment",
		    json_object_new_string(p->environment));
		break;
	default:	/* auth.mode = off: everybody may do everything */
		kind = "anonymous";
		actor = "anonymous";
		break;
	}
	json_object_object_add(body, "actor", json_object_new_string(actor));
	json_object_object_add(body, "kind", json_object_new_string(kind));
}

void
handle_whoami(struct exchange *ex)
{
	struct json_object *body = json_object_new_object();
	struct json_object *scopes = json_object_new_array();
	char expires[32];
	int s;

	add_identity(ex, body);
	for (s = SCOPE_PUBLIC + 1; s < SCOPE_COUNT; s++)
		if (ex->principal.scopes & SCOPE_BIT(s))
			json_object_array_add(scopes,
			    json_object_new_string(scope_name((enum scope)s)));
	json_object_object_add(body, "scopes", scopes);
	if (ex->principal.expires != 0) {
		format_rfc3339(ex->principal.expires, expires, sizeof(expires));
		json_object_object_add(body, "expires_at",
		    json_object_new_string(expires));
	}
	respond_json(ex, 200, body);
	json_object_put(body);
	response_header(ex, "Cache-Control", "no-store");
}
