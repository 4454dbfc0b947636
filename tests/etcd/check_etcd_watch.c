/*
 * etcd client tests: the watch stream against a real etcd (history, live
 * writes from another process, compaction, idle timeout).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "check_etcd.h"

#define MAX_SEEN 16

struct seen {
	size_t			 want;		/* stop after this many events */
	size_t			 count;
	size_t			 calls;
	enum etcd_event_type	 type[MAX_SEEN];
	char			 key[MAX_SEEN][256];
	char			 value[MAX_SEEN][64];
	int64_t			 mod_revision[MAX_SEEN];
	int64_t			 header_revision;
};

static int
on_events(void *ctx, int64_t revision, const struct etcd_event *events,
    size_t count)
{
	struct seen *s = ctx;
	size_t i;

	s->calls++;
	s->header_revision = revision;
	for (i = 0; i < count && s->count < MAX_SEEN; i++, s->count++) {
		s->type[s->count] = events[i].type;
		snprintf(s->key[s->count], sizeof(s->key[0]), "%s",
		    events[i].kv.key);
		snprintf(s->value[s->count], sizeof(s->value[0]), "%s",
		    events[i].kv.value);
		s->mod_revision[s->count] = events[i].kv.mod_revision;
	}
	return s->count >= s->want;
}

/* Watch everything under test_prefix + dir from rev. */
static enum etcd_status
watch_dir(struct etcd_client *c, const char *dir, int64_t rev, int idle_ms,
    struct seen *s, struct etcd_error *err)
{
	char prefix[256], *end;
	size_t end_len;
	enum etcd_status rc;

	test_key(prefix, dir);
	end = etcd_prefix_end(prefix, strlen(prefix), &end_len);
	rc = etcd_watch(c, prefix, strlen(prefix), end, end_len, rev, idle_ms,
	    on_events, s, err);
	free(end);
	return rc;
}

static void
assert_put_put_delete(const struct seen *s, const char *key)
{
	ck_assert_uint_eq(s->count, 3);
	ck_assert_int_eq(s->type[0], ETCD_EVENT_PUT);
	ck_assert_str_eq(s->key[0], key);
	ck_assert_str_eq(s->value[0], "1");
	ck_assert_int_eq(s->type[1], ETCD_EVENT_PUT);
	ck_assert_str_eq(s->value[1], "2");
	ck_assert_int_eq(s->type[2], ETCD_EVENT_DELETE);
	ck_assert_str_eq(s->key[2], key);
	ck_assert_str_eq(s->value[2], "");
	ck_assert_int_lt(s->mod_revision[0], s->mod_revision[1]);
	ck_assert_int_lt(s->mod_revision[1], s->mod_revision[2]);
}

static void
put_put_delete(struct etcd_client *c, const char *key)
{
	struct etcd_error err;

	put_str(c, key, "1");
	put_str(c, key, "2");
	ck_assert_int_eq(etcd_delete(c, key, strlen(key), NULL, 0, NULL, NULL,
	    &err), ETCD_OK);
}

START_TEST(watch_history)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct seen s = { .want = 3 };
	struct etcd_error err;
	char key[256], other[256];
	int64_t start;

	test_key(key, "w-hist/a");
	start = current_revision() + 1;
	/* Outside the watched prefix: must not show up. */
	put_str(c, test_key(other, "w-histx"), "no");
	put_put_delete(c, key);
	ck_assert_msg(watch_dir(c, "w-hist/", start, 5000, &s, &err) == ETCD_OK,
	    "watch: %s", err.message);
	assert_put_put_delete(&s, key);
	ck_assert_int_ge(s.header_revision, s.mod_revision[2]);
	etcd_client_free(c);
}
END_TEST

START_TEST(watch_live)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct seen s = { .want = 3 };
	struct etcd_error err;
	char key[256];
	int64_t start, t0;
	int status;
	pid_t pid;

	test_key(key, "w-live/b");
	start = current_revision() + 1;
	if ((pid = fork()) == 0) {
		struct etcd_client *writer;

		/* Write once the watch is surely established. */
		sleep_ms(500);
		writer = test_client(NULL, 0);
		put_put_delete(writer, key);
		etcd_client_free(writer);
		_exit(0);
	}
	t0 = clock_monotonic_us();
	ck_assert_msg(watch_dir(c, "w-live/", start, 10000, &s, &err) == ETCD_OK,
	    "watch: %s", err.message);
	ck_assert_int_ge(clock_monotonic_us() - t0, 400000);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	assert_put_put_delete(&s, key);
	etcd_client_free(c);
}
END_TEST

static void
compact(int64_t revision)
{
	struct buf body, out;
	long http;

	buf_init(&body);
	buf_init(&out);
	buf_printf(&body, "{\"revision\":\"%lld\",\"physical\":true}",
	    (long long)revision);
	http = raw_post(test_endpoint, "/v3/kv/compaction", body.data, NULL, &out);
	/* Compacted already past it (another run): just as good. */
	ck_assert_msg(http == 200 || (out.data != NULL &&
	    strstr(out.data, "compacted") != NULL), "compaction: %ld %s", http,
	    out.data != NULL ? out.data : "");
	buf_free(&body);
	buf_free(&out);
}

