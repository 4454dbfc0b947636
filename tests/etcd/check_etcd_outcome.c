/*
 * etcd client tests of what a failure means, with no etcd at all: how
 * libcurl's results and etcd's error answers are classified ("never
 * applied" against "outcome unknown"), that libcurl never sends a write a
 * second time behind our back, that messages never show an endpoint's
 * credentials, that the probe of a half open breaker is quick, and that
 * the breaker logs each change of state once across processes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "check_etcd.h"
#include "etcd/breaker.h"
#include "etcd/etcd_impl.h"

/* --- libcurl results ------------------------------------------------------ */

START_TEST(curl_outcomes)
{
	/* Never handed to a connection: nothing can have happened. */
	ck_assert_int_eq(etcd_curl_outcome(CURLE_COULDNT_CONNECT, 0, 0),
	    ETCD_NOT_REACHED);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_OPERATION_TIMEDOUT, 0, 0),
	    ETCD_NOT_REACHED);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_SSL_CONNECT_ERROR, 0, 0),
	    ETCD_NOT_REACHED);
	/* Sent: a timeout, a reset, an empty reply may each follow a commit. */
	ck_assert_int_eq(etcd_curl_outcome(CURLE_OPERATION_TIMEDOUT, 1, 300),
	    ETCD_LOST);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_RECV_ERROR, 1, 300), ETCD_LOST);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_GOT_NOTHING, 1, 300), ETCD_LOST);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_SEND_ERROR, 1, 0), ETCD_LOST);
	/* libcurl reconnected after a send: that refusal proves nothing. */
	ck_assert_int_eq(etcd_curl_outcome(CURLE_COULDNT_CONNECT, 1, 300),
	    ETCD_LOST);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_ABORTED_BY_CALLBACK, 2, 300),
	    ETCD_LOST);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_OK, 1, 300), ETCD_ANSWERED);
	/* Without the pre-request callback (libcurl < 7.80). */
	ck_assert_int_eq(etcd_curl_outcome(CURLE_COULDNT_CONNECT, -1, 0),
	    ETCD_NOT_REACHED);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_OPERATION_TIMEDOUT, -1, 0),
	    ETCD_NOT_REACHED);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_OPERATION_TIMEDOUT, -1, 300),
	    ETCD_LOST);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_GOT_NOTHING, -1, 300), ETCD_LOST);
	ck_assert_int_eq(etcd_curl_outcome(CURLE_SEND_ERROR, -1, 0), ETCD_LOST);
}
END_TEST

/* --- etcd's error answers ------------------------------------------------- */

static const struct {
	const char		*reply;		/* the gateway's JSON, NULL: none */
	long			 http;
	enum etcd_status	 read;		/* an idempotent call */
	enum etcd_status	 write;		/* a mutating one */
} answers[] = {
	/* Refused before any proposal: not applied, may go elsewhere. */
	{ "{\"error\":\"etcdserver: no leader\",\"code\":14,"
	    "\"message\":\"etcdserver: no leader\"}", 503,
	    ETCD_UNAVAILABLE, ETCD_UNAVAILABLE },
	{ "{\"code\":14,\"message\":\"etcdserver: leader changed\"}", 503,
	    ETCD_UNAVAILABLE, ETCD_UNAVAILABLE },
	{ "{\"code\":8,\"message\":\"etcdserver: too many requests\"}", 429,
	    ETCD_UNAVAILABLE, ETCD_UNAVAILABLE },
	{ "{\"code\":2,\"message\":\"raft proposal dropped\"}", 500,
	    ETCD_UNAVAILABLE, ETCD_UNAVAILABLE },
	{ "{\"code\":14,\"message\":\"etcdserver: not capable\"}", 503,
	    ETCD_UNAVAILABLE, ETCD_UNAVAILABLE },
	{ "{\"code\":14,\"message\":\"etcdserver: rpc not supported for "
	    "learner\"}", 503, ETCD_UNAVAILABLE, ETCD_UNAVAILABLE },
	/* Given after the proposal: a write may have been applied. */
	{ "{\"code\":14,\"message\":\"etcdserver: request timed out\"}", 503,
	    ETCD_UNAVAILABLE, ETCD_UNKNOWN },
	{ "{\"code\":14,\"message\":\"etcdserver: request timed out, possibly "
	    "due to previous leader failure\"}", 503,
	    ETCD_UNAVAILABLE, ETCD_UNKNOWN },
	{ "{\"code\":14,\"message\":\"etcdserver: request timed out, possibly "
	    "due to connection lost\"}", 503, ETCD_UNAVAILABLE, ETCD_UNKNOWN },
	{ "{\"code\":14,\"message\":\"etcdserver: server stopped\"}", 503,
	    ETCD_UNAVAILABLE, ETCD_UNKNOWN },
	{ "{\"code\":4,\"message\":\"context deadline exceeded\"}", 504,
	    ETCD_UNAVAILABLE, ETCD_UNKNOWN },
	{ "{\"code\":1,\"message\":\"context canceled\"}", 499,
	    ETCD_UNAVAILABLE, ETCD_UNKNOWN },
	/* Something in between that is not the gateway. */
	{ NULL, 502, ETCD_UNAVAILABLE, ETCD_UNKNOWN },
	{ NULL, 404, ETCD_ERROR, ETCD_ERROR },
	/* Answers: what they say, for any call. */
	{ "{\"code\":8,\"message\":\"etcdserver: mvcc: database space "
	    "exceeded\"}", 429, ETCD_ERROR, ETCD_ERROR },
	{ "{\"code\":3,\"message\":\"etcdserver: request is too large\"}", 400,
	    ETCD_ERROR, ETCD_ERROR },
	{ "{\"code\":11,\"message\":\"etcdserver: mvcc: required revision has "
	    "been compacted\"}", 400, ETCD_COMPACTED, ETCD_COMPACTED },
	{ "{\"code\":5,\"message\":\"etcdserver: requested lease not found\"}",
	    404, ETCD_NOT_FOUND, ETCD_NOT_FOUND },
};

