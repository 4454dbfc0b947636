/*
 * Unit tests of the pool-wide metrics: the Prometheus rendering of the
 * request counters and the latency histogram, and that counters live in
 * shared memory: increments made by forked children, and by processes that
 * map the same file on their own, are seen by the parent.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "http/metrics.h"
#include "http/router.h"

#include "check_suites.h"

static char *tmpdir;

static void
setup(void)
{
	/* A fresh, zeroed segment for every test. */
	ck_assert_int_eq(metrics_attach(NULL), 0);
	tmpdir = test_mkdtemp();
}

static void
teardown(void)
{
	test_rmdir(tmpdir);
	tmpdir = NULL;
	(void)metrics_attach(NULL);
}

static char *
render(void)
{
	struct buf out;

	buf_init(&out);
	metrics_render(&out);
	ck_assert_ptr_nonnull(out.data);
	return out.data;
}

/* The value of the sample line for series (name and labels), or -1. */
static double
sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

static double
requests(const char *text, const char *route, const char *method, const char *status)
{
	char series[512];

	snprintf(series, sizeof(series), "dynconf_http_requests_total{route=\"%s\","
	    "method=\"%s\",status=\"%s\"}", route, method, status);
	return sample(text, series);
}

static double
bucket(const char *text, const char *le)
{
	char series[128];

	snprintf(series, sizeof(series),
	    "dynconf_http_request_duration_seconds_bucket{le=\"%s\"}", le);
	return sample(text, series);
}

/*
 * The whole exposition is well-formed: HELP/TYPE comments, then
 * "name{labels} value" lines of declared metrics; histogram buckets rise
 * to +Inf, which equals _count.
 */
static void
check_exposition(const char *text)
{
	char *copy = strdup(text), *line, *save = NULL;
	char declared[32][128];
	size_t ndeclared = 0, i;
	double last_le = -1, last_count = -1, inf = -1;

	ck_assert_msg(text[strlen(text) - 1] == '\n', "no final newline");
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		const char *value;
		char *end;
		size_t n;

		if (strncmp(line, "# TYPE ", 7) == 0) {
			ck_assert_uint_lt(ndeclared, 32);
			ck_assert_int_eq(sscanf(line + 7, "%127s", declared[ndeclared]), 1);
			ck_assert_msg(strstr(line, " counter") || strstr(line, " gauge") ||
			    strstr(line, " histogram"), "type line %s", line);
			ndeclared++;
			continue;
		}
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		ck_assert_msg(line[0] != '#' && line[0] != '\0', "stray line \"%s\"", line);
		n = strcspn(line, "{ ");
		ck_assert_uint_lt(n, sizeof(name));
		memcpy(name, line, n);
		name[n] = '\0';
		for (i = 0; i < ndeclared; i++) {
			size_t d = strlen(declared[i]);

			if (strncmp(name, declared[i], d) == 0 && (name[d] == '\0' ||
			    strcmp(name + d, "_bucket") == 0 || strcmp(name + d, "_sum") == 0 ||
			    strcmp(name + d, "_count") == 0))
				break;
		}
		ck_assert_msg(i < ndeclared, "sample of undeclared metric: %s", line);
		if (line[n] == '{') {
			const char *close = strchr(line, '}');

			ck_assert_msg(close != NULL && close[1] == ' ', "labels in %s", line);
			value = close + 2;
		} else {
			value = line + n + 1;
		}
		strtod(value, &end);
		ck_assert_msg(end != value && *end == '\0', "value in \"%s\"", line);
		if (strcmp(name, "dynconf_http_request_duration_seconds_bucket") == 0) {
			double count = strtod(value, NULL);

			ck_assert_msg(count >= last_count, "buckets fall at %s", line);
			last_count = count;
			if (strstr(line, "le=\"+Inf\"") != NULL) {
				inf = count;
			} else {
				double le = strtod(strstr(line, "le=\"") + 4, NULL);

				ck_assert_msg(inf < 0, "bucket after +Inf: %s", line);
				ck_assert_msg(le > last_le, "le does not rise at %s", line);
				last_le = le;
			}
		}
	}
	ck_assert_msg(inf >= 0, "no +Inf bucket");
	ck_assert(inf == sample(text, "dynconf_http_request_duration_seconds_count"));
	free(copy);
}

