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

#include "base/util.h"
#include "http/resource.h"
#include "model/scope.h"
#include "resources/whoami_resource.h"

/*
 * Adds "actor", "kind" and the kind's own member (token_id, environment):
 * the actor as the audit trail records this credential's writes (API.md
 * section 14), named in one place (resource_store_ctx), so that the two
 * never differ: a token's name (its id when it has none that is a name),
 * a JWT's sub ("jwt" when it has no usable one), sdk:ENV.
 */
static void
add_identity(struct exchange *ex, struct json_object *body)
{
	const struct principal *p = &ex->principal;
	struct store_ctx ctx;

	resource_store_ctx(ex, &ctx);
	if (p->kind == PRINCIPAL_TOKEN && p->token_id != NULL)
		json_object_object_add(body, "token_id",
		    json_object_new_string(p->token_id));
	if (p->kind == PRINCIPAL_SDK_KEY && p->environment != NULL)
		json_object_object_add(body, "environment",
		    json_object_new_string(p->environment));
	json_object_object_add(body, "actor", json_object_new_string(ctx.actor.name));
	json_object_object_add(body, "kind", json_object_new_string(ctx.actor.kind));
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
