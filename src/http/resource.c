/*
 * Shared resource plumbing; see resource.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "base/arena.h"
#include "base/json_check.h"
#include "base/log.h"
#include "base/util.h"
#include "http/api.h"
#include "http/resource.h"
#include "http/validate.h"

/*
 * Who the audit trail says made the request's writes (API.md §14): an API
 * token's name, a JWT's sub, sdk:ENV for an SDK key; "anonymous" with
 * auth.mode = off.
 */
static void
request_actor(struct exchange *ex, struct store_actor *actor)
{
	const struct principal *p = &ex->principal;

	switch (p->kind) {
	case PRINCIPAL_TOKEN:
		actor->kind = "token";
		actor->token_id = p->token_id;
		/* As GET /v1/whoami names it: the id of a token without a name. */
		actor->name = p->token_name != NULL ? p->token_name :
		    p->token_id != NULL ? p->token_id : "token";
		break;
	case PRINCIPAL_JWT:
		actor->kind = "jwt";
		actor->name = p->subject != NULL ? p->subject : "jwt";
		break;
	case PRINCIPAL_SDK_KEY:
		actor->kind = "sdk_key";
		actor->name = arena_concat(&ex->arena, "sdk:",
		    p->environment ? p->environment : "", (char *)NULL);
		break;
	case PRINCIPAL_NONE:
	case PRINCIPAL_OFF:
		actor->kind = actor->name = "anonymous";
		break;
	}
	actor->request_id = ex->request_id;
}

void
resource_store_ctx(struct exchange *ex, struct store_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->arena = &ex->arena;
	ctx->deadline_us = ex->deadline_us;
	request_actor(ex, &ctx->actor);
}

/* etagc of RFC 9110: what may stand between the quotes of an entity tag. */
static int
etag_char(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* The revision a strong tag's opaque part spells as we print it; 0 if none. */
static int64_t
tag_revision(const char *tag, size_t len)
{
	char digits[20];
	const char *errstr;
	int64_t revision;

	if (len == 0 || len >= sizeof(digits) || tag[0] == '0' ||
	    strspn(tag, "0123456789") < len)
		return 0;
	memcpy(digits, tag, len);
	digits[len] = '\0';
	revision = strtonum(digits, 1, INT64_MAX, &errstr);
	return errstr != NULL ? 0 : revision;
}

/*
 * If-Match as RFC 9110 writes it: a list of entity tags, "..." or W/"...",
 * separated by commas with optional blanks (empty elements allowed). If-Match
 * compares strongly: a weak tag never matches, nor does a strong one that is
 * not one of our revisions. Puts the revisions that may match in
 * revisions[] (room for as many as the value is long) and returns how many;
 * -1 when the value is not such a list.
 */
static int
parse_if_match(const char *p, int64_t *revisions)
{
	const char *tag;
	int weak, elements = 0, n = 0;
	int64_t revision;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		if ((weak = strncmp(p, "W/", 2) == 0))
			p += 2;
		if (*p++ != '"')
			return -1;
		for (tag = p; etag_char((unsigned char)*p); p++)
			continue;
		if (*p != '"')
			return -1;
		elements++;
		if (!weak && (revision = tag_revision(tag, (size_t)(p - tag))) > 0)
			revisions[n++] = revision;
		p += 1 + strspn(p + 1, " \t");
		if (*p != ',' && *p != '\0')
			return -1;
	}
	return elements > 0 ? n : -1;
}

/*
 * No tag of the list can match: a revision no key will ever have, so the
 * write fails as any stale one does (412, or 404 when the key is absent).
 */
#define REVISION_NEVER INT64_MAX

static int
if_match_condition(struct exchange *ex, const char *if_match,
    struct store_condition *condition)
{
	int64_t *revisions;
	int n;

	if (strcmp(if_match, "*") == 0) {
		condition->kind = STORE_IF_PRESENT;
		return 0;
	}
	revisions = arena_alloc(&ex->arena, sizeof(*revisions) *
	    (strlen(if_match) / 2 + 1));
	if ((n = parse_if_match(if_match, revisions)) == -1) {
		respond_problem(ex, 400, "invalid_precondition", "If-Match must be "
		    "\"*\" or a list of entity tags in quotes, like \"42\"");
		return -1;
	}
	condition->kind = STORE_IF_REVISION;
	condition->revision = n > 0 ? revisions[0] : REVISION_NEVER;
	condition->also = n > 1 ? revisions + 1 : NULL;
	condition->nalso = n > 1 ? (size_t)(n - 1) : 0;
	return 0;
}

int
resource_condition(struct exchange *ex, enum store_condition_kind fallback,
    struct store_condition *condition)
{
	const char *if_match = ex->req.if_match, *if_none = ex->req.if_none_match;

	memset(condition, 0, sizeof(*condition));
	condition->kind = fallback;
	if (if_match != NULL && *if_match != '\0')
		return if_match_condition(ex, if_match, condition);
	if (if_none != NULL && *if_none != '\0') {
		if (strcmp(if_none, "*") != 0) {
			respond_problem(ex, 400, "invalid_precondition",
			    "on a write, If-None-Match may only be \"*\"");
			return -1;
		}
		condition->kind = STORE_IF_ABSENT;
	}
	return 0;
}

