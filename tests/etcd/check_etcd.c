/*
 * Tests of the etcd client (src/etcd*.c) and the circuit breaker, against
 * a real etcd: DYNCONF_TEST_ETCD names its endpoint; DYNCONF_TEST_ETCD_AUTH
 * and DYNCONF_TEST_ETCD_PASSWORD a second one with auth enabled (user
 * root); DYNCONF_TEST_ETCD_TLS and DYNCONF_TEST_ETCD_TLS_DIR a third one
 * that takes only TLS with a client certificate (ca.pem, client.pem and
 * client-key.pem in that directory). Without DYNCONF_TEST_ETCD only the offline suite runs (frame
 * assembly, codec, breaker state machine) and the program exits 77, which
 * automake's harness reports as SKIP.
 *
 * This file: main, the helpers of check_etcd.h, and the offline suite.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/shared.h"
#include "base/util.h"
#include "check_etcd.h"
#include "etcd/breaker.h"
#include "etcd/etcd_frames.h"
#include "etcd/etcd_impl.h"

const char *test_endpoint;
const char *test_auth_endpoint;
const char *test_auth_password;
const char *test_tls_endpoint;
const char *test_tls_dir;
char test_prefix[64];

struct etcd_client *
test_client(const char *endpoints, int use_breaker)
{
	struct etcd_options o;
	struct etcd_client *c;

	memset(&o, 0, sizeof(o));
	o.endpoints = endpoints != NULL ? endpoints : test_endpoint;
	o.timeout_ms = 3000;
	o.use_breaker = use_breaker;
	c = etcd_client_new(&o);
	ck_assert_ptr_nonnull(c);
	return c;
}

const char *
test_key(char *out, const char *name)
{
	snprintf(out, 256, "%s%s", test_prefix, name);
	return out;
}

static size_t
raw_collect(char *data, size_t size, size_t nmemb, void *arg)
{
	buf_append(arg, data, size * nmemb);
	return size * nmemb;
}

long
raw_post(const char *endpoint, const char *path, const char *body,
    const char *token, struct buf *out)
{
	struct curl_slist *h = NULL;
	struct buf url, auth;
	long http = 0;
	CURL *curl;

	buf_init(&url);
	buf_init(&auth);
	buf_printf(&url, "%s%s", endpoint, path);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (token != NULL) {
		buf_printf(&auth, "Authorization: %s", token);
		h = curl_slist_append(h, auth.data);
	}
	curl = curl_easy_init();
	curl_easy_setopt(curl, CURLOPT_URL, url.data);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, raw_collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);
	buf_free(&url);
	buf_free(&auth);
	return http;
}

int64_t
current_revision(void)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_status_result st;
	struct etcd_error err;

	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_OK);
	etcd_client_free(c);
	return st.revision;
}

static int
loopback_socket(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

int
dead_port(void)
{
	int port, fd = loopback_socket(&port);

	/* Bound but never listening: connections to it are refused. */
	close(fd);
	return port;
}

int
blackhole(int *port)
{
	int fd = loopback_socket(port);

	/* The kernel completes handshakes into the backlog; nobody reads. */
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

int64_t
put_str(struct etcd_client *c, const char *key, const char *value)
{
	struct etcd_error err;
	int64_t rev = 0;

	ck_assert_msg(etcd_put(c, key, strlen(key), value, strlen(value), 0, &rev,
	    &err) == ETCD_OK, "put %s: %s", key, err.message);
	ck_assert_int_gt(rev, 0);
	return rev;
}

void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1)
		continue;
}

/* --- the calls' type --------------------------------------------------- */

/*
 * Every call returns enum etcd_status, not int, so that -Wswitch checks
 * the switch of every caller. Checked when this file compiles (the calls
 * are not evaluated).
 */
