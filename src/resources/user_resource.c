/*
 * Users over HTTP; see user_resource.h. A write checks the whole body
 * (model/user.c), then goes to etcd with its email's index key in one
 * transaction (model/user_store.c); reads and lists come from the replica
 * and its users index (store/user_index.h).
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/util.h"
#include "http/ordering.h"
#include "http/resource.h"
#include "http/validate.h"
#include "model/keys.h"
#include "model/user.h"
#include "model/user_store.h"
#include "resources/user_resource.h"
#include "store/user_index.h"

/* Where a write's revision came from: it decides 409 against 412. */
enum revision_source { REVISION_HEADER, REVISION_BODY };

#define SEED_RESERVED "reserved: the seed form's (/usuarios) name for name, age or id"
#define API_RESERVED "reserved: /v1/users's name for nome, idade or _id"

const char *
user_body_check(const char *field, struct json_object *value)
{
	if (strcmp(field, "name") == 0)
		return user_name_problem(value);
	if (strcmp(field, "email") == 0)
		return user_email_problem(value);
	if (strcmp(field, "nome") == 0 || strcmp(field, "idade") == 0 ||
	    strcmp(field, "_id") == 0)
		return SEED_RESERVED;
	return NULL;
}

const char *
seed_user_body_check(const char *field, struct json_object *value)
{
	if (strcmp(field, "nome") == 0)
		return user_name_problem(value);
	if (strcmp(field, "email") == 0)
		return user_email_problem(value);
	if (strcmp(field, "name") == 0 || strcmp(field, "age") == 0 ||
	    strcmp(field, "id") == 0)
		return API_RESERVED;
	return NULL;
}

