/*
 * libFuzzer harness for the request pipeline: a request (method, path,
 * query, the headers the core reads, body) goes through api_handle, so
 * through the real router, authentication, query and body checks,
 * table-driven validation and the handlers of the real route table.
 *
 * The input reads like an HTTP/1 request, so that seeds are easy to write:
 *
 *	METHOD /path?query
 *	Authorization: Bearer dct_...
 *	Content-Type: application/json
 *	Content-Length: 17
 *
 *	{"value":"hello"}
 *
 * (lines may end in CRLF; headers other than Authorization, Content-Type,
 * Content-Length, If-Match, If-None-Match and X-Request-Id are ignored; a
 * value is cut at a NUL, as a CGI parameter would be).
 *
 * No etcd: the store runs on a SQLite replica made here, in a scratch
 * directory, holding a snapshot (environments, flags, config entries,
 * tokens, SDK keys, some corrupt documents) and a history of events for
 * /v1/watch; etcd's endpoint is a closed port and the circuit breaker is
 * held open, so every write and every forced read fails at once with 503,
 * and reads come from the replica. Watches never wait (server.max_watches
 * is 0: a watch that would wait is answered 429).
 *
 * Every response is checked: a status, the X-Request-Id, a JSON body
 * that is JSON (RFC 8259, UTF-8), a problem that names its code and
 * status, and never a 500 internal_error. A read (GET, HEAD) is made
 * twice and must be answered the same both times, caches or not. FUZZ_VERBOSE=1 prints each
 * status (to see what seeds do).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/conf.h"
#include "base/digest.h"
#include "base/json_check.h"
#include "base/shared.h"
#include "base/util.h"
#include "etcd/breaker.h"
#include "http/api.h"
#include "http/http.h"
#include "http/router.h"
#include "http/wait.h"
#include "model/environment.h"
#include "model/flag.h"
#include "model/keys.h"
#include "model/scope.h"
#include "model/token.h"
#include "store/replica.h"
#include "store/store.h"

#include "fuzz_common.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Credentials the seeds use; only their hashes are in the replica. */
#define HEX60	"000000000000000000000000000000000000000000000000000000000000"
#define ADMIN_TOKEN	"dct_" HEX60 "0001"
#define READER_TOKEN	"dct_" HEX60 "0002"
#define EXPIRED_TOKEN	"dct_" HEX60 "0003"
#define JWT_MADE_TOKEN	"dct_" HEX60 "0004"
#define DEFAULT_SDK_KEY	"dcsdk_" HEX60 "0001"
#define PROD_SDK_KEY	"dcsdk_" HEX60 "0002"

#define SNAPSHOT_REVISION	100

static struct replica *seeding;
static int64_t revision = 1;

static void
row(const char *key, const char *value)
{
	struct replica_row r;

	memset(&r, 0, sizeof(r));
	r.key = key;
	r.value = value;
	r.value_len = strlen(value);
	r.create_revision = r.mod_revision = ++revision;
	r.version = 1;
	r.updated_at = clock_realtime_us();
	if (replica_snapshot_add(seeding, &r, 1) == -1)
		abort();
}

static void
token(const char *text, const char *id, const char *name, unsigned scopes,
    int64_t expires, const char *created_by)
{
	struct token_minted t;
	char key[128], *doc;

	memset(&t, 0, sizeof(t));
	snprintf(t.text, sizeof(t.text), "%s", text);
	snprintf(t.id, sizeof(t.id), "%s", id);
	digest_sha256_hex(text, strlen(text), t.sha256);
	format_rfc3339(1700000000, t.created_at, sizeof(t.created_at));
	t.expires = expires;
	if (expires != 0)
		format_rfc3339(expires, t.expires_at, sizeof(t.expires_at));
	doc = token_doc(&t, name, scopes, created_by);
	token_key(key, sizeof(key), id);
	row(key, doc);
	token_index_key(key, sizeof(key), t.sha256);
	row(key, id);
	free(doc);
}

