/*
 * Writing users with their email index; see user_store.h.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/util.h"
#include "model/user.h"
#include "model/user_store.h"

/* Rounds of read-then-commit before a write gives up (503: nothing written). */
#define USER_WRITE_ATTEMPTS 5

/* A transaction being put together: the user, and at most two index keys. */
struct txn {
	struct store_check	 checks[6];
	size_t			 nchecks;
	struct store_op		 ops[3];
	size_t			 nops;
};

static void
add_check(struct txn *t, enum store_check_kind kind, const char *key,
    int64_t revision)
{
	struct store_check *c = &t->checks[t->nchecks++];

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->key = key;
	c->revision = revision;
}

static void
add_op(struct txn *t, enum store_op_kind kind, const char *key, const char *value)
{
	struct store_op *op = &t->ops[t->nops++];

	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->key = key;
	op->value = value;
	op->value_len = value != NULL ? strlen(value) : 0;
}

/* Does the caller's precondition hold for the user as read (found or not)? */
static enum store_result
precondition(const struct store_condition *c, int found,
    const struct store_item *now)
{
	size_t i;

	switch (c->kind) {
	case STORE_IF_ANY:
		return STORE_OK;
	case STORE_IF_ABSENT:
		return found ? STORE_EXISTS : STORE_OK;
	case STORE_IF_PRESENT:
		return found ? STORE_OK : STORE_NOT_FOUND;
	case STORE_IF_REVISION:
		if (!found)
			return STORE_NOT_FOUND;
		if (now->mod_revision == c->revision)
			return STORE_OK;
		for (i = 0; i < c->nalso; i++)
			if (now->mod_revision == c->also[i])
				return STORE_OK;
		return STORE_STALE;
	}
	return STORE_FAILED;
}

static int
names_user(const struct store_item *index, const char *id)
{
	return index->value_len == strlen(id) &&
	    memcmp(index->value, id, index->value_len) == 0;
}

/*
 * Does the user named by an index key still have that email? 1 yes, 0 no
 * (*owner: its revision, 0 when gone), -1 on a store error (*rc). A user
 * that cannot be read keeps its claim: nobody can tell it gave it up.
 */
static int
claim_live(struct store_ctx *ctx, const char *owner_key, const char *index_key,
    struct store_item *owner, enum store_result *rc)
{
	struct user_fields f;
	struct json_object *doc;
	enum store_result r;
	int live;

	memset(owner, 0, sizeof(*owner));
	if ((r = store_get(ctx, owner_key, 1, owner)) == STORE_NOT_FOUND)
		return 0;
	if (r != STORE_OK) {
		*rc = r;
		return -1;
	}
	if ((doc = user_doc_read(owner, &f)) == NULL)
		return 1;
	live = f.email != NULL &&
	    strcmp(user_email_index_key(ctx->arena, f.email), index_key) == 0;
	json_object_put(doc);
	return live;
}

/*
 * The checks and ops that give the email's key (key) to user id: 0, 1
 * when another user holds it, -1 on a store error (*rc).
 */
static int
claim_email(struct store_ctx *ctx, struct txn *t, const char *id,
    const char *key, int force, enum store_result *rc)
{
	struct store_item index, owner;
	const char *owner_key;
	enum store_result r;
	int live;

	if ((r = store_get(ctx, key, force, &index)) == STORE_NOT_FOUND) {
		add_check(t, STORE_CHECK_ABSENT, key, 0);
		add_op(t, STORE_OP_PUT, key, id);
		return 0;
	}
	if (r != STORE_OK) {
		*rc = r;
		return -1;
	}
	if (names_user(&index, id))
		return 0;
	owner_key = arena_concat(ctx->arena, USER_FOLDER, index.value, (char *)NULL);
	if ((live = claim_live(ctx, owner_key, key, &owner, rc)) != 0)
		return live;
	/* A stale key: taken over only if neither it nor its user moves. */
	add_check(t, STORE_CHECK_REVISION, key, index.mod_revision);
	add_check(t, owner.mod_revision > 0 ? STORE_CHECK_REVISION :
	    STORE_CHECK_ABSENT, owner_key, owner.mod_revision);
	add_op(t, STORE_OP_PUT, key, id);
	return 0;
}

