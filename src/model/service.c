/*
 * Service discovery; see service.h for the rules it keeps.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/log.h"
#include "base/util.h"
#include "model/service.h"
#include "store/lease.h"
#include "store/stored_doc.h"

/* -- endpoints */

static int
label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* A DNS name or an IPv4 address: dot-separated labels of 1 to 63. */
static const char *
name_problem(const char *host, size_t len)
{
	size_t i, label = 0;

	if (len > 253)
		return "the host name is longer than 253 bytes";
	for (i = 0; i <= len; i++) {
		if (i == len || host[i] == '.') {
			if (label == 0 || host[i - 1] == '-' || host[i - label] == '-')
				return "the host is not a valid name or address";
			label = 0;
		} else if (!label_char(host[i]) || ++label > 63) {
			return "the host is not a valid name or address";
		}
	}
	return NULL;
}

static const char *
host_problem(const char *host, size_t len)
{
	char inside[64];
	struct in6_addr addr;

	if (len == 0)
		return "has no host";
	if (host[0] != '[')
		return name_problem(host, len);
	if (len < 3 || host[len - 1] != ']' || len - 2 >= sizeof(inside))
		return "the host is not a valid IPv6 address in brackets";
	memcpy(inside, host + 1, len - 2);
	inside[len - 2] = '\0';
	return inet_pton(AF_INET6, inside, &addr) == 1 ? NULL :
	    "the host is not a valid IPv6 address in brackets";
}

static const char *
port_problem(const char *port, size_t len)
{
	char digits[6];
	const char *errstr;

	if (len == 0 || len > 5 || strspn(port, "0123456789") < len)
		return "the port must be a number from 1 to 65535";
	memcpy(digits, port, len);
	digits[len] = '\0';
	strtonum(digits, 1, 65535, &errstr);
	return errstr == NULL ? NULL : "the port must be a number from 1 to 65535";
}

/* host[:port] (the port required unless optional) within s[0..len). */
static const char *
hostport_problem(const char *s, size_t len, int port_optional)
{
	const char *colon = NULL, *end = s + len, *p;

	if (len > 0 && s[0] == '[') {
		p = memchr(s, ']', len);
		if (p != NULL && p + 1 < end) {
			if (p[1] != ':')
				return "the host is not a valid IPv6 address in brackets";
			colon = p + 1;
		}
	} else {
		for (p = s; p < end; p++)
			if (*p == ':')
				colon = p;
	}
	if (colon == NULL)
		return port_optional ? host_problem(s, len) :
		    "must be an http:// or https:// URL, or host:port";
	if ((p = host_problem(s, (size_t)(colon - s))) != NULL)
		return p;
	return port_problem(colon + 1, (size_t)(end - colon - 1));
}

const char *
service_endpoint_problem(const char *endpoint)
{
	size_t len = strlen(endpoint), skip = 0, i;

	if (len == 0)
		return "must not be empty";
	if (len > SERVICE_ENDPOINT_MAX)
		return "is longer than 1024 bytes";
	for (i = 0; i < len; i++)
		if ((unsigned char)endpoint[i] <= 0x20 ||
		    (unsigned char)endpoint[i] >= 0x7f)
			return "must be printable ASCII without spaces";
	if (strncasecmp(endpoint, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(endpoint, "https://", 8) == 0)
		skip = 8;
	if (skip == 0)
		return hostport_problem(endpoint, len, 0);
	endpoint += skip;
	len = strcspn(endpoint, "/?#");
	if (memchr(endpoint, '@', len) != NULL)
		return "must not hold user:password@";
	return hostport_problem(endpoint, len, 1);
}

const char *
service_metadata_problem(struct json_object *metadata)
{
	if (!json_object_is_type(metadata, json_type_object))
		return "must be a JSON object";
	if (strlen(json_object_to_json_string_ext(metadata,
	    JSON_C_TO_STRING_PLAIN)) > SERVICE_METADATA_MAX)
		return "is larger than 4096 bytes as JSON";
	return NULL;
}

/* -- documents */

const char *
service_key(struct arena *arena, const char *name, const char *id)
{
	return arena_concat(arena, "services/", name, "/", id, (char *)NULL);
}

int
service_expired(const struct service_instance *inst, int64_t now_us)
{
	return now_us >= inst->expires * 1000000;
}

static void
set_string(struct json_object *doc, const char *name, const char *value)
{
	json_object_object_add(doc, name, json_object_new_string(value));
}

/* The expiry a lease gives, written into doc. */
static int64_t
set_expiry(struct json_object *doc, const struct store_lease *lease)
{
	int64_t expires = lease->expires_us / 1000000;
	char text[32];

	format_rfc3339(expires, text, sizeof(text));
	json_object_object_add(doc, "ttl", json_object_new_int64(lease->ttl));
	set_string(doc, "expires_at", text);
	json_object_object_add(doc, "expires", json_object_new_int64(expires));
	return expires;
}

static struct json_object *
new_doc(const char *name, const char *id, const char *endpoint,
    struct json_object *metadata, const struct store_lease *lease)
{
	struct json_object *doc = json_object_new_object();
	char registered[32];

	format_rfc3339((lease->expires_us - lease->ttl * 1000000) / 1000000,
	    registered, sizeof(registered));
	set_string(doc, "id", id);
	set_string(doc, "service", name);
	set_string(doc, "endpoint", endpoint);
	json_object_object_add(doc, "metadata", metadata != NULL ?
	    json_object_get(metadata) : json_object_new_object());
	set_string(doc, "registered_at", registered);
	set_expiry(doc, lease);
	return doc;
}

/* The instance a stored item holds; -1 (logged) when it is not one. */
static int
instance_from_item(const struct store_item *item, struct service_instance *inst)
{
	struct json_object *doc, *id, *expires;

	memset(inst, 0, sizeof(*inst));
	if ((doc = stored_doc_parse(item->key, item->value, item->value_len)) == NULL)
		return -1;
	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "id", &id) ||
	    !json_object_is_type(id, json_type_string) ||
	    !json_object_object_get_ex(doc, "expires", &expires) ||
	    !json_object_is_type(expires, json_type_int)) {
		log_warn("service instance %s is not an instance document", item->key);
		json_object_put(doc);
		return -1;
	}
	inst->doc = doc;
	inst->id = json_object_get_string(id);
	inst->expires = json_object_get_int64(expires);
	inst->lease = item->lease;
	inst->revision = item->mod_revision;
	return 0;
}

