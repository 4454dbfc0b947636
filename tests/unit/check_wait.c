/*
 * Requests that wait (src/http/wait.h) and the wait room that holds them
 * (src/http/wait_room.h), against a real replica: what wakes a waiting
 * watch and what does not, deadlines, clients that leave, the cap, closing
 * the room, and the revision a watch that ends with nothing answers.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/conf.h"
#include "base/shared.h"
#include "base/util.h"
#include "http/api.h"
#include "http/router.h"
#include "http/wait.h"
#include "http/wait_room.h"
#include "store/replica.h"
#include "store/store.h"

#include "check_suites.h"

#define MAX_DONE 64

static char *dir;
static struct replica *writer;	/* the watcher's side, for the tests */
static struct wait_room *room;

/* What the room handed its owners. */
static struct {
	void	*owner;
	int	 status;
	char	 body[4096];
	char	 retry_after[8];
	char	 request_id[REQUEST_ID_MAX + 1];
	enum principal_kind principal;
	char	 token_name[WAIT_PRINCIPAL_MAX + 1];
	char	 token_id[WAIT_PRINCIPAL_MAX + 1];
} done[MAX_DONE];
static size_t ndone;

static void
on_done(void *owner, struct exchange *ex, void *arg)
{
	const char *retry = response_header_get(ex, "Retry-After");

	(void)arg;
	ck_assert_uint_lt(ndone, MAX_DONE);
	done[ndone].owner = owner;
	done[ndone].status = ex->res.status;
	snprintf(done[ndone].body, sizeof(done[ndone].body), "%s",
	    ex->res.body.data != NULL ? ex->res.body.data : "");
	snprintf(done[ndone].retry_after, sizeof(done[ndone].retry_after), "%s",
	    retry != NULL ? retry : "");
	snprintf(done[ndone].request_id, sizeof(done[ndone].request_id), "%s",
	    ex->request_id);
	done[ndone].principal = ex->principal.kind;
	snprintf(done[ndone].token_name, sizeof(done[ndone].token_name), "%s",
	    ex->principal.token_name != NULL ? ex->principal.token_name : "(none)");
	snprintf(done[ndone].token_id, sizeof(done[ndone].token_id), "%s",
	    ex->principal.token_id != NULL ? ex->principal.token_id : "(none)");
	ndone++;
}

/* The watcher applies a put of key at revision and publishes it. */
static void
apply(const char *key, int64_t revision)
{
	struct replica_event e;

	memset(&e, 0, sizeof(e));
	e.row.key = key;
	e.row.value = "1";
	e.row.value_len = 1;
	e.row.create_revision = e.row.mod_revision = revision;
	e.row.version = 1;
	ck_assert_int_eq(replica_apply_events(writer, revision, &e, 1,
	    conf.replica.history), 0);
	__atomic_store_n(&shared()->replica.revision, revision, __ATOMIC_RELEASE);
}

static void
setup(void)
{
	char err[512];

	ck_assert_msg(conf_load(&conf, NULL, err, sizeof(err)) == 0, "%s", err);
	dir = test_mkdtemp();
	snprintf(conf.replica.path, sizeof(conf.replica.path), "%s/replica.db", dir);
	conf.replica.history = 1000000;
	writer = replica_open(conf.replica.path, err, sizeof(err));
	ck_assert_msg(writer != NULL, "%s", err);
	ck_assert_int_eq(replica_snapshot_begin(writer), 0);
	ck_assert_int_eq(replica_snapshot_commit(writer, 10), 0);
	memset(shared(), 0, sizeof(*shared()));
	__atomic_store_n(&shared()->replica.revision, 10, __ATOMIC_RELEASE);
	__atomic_store_n(&shared()->replica.snapshot_loaded, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&shared()->replica.etcd_up, 1, __ATOMIC_RELEASE);
	ndone = 0;
	room = wait_room_new(100, on_done, NULL);
	ck_assert_ptr_nonnull(room);
}

static void
teardown(void)
{
	char err[512];

	wait_room_free(room);
	store_close();
	replica_close(writer);
	test_rmdir(dir);
	(void)conf_load(&conf, NULL, err, sizeof(err));
}

