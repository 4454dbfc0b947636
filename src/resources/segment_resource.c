/*
 * Segments; see segment_resource.h and model/segment.h.
 *
 * Deleting a segment races flag writes that name it. A flag write checks,
 * in its etcd transaction, that each segment it names exists; a segment
 * delete lists every flag (from the replica, at revision R), refuses if
 * one uses it, and deletes in a transaction that also checks no flag has
 * been written since R. Whichever commits first, the other fails: no flag
 * is ever left naming a missing segment.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/util.h"
#include "http/resource.h"
#include "http/validate.h"
#include "model/flag_cache.h"
#include "model/keys.h"
#include "model/segment.h"
#include "resources/segment_resource.h"
#include "store/stored_doc.h"

#define DELETE_ROUNDS	20	/* a flag write landing during the check: again */
#define IN_USE_NAMED	20	/* flags named in a 409's detail */

static int
segment_name_ok(struct exchange *ex, const char *name)
{
	if (name_valid(name))
		return 1;
	respond_problem(ex, 400, "invalid_key", "a segment name matches "
	    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
	return 0;
}

static void
respond_errors(struct exchange *ex, const struct flag_errors *errors)
{
	struct field_error list[FLAG_MAX_ERRORS];
	size_t i;

	for (i = 0; i < errors->count; i++) {
		list[i].field = errors->items[i].field;
		list[i].message = errors->items[i].message;
	}
	respond_invalid(ex, errors->unknown_field ? "unknown_field" :
	    "validation_failed", "the segment document is not valid", list,
	    errors->count);
}

/* The stored segment at item, parsed; -1 (logged) when it is not one. */
static int
item_segment(const struct store_item *item, const char *name,
    struct segment *seg)
{
	struct flag_errors errors;
	struct json_object *doc;
	int rc;

	memset(seg, 0, sizeof(*seg));
	if ((doc = stored_doc_parse(item->key, item->value, item->value_len)) == NULL)
		return -1;
	rc = segment_parse(doc, name, seg, &errors);
	json_object_put(doc);
	return rc;
}

/* Keep created_at across replaces. */
static void
stamp_times(struct store_ctx *ctx, const char *key, struct segment *seg)
{
	struct store_item item;
	struct segment old;
	char now[32];

	memset(&old, 0, sizeof(old));
	format_rfc3339(clock_realtime_us() / 1000000, now, sizeof(now));
	snprintf(seg->created_at, sizeof(seg->created_at), "%s", now);
	snprintf(seg->updated_at, sizeof(seg->updated_at), "%s", now);
	if (store_get(ctx, key, 0, &item) == STORE_OK &&
	    item_segment(&item, seg->name, &old) == 0 && old.created_at[0] != '\0')
		snprintf(seg->created_at, sizeof(seg->created_at), "%s",
		    old.created_at);
	segment_free(&old);
}

void
handle_segment_put(struct exchange *ex)
{
	struct store_condition condition;
	struct flag_errors errors;
	struct store_item item;
	struct store_ctx ctx;
	struct segment seg;
	struct json_object *doc;
	enum store_result rc;
	const char *key, *text;
	int created = 0;

	if (!segment_name_ok(ex, ex->params[0]))
		return;
	if (segment_parse(ex->json, ex->params[0], &seg, &errors) == -1) {
		respond_errors(ex, &errors);
		segment_free(&seg);
		return;
	}
	if (resource_condition(ex, STORE_IF_ANY, &condition) == -1) {
		segment_free(&seg);
		return;
	}
	resource_store_ctx(ex, &ctx);
	key = segment_store_key(&ex->arena, seg.name);
	stamp_times(&ctx, key, &seg);
	doc = segment_to_json(&seg, 0);
	text = arena_strdup(&ex->arena, json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	rc = store_put(&ctx, key, text, strlen(text), 0, &condition, &item, &created);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "segment_not_found", "the segment");
	} else {
		doc = segment_to_json(&seg, item.mod_revision);
		respond_json(ex, created ? 201 : 200, doc);
		json_object_put(doc);
		resource_etag(ex, item.mod_revision);
	}
	segment_free(&seg);
}

void
handle_segment_get(struct exchange *ex)
{
	struct store_item item;
	struct store_ctx ctx;
	struct segment seg;
	struct json_object *doc;
	enum store_result rc;
	const char *key;

	if (!segment_name_ok(ex, ex->params[0]))
		return;
	resource_store_ctx(ex, &ctx);
	key = segment_store_key(&ex->arena, ex->params[0]);
	rc = store_get(&ctx, key, arg_bool(ex, "force", 0), &item);
	if (rc == STORE_OK && item_segment(&item, ex->params[0], &seg) == -1)
		rc = STORE_CORRUPT;
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "segment_not_found", rc == STORE_CORRUPT ?
		    arena_concat(&ex->arena, "the segment at ", key, (char *)NULL) :
		    "the segment");
		if (rc == STORE_NOT_FOUND)
			resource_read_headers(ex, &ctx);
		return;
	}
	doc = segment_to_json(&seg, item.mod_revision);
	respond_json(ex, 200, doc);
	json_object_put(doc);
	segment_free(&seg);
	resource_etag(ex, item.mod_revision);
	resource_read_headers(ex, &ctx);
}