START_TEST(answer_statuses)
{
	struct etcd_error err;
	struct json_object *reply;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(answers); i++) {
		reply = answers[i].reply != NULL ?
		    json_tokener_parse(answers[i].reply) : NULL;
		etcd_error_from_reply(reply, answers[i].http, &err);
		ck_assert_msg(etcd_answer_status(&err, ETCD_IDEMPOTENT) ==
		    answers[i].read, "read, answer %zu: %s", i, err.message);
		ck_assert_msg(etcd_answer_status(&err, ETCD_MUTATING) ==
		    answers[i].write, "write, answer %zu: %s", i, err.message);
		json_object_put(reply);
	}
}
END_TEST

/* --- a fake etcd that loses one answer -------------------------------------- */

struct fake {
	int		 fd;
	int		 port;
	int		 drop;		/* close instead of answering request no. drop */
	int		 requests;	/* requests read */
	pthread_t	 thread;
};

/* Read one request (headers, then Content-Length bytes); 0 at EOF. */
static int
read_request(int conn)
{
	char buf[8192];
	size_t have = 0;
	ssize_t n;
	char *end, *cl;
	long body;

	for (;;) {
		if (have == sizeof(buf) - 1)
			return 0;
		if ((n = read(conn, buf + have, sizeof(buf) - 1 - have)) <= 0)
			return 0;
		have += (size_t)n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		cl = strcasestr(buf, "Content-Length:");
		body = cl != NULL ? strtol(cl + 15, NULL, 10) : 0;
		if ((long)(have - (size_t)(end + 4 - buf)) >= body)
			return 1;
	}
}

