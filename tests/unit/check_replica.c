/*
 * The replica's rules (src/replica.h): monotonic application, tombstones,
 * write-through skipped at or below the applied revision, the snapshot swap,
 * and the bounded event history behind /v1/watch.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/arena.h"
#include "store/replica.h"

#include "check_suites.h"

static char db_path[256];
static struct replica *replica;
static struct arena arena;

static void
setup(void)
{
	replica = test_replica_open("replica", db_path, sizeof(db_path));
	arena_init(&arena);
}

static void
teardown(void)
{
	test_replica_remove(replica, db_path);
	arena_free(&arena);
}

static struct replica_event
put_event(const char *key, const char *value, int64_t revision)
{
	struct replica_event e;

	memset(&e, 0, sizeof(e));
	e.row.key = key;
	e.row.value = value;
	e.row.value_len = strlen(value);
	e.row.create_revision = revision;
	e.row.mod_revision = revision;
	e.row.version = 1;
	return e;
}

static struct replica_event
delete_event(const char *key, int64_t revision)
{
	struct replica_event e = put_event(key, "", revision);

	e.deleted = 1;
	return e;
}

/* The value stored under key, or NULL. */
static const char *
value_of(const char *key)
{
	struct replica_row row;
	int found = replica_get(replica, key, &arena, &row);

	ck_assert_int_ne(found, -1);
	return found ? row.value : NULL;
}

START_TEST(test_events_apply_in_order)
{
	struct replica_event batch[] = {
		put_event("config/a", "1", 5),
		put_event("config/b", "2", 6),
		delete_event("config/a", 7),
	};
	int64_t applied;

	ck_assert_int_eq(replica_apply_events(replica, 7, batch, 3, 1000), 0);
	ck_assert_ptr_null(value_of("config/a"));
	ck_assert_str_eq(value_of("config/b"), "2");
	ck_assert_int_eq(replica_applied_revision(replica, &applied), 0);
	ck_assert_int_eq(applied, 7);
}
END_TEST

START_TEST(test_older_revision_never_overwrites)
{
	struct replica_event newer = put_event("config/k", "new", 10);
	struct replica_event older = put_event("config/k", "old", 8);

	ck_assert_int_eq(replica_write_through(replica, &newer), 0);
	ck_assert_int_eq(replica_write_through(replica, &older), 0);
	ck_assert_str_eq(value_of("config/k"), "new");
}
END_TEST

START_TEST(test_tombstone_blocks_late_put)
{
	struct replica_event del = delete_event("config/k", 12);
	struct replica_event late = put_event("config/k", "late", 11);

	ck_assert_int_eq(replica_write_through(replica, &del), 0);
	ck_assert_int_eq(replica_write_through(replica, &late), 0);
	ck_assert_ptr_null(value_of("config/k"));
}
END_TEST

START_TEST(test_write_through_at_or_below_applied_is_skipped)
{
	struct replica_event watched = put_event("config/w", "watched", 20);
	struct replica_event behind = put_event("config/x", "behind", 15);
	struct replica_event ahead = put_event("config/y", "ahead", 21);

	ck_assert_int_eq(replica_apply_events(replica, 20, &watched, 1, 1000), 0);
	ck_assert_int_eq(replica_write_through(replica, &behind), 0);
	ck_assert_int_eq(replica_write_through(replica, &ahead), 0);
	ck_assert_ptr_null(value_of("config/x"));
	ck_assert_str_eq(value_of("config/y"), "ahead");
}
END_TEST