static uint32_t
watch_route(void)
{
	size_t i;

	for (i = 0; i < route_count; i++)
		if (strcmp(route_table[i].pattern, "/v1/watch") == 0)
			return (uint32_t)i;
	ck_abort_msg("no /v1/watch route");
	return 0;
}

/* A watch on prefix after since, looked up to seen, ending in ms. */
static struct wait_request
watch(const char *prefix, int64_t since, int64_t seen, int ms)
{
	struct wait_request req;

	memset(&req, 0, sizeof(req));
	req.kind = WAIT_WATCH;
	req.route = watch_route();
	req.method = HTTP_GET;
	req.started_us = clock_monotonic_us();
	req.deadline_us = req.started_us + (int64_t)ms * 1000;
	req.since = since;
	req.seen = seen;
	snprintf(req.request_id, sizeof(req.request_id), "w-%s-%lld", prefix,
	    (long long)since);
	snprintf(req.path, sizeof(req.path), "/v1/watch");
	snprintf(req.key, sizeof(req.key), "%s", prefix);
	ck_assert_int_eq(wait_request_check(&req), 0);
	return req;
}

static struct wait_entry *
add(const char *prefix, int64_t since, int ms, void *owner)
{
	struct wait_request req = watch(prefix, since, since, ms);

	return wait_room_add(room, &req, owner);
}

/* The answer's top revision and its events' keys, joined by ','. */
static int64_t
answer_of(size_t i, char *keys, size_t len)
{
	struct json_object *doc = test_json_parse(done[i].body, "the answer"), *events, *rev;
	int64_t revision;
	size_t n;

	ck_assert(json_object_object_get_ex(doc, "events", &events));
	ck_assert(json_object_object_get_ex(doc, "revision", &rev));
	keys[0] = '\0';
	for (n = 0; n < json_object_array_length(events); n++) {
		const char *key = test_json_string(json_object_array_get_idx(events, n), "key");

		snprintf(keys + strlen(keys), len - strlen(keys), "%s%s", n ? "," : "", key);
	}
	revision = json_object_get_int64(rev);
	json_object_put(doc);
	return revision;
}

START_TEST(test_a_change_under_the_prefix_wakes_only_its_watches)
{
	int a, b, c;
	char keys[256];

	ck_assert_ptr_nonnull(add("config/a/", 10, 60000, &a));
	ck_assert_ptr_nonnull(add("config/a/", 10, 60000, &b));
	ck_assert_ptr_nonnull(add("config/b", 10, 60000, &c));
	ck_assert_int_eq(wait_room_run(room), WAIT_ROOM_POLL_MS);
	ck_assert_uint_eq(ndone, 0);
	/* Shares the text but not the folder; another folder; nothing at all. */
	apply("config/ab", 11);
	apply("flags/default/a", 12);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 0);
	ck_assert_uint_eq(wait_room_count(room), 3);
	apply("config/a/x", 13);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 2);
	ck_assert(done[0].owner != &c && done[1].owner != &c);
	ck_assert_int_eq(done[0].status, 200);
	ck_assert_int_eq(answer_of(0, keys, sizeof(keys)), 13);
	ck_assert_str_eq(keys, "a/x");
	ck_assert_int_eq(answer_of(1, keys, sizeof(keys)), 13);
	ck_assert_str_eq(done[0].request_id, "w-config/a/-10");
	/* config/b is a partial name: config/bb is under it. */
	apply("config/bb/y", 14);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 3);
	ck_assert_ptr_eq(done[2].owner, &c);
	ck_assert_int_eq(answer_of(2, keys, sizeof(keys)), 14);
	ck_assert_str_eq(keys, "bb/y");
	ck_assert_uint_eq(wait_room_count(room), 0);
	ck_assert_int_eq(wait_room_run(room), -1);
	ck_assert_int_eq(shared()->waiting.waiting[WAIT_WATCH], 0);
	ck_assert_uint_eq(shared()->waiting.handoffs, 3);
}
END_TEST

START_TEST(test_changes_at_or_before_since_do_not_wake)
{
	int a;
	char keys[64];

	/* A client that watches from a revision the node has not reached yet. */
	ck_assert_ptr_nonnull(add("config/f/", 15, 60000, &a));
	apply("config/f/x", 12);
	apply("config/f/y", 15);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 0);
	apply("config/f/z", 16);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 1);
	ck_assert_int_eq(answer_of(0, keys, sizeof(keys)), 16);
	ck_assert_str_eq(keys, "f/z");
}
END_TEST

