/*
 * Service discovery over HTTP (API.md §8) and the seed's /servicos forms;
 * see service.h for how an instance lives in etcd. Writes go to etcd;
 * lists come from the replica and never show an instance past its expiry.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/conf.h"
#include "base/util.h"
#include "http/resource.h"
#include "model/keys.h"
#include "model/service.h"
#include "resources/service_resource.h"

static int
name_checked(struct exchange *ex, const char *name)
{
	if (name_valid(name))
		return 0;
	respond_problem(ex, 400, "invalid_key", "a service name matches "
	    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
	return -1;
}

/* endpoint and metadata beyond what the route table checks; -1 after 400. */
static int
body_checked(struct exchange *ex, const char **endpoint,
    struct json_object **metadata)
{
	struct field_error errors[2];
	size_t n = 0;

	*endpoint = arg_text(ex, "endpoint", "");
	/* The seed's form takes none. */
	*metadata = validate_declares(ex->route, "metadata") ?
	    arg_json(ex, "metadata") : NULL;
	if ((errors[n].message = service_endpoint_problem(*endpoint)) != NULL)
		errors[n++].field = "endpoint";
	if (*metadata != NULL &&
	    (errors[n].message = service_metadata_problem(*metadata)) != NULL)
		errors[n++].field = "metadata";
	if (n == 0)
		return 0;
	respond_invalid(ex, "validation_failed", arena_printf(&ex->arena,
	    "the body is not valid: %s %s", errors[0].field, errors[0].message),
	    errors, n);
	return -1;
}

/* Register; on STORE_OK *inst holds the instance (the caller puts its doc). */
static int
register_instance(struct exchange *ex, const char *name,
    struct service_instance *inst)
{
	struct json_object *metadata;
	const char *endpoint;
	struct store_ctx ctx;
	enum store_result rc;

	if (name_checked(ex, name) == -1 ||
	    body_checked(ex, &endpoint, &metadata) == -1)
		return -1;
	resource_store_ctx(ex, &ctx);
	rc = service_register(&ctx, name, endpoint, metadata,
	    arg_int(ex, "ttl", SERVICE_TTL_DEFAULT), inst);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "instance_not_found", "the instance");
		return -1;
	}
	return 0;
}

void
handle_service_register(struct exchange *ex)
{
	struct service_instance inst;

	if (register_instance(ex, ex->params[0], &inst) == -1)
		return;
	respond_json(ex, 201, service_view(inst.doc, inst.revision));
	resource_etag(ex, inst.revision);
	json_object_put(inst.doc);
}

void
handle_service_heartbeat(struct exchange *ex)
{
	struct service_instance inst;
	struct store_ctx ctx;
	enum store_result rc;

	if (name_checked(ex, ex->params[0]) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	rc = service_heartbeat(&ctx, ex->params[0], ex->params[1], &inst);
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "instance_not_found", "the instance "
		    "(or its registration expired)");
		return;
	}
	respond_json(ex, 200, service_view(inst.doc, inst.revision));
	resource_etag(ex, inst.revision);
	json_object_put(inst.doc);
}

void
handle_service_deregister(struct exchange *ex)
{
	struct store_ctx ctx;
	enum store_result rc;

	if (name_checked(ex, ex->params[0]) == -1)
		return;
	resource_store_ctx(ex, &ctx);
	rc = service_deregister(&ctx, ex->params[0], ex->params[1]);
	if (rc != STORE_OK)
		resource_store_error(ex, rc, "instance_not_found", "the instance");
	else
		respond_empty(ex, 204);
}

/*
 * -- reads, and the answers kept for them
 *
 * A list of instances is a document to parse per instance, and a busy
 * service is read far more often than it changes. So each process keeps
 * its last answers, and serves one again while the replica is unchanged
 * (its generation, as the store's caches use it) and none of the
 * instances it lists has expired yet.
 */

#define ANSWER_SLOTS		64
#define ANSWER_MAX_BYTES	(256 * 1024)

enum form { FORM_V1, FORM_SEED };

struct answer {
	char			 name[NAME_MAX_LEN + 1];
	enum form		 form;
	struct store_generation	 generation;	/* the replica it was read at */
	int64_t			 until_us;	/* unix µs: the first expiry in it */
	char			*body;		/* NULL: an empty slot */
	size_t			 len;
};

static struct answer answers[ANSWER_SLOTS];

static struct answer *
answer_slot(const char *name, enum form form)
{
	return &answers[(string_hash(name) * 2 + (uint64_t)form) % ANSWER_SLOTS];
}

/* Answer from a kept answer if it still holds: 1, else 0. */
static int
answer_kept(struct exchange *ex, const char *name, enum form form)
{
	struct answer *a = answer_slot(name, form);
	struct store_ctx ctx;

	if (a->body == NULL || a->form != form || strcmp(a->name, name) != 0 ||
	    !store_generation_current(&a->generation) ||
	    clock_realtime_us() >= a->until_us)
		return 0;
	ex->res.status = 200;
	ex->res.content_type = "application/json";
	buf_append(&ex->res.body, a->body, a->len);
	resource_store_ctx(ex, &ctx);
	store_count_cached_read(&ctx);
	resource_read_headers(ex, &ctx);
	return 1;
}