void
handle_segment_list(struct exchange *ex)
{
	struct store_item *items;
	struct store_ctx ctx;
	struct json_object *array;
	enum store_result rc;
	const char *folder;
	int64_t limit, offset, total;
	size_t count, i;

	resource_pagination(ex, &limit, &offset);
	resource_store_ctx(ex, &ctx);
	folder = segment_store_key(&ex->arena, "");
	rc = store_list(&ctx, folder, limit, offset, &items, &count, &total);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "segment_not_found", "the segment");
		return;
	}
	array = json_object_new_array();
	for (i = 0; i < count; i++) {
		struct segment seg;

		/* A corrupt one is left out (logged), as lists do (API.md §1). */
		if (item_segment(&items[i], items[i].key + strlen(folder), &seg) == 0)
			json_object_array_add(array,
			    segment_to_json(&seg, items[i].mod_revision));
		segment_free(&seg);
	}
	resource_respond_list(ex, &ctx, array, total, limit, offset);
}

/*
 * The flags that use segment name, "ENV/KEY" each, into users (a new
 * array), and the revision the list reflects into *seen. -1 on a store
 * failure (answered).
 */
static int
segment_users(struct exchange *ex, struct store_ctx *ctx, const char *name,
    struct json_object **users, int64_t *seen)
{
	struct store_item *items;
	enum store_result rc;
	int64_t total;
	size_t count, i, skip = strlen("flags/");

	*seen = store_replica_revision();
	rc = store_list(ctx, "flags/", 1000000, 0, &items, &count, &total);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "segment_not_found", "the segment");
		return -1;
	}
	*users = json_object_new_array();
	for (i = 0; i < count; i++) {
		const struct flag *flag = flag_cache_get(&items[i]);

		if (items[i].mod_revision > *seen)
			*seen = items[i].mod_revision;
		if (flag != NULL && flag_uses_segment(flag, name))
			json_object_array_add(*users,
			    json_object_new_string(items[i].key + skip));
	}
	return 0;
}

static void
respond_in_use(struct exchange *ex, struct json_object *users)
{
	struct buf names;
	size_t i, n = json_object_array_length(users);
	struct json_object *body;

	buf_init(&names);
	for (i = 0; i < n && i < IN_USE_NAMED; i++) {
		buf_puts(&names, i > 0 ? ", " : "");
		buf_puts(&names, json_object_get_string(json_object_array_get_idx(users, i)));
	}
	respond_problem(ex, 409, "segment_in_use", "the segment is used by %zu "
	    "flag%s: %s%s", n, n == 1 ? "" : "s", names.data, n > IN_USE_NAMED ?
	    ", ..." : "");
	buf_free(&names);
	/* The whole list too, for a client to act on. */
	if ((body = json_tokener_parse(ex->res.body.data)) != NULL) {
		json_object_object_add(body, "flags", json_object_get(users));
		buf_reset(&ex->res.body);
		buf_puts(&ex->res.body, json_object_to_json_string_ext(body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(body);
	}
}

/* One attempt: 1 when the flags changed under the check (try again). */
static int
segment_delete_once(struct exchange *ex, struct store_ctx *ctx, const char *name,
    const struct store_condition *condition)
{
	struct store_check checks[2];
	struct store_op op;
	struct json_object *users;
	enum store_result rc;
	int64_t seen, revision;
	size_t failed = 0;

	if (segment_users(ex, ctx, name, &users, &seen) == -1)
		return 0;
	if (json_object_array_length(users) > 0) {
		respond_in_use(ex, users);
		json_object_put(users);
		return 0;
	}
	json_object_put(users);
	memset(checks, 0, sizeof(checks));
	checks[0].key = segment_store_key(&ex->arena, name);
	checks[0].kind = condition->kind == STORE_IF_REVISION ?
	    STORE_CHECK_REVISION : STORE_CHECK_PRESENT;
	checks[0].revision = condition->revision;
	checks[0].also = condition->also;
	checks[0].nalso = condition->nalso;
	checks[1].kind = STORE_CHECK_PREFIX_UNCHANGED;
	checks[1].key = "flags/";
	checks[1].revision = seen;
	memset(&op, 0, sizeof(op));
	op.kind = STORE_OP_DELETE;
	op.key = checks[0].key;
	rc = store_commit(ctx, checks, 2, &op, 1, &revision, &failed);
	if (rc == STORE_STALE && failed == 1)
		return 1;
	if (rc == STORE_STALE)
		rc = checks[0].found ? STORE_STALE : STORE_NOT_FOUND;
	if (rc != STORE_OK)
		resource_store_error(ex, rc, "segment_not_found", "the segment");
	else
		respond_empty(ex, 204);
	return 0;
}

void
handle_segment_delete(struct exchange *ex)
{
	struct store_condition condition;
	struct store_ctx ctx;
	int round;

	if (!segment_name_ok(ex, ex->params[0]) ||
	    resource_condition(ex, STORE_IF_PRESENT, &condition) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	for (round = 0; round < DELETE_ROUNDS; round++) {
		if (!segment_delete_once(ex, &ctx, ex->params[0], &condition))
			return;
		/* A flag was written since the replica's list: let it arrive. */
		usleep(20000);
	}
	respond_problem(ex, 409, "revision_mismatch", "flags kept changing while "
	    "checking whether the segment is in use; retry");
}
