/*
 * The etcd client (see etcd.h): its life cycle, and the call engine that
 * every unary operation goes through.
 *
 * etcd_call() is where the resilience lives. A call gets a deadline (the
 * one set by etcd_set_deadline, or timeout_ms from now) and the breaker is
 * asked first. Then attempts go to the endpoint that last answered,
 * failing over to the next one. What may be tried again depends on what
 * is known of the failed attempt:
 *
 *   - never reached etcd (libcurl never sent it: no connection, no TLS):
 *     any call, because nothing happened;
 *   - refused by etcd before it was proposed ("no leader", "too many
 *     requests"...; see etcd_refused_before_proposal): any call;
 *   - sent but unanswered, or answered "unavailable" in a way that may
 *     follow the proposal ("request timed out"): an idempotent call again,
 *     a mutating one is ETCD_UNKNOWN, since etcd may have applied it;
 *   - answered with an error: that is the result (a stale auth token
 *     excepted: one new token, one more try).
 *
 * libcurl itself sends a request again on a new connection when a reused
 * one dies before any answer: harmless for a read, but a write may have
 * been applied by then. The pre-request callback counts the sends of a
 * call and stops a second one of a mutating call (libcurl older than
 * 7.80 has no such callback: there mutating calls never reuse a
 * connection, so libcurl has nothing to retry).
 *
 * Between rounds over the endpoints the engine sleeps an exponential
 * backoff with full jitter, so that a pool of responders does not hammer a
 * recovering etcd in step, and never past the deadline. The probe of a
 * half open breaker makes one round only: one refused connection is answer
 * enough, and every other caller is waiting on it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/shared.h"
#include "base/util.h"
#include "etcd/breaker.h"
#include "etcd/etcd_impl.h"

#define DEFAULT_TIMEOUT_MS	5000
#define BACKOFF_BASE_US		25000
#define BACKOFF_CAP_US		1000000
#define CONNECT_MIN_MS		100
/*
 * Retrying stops after this long even when the deadline allows more: an
 * etcd that is down should cost a caller a fraction of a second, not the
 * whole request timeout (the breaker then spares the next callers even that).
 */
#define RETRY_BUDGET_US		1000000
/* An answer larger than this is refused rather than buffered. */
#define BODY_MAX		(512 * 1024 * 1024)

/* What an attempt, or a whole exchange, came to. */
enum exchange_result {
	EXCHANGE_DONE,		/* error->status is the result (ETCD_OK: *reply) */
	EXCHANGE_RETRY,		/* try again (other endpoint, after backoff) */
	EXCHANGE_AUTH,		/* the token was refused */
};

/* The pre-request callback came with libcurl 7.80. */
#if LIBCURL_VERSION_NUM >= 0x075000
#define HAVE_PREREQ 1
#else
#define HAVE_PREREQ 0
#endif

struct exchange {
	const char		*path;
	const char		*body;
	size_t			 len;
	enum etcd_call_kind	 kind;
	int64_t			 deadline;
	int			 with_token;
	int			 probe;		/* one round over the endpoints */
};

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *body = arg;

	if (body->len + size * nmemb > BODY_MAX)
		return 0;
	buf_append(body, data, size * nmemb);
	return size * nmemb;
}

/* "http://user:pw@host:2379" as "http://host:2379": messages must not carry it. */
static char *
shown_endpoint(const char *endpoint)
{
	const char *host = strstr(endpoint, "://"), *at;
	struct buf shown;

	host = host != NULL ? host + 3 : endpoint;
	at = strchr(host, '@');
	if (at == NULL || at > host + strcspn(host, "/?#"))
		return xstrdup(endpoint);
	buf_init(&shown);
	buf_append(&shown, endpoint, (size_t)(host - endpoint));
	buf_puts(&shown, at + 1);
	return shown.data;
}

/* Split "a, b,c/" into endpoints; returns how many there are. */
static size_t
split_endpoints(struct etcd_client *c, const char *list)
{
	const char *p = list, *end;
	size_t len;

	while (*p != '\0') {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
		    p[len - 1] == '/'))
			len--;
		if (len > 0) {
			c->endpoints = xrealloc(c->endpoints,
			    (c->nendpoints + 1) * sizeof(*c->endpoints));
			c->shown = xrealloc(c->shown,
			    (c->nendpoints + 1) * sizeof(*c->shown));
			c->endpoints[c->nendpoints] = xstrndup(p, len);
			c->shown[c->nendpoints] =
			    shown_endpoint(c->endpoints[c->nendpoints]);
			c->nendpoints++;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return c->nendpoints;
}

