/*
 * The audit trail's records in etcd; see audit.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/conf.h"
#include "base/shared.h"
#include "base/util.h"
#include "store/audit.h"
#include "store/lease.h"
#include "store/stored_doc.h"

/* One lease takes the node's records for this long at most. */
#define AUDIT_LEASE_USE_MAX 3600

int
audit_key_internal(const char *key)
{
	return strncmp(key, "index/", 6) == 0 ||
	    strncmp(key, AUDIT_FOLDER, strlen(AUDIT_FOLDER)) == 0;
}

/* -- the lease */

/*
 * A quarter of the retention, an hour at most, a second at least: a
 * record lives between retention and retention + this.
 */
static int64_t
lease_use_seconds(int64_t retention)
{
	int64_t use = retention / 4;

	return use > AUDIT_LEASE_USE_MAX ? AUDIT_LEASE_USE_MAX : use < 1 ? 1 : use;
}

/* The pool's lease, if one of ttl is there and young enough; 0 if not. */
static int64_t
lease_shared(int64_t ttl, int64_t use_us, int64_t now)
{
	struct shared_audit *sa = &shared()->audit;
	int64_t before, id, asked, after;

	before = __atomic_load_n(&sa->granted_at_us, __ATOMIC_SEQ_CST);
	id = __atomic_load_n(&sa->lease, __ATOMIC_SEQ_CST);
	asked = __atomic_load_n(&sa->ttl, __ATOMIC_SEQ_CST);
	after = __atomic_load_n(&sa->granted_at_us, __ATOMIC_SEQ_CST);
	if (before == 0 || before != after || asked != ttl || now - before >= use_us)
		return 0;
	return id;
}

static void
lease_publish(int64_t id, int64_t ttl, int64_t granted_at)
{
	struct shared_audit *sa = &shared()->audit;

	__atomic_store_n(&sa->granted_at_us, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sa->lease, id, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sa->ttl, ttl, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sa->granted_at_us, granted_at, __ATOMIC_SEQ_CST);
}

void
audit_lease_lost(int64_t lease)
{
	struct shared_audit *sa = &shared()->audit;

	if (__atomic_load_n(&sa->lease, __ATOMIC_SEQ_CST) == lease)
		__atomic_store_n(&sa->granted_at_us, 0, __ATOMIC_SEQ_CST);
}

/*
 * The lease a record goes on now: 0 with audit.retention = 0. One grant
 * an hour per node; every other record takes the pool's lease as it is.
 */
static enum store_result
audit_lease(struct store_ctx *ctx, int64_t *lease)
{
	int64_t retention = conf.audit.retention, use, ttl, now;
	struct store_lease granted;
	enum store_result rc;

	*lease = 0;
	if (retention <= 0)
		return STORE_OK;
	use = lease_use_seconds(retention);
	ttl = retention + use;
	now = clock_monotonic_us();
	if ((*lease = lease_shared(ttl, use * 1000000, now)) != 0)
		return STORE_OK;
	if ((rc = store_lease_grant(ctx, ttl, &granted)) != STORE_OK)
		return rc;
	lease_publish(granted.id, ttl, now);
	*lease = granted.id;
	return STORE_OK;
}

/* -- writing a record */

/* What the transaction does to op's key, as its checks tell. */
static const char *
op_action(const struct store_ctx *ctx, const struct store_check *checks,
    size_t nchecks, const struct store_op *op)
{
	size_t i;

	if (ctx->actor.action != NULL)
		return ctx->actor.action;
	if (op->kind != STORE_OP_PUT)
		return "delete";
	for (i = 0; i < nchecks; i++) {
		if (strcmp(checks[i].key, op->key) != 0)
			continue;
		if (checks[i].kind == STORE_CHECK_ABSENT)
			return "create";
		if (checks[i].kind == STORE_CHECK_PRESENT ||
		    checks[i].kind == STORE_CHECK_REVISION ||
		    checks[i].kind == STORE_CHECK_LEASE)
			return "update";
	}
	return "put";
}

static void
add_string(struct json_object *obj, const char *name, const char *value)
{
	if (value != NULL)
		json_object_object_add(obj, name, json_object_new_string(value));
}

static void
add_op(struct json_object *list, const char *key, const char *action, int prefix)
{
	struct json_object *entry = json_object_new_object();

	add_string(entry, "key", key);
	add_string(entry, "action", action);
	if (prefix)
		json_object_object_add(entry, "prefix", json_object_new_boolean(1));
	json_object_array_add(list, entry);
}

/*
 * A prefix delete (an environment's flags, with cascade) names the keys
 * it deletes as this node's replica holds them just before: a node that
 * rebuilds its table from the records then lists them too. A key written
 * elsewhere in that instant goes unnamed (the nodes that see the delete
 * live still list it).
 */
#define PREFIX_KEYS_NAMED 10000

static void
name_prefix_keys(struct store_ctx *ctx, const char *prefix, const char *action,
    struct json_object *list)
{
	enum cache_state cache = ctx->cache;
	struct store_item *items;
	int64_t total;
	size_t n, i;

	if (store_list(ctx, prefix, PREFIX_KEYS_NAMED, 0, &items, &n, &total) == STORE_OK)
		for (i = 0; i < n; i++)
			if (!audit_key_internal(items[i].key))
				add_op(list, items[i].key, action, 0);
	ctx->cache = cache;
}

