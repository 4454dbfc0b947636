/*
 * The seed's /usuarios and /config; see seed_resource.h. What the seed got
 * wrong is not copied: bodies are checked (the same rules as /v1/users),
 * values keep their JSON types, a search reads the users index, and an
 * email is unique.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/conf.h"
#include "http/resource.h"
#include "http/validate.h"
#include "model/keys.h"
#include "resources/seed_resource.h"
#include "resources/user_resource.h"
#include "store/user_index.h"

/* {"mensagem": message, "id": id} and, when created, the etcd key. */
static void
respond_message(struct exchange *ex, int status, const char *message,
    const char *id, int with_key)
{
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "mensagem", json_object_new_string(message));
	if (id != NULL)
		json_object_object_add(body, "id", json_object_new_string(id));
	if (with_key)
		json_object_object_add(body, "chave", json_object_new_string(
		    arena_concat(&ex->arena, conf.etcd.prefix, USER_FOLDER, id,
		    (char *)NULL)));
	respond_json(ex, status, body);
	json_object_put(body);
}

static void
created(struct exchange *ex, const struct store_item *item,
    struct json_object *doc, const struct user_fields *f, int was_created)
{
	(void)doc;
	(void)f;
	(void)was_created;
	respond_message(ex, 201, "Usuário criado com sucesso",
	    user_id_of(item->key), 1);
	resource_etag(ex, item->mod_revision);
}

static void
updated(struct exchange *ex, const struct store_item *item,
    struct json_object *doc, const struct user_fields *f, int was_created)
{
	(void)doc;
	(void)f;
	(void)was_created;
	respond_message(ex, 200, "Usuário atualizado", user_id_of(item->key), 0);
	resource_etag(ex, item->mod_revision);
}

static void
deleted(struct exchange *ex, const struct store_item *item,
    struct json_object *doc, const struct user_fields *f, int was_created)
{
	(void)item;
	(void)doc;
	(void)f;
	(void)was_created;
	respond_message(ex, 200, "Usuário deletado", ex->params[0], 0);
}

void
handle_seed_user_create(struct exchange *ex)
{
	users_create(ex, USER_FORM_SEED, created);
}

void
handle_seed_user_put(struct exchange *ex)
{
	/* The seed's PUT updates: a user that does not exist is a 404. */
	users_replace(ex, USER_FORM_SEED, 1, updated);
}

void
handle_seed_user_delete(struct exchange *ex)
{
	users_delete(ex, USER_FORM_SEED, deleted);
}

void
handle_seed_user_get(struct exchange *ex)
{
	users_get(ex, USER_FORM_SEED);
}

/* A JSON array of users in the seed's names: every one, unless ?limit=. */
static void
seed_list(struct exchange *ex, const char *name)
{
	struct user_query q;
	struct store_ctx ctx;
	int64_t total;

	memset(&q, 0, sizeof(q));
	q.name = name;
	q.limit = arg_int(ex, "limit", -1);
	q.offset = arg_int(ex, "offset", 0);
	resource_store_ctx(ex, &ctx);
	buf_reset(&ex->res.body);
	buf_putc(&ex->res.body, '[');
	if (users_page(ex, USER_FORM_SEED, &q, &ctx, &ex->res.body, &total) == -1)
		return;
	buf_putc(&ex->res.body, ']');
	ex->res.status = 200;
	ex->res.content_type = "application/json";
	resource_read_headers(ex, &ctx);
}

void
handle_seed_user_list(struct exchange *ex)
{
	seed_list(ex, NULL);
}

void
handle_seed_user_search(struct exchange *ex)
{
	/* Required (routes.c): without it the pipeline answered 400. */
	seed_list(ex, arg_text(ex, "nome", NULL));
}

/* "config/app/K" for the path's K; NULL after answering 400. */
static const char *
seed_config_key(struct exchange *ex)
{
	const char *k = ex->params[0];
	const char *key = arena_concat(&ex->arena, "app/", k, (char *)NULL);

	if (!config_key_valid(key)) {
		respond_problem(ex, 400, "invalid_key", "a config key is names of "
		    "[A-Za-z0-9][A-Za-z0-9._-]* joined by '/'");
		return NULL;
	}
	return arena_concat(&ex->arena, "config/", key, (char *)NULL);
}

void
handle_seed_config_get(struct exchange *ex)
{
	struct store_item item;
	struct store_ctx ctx;
	enum store_result rc;
	const char *key;

	if ((key = seed_config_key(ex)) == NULL)
		return;
	resource_store_ctx(ex, &ctx);
	rc = store_get(&ctx, key, 0, &item);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "config_not_found", "the config entry");
	} else {
		/* {"K": value}, the value as §6 shows it. */
		ex->res.status = 200;
		ex->res.content_type = "application/json";
		buf_reset(&ex->res.body);
		buf_putc(&ex->res.body, '{');
		buf_json_string(&ex->res.body, ex->params[0]);
		buf_putc(&ex->res.body, ':');
		resource_put_value(&ex->res.body, item.key, item.value, item.value_len);
		buf_putc(&ex->res.body, '}');
		resource_etag(ex, item.mod_revision);
	}
	if (rc == STORE_OK || rc == STORE_NOT_FOUND)
		resource_read_headers(ex, &ctx);
}

void
handle_seed_config_put(struct exchange *ex)
{
	struct store_condition condition;
	struct store_item item;
	struct store_ctx ctx;
	/* Required, so present; a JSON null is a json-c NULL, stored as null. */
	struct json_object *value = arg_json(ex, "valor");
	enum store_result rc;
	const char *key, *text;
	int was_created = 0;

	if ((key = seed_config_key(ex)) == NULL ||
	    resource_condition(ex, STORE_IF_ANY, &condition) == -1)
		return;
	text = value == NULL ? "null" : json_object_to_json_string_ext(value,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	resource_store_ctx(ex, &ctx);
	rc = store_put(&ctx, key, text, strlen(text), 0, &condition, &item,
	    &was_created);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "config_not_found", "the config entry");
		return;
	}
	respond_message(ex, 200, "Configuração atualizada", NULL, 0);
	resource_etag(ex, item.mod_revision);
}
