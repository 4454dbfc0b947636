/*
 * Users (API.md §7): the documents, in the two forms the API shows them.
 *
 * The English form (/v1/users) is the stored document with "id" first and
 * "revision", "created_at" and "updated_at" last. The seed form (/usuarios,
 * the Flask + etcd seed's own API) names three fields in Portuguese,
 * "nome" for name, "idade" for age and "_id" for id, and shows the other
 * members as given, without the server's members. Both are views of the
 * one stored document (store/user_doc.h), so a user made through either
 * reads back through the other; for that each form refuses the other's
 * names.
 *
 * A body becomes a document here, checked whole: every problem is named
 * at once. The server's members are read-only: "id" must equal the path's
 * id when sent (and cannot be sent to a create), "created_at" and
 * "updated_at" are ignored, and "revision" is the caller's (a
 * precondition, resources decide).
 */
#ifndef DYNCONF_USER_H
#define DYNCONF_USER_H

#include <stddef.h>
#include <stdint.h>

#include "store/user_doc.h"

struct arena;
struct buf;
struct json_object;
struct store_item;

enum user_form {
	USER_FORM_API,		/* /v1/users */
	USER_FORM_SEED,		/* /usuarios */
};

#define USER_ID_LEN 36		/* a UUID: 8-4-4-4-12 hex digits */

struct user_errors {
	struct user_problem	 items[USER_MAX_PROBLEMS];
	size_t			 count;
};

/* A fresh id: a UUID version 4 from the kernel's random source; 0 or -1. */
int	user_new_id(char out[USER_ID_LEN + 1]);

/* Is id one the API can name ([A-Za-z0-9][A-Za-z0-9._-]{0,127})? */
int	user_id_valid(const char *id);

/*
 * The document body asks to store, members in their stored order, without
 * the server's (NULL with errors filled when the body breaks a rule).
 * path_id: the id the path names, or NULL for a create. The caller puts
 * the result.
 */
struct json_object *user_doc_from_body(struct json_object *body,
	    enum user_form form, const char *path_id, struct user_errors *errors);

/*
 * RFC 7386: the merge patch applied to the stored document current (its
 * server members dropped), then checked as a whole document. current is
 * changed; the result is a new reference the caller puts, or NULL with
 * errors filled.
 */
struct json_object *user_doc_patch(struct json_object *current,
	    struct json_object *patch, const char *path_id,
	    struct user_errors *errors);

/*
 * The stored text of doc with its times: created_at the given one (a
 * replace keeps it; NULL: now), updated_at now. In arena.
 */
const char *user_doc_text(struct arena *arena, struct json_object *doc,
	    const char *created_at);

/*
 * The stored user at item, parsed and checked; NULL (logged at warn, with
 * its key) when it is no valid user. The caller puts the result; *f points
 * into it.
 */
struct json_object *user_doc_read(const struct store_item *item,
	    struct user_fields *f);

/* The user as form shows it, with id and item's revision and times. */
struct json_object *user_to_json(const struct store_item *item,
	    struct json_object *doc, const struct user_fields *f,
	    enum user_form form);

/*
 * Append the user as form shows it (as user_to_json would), cut straight
 * from its stored text, which must be exactly as the server writes users
 * (store_user_search says which are): 0, or -1, nothing appended, when the
 * text is not of that shape after all.
 */
int	user_render_plain(struct buf *out, const struct store_item *item,
	    enum user_form form);

/* The id of a store key "users/ID". */
const char *user_id_of(const char *store_key);

/* "users/ID", in arena. */
const char *user_store_key(struct arena *arena, const char *id);

#endif