#define RETURNS_STATUS(call) _Generic((call), enum etcd_status: 1, default: 0)
_Static_assert(
    RETURNS_STATUS(etcd_range(NULL, NULL, 0, NULL, NULL, NULL)) &&
    RETURNS_STATUS(etcd_put(NULL, NULL, 0, NULL, 0, 0, NULL, NULL)) &&
    RETURNS_STATUS(etcd_delete(NULL, NULL, 0, NULL, 0, NULL, NULL, NULL)) &&
    RETURNS_STATUS(etcd_txn(NULL, NULL, NULL, NULL)) &&
    RETURNS_STATUS(etcd_lease_grant(NULL, 0, NULL, NULL, NULL)) &&
    RETURNS_STATUS(etcd_lease_keepalive(NULL, 0, NULL, NULL)) &&
    RETURNS_STATUS(etcd_lease_revoke(NULL, 0, NULL)) &&
    RETURNS_STATUS(etcd_lease_timetolive(NULL, 0, NULL, NULL, NULL)) &&
    RETURNS_STATUS(etcd_status(NULL, NULL, NULL)) &&
    RETURNS_STATUS(etcd_watch(NULL, NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL)) &&
    RETURNS_STATUS(etcd_call(NULL, NULL, NULL, ETCD_IDEMPOTENT, NULL, NULL)) &&
    RETURNS_STATUS(etcd_authenticate(NULL, 0, NULL)),
    "an etcd call returns something other than enum etcd_status");

/* --- frame assembler ------------------------------------------------- */

/* Three frames as the gateway sends them, with braces and escapes in strings. */
static const char *const stream_frames[] = {
	"{\"result\":{\"header\":{\"revision\":\"8\"},\"created\":true}}",
	"{\"result\":{\"header\":{\"revision\":\"9\"},\"events\":[{\"kv\":"
	    "{\"key\":\"e30=\",\"value\":\"In0ieyJ9In0=\"}}]}}",
	"{\"result\":{\"header\":{\"revision\":\"10\"},\"events\":[{\"type\":"
	    "\"DELETE\",\"kv\":{\"key\":\"dzE=\",\"mod_revision\":\"10\"}}],"
	    "\"note\":\"} { [ \\\" \\\\\"}}",
};
#define NFRAMES ARRAY_SIZE(stream_frames)

struct collected {
	char	*frames[16];
	size_t	 count;
	size_t	 stop_at;	/* stop after this many frames; 0: never */
};

static int
collect_frame(void *arg, const char *frame, size_t len)
{
	struct collected *c = arg;

	ck_assert_uint_lt(c->count, ARRAY_SIZE(c->frames));
	c->frames[c->count++] = xstrndup(frame, len);
	return c->stop_at != 0 && c->count == c->stop_at ? 7 : 0;
}

static void
collected_free(struct collected *c)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		free(c->frames[i]);
	c->count = 0;
}

static void
stream_text(struct buf *b, const char *sep)
{
	size_t i;

	buf_init(b);
	for (i = 0; i < NFRAMES; i++) {
		buf_puts(b, stream_frames[i]);
		buf_puts(b, sep);
	}
}

static void
assert_frames(const struct collected *c)
{
	size_t i;

	ck_assert_uint_eq(c->count, NFRAMES);
	for (i = 0; i < NFRAMES; i++)
		ck_assert_str_eq(c->frames[i], stream_frames[i]);
}

START_TEST(frames_whole)
{
	struct etcd_frames f;
	struct collected c = { .count = 0 };
	struct buf text;

	stream_text(&text, "\n");
	etcd_frames_init(&f);
	ck_assert_int_eq(etcd_frames_feed(&f, text.data, text.len,
	    collect_frame, &c), 0);
	assert_frames(&c);
	ck_assert_uint_eq(f.pending.len, 0);
	collected_free(&c);
	etcd_frames_free(&f);
	buf_free(&text);
}
END_TEST