#if HAVE_PREREQ
/* libcurl is about to send the request (again, if count was not 0). */
static int
before_send(void *arg, char *ip, char *local_ip, int port, int local_port)
{
	struct etcd_sends *sends = arg;

	(void)ip;
	(void)local_ip;
	(void)port;
	(void)local_port;
	if (sends->count++ > 0 && sends->mutating)
		return CURL_PREREQFUNC_ABORT;
	return CURL_PREREQFUNC_OK;
}
#endif

static char *
dup_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

void
etcd_setup_handle(struct etcd_client *c, CURL *curl, char *error_buffer)
{
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (c->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file != NULL)
		curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file != NULL)
		curl_easy_setopt(curl, CURLOPT_SSLKEY, c->key_file);
}

struct etcd_client *
etcd_client_new(const struct etcd_options *o)
{
	struct etcd_client *c;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = xcalloc(1, sizeof(*c));
	buf_init(&c->body);
	if (o == NULL || o->endpoints == NULL || split_endpoints(c, o->endpoints) == 0)
		goto fail;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->use_breaker = o->use_breaker;
	c->username = dup_or_null(o->username);
	c->password = xstrdup(o->password != NULL ? o->password : "");
	c->ca_file = dup_or_null(o->ca_file);
	c->cert_file = dup_or_null(o->cert_file);
	c->key_file = dup_or_null(o->key_file);
	if ((c->curl = curl_easy_init()) == NULL)
		goto fail;
	etcd_setup_handle(c, c->curl, c->curl_error);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->body);
#if HAVE_PREREQ
	curl_easy_setopt(c->curl, CURLOPT_PREREQFUNCTION, before_send);
	curl_easy_setopt(c->curl, CURLOPT_PREREQDATA, &c->sends);
#endif
	return c;
fail:
	etcd_client_free(c);
	return NULL;
}

void
etcd_client_free(struct etcd_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->watch_curl != NULL)
		curl_easy_cleanup(c->watch_curl);
	for (i = 0; i < c->nendpoints; i++) {
		free(c->endpoints[i]);
		free(c->shown[i]);
	}
	free(c->endpoints);
	free(c->shown);
	free(c->username);
	if (c->password != NULL)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	etcd_forget_token(c);
	buf_free(&c->body);
	free(c);
	curl_global_cleanup();
}

const char *
etcd_endpoint(const struct etcd_client *c)
{
	return c->shown[c->current];
}

void
etcd_set_deadline(struct etcd_client *c, int64_t deadline_us)
{
	c->deadline_us = deadline_us;
}

int64_t
etcd_remaining_us(const struct etcd_client *c, int64_t deadline)
{
	return deadline - clock_monotonic_us();
}

static int64_t
call_deadline(const struct etcd_client *c)
{
	if (c->deadline_us != 0)
		return c->deadline_us;
	return clock_monotonic_us() + (int64_t)c->timeout_ms * 1000;
}

void
etcd_count_call(enum etcd_status status)
{
	struct shared_metrics *m = &shared()->metrics;

	__atomic_add_fetch(&m->etcd_calls, 1, __ATOMIC_RELAXED);
	switch (status) {
	case ETCD_UNAVAILABLE:
	case ETCD_UNKNOWN:
	case ETCD_ERROR:
		__atomic_add_fetch(&m->etcd_failures, 1, __ATOMIC_RELAXED);
		break;
	case ETCD_OK:
	case ETCD_COMPACTED:	/* an answer about the data, not a failure */
	case ETCD_NOT_FOUND:
		break;
	}
}