static void *
fake_serve(void *arg)
{
	static const char answer[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\nContent-Length: 27\r\n\r\n"
	    "{\"header\":{\"revision\":\"7\"}}";
	struct fake *f = arg;
	int conn;

	while ((conn = accept(f->fd, NULL, NULL)) >= 0) {
		while (read_request(conn)) {
			if (__atomic_add_fetch(&f->requests, 1,
			    __ATOMIC_SEQ_CST) == f->drop)
				break;
			if (write(conn, answer, sizeof(answer) - 1) < 0)
				break;
		}
		close(conn);
	}
	return NULL;
}

static void
fake_start(struct fake *f, int drop)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->drop = drop;
	f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(f->fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(listen(f->fd, 8), 0);
	f->port = ntohs(sin.sin_port);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void
fake_stop(struct fake *f)
{
	shutdown(f->fd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->fd);
}

static struct etcd_client *
fake_client(const struct fake *f)
{
	char endpoint[64];

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", f->port);
	return test_client(endpoint, 0);
}

/*
 * The second write goes out on the kept connection, which then closes
 * unanswered: libcurl would send it again on a new connection, and a write
 * etcd may have applied must not be sent twice.
 */
START_TEST(write_never_resent)
{
	struct etcd_client *c;
	struct etcd_error err;
	struct fake f;
	int64_t rev;

	fake_start(&f, 2);
	c = fake_client(&f);
	ck_assert_int_eq(etcd_put(c, "k", 1, "v", 1, 0, &rev, &err), ETCD_OK);
	ck_assert_int_eq(rev, 7);
	ck_assert_int_eq(etcd_put(c, "k", 1, "w", 1, 0, &rev, &err), ETCD_UNKNOWN);
	ck_assert_int_eq(__atomic_load_n(&f.requests, __ATOMIC_SEQ_CST), 2);
	ck_assert_ptr_nonnull(strstr(err.message, "outcome unknown"));
	etcd_client_free(c);
	fake_stop(&f);
}
END_TEST

/* A read in the same spot is simply sent again. */
START_TEST(read_resent)
{
	struct etcd_status_result st;
	struct etcd_client *c;
	struct etcd_error err;
	struct fake f;

	fake_start(&f, 2);
	c = fake_client(&f);
	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_OK);
	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_OK);
	ck_assert_int_eq(__atomic_load_n(&f.requests, __ATOMIC_SEQ_CST), 3);
	etcd_client_free(c);
	fake_stop(&f);
}
END_TEST

/* --- messages and the probe ----------------------------------------------- */

START_TEST(endpoint_credentials_hidden)
{
	struct etcd_status_result st;
	struct etcd_client *c;
	struct etcd_error err;
	char endpoint[128], shown[64];
	int port = dead_port();

	snprintf(endpoint, sizeof(endpoint), "http://user:s3cret@127.0.0.1:%d",
	    port);
	snprintf(shown, sizeof(shown), "http://127.0.0.1:%d", port);
	c = test_client(endpoint, 0);
	ck_assert_str_eq(etcd_endpoint(c), shown);
	etcd_set_deadline(c, clock_monotonic_us() + 200000);
	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(err.message, shown));
	ck_assert_ptr_null(strstr(err.message, "s3cret"));
	ck_assert_int_eq(err.not_sent, 0);
	etcd_client_free(c);
}
END_TEST

/* Two dead endpoints; with a user, every call asks for a token first. */
static struct etcd_client *
dead_pair(const char *username)
{
	struct etcd_options o;
	struct etcd_client *c;
	char endpoints[128];

	snprintf(endpoints, sizeof(endpoints), "http://127.0.0.1:%d,"
	    "http://127.0.0.1:%d", dead_port(), dead_port());
	memset(&o, 0, sizeof(o));
	o.endpoints = endpoints;
	o.timeout_ms = 3000;
	o.use_breaker = 1;
	o.username = username;
	o.password = "pw";
	c = etcd_client_new(&o);
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(probe_is_one_round)
{
	struct etcd_status_result st;
	struct etcd_client *c;
	struct etcd_error err;
	int64_t t0;

	c = dead_pair(_i ? "root" : NULL);
	memset(&shared()->breaker, 0, sizeof(shared()->breaker));
	shared()->breaker.state = BREAKER_OPEN;
	shared()->breaker.opened_at_us = clock_monotonic_us() -
	    BREAKER_COOLDOWN_US - 1;
	t0 = clock_monotonic_us();
	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_UNAVAILABLE);
	/* Both endpoints refuse at once: no backoff rounds up to the retry budget. */
	ck_assert_msg(clock_monotonic_us() - t0 < 150000, "the probe took %lld us",
	    (long long)(clock_monotonic_us() - t0));
	ck_assert_int_eq(err.not_sent, 0);
	ck_assert_int_eq(breaker_state(), BREAKER_OPEN);
	/* The others, meanwhile, are refused without a request. */
	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_UNAVAILABLE);
	ck_assert_int_eq(err.not_sent, 1);
	etcd_client_free(c);
}
END_TEST

/* --- the breaker's log lines ------------------------------------------------ */

enum { RACERS = 6 };

static char log_path[PATH_MAX];

static void
log_to_file(void)
{
	static struct conf lc;
	char dir[] = "/tmp/check_etcd.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&lc, 0, sizeof(lc));
	lc.log.level = LOG_LEVEL_INFO;
	lc.log.format = LOG_FORMAT_TEXT;
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	snprintf(lc.log.target, sizeof(lc.log.target), "%s", log_path);
	ck_assert_int_eq(log_open(&lc), 0);
}