static void
environment(struct arena *arena, const char *name, const char *sdk_key)
{
	char hash[DIGEST_SHA256_HEX_LEN + 1];

	digest_sha256_hex(sdk_key, strlen(sdk_key), hash);
	row(environment_key(arena, name), environment_text(arena, name, hash,
	    "2024-01-01T00:00:00Z"));
	row(environment_sdk_index_key(arena, hash), name);
}

/* A flag document as flag_resource.c stores it. */
static void
flag(struct arena *arena, const char *env, const char *key, const char *json)
{
	struct json_object *doc = json_tokener_parse(json), *out;
	struct flag_errors errors;
	struct flag f;

	if (doc == NULL || flag_parse(doc, key, &f, &errors) == -1) {
		fprintf(stderr, "fuzz_api: seed flag %s refused: %s: %s\n", key,
		    doc != NULL ? errors.items[0].field : "JSON",
		    doc != NULL ? errors.items[0].message : "syntax");
		abort();
	}
	snprintf(f.created_at, sizeof(f.created_at), "2024-01-01T00:00:00Z");
	snprintf(f.updated_at, sizeof(f.updated_at), "2024-01-02T00:00:00Z");
	out = flag_to_json(&f, 0);
	row(flag_store_key(arena, env, key), json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	json_object_put(doc);
	flag_free(&f);
}

static void
seed_snapshot(struct arena *arena)
{
	int64_t now = clock_realtime_us() / 1000000;

	environment(arena, "default", DEFAULT_SDK_KEY);
	environment(arena, "production", PROD_SDK_KEY);
	token(ADMIN_TOKEN, "0000000000000001", "admin", SCOPE_BIT(SCOPE_ADMIN), 0, NULL);
	token(READER_TOKEN, "0000000000000002", "reader",
	    SCOPE_BIT(SCOPE_FLAGS_READ) | SCOPE_BIT(SCOPE_CONFIG_READ), 0,
	    "0000000000000001");
	token(EXPIRED_TOKEN, "0000000000000003", "expired",
	    SCOPE_BIT(SCOPE_ADMIN), now - 3600, NULL);
	token(JWT_MADE_TOKEN, "0000000000000004", "made-by-jwt",
	    SCOPE_BIT(SCOPE_FLAGS_WRITE), 0, "jwt:alice");
	flag(arena, "default", "new-ui", "{\"criteria\":{\"plan\":\"pro\"},"
	    "\"value\":true,\"default\":false}");
	flag(arena, "default", "checkout", "{\"description\":\"split\","
	    "\"variants\":[{\"name\":\"a\",\"value\":\"blue\",\"weight\":50},"
	    "{\"name\":\"b\",\"value\":\"green\",\"weight\":50}],"
	    "\"default\":\"blue\"}");
	flag(arena, "default", "limits", "{\"rules\":[{\"criteria\":{\"age\":"
	    "{\"gte\":18},\"region\":{\"in\":[\"US\",\"CA\"]}},\"value\":{\"max\":"
	    "10}},{\"criteria\":{\"email\":{\"ends_with\":\"@example.com\"}},"
	    "\"variants\":[{\"name\":\"x\",\"value\":1,\"weight\":1}]}],"
	    "\"value\":{\"max\":5},\"default\":{\"max\":1}}");
	flag(arena, "default", "off", "{\"enabled\":false,\"value\":1,\"default\":0}");
	flag(arena, "default", "matchers", "{\"rules\":[{\"criteria\":{\"email\":"
	    "{\"regex\":\"^[a-z]+@example\\\\.(com|org)$\"},\"tags\":{\"contains\":"
	    "\"beta\",\"not_contains\":5}},\"value\":1},{\"criteria\":{\"version\":"
	    "{\"semver_lt\":\"1.0.0-rc.1\"},\"name\":{\"starts_with\":\"a\","
	    "\"ne\":\"ab\"},\"user.plan\":{\"exists\":true}},\"value\":2},"
	    "{\"criteria\":{\"age\":{\"lt\":13,\"lte\":\"12\",\"gt\":-1.5},"
	    "\"region\":{\"not_in\":[\"EU\"],\"eq\":\"US\"},\"beta\":[true,null]},"
	    "\"value\":3}],\"value\":0,\"default\":-1}");
	flag(arena, "production", "new-ui", "{\"criteria\":{\"version\":"
	    "{\"semver_gt\":\"2.0.0\"}},\"value\":\"on\",\"default\":\"off\"}");
	row("flags/default/corrupt", "{\"value\":");
	row("flags/production/not-a-flag", "[1,2,3]");
	row("config/app/http", "{\"retries\":3,\"timeout\":1.5}");
	row("config/app/name", "\"dynconf\"");
	row("config/app/list", "[1,\"two\",null,true]");
	row("config/app/text", "plain text, not JSON \xff\xfe");
	row("config/other/deep", "{\"a\":{\"b\":{\"c\":[{\"d\":null}]}}}");
	row("services/web/node1", "{\"address\":\"10.0.0.1:80\"}");
}

/* After the snapshot: a few changes, so that /v1/watch has history. */
static void
seed_history(void)
{
	struct replica_event ev[3];
	int64_t rev = SNAPSHOT_REVISION;
	size_t i;

	memset(ev, 0, sizeof(ev));
	ev[0].row.key = "config/app/http";
	ev[0].row.value = "{\"retries\":4}";
	ev[1].row.key = "flags/default/new-ui";
	ev[1].row.value = "{\"key\":\"new-ui\",\"value\":true,\"default\":true}";
	ev[2].deleted = 1;
	ev[2].row.key = "config/app/list";
	ev[2].row.value = "";
	for (i = 0; i < 3; i++) {
		ev[i].row.value_len = strlen(ev[i].row.value);
		ev[i].row.mod_revision = ++rev;
		ev[i].row.create_revision = 2;
		ev[i].row.version = 2;
		ev[i].row.updated_at = clock_realtime_us();
		if (replica_apply_events(seeding, rev, &ev[i], 1, 1000) == -1)
			abort();
	}
	shared()->replica.revision = rev;
}

static void
seed_replica(void)
{
	struct arena arena;
	char err[256];

	snprintf(conf.replica.path, sizeof(conf.replica.path), "%s/replica.db",
	    fuzz_scratch());
	if ((seeding = replica_open(conf.replica.path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_api: replica: %s\n", err);
		abort();
	}
	arena_init(&arena);
	if (replica_snapshot_begin(seeding) == -1)
		abort();
	seed_snapshot(&arena);
	if (replica_snapshot_commit(seeding, SNAPSHOT_REVISION) == -1)
		abort();
	seed_history();
	replica_close(seeding);
	arena_free(&arena);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_conf();
	snprintf(conf.etcd.endpoints, sizeof(conf.etcd.endpoints),
	    "http://127.0.0.1:9");
	conf.etcd.timeout = 50;
	conf.server.max_watches = 0;
	seed_replica();
	shared()->replica.snapshot_loaded = 1;
	shared()->replica.etcd_up = 0;
	/* Open, and it stays open: no cool-down ends before the far future. */
	shared()->breaker.state = BREAKER_OPEN;
	shared()->breaker.opened_at_us = INT64_MAX / 2;
	if (store_open() == -1 || !store_ready())
		abort();
	return 0;
}

/* -- the request */

struct body {
	const uint8_t	*data;
	size_t		 len;
	size_t		 pos;
};

/* The body as a front end hands it over: in pieces of at most 4000 bytes. */
static long
read_body(void *ctx, char *dst, size_t len)
{
	struct body *b = ctx;
	size_t n = b->len - b->pos;

	if (n > len)
		n = len;
	if (n > 4000)
		n = 4000;
	memcpy(dst, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

/* The next line of data[*pos..size), without its CR LF, into the arena. */
static char *
next_line(struct arena *arena, const uint8_t *data, size_t size, size_t *pos)
{
	const uint8_t *start = data + *pos, *nl;
	size_t len;

	nl = memchr(start, '\n', size - *pos);
	len = nl != NULL ? (size_t)(nl - start) : size - *pos;
	*pos += nl != NULL ? len + 1 : len;
	if (len > 0 && start[len - 1] == '\r')
		len--;
	return arena_strndup(arena, (const char *)start, len);
}

static void
header(struct exchange *ex, char *line)
{
	struct request *req = &ex->req;
	char *value = strchr(line, ':');
	const char *errstr;

	if (value == NULL)
		return;
	*value++ = '\0';
	value += strspn(value, " \t");
	if (strcasecmp(line, "Authorization") == 0)
		req->authorization = value;
	else if (strcasecmp(line, "Content-Type") == 0)
		req->content_type = value;
	else if (strcasecmp(line, "If-Match") == 0)
		req->if_match = value;
	else if (strcasecmp(line, "If-None-Match") == 0)
		req->if_none_match = value;
	else if (strcasecmp(line, "X-Request-Id") == 0)
		req->request_id = value;
	else if (strcasecmp(line, "Content-Length") == 0 && *value != '\0') {
		/* As fcgi/responder.c reads CONTENT_LENGTH. */
		req->content_length = strtonum(value, 0, INT64_MAX, &errstr);
		if (errstr != NULL)
			req->content_length = -1;
	}
}

static void
parse_request(struct exchange *ex, const uint8_t *data, size_t size,
    struct body *body)
{
	struct request *req = &ex->req;
	char *line, *target, *query;
	size_t pos = 0;

	line = next_line(&ex->arena, data, size, &pos);
	target = line + strcspn(line, " ");
	if (*target != '\0')
		*target++ = '\0';
	target[strcspn(target, " ")] = '\0';	/* " HTTP/1.1" */
	req->method = line;
	if ((query = strchr(target, '?')) != NULL) {
		*query++ = '\0';
		req->query = query;
	}
	req->path = target;
	req->content_length = -1;
	req->remote_addr = "127.0.0.1";
	while (pos < size && *(line = next_line(&ex->arena, data, size, &pos)) != '\0')
		header(ex, line);
	body->data = data + pos;
	body->len = size - pos;
	body->pos = 0;
	req->read_body = read_body;
	req->body_ctx = body;
}

/* -- the response */

static void
fail(const struct exchange *ex, const char *why)
{
	fprintf(stderr, "%s %s%s%s: %d: %s\n%.*s\n", ex->req.method, ex->req.path,
	    ex->req.query != NULL ? "?" : "", ex->req.query != NULL ?
	    ex->req.query : "", ex->res.status, why, (int)ex->res.body.len,
	    ex->res.body.data != NULL ? ex->res.body.data : "");
	abort();
}

static void
check_problem(const struct exchange *ex)
{
	struct json_object *doc, *code, *status;
	const char *c;

	if ((doc = json_tokener_parse(ex->res.body.data)) == NULL)
		fail(ex, "a problem json-c cannot read");
	if (!json_object_object_get_ex(doc, "code", &code) ||
	    !json_object_is_type(code, json_type_string) ||
	    !json_object_object_get_ex(doc, "status", &status) ||
	    json_object_get_int(status) != ex->res.status)
		fail(ex, "a problem without its code or status");
	c = json_object_get_string(code);
	if (*c == '\0' || strspn(c, "abcdefghijklmnopqrstuvwxyz_0123456789") != strlen(c))
		fail(ex, "a problem code that is not snake_case");
	if (ex->res.status == 500 && strcmp(c, "internal_error") == 0)
		fail(ex, "500 internal_error");
	json_object_put(doc);
}

static void
check_response(const struct exchange *ex)
{
	const struct response *res = &ex->res;
	const char *id = response_header_get(ex, "X-Request-Id");

	if (res->status < 100 || res->status > 599)
		fail(ex, "no status");
	if (id == NULL || strcmp(id, ex->request_id) != 0)
		fail(ex, "no X-Request-Id");
	if (res->content_type == NULL ||
	    strncmp(res->content_type, "text/plain", 10) == 0)
		return;
	if (res->body.len == 0 || json_check(res->body.data, res->body.len,
	    1000) != JSON_CHECK_OK)
		fail(ex, "a body that is not JSON");
	if (strcmp(res->content_type, "application/problem+json") == 0)
		check_problem(ex);
	else if (strcmp(res->content_type, "application/json") != 0)
		fail(ex, "an unknown content type");
	else if (res->status >= 400)
		fail(ex, "an error that is not a problem");
}

/* The response as text, its request id left out: status, headers, body. */
static void
response_text(const struct exchange *ex, struct buf *out)
{
	const struct response *res = &ex->res;
	const char *body = res->body.data != NULL ? res->body.data : "", *id;
	size_t i, idlen = strlen(ex->request_id);

	buf_printf(out, "%d %s\n", res->status, res->content_type != NULL ?
	    res->content_type : "-");
	for (i = 0; i < res->nheaders; i++)
		if (strcmp(res->headers[i].name, "X-Request-Id") != 0)
			buf_printf(out, "%s: %s\n", res->headers[i].name,
			    res->headers[i].value);
	while (idlen > 0 && (id = strstr(body, ex->request_id)) != NULL) {
		buf_append(out, body, (size_t)(id - body));
		body = id + idlen;
	}
	buf_puts(out, body);
}

/*
 * A read asked again gets the same answer: the second time comes from the
 * process's caches (verified credentials, parsed flags, environments), the
 * first did not. (Metrics count the first; watches report the time.)
 */
static int
repeatable(const struct exchange *ex)
{
	return (ex->method == HTTP_GET || ex->method == HTTP_HEAD) &&
	    ex->route != NULL && strcmp(ex->route->pattern, "/v1/metrics") != 0;
}

/* Run the request in data; its response, as text, into *text if not NULL. */
static const struct route *
serve(const uint8_t *data, size_t size, struct buf *text)
{
	const struct route *route;
	struct exchange ex;
	struct body body;

	exchange_init(&ex);
	parse_request(&ex, data, size, &body);
	api_handle(&ex);
	/*
	 * A request that waits has no answer yet: what it hands over must be
	 * well formed; then it is answered as a front end without a waiting
	 * process answers it.
	 */
	if (ex.wait != NULL) {
		if (wait_request_check(ex.wait) == -1)
			fail(&ex, "a malformed wait request");
		respond_wait_unavailable(&ex);
	}
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "fuzz_api: %s %s: %d %.300s\n", ex.req.method,
		    ex.req.path, ex.res.status, ex.res.status >= 300 &&
		    ex.res.body.data != NULL ? ex.res.body.data : "");
	check_response(&ex);
	route = repeatable(&ex) ? ex.route : NULL;
	if (text != NULL)
		response_text(&ex, text);
	api_finish(&ex);
	exchange_free(&ex);
	return route;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf first, again;

	if (size > 1 << 20)
		return 0;
	buf_init(&first);
	buf_init(&again);
	if (serve(data, size, &first) != NULL) {
		serve(data, size, &again);
		if (first.len != again.len ||
		    memcmp(first.data, again.data, first.len) != 0) {
			fprintf(stderr, "asked twice, answered differently:\n"
			    "%s\n---\n%s\n", first.data, again.data);
			abort();
		}
	}
	buf_free(&first);
	buf_free(&again);
	return 0;
}
