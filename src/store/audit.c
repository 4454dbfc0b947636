/*
 * The audit trail's records in etcd; see audit.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "store/audit.h"
#include "store/lease.h"

/*
 * One lease takes the node's records for this long, and this many, at
 * most: when it ends, etcd deletes its keys in one revision, which every
 * watcher then applies in one batch (Kubernetes caps its event leases so).
 */
#define AUDIT_LEASE_USE_MAX 3600
#define AUDIT_LEASE_KEYS_MAX 10000

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
	if (before == 0 || before != after || asked != ttl || now - before >= use_us ||
	    __atomic_fetch_add(&sa->keys, 1, __ATOMIC_RELAXED) >= AUDIT_LEASE_KEYS_MAX)
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
	__atomic_store_n(&sa->keys, 1, __ATOMIC_SEQ_CST);	/* the granter's */
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

/* One op of the record: {"key","action"[,"prefix":true]}, after a comma if not the first. */
static void
add_op(struct buf *out, const char *key, const char *action, int prefix)
{
	buf_puts(out, out->data[out->len - 1] == '[' ? "{\"key\":" : ",{\"key\":");
	buf_json_string(out, key);
	buf_puts(out, ",\"action\":");
	buf_json_string(out, action);
	buf_puts(out, prefix ? ",\"prefix\":true}" : "}");
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
    struct buf *out)
{
	enum cache_state cache = ctx->cache;
	struct store_item *items;
	int64_t total;
	size_t n, i;

	if (store_list(ctx, prefix, PREFIX_KEYS_NAMED, 0, &items, &n, &total) == STORE_OK)
		for (i = 0; i < n; i++)
			if (!audit_key_internal(items[i].key))
				add_op(out, items[i].key, action, 0);
	ctx->cache = cache;
}

/*
 * The record's key: its time, never the same twice in this process, the
 * request id, and this process's own random tag, since a client may send
 * one X-Request-Id to two processes (or nodes) in the same microsecond.
 */
static const char *
record_key(struct store_ctx *ctx, char *when, size_t whenlen)
{
	static int64_t last_us;
	static char tag[9];
	static pid_t tagged;
	int64_t now = clock_realtime_us();
	pid_t me = getpid();

	if (tagged != me) {	/* a forked responder draws its own */
		if (random_hex(tag, 4) == -1)
			snprintf(tag, sizeof(tag), "%08lx", (unsigned long)me);
		tagged = me;
	}
	if (now <= last_us)
		now = last_us + 1;
	last_us = now;
	format_rfc3339_us(now, when, whenlen);
	if (ctx->actor.request_id != NULL && ctx->actor.request_id[0] != '\0')
		return arena_concat(ctx->arena, AUDIT_FOLDER, when, "-",
		    ctx->actor.request_id, "-", tag, (char *)NULL);
	return arena_concat(ctx->arena, AUDIT_FOLDER, when, "-", tag, (char *)NULL);
}

/* A member "name":"value", after a comma; none when value is NULL. */
static void
add_member(struct buf *out, const char *name, const char *value)
{
	if (value == NULL)
		return;
	buf_printf(out, ",\"%s\":", name);
	buf_json_string(out, value);
}

/* The ops' part of the record into out: "[...]", and how many ops. */
static size_t
record_ops(struct store_ctx *ctx, const struct store_check *checks,
    size_t nchecks, const struct store_op *ops, size_t nops, struct buf *out)
{
	size_t i, n = 0;

	buf_putc(out, '[');
	for (i = 0; i < nops; i++) {
		const char *action;

		if (audit_key_internal(ops[i].key))
			continue;
		action = op_action(ctx, checks, nchecks, &ops[i]);
		add_op(out, ops[i].key, action, ops[i].kind == STORE_OP_DELETE_PREFIX);
		if (ops[i].kind == STORE_OP_DELETE_PREFIX)
			name_prefix_keys(ctx, ops[i].key, action, out);
		n++;
	}
	buf_putc(out, ']');
	return n;
}

enum store_result
audit_record_op(struct store_ctx *ctx, const struct store_check *checks,
    size_t nchecks, const struct store_op *ops, size_t nops, struct store_op *op)
{
	struct buf list, doc;
	enum store_result rc;
	char when[40];

	memset(op, 0, sizeof(*op));
	if (ctx->actor.name == NULL)
		return STORE_OK;
	buf_init(&list);
	if (record_ops(ctx, checks, nchecks, ops, nops, &list) == 0) {
		buf_free(&list);
		return STORE_OK;
	}
	if ((rc = audit_lease(ctx, &op->lease)) != STORE_OK) {
		buf_free(&list);
		return rc;
	}
	op->kind = STORE_OP_PUT;
	op->key = record_key(ctx, when, sizeof(when));
	buf_init(&doc);
	buf_puts(&doc, "{\"actor\":");
	buf_json_string(&doc, ctx->actor.name);
	add_member(&doc, "actor_kind", ctx->actor.kind != NULL ? ctx->actor.kind : "unknown");
	add_member(&doc, "token_id", ctx->actor.token_id);
	add_member(&doc, "request_id", ctx->actor.request_id);
	add_member(&doc, "time", when);
	buf_puts(&doc, ",\"ops\":");
	buf_append(&doc, list.data, list.len);
	buf_putc(&doc, '}');
	op->value = arena_strndup(ctx->arena, doc.data, doc.len);
	op->value_len = doc.len;
	buf_free(&doc);
	buf_free(&list);
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
audit_record_key_time(const char *key, int64_t *time_us)
{
	size_t tlen = sizeof("2026-11-22T10:00:00.000000Z") - 1;
	const char *at = key + strlen(AUDIT_FOLDER);
	char text[sizeof("2026-11-22T10:00:00.000000Z")];

	if (strncmp(key, AUDIT_FOLDER, strlen(AUDIT_FOLDER)) != 0 ||
	    strnlen(at, tlen + 1) <= tlen || at[tlen] != '-')
		return -1;
	memcpy(text, at, tlen);
	text[tlen] = '\0';
	return parse_rfc3339(text, time_us);
}

int
audit_record_parse(const char *key, const char *text, size_t len,
    struct arena *arena, struct audit_record *record)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *doc, *ops;
	const char *time;
	int64_t named;
	int rc = -1;

	/*
	 * json-c alone: a record's members are strings dynconf wrote, and one
	 * written by hand is only believed as far as it reads as one.
	 */
	memset(record, 0, sizeof(*record));
	doc = len <= INT32_MAX ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
	if (doc != NULL && tok->char_offset != (int)len) {
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	if (doc == NULL) {
		log_warn("audit record %.200s is not JSON: its change is shown as etcd's", key);
		return -1;
	}
	if (!json_object_is_type(doc, json_type_object) ||
	    (record->actor = member(doc, "actor", arena)) == NULL ||
	    record->actor[0] == '\0' ||
	    (time = member(doc, "time", arena)) == NULL ||
	    parse_rfc3339(time, &record->time_us) == -1 ||
	    !json_object_object_get_ex(doc, "ops", &ops) ||
	    parse_ops(ops, arena, record) == -1) {
		log_warn("audit record %.200s is not one: its change is shown as etcd's", key);
		goto done;
	}
	if (audit_record_key_time(key, &named) == -1 || named != record->time_us) {
		log_warn("audit record %.200s: its key does not name its time (written "
		    "by hand?): its change is shown as etcd's", key);
		goto done;
	}
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