void
resource_etag(struct exchange *ex, int64_t revision)
{
	char etag[32];

	snprintf(etag, sizeof(etag), "\"%lld\"", (long long)revision);
	response_header(ex, "ETag", etag);
}

void
resource_read_headers(struct exchange *ex, const struct store_ctx *ctx)
{
	static const char *const names[] = { "hit", "stale", "bypass" };
	char revision[32];

	snprintf(revision, sizeof(revision), "%lld",
	    (long long)store_replica_revision());
	response_header(ex, "X-Cache", names[ctx->cache]);
	response_header(ex, "X-Dynconf-Revision", revision);
}

void
resource_store_error(struct exchange *ex, enum store_result rc,
    const char *not_found_code, const char *what)
{
	switch (rc) {
	case STORE_NOT_FOUND:
		respond_problem(ex, 404, not_found_code, "%s does not exist", what);
		return;
	case STORE_EXISTS:
		respond_problem(ex, 412, "already_exists", "%s already exists", what);
		return;
	case STORE_STALE:
		respond_problem(ex, 412, "revision_mismatch",
		    "%s has changed since that revision", what);
		return;
	case STORE_UNAVAILABLE:
		respond_problem(ex, 503, "store_unavailable",
		    "etcd cannot be reached; nothing was changed");
		response_header(ex, "Retry-After", "1");
		return;
	case STORE_OUTCOME_UNKNOWN:
		respond_problem(ex, 504, "write_outcome_unknown", "etcd did not "
		    "confirm the write and may or may not have applied it; read "
		    "%s again with ?force=true before retrying", what);
		return;
	case STORE_GONE:
		respond_problem(ex, 410, "history_compacted", "that revision is older "
		    "than the history this node keeps; list again, then watch from "
		    "the list's revision");
		return;
	case STORE_CORRUPT:
		respond_problem(ex, 500, "corrupt_document", "%s is stored in a form "
		    "that is not valid (written into etcd by hand?); the log says "
		    "what is wrong; DELETE still removes it", what);
		return;
	case STORE_OK:
	case STORE_FAILED:
		break;
	}
	respond_problem(ex, 500, "internal_error", "the store failed; see the log");
}

void
resource_pagination(const struct exchange *ex, int64_t *limit, int64_t *offset)
{
	*limit = arg_int(ex, "limit", LIST_DEFAULT_LIMIT);
	*offset = arg_int(ex, "offset", 0);
}

/*
 * Stored text counts as JSON when the strict check passes it (so NaN,
 * overlong UTF-8 or a lone surrogate escape written with etcdctl is shown
 * as a string, not passed on as broken JSON), nested no deeper than a
 * request body may be. Text that is not UTF-8 is shown as a string with
 * U+FFFD for each bad byte (buf_json_string_len), and logged once per read
 * (where, never the text: it may be large).
 */
static int
value_is_json(const char *key, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	size_t n;

	if (json_check(text, len, JSON_MAX_DEPTH) == JSON_CHECK_OK)
		return 1;
	for (; p < end; p += n)
		if ((n = utf8_sequence(p, end)) == 0) {
			log_warn("stored value %.200s is not UTF-8 (byte %zu of "
			    "%zu): served as a string, U+FFFD for each bad byte",
			    key, (size_t)(p - (const unsigned char *)text), len);
			break;
		}
	return 0;
}

static void
put_value(struct buf *out, int is_json, const char *text, size_t len)
{
	if (is_json)
		buf_append(out, text, len);
	else
		buf_json_string_len(out, text, len);
}

/* A value's JSON-or-not, decided once, rides along as the userdata. */
static char stored_json;

/* json-c prints the value as resource_put_value does, byte for byte. */
static int
print_stored_value(struct json_object *jso, struct printbuf *pb, int level,
    int flags)
{
	struct buf out;
	int rc;

	(void)level;
	(void)flags;
	buf_init(&out);
	put_value(&out, json_object_get_userdata(jso) == &stored_json,
	    json_object_get_string(jso), (size_t)json_object_get_string_len(jso));
	rc = printbuf_memappend(pb, out.data, (int)out.len) < 0 ? -1 : 0;
	buf_free(&out);
	return rc;
}

/*
 * Not parsed: the stored text is carried in a json-c string whose printing
 * is print_stored_value, so that a list, a watch event and a single read
 * all show a value exactly alike.
 */
struct json_object *
resource_value_json(const char *key, const char *text, size_t len)
{
	struct json_object *value = json_object_new_string_len(text, (int)len);

	json_object_set_serializer(value, print_stored_value,
	    value_is_json(key, text, len) ? &stored_json : NULL, NULL);
	return value;
}

void
resource_put_value(struct buf *out, const char *key, const char *text,
    size_t len)
{
	put_value(out, value_is_json(key, text, len), text, len);
}

void
resource_respond_list(struct exchange *ex, const struct store_ctx *ctx,
    struct json_object *items, int64_t total, int64_t limit, int64_t offset)
{
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "items", items);
	json_object_object_add(body, "total", json_object_new_int64(total));
	json_object_object_add(body, "limit", json_object_new_int64(limit));
	json_object_object_add(body, "offset", json_object_new_int64(offset));
	respond_json(ex, 200, body);
	json_object_put(body);
	resource_read_headers(ex, ctx);
}