/* The user's old email key goes with it, when it is the user's. */
static enum store_result
release_email(struct store_ctx *ctx, struct txn *t, const char *id,
    const char *key, int force)
{
	struct store_item index;
	enum store_result r;

	if ((r = store_get(ctx, key, force, &index)) == STORE_NOT_FOUND)
		return STORE_OK;
	if (r == STORE_OK && names_user(&index, id)) {
		add_check(t, STORE_CHECK_REVISION, key, index.mod_revision);
		add_op(t, STORE_OP_DELETE, key, NULL);
	}
	return r;
}

/* The user as read now: its item, its document (NULL: none or not valid). */
struct current {
	int			 found;
	struct store_item	 item;
	struct json_object	*doc;
	struct user_fields	 f;
	const char		*created_at;	/* copied: make may change doc */
	const char		*email_key;	/* NULL: no email */
};

static enum store_result
read_current(struct store_ctx *ctx, const char *key, int force,
    struct current *cur)
{
	enum store_result r;

	memset(cur, 0, sizeof(*cur));
	if ((r = store_get(ctx, key, force, &cur->item)) == STORE_NOT_FOUND)
		return STORE_OK;
	if (r != STORE_OK)
		return r;
	cur->found = 1;
	if ((cur->doc = user_doc_read(&cur->item, &cur->f)) != NULL) {
		if (cur->f.created_at != NULL)
			cur->created_at = arena_strdup(ctx->arena, cur->f.created_at);
		if (cur->f.email != NULL)
			cur->email_key = user_email_index_key(ctx->arena, cur->f.email);
	}
	return STORE_OK;
}

/* The index's part of a write: 0, or -1 when it is answered (*rc). */
static int
plan_emails(struct store_ctx *ctx, struct user_change *c, struct txn *t,
    const struct current *cur, const char *new_key, int force,
    enum store_result *rc)
{
	int taken;

	if (new_key != NULL &&
	    (taken = claim_email(ctx, t, c->id, new_key, force, rc)) != 0) {
		if (taken == 1) {
			c->email_taken = 1;
			*rc = STORE_FAILED;
		}
		return -1;
	}
	if (cur->email_key != NULL && (new_key == NULL ||
	    strcmp(cur->email_key, new_key) != 0) &&
	    (*rc = release_email(ctx, t, c->id, cur->email_key, force)) != STORE_OK)
		return -1;
	return 0;
}

/* Commit the document c->make made; *doc is the caller's after. */
static enum store_result
commit_doc(struct store_ctx *ctx, struct user_change *c, const char *key,
    const struct current *cur, struct json_object *doc, int force, int *retry)
{
	struct user_problem problems[USER_MAX_PROBLEMS];
	struct user_fields f;
	struct txn t;
	enum store_result rc = STORE_OK;
	const char *text;
	size_t failed;
	int64_t revision;

	memset(&t, 0, sizeof(t));
	user_doc_check(doc, &f, problems, USER_MAX_PROBLEMS);
	add_check(&t, cur->found ? STORE_CHECK_REVISION : STORE_CHECK_ABSENT, key,
	    cur->item.mod_revision);
	text = user_doc_text(ctx->arena, doc, cur->created_at);
	add_op(&t, STORE_OP_PUT, key, text);
	if (plan_emails(ctx, c, &t, cur, f.email ? user_email_index_key(ctx->arena,
	    f.email) : NULL, force, &rc) == -1)
		return rc;
	rc = store_commit(ctx, t.checks, t.nchecks, t.ops, t.nops, &revision, &failed);
	if (rc == STORE_STALE)
		*retry = 1;
	if (rc != STORE_OK)
		return rc;
	c->created = !t.ops[0].existed;
	memset(&c->item, 0, sizeof(c->item));
	c->item.key = key;
	c->item.value = text;
	c->item.value_len = strlen(text);
	c->item.mod_revision = revision;
	c->item.create_revision = t.ops[0].create_revision;
	c->item.version = t.ops[0].version;
	c->item.updated_at = clock_realtime_us();
	return STORE_OK;
}