struct curl_slist *
etcd_headers(const struct etcd_client *c, int with_token)
{
	struct curl_slist *h = NULL;
	struct buf auth;

	h = curl_slist_append(h, "Content-Type: application/json");
	/* No "100 Continue" round trip before a large body. */
	h = curl_slist_append(h, "Expect:");
	if (with_token && c->token != NULL) {
		buf_init(&auth);
		buf_printf(&auth, "Authorization: %s", c->token);
		h = curl_slist_append(h, auth.data);
		explicit_bzero(auth.data, auth.len);
		buf_free(&auth);
	}
	return h;
}

void
etcd_forget_token(struct etcd_client *c)
{
	if (c->token != NULL)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	c->token = NULL;
}

enum etcd_outcome
etcd_curl_outcome(CURLcode cc, int sends, long written)
{
	if (cc == CURLE_OK)
		return ETCD_ANSWERED;
	/*
	 * libcurl calls the pre-request callback right before it sends, on a
	 * new or a reused connection: never called, never sent, whatever went
	 * wrong (resolving, connecting, TLS). Once called, anything may have
	 * reached etcd: a reset, an empty reply, a timeout.
	 */
	if (sends >= 0)
		return sends == 0 ? ETCD_NOT_REACHED : ETCD_LOST;
	switch (cc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return ETCD_NOT_REACHED;
	case CURLE_OPERATION_TIMEDOUT:
		return written == 0 ? ETCD_NOT_REACHED : ETCD_LOST;
	default:
		return ETCD_LOST;
	}
}

/* The connect timeout leaves time for the other endpoints. */
static long
connect_ms(const struct etcd_client *c, long total_ms)
{
	long ms = c->nendpoints > 1 ? total_ms / 2 : total_ms;

	if (ms < CONNECT_MIN_MS)
		ms = CONNECT_MIN_MS;
	return ms < total_ms ? ms : total_ms;
}

/* One HTTP request to the current endpoint; the answer lands in c->body. */
static enum etcd_outcome
attempt(struct etcd_client *c, const struct exchange *x, int64_t remaining_us,
    long *http, CURLcode *cc)
{
	struct curl_slist *headers;
	struct buf url;
	long ms, sent = 0;
	int mutating = x->kind == ETCD_MUTATING;

	ms = remaining_us > 1000 ? (long)(remaining_us / 1000) : 1;
	buf_init(&url);
	buf_printf(&url, "%s%s", c->endpoints[c->current], x->path);
	headers = etcd_headers(c, x->with_token);
	buf_reset(&c->body);
	c->curl_error[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url.data);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->len);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms(c, ms));
	c->sends.mutating = mutating;
	c->sends.count = 0;
	if (!HAVE_PREREQ)
		curl_easy_setopt(c->curl, CURLOPT_FRESH_CONNECT, (long)mutating);
	*cc = curl_easy_perform(c->curl);
	*http = 0;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, http);
	curl_easy_getinfo(c->curl, CURLINFO_REQUEST_SIZE, &sent);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	buf_free(&url);
	/* collect() is the only writer that refuses. */
	if (*cc == CURLE_WRITE_ERROR)
		return ETCD_TOO_LARGE;
	return etcd_curl_outcome(*cc, HAVE_PREREQ ? c->sends.count : -1, sent);
}

static struct json_object *
parse_body(const struct buf *body)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (body->len == 0)
		return NULL;
	if ((tok = json_tokener_new()) == NULL)
		return NULL;
	obj = json_tokener_parse_ex(tok, body->data, (int)body->len);
	json_tokener_free(tok);
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

/* Make sense of an HTTP answer: ETCD_OK with *reply, or why not. */
static enum exchange_result
answer(struct etcd_client *c, const struct exchange *x, long http,
    struct json_object **reply, struct etcd_error *error)
{
	struct json_object *obj = parse_body(&c->body);
	struct buf message;

	if (http >= 200 && http < 300 && obj != NULL) {
		*reply = obj;
		etcd_error_clear(error);
		return EXCHANGE_DONE;
	}
	/* A write etcd accepted, with an answer we cannot read: applied, but how? */
	if (http >= 200 && http < 300)
		etcd_error_set(error, x->kind == ETCD_MUTATING ? ETCD_UNKNOWN :
		    ETCD_ERROR, 0, "%s: not a JSON object", x->path);
	else
		etcd_error_from_reply(obj, http, error);
	json_object_put(obj);
	if (etcd_is_auth_error(error->code, error->message))
		return EXCHANGE_AUTH;
	error->status = etcd_answer_status(error, x->kind);
	/* Which member said so: the message goes to the log. */
	buf_init(&message);
	buf_printf(&message, "%s: %s", c->shown[c->current], error->message);
	snprintf(error->message, sizeof(error->message), "%s", message.data);
	buf_free(&message);
	return error->status == ETCD_UNAVAILABLE ? EXCHANGE_RETRY : EXCHANGE_DONE;
}