/* Back to stderr, and the file and its directory gone. */
static void
log_done(void)
{
	static struct conf lc;

	memset(&lc, 0, sizeof(lc));
	snprintf(lc.log.target, sizeof(lc.log.target), "stderr");
	log_open(&lc);
	unlink(log_path);
	*strrchr(log_path, '/') = '\0';
	rmdir(log_path);
}

static int
log_lines(const char *what)
{
	char line[1024];
	FILE *fp = fopen(log_path, "r");
	int n = 0;

	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		n += strstr(line, what) != NULL;
	fclose(fp);
	return n;
}

static void
racer_fail(void)
{
	breaker_failure("refused");
}

static void
racer_allow(void)
{
	(void)breaker_allow();
}

static void
racer_succeed(void)
{
	breaker_success();
}

/* RACERS processes call fn at the same moment. */
static void
race(void (*fn)(void))
{
	pid_t pids[RACERS];
	int i, fds[2], status;
	char byte;

	ck_assert_int_eq(pipe(fds), 0);
	for (i = 0; i < RACERS; i++) {
		if ((pids[i] = fork()) == 0) {
			close(fds[1]);
			while (read(fds[0], &byte, 1) > 0)
				continue;
			fn();
			_exit(0);
		}
	}
	close(fds[0]);
	close(fds[1]);
	for (i = 0; i < RACERS; i++)
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
}

START_TEST(breaker_logs_once_per_change)
{
	int i;

	ck_assert_int_eq(shared_attach(NULL), 0);
	log_to_file();
	for (i = 0; i < BREAKER_THRESHOLD - 1; i++)
		breaker_failure("refused");
	race(racer_fail);
	ck_assert_int_eq(breaker_state(), BREAKER_OPEN);
	ck_assert_int_eq(log_lines("etcd circuit breaker closed -> open after"), 1);
	ck_assert_int_eq(log_lines("the last: refused"), 1);
	shared()->breaker.opened_at_us -= BREAKER_COOLDOWN_US + 1;
	race(racer_allow);
	ck_assert_int_eq(log_lines("open -> half_open: probe 1 "), 1);
	race(racer_fail);
	ck_assert_int_eq(log_lines("half_open -> open: probe 1 failed: refused"), 1);
	shared()->breaker.opened_at_us -= BREAKER_COOLDOWN_US + 1;
	race(racer_allow);
	race(racer_succeed);
	ck_assert_int_eq(breaker_state(), BREAKER_CLOSED);
	ck_assert_int_eq(log_lines("etcd circuit breaker half_open -> closed"), 1);
	ck_assert_int_eq(log_lines("etcd circuit breaker"), 5);
	log_done();
}
END_TEST

/* A long outage: its probes are logged at 1, 2, 4, 8... */
START_TEST(breaker_probe_lines_thin_out)
{
	int i;

	memset(&shared()->breaker, 0, sizeof(shared()->breaker));
	log_to_file();
	for (i = 0; i < BREAKER_THRESHOLD; i++)
		breaker_failure("refused");
	for (i = 0; i < 9; i++) {
		shared()->breaker.opened_at_us -= BREAKER_COOLDOWN_US + 1;
		ck_assert_int_eq(breaker_allow(), BREAKER_PROBE);
		breaker_failure("refused");
	}
	ck_assert_int_eq(log_lines("-> half_open: probe "), 4);
	ck_assert_int_eq(log_lines("half_open -> open: probe 8 failed"), 1);
	ck_assert_int_eq(log_lines("probe 3"), 0);
	ck_assert_int_eq(log_lines("probe 9"), 0);
	log_done();
}
END_TEST

Suite *
suite_outcome(void)
{
	Suite *s = suite_create("etcd failures (offline)");
	TCase *tc = tcase_create("classification");

	tcase_add_test(tc, curl_outcomes);
	tcase_add_test(tc, answer_statuses);
	suite_add_tcase(s, tc);
	tc = tcase_create("network");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, write_never_resent);
	tcase_add_test(tc, read_resent);
	tcase_add_test(tc, endpoint_credentials_hidden);
	tcase_add_loop_test(tc, probe_is_one_round, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("breaker log");
	tcase_add_test(tc, breaker_logs_once_per_change);
	tcase_add_test(tc, breaker_probe_lines_thin_out);
	suite_add_tcase(s, tc);
	return s;
}
