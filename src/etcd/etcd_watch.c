/*
 * The etcd client's watch (see etcd.h): one long POST to /v3/watch whose
 * answer is a stream of {"result":{...}} objects, one per watch response.
 *
 * It runs on a CURL handle of its own (client->watch_curl), so that the
 * unary handle's connection and settings are never disturbed by a stream
 * that stays open for hours, and so that the watch callback may itself
 * make unary calls on the same client (a watcher that re-reads a range).
 * The client is still single-threaded: one thread uses it at a time.
 *
 * Bytes go through the frame assembler (etcd_frames.h) because HTTP chunks
 * cut responses anywhere. A progress callback enforces the idle timeout:
 * no frame for idle_timeout_ms (checked about once a second by libcurl)
 * ends the watch as ETCD_UNAVAILABLE, which is how a watcher notices a
 * dead connection that TCP has not yet given up on. (etcd sends progress
 * notifications only every 10 minutes by default, see etcd's
 * --experimental-watch-progress-notify-interval: a quiet range is idle.)
 * The client's deadline (etcd_set_deadline) does not apply to a watch,
 * which is meant to outlive any request; timeout_ms bounds the connect.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "etcd/breaker.h"
#include "etcd/etcd_frames.h"
#include "etcd/etcd_impl.h"

/*
 * Events wait for on_progress at most this many, or this long: libcurl
 * calls it after every pass of reads, but promises only "frequently".
 */
#define WATCH_BATCH_MAX		4096
#define WATCH_BATCH_MAX_AGE_US	50000

struct watch {
	struct etcd_client	*client;
	etcd_watch_fn		 fn;
	void			*ctx;
	struct etcd_frames	 frames;
	struct etcd_error	*error;
	int			 done;		/* error->status is the result */
	int			 auth_refused;	/* the token was not taken */
	int			 frames_seen;
	int			 idle_expired;
	int64_t			 idle_us;
	int64_t			 last_frame_us;
	/* Events of the responses in one read, handed to fn in one call. */
	struct etcd_event	*pending;
	size_t			 npending;
	int64_t			 pending_revision;
	int64_t			 pending_since_us;
	int			 has_pending;
};

static struct json_object *
create_request(const char *key, size_t key_len, const char *range_end,
    size_t range_end_len, int64_t start_revision)
{
	struct json_object *req, *create;

	create = json_object_new_object();
	etcd_json_add_bytes(create, "key", key, key_len);
	if (range_end != NULL && range_end_len > 0)
		etcd_json_add_bytes(create, "range_end", range_end, range_end_len);
	if (start_revision > 0)
		etcd_json_add_int64(create, "start_revision", start_revision);
	json_object_object_add(create, "progress_notify",
	    json_object_new_boolean(1));
	req = json_object_new_object();
	json_object_object_add(req, "create_request", create);
	return req;
}

static void
finish(struct watch *w, enum etcd_status status, int code, const char *message)
{
	w->done = 1;
	etcd_error_set(w->error, status, code, "%s", message);
	if (status != ETCD_OK && etcd_is_auth_error(code, message))
		w->auth_refused = 1;
}

/* A canceled watch: compacted away, refused (auth), or a bad range. */
static int
canceled(struct watch *w, struct json_object *result)
{
	int64_t compact = etcd_json_int64(result, "compact_revision");
	const char *reason = etcd_json_string(result, "cancel_reason");
	char message[96];

	if (compact > 0) {
		snprintf(message, sizeof(message), "required revision has been "
		    "compacted; compact revision %lld", (long long)compact);
		finish(w, ETCD_COMPACTED, 0, message);
	} else
		finish(w, ETCD_ERROR, 0, *reason != '\0' ? reason :
		    "watch canceled by etcd");
	return 1;
}

/* The events of one response; a PUT has no "type" (it is the zero value). */
static int
events_parse(struct json_object *array, struct etcd_event **events,
    size_t *count)
{
	struct json_object *ev, *kv;
	size_t i, n;

	*events = NULL;
	*count = 0;
	if (array == NULL || (n = json_object_array_length(array)) == 0)
		return 0;
	*events = xcalloc(n, sizeof(**events));
	for (i = 0; i < n; i++) {
		ev = json_object_array_get_idx(array, i);
		(*events)[i].type = strcmp(etcd_json_string(ev, "type"),
		    "DELETE") == 0 ? ETCD_EVENT_DELETE : ETCD_EVENT_PUT;
		if (!json_object_object_get_ex(ev, "kv", &kv) ||
		    etcd_kv_parse(kv, &(*events)[i].kv) == -1)
			return -1;
		*count = i + 1;
	}
	return 0;
}

static void
events_free(struct etcd_event *events, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		etcd_kv_clear(&events[i].kv);
	free(events);
}

