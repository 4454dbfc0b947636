/*
 * etcd client tests of resilience and auth: failover past a dead
 * endpoint, deadlines against a listener that never answers, the circuit
 * breaker over real failures, the shared metrics, and user/password auth
 * with a token that etcd stops taking, TLS with a client certificate.
 * Every target is on loopback.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/shared.h"
#include "base/util.h"
#include "check_etcd.h"
#include "etcd/breaker.h"
#include "etcd/etcd_impl.h"

static char *
endpoints_with_dead_first(void)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "http://127.0.0.1:%d, %s/", dead_port(), test_endpoint);
	return b.data;
}

static struct etcd_client *
dead_client(int timeout_ms, int use_breaker)
{
	struct etcd_options o;
	struct etcd_client *c;
	char endpoints[128];

	snprintf(endpoints, sizeof(endpoints), "http://127.0.0.1:%d,"
	    "http://127.0.0.1:%d", dead_port(), dead_port());
	memset(&o, 0, sizeof(o));
	o.endpoints = endpoints;
	o.timeout_ms = timeout_ms;
	o.use_breaker = use_breaker;
	c = etcd_client_new(&o);
	ck_assert_ptr_nonnull(c);
	return c;
}

static uint64_t
metric(const uint64_t *field)
{
	return __atomic_load_n(field, __ATOMIC_RELAXED);
}

START_TEST(failover_past_dead_endpoint)
{
	struct shared_metrics *m = &shared()->metrics;
	char *endpoints = endpoints_with_dead_first(), key[256];
	struct etcd_client *c = test_client(endpoints, 0);
	struct etcd_range_result r;
	struct etcd_error err;
	uint64_t retries;

	test_key(key, "failover");
	retries = metric(&m->etcd_retries);
	/* A write may fail over: the refused connection never reached etcd. */
	put_str(c, key, "v");
	ck_assert_uint_ge(metric(&m->etcd_retries), retries + 1);
	/* The endpoint that answered is remembered: no more failing over. */
	retries = metric(&m->etcd_retries);
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err), ETCD_OK);
	ck_assert_str_eq(r.kvs[0].value, "v");
	etcd_range_result_free(&r);
	ck_assert_uint_eq(metric(&m->etcd_retries), retries);
	etcd_client_free(c);
	free(endpoints);
}
END_TEST

static int
first_event(void *ctx, int64_t revision, const struct etcd_event *events,
    size_t count)
{
	*(int *)ctx = count > 0 && events[0].type == ETCD_EVENT_PUT;
	return 1;
}

START_TEST(failover_watch)
{
	char *endpoints = endpoints_with_dead_first(), key[256];
	struct etcd_client *c = test_client(endpoints, 0);
	struct etcd_error err;
	int64_t rev;
	int got = 0;

	test_key(key, "failover-watch");
	rev = put_str(c, key, "v");
	/* A fresh client, so that the watch starts at the dead endpoint. */
	etcd_client_free(c);
	c = test_client(endpoints, 0);
	ck_assert_int_eq(etcd_watch(c, key, strlen(key), NULL, 0, rev, 5000,
	    first_event, &got, &err), ETCD_OK);
	ck_assert_int_eq(got, 1);
	etcd_client_free(c);
	free(endpoints);
}
END_TEST

START_TEST(all_endpoints_dead)
{
	struct shared_metrics *m = &shared()->metrics;
	struct etcd_client *c = dead_client(300, 0);
	struct etcd_range_result r;
	struct etcd_error err;
	uint64_t calls, failures, retries;
	int64_t t0, elapsed;

	calls = metric(&m->etcd_calls);
	failures = metric(&m->etcd_failures);
	retries = metric(&m->etcd_retries);
	t0 = clock_monotonic_us();
	ck_assert_int_eq(etcd_range(c, "k", 1, NULL, &r, &err), ETCD_UNAVAILABLE);
	elapsed = clock_monotonic_us() - t0;
	/* The slack covers a loaded machine under ASan. */
	ck_assert_msg(elapsed < 300000 + 300000, "took %lld us", (long long)elapsed);
	/* Refused connections: a write is still "never happened", not unknown. */
	ck_assert_int_eq(etcd_put(c, "k", 1, "v", 1, 0, NULL, &err),
	    ETCD_UNAVAILABLE);
	ck_assert_int_eq(err.status, ETCD_UNAVAILABLE);
	ck_assert_uint_eq(metric(&m->etcd_calls), calls + 2);
	ck_assert_uint_eq(metric(&m->etcd_failures), failures + 2);
	ck_assert_uint_ge(metric(&m->etcd_retries), retries + 2);
	etcd_client_free(c);
}
END_TEST

