/*
 * Long-poll watches; see watch_resource.h.
 *
 * A watch looks in the replica's event log once, in its responder: changes
 * newer than ?since= under the prefix are answered at once. Otherwise it
 * waits (http/wait.h): the responder hands it to the node's waiting
 * process and serves on. There the wait room notices every revision the
 * watcher publishes within WAIT_ROOM_POLL_MS, reads the log once for all
 * the watches and wakes those under a changed key; each of them looks
 * again here (watch_wait_look), the thousands that wait on one prefix
 * sharing one look. The watcher applies etcd's events within milliseconds,
 * so a change made anywhere (this API, another node, etcdctl) answers a
 * watch well within a second.
 *
 * Without ?since= the answer is immediate: no events and the replica's
 * revision, to watch from (after listing, for a client that has none yet).
 * That is Consul's blocking query without an index; waiting for "anything
 * after now" instead would silently lose what changed between a client's
 * list and its first watch.
 *
 * A watch that ends with no change (its timeout, or the waiting process
 * stopping or reloading) answers the revision up to which the room knows
 * nothing changed under its prefix, so that watching on from there loses
 * nothing.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/conf.h"
#include "base/util.h"
#include "http/auth.h"
#include "http/resource.h"
#include "http/wait.h"
#include "model/keys.h"
#include "resources/watch_resource.h"
#include "store/store.h"

/* A resource folder a watch may name, and how its keys read in events. */
struct folder {
	const char	*path;		/* "config/" */
	const char	*resource;	/* the event's "resource" */
	int		 by_environment;	/* keys are ENV/KEY below it */
};

static const struct folder folders[] = {
	{ "config/", "config", 0 },
	{ "flags/", "flags", 1 },
	{ "services/", "services", 0 },
};

struct watch_query {
	const struct folder *folder;
	const char	*prefix;	/* the store's key prefix */
	int		 has_since;
	int64_t		 since;
	int64_t		 timeout_us;
};

struct watch_answer {
	int64_t		 revision;	/* the answer's top-level revision */
	int64_t		 seen;		/* replica revision as the last look began */
	struct json_object *events;	/* NULL while there are none */
	enum cache_state cache;
};

/*
 * ?prefix= names a folder, then names joined by '/' (the last may be partial
 * or end in '/'), like a config list prefix. -1 after answering 400.
 */
static int
parse_prefix(struct exchange *ex, struct watch_query *q)
{
	const char *prefix = arg_text(ex, "prefix", "");	/* required */
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(folders); i++) {
		len = strlen(folders[i].path);
		if (strncmp(prefix, folders[i].path, len) == 0 &&
		    strlen(prefix) <= CONFIG_KEY_MAX_LEN &&
		    config_prefix_valid(prefix + len)) {
			q->folder = &folders[i];
			q->prefix = prefix;
			return 0;
		}
	}
	respond_problem(ex, 400, "invalid_key", "prefix must be config/, flags/ or "
	    "services/ followed by names of [A-Za-z0-9][A-Za-z0-9._-]* joined by "
	    "'/', at most %d bytes", CONFIG_KEY_MAX_LEN);
	return -1;
}

/* ?since= and ?timeout=, checked already (validate.h). */
static void
read_numbers(const struct exchange *ex, struct watch_query *q)
{
	q->has_since = arg_get(ex, "since") != NULL;
	q->since = arg_int(ex, "since", 0);
	q->timeout_us = arg_int(ex, "timeout", WATCH_DEFAULT_TIMEOUT) * 1000000;
}

/*
 * How many of the first events fit in one answer: at most WATCH_MAX_EVENTS
 * events and WATCH_MAX_BYTES of values (one event at least, whatever its
 * size).
 */
static size_t
events_within_bounds(const struct store_event *events, size_t n)
{
	size_t keep, bytes = 0;

	for (keep = 0; keep < n && keep < WATCH_MAX_EVENTS; keep++) {
		bytes += events[keep].item.value_len;
		if (bytes > WATCH_MAX_BYTES && keep > 0)
			break;
	}
	return keep;
}

/*
 * How many of the n events to answer, or 0 when more must be read first.
 * The client watches on from the last revision answered, so an answer ends
 * at a revision boundary: a revision split in two would lose its tail.
 * complete: these are all the events there are.
 */
