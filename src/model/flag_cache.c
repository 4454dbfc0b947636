/*
 * The per-process flag cache; see flag_cache.h. A direct-mapped table: a
 * collision simply replaces the older entry, which only costs a re-parse.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/log.h"
#include "base/util.h"
#include "model/flag_cache.h"
#include "store/stored_doc.h"

#define FLAG_CACHE_SLOTS 1024

struct cached_flag {
	char		*store_key;	/* NULL: empty slot */
	int64_t		 mod_revision;
	struct flag	 flag;
	int		 read_at_known;	/* read_at holds */
	struct store_generation read_at;	/* the replica when last read */
	char		*text;		/* the flag as answered, made on demand */
};

static struct cached_flag slots[FLAG_CACHE_SLOTS];

/* Only spreads keys over slots: nothing depends on the hash's values. */
static size_t
slot_of(const char *key)
{
	return (size_t)(string_hash(key) % FLAG_CACHE_SLOTS);
}

static void
slot_clear(struct cached_flag *slot)
{
	if (slot->store_key == NULL)
		return;
	flag_free(&slot->flag);
	free(slot->store_key);
	free(slot->text);
	slot->store_key = NULL;
	slot->text = NULL;
}

const struct flag *
flag_cache_get(const struct store_item *item)
{
	struct cached_flag *slot = &slots[slot_of(item->key)];
	struct flag_errors errors;
	struct json_object *doc;
	const char *key;

	if (slot->store_key != NULL && slot->mod_revision == item->mod_revision &&
	    strcmp(slot->store_key, item->key) == 0)
		return &slot->flag;
	slot_clear(slot);
	memset(&errors, 0, sizeof(errors));
	/* flags/ENV/KEY: a key written by hand may hold '/', as lists show it. */
	key = strchr(item->key, '/');
	key = key != NULL ? strchr(key + 1, '/') : NULL;
	key = key != NULL ? key + 1 : item->key;
	/* stored_doc_parse logs what is wrong with text that is not a document. */
	if ((doc = stored_doc_parse(item->key, item->value, item->value_len)) == NULL)
		return NULL;
	if (flag_parse(doc, key, &slot->flag, &errors) == -1) {
		log_warn("stored flag %s at revision %lld is not a valid flag: "
		    "%s: %s", item->key, (long long)item->mod_revision,
		    errors.items[0].field, errors.items[0].message);
		flag_free(&slot->flag);
		json_object_put(doc);
		return NULL;
	}
	json_object_put(doc);
	slot->store_key = xstrdup(item->key);
	slot->mod_revision = item->mod_revision;
	slot->read_at_known = 0;
	return &slot->flag;
}

enum store_result
flag_cache_read(struct store_ctx *ctx, const char *store_key, int force,
    const struct flag **flag, int64_t *mod_revision)
{
	struct cached_flag *slot = &slots[slot_of(store_key)];
	struct store_generation generation;
	struct store_item item;
	enum store_result rc;

	if (!force && slot->store_key != NULL && slot->read_at_known &&
	    strcmp(slot->store_key, store_key) == 0 &&
	    store_generation_current(&slot->read_at)) {
		store_count_cached_read(ctx);
		*flag = &slot->flag;
		*mod_revision = slot->mod_revision;
		return STORE_OK;
	}
	generation = store_generation();
	if ((rc = store_get(ctx, store_key, force, &item)) != STORE_OK)
		return rc;
	if ((*flag = flag_cache_get(&item)) == NULL)
		return STORE_CORRUPT;
	*mod_revision = item.mod_revision;
	/* A forced read came from etcd, not from the replica at generation. */
	slot = &slots[slot_of(store_key)];
	slot->read_at_known = !force;
	slot->read_at = generation;
	return STORE_OK;
}

const char *
flag_cache_text(const struct flag *flag)
{
	uintptr_t at = (uintptr_t)flag, first = (uintptr_t)&slots[0].flag;
	struct cached_flag *slot;
	struct json_object *doc;

	/* A cached flag is embedded in its slot: its address names the slot. */
	if (at < first || at - first >= sizeof(slots) ||
	    (at - first) % sizeof(slots[0]) != 0)
		return NULL;
	slot = &slots[(at - first) / sizeof(slots[0])];
	if (slot->store_key == NULL)
		return NULL;
	if (slot->text == NULL) {
		doc = flag_to_json(&slot->flag, slot->mod_revision);
		slot->text = xstrdup(json_object_to_json_string_ext(doc,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	}
	return slot->text;
}

void
flag_cache_clear(void)
{
	size_t i;

	for (i = 0; i < FLAG_CACHE_SLOTS; i++)
		slot_clear(&slots[i]);
}