static struct etcd_client *
blackhole_client(int *fd)
{
	struct etcd_options o;
	struct etcd_client *c;
	char endpoint[64];
	int port;

	*fd = blackhole(&port);
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	memset(&o, 0, sizeof(o));
	o.endpoints = endpoint;
	o.timeout_ms = 10000;
	c = etcd_client_new(&o);
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(deadline_read)
{
	struct etcd_range_result r;
	struct etcd_error err;
	struct etcd_client *c;
	int64_t t0, elapsed;
	int fd;

	c = blackhole_client(&fd);
	t0 = clock_monotonic_us();
	etcd_set_deadline(c, t0 + 800000);
	ck_assert_int_eq(etcd_range(c, "k", 1, NULL, &r, &err), ETCD_UNAVAILABLE);
	elapsed = clock_monotonic_us() - t0;
	ck_assert_msg(elapsed >= 700000 && elapsed < 800000 + 300000,
	    "took %lld us", (long long)elapsed);
	etcd_client_free(c);
	close(fd);
}
END_TEST

START_TEST(deadline_write_unknown)
{
	struct etcd_error err;
	struct etcd_client *c;
	int64_t t0, elapsed;
	int fd;

	c = blackhole_client(&fd);
	t0 = clock_monotonic_us();
	etcd_set_deadline(c, t0 + 600000);
	/* Sent into a connection nobody answers: it may have been applied. */
	ck_assert_int_eq(etcd_put(c, "k", 1, "v", 1, 0, NULL, &err), ETCD_UNKNOWN);
	elapsed = clock_monotonic_us() - t0;
	ck_assert_msg(elapsed < 600000 + 300000, "took %lld us",
	    (long long)elapsed);
	ck_assert_ptr_nonnull(strstr(err.message, "outcome unknown"));
	etcd_client_free(c);
	close(fd);
}
END_TEST

START_TEST(deadline_past_and_reset)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_status_result st;
	struct etcd_error err;
	int64_t t0;

	etcd_set_deadline(c, clock_monotonic_us() - 1);
	t0 = clock_monotonic_us();
	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_UNAVAILABLE);
	ck_assert_str_eq(err.message, "deadline exceeded");
	ck_assert_int_lt(clock_monotonic_us() - t0, 20000);
	etcd_set_deadline(c, 0);
	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_OK);
	etcd_client_free(c);
}
END_TEST

static void
breaker_reset(void)
{
	memset(&shared()->breaker, 0, sizeof(shared()->breaker));
}

static enum etcd_status
dead_call(struct etcd_client *c, struct etcd_error *err)
{
	struct etcd_status_result st;

	return etcd_status(c, &st, err);
}

START_TEST(breaker_over_network)
{
	struct etcd_client *dead = dead_client(150, 1);
	struct etcd_client *live = test_client(NULL, 1);
	struct etcd_error err;
	int64_t t0;
	int i;

	breaker_reset();
	for (i = 0; i < BREAKER_THRESHOLD; i++) {
		ck_assert_int_eq(breaker_state(), BREAKER_CLOSED);
		ck_assert_int_eq(dead_call(dead, &err), ETCD_UNAVAILABLE);
		ck_assert_ptr_null(strstr(err.message, "breaker"));
	}
	ck_assert_int_eq(breaker_state(), BREAKER_OPEN);
	/* Open: fail fast, even against a working etcd. */
	t0 = clock_monotonic_us();
	ck_assert_int_eq(dead_call(live, &err), ETCD_UNAVAILABLE);
	ck_assert_str_eq(err.message, "circuit breaker open");
	ck_assert_int_lt(clock_monotonic_us() - t0, 20000);
	/* After the cool-down a probe goes out; it fails: open again. */
	sleep_ms(BREAKER_COOLDOWN_US / 1000 + 100);
	ck_assert_int_eq(dead_call(dead, &err), ETCD_UNAVAILABLE);
	ck_assert_ptr_null(strstr(err.message, "breaker"));
	ck_assert_int_eq(breaker_state(), BREAKER_OPEN);
	ck_assert_int_eq(dead_call(live, &err), ETCD_UNAVAILABLE);
	ck_assert_str_eq(err.message, "circuit breaker open");
	/* The next probe succeeds: closed. */
	sleep_ms(BREAKER_COOLDOWN_US / 1000 + 100);
	ck_assert_int_eq(dead_call(live, &err), ETCD_OK);
	ck_assert_int_eq(breaker_state(), BREAKER_CLOSED);
	ck_assert_int_eq(dead_call(live, &err), ETCD_OK);
	ck_assert_uint_eq(shared()->breaker.opened_total, 2);
	etcd_client_free(dead);
	etcd_client_free(live);
}
END_TEST