/* The path's id; NULL after answering 400. deleting: a hand-written one too. */
static const char *
path_id(struct exchange *ex, int deleting)
{
	const char *id = ex->params[0];

	if (user_id_valid(id) || (deleting && id != NULL &&
	    strchr(id, '/') == NULL && stored_key_deletable(id)))
		return id;
	respond_problem(ex, 400, "invalid_key", "a user id matches "
	    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
	return NULL;
}

static void
respond_user_errors(struct exchange *ex, const struct user_errors *errors)
{
	struct field_error list[USER_MAX_PROBLEMS];
	size_t i, n = errors->count < USER_MAX_PROBLEMS ? errors->count :
	    USER_MAX_PROBLEMS;

	for (i = 0; i < n; i++) {
		list[i].field = errors->items[i].field;
		list[i].message = errors->items[i].message;
	}
	respond_invalid(ex, "validation_failed", arena_printf(&ex->arena,
	    "the user is not valid: %s %s", list[0].field, list[0].message),
	    list, n);
}

/* A write that did not happen, answered. */
static void
respond_write_failure(struct exchange *ex, enum store_result rc,
    const struct user_change *c, enum revision_source source)
{
	if (c->invalid)
		respond_user_errors(ex, &c->errors);
	else if (c->email_taken)
		respond_problem(ex, 409, "email_taken", "another user has that "
		    "email (emails compare in any case)");
	else if (rc == STORE_STALE && source == REVISION_BODY)
		respond_problem(ex, 409, "revision_mismatch", "the user has changed "
		    "since revision %lld; read it again",
		    (long long)c->condition.revision);
	else if (rc == STORE_CORRUPT)
		resource_store_error(ex, rc, "user_not_found", arena_concat(&ex->arena,
		    "the user at ", USER_FOLDER, c->id, (char *)NULL));
	else
		resource_store_error(ex, rc, "user_not_found", "the user");
}

/* The body's "revision" as a precondition; 0, or -1 after answering 400. */
static int
body_revision(struct exchange *ex, struct store_condition *condition,
    enum revision_source *source)
{
	struct json_object *v = arg_json(ex, "revision");
	const char *errstr = NULL;
	int64_t revision = -1;

	*source = REVISION_HEADER;
	if (v == NULL || condition->kind != STORE_IF_ANY)
		return 0;	/* none, or If-Match / If-None-Match win */
	if (json_object_is_type(v, json_type_int) &&
	    json_object_get_uint64(v) <= INT64_MAX)
		revision = json_object_get_int64(v);
	else if (json_object_is_type(v, json_type_string))
		revision = strtonum(json_object_get_string(v), 1, INT64_MAX, &errstr);
	if (revision < 1 || errstr != NULL) {
		struct field_error error = { "revision", "must be a positive integer" };

		respond_invalid(ex, "validation_failed", "the revision in the body "
		    "is not a positive integer", &error, 1);
		return -1;
	}
	condition->kind = STORE_IF_REVISION;
	condition->revision = revision;
	*source = REVISION_BODY;
	return 0;
}

/* How each write makes its document. */
struct maker {
	struct json_object	*body;
	enum user_form		 form;
	const char		*path_id;
};

static struct json_object *
make_from_body(void *arg, struct json_object *current, struct user_errors *errors)
{
	struct maker *m = arg;

	(void)current;
	return user_doc_from_body(m->body, m->form, m->path_id, errors);
}

static struct json_object *
make_patched(void *arg, struct json_object *current, struct user_errors *errors)
{
	struct maker *m = arg;

	memset(errors, 0, sizeof(*errors));
	return current == NULL ? NULL :
	    user_doc_patch(current, m->body, m->path_id, errors);
}

static void
run_write(struct exchange *ex, struct user_change *c,
    enum revision_source source, user_done_fn *done)
{
	struct store_ctx ctx;
	enum store_result rc;

	resource_store_ctx(ex, &ctx);
	rc = user_write(&ctx, c);
	if (rc != STORE_OK)
		respond_write_failure(ex, rc, c, source);
	else
		done(ex, &c->item, c->doc, &c->fields, c->created);
	json_object_put(c->doc);
}

void
users_create(struct exchange *ex, enum user_form form, user_done_fn *done)
{
	struct maker m = { ex->json, form, NULL };
	struct user_change c;
	char id[USER_ID_LEN + 1];

	if (user_new_id(id) == -1) {
		respond_problem(ex, 500, "internal_error", "no random id to be had");
		return;
	}
	memset(&c, 0, sizeof(c));
	c.id = id;
	c.new_id = 1;
	c.make = make_from_body;
	c.arg = &m;
	run_write(ex, &c, REVISION_HEADER, done);
}

void
users_replace(struct exchange *ex, enum user_form form, int must_exist,
    user_done_fn *done)
{
	struct maker m = { ex->json, form, NULL };
	struct user_change c;
	enum revision_source source = REVISION_HEADER;

	memset(&c, 0, sizeof(c));
	if ((m.path_id = c.id = path_id(ex, 0)) == NULL ||
	    resource_condition(ex, STORE_IF_ANY, &c.condition) == -1 ||
	    (form == USER_FORM_API && body_revision(ex, &c.condition, &source) == -1))
		return;
	c.must_exist = must_exist;
	c.make = make_from_body;
	c.arg = &m;
	run_write(ex, &c, source, done);
}

void
users_delete(struct exchange *ex, enum user_form form, user_done_fn *done)
{
	struct store_condition condition;
	struct store_ctx ctx;
	enum store_result rc;
	const char *id;

	(void)form;
	if ((id = path_id(ex, 1)) == NULL ||
	    resource_condition(ex, STORE_IF_ANY, &condition) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	if ((rc = user_delete(&ctx, id, &condition)) != STORE_OK) {
		resource_store_error(ex, rc, "user_not_found", "the user");
		return;
	}
	done(ex, NULL, NULL, NULL, 0);
}

void
users_get(struct exchange *ex, enum user_form form)
{
	struct json_object *doc, *body;
	struct user_fields f;
	struct store_item item;
	struct store_ctx ctx;
	enum store_result rc;
	const char *id;

	if ((id = path_id(ex, 0)) == NULL)
		return;
	resource_store_ctx(ex, &ctx);
	rc = store_get(&ctx, user_store_key(&ex->arena, id), arg_bool(ex, "force", 0),
	    &item);
	if (rc == STORE_OK && (doc = user_doc_read(&item, &f)) == NULL)
		rc = STORE_CORRUPT;
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "user_not_found", rc == STORE_CORRUPT ?
		    arena_concat(&ex->arena, "the user at ", item.key, (char *)NULL) :
		    "the user");
	} else {
		body = user_to_json(&item, doc, &f, form);
		respond_json(ex, 200, body);
		resource_etag(ex, item.mod_revision);
		json_object_put(body);
		json_object_put(doc);
	}
	if (rc == STORE_OK || rc == STORE_NOT_FOUND)
		resource_read_headers(ex, &ctx);
}

int
users_page(struct exchange *ex, enum user_form form, const struct user_query *q,
    struct store_ctx *ctx, struct buf *out, int64_t *total)
{
	struct store_item *found;
	struct json_object *doc, *json;
	struct user_fields f;
	unsigned char *plain;
	const char *text;
	enum store_result rc;
	size_t count, i;

