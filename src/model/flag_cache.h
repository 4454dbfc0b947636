/*
 * Parsed flags kept per responder process, by store key, for as long as
 * the stored mod_revision stays the same. Parsing a flag compiles its
 * regexes; evaluation must not pay that on every request.
 */
#ifndef DYNCONF_FLAG_CACHE_H
#define DYNCONF_FLAG_CACHE_H

#include "model/flag.h"
#include "store/store.h"

/*
 * The flag stored in item (a store read of flags/ENV/KEY), parsed, or NULL
 * when the stored document is not a valid flag (logged). The pointer stays
 * valid until the next call.
 */
const struct flag *flag_cache_get(const struct store_item *item);

/*
 * Read the flag at store_key through the store (force: from etcd), or,
 * while the replica has not changed since this process last read it, from
 * the cache without touching the replica. STORE_CORRUPT when the stored
 * document is not a valid flag (logged).
 */
enum store_result flag_cache_read(struct store_ctx *ctx, const char *store_key,
	    int force, const struct flag **flag, int64_t *mod_revision);

/*
 * The JSON text of a cached flag (as flag_to_json with its revision), made
 * once per revision; NULL when flag is not one of the cache's.
 */
const char *flag_cache_text(const struct flag *flag);

/* Drop everything (tests, and a process about to exit). */
void	flag_cache_clear(void);

#endif