/*
 * Hand the responses gathered since the last call to fn, all in one call.
 * libcurl passes each HTTP chunk (one response) to on_data separately, and
 * calls on_progress after each pass of up to 100 reads: flushing there lets
 * a watcher that fell behind catch up in one replica transaction instead of
 * one per response. 1 when fn said stop.
 */
static int
flush(struct watch *w)
{
	int stop;

	if (!w->has_pending)
		return 0;
	stop = w->fn(w->ctx, w->pending_revision, w->pending, w->npending);
	events_free(w->pending, w->npending);
	w->pending = NULL;
	w->npending = 0;
	w->has_pending = 0;
	if (stop != 0)
		finish(w, ETCD_OK, 0, "");
	return stop != 0;
}

/* One watch response: its events or progress join the pending ones. */
static int
deliver(struct watch *w, struct json_object *result)
{
	struct json_object *array = NULL;
	struct etcd_event *events;
	size_t count;

	if (etcd_json_bool(result, "canceled"))
		return flush(w) ? 1 : canceled(w, result);
	json_object_object_get_ex(result, "events", &array);
	if (array != NULL && !json_object_is_type(array, json_type_array))
		array = NULL;
	if (events_parse(array, &events, &count) == -1) {
		events_free(events, count);
		finish(w, ETCD_ERROR, 0, "watch: malformed event");
		return 1;
	}
	/* The "created" acknowledgement carries neither events nor progress. */
	if (count == 0 && etcd_json_bool(result, "created")) {
		free(events);
		return 0;
	}
	if (count > 0) {
		w->pending = xrealloc(w->pending,
		    (w->npending + count) * sizeof(*w->pending));
		memcpy(w->pending + w->npending, events, count * sizeof(*events));
		w->npending += count;
	}
	free(events);	/* the kvs now belong to pending */
	if (!w->has_pending)
		w->pending_since_us = clock_monotonic_us();
	w->pending_revision = etcd_header_revision(result);
	w->has_pending = 1;
	return 0;
}

static int
on_frame(void *arg, const char *data, size_t len)
{
	struct watch *w = arg;
	struct json_tokener *tok;
	struct json_object *obj, *result;
	struct etcd_error reply;
	int rc;

	w->last_frame_us = clock_monotonic_us();
	w->frames_seen++;
	if ((tok = json_tokener_new()) == NULL)
		return -1;
	obj = json_tokener_parse_ex(tok, data, (int)len);
	json_tokener_free(tok);
	if (obj != NULL && json_object_object_get_ex(obj, "result", &result))
		rc = deliver(w, result);
	else if (obj != NULL && json_object_object_get_ex(obj, "error", NULL)) {
		/*
		 * {"error":{...}} in the stream, or a plain error answer (HTTP
		 * >= 400). Read apart: finish() must not print a message onto itself.
		 */
		etcd_error_from_reply(obj, 400, &reply);
		finish(w, reply.status, reply.code, reply.message);
		rc = 1;
	} else {
		finish(w, ETCD_ERROR, 0, "watch: malformed frame");
		rc = 1;
	}
	json_object_put(obj);
	return rc;
}

static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct watch *w = arg;
	int overdue;

	if (etcd_frames_feed(&w->frames, data, size * nmemb, on_frame, w) == 0) {
		overdue = w->npending >= WATCH_BATCH_MAX || (w->has_pending &&
		    w->last_frame_us - w->pending_since_us >= WATCH_BATCH_MAX_AGE_US);
		if (!overdue || flush(w) == 0)
			return size * nmemb;
	}
	if (!w->done)
		finish(w, ETCD_ERROR, 0, "watch: not a stream of JSON objects");
	return 0;	/* abort the transfer */
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct watch *w = arg;

	if (flush(w))
		return 1;
	if (w->idle_us <= 0 ||
	    clock_monotonic_us() - w->last_frame_us < w->idle_us)
		return 0;
	w->idle_expired = 1;
	return 1;
}

/* The stream is over: what came just before its end is still etcd's history. */
static void
stream_end(struct watch *w)
{
	etcd_frames_free(&w->frames);
	if (!w->done)
		flush(w);
	events_free(w->pending, w->npending);
	w->pending = NULL;
	w->npending = 0;
	w->has_pending = 0;
}