static size_t
events_to_answer(const struct store_event *events, size_t n, int complete)
{
	size_t keep = events_within_bounds(events, n), first = 1;

	if (complete && keep == n)
		return n;
	while (keep > 0 && events[keep - 1].item.mod_revision ==
	    events[keep].item.mod_revision)
		keep--;
	if (keep > 0)
		return keep;
	/*
	 * The first revision alone holds more than the cap: etcdctl del
	 * --prefix deletes every key in one revision. It goes out whole.
	 */
	while (first < n && events[first].item.mod_revision ==
	    events[0].item.mod_revision)
		first++;
	return first < n || complete ? first : 0;
}

/* Events newer than since, cut by events_to_answer. */
static enum store_result
read_events(struct store_ctx *ctx, const struct watch_query *q,
    struct store_event **events, size_t *count)
{
	int64_t limit = WATCH_MAX_EVENTS + 1;
	enum store_result rc;
	size_t n;

	for (;;) {
		rc = store_events_since(ctx, q->prefix, q->since, limit, events, &n);
		if (rc != STORE_OK)
			return rc;
		if ((*count = events_to_answer(*events, n, (int64_t)n < limit)) > 0 ||
		    n == 0)
			return STORE_OK;
		limit *= 2;
	}
}

static struct json_object *
event_json(const struct folder *folder, const struct store_event *event)
{
	struct json_object *obj = json_object_new_object();
	const char *key = event->item.key + strlen(folder->path), *slash;

	json_object_object_add(obj, "type",
	    json_object_new_string(event->deleted ? "delete" : "put"));
	json_object_object_add(obj, "resource",
	    json_object_new_string(folder->resource));
	/* A watch on flags/ sees every environment: say which one. */
	if (folder->by_environment && (slash = strchr(key, '/')) != NULL) {
		json_object_object_add(obj, "environment",
		    json_object_new_string_len(key, (int)(slash - key)));
		key = slash + 1;
	}
	json_object_object_add(obj, "key", json_object_new_string(key));
	if (!event->deleted)
		json_object_object_add(obj, "value", resource_value_json(
		    event->item.key, event->item.value, event->item.value_len));
	json_object_object_add(obj, "revision",
	    json_object_new_int64(event->item.mod_revision));
	return obj;
}

/*
 * One look in the event log. The replica revision is read first: every
 * event up to it is in the log (the watcher publishes it after committing),
 * so when nothing newer is found, answering it skips no change. The events
 * live in a scratch arena freed here, so that a watch looking many times
 * (etcd busy under other prefixes) does not grow its request's arena.
 */
static enum store_result
watch_look(const struct watch_query *q, struct watch_answer *answer)
{
	struct store_event *events;
	struct store_ctx ctx;
	struct arena scratch;
	enum store_result rc;
	size_t count = 0, i;

	arena_init(&scratch);
	memset(&ctx, 0, sizeof(ctx));
	ctx.arena = &scratch;
	ctx.deadline_us = clock_monotonic_us() +
	    (int64_t)conf.server.request_timeout * 1000;
	answer->seen = answer->revision = store_replica_revision();
	rc = read_events(&ctx, q, &events, &count);
	if (rc == STORE_OK && count > 0) {
		answer->events = json_object_new_array();
		for (i = 0; i < count; i++)
			json_object_array_add(answer->events,
			    event_json(q->folder, &events[i]));
		answer->revision = events[count - 1].item.mod_revision;
	}
	answer->cache = ctx.cache;
	arena_free(&scratch);
	return rc;
}

static void
answer_headers(struct exchange *ex, enum cache_state cache)
{
	struct store_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cache = cache;
	resource_read_headers(ex, &ctx);
	response_header(ex, "Cache-Control", "no-store");
}

static void
respond_answer(struct exchange *ex, struct watch_answer *answer)
{
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "revision",
	    json_object_new_int64(answer->revision));
	json_object_object_add(body, "events", answer->events != NULL ?
	    answer->events : json_object_new_array());
	answer->events = NULL;	/* the body owns them now */
	respond_json(ex, 200, body);
	json_object_put(body);
	answer_headers(ex, answer->cache);
}

/*
 * A watch reads what its folder holds: flags/ needs flags:read, services/
 * services:read, anything else (config/, or a prefix still to be refused)
 * the route's config:read. The pipeline asks before the query is judged,
 * so a principal without the scope learns nothing from the 400s.
 */
enum scope
watch_scope(const struct exchange *ex)
{
	const char *prefix = query_get(ex, "prefix");

	if (prefix != NULL && strncmp(prefix, "flags/", 6) == 0)
		return SCOPE_FLAGS_READ;
	if (prefix != NULL && strncmp(prefix, "services/", 9) == 0)
		return SCOPE_SERVICES_READ;
	return SCOPE_CONFIG_READ;
}