START_TEST(frames_byte_by_byte)
{
	struct etcd_frames f;
	struct collected c = { .count = 0 };
	struct buf text;
	size_t i;

	stream_text(&text, "\r\n");
	etcd_frames_init(&f);
	for (i = 0; i < text.len; i++)
		ck_assert_int_eq(etcd_frames_feed(&f, text.data + i, 1,
		    collect_frame, &c), 0);
	assert_frames(&c);
	collected_free(&c);
	etcd_frames_free(&f);
	buf_free(&text);
}
END_TEST

START_TEST(frames_odd_chunks)
{
	struct etcd_frames f;
	struct collected c = { .count = 0 };
	struct buf text;
	size_t chunk, off, n;

	/* No separator at all, as a gateway may also write them back to back. */
	stream_text(&text, "");
	for (chunk = 2; chunk < 64; chunk++) {
		etcd_frames_init(&f);
		for (off = 0; off < text.len; off += n) {
			n = text.len - off < chunk ? text.len - off : chunk;
			ck_assert_int_eq(etcd_frames_feed(&f, text.data + off, n,
			    collect_frame, &c), 0);
		}
		assert_frames(&c);
		collected_free(&c);
		etcd_frames_free(&f);
	}
	buf_free(&text);
}
END_TEST

START_TEST(frames_stop_and_garbage)
{
	struct etcd_frames f;
	struct collected c = { .count = 0, .stop_at = 2 };
	struct buf text;

	stream_text(&text, "\n");
	etcd_frames_init(&f);
	ck_assert_int_eq(etcd_frames_feed(&f, text.data, text.len,
	    collect_frame, &c), 7);
	ck_assert_uint_eq(c.count, 2);
	collected_free(&c);
	etcd_frames_free(&f);

	etcd_frames_init(&f);
	ck_assert_int_eq(etcd_frames_feed(&f, "{}\nnot json", 11,
	    collect_frame, &c), -1);
	collected_free(&c);
	etcd_frames_free(&f);
	buf_free(&text);
}
END_TEST

/* --- the watch's decoding, without a connection (etcd_watch_replay) ------ */

struct replayed {
	size_t		 calls;
	size_t		 events;
	int64_t		 revision;
	char		 last_key[64];
};

static int
replay_events(void *ctx, int64_t revision, const struct etcd_event *events,
    size_t count)
{
	struct replayed *r = ctx;

	r->calls++;
	r->events += count;
	r->revision = revision;
	if (count > 0)
		snprintf(r->last_key, sizeof(r->last_key), "%s",
		    events[count - 1].kv.key);
	return 0;
}

/* Frames as etcd 3.4's gateway wrote them (tests/fuzz/corpus/watch). */
#define GATEWAY_CREATED "{\"result\":{\"header\":{\"revision\":\"1\"}," \
	"\"created\":true}}\n"
#define GATEWAY_PUT "{\"result\":{\"header\":{\"revision\":\"2\"}," \
	"\"events\":[{\"kv\":{\"key\":\"L2R5bmNvbmYvYQ==\",\"create_revision\":" \
	"\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"MQ==\"}}]}}\n"
#define GATEWAY_ERROR "{\"error\":\"illegal base64 data at input byte 3\"," \
	"\"message\":\"illegal base64 data at input byte 3\",\"code\":2}"

/* Events come out whole, and a stream that just ends says so. */
START_TEST(watch_replay_events)
{
	const char *chunks[] = { GATEWAY_CREATED, GATEWAY_PUT };
	size_t lens[] = { strlen(chunks[0]), strlen(chunks[1]) };
	struct replayed r = { 0 };
	struct etcd_error err;

	ck_assert_int_eq(etcd_watch_replay(chunks, lens, 2, replay_events, &r,
	    &err), ETCD_UNAVAILABLE);
	ck_assert_str_eq(err.message, "watch: stream ended");
	ck_assert_uint_eq(r.events, 1);
	ck_assert_int_eq(r.revision, 2);
	ck_assert_str_eq(r.last_key, "/dynconf/a");
}
END_TEST

