/*
 * The store's point-read cache; see store_cache.h. Direct-mapped: a
 * collision replaces the older entry, which only costs a replica read.
 * Values are copied out into the caller's arena, so an entry replaced
 * later in the same request cannot pull an answer from under it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "store/store_cache.h"

/* At most 512 x 16 KB = 8 MB per process; bigger values are never kept. */
#define STORE_CACHE_SLOTS	512
#define STORE_CACHE_MAX_VALUE	(16 * 1024)

struct cached_read {
	char		*key;		/* NULL: empty slot */
	int		 found;
	struct store_item item;		/* key and value owned by the entry */
	struct store_generation read_at;
};

static struct cached_read slots[STORE_CACHE_SLOTS];

/* A copy of value[0..len) with a NUL after it (values may hold NULs). */
static char *
value_copy(char *dst, const char *value, size_t len)
{
	memcpy(dst, value, len);
	dst[len] = '\0';
	return dst;
}

/* Only spreads keys over slots: nothing depends on the hash's values. */
static size_t
slot_of(const char *key)
{
	return (size_t)(string_hash(key) % STORE_CACHE_SLOTS);
}

static void
slot_clear(struct cached_read *slot)
{
	free(slot->key);
	free((char *)slot->item.key);
	free((char *)slot->item.value);
	memset(slot, 0, sizeof(*slot));
}

int
store_cache_lookup(const char *key, const struct store_generation *now,
    struct arena *arena, struct store_item *item, int *found)
{
	const struct cached_read *slot = &slots[slot_of(key)];

	if (slot->key == NULL || strcmp(slot->key, key) != 0 ||
	    slot->read_at.revision != now->revision ||
	    slot->read_at.writes != now->writes)
		return 0;
	*found = slot->found;
	if (!slot->found)
		return 1;
	*item = slot->item;
	item->key = arena_strdup(arena, slot->item.key);
	item->value = value_copy(arena_alloc(arena, slot->item.value_len + 1),
	    slot->item.value, slot->item.value_len);
	return 1;
}

void
store_cache_keep(const char *key, const struct store_item *item,
    const struct store_generation *read_at)
{
	struct cached_read *slot = &slots[slot_of(key)];

	slot_clear(slot);
	if (item != NULL && item->value_len > STORE_CACHE_MAX_VALUE)
		return;
	slot->key = xstrdup(key);
	slot->read_at = *read_at;
	if ((slot->found = item != NULL)) {
		slot->item = *item;
		slot->item.key = xstrdup(item->key);
		slot->item.value = value_copy(xmalloc(item->value_len + 1),
		    item->value, item->value_len);
	}
}

void
store_cache_clear(void)
{
	size_t i;

	for (i = 0; i < STORE_CACHE_SLOTS; i++)
		slot_clear(&slots[i]);
}