START_TEST(watch_compacted)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_options o;
	struct etcd_range_result r;
	struct seen s = { .want = 1 };
	struct etcd_error err;
	char key[256], expect[64];
	int64_t old, now;

	test_key(key, "w-compact/k");
	old = put_str(c, key, "old");
	now = put_str(c, key, "new");
	compact(now);
	ck_assert_int_eq(watch_dir(c, "w-compact/", old, 5000, &s, &err),
	    ETCD_COMPACTED);
	ck_assert_int_eq(err.status, ETCD_COMPACTED);
	snprintf(expect, sizeof(expect), "compact revision %lld", (long long)now);
	ck_assert_msg(strstr(err.message, expect) != NULL, "%s", err.message);
	ck_assert_uint_eq(s.calls, 0);
	/* A range at the compacted revision says so too. */
	memset(&o, 0, sizeof(o));
	o.revision = old;
	ck_assert_int_eq(etcd_range(c, key, strlen(key), &o, &r, &err),
	    ETCD_COMPACTED);
	ck_assert_ptr_null(r.kvs);
	/* From the compaction point on, the watch works. */
	s.want = 1;
	ck_assert_int_eq(watch_dir(c, "w-compact/", now, 5000, &s, &err), ETCD_OK);
	ck_assert_str_eq(s.value[0], "new");
	etcd_client_free(c);
}
END_TEST

START_TEST(watch_idle_timeout)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct seen s = { .want = 1 };
	struct etcd_error err;
	int64_t t0, elapsed;

	t0 = clock_monotonic_us();
	ck_assert_int_eq(watch_dir(c, "w-quiet/", 0, 1000, &s, &err),
	    ETCD_UNAVAILABLE);
	elapsed = clock_monotonic_us() - t0;
	ck_assert_msg(elapsed >= 1000000 && elapsed < 3500000,
	    "idle timeout after %lld us", (long long)elapsed);
	ck_assert_ptr_nonnull(strstr(err.message, "no frame"));
	ck_assert_uint_eq(s.calls, 0);
	etcd_client_free(c);
}
END_TEST

START_TEST(watch_empty_range_refused)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct seen s = { .want = 1 };
	struct etcd_error err;
	char key[256];

	/* range_end == key: etcd cancels with "watcher range is empty". */
	test_key(key, "w-empty");
	ck_assert_int_eq(etcd_watch(c, key, strlen(key), key, strlen(key), 0,
	    2000, on_events, &s, &err), ETCD_ERROR);
	ck_assert_ptr_nonnull(strstr(err.message, "range is empty"));
	etcd_client_free(c);
}
END_TEST

struct reader {
	struct etcd_client	*client;
	const char		*key;
	char			 value[16];
};

/* A watch callback that reads through the client that is watching. */
static int
read_inside(void *ctx, int64_t revision, const struct etcd_event *events,
    size_t count)
{
	struct reader *rd = ctx;
	struct etcd_range_result r;
	struct etcd_error err;

	ck_assert_int_eq(etcd_range(rd->client, rd->key, strlen(rd->key), NULL,
	    &r, &err), ETCD_OK);
	snprintf(rd->value, sizeof(rd->value), "%s", r.kvs[0].value);
	etcd_range_result_free(&r);
	return 1;
}

/* Unary calls and a watch on one client: their handles stay apart. */
START_TEST(watch_then_unary)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct seen s = { .want = 1 };
	struct reader rd;
	struct etcd_error err;
	char key[256];
	int64_t rev;

	test_key(key, "w-mixed/k");
	rev = put_str(c, key, "1");
	ck_assert_int_eq(watch_dir(c, "w-mixed/", rev, 5000, &s, &err), ETCD_OK);
	rev = put_str(c, key, "2");
	s.count = 0;
	ck_assert_int_eq(watch_dir(c, "w-mixed/", rev, 5000, &s, &err), ETCD_OK);
	ck_assert_str_eq(s.value[0], "2");
	/* And from inside the watch callback. */
	rd.client = c;
	rd.key = key;
	ck_assert_int_eq(etcd_watch(c, key, strlen(key), NULL, 0, rev, 5000,
	    read_inside, &rd, &err), ETCD_OK);
	ck_assert_str_eq(rd.value, "2");
	etcd_client_free(c);
}
END_TEST

Suite *
suite_watch(void)
{
	Suite *s = suite_create("etcd watch");
	TCase *tc = tcase_create("watch");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, watch_history);
	tcase_add_test(tc, watch_live);
	tcase_add_test(tc, watch_compacted);
	tcase_add_test(tc, watch_idle_timeout);
	tcase_add_test(tc, watch_empty_range_refused);
	tcase_add_test(tc, watch_then_unary);
	suite_add_tcase(s, tc);
	return s;
}