/* One stream from the current endpoint; returns 1 if another may be tried. */
static int
stream(struct watch *w, const char *body, int idle_timeout_ms)
{
	struct etcd_client *c = w->client;
	/* fn may make unary calls, which move c->current: keep ours. */
	const char *endpoint = c->endpoints[c->current];
	const char *shown = c->shown[c->current];
	struct curl_slist *headers;
	struct buf url;
	CURLcode cc;
	long http = 0;

	buf_init(&url);
	buf_printf(&url, "%s/v3/watch", endpoint);
	headers = etcd_headers(c, 1);
	etcd_frames_init(&w->frames);
	w->idle_us = (int64_t)idle_timeout_ms * 1000;
	w->last_frame_us = clock_monotonic_us();
	c->watch_error[0] = '\0';
	curl_easy_setopt(c->watch_curl, CURLOPT_URL, url.data);
	curl_easy_setopt(c->watch_curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->watch_curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->watch_curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(body));
	curl_easy_setopt(c->watch_curl, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(c->watch_curl, CURLOPT_XFERINFODATA, w);
	cc = curl_easy_perform(c->watch_curl);
	curl_easy_getinfo(c->watch_curl, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_setopt(c->watch_curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	stream_end(w);
	buf_free(&url);
	if (w->done)
		return 0;
	if (w->idle_expired) {
		etcd_error_set(w->error, ETCD_UNAVAILABLE, 0,
		    "watch: no frame for %d ms", idle_timeout_ms);
		return 0;
	}
	if (cc == CURLE_OK && http >= 400)
		etcd_error_set(w->error, ETCD_ERROR, 0, "watch: HTTP %ld", http);
	else
		etcd_error_set(w->error, ETCD_UNAVAILABLE, 0, "watch: %s: %s",
		    shown, cc == CURLE_OK ? "stream ended" :
		    c->watch_error[0] != '\0' ? c->watch_error :
		    curl_easy_strerror(cc));
	/* Fail over only if this endpoint was never reached. */
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	    (cc == CURLE_OPERATION_TIMEDOUT && w->frames_seen == 0);
}

static void
setup_watch_handle(struct etcd_client *c)
{
	CURL *h = c->watch_curl;

	etcd_setup_handle(c, h, c->watch_error);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
}

/* Each endpoint at most once, and one new token if the old one is refused. */
static void
run(struct watch *w, const char *body, int idle_timeout_ms)
{
	struct etcd_client *c = w->client;
	size_t tried;
	int round;

	for (round = 0; round < 2; round++) {
		if (etcd_authenticate(c, clock_monotonic_us() +
		    (int64_t)c->timeout_ms * 1000, w->error) != ETCD_OK)
			return;
		w->done = w->auth_refused = 0;
		for (tried = 0; tried < c->nendpoints; tried++) {
			if (!stream(w, body, idle_timeout_ms))
				break;
			c->current = (c->current + 1) % c->nendpoints;
		}
		if (!w->auth_refused || c->username == NULL)
			return;
		etcd_forget_token(c);
	}
}

enum etcd_status
etcd_watch(struct etcd_client *c, const char *key, size_t key_len,
    const char *range_end, size_t range_end_len, int64_t start_revision,
    int idle_timeout_ms, etcd_watch_fn fn, void *ctx, struct etcd_error *error)
{
	struct etcd_error scratch;
	struct json_object *req;
	struct watch w;

	memset(&w, 0, sizeof(w));
	w.error = error != NULL ? error : &scratch;
	etcd_error_clear(w.error);
	if (c->use_breaker && breaker_allow() == BREAKER_REFUSE) {
		etcd_error_set(w.error, ETCD_UNAVAILABLE, 0, "circuit breaker open");
		w.error->not_sent = 1;
		etcd_count_call(ETCD_UNAVAILABLE);
		return ETCD_UNAVAILABLE;
	}
	if (c->watch_curl == NULL) {
		if ((c->watch_curl = curl_easy_init()) == NULL) {
			etcd_error_set(w.error, ETCD_ERROR, 0, "watch: curl_easy_init");
			return ETCD_ERROR;
		}
		setup_watch_handle(c);
	}
	w.client = c;
	w.fn = fn;
	w.ctx = ctx;
	req = create_request(key, key_len, range_end, range_end_len,
	    start_revision);
	run(&w, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
	    idle_timeout_ms);
	json_object_put(req);
	if (c->use_breaker && w.frames_seen == 0 &&
	    w.error->status == ETCD_UNAVAILABLE)
		breaker_failure(w.error->message);
	else if (c->use_breaker)
		breaker_success();
	etcd_count_call(w.error->status);
	return w.error->status;
}

int
etcd_watch_replay(const char *const *chunks, const size_t *lens, size_t count,
    etcd_watch_fn fn, void *ctx, struct etcd_error *error)
{
	struct watch w;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.error = error;
	w.fn = fn;
	w.ctx = ctx;
	etcd_error_clear(error);
	etcd_frames_init(&w.frames);
	w.last_frame_us = clock_monotonic_us();
	/* As libcurl does: each chunk to on_data, then on_progress. */
	for (i = 0; i < count && !w.done; i++) {
		if (lens[i] == 0)
			continue;
		if (on_data((char *)chunks[i], 1, lens[i], &w) != lens[i] ||
		    on_progress(&w, 0, 0, 0, 0) != 0)
			break;
	}
	stream_end(&w);
	if (!w.done)
		etcd_error_set(error, ETCD_UNAVAILABLE, 0, "watch: stream ended");
	return error->status;
}