/* Sleep before the next round: full jitter, never past the deadline. */
static void
backoff(unsigned round, int64_t remaining_us)
{
	struct timespec ts;
	uint64_t r;
	int64_t cap, us;

	cap = BACKOFF_BASE_US << (round < 6 ? round : 6);
	if (cap > BACKOFF_CAP_US)
		cap = BACKOFF_CAP_US;
	if (random_bytes(&r, sizeof(r)) == -1)
		r = (uint64_t)clock_monotonic_us();
	us = (int64_t)(r % (uint64_t)(cap + 1));
	if (us > remaining_us)
		us = remaining_us;
	if (us <= 0)
		return;
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1)
		continue;
}

/* An attempt failed: what went wrong, and may it be tried again? */
static enum exchange_result
failed_attempt(struct etcd_client *c, const struct exchange *x,
    enum etcd_outcome outcome, CURLcode cc, struct etcd_error *error)
{
	const char *why = c->curl_error[0] != '\0' ? c->curl_error :
	    curl_easy_strerror(cc);

	if (outcome == ETCD_TOO_LARGE) {
		etcd_error_set(error, ETCD_ERROR, 0, "%s: %s: answer over %d bytes",
		    c->shown[c->current], x->path, BODY_MAX);
		return EXCHANGE_DONE;
	}
	if (outcome == ETCD_LOST && x->kind == ETCD_MUTATING) {
		etcd_error_set(error, ETCD_UNKNOWN, 0, "%s: outcome unknown: %s",
		    c->shown[c->current], why);
		return EXCHANGE_DONE;
	}
	etcd_error_set(error, ETCD_UNAVAILABLE, 0, "%s: %s",
	    c->shown[c->current], why);
	return EXCHANGE_RETRY;
}

/*
 * Attempts until an answer, a failure that must not be retried, or the
 * deadline: EXCHANGE_DONE or EXCHANGE_AUTH, never EXCHANGE_RETRY.
 */
static enum exchange_result
exchange(struct etcd_client *c, const struct exchange *x,
    struct json_object **reply, struct etcd_error *error)
{
	enum exchange_result rc;
	enum etcd_outcome outcome;
	unsigned round = 0;
	size_t tried = 0;
	int64_t give_up = clock_monotonic_us() + RETRY_BUDGET_US;
	CURLcode cc;
	long http;

	for (;;) {
		outcome = attempt(c, x, etcd_remaining_us(c, x->deadline),
		    &http, &cc);
		if (outcome == ETCD_ANSWERED)
			rc = answer(c, x, http, reply, error);
		else
			rc = failed_attempt(c, x, outcome, cc, error);
		if (rc != EXCHANGE_RETRY)
			return rc;
		c->current = (c->current + 1) % c->nendpoints;
		if (++tried % c->nendpoints == 0) {
			if (x->probe)
				return EXCHANGE_DONE;
			backoff(round++, etcd_remaining_us(c, x->deadline));
		}
		if (etcd_remaining_us(c, x->deadline) <= 0 ||
		    clock_monotonic_us() >= give_up)
			return EXCHANGE_DONE;
		__atomic_add_fetch(&shared()->metrics.etcd_retries, 1,
		    __ATOMIC_RELAXED);
	}
}