START_TEST(test_snapshot_replaces_everything)
{
	struct replica_event stale = put_event("config/gone", "x", 3);
	struct replica_row rows[2];
	int64_t applied;

	ck_assert_int_eq(replica_apply_events(replica, 3, &stale, 1, 1000), 0);
	ck_assert(!replica_snapshot_complete(replica));
	memset(rows, 0, sizeof(rows));
	rows[0] = put_event("config/a", "A", 30).row;
	rows[1] = put_event("flags/default/f", "{}", 31).row;
	ck_assert_int_eq(replica_snapshot_begin(replica), 0);
	ck_assert_int_eq(replica_snapshot_add(replica, rows, 2), 0);
	ck_assert_int_eq(replica_snapshot_commit(replica, 40), 0);
	ck_assert(replica_snapshot_complete(replica));
	ck_assert_ptr_null(value_of("config/gone"));
	ck_assert_str_eq(value_of("config/a"), "A");
	ck_assert_int_eq(replica_applied_revision(replica, &applied), 0);
	ck_assert_int_eq(applied, 40);
}
END_TEST

/* updated_at of a row, which must exist. */
static int64_t
updated_at_of(const char *key)
{
	struct replica_row row;

	ck_assert_int_eq(replica_get(replica, key, &arena, &row), 1);
	return row.updated_at;
}

/* A resync must not move the time a revision was first seen. */
START_TEST(test_snapshot_keeps_first_seen_times)
{
	struct replica_event seen[] = {
		put_event("config/same", "s", 5),
		put_event("config/changed", "c", 6),
	};
	struct replica_row rows[3];

	seen[0].row.updated_at = 1000;
	seen[1].row.updated_at = 2000;
	ck_assert_int_eq(replica_apply_events(replica, 6, seen, 2, 1000), 0);
	memset(rows, 0, sizeof(rows));
	rows[0] = put_event("config/same", "s", 5).row;
	rows[1] = put_event("config/changed", "C", 9).row;
	rows[2] = put_event("config/new", "n", 8).row;
	rows[0].updated_at = rows[1].updated_at = rows[2].updated_at = 7000;
	ck_assert_int_eq(replica_snapshot_begin(replica), 0);
	ck_assert_int_eq(replica_snapshot_add(replica, rows, 3), 0);
	ck_assert_int_eq(replica_snapshot_commit(replica, 9), 0);
	ck_assert_int_eq(updated_at_of("config/same"), 1000);
	ck_assert_int_eq(updated_at_of("config/changed"), 7000);
	ck_assert_int_eq(updated_at_of("config/new"), 7000);
}
END_TEST

START_TEST(test_list_by_prefix_with_paging)
{
	struct replica_event batch[] = {
		put_event("config/app/a", "1", 2),
		put_event("config/app/b", "2", 3),
		put_event("config/app/c", "3", 4),
		put_event("config/apple", "4", 5),
		put_event("flags/default/x", "5", 6),
	};
	struct replica_row *rows;
	int64_t total;
	long n;

	ck_assert_int_eq(replica_apply_events(replica, 6, batch, 5, 1000), 0);
	n = replica_list(replica, "config/app/", 2, 1, &arena, &rows, &total);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(total, 3);
	ck_assert_str_eq(rows[0].key, "config/app/b");
	ck_assert_str_eq(rows[1].key, "config/app/c");
	n = replica_list(replica, "config/", 50, 0, &arena, &rows, &total);
	ck_assert_int_eq(n, 4);
}
END_TEST

START_TEST(test_history_is_bounded_and_floor_rises)
{
	struct replica_event *events;
	int64_t rev;
	long n;

	for (rev = 1; rev <= 150; rev++) {
		struct replica_event e = put_event("config/h", "v", rev);

		ck_assert_int_eq(replica_apply_events(replica, rev, &e, 1, 100), 0);
	}
	/* The newest 100 are kept: asking from before them is 410. */
	ck_assert_int_eq(replica_events_since(replica, "config/", 10, 1000, &arena,
	    &events), -2);
	n = replica_events_since(replica, "config/", 140, 1000, &arena, &events);
	ck_assert_int_eq(n, 10);
	ck_assert_int_eq(events[0].row.mod_revision, 141);
	ck_assert_int_eq(replica_events_since(replica, "flags/", 140, 1000, &arena,
	    &events), 0);
}
END_TEST

