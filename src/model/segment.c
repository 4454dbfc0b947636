/*
 * Segments; see segment.h. The document's criteria are parsed by the
 * flag's own parser (flag_criteria.c), so a segment takes exactly the
 * matchers a flag does, with the same limits.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/log.h"
#include "base/util.h"
#include "model/flag_impl.h"
#include "model/keys.h"
#include "model/segment.h"
#include "store/stored_doc.h"

static const char *const segment_fields[] = {
	"name", "description", "criteria", "revision", "created_at",
	"updated_at", NULL,
};

const char *
segment_store_key(struct arena *arena, const char *name)
{
	return arena_concat(arena, "segments/", name, (char *)NULL);
}

static void
unknown_fields(struct json_object *doc, struct flag_errors *errors)
{
	const char *const *k;

	json_object_object_foreach(doc, field, value) {
		(void)value;
		for (k = segment_fields; *k != NULL && strcmp(*k, field) != 0; k++)
			;
		if (*k == NULL)
			flag_error(errors, 1, "unknown field", "%s", field);
	}
}

static void
copy_time(struct json_object *doc, const char *field, char *out, size_t len)
{
	struct json_object *v;

	if (json_object_object_get_ex(doc, field, &v) &&
	    json_object_is_type(v, json_type_string) &&
	    (size_t)json_object_get_string_len(v) < len)
		snprintf(out, len, "%s", json_object_get_string(v));
}

int
segment_parse(struct json_object *doc, const char *name, struct segment *seg,
    struct flag_errors *errors)
{
	struct json_object *v;
	size_t budget = FLAG_MAX_CONDITIONS;

	memset(seg, 0, sizeof(*seg));
	memset(errors, 0, sizeof(*errors));
	seg->name = xstrdup(name);
	seg->description = xstrdup("");
	if (!json_object_is_type(doc, json_type_object)) {
		flag_error(errors, 0, "a segment is a JSON object", "body");
		return -1;
	}
	unknown_fields(doc, errors);
	if (json_object_object_get_ex(doc, "name", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), name) != 0))
		flag_error(errors, 0, "must equal the name in the path", "name");
	if (json_object_object_get_ex(doc, "description", &v)) {
		if (json_object_is_type(v, json_type_string)) {
			free(seg->description);
			seg->description = xstrdup(json_object_get_string(v));
		} else
			flag_error(errors, 0, "must be a string", "description");
	}
	if (!json_object_object_get_ex(doc, "criteria", &v) || v == NULL)
		flag_error(errors, 0, "required: an object of attribute: matcher",
		    "criteria");
	else
		flag_criteria_parse(v, "criteria", &seg->criteria, &budget, errors);
	copy_time(doc, "created_at", seg->created_at, sizeof(seg->created_at));
	copy_time(doc, "updated_at", seg->updated_at, sizeof(seg->updated_at));
	return errors->count > 0 ? -1 : 0;
}

void
segment_free(struct segment *seg)
{
	free(seg->name);
	free(seg->description);
	flag_criteria_free(&seg->criteria);
	memset(seg, 0, sizeof(*seg));
}

struct json_object *
segment_to_json(const struct segment *seg, int64_t revision)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "name", json_object_new_string(seg->name));
	json_object_object_add(obj, "description",
	    json_object_new_string(seg->description));
	json_object_object_add(obj, "criteria",
	    flag_criteria_to_json(&seg->criteria));
	if (seg->created_at[0] != '\0')
		json_object_object_add(obj, "created_at",
		    json_object_new_string(seg->created_at));
	if (seg->updated_at[0] != '\0')
		json_object_object_add(obj, "updated_at",
		    json_object_new_string(seg->updated_at));
	if (revision > 0)
		json_object_object_add(obj, "revision", json_object_new_int64(revision));
	return obj;
}

/* -- the per-process cache: direct-mapped, by name */

#define SEGMENT_SLOTS 256

struct cached_segment {
	char		 name[NAME_MAX_LEN + 1];	/* "": empty slot */
	int		 found;		/* 0: no such segment (or corrupt) */
	int64_t		 mod_revision;
	struct segment	 segment;
	struct store_generation read_at;
};

static struct cached_segment cache[SEGMENT_SLOTS];

static void
slot_clear(struct cached_segment *slot)
{
	if (slot->found)
		segment_free(&slot->segment);
	memset(slot, 0, sizeof(*slot));
}

void
segment_cache_clear(void)
{
	size_t i;

	for (i = 0; i < SEGMENT_SLOTS; i++)
		slot_clear(&cache[i]);
}

/* Parse the stored item into the slot (found stays 0 when it is not valid). */
static void
slot_fill(struct cached_segment *slot, const char *name,
    const struct store_item *item)
{
	struct flag_errors errors;
	struct json_object *doc;

	if ((doc = stored_doc_parse(item->key, item->value, item->value_len)) == NULL)
		return;
	if (segment_parse(doc, name, &slot->segment, &errors) == -1) {
		log_warn("stored segment %s at revision %lld is not a valid "
		    "segment: %s: %s", item->key, (long long)item->mod_revision,
		    errors.items[0].field, errors.items[0].message);
		segment_free(&slot->segment);
	} else {
		slot->found = 1;
		slot->mod_revision = item->mod_revision;
	}
	json_object_put(doc);
}

const struct flag_criteria *
segment_lookup(void *arg, const char *name)
{
	struct store_ctx *ctx = arg;
	struct cached_segment *slot = &cache[string_hash(name) % SEGMENT_SLOTS];
	struct store_generation generation;
	struct store_item item;
	enum store_result rc;

	if (slot->name[0] != '\0' && strcmp(slot->name, name) == 0 &&
	    store_generation_current(&slot->read_at))
		return slot->found ? &slot->segment.criteria : NULL;
	generation = store_generation();
	rc = store_get(ctx, segment_store_key(ctx->arena, name), 0, &item);
	if (rc != STORE_OK && rc != STORE_NOT_FOUND)
		return NULL;	/* not remembered: the next call tries again */
	if (!(slot->found && strcmp(slot->name, name) == 0 && rc == STORE_OK &&
	    slot->mod_revision == item.mod_revision)) {
		slot_clear(slot);
		snprintf(slot->name, sizeof(slot->name), "%s", name);
		if (rc == STORE_OK)
			slot_fill(slot, name, &item);
	}
	slot->read_at = generation;
	return slot->found ? &slot->segment.criteria : NULL;
}