/* A token must not smuggle a line break into the request headers. */
static int
token_ok(const char *token)
{
	const unsigned char *p;

	for (p = (const unsigned char *)token; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return *token != '\0';
}

/* The token of an authenticate answer, error as exchange() left it. */
static enum etcd_status
take_token(struct etcd_client *c, struct json_object *reply,
    struct etcd_error *error)
{
	switch (error->status) {
	case ETCD_OK:
		if (!token_ok(etcd_json_string(reply, "token"))) {
			etcd_error_set(error, ETCD_ERROR, 0, "authenticate: no token");
			return ETCD_ERROR;
		}
		c->token = xstrdup(etcd_json_string(reply, "token"));
		return ETCD_OK;
	case ETCD_ERROR:
		/* Credentials configured for an etcd without auth: go on without. */
		if (strstr(error->message, "authentication is not enabled") != NULL)
			etcd_error_clear(error);
		return error->status;
	case ETCD_UNAVAILABLE:
	case ETCD_COMPACTED:
	case ETCD_NOT_FOUND:
	case ETCD_UNKNOWN:
		break;
	}
	return error->status;
}

static enum etcd_status
authenticate_at(struct etcd_client *c, int64_t deadline, int probe,
    struct etcd_error *error)
{
	struct json_object *req, *reply = NULL;
	struct exchange x;
	enum etcd_status rc;

	req = json_object_new_object();
	json_object_object_add(req, "name", json_object_new_string(c->username));
	json_object_object_add(req, "password", json_object_new_string(c->password));
	x.path = "/v3/auth/authenticate";
	x.body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	x.len = strlen(x.body);
	x.kind = ETCD_IDEMPOTENT;
	x.deadline = deadline;
	x.with_token = 0;
	x.probe = probe;
	/* EXCHANGE_AUTH here: a wrong name or password. */
	rc = exchange(c, &x, &reply, error) == EXCHANGE_DONE ?
	    take_token(c, reply, error) : error->status;
	explicit_bzero((char *)x.body, x.len);
	json_object_put(req);
	json_object_put(reply);
	return rc;
}

enum etcd_status
etcd_authenticate(struct etcd_client *c, int64_t deadline,
    struct etcd_error *error)
{
	if (c->username == NULL || c->token != NULL)
		return ETCD_OK;
	return authenticate_at(c, deadline, 0, error);
}

/* exchange() with a token, and one new token if etcd refuses the old one. */
static enum etcd_status
exchange_authed(struct etcd_client *c, struct exchange *x,
    struct json_object **reply, struct etcd_error *error)
{
	enum etcd_status rc;
	int round;

	for (round = 0; round < 2; round++) {
		/* A probe's token comes in its one round too. */
		if (c->username != NULL && c->token == NULL &&
		    (rc = authenticate_at(c, x->deadline, x->probe, error)) != ETCD_OK)
			return rc;
		x->with_token = c->token != NULL;
		if (exchange(c, x, reply, error) != EXCHANGE_AUTH)
			return error->status;
		etcd_forget_token(c);
		if (c->username == NULL)
			break;
	}
	return error->status;
}

/* A call failed here, before any request: nothing was sent. */
static enum etcd_status
refuse(struct etcd_error *error, const char *why)
{
	etcd_error_set(error, ETCD_UNAVAILABLE, 0, "%s", why);
	error->not_sent = 1;
	etcd_count_call(ETCD_UNAVAILABLE);
	return ETCD_UNAVAILABLE;
}

enum etcd_status
etcd_call(struct etcd_client *c, const char *path, struct json_object *request,
    enum etcd_call_kind kind, struct json_object **reply,
    struct etcd_error *error)
{
	enum breaker_verdict verdict = BREAKER_PASS;
	struct exchange x;
	enum etcd_status rc;

	*reply = NULL;
	etcd_error_clear(error);
	x.deadline = call_deadline(c);
	if (etcd_remaining_us(c, x.deadline) <= 0)
		return refuse(error, "deadline exceeded");
	if (c->use_breaker && (verdict = breaker_allow()) == BREAKER_REFUSE)
		return refuse(error, "circuit breaker open");
	x.probe = verdict == BREAKER_PROBE;
	x.path = path;
	x.body = json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN);
	x.len = strlen(x.body);
	x.kind = kind;
	rc = exchange_authed(c, &x, reply, error);
	/* Only silence or a leaderless etcd counts against it; an error answer is an answer. */
	if (c->use_breaker && (rc == ETCD_UNAVAILABLE || rc == ETCD_UNKNOWN))
		breaker_failure(error->message);
	else if (c->use_breaker)
		breaker_success();
	etcd_count_call(rc);
	return rc;
}