struct json_object *
service_view(struct json_object *doc, int64_t revision)
{
	json_object_object_del(doc, "expires");
	json_object_object_add(doc, "revision", json_object_new_int64(revision));
	return doc;
}

/* -- operations */

/* Write doc at key on its lease, if the key is still on it. */
static enum store_result
put_on_lease(struct store_ctx *ctx, const char *key, struct service_instance *inst,
    int must_exist)
{
	struct store_check check = { .kind = STORE_CHECK_LEASE, .key = key };
	struct store_op op = { .kind = STORE_OP_PUT, .key = key };
	const char *text = json_object_to_json_string_ext(inst->doc,
	    JSON_C_TO_STRING_PLAIN);
	enum store_result rc;
	size_t failed;

	check.lease = inst->lease;
	op.value = text;
	op.value_len = strlen(text);
	op.lease = inst->lease;
	rc = store_commit(ctx, &check, must_exist ? 1 : 0, &op, 1,
	    &inst->revision, &failed);
	return rc == STORE_STALE ? STORE_NOT_FOUND : rc;
}

enum store_result
service_register(struct store_ctx *ctx, const char *name, const char *endpoint,
    struct json_object *metadata, int64_t ttl, struct service_instance *inst)
{
	struct store_lease lease;
	enum store_result rc;
	char id[SERVICE_ID_LEN + 1];

	memset(inst, 0, sizeof(*inst));
	if ((rc = store_lease_grant(ctx, ttl, &lease)) != STORE_OK)
		return rc;
	ctx->actor.action = "register";
	store_lease_hex(lease.id, id);
	inst->doc = new_doc(name, id, endpoint, metadata, &lease);
	inst->id = json_object_get_string(json_object_object_get(inst->doc, "id"));
	inst->lease = lease.id;
	inst->expires = lease.expires_us / 1000000;
	rc = put_on_lease(ctx, service_key(ctx->arena, name, id), inst, 0);
	if (rc == STORE_OK)
		return STORE_OK;
	/* Revoked, the lease takes the key along if the put did land. */
	if (store_lease_revoke(ctx, lease.id) == STORE_OK)
		rc = STORE_UNAVAILABLE;
	json_object_put(inst->doc);
	inst->doc = NULL;
	return rc;
}

/* Instance id of name as the replica (force: etcd) has it, on its own lease. */
static enum store_result
read_instance(struct store_ctx *ctx, const char *key, int64_t lease, int force,
    struct service_instance *inst)
{
	struct store_item item;
	enum store_result rc;

	memset(inst, 0, sizeof(*inst));
	if ((rc = store_get(ctx, key, force, &item)) != STORE_OK)
		return rc;
	if (item.lease != lease)
		return STORE_NOT_FOUND;		/* put by hand, not registered */
	return instance_from_item(&item, inst) == 0 ? STORE_OK : STORE_CORRUPT;
}

enum store_result
service_heartbeat(struct store_ctx *ctx, const char *name, const char *id,
    struct service_instance *inst)
{
	const char *key = service_key(ctx->arena, name, id);
	int64_t lease = store_lease_parse_hex(id);
	struct store_lease renewed;
	enum store_result rc;