START_TEST(breaker_error_answer_is_success)
{
	struct etcd_client *dead = dead_client(100, 1);
	struct etcd_client *live = test_client(NULL, 1);
	struct etcd_error err;
	int i;

	breaker_reset();
	for (i = 0; i < BREAKER_THRESHOLD - 1; i++)
		ck_assert_int_eq(dead_call(dead, &err), ETCD_UNAVAILABLE);
	ck_assert_uint_eq(shared()->breaker.consecutive_failures,
	    BREAKER_THRESHOLD - 1);
	/* etcd answered, if only "no such lease": that is not an outage. */
	ck_assert_int_eq(etcd_lease_revoke(live, 12345, &err), ETCD_NOT_FOUND);
	ck_assert_uint_eq(shared()->breaker.consecutive_failures, 0);
	ck_assert_int_eq(dead_call(dead, &err), ETCD_UNAVAILABLE);
	ck_assert_int_eq(breaker_state(), BREAKER_CLOSED);
	etcd_client_free(dead);
	etcd_client_free(live);
}
END_TEST

Suite *
suite_net(void)
{
	Suite *s = suite_create("etcd resilience");
	TCase *tc = tcase_create("failover");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, failover_past_dead_endpoint);
	tcase_add_test(tc, failover_watch);
	tcase_add_test(tc, all_endpoints_dead);
	suite_add_tcase(s, tc);
	tc = tcase_create("deadline");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, deadline_read);
	tcase_add_test(tc, deadline_write_unknown);
	tcase_add_test(tc, deadline_past_and_reset);
	suite_add_tcase(s, tc);
	tc = tcase_create("breaker");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, breaker_over_network);
	tcase_add_test(tc, breaker_error_answer_is_success);
	suite_add_tcase(s, tc);
	return s;
}

/* --- auth --------------------------------------------------------------- */

static struct etcd_client *
auth_client(const char *user, const char *password)
{
	struct etcd_options o;
	struct etcd_client *c;

	memset(&o, 0, sizeof(o));
	o.endpoints = test_auth_endpoint;
	/* etcd 3.4 hashes passwords (bcrypt) in its apply loop: slow when loaded. */
	o.timeout_ms = 10000;
	o.username = user;
	o.password = password;
	c = etcd_client_new(&o);
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(auth_put_range_watch)
{
	struct etcd_client *c = auth_client("root", test_auth_password);
	struct etcd_range_result r;
	struct etcd_error err;
	char key[256];
	int64_t rev;
	int got = 0;

	test_key(key, "auth/k");
	rev = put_str(c, key, "secret-held");
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err), ETCD_OK);
	ck_assert_str_eq(r.kvs[0].value, "secret-held");
	etcd_range_result_free(&r);
	ck_assert_int_eq(etcd_watch(c, key, strlen(key), NULL, 0, rev, 5000,
	    first_event, &got, &err), ETCD_OK);
	ck_assert_int_eq(got, 1);
	etcd_client_free(c);
}
END_TEST

START_TEST(auth_refused)
{
	struct etcd_client *c;
	struct etcd_range_result r;
	struct etcd_error err;

	c = auth_client(NULL, NULL);
	ck_assert_int_eq(etcd_range(c, "k", 1, NULL, &r, &err), ETCD_ERROR);
	ck_assert_ptr_nonnull(strstr(err.message, "user name is empty"));
	etcd_client_free(c);
	c = auth_client("root", "not-the-password");
	ck_assert_int_eq(etcd_range(c, "k", 1, NULL, &r, &err), ETCD_ERROR);
	ck_assert_ptr_nonnull(strstr(err.message, "authentication failed"));
	ck_assert_ptr_null(c->token);
	etcd_client_free(c);
}
END_TEST