/*
 * An error in the stream keeps etcd's message (it was copied onto itself,
 * and came out empty: found by tests/fuzz/fuzz_watch.c).
 */
START_TEST(watch_replay_error_message)
{
	const char *chunks[] = { GATEWAY_ERROR };
	size_t lens[] = { strlen(GATEWAY_ERROR) };
	struct replayed r = { 0 };
	struct etcd_error err;

	ck_assert_int_eq(etcd_watch_replay(chunks, lens, 1, replay_events, &r,
	    &err), ETCD_ERROR);
	ck_assert_int_eq(err.code, 2);
	ck_assert_str_eq(err.message, "illegal base64 data at input byte 3");
	ck_assert_uint_eq(r.calls, 0);
}
END_TEST

/* --- codec -------------------------------------------------------------- */

/*
 * Bytes through the codec: a JSON field as the gateway reads it (text,
 * unless NULL), and back.
 */
static void
assert_bytes(const char *raw, size_t len, const char *text)
{
	struct json_object *obj = json_object_new_object(), *field;
	struct etcd_kv kv;

	etcd_json_add_bytes(obj, "key", raw, len);
	etcd_json_add_bytes(obj, "value", raw, len);
	ck_assert(json_object_object_get_ex(obj, "value", &field));
	if (text != NULL)
		ck_assert_str_eq(json_object_get_string(field), text);
	ck_assert_int_eq(etcd_kv_parse(obj, &kv), 0);
	ck_assert_uint_eq(kv.key_len, len);
	ck_assert_uint_eq(kv.value_len, len);
	ck_assert_mem_eq(kv.value, raw, len);
	ck_assert_int_eq(kv.value[kv.value_len], '\0');
	ck_assert_int_eq(kv.key[kv.key_len], '\0');
	etcd_kv_clear(&kv);
	json_object_put(obj);
}

/* A kv whose value field is text; etcd_kv_parse's verdict. */
static int
parse_value(const char *text)
{
	struct json_object *obj = json_object_new_object();
	struct etcd_kv kv;
	int rc;

	json_object_object_add(obj, "key", json_object_new_string("aw=="));
	json_object_object_add(obj, "value", json_object_new_string(text));
	rc = etcd_kv_parse(obj, &kv);
	if (rc == 0)
		etcd_kv_clear(&kv);
	ck_assert_ptr_null(kv.key);
	ck_assert_ptr_null(kv.value);
	json_object_put(obj);
	return rc;
}

START_TEST(codec_base64)
{
	assert_bytes("", 0, "");
	assert_bytes("f", 1, "Zg==");
	assert_bytes("fo", 2, "Zm8=");
	assert_bytes("foo", 3, "Zm9v");
	assert_bytes("\0\0", 2, "AAA=");
	assert_bytes("a\0b\377", 4, "YQBi/w==");
	ck_assert_int_eq(parse_value("Zm9v"), 0);
	ck_assert_int_eq(parse_value("Zm9"), -1);
	ck_assert_int_eq(parse_value("Zm9!"), -1);
	/* Unpadded, base64url, and "=" inside: not what the gateway writes. */
	ck_assert_int_eq(parse_value("Zg"), -1);
	ck_assert_int_eq(parse_value("_w=="), -1);
	ck_assert_int_eq(parse_value("Zm=v"), -1);
}
END_TEST

START_TEST(codec_large_base64)
{
	size_t len = 100000, i;
	char *raw;

	/* Longer than the slices OpenSSL's int lengths once made it take. */
	raw = xmalloc(len);
	for (i = 0; i < len; i++)
		raw[i] = (char)(i * 7);
	assert_bytes(raw, len, NULL);
	free(raw);
}
END_TEST