START_TEST(test_a_newer_schema_is_refused)
{
	char err[256];
	sqlite3 *db;

	replica_close(replica);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	replica = replica_open(db_path, err, sizeof(err));
	ck_assert_ptr_null(replica);
	ck_assert_msg(strstr(err, "made by a newer dynconf") != NULL, "%s", err);
	/* The teardown closes what setup opened: a fresh one. */
	unlink(db_path);
	replica = replica_open(db_path, err, sizeof(err));
	ck_assert_msg(replica != NULL, "%s", err);
}
END_TEST

/* replica_open on another thread, as another process would. */
static char meanwhile_err[256];

static void *
open_meanwhile(void *arg)
{
	(void)arg;
	return replica_open(db_path, meanwhile_err, sizeof(meanwhile_err));
}

/*
 * Two processes open a replica the version before left (schema 4) at
 * once: the one that reads the version while the other migrates waits for
 * its lock, then finds the migration done, and opens the replica rather
 * than failing on a column that is there already.
 */
START_TEST(test_a_migration_done_meanwhile_is_not_done_again)
{
	struct replica *other;
	pthread_t thread;
	void *opened;
	sqlite3 *db;

	replica_close(replica);
	replica = NULL;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DROP INDEX users_by_name;"
	    "DROP INDEX users_by_email; DROP INDEX users_by_age;"
	    "DROP INDEX users_by_created; DROP INDEX users_by_updated;"
	    "ALTER TABLE users DROP COLUMN name_sig;"
	    "ALTER TABLE users DROP COLUMN email_sig;"
	    "UPDATE meta SET value = 1 WHERE name = 'user_index';"
	    "PRAGMA user_version = 4;", NULL, NULL, NULL), SQLITE_OK);
	/* The other process migrates, holding the write lock meanwhile. */
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(pthread_create(&thread, NULL, open_meanwhile, NULL), 0);
	usleep(500000);
	ck_assert_int_eq(sqlite3_exec(db,
	    "ALTER TABLE users ADD COLUMN name_sig INTEGER NOT NULL DEFAULT 0;"
	    "ALTER TABLE users ADD COLUMN email_sig INTEGER NOT NULL DEFAULT 0;"
	    "PRAGMA user_version = 5; COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(pthread_join(thread, &opened), 0);
	other = opened;
	ck_assert_msg(other != NULL, "%s", meanwhile_err);
	replica = other;
}
END_TEST

START_TEST(test_reopen_keeps_schema_and_data)
{
	struct replica_event e = put_event("config/p", "persist", 9);
	char err[256];

	ck_assert_int_eq(replica_apply_events(replica, 9, &e, 1, 1000), 0);
	replica_close(replica);
	replica = replica_open(db_path, err, sizeof(err));
	ck_assert_msg(replica != NULL, "reopen: %s", err);
	ck_assert_str_eq(value_of("config/p"), "persist");
}
END_TEST

Suite *
replica_suite(void)
{
	Suite *s = suite_create("replica");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_events_apply_in_order);
	tcase_add_test(tc, test_older_revision_never_overwrites);
	tcase_add_test(tc, test_tombstone_blocks_late_put);
	tcase_add_test(tc, test_write_through_at_or_below_applied_is_skipped);
	tcase_add_test(tc, test_snapshot_replaces_everything);
	tcase_add_test(tc, test_snapshot_keeps_first_seen_times);
	tcase_add_test(tc, test_list_by_prefix_with_paging);
	tcase_add_test(tc, test_history_is_bounded_and_floor_rises);
	tcase_add_test(tc, test_reopen_keeps_schema_and_data);
	tcase_add_test(tc, test_a_newer_schema_is_refused);
	tcase_add_test(tc, test_a_migration_done_meanwhile_is_not_done_again);
	suite_add_tcase(s, tc);
	return s;
}
