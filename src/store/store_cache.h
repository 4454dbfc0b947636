/*
 * The store's per-process cache of point reads from the replica. An entry
 * holds what one key read as (present with its item, or absent) at one
 * replica generation, and answers only while that generation is current:
 * any apply by the watcher or write-through by a responder moves the
 * generation and so retires every entry at once. Reading a hot key then
 * costs a hash lookup instead of a SQLite read transaction (whose WAL
 * locks alone are six fcntl(2) calls).
 */
#ifndef DYNCONF_STORE_CACHE_H
#define DYNCONF_STORE_CACHE_H

#include "base/arena.h"
#include "store/store.h"

/*
 * 1: key was read at generation now; *found says whether it exists and, if
 * so, item is filled with copies in arena. 0: not cached.
 */
int	store_cache_lookup(const char *key, const struct store_generation *now,
	    struct arena *arena, struct store_item *item, int *found);
/* Remember that key read as item (NULL: absent) at generation read_at. */
void	store_cache_keep(const char *key, const struct store_item *item,
	    const struct store_generation *read_at);
/* Drop every entry (tests; and a process that closes its store). */
void	store_cache_clear(void);

#endif