static void
answer_keep(const struct exchange *ex, const char *name, enum form form,
    const struct store_generation *read_at, int64_t first_expiry)
{
	struct answer *a = answer_slot(name, form);

	if (ex->res.body.len > ANSWER_MAX_BYTES)
		return;
	free(a->body);
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->form = form;
	a->generation = *read_at;
	a->until_us = first_expiry < INT64_MAX / 1000000 ? first_expiry * 1000000 :
	    INT64_MAX;
	a->body = xstrndup(ex->res.body.data, ex->res.body.len);
	a->len = ex->res.body.len;
}

/* The seed's instance: {"id", "endpoint", "status", "timestamp", "expires_at"}. */
static struct json_object *
seed_instance(struct json_object *view)
{
	static const char *const kept[] = { "id", "endpoint", "expires_at" };
	struct json_object *item = json_object_new_object(), *v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kept); i++) {
		json_object_object_get_ex(view, kept[i], &v);
		json_object_object_add(item, kept[i], json_object_get(v));
	}
	json_object_object_add(item, "status", json_object_new_string("active"));
	json_object_object_get_ex(view, "registered_at", &v);
	json_object_object_add(item, "timestamp", json_object_get(v));
	return item;
}

/* The body of either form; takes over items. */
static struct json_object *
instances_body(const char *name, enum form form, struct json_object *items)
{
	struct json_object *body;
	size_t i, n;

	if (form == FORM_SEED) {
		body = json_object_new_array();
		n = json_object_array_length(items);
		for (i = 0; i < n; i++)
			json_object_array_add(body,
			    seed_instance(json_object_array_get_idx(items, i)));
		json_object_put(items);
		return body;
	}
	body = json_object_new_object();
	json_object_object_add(body, "name", json_object_new_string(name));
	json_object_object_add(body, "instances", items);
	return body;
}

static void
answer_instances(struct exchange *ex, const char *name, enum form form)
{
	struct store_generation read_at;
	struct json_object *items, *body;
	struct store_ctx ctx;
	enum store_result rc;
	int64_t first_expiry;

	if (name_checked(ex, name) == -1 || answer_kept(ex, name, form))
		return;
	/* Taken before the read: a change committed meanwhile retires it. */
	read_at = store_generation();
	resource_store_ctx(ex, &ctx);
	items = json_object_new_array();
	if ((rc = service_instances(&ctx, name, items, &first_expiry)) != STORE_OK) {
		json_object_put(items);
		resource_store_error(ex, rc, "service_not_found", "the service");
		return;
	}
	body = instances_body(name, form, items);
	respond_json(ex, 200, body);
	json_object_put(body);
	resource_read_headers(ex, &ctx);
	/* Read from etcd (a cold node): nothing the replica vouches for. */
	if (ctx.cache != CACHE_BYPASS)
		answer_keep(ex, name, form, &read_at, first_expiry);
}

void
handle_service_get(struct exchange *ex)
{
	answer_instances(ex, ex->params[0], FORM_V1);
}

void
handle_service_list(struct exchange *ex)
{
	struct json_object *items;
	struct store_ctx ctx;
	enum store_result rc;
	int64_t limit, offset, total;

	resource_pagination(ex, &limit, &offset);
	resource_store_ctx(ex, &ctx);
	items = json_object_new_array();
	if ((rc = service_names(&ctx, limit, offset, items, &total)) != STORE_OK) {
		json_object_put(items);
		resource_store_error(ex, rc, "service_not_found", "the service");
		return;
	}
	resource_respond_list(ex, &ctx, items, total, limit, offset);
}

/* -- the seed's forms */

void
handle_seed_service_register(struct exchange *ex)
{
	struct service_instance inst;
	struct json_object *body, *expires;
	const char *name = arg_text(ex, "nome", "");

	if (register_instance(ex, name, &inst) == -1)
		return;
	body = json_object_new_object();
	json_object_object_add(body, "mensagem",
	    json_object_new_string("Serviço registrado"));
	json_object_object_add(body, "chave", json_object_new_string(arena_concat(
	    &ex->arena, conf.etcd.prefix, "services/", name, "/", inst.id,
	    (char *)NULL)));
	json_object_object_add(body, "id", json_object_new_string(inst.id));
	json_object_object_get_ex(inst.doc, "expires_at", &expires);
	json_object_object_add(body, "expires_at", json_object_get(expires));
	respond_json(ex, 200, body);
	json_object_put(body);
	json_object_put(inst.doc);
}

void
handle_seed_service_get(struct exchange *ex)
{
	answer_instances(ex, ex->params[0], FORM_SEED);
}