	memset(inst, 0, sizeof(*inst));
	if (lease == 0)
		return STORE_NOT_FOUND;
	/* The replica may lag behind a heartbeat made elsewhere: etcd decides. */
	rc = read_instance(ctx, key, lease, 0, inst);
	if (rc != STORE_OK || service_expired(inst, clock_realtime_us())) {
		json_object_put(inst->doc);
		if ((rc = read_instance(ctx, key, lease, 1, inst)) != STORE_OK)
			return rc;
	}
	if (service_expired(inst, clock_realtime_us())) {
		store_lease_revoke(ctx, lease);
		rc = STORE_NOT_FOUND;
	} else if ((rc = store_lease_keepalive(ctx, lease, &renewed)) == STORE_OK) {
		inst->expires = set_expiry(inst->doc, &renewed);
		/* A renewal: no record (API.md §14), the audit table skips it. */
		ctx->actor.name = NULL;
		rc = put_on_lease(ctx, key, inst, 1);
	}
	if (rc != STORE_OK) {
		json_object_put(inst->doc);
		inst->doc = NULL;
	}
	return rc;
}

enum store_result
service_deregister(struct store_ctx *ctx, const char *name, const char *id)
{
	struct store_check check = { .kind = STORE_CHECK_LEASE };
	struct store_op op = { .kind = STORE_OP_DELETE };
	enum store_result rc;
	int64_t revision;
	size_t failed;

	if ((check.lease = store_lease_parse_hex(id)) == 0)
		return STORE_NOT_FOUND;
	check.key = op.key = service_key(ctx->arena, name, id);
	ctx->actor.action = "deregister";
	/* Deleted first (with its record), so this node's replica drops it at once. */
	rc = store_commit(ctx, &check, 1, &op, 1, &revision, &failed);
	if (rc == STORE_STALE)
		return STORE_NOT_FOUND;
	if (rc != STORE_OK)
		return rc;
	/* Out of reach now, the lease lapses by itself, holding no key. */
	store_lease_revoke(ctx, check.lease);
	return STORE_OK;
}

/* -- lists */

/* Called for each live instance under prefix; stops on its non-zero. */
typedef int instance_fn(void *arg, const char *key,
    struct service_instance *inst);

/* Every stored instance under prefix, a page at a time, each page in its own arena. */
static enum store_result
each_live(struct store_ctx *ctx, const char *prefix, instance_fn *fn, void *arg)
{
	struct arena *own = ctx->arena, page;
	enum store_result rc = STORE_OK;
	int64_t start, stored = 1, now = clock_realtime_us();
	int stop = 0;

	for (start = 0; rc == STORE_OK && !stop && start < stored; start += 1000) {
		struct store_item *found;
		struct service_instance inst;
		size_t count = 0, i;

		arena_init(&page);
		ctx->arena = &page;
		rc = store_list(ctx, prefix, 1000, start, &found, &count, &stored);
		for (i = 0; rc == STORE_OK && !stop && i < count; i++) {
			if (instance_from_item(&found[i], &inst) == -1)
				continue;
			if (!service_expired(&inst, now))
				stop = fn(arg, found[i].key, &inst);
			json_object_put(inst.doc);
		}
		arena_free(&page);
		if (count == 0)
			break;
	}
	ctx->arena = own;
	return rc;
}

struct views {
	struct json_object *items;
	int64_t		 first_expiry;
};

static int
add_view(void *arg, const char *key, struct service_instance *inst)
{
	struct views *v = arg;

	(void)key;
	json_object_array_add(v->items, service_view(json_object_get(inst->doc),
	    inst->revision));
	if (inst->expires < v->first_expiry)
		v->first_expiry = inst->expires;
	return 0;
}

enum store_result
service_instances(struct store_ctx *ctx, const char *name,
    struct json_object *items, int64_t *first_expiry)
{
	struct views v = { items, INT64_MAX };
	enum store_result rc;

	rc = each_live(ctx, service_key(ctx->arena, name, ""), add_view, &v);
	*first_expiry = v.first_expiry;
	return rc;
}

struct name_count {
	struct json_object *items;
	int64_t		 limit, offset, total;
	char		 name[256];	/* the service counted now, "" first */
	int64_t		 count;
};

/* The service counted so far goes into the page if it falls in it. */
static void
name_done(struct name_count *c)
{
	struct json_object *item;

	if (c->name[0] == '\0')
		return;
	if (c->total >= c->offset && c->total - c->offset < c->limit) {
		item = json_object_new_object();
		set_string(item, "name", c->name);
		json_object_object_add(item, "instances", json_object_new_int64(c->count));
		json_object_array_add(c->items, item);
	}
	c->total++;
	c->name[0] = '\0';
}

static int
count_name(void *arg, const char *key, struct service_instance *inst)
{
	struct name_count *c = arg;
	const char *name = key + strlen("services/");
	size_t len = strcspn(name, "/");

	(void)inst;
	if (len >= sizeof(c->name))
		return 0;
	if (strncmp(c->name, name, len) != 0 || c->name[len] != '\0') {
		name_done(c);
		memcpy(c->name, name, len);
		c->name[len] = '\0';
		c->count = 0;
	}
	c->count++;
	return 0;
}

enum store_result
service_names(struct store_ctx *ctx, int64_t limit, int64_t offset,
    struct json_object *items, int64_t *total)
{
	struct name_count c;
	enum store_result rc;

	memset(&c, 0, sizeof(c));
	c.items = items;
	c.limit = limit;
	c.offset = offset;
	rc = each_live(ctx, "services/", count_name, &c);
	name_done(&c);
	*total = c.total;
	return rc;
}