/*
 * A request that comes after the room matched changes it had not seen
 * (its responder looked at an older revision) looks for itself.
 */
START_TEST(test_a_late_request_catches_up_with_what_it_missed)
{
	struct wait_request req = watch("config/late/", 10, 10, 60000);
	int other, late;
	char keys[64];

	ck_assert_ptr_nonnull(add("config/other/", 10, 60000, &other));
	apply("config/late/x", 11);
	wait_room_run(room);		/* scanned 11: nobody was waiting on late/ */
	ck_assert_uint_eq(ndone, 0);
	ck_assert_ptr_nonnull(wait_room_add(room, &req, &late));
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 1);
	ck_assert_ptr_eq(done[0].owner, &late);
	ck_assert_int_eq(answer_of(0, keys, sizeof(keys)), 11);
	ck_assert_str_eq(keys, "late/x");
}
END_TEST

START_TEST(test_the_deadline_answers_nothing_up_to_what_was_matched)
{
	int a, b;
	char keys[64];

	ck_assert_ptr_nonnull(add("config/t/", 10, 50, &a));
	ck_assert_ptr_nonnull(add("config/t/", 10, 60000, &b));
	apply("config/u/x", 11);
	ck_assert_int_le(wait_room_run(room), 50);
	ck_assert_uint_eq(ndone, 0);
	usleep(60000);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 1);
	ck_assert_ptr_eq(done[0].owner, &a);
	ck_assert_int_eq(done[0].status, 200);
	/* Nothing under config/t/ up to 11: watching on from 11 loses nothing. */
	ck_assert_int_eq(answer_of(0, keys, sizeof(keys)), 11);
	ck_assert_str_eq(keys, "");
	ck_assert_uint_eq(wait_room_count(room), 1);
}
END_TEST

START_TEST(test_a_client_that_leaves_is_forgotten)
{
	struct wait_entry *e;
	int a, b;

	e = add("config/l/", 10, 60000, &a);
	ck_assert_ptr_nonnull(add("config/l/", 10, 60000, &b));
	ck_assert_int_eq(shared()->waiting.waiting[WAIT_WATCH], 2);
	wait_room_leave(room, e);
	ck_assert_uint_eq(wait_room_count(room), 1);
	ck_assert_int_eq(shared()->waiting.waiting[WAIT_WATCH], 1);
	ck_assert_uint_eq(shared()->waiting.disconnects, 1);
	apply("config/l/x", 11);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 1);
	ck_assert_ptr_eq(done[0].owner, &b);
}
END_TEST

START_TEST(test_the_cap_refuses_with_429)
{
	int owners[3];
	size_t i;

	wait_room_set_cap(room, 2);
	for (i = 0; i < 2; i++)
		ck_assert_ptr_nonnull(add("config/c/", 10, 60000, &owners[i]));
	ck_assert_ptr_null(add("config/c/", 10, 60000, &owners[2]));
	ck_assert_uint_eq(ndone, 1);
	ck_assert_ptr_eq(done[0].owner, &owners[2]);
	ck_assert_int_eq(done[0].status, 429);
	ck_assert_str_eq(done[0].retry_after, "1");
	ck_assert_ptr_nonnull(strstr(done[0].body, "\"code\":\"too_many_watches\""));
	ck_assert_uint_eq(shared()->waiting.refused[WAIT_WATCH], 1);
	ck_assert_uint_eq(wait_room_count(room), 2);
}
END_TEST

START_TEST(test_closing_answers_everything)
{
	int owners[10], c;
	char keys[64];
	size_t i;

	for (i = 0; i < 10; i++)
		ck_assert_ptr_nonnull(add(i % 2 ? "config/odd/" : "config/even/", 10,
		    60000, &owners[i]));
	/* A change the room has not matched yet goes out with its watches. */
	apply("config/odd/x", 11);
	ck_assert_ptr_nonnull(add("config/c/", 10, 60000, &c));
	wait_room_close(room);
	ck_assert_uint_eq(ndone, 11);
	ck_assert_uint_eq(wait_room_count(room), 0);
	for (i = 0; i < ndone; i++) {
		ck_assert_int_eq(done[i].status, 200);
		ck_assert_int_eq(answer_of(i, keys, sizeof(keys)), 11);
		if (done[i].owner >= (void *)&owners[0] && done[i].owner <= (void *)&owners[9] &&
		    ((int *)done[i].owner - owners) % 2 == 1)
			ck_assert_str_eq(keys, "odd/x");
		else
			ck_assert_str_eq(keys, "");
	}
}
END_TEST

