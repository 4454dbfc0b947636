/*
 * Segments (API.md §5): reusable named audiences, shared by every
 * environment, stored at segments/NAME. A segment is criteria with the same
 * matchers as a flag's; a flag's rule names segments, and matches when each
 * of them and its own criteria hold.
 *
 * Segments are looked up when a flag is evaluated, not when it is parsed:
 * a parsed flag (flag_cache.c) holds only their names, so a segment change
 * reaches every flag that uses it as soon as the replica has it, on every
 * node, without touching the flags.
 */
#ifndef DYNCONF_SEGMENT_H
#define DYNCONF_SEGMENT_H

#include <stdint.h>

#include "model/flag.h"
#include "store/store.h"

struct arena;

struct segment {
	char			*name;
	char			*description;
	struct flag_criteria	 criteria;
	char			 created_at[32];	/* "" when unknown */
	char			 updated_at[32];
};

/* "segments/NAME" (NAME "": the folder), in arena. */
const char	*segment_store_key(struct arena *arena, const char *name);

/*
 * Validate doc into *seg (zeroed first; free with segment_free even on
 * error). name is the path's; a "name" in the body must equal it. Fields:
 * name, description, criteria (required, an object), and the server's
 * revision, created_at, updated_at (ignored). 0, or -1 with errors.
 */
int	segment_parse(struct json_object *doc, const char *name,
	    struct segment *seg, struct flag_errors *errors);
void	segment_free(struct segment *seg);

/* The segment as JSON, with "revision" when revision > 0 (a new object). */
struct json_object *segment_to_json(const struct segment *seg, int64_t revision);

/*
 * The criteria of segment name, read through the store's replica and
 * parsed once per revision in this process; NULL when there is no such
 * segment (or it is not a valid one, logged). While the replica has not
 * changed, no replica read is made. Valid until the next call. The
 * signature is eval.h's eval_segment_fn, arg a struct store_ctx.
 */
const struct flag_criteria *segment_lookup(void *store_ctx, const char *name);

/* Drop the cache (tests). */
void	segment_cache_clear(void);

#endif
