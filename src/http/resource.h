/*
 * What every resource handler shares between the HTTP exchange and the
 * store: preconditions from If-Match / If-None-Match, the read headers
 * (ETag, X-Cache, X-Dynconf-Revision), store failures as problem documents,
 * and list parameters.
 */
#ifndef DYNCONF_RESOURCE_H
#define DYNCONF_RESOURCE_H

#include <stdint.h>

#include "base/buf.h"
#include "http/http.h"
#include "http/validate.h"
#include "store/store.h"


/* A store context bound to the exchange's arena and deadline. */
void	resource_store_ctx(struct exchange *ex, struct store_ctx *ctx);

/*
 * The write condition from If-Match / If-None-Match, else fallback.
 * Returns -1 after answering 400 when a header is malformed.
 */
int	resource_condition(struct exchange *ex, enum store_condition_kind fallback,
	    struct store_condition *condition);

/* ETag for one object at revision. */
void	resource_etag(struct exchange *ex, int64_t revision);
/* X-Cache and X-Dynconf-Revision after a read. */
void	resource_read_headers(struct exchange *ex, const struct store_ctx *ctx);

/*
 * Answer a store failure: not_found_code for STORE_NOT_FOUND, 412 for
 * conditions, 503 store_unavailable with Retry-After (nothing was
 * written), 504 write_outcome_unknown (a write etcd may have applied), 500
 * otherwise.
 */
void	resource_store_error(struct exchange *ex, enum store_result rc,
	    const char *not_found_code, const char *what);

/*
 * A stored value as the API shows it (API.md §6): the JSON it holds, or
 * the text as a JSON string when it is not JSON (not UTF-8: U+FFFD for
 * each bad byte, logged at warn). For output only: a new
 * json-c object that prints as resource_put_value writes.
 */
struct json_object *resource_value_json(const char *key, const char *text,
	    size_t len);
/* The same value written as JSON text onto out. key names it in the log. */
void	resource_put_value(struct buf *out, const char *key, const char *text,
	    size_t len);

/*
 * Answer a list page: 200 {"items", "total", "limit", "offset"} (API.md §1)
 * with the read headers. Takes over items.
 */
void	resource_respond_list(struct exchange *ex, const struct store_ctx *ctx,
	    struct json_object *items, int64_t total, int64_t limit, int64_t offset);

/* ?limit= and ?offset=, as checked (validate.h), or their defaults. */
void	resource_pagination(const struct exchange *ex, int64_t *limit,
	    int64_t *offset);

#endif
