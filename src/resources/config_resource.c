/*
 * Dynamic configuration; see config_resource.h.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/util.h"
#include "http/resource.h"
#include "http/validate.h"
#include "model/keys.h"
#include "resources/config_resource.h"
#include "store/store.h"

#define CONFIG_FOLDER "config/"

static struct json_object *
config_json(const struct store_item *item)
{
	struct json_object *obj = json_object_new_object();
	char when[32];

	format_rfc3339(item->updated_at / 1000000, when, sizeof(when));
	json_object_object_add(obj, "key", json_object_new_string(
	    item->key + strlen(CONFIG_FOLDER)));
	json_object_object_add(obj, "value", resource_value_json(item->key,
	    item->value, item->value_len));
	json_object_object_add(obj, "revision", json_object_new_int64(item->mod_revision));
	json_object_object_add(obj, "updated_at", json_object_new_string(when));
	return obj;
}

/*
 * A single entry's answer is written straight out: the stored text is
 * already the value's JSON, and parsing it only to print it again was a
 * third of a config read's work.
 */
static void
respond_item(struct exchange *ex, int status, const struct store_item *item)
{
	struct buf *body = &ex->res.body;
	char when[32];

	format_rfc3339(item->updated_at / 1000000, when, sizeof(when));
	ex->res.status = status;
	ex->res.content_type = "application/json";
	buf_reset(body);
	buf_puts(body, "{\"key\":");
	buf_json_string(body, item->key + strlen(CONFIG_FOLDER));
	buf_puts(body, ",\"value\":");
	resource_put_value(body, item->key, item->value, item->value_len);
	buf_puts(body, ",\"revision\":");
	buf_put_int(body, item->mod_revision);
	buf_puts(body, ",\"updated_at\":\"");
	buf_puts(body, when);
	buf_puts(body, "\"}");
	resource_etag(ex, item->mod_revision);
}

/*
 * The path's key, validated, as the store's key ("config/..."); NULL after
 * 400. deleting: any key that stays in the folder (keys.h), for one written
 * by hand that a list shows.
 */
static const char *
config_store_key(struct exchange *ex, int deleting)
{
	const char *key = ex->params[0];

	if (deleting ? !stored_key_deletable(key) : !config_key_valid(key)) {
		respond_problem(ex, 400, "invalid_key", "a config key is 1 to %d names "
		    "of [A-Za-z0-9][A-Za-z0-9._-]* joined by '/', at most %d bytes",
		    CONFIG_KEY_MAX_SEGMENTS, CONFIG_KEY_MAX_LEN);
		return NULL;
	}
	return arena_concat(&ex->arena, CONFIG_FOLDER, key, (char *)NULL);
}

void
handle_config_put(struct exchange *ex)
{
	struct store_condition condition;
	struct store_item item;
	struct store_ctx ctx;
	/* Required, so present; a JSON null is a json-c NULL, stored as null. */
	struct json_object *value = arg_json(ex, "value");
	enum store_result rc;
	const char *key, *text;
	int created = 0;

	if ((key = config_store_key(ex, 0)) == NULL ||
	    resource_condition(ex, STORE_IF_ANY, &condition) == -1)
		return;
	text = value == NULL ? "null" : json_object_to_json_string_ext(value,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	resource_store_ctx(ex, &ctx);
	rc = store_put(&ctx, key, text, strlen(text), 0, &condition, &item, &created);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "config_not_found", "the config entry");
		return;
	}
	respond_item(ex, created ? 201 : 200, &item);
}

void
handle_config_get(struct exchange *ex)
{
	struct store_item item;
	struct store_ctx ctx;
	enum store_result rc;
	const char *key;

	if ((key = config_store_key(ex, 0)) == NULL)
		return;
	resource_store_ctx(ex, &ctx);
	rc = store_get(&ctx, key, arg_bool(ex, "force", 0), &item);
	if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
		resource_store_error(ex, rc, "config_not_found", "the config entry");
		return;
	}
	if (rc == STORE_NOT_FOUND)
		resource_store_error(ex, rc, "config_not_found", "the config entry");
	else
		respond_item(ex, 200, &item);
	resource_read_headers(ex, &ctx);
}

void
handle_config_delete(struct exchange *ex)
{
	struct store_condition condition;
	struct store_ctx ctx;
	enum store_result rc;
	const char *key;
	int64_t revision;

	if ((key = config_store_key(ex, 1)) == NULL ||
	    resource_condition(ex, STORE_IF_PRESENT, &condition) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	rc = store_delete(&ctx, key, &condition, &revision);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "config_not_found", "the config entry");
		return;
	}
	respond_empty(ex, 204);
}

void
handle_config_list(struct exchange *ex)
{
	struct json_object *items;
	struct store_item *found;
	struct store_ctx ctx;
	enum store_result rc;
	const char *prefix = arg_text(ex, "prefix", "");
	int64_t limit, offset, total;
	size_t count, i;

	if (!config_prefix_valid(prefix)) {
		respond_problem(ex, 400, "invalid_key", "prefix must be the start of a "
		    "config key");
		return;
	}
	resource_pagination(ex, &limit, &offset);
	resource_store_ctx(ex, &ctx);
	rc = store_list(&ctx,
	    arena_concat(&ex->arena, CONFIG_FOLDER, prefix, (char *)NULL),
	    limit, offset, &found, &count, &total);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "config_not_found", "the config entry");
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < count; i++)
		json_object_array_add(items, config_json(&found[i]));
	resource_respond_list(ex, &ctx, items, total, limit, offset);
}