	rc = store_user_search(ctx, q, &found, &plain, &count, total);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "user_not_found", "the user");
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (i > 0)
			buf_putc(out, ',');
		/* Most are served as stored; the others through json-c. */
		if (plain[i] && user_render_plain(out, &found[i], form) == 0)
			continue;
		/* The index holds valid users only: NULL would be a bug, logged. */
		if ((doc = user_doc_read(&found[i], &f)) == NULL) {
			buf_puts(out, "null");
			continue;
		}
		json = user_to_json(&found[i], doc, &f, form);
		/* An id written by hand may not be UTF-8 (as respond_json). */
		text = json_object_to_json_string_ext(json,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		buf_put_utf8(out, text, strlen(text));
		json_object_put(json);
		json_object_put(doc);
	}
	return 0;
}

/* --- /v1/users */

static void
respond_user(struct exchange *ex, int status, const struct store_item *item,
    struct json_object *doc, const struct user_fields *f)
{
	struct json_object *body = user_to_json(item, doc, f, USER_FORM_API);

	respond_json(ex, status, body);
	json_object_put(body);
	resource_etag(ex, item->mod_revision);
}

static void
created_or_replaced(struct exchange *ex, const struct store_item *item,
    struct json_object *doc, const struct user_fields *f, int created)
{
	respond_user(ex, created ? 201 : 200, item, doc, f);
	if (created)
		response_header(ex, "Location", arena_concat(&ex->arena, "/v1/users/",
		    user_id_of(item->key), (char *)NULL));
}

static void
deleted(struct exchange *ex, const struct store_item *item,
    struct json_object *doc, const struct user_fields *f, int created)
{
	(void)item;
	(void)doc;
	(void)f;
	(void)created;
	respond_empty(ex, 204);
}

void
handle_user_create(struct exchange *ex)
{
	users_create(ex, USER_FORM_API, created_or_replaced);
}

void
handle_user_put(struct exchange *ex)
{
	users_replace(ex, USER_FORM_API, 0, created_or_replaced);
}

void
handle_user_patch(struct exchange *ex)
{
	struct maker m = { ex->json, USER_FORM_API, NULL };
	struct user_change c;
	enum revision_source source = REVISION_HEADER;

	memset(&c, 0, sizeof(c));
	if ((m.path_id = c.id = path_id(ex, 0)) == NULL ||
	    resource_condition(ex, STORE_IF_ANY, &c.condition) == -1 ||
	    body_revision(ex, &c.condition, &source) == -1)
		return;
	c.must_exist = 1;
	c.make = make_patched;
	c.arg = &m;
	run_write(ex, &c, source, created_or_replaced);
}

void
handle_user_delete(struct exchange *ex)
{
	users_delete(ex, USER_FORM_API, deleted);
}

void
handle_user_get(struct exchange *ex)
{
	users_get(ex, USER_FORM_API);
}

static const char *const order_fields[] = { "name", "email", "age",
    "created_at", "updated_at" };
static const enum user_order_field order_of[] = { USER_ORDER_NAME,
    USER_ORDER_EMAIL, USER_ORDER_AGE, USER_ORDER_CREATED_AT,
    USER_ORDER_UPDATED_AT };

/* ?ordering= into q; -1 after answering 400 invalid_ordering. */
static int
query_order(struct exchange *ex, struct user_query *q)
{
	struct ordering order;
	size_t i;

	if (ordering_parse(ex, order_fields, ARRAY_SIZE(order_fields), &order) == -1)
		return -1;
	if (arg_get(ex, "ordering") == NULL)
		return 0;	/* created_at, the index's default */
	for (i = 0; i < order.count; i++) {
		q->order[i] = order_of[order.field[i]];
		q->descending[i] = order.descending[i];
	}
	q->norder = order.count;
	return 0;
}

void
handle_user_list(struct exchange *ex)
{
	struct user_query q;
	struct buf *body;
	struct store_ctx ctx;
	int64_t total;

	memset(&q, 0, sizeof(q));
	q.name = arg_text(ex, "name", NULL);
	q.email = arg_text(ex, "email", NULL);
	q.search = arg_text(ex, "search", NULL);
	resource_pagination(ex, &q.limit, &q.offset);
	if (query_order(ex, &q) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	body = &ex->res.body;
	buf_reset(body);
	buf_puts(body, "{\"items\":[");
	if (users_page(ex, USER_FORM_API, &q, &ctx, body, &total) == -1)
		return;
	buf_puts(body, "],\"total\":");
	buf_put_int(body, total);
	buf_puts(body, ",\"limit\":");
	buf_put_int(body, q.limit);
	buf_puts(body, ",\"offset\":");
	buf_put_int(body, q.offset);
	buf_putc(body, '}');
	ex->res.status = 200;
	ex->res.content_type = "application/json";
	resource_read_headers(ex, &ctx);
}
