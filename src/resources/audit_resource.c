/*
 * The audit trail; see audit_resource.h.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "http/resource.h"
#include "http/validate.h"
#include "resources/audit_resource.h"
#include "store/audit_index.h"
#include "store/store.h"

static void
add_text(struct json_object *obj, const char *name, const char *text)
{
	json_object_object_add(obj, name, text != NULL ?
	    json_object_new_string(text) : NULL);
}

static struct json_object *
row_json(const struct audit_row *row)
{
	struct json_object *obj = json_object_new_object();
	char when[32];

	format_rfc3339(row->time_us / 1000000, when, sizeof(when));
	json_object_object_add(obj, "new_revision", json_object_new_int64(row->revision));
	json_object_object_add(obj, "old_revision", row->old_revision > 0 ?
	    json_object_new_int64(row->old_revision) : NULL);
	add_text(obj, "resource", row->resource);
	add_text(obj, "key", row->key);
	add_text(obj, "action", row->action);
	add_text(obj, "actor", row->actor);
	add_text(obj, "actor_kind", row->actor_kind);
	add_text(obj, "token_id", row->token_id);
	add_text(obj, "request_id", row->request_id);
	add_text(obj, "time", when);
	return obj;
}

void
handle_audit_list(struct exchange *ex)
{
	struct audit_query q;
	struct audit_row *rows;
	const char *since;
	struct json_object *items;
	struct store_ctx ctx;
	enum store_result rc;
	int64_t total;
	size_t count, i;

	memset(&q, 0, sizeof(q));
	q.resource = arg_text(ex, "resource", NULL);
	q.key = arg_text(ex, "key", NULL);
	q.actor = arg_text(ex, "actor", NULL);
	resource_pagination(ex, &q.limit, &q.offset);
	/*
	 * since: a revision (digits: changes at revisions above it, as
	 * /v1/watch reads it) or an RFC 3339 time (changes at or after it;
	 * the epoch itself filters nothing, as 0 does). Checked already.
	 */
	if ((since = arg_text(ex, "since", NULL)) != NULL)
		(void)since_parse(since, &q.since_revision, &q.since_us);
	resource_store_ctx(ex, &ctx);
	if ((rc = store_audit_list(&ctx, &q, &rows, &count, &total)) != STORE_OK) {
		resource_store_error(ex, rc, "not_found", "the audit trail");
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < count; i++)
		json_object_array_add(items, row_json(&rows[i]));
	resource_respond_list(ex, &ctx, items, total, q.limit, q.offset);
}