/* The record's key: its time, never the same twice in this process. */
static const char *
record_key(struct store_ctx *ctx, char *when, size_t whenlen)
{
	static int64_t last_us;
	int64_t now = clock_realtime_us();
	char pid[32];

	if (now <= last_us)
		now = last_us + 1;
	last_us = now;
	format_rfc3339_us(now, when, whenlen);
	if (ctx->actor.request_id != NULL && ctx->actor.request_id[0] != '\0')
		return arena_concat(ctx->arena, AUDIT_FOLDER, when, "-",
		    ctx->actor.request_id, (char *)NULL);
	snprintf(pid, sizeof(pid), "pid%ld", (long)getpid());
	return arena_concat(ctx->arena, AUDIT_FOLDER, when, "-", pid, (char *)NULL);
}

enum store_result
audit_record_op(struct store_ctx *ctx, const struct store_check *checks,
    size_t nchecks, const struct store_op *ops, size_t nops, struct store_op *op)
{
	struct json_object *doc, *list;
	enum store_result rc;
	const char *text;
	char when[40];
	size_t i;

	memset(op, 0, sizeof(*op));
	if (ctx->actor.name == NULL)
		return STORE_OK;
	list = json_object_new_array();
	for (i = 0; i < nops; i++) {
		const char *action;

		if (audit_key_internal(ops[i].key))
			continue;
		action = op_action(ctx, checks, nchecks, &ops[i]);
		add_op(list, ops[i].key, action, ops[i].kind == STORE_OP_DELETE_PREFIX);
		if (ops[i].kind == STORE_OP_DELETE_PREFIX)
			name_prefix_keys(ctx, ops[i].key, action, list);
	}
	if (json_object_array_length(list) == 0) {
		json_object_put(list);
		return STORE_OK;
	}
	if ((rc = audit_lease(ctx, &op->lease)) != STORE_OK) {
		json_object_put(list);
		return rc;
	}
	op->kind = STORE_OP_PUT;
	op->key = record_key(ctx, when, sizeof(when));
	doc = json_object_new_object();
	add_string(doc, "actor", ctx->actor.name);
	add_string(doc, "actor_kind", ctx->actor.kind != NULL ? ctx->actor.kind : "unknown");
	add_string(doc, "token_id", ctx->actor.token_id);
	add_string(doc, "request_id", ctx->actor.request_id);
	add_string(doc, "time", when);
	json_object_object_add(doc, "ops", list);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	op->value = arena_strdup(ctx->arena, text);
	op->value_len = strlen(op->value);
	json_object_put(doc);
	return STORE_OK;
}

/* -- reading one back */

/* The string member name of obj into the arena; NULL when absent or not one. */
static const char *
member(struct json_object *obj, const char *name, struct arena *arena)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return arena_strndup(arena, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v));
}

static int
parse_ops(struct json_object *list, struct arena *arena,
    struct audit_record *record)
{
	size_t i, n;

	if (!json_object_is_type(list, json_type_array))
		return -1;
	n = json_object_array_length(list);
	record->ops = arena_alloc(arena, sizeof(*record->ops) * (n > 0 ? n : 1));
	for (i = 0; i < n; i++) {
		struct json_object *entry = json_object_array_get_idx(list, i), *prefix;
		struct audit_record_op *op = &record->ops[i];

		if (!json_object_is_type(entry, json_type_object) ||
		    (op->key = member(entry, "key", arena)) == NULL ||
		    (op->action = member(entry, "action", arena)) == NULL ||
		    op->key[0] == '\0' || op->action[0] == '\0')
			return -1;
		op->prefix = json_object_object_get_ex(entry, "prefix", &prefix) &&
		    json_object_get_boolean(prefix);
	}
	record->nops = n;
	return 0;
}

int
audit_record_parse(const char *key, const char *text, size_t len,
    struct arena *arena, struct audit_record *record)
{
	struct json_object *doc = stored_doc_parse(key, text, len), *ops;
	const char *time;
	int rc = -1;

	memset(record, 0, sizeof(*record));
	if (doc == NULL)
		return -1;
	if (!json_object_is_type(doc, json_type_object) ||
	    (record->actor = member(doc, "actor", arena)) == NULL ||
	    record->actor[0] == '\0' ||
	    (time = member(doc, "time", arena)) == NULL ||
	    parse_rfc3339(time, &record->time_us) == -1 ||
	    !json_object_object_get_ex(doc, "ops", &ops) ||
	    parse_ops(ops, arena, record) == -1)
		goto done;
	record->actor_kind = member(doc, "actor_kind", arena);
	if (record->actor_kind == NULL)
		record->actor_kind = "unknown";
	record->token_id = member(doc, "token_id", arena);
	record->request_id = member(doc, "request_id", arena);
	rc = 0;
done:
	json_object_put(doc);
	return rc;
}

const char *
audit_record_action(const struct audit_record *record, const char *key)
{
	size_t i;

	for (i = 0; i < record->nops; i++) {
		const struct audit_record_op *op = &record->ops[i];

		if (op->prefix ? strncmp(key, op->key, strlen(op->key)) == 0 :
		    strcmp(key, op->key) == 0)
			return op->action;
	}
	return NULL;
}