/* Setting root's password (to the same one) makes etcd drop its tokens. */
static void
invalidate_tokens(void)
{
	struct json_object *reply;
	struct buf body, out;
	const char *token;

	buf_init(&body);
	buf_init(&out);
	buf_puts(&body, "{\"name\":\"root\",\"password\":");
	buf_json_string(&body, test_auth_password);
	buf_puts(&body, "}");
	ck_assert_int_eq(raw_post(test_auth_endpoint, "/v3/auth/authenticate",
	    body.data, NULL, &out), 200);
	reply = json_tokener_parse(out.data);
	token = etcd_json_string(reply, "token");
	ck_assert_str_ne(token, "");
	buf_reset(&out);
	ck_assert_int_eq(raw_post(test_auth_endpoint, "/v3/auth/user/changepw",
	    body.data, token, &out), 200);
	json_object_put(reply);
	buf_free(&body);
	buf_free(&out);
}

START_TEST(auth_token_renewed)
{
	struct etcd_client *c = auth_client("root", test_auth_password);
	struct etcd_range_result r;
	struct etcd_error err;
	char key[256], *old;
	int64_t rev;
	int got = 0;

	test_key(key, "auth/renew");
	put_str(c, key, "1");
	ck_assert_ptr_nonnull(c->token);
	old = xstrdup(c->token);
	invalidate_tokens();
	/* The old token is refused once; a new one is fetched and the call goes on. */
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err), ETCD_OK);
	ck_assert_str_eq(r.kvs[0].value, "1");
	etcd_range_result_free(&r);
	ck_assert_str_ne(c->token, old);
	free(old);
	/* A write is safe to repeat after that refusal: it never ran. */
	invalidate_tokens();
	rev = put_str(c, key, "2");
	/* And the watch renews its token the same way. */
	invalidate_tokens();
	ck_assert_int_eq(etcd_watch(c, key, strlen(key), NULL, 0, rev, 5000,
	    first_event, &got, &err), ETCD_OK);
	ck_assert_int_eq(got, 1);
	etcd_client_free(c);
}
END_TEST

Suite *
suite_auth(void)
{
	Suite *s = suite_create("etcd auth");
	TCase *tc = tcase_create("auth");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, auth_put_range_watch);
	tcase_add_test(tc, auth_refused);
	tcase_add_test(tc, auth_token_renewed);
	suite_add_tcase(s, tc);
	return s;
}

/* --- TLS ------------------------------------------------------------------ */

static struct etcd_client *
tls_client(int with_ca, int with_cert, int timeout_ms)
{
	char ca[512], cert[512], key[512];
	struct etcd_options o;
	struct etcd_client *c;

	snprintf(ca, sizeof(ca), "%s/ca.pem", test_tls_dir);
	snprintf(cert, sizeof(cert), "%s/client.pem", test_tls_dir);
	snprintf(key, sizeof(key), "%s/client-key.pem", test_tls_dir);
	memset(&o, 0, sizeof(o));
	o.endpoints = test_tls_endpoint;
	o.timeout_ms = timeout_ms;
	o.ca_file = with_ca ? ca : NULL;
	o.cert_file = with_cert ? cert : NULL;
	o.key_file = with_cert ? key : NULL;
	c = etcd_client_new(&o);
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(tls_client_certificate)
{
	struct etcd_client *c = tls_client(1, 1, 3000);
	struct etcd_range_result r;
	struct etcd_error err;
	char key[256];
	int64_t rev;
	int got = 0;

	test_key(key, "tls/k");
	rev = put_str(c, key, "over tls");
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err), ETCD_OK);
	ck_assert_str_eq(r.kvs[0].value, "over tls");
	etcd_range_result_free(&r);
	ck_assert_int_eq(etcd_watch(c, key, strlen(key), NULL, 0, rev, 5000,
	    first_event, &got, &err), ETCD_OK);
	ck_assert_int_eq(got, 1);
	etcd_client_free(c);
}
END_TEST

START_TEST(tls_refused)
{
	struct etcd_status_result st;
	struct etcd_error err;
	struct etcd_client *c;

	/* No CA: the server's certificate cannot be verified. */
	c = tls_client(0, 1, 500);
	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_UNAVAILABLE);
	etcd_client_free(c);
	/* No client certificate: etcd (--client-cert-auth) hangs up. */
	c = tls_client(1, 0, 500);
	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_UNAVAILABLE);
	etcd_client_free(c);
}
END_TEST

Suite *
suite_tls(void)
{
	Suite *s = suite_create("etcd tls");
	TCase *tc = tcase_create("tls");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, tls_client_certificate);
	tcase_add_test(tc, tls_refused);
	suite_add_tcase(s, tc);
	return s;
}