START_TEST(codec_int64_strings)
{
	struct json_object *o;

	o = json_tokener_parse("{\"a\":\"42\",\"b\":\"-1\",\"c\":7,"
	    "\"d\":\"13668033151171901709\",\"e\":\"x\"}");
	ck_assert_int_eq(etcd_json_int64(o, "a"), 42);
	ck_assert_int_eq(etcd_json_int64(o, "b"), -1);
	ck_assert_int_eq(etcd_json_int64(o, "c"), 7);
	/* A uint64 member id keeps its bits. */
	ck_assert_uint_eq((uint64_t)etcd_json_int64(o, "d"),
	    13668033151171901709ULL);
	ck_assert_int_eq(etcd_json_int64(o, "e"), 0);
	ck_assert_int_eq(etcd_json_int64(o, "absent"), 0);
	json_object_put(o);
}
END_TEST

START_TEST(prefix_end)
{
	size_t len;
	char *end;

	end = etcd_prefix_end("a/b", 3, &len);
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(end, "a/c");
	free(end);
	end = etcd_prefix_end("a\377\377", 3, &len);
	ck_assert_uint_eq(len, 1);
	ck_assert_str_eq(end, "b");
	free(end);
	end = etcd_prefix_end("\377", 1, &len);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(end[0], '\0');
	free(end);
}
END_TEST

/* --- breaker state machine ------------------------------------------------ */

static void
breaker_reset(void)
{
	memset(&shared()->breaker, 0, sizeof(shared()->breaker));
}

/* Pretend the breaker opened long enough ago for the cool-down to be over. */
static void
cooldown_over(void)
{
	shared()->breaker.opened_at_us = clock_monotonic_us() -
	    BREAKER_COOLDOWN_US - 1;
}

START_TEST(breaker_states)
{
	int i;

	breaker_reset();
	for (i = 0; i < BREAKER_THRESHOLD - 1; i++)
		breaker_failure("test");
	ck_assert_int_eq(breaker_state(), BREAKER_CLOSED);
	breaker_success();
	for (i = 0; i < BREAKER_THRESHOLD - 1; i++)
		breaker_failure("test");
	/* The success in between reset the count. */
	ck_assert_int_eq(breaker_state(), BREAKER_CLOSED);
	breaker_failure("test");
	ck_assert_int_eq(breaker_state(), BREAKER_OPEN);
	ck_assert_int_eq(breaker_allow(), BREAKER_REFUSE);
	cooldown_over();
	ck_assert_int_eq(breaker_allow(), BREAKER_PROBE);
	ck_assert_int_eq(breaker_state(), BREAKER_HALF_OPEN);
	ck_assert_int_eq(breaker_allow(), BREAKER_REFUSE);
	breaker_failure("test");
	ck_assert_int_eq(breaker_state(), BREAKER_OPEN);
	ck_assert_int_eq(breaker_allow(), BREAKER_REFUSE);
	cooldown_over();
	ck_assert_int_eq(breaker_allow(), BREAKER_PROBE);
	breaker_success();
	ck_assert_int_eq(breaker_state(), BREAKER_CLOSED);
	ck_assert_int_eq(breaker_allow(), BREAKER_PASS);
	ck_assert_uint_eq(shared()->breaker.opened_total, 2);
	ck_assert_str_eq(breaker_state_name(BREAKER_HALF_OPEN), "half_open");
}
END_TEST

/* Many processes see the cool-down end at once: exactly one is the probe. */
START_TEST(breaker_one_probe)
{
	enum { CHILDREN = 8, TRIALS = 20 };
	int trial, i, fds[2], status, probes;
	pid_t pids[CHILDREN];
	char byte;

	ck_assert_int_eq(shared_attach(NULL), 0);
	for (trial = 0; trial < TRIALS; trial++) {
		breaker_reset();
		shared()->breaker.state = BREAKER_OPEN;
		cooldown_over();
		ck_assert_int_eq(pipe(fds), 0);
		for (i = 0; i < CHILDREN; i++) {
			if ((pids[i] = fork()) == 0) {
				close(fds[1]);
				/* The barrier: EOF once the parent closes its end. */
				while (read(fds[0], &byte, 1) > 0)
					continue;
				_exit(breaker_allow() == BREAKER_PROBE);
			}
		}
		close(fds[0]);
		close(fds[1]);
		probes = 0;
		for (i = 0; i < CHILDREN; i++) {
			ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
			probes += WEXITSTATUS(status);
		}
		ck_assert_int_eq(probes, 1);
		ck_assert_int_eq(breaker_state(), BREAKER_HALF_OPEN);
	}
}
END_TEST

