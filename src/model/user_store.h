/*
 * Writing users with their email index (API.md §7, §13): a user and the
 * key index/users/email/<email> that names it go to etcd in one
 * transaction, whose checks make the email unique: the index key must be
 * absent (or already this user's) for the write to apply, so of two
 * writers of one email exactly one succeeds, whatever node each is on.
 * Changing the email moves the key in the same transaction; deleting the
 * user deletes it. An index key whose user is gone, or no longer has that
 * email (both only by hand, with etcdctl), is taken over, with checks that
 * nothing moved meanwhile.
 *
 * Every write reads what it replaces first (the replica, then etcd when a
 * transaction finds it outdated) and commits only against that revision:
 * a lost race is retried on etcd's current state, never applied blindly.
 */
#ifndef DYNCONF_USER_STORE_H
#define DYNCONF_USER_STORE_H

#include "model/user.h"
#include "store/store.h"

struct json_object;

/*
 * The document to store, from the one stored now (current: NULL when
 * there is none): a new reference, or NULL with errors filled.
 */
typedef struct json_object *user_make_fn(void *arg, struct json_object *current,
	    struct user_errors *errors);

struct user_change {
	const char		*id;
	struct store_condition	 condition;	/* the caller's precondition */
	int			 must_exist;	/* absent: STORE_NOT_FOUND */
	int			 new_id;	/* the id was just made */
	user_make_fn		*make;
	void			*arg;

	/* What happened, besides the result. */
	int			 invalid;	/* make refused: errors */
	struct user_errors	 errors;
	int			 email_taken;	/* another user has that email */
	int			 created;
	struct store_item	 item;		/* the user as stored now */
	struct json_object	*doc;		/* its document (the caller puts it) */
	struct user_fields	 fields;	/* read from doc */
};

/*
 * Create or replace the user c->id with what c->make makes. STORE_OK;
 * STORE_FAILED with c->invalid or c->email_taken set; STORE_NOT_FOUND,
 * STORE_EXISTS or STORE_STALE when c->condition (or must_exist) does not
 * hold; STORE_CORRUPT when the user to change is not a valid document and
 * make needs it; else what the store answered.
 */
enum store_result user_write(struct store_ctx *ctx, struct user_change *c);

/* Delete the user id and its email's key, if condition holds. */
enum store_result user_delete(struct store_ctx *ctx, const char *id,
	    const struct store_condition *condition);

#endif