void
handle_watch(struct exchange *ex)
{
	struct watch_query q;
	struct watch_answer answer;
	enum store_result rc;

	memset(&q, 0, sizeof(q));
	memset(&answer, 0, sizeof(answer));
	if (parse_prefix(ex, &q) == -1)
		return;
	read_numbers(ex, &q);
	if (!store_ready()) {
		respond_problem(ex, 503, "store_unavailable", "this node has not "
		    "loaded its replica from etcd yet; retry");
		response_header(ex, "Retry-After", "1");
		return;
	}
	if (!q.has_since) {
		answer.revision = store_replica_revision();
		answer.cache = store_etcd_up() ? CACHE_HIT : CACHE_STALE;
		respond_answer(ex, &answer);
		return;
	}
	rc = watch_look(&q, &answer);
	if (rc == STORE_OK && answer.events == NULL && q.timeout_us > 0) {
		respond_wait(ex, WAIT_WATCH, q.prefix, q.since, answer.seen,
		    q.timeout_us, NULL);
		return;
	}
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "not_found", "the watched folder");
		return;
	}
	respond_answer(ex, &answer);
}

/* -- in the waiting process */

/* The folder a prefix names; it was checked before the watch waited. */
static const struct folder *
folder_of(const char *prefix)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(folders); i++)
		if (strncmp(prefix, folders[i].path, strlen(folders[i].path)) == 0)
			return &folders[i];
	return &folders[0];
}

/*
 * The last answer a woken watch gave: thousands of watches on one prefix
 * wake at once, and each would read and format the same events. Good while
 * the replica revision it was read at is the current one.
 */
static struct {
	int		 valid;
	char		 prefix[WAIT_KEY_MAX];
	int64_t		 since;
	int64_t		 at;
	enum cache_state cache;
	struct buf	 body;
} last;

static int
answer_as_last(struct exchange *ex, const struct wait_request *req)
{
	if (!last.valid || last.since != req->since || last.at !=
	    store_replica_revision() || strcmp(last.prefix, req->key) != 0)
		return 0;
	ex->res.status = 200;
	ex->res.content_type = "application/json";
	buf_reset(&ex->res.body);
	buf_append(&ex->res.body, last.body.data, last.body.len);
	answer_headers(ex, last.cache);
	return 1;
}

static void
keep_as_last(const struct exchange *ex, const struct wait_request *req,
    const struct watch_answer *answer)
{
	last.valid = 1;
	snprintf(last.prefix, sizeof(last.prefix), "%s", req->key);
	last.since = req->since;
	last.at = answer->seen;
	last.cache = answer->cache;
	buf_reset(&last.body);
	buf_append(&last.body, ex->res.body.data, ex->res.body.len);
}

static int
watch_wakes(const struct wait_request *req, const struct store_event *event)
{
	return event->item.mod_revision > req->since;
}

static enum wait_outcome
watch_wait_look(struct exchange *ex, struct wait_request *req)
{
	struct watch_query q;
	struct watch_answer answer;
	enum store_result rc;

	if (answer_as_last(ex, req))
		return WAIT_ANSWERED;
	memset(&q, 0, sizeof(q));
	memset(&answer, 0, sizeof(answer));
	q.folder = folder_of(req->key);
	q.prefix = req->key;
	q.has_since = 1;
	q.since = req->since;
	rc = watch_look(&q, &answer);
	if (rc == STORE_OK && answer.events == NULL) {
		req->seen = answer.seen;
		return WAIT_GOES_ON;
	}
	if (rc != STORE_OK) {
		resource_store_error(ex, rc, "not_found", "the watched folder");
		return WAIT_ANSWERED;
	}
	respond_answer(ex, &answer);
	keep_as_last(ex, req, &answer);
	return WAIT_ANSWERED;
}

static void
watch_expire(struct exchange *ex, const struct wait_request *req, int64_t clean)
{
	struct watch_answer answer;

	(void)req;
	memset(&answer, 0, sizeof(answer));
	answer.revision = clean;
	answer.cache = store_etcd_up() ? CACHE_HIT : CACHE_STALE;
	respond_answer(ex, &answer);
}

static void
watch_refuse(struct exchange *ex, const struct wait_request *req)
{
	(void)req;
	respond_wait_refused(ex, "watches");
}

const struct wait_kind watch_wait_kind = {
	.name = "watch",
	.wakes = watch_wakes,
	.look = watch_wait_look,
	.expire = watch_expire,
	.refuse = watch_refuse,
};