START_TEST(test_render_counters)
{
	const char *r0 = route_table[0].pattern;
	char *text;

	metrics_record_request(0, HTTP_GET, 200, 300);
	metrics_record_request(0, HTTP_GET, 200, 300);
	metrics_record_request(0, HTTP_HEAD, 200, 1);
	metrics_record_request(route_count, HTTP_POST, 404, 5);
	metrics_record_request(route_index(NULL), HTTP_DELETE, 405, 5);
	metrics_record_request(0, HTTP_OTHER, 418, 20000000);
	metrics_record_request(0, HTTP_GET, 503, 2000);
	text = render();
	check_exposition(text);
	ck_assert_msg(strstr(text, "# TYPE dynconf_http_requests_total counter\n") != NULL,
	    "%.3000s", text);
	ck_assert_msg(strstr(text, "# TYPE dynconf_http_request_duration_seconds "
	    "histogram\n") != NULL, "%.3000s", text);
	ck_assert_msg(requests(text, r0, "GET", "200") == 2, "%.3000s", text);
	ck_assert_msg(requests(text, r0, "HEAD", "200") == 1, "%.3000s", text);
	ck_assert_msg(requests(text, r0, "GET", "503") == 1, "%.3000s", text);
	ck_assert_msg(requests(text, "unmatched", "POST", "404") == 1, "%.3000s", text);
	ck_assert_msg(requests(text, "unmatched", "DELETE", "405") == 1, "%.3000s", text);
	ck_assert_msg(requests(text, r0, "OTHER", "other") == 1, "%.3000s", text);
	/* Counters that never moved are not listed. */
	ck_assert_msg(requests(text, r0, "PUT", "200") == -1, "%.3000s", text);
	ck_assert_msg(strstr(text, "} 0\ndynconf_http_requests_total") == NULL,
	    "zero counter listed:\n%.3000s", text);
	/* The histogram: 1,5,5 <= 250us; 300,300 <= 500us; 2000 <= 2.5ms; 20 s. */
	ck_assert_msg(bucket(text, "0.00025") == 3, "%.3000s", text);
	ck_assert_msg(bucket(text, "0.0005") == 5, "%.3000s", text);
	ck_assert_msg(bucket(text, "0.001") == 5, "%.3000s", text);
	ck_assert_msg(bucket(text, "0.0025") == 6, "%.3000s", text);
	ck_assert_msg(bucket(text, "10") == 6, "%.3000s", text);
	ck_assert_msg(bucket(text, "+Inf") == 7, "%.3000s", text);
	ck_assert(sample(text, "dynconf_http_request_duration_seconds_count") == 7);
	ck_assert_msg(strstr(text, "dynconf_http_request_duration_seconds_sum "
	    "20.002611\n") != NULL, "%.3000s", text);
	free(text);
}
END_TEST

START_TEST(test_render_buckets_edges)
{
	char *text;

	metrics_record_request(0, HTTP_GET, 200, 250);		/* le is inclusive */
	metrics_record_request(0, HTTP_GET, 200, 251);
	metrics_record_request(0, HTTP_GET, 200, 10000000);
	metrics_record_request(0, HTTP_GET, 200, 10000001);
	metrics_record_request(0, HTTP_GET, 200, -5);		/* a clock step */
	text = render();
	check_exposition(text);
	ck_assert_msg(bucket(text, "0.00025") == 2, "%.3000s", text);
	ck_assert_msg(bucket(text, "0.0005") == 3, "%.3000s", text);
	ck_assert_msg(bucket(text, "5") == 3, "%.3000s", text);
	ck_assert_msg(bucket(text, "10") == 4, "%.3000s", text);
	ck_assert_msg(bucket(text, "+Inf") == 5, "%.3000s", text);
	ck_assert_msg(requests(text, route_table[0].pattern, "GET", "200") == 5,
	    "%.3000s", text);
	/* Out-of-range route indexes are clamped, never written out of bounds. */
	metrics_record_request(METRICS_MAX_ROUTES + 1000, HTTP_GET, 200, 1);
	free(text);
	text = render();
	check_exposition(text);
	free(text);
}
END_TEST

START_TEST(test_render_empty_and_responders)
{
	char *text = render();

	check_exposition(text);
	ck_assert_msg(strstr(text, "dynconf_http_requests_total{") == NULL, "%.3000s", text);
	ck_assert(bucket(text, "+Inf") == 0);
	ck_assert(sample(text, "dynconf_responders") == 0);
	free(text);
	metrics_set_responders(6);
	text = render();
	ck_assert_msg(sample(text, "dynconf_responders") == 6, "%.3000s", text);
	ck_assert_msg(strstr(text, "# TYPE dynconf_responders gauge\n") != NULL, "%.3000s", text);
	free(text);
}
END_TEST

