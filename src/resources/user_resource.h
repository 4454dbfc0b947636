/*
 * Users over HTTP (API.md §7): /v1/users, and the operations the seed's
 * /usuarios (seed_resource.c) shares with it, in either form (model/user.h).
 */
#ifndef DYNCONF_USER_RESOURCE_H
#define DYNCONF_USER_RESOURCE_H

#include "http/http.h"
#include "model/user.h"
#include "store/store.h"

void	handle_user_create(struct exchange *ex);
void	handle_user_list(struct exchange *ex);
void	handle_user_get(struct exchange *ex);
void	handle_user_put(struct exchange *ex);
void	handle_user_patch(struct exchange *ex);
void	handle_user_delete(struct exchange *ex);

/* The rules of the declared body fields beyond their types (routes.c). */
const char *user_body_check(const char *field, struct json_object *value);
const char *seed_user_body_check(const char *field, struct json_object *value);

/*
 * What the seed's routes share: each answers errors as /v1/users does and
 * hands a success to done (the form's own answer).
 */
typedef void user_done_fn(struct exchange *ex, const struct store_item *item,
	    struct json_object *doc, const struct user_fields *f, int created);

void	users_create(struct exchange *ex, enum user_form form, user_done_fn *done);
/* must_exist: replace only (the seed's PUT), else create or replace. */
void	users_replace(struct exchange *ex, enum user_form form, int must_exist,
	    user_done_fn *done);
void	users_delete(struct exchange *ex, enum user_form form, user_done_fn *done);
void	users_get(struct exchange *ex, enum user_form form);

/*
 * The users q asks for, as form shows them, appended to out as JSON values
 * joined by commas (*total: every match): 0, or -1 after answering.
 */
struct buf;
struct user_query;
int	users_page(struct exchange *ex, enum user_form form,
	    const struct user_query *q, struct store_ctx *ctx, struct buf *out,
	    int64_t *total);

#endif