/* One round: read, make, commit. *retry when etcd had moved on meanwhile. */
static enum store_result
write_once(struct store_ctx *ctx, struct user_change *c, const char *key,
    int force, int *retry)
{
	struct user_problem problems[USER_MAX_PROBLEMS];
	struct current cur;
	struct json_object *doc;
	enum store_result rc;

	memset(&cur, 0, sizeof(cur));
	if (!c->new_id && (rc = read_current(ctx, key, force, &cur)) != STORE_OK)
		return rc;
	if ((rc = precondition(&c->condition, cur.found, &cur.item)) != STORE_OK)
		goto done;
	if (c->must_exist && !cur.found) {
		rc = STORE_NOT_FOUND;
		goto done;
	}
	if ((doc = c->make(c->arg, cur.found ? cur.doc : NULL, &c->errors)) == NULL) {
		/* make needs the user and it is not a valid document: 500. */
		rc = cur.found && cur.doc == NULL && c->errors.count == 0 ?
		    STORE_CORRUPT : STORE_FAILED;
		c->invalid = rc == STORE_FAILED;
		goto done;
	}
	rc = commit_doc(ctx, c, key, &cur, doc, force, retry);
	if (rc == STORE_OK) {
		c->doc = doc;
		user_doc_check(doc, &c->fields, problems, USER_MAX_PROBLEMS);
	} else
		json_object_put(doc);
done:
	json_object_put(cur.doc);
	return rc;
}

enum store_result
user_write(struct store_ctx *ctx, struct user_change *c)
{
	const char *key = user_store_key(ctx->arena, c->id);
	enum store_result rc = STORE_UNAVAILABLE;
	int attempt, retry;

	for (attempt = 0; attempt < USER_WRITE_ATTEMPTS; attempt++) {
		retry = 0;
		rc = write_once(ctx, c, key, attempt > 0, &retry);
		if (!retry)
			return rc;
	}
	/* Moved on every round: busy, nothing was written; the client retries. */
	return STORE_UNAVAILABLE;
}

static enum store_result
delete_once(struct store_ctx *ctx, const char *id, const char *key,
    const struct store_condition *condition, int force, int *retry)
{
	struct current cur;
	struct txn t;
	enum store_result rc;
	size_t failed;
	int64_t revision;

	memset(&t, 0, sizeof(t));
	if ((rc = read_current(ctx, key, force, &cur)) != STORE_OK)
		return rc;
	if (!cur.found)
		rc = STORE_NOT_FOUND;
	else if ((rc = precondition(condition, 1, &cur.item)) == STORE_OK) {
		add_check(&t, STORE_CHECK_REVISION, key, cur.item.mod_revision);
		add_op(&t, STORE_OP_DELETE, key, NULL);
		if (cur.email_key == NULL || (rc = release_email(ctx, &t, id,
		    cur.email_key, force)) == STORE_OK)
			rc = store_commit(ctx, t.checks, t.nchecks, t.ops, t.nops,
			    &revision, &failed);
		*retry = rc == STORE_STALE;
	}
	json_object_put(cur.doc);
	return rc;
}

enum store_result
user_delete(struct store_ctx *ctx, const char *id,
    const struct store_condition *condition)
{
	const char *key = user_store_key(ctx->arena, id);
	enum store_result rc;
	int attempt, retry;

	for (attempt = 0; attempt < USER_WRITE_ATTEMPTS; attempt++) {
		retry = 0;
		rc = delete_once(ctx, id, key, condition, attempt > 0, &retry);
		if (!retry)
			return rc;
	}
	return STORE_UNAVAILABLE;
}