/* More changes than one read of the log takes: every watch looks itself. */
START_TEST(test_a_flood_of_changes_misses_nothing)
{
	struct replica_event events[1500];
	char keyspace[1500][32], keys[64];
	int a, b;
	size_t i;

	ck_assert_ptr_nonnull(add("config/flood/", 10, 60000, &a));
	ck_assert_ptr_nonnull(add("config/quiet/", 10, 60000, &b));
	memset(events, 0, sizeof(events));
	for (i = 0; i < 1500; i++) {
		snprintf(keyspace[i], sizeof(keyspace[i]), "config/noise/%zu", i);
		events[i].row.key = keyspace[i];
		events[i].row.value = "1";
		events[i].row.value_len = 1;
		events[i].row.mod_revision = events[i].row.create_revision =
		    11 + (int64_t)i;
	}
	snprintf(keyspace[1499], sizeof(keyspace[1499]), "config/flood/x");
	ck_assert_int_eq(replica_apply_events(writer, 1510, events, 1500,
	    conf.replica.history), 0);
	__atomic_store_n(&shared()->replica.revision, 1510, __ATOMIC_RELEASE);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 1);
	ck_assert_ptr_eq(done[0].owner, &a);
	ck_assert_int_eq(answer_of(0, keys, sizeof(keys)), 1510);
	ck_assert_str_eq(keys, "flood/x");
	ck_assert_uint_eq(wait_room_count(room), 1);
}
END_TEST

/* Hundreds of prefixes (the table grows): each change wakes its own. */
START_TEST(test_many_prefixes)
{
	static int owners[300];
	char prefix[64], key[64];
	size_t i;

	wait_room_set_cap(room, 1000);
	for (i = 0; i < 300; i++) {
		snprintf(prefix, sizeof(prefix), "config/p%zu/", i);
		ck_assert_ptr_nonnull(add(prefix, 10, 60000, &owners[i]));
	}
	snprintf(key, sizeof(key), "config/p%d/x", 217);
	apply(key, 11);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 1);
	ck_assert_ptr_eq(done[0].owner, &owners[217]);
	ck_assert_uint_eq(wait_room_count(room), 299);
}
END_TEST

START_TEST(test_requests_from_another_process_are_checked)
{
	struct wait_request good = watch("config/", 1, 1, 1000), bad;

	bad = good;
	bad.kind = 0;
	ck_assert_int_eq(wait_request_check(&bad), -1);
	bad = good;
	bad.kind = WAIT_KIND_MAX;
	ck_assert_int_eq(wait_request_check(&bad), -1);
	bad = good;
	bad.route = (uint32_t)route_count;
	ck_assert_int_eq(wait_request_check(&bad), -1);
	bad = good;
	memset(bad.key, 'k', sizeof(bad.key));
	ck_assert_int_eq(wait_request_check(&bad), -1);
	bad = good;
	bad.key[0] = '\0';
	ck_assert_int_eq(wait_request_check(&bad), -1);
	bad = good;
	memset(bad.request_id, 'r', sizeof(bad.request_id));
	ck_assert_int_eq(wait_request_check(&bad), -1);
	bad = good;
	bad.method = HTTP_GET | HTTP_POST;
	ck_assert_int_eq(wait_request_check(&bad), -1);
	ck_assert_int_eq(wait_request_check(&good), 0);
}
END_TEST

/*
 * Who asked stays with the request while it waits: what the waiting
 * process does for it (a lock it takes when the holder lets go) is
 * recorded in the audit trail under their name, not another's.
 */