/* Run fn in n children at once and wait for all of them to succeed. */
static void
in_children(int n, void (*fn)(int), int arg)
{
	pid_t pids[16];
	int i, status;

	ck_assert_int_le(n, 16);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		ck_assert_int_ne(pids[i], -1);
		if (pids[i] == 0) {
			fn(arg);
			_exit(0);
		}
	}
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child status 0x%x", status);
	}
}

static void
record_many(int count)
{
	int i;

	for (i = 0; i < count; i++)
		metrics_record_request(0, HTTP_GET, 200, 100);
}

static const char *metrics_path;

/* A sibling under spawn-fcgi: maps the file itself instead of inheriting it. */
static void
attach_and_record(int count)
{
	if (metrics_attach(metrics_path) != 0)
		_exit(2);
	record_many(count);
}

START_TEST(test_pool_wide_anonymous)
{
	char *text;

	record_many(1);
	in_children(4, record_many, 2500);
	text = render();
	ck_assert_msg(requests(text, route_table[0].pattern, "GET", "200") == 10001,
	    "children's counts not seen by the parent:\n%.3000s", text);
	ck_assert(bucket(text, "+Inf") == 10001);
	free(text);
}
END_TEST

START_TEST(test_pool_wide_file)
{
	char path[4200];
	struct stat st;
	char *text;

	snprintf(path, sizeof(path), "%s/metrics", tmpdir);
	metrics_path = path;
	ck_assert_int_eq(metrics_attach(path), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((size_t)st.st_size, sizeof(struct shared_state));
	record_many(3);
	/* Forked children inherit the mapping ... */
	in_children(2, record_many, 1000);
	/* ... and unrelated processes map the same file. */
	in_children(3, attach_and_record, 1000);
	text = render();
	ck_assert_msg(requests(text, route_table[0].pattern, "GET", "200") == 5003,
	    "%.3000s", text);
	free(text);
	/* Attaching again (a restarted responder) keeps the counts. */
	ck_assert_int_eq(metrics_attach(path), 0);
	text = render();
	ck_assert_msg(requests(text, route_table[0].pattern, "GET", "200") == 5003,
	    "re-attaching lost the counters:\n%.3000s", text);
	free(text);
	/* A process-local segment does not see the file's counts. */
	ck_assert_int_eq(metrics_attach(NULL), 0);
	text = render();
	ck_assert(requests(text, route_table[0].pattern, "GET", "200") == -1);
	free(text);
}
END_TEST

START_TEST(test_file_of_wrong_size)
{
	char path[4200];
	FILE *fp;
	char *text;

	/* A stale file of another layout is reset, not trusted. */
	snprintf(path, sizeof(path), "%s/metrics", tmpdir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("garbage from an older version", fp);
	fclose(fp);
	ck_assert_int_eq(metrics_attach(path), 0);
	text = render();
	check_exposition(text);
	ck_assert(bucket(text, "+Inf") == 0);
	free(text);
}
END_TEST

START_TEST(test_attach_bad_path)
{
	struct conf c;
	char path[4200], err[256], *logged;
	char *text;

	/* The failure is logged, naming the path (to a file, not the test's stderr). */
	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), 0);
	snprintf(c.log.target, sizeof(c.log.target), "%s/log", tmpdir);
	ck_assert_int_eq(log_open(&c), 0);
	snprintf(path, sizeof(path), "%s/no/such/dir/metrics", tmpdir);
	record_many(2);
	ck_assert_int_eq(metrics_attach(path), -1);
	snprintf(c.log.target, sizeof(c.log.target), "stderr");
	ck_assert_int_eq(log_open(&c), 0);
	snprintf(err, sizeof(err), "%s/log", tmpdir);
	logged = test_read_file(err, NULL);
	ck_assert_msg(logged != NULL && strstr(logged, path) != NULL,
	    "the failure was not logged: %s", logged ? logged : "(no log)");
	free(logged);
	/* The counters still work. */
	record_many(1);
	text = render();
	ck_assert(requests(text, route_table[0].pattern, "GET", "200") == 3);
	free(text);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("render");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_render_counters);
	tcase_add_test(tc, test_render_buckets_edges);
	tcase_add_test(tc, test_render_empty_and_responders);
	suite_add_tcase(s, tc);

	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pool_wide_anonymous);
	tcase_add_test(tc, test_pool_wide_file);
	tcase_add_test(tc, test_file_of_wrong_size);
	tcase_add_test(tc, test_attach_bad_path);
	suite_add_tcase(s, tc);
	return s;
}