Suite *
suite_offline(void)
{
	Suite *s = suite_create("etcd offline");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, frames_whole);
	tcase_add_test(tc, frames_byte_by_byte);
	tcase_add_test(tc, frames_odd_chunks);
	tcase_add_test(tc, frames_stop_and_garbage);
	suite_add_tcase(s, tc);
	tc = tcase_create("watch stream");
	tcase_add_test(tc, watch_replay_events);
	tcase_add_test(tc, watch_replay_error_message);
	suite_add_tcase(s, tc);
	tc = tcase_create("codec");
	tcase_add_test(tc, codec_base64);
	tcase_add_test(tc, codec_large_base64);
	tcase_add_test(tc, codec_int64_strings);
	tcase_add_test(tc, prefix_end);
	suite_add_tcase(s, tc);
	tc = tcase_create("breaker");
	/* breaker_one_probe forks 160 children: slow with sanitizers, under load. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, breaker_states);
	tcase_add_test(tc, breaker_one_probe);
	suite_add_tcase(s, tc);
	return s;
}

/* A variable that is set and not empty, else NULL. */
static const char *
env(const char *name)
{
	const char *value = getenv(name);

	return value != NULL && *value != '\0' ? value : NULL;
}

static void
set_prefix(void)
{
	char id[9];

	if (random_hex(id, 4) == -1)
		snprintf(id, sizeof(id), "%08x", (unsigned)getpid());
	snprintf(test_prefix, sizeof(test_prefix), "/dynconf-test/%s/", id);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_endpoint = env("DYNCONF_TEST_ETCD");
	test_auth_endpoint = env("DYNCONF_TEST_ETCD_AUTH");
	test_auth_password = env("DYNCONF_TEST_ETCD_PASSWORD");
	test_tls_endpoint = env("DYNCONF_TEST_ETCD_TLS");
	test_tls_dir = env("DYNCONF_TEST_ETCD_TLS_DIR");
	if (test_auth_password == NULL)
		test_auth_endpoint = NULL;
	if (test_tls_dir == NULL)
		test_tls_endpoint = NULL;
	set_prefix();
	sr = srunner_create(suite_offline());
	srunner_add_suite(sr, suite_outcome());
	if (test_endpoint != NULL) {
		srunner_add_suite(sr, suite_kv());
		srunner_add_suite(sr, suite_txn_lease());
		srunner_add_suite(sr, suite_watch());
		srunner_add_suite(sr, suite_net());
	}
	if (test_endpoint != NULL && test_auth_endpoint != NULL)
		srunner_add_suite(sr, suite_auth());
	if (test_endpoint != NULL && test_tls_endpoint != NULL)
		srunner_add_suite(sr, suite_tls());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	if (failed != 0)
		return EXIT_FAILURE;
	if (test_endpoint == NULL) {
		printf("SKIP: DYNCONF_TEST_ETCD is not set: only the offline "
		    "tests ran\n");
		return 77;
	}
	if (test_auth_endpoint == NULL)
		printf("SKIP: DYNCONF_TEST_ETCD_AUTH or DYNCONF_TEST_ETCD_PASSWORD "
		    "not set: no auth tests\n");
	if (test_tls_endpoint == NULL)
		printf("SKIP: DYNCONF_TEST_ETCD_TLS or DYNCONF_TEST_ETCD_TLS_DIR "
		    "not set: no TLS tests\n");
	return EXIT_SUCCESS;
}