START_TEST(test_a_waiting_request_keeps_who_asked)
{
	struct wait_request req = watch("config/who/", 10, 10, 60000);
	int owner;

	req.principal = PRINCIPAL_TOKEN;
	snprintf(req.principal_name, sizeof(req.principal_name), "ci-deployer");
	snprintf(req.token_id, sizeof(req.token_id), "0123456789abcdef");
	ck_assert_int_eq(wait_request_check(&req), 0);
	ck_assert_ptr_nonnull(wait_room_add(room, &req, &owner));
	apply("config/who/x", 11);
	wait_room_run(room);
	ck_assert_uint_eq(ndone, 1);
	ck_assert_int_eq(done[0].status, 200);
	ck_assert_int_eq(done[0].principal, PRINCIPAL_TOKEN);
	ck_assert_str_eq(done[0].token_name, "ci-deployer");
	ck_assert_str_eq(done[0].token_id, "0123456789abcdef");
}
END_TEST

/* The pipeline: a watch with nothing to answer yet waits, and says for what. */
START_TEST(test_a_watch_with_nothing_yet_waits)
{
	struct exchange ex;

	conf.auth.mode = AUTH_MODE_OFF;
	apply("config/p/x", 11);
	exchange_init(&ex);
	ex.req.method = "GET";
	ex.req.path = "/v1/watch";
	ex.req.query = "prefix=config/p/&since=11&timeout=5";
	api_handle(&ex);
	ck_assert_ptr_nonnull(ex.wait);
	ck_assert_int_eq(ex.res.status, 0);
	ck_assert_uint_eq(ex.wait->kind, WAIT_WATCH);
	ck_assert_str_eq(ex.wait->key, "config/p/");
	ck_assert_int_eq(ex.wait->since, 11);
	ck_assert_int_eq(ex.wait->seen, 11);
	ck_assert_int_ge(ex.wait->deadline_us - clock_monotonic_us(), 4000000);
	ck_assert_str_eq(ex.wait->request_id, ex.request_id);
	ck_assert_int_eq(wait_request_check(ex.wait), 0);
	exchange_free(&ex);
	/* With the change already in the log, or no time to wait: at once. */
	exchange_init(&ex);
	ex.req.method = "GET";
	ex.req.path = "/v1/watch";
	ex.req.query = "prefix=config/p/&since=10&timeout=5";
	api_handle(&ex);
	ck_assert_ptr_null(ex.wait);
	ck_assert_int_eq(ex.res.status, 200);
	exchange_free(&ex);
	exchange_init(&ex);
	ex.req.method = "GET";
	ex.req.path = "/v1/watch";
	ex.req.query = "prefix=config/p/&since=11&timeout=0";
	api_handle(&ex);
	ck_assert_ptr_null(ex.wait);
	ck_assert_int_eq(ex.res.status, 200);
	exchange_free(&ex);
	/* A front end with nowhere to hand it: 503, retry. */
	exchange_init(&ex);
	ex.req.method = "GET";
	ex.req.path = "/v1/watch";
	ex.req.query = "prefix=config/p/&since=11&timeout=5";
	api_handle(&ex);
	respond_wait_unavailable(&ex);
	ck_assert_ptr_null(ex.wait);
	ck_assert_int_eq(ex.res.status, 503);
	ck_assert_str_eq(response_header_get(&ex, "Retry-After"), "1");
	exchange_free(&ex);
}
END_TEST

Suite *
wait_suite(void)
{
	Suite *s = suite_create("wait");
	TCase *tc = tcase_create("room");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_a_change_under_the_prefix_wakes_only_its_watches);
	tcase_add_test(tc, test_changes_at_or_before_since_do_not_wake);
	tcase_add_test(tc, test_a_late_request_catches_up_with_what_it_missed);
	tcase_add_test(tc, test_the_deadline_answers_nothing_up_to_what_was_matched);
	tcase_add_test(tc, test_a_client_that_leaves_is_forgotten);
	tcase_add_test(tc, test_the_cap_refuses_with_429);
	tcase_add_test(tc, test_closing_answers_everything);
	tcase_add_test(tc, test_a_flood_of_changes_misses_nothing);
	tcase_add_test(tc, test_many_prefixes);
	tcase_add_test(tc, test_requests_from_another_process_are_checked);
	tcase_add_test(tc, test_a_watch_with_nothing_yet_waits);
	tcase_add_test(tc, test_a_waiting_request_keeps_who_asked);
	suite_add_tcase(s, tc);
	return s;
}
