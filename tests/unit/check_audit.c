/*
 * The replica's audit table (store/audit_index.h): rows derived from the
 * records and the events of each revision, as the watcher and a
 * write-through apply them; actors for changes without a record (etcd, a
 * lease), renewals left out; records that go take their rows; the rebuild
 * after a snapshot; the prune; the list's filters, order and paging.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/arena.h"
#include "base/util.h"
#include "store/audit.h"
#include "store/audit_index.h"
#include "store/replica.h"

#include "check_suites.h"

static char db_path[256];
static struct replica *replica;
static struct arena arena;

static void
setup(void)
{
	replica = test_replica_open("audit", db_path, sizeof(db_path));
	arena_init(&arena);
}

static void
teardown(void)
{
	test_replica_remove(replica, db_path);
	arena_free(&arena);
}

/* A put at revision; created says whether it made the key. */
static struct replica_event
put(const char *key, const char *value, int64_t revision, int64_t prev)
{
	struct replica_event e;

	memset(&e, 0, sizeof(e));
	e.row.key = key;
	e.row.value = value;
	e.row.value_len = strlen(value);
	e.row.create_revision = prev > 0 ? prev : revision;
	e.row.mod_revision = revision;
	e.row.version = 1;
	e.row.updated_at = 1000000;
	e.prev_known = 1;
	e.prev_revision = prev;
	return e;
}

static struct replica_event
del(const char *key, int64_t revision, int64_t prev)
{
	struct replica_event e = put(key, "", revision, prev);

	e.deleted = 1;
	return e;
}

/*
 * The text of the record at key, by actor, request id and ops as JSON: at
 * the time its key names, as dynconf writes them.
 */
static const char *
record(const char *key, const char *actor, const char *rid, const char *ops)
{
	const char *time = key + strlen(AUDIT_FOLDER);

	return arena_printf(&arena, "{\"actor\":\"%s\",\"actor_kind\":\"token\","
	    "\"token_id\":\"0123456789abcdef\",\"request_id\":\"%s\",\"time\":"
	    "\"%.27s\",\"ops\":%s}", actor, rid, time, ops);
}

static void
apply(struct replica_event *events, size_t count, int64_t revision)
{
	ck_assert_int_eq(replica_apply_events(replica, revision, events, count, 10000), 0);
}

/* Every row, newest first, with the filters of q. */
static long
list(struct audit_query *q, struct audit_row **rows, int64_t *total)
{
	long n;

	if (q->limit == 0)
		q->limit = 1000;
	n = replica_audit_list(replica, q, &arena, rows, total);
	ck_assert_int_ge(n, 0);
	return n;
}

static long
all(struct audit_row **rows)
{
	struct audit_query q;
	int64_t total;
	long n;

	memset(&q, 0, sizeof(q));
	n = list(&q, rows, &total);
	ck_assert_int_eq(total, n);	/* the kept count is every row */
	return n;
}

START_TEST(test_record_names_the_actor)
{
	struct replica_event ev[3];
	struct audit_row *rows;

	ev[0] = put("config/app/x", "1", 5, 0);
	ev[1] = put("index/users/email/a", "u", 5, 0);
	ev[2] = put("audit/2026-11-22T10:00:00.250000Z-r1", record("audit/2026-11-22T10:00:00.250000Z-r1", "ci", "r1",
	    "[{\"key\":\"config/app/x\",\"action\":\"put\"}]"), 5, 0);
	apply(ev, 3, 5);
	ck_assert_int_eq(all(&rows), 1);
	ck_assert_int_eq(rows[0].revision, 5);
	ck_assert_int_eq(rows[0].old_revision, 0);
	ck_assert_str_eq(rows[0].resource, "config");
	ck_assert_str_eq(rows[0].key, "app/x");
	ck_assert_str_eq(rows[0].action, "create");
	ck_assert_str_eq(rows[0].actor, "ci");
	ck_assert_str_eq(rows[0].actor_kind, "token");
	ck_assert_str_eq(rows[0].token_id, "0123456789abcdef");
	ck_assert_str_eq(rows[0].request_id, "r1");
	ck_assert(rows[0].time_us == 1795341600LL * 1000000 + 250000);
	/* An update, then a delete: old revisions from what etcd said before. */
	ev[0] = put("config/app/x", "2", 7, 5);
	ev[1] = put("audit/2026-11-22T10:00:01.000000Z-r2", record("audit/2026-11-22T10:00:01.000000Z-r2", "ci", "r2",
	    "[{\"key\":\"config/app/x\",\"action\":\"put\"}]"), 7, 0);
	apply(ev, 2, 7);
	ev[0] = del("config/app/x", 9, 7);
	ev[1] = put("audit/2026-11-22T10:00:02.000000Z-r3", record("audit/2026-11-22T10:00:02.000000Z-r3", "ops", "r3",
	    "[{\"key\":\"config/app/x\",\"action\":\"delete\"}]"), 9, 0);
	apply(ev, 2, 9);
	ck_assert_int_eq(all(&rows), 3);
	ck_assert_str_eq(rows[0].action, "delete");
	ck_assert_int_eq(rows[0].old_revision, 7);
	ck_assert_str_eq(rows[0].actor, "ops");
	ck_assert_str_eq(rows[1].action, "update");
	ck_assert_int_eq(rows[1].old_revision, 5);
	ck_assert_str_eq(rows[2].action, "create");
}
END_TEST

START_TEST(test_without_a_record)
{
	struct replica_event ev[2];
	struct audit_row *rows;

	/* By hand: etcd's, first seen here. */
	ev[0] = put("flags/prod/f", "{}", 4, 0);
	apply(ev, 1, 4);
	ev[0] = put("flags/prod/f", "{}", 6, 4);
	apply(ev, 1, 6);
	/* A key on a lease deleted without a record: the lease's. */
	ev[0] = put("services/web/1", "{}", 8, 0);
	ev[0].row.lease = 77;
	apply(ev, 1, 8);
	ev[0] = del("services/web/1", 10, 8);
	ev[0].prev_lease = 77;
	apply(ev, 1, 10);
	ck_assert_int_eq(all(&rows), 4);
	ck_assert_str_eq(rows[0].actor, "lease");
	ck_assert_str_eq(rows[0].actor_kind, "lease");
	ck_assert_str_eq(rows[0].action, "delete");
	ck_assert_int_eq(rows[0].old_revision, 8);
	ck_assert_ptr_null(rows[0].request_id);
	ck_assert_str_eq(rows[1].actor, "etcd");	/* the put on a new lease */
	ck_assert_str_eq(rows[2].actor, "etcd");
	ck_assert_str_eq(rows[2].action, "update");
	ck_assert_int_eq(rows[2].old_revision, 4);
	ck_assert_str_eq(rows[3].action, "create");
	ck_assert(rows[3].time_us == 1000000);		/* first seen */
}
END_TEST

START_TEST(test_renewals_and_noops_are_left_out)
{
	struct replica_event ev[2];
	struct audit_row *rows;

	ev[0] = put("services/web/1", "{\"a\":1}", 3, 0);
	ev[0].row.lease = 5;
	apply(ev, 1, 3);
	/* Rewritten on the lease it was on, without a record: a heartbeat. */
	ev[0] = put("services/web/1", "{\"a\":2}", 4, 3);
	ev[0].row.lease = 5;
	ev[0].prev_lease = 5;
	apply(ev, 1, 4);
	ck_assert_int_eq(all(&rows), 1);
	ck_assert_int_eq(rows[0].revision, 3);
	/* With a record, the same rewrite is listed (a verb, say). */
	ev[0] = put("services/web/1", "{\"a\":3}", 7, 4);
	ev[0].row.lease = 5;
	ev[0].prev_lease = 5;
	ev[1] = put("audit/2026-11-22T10:00:00.000000Z-r", record("audit/2026-11-22T10:00:00.000000Z-r", "svc", "r",
	    "[{\"key\":\"services/web/1\",\"action\":\"update\"}]"), 7, 0);
	apply(ev, 2, 7);
	ck_assert_int_eq(all(&rows), 2);
	ck_assert_str_eq(rows[0].actor, "svc");
}
END_TEST

START_TEST(test_verbs_and_prefixes)
{
	struct replica_event ev[4];
	struct audit_row *rows;

	ev[0] = put("locks/l", "{}", 3, 0);
	ev[1] = put("audit/2026-11-22T10:00:00.000000Z-a", record("audit/2026-11-22T10:00:00.000000Z-a", "w", "a",
	    "[{\"key\":\"locks/l\",\"action\":\"acquire\"}]"), 3, 0);
	apply(ev, 2, 3);
	/* A cascade: the prefix's action for every key under it. */
	ev[0] = del("flags/e/a", 5, 2);
	ev[1] = del("flags/e/b", 5, 4);
	ev[2] = del("environments/e", 5, 1);
	ev[3] = put("audit/2026-11-22T10:00:01.000000Z-b", record("audit/2026-11-22T10:00:01.000000Z-b", "w", "b",
	    "[{\"key\":\"flags/e/\",\"action\":\"delete\",\"prefix\":true},"
	    "{\"key\":\"environments/e\",\"action\":\"delete\"}]"), 5, 0);
	apply(ev, 4, 5);
	ck_assert_int_eq(all(&rows), 4);
	ck_assert_str_eq(rows[3].action, "acquire");
	ck_assert_str_eq(rows[0].key, "e/b");
	ck_assert_str_eq(rows[1].key, "e/a");
	ck_assert_int_eq(rows[1].old_revision, 2);
	ck_assert_str_eq(rows[2].resource, "environments");
	ck_assert_str_eq(rows[0].request_id, "b");
}
END_TEST

START_TEST(test_a_bad_record_counts_as_none)
{
	struct replica_event ev[2];
	struct audit_row *rows;
	static const char *const bad[] = { "not json", "[]", "{\"actor\":\"x\"}",
	    "{\"actor\":\"\",\"time\":\"2026-11-22T10:00:00Z\",\"ops\":[]}",
	    "{\"actor\":\"x\",\"time\":\"yesterday\",\"ops\":[]}",
	    "{\"actor\":\"x\",\"time\":\"2026-11-22T10:00:00Z\",\"ops\":[{\"key\":1}]}" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ev[0] = put("config/k", "1", 2 + (int64_t)i, i > 0 ? 1 + (int64_t)i : 0);
		ev[1] = put(arena_printf(&arena, "audit/x%zu", i), bad[i], 2 + (int64_t)i, 0);
		apply(ev, 2, 2 + (int64_t)i);
	}
	ck_assert_int_eq(all(&rows), (long)ARRAY_SIZE(bad));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_str_eq(rows[i].actor, "etcd");
}
END_TEST

START_TEST(test_write_through_then_watcher)
{
	struct replica_event ev[2];
	struct audit_row *rows;

	ev[0] = put("config/k", "1", 2, 0);
	apply(ev, 1, 2);
	/* A responder writes its change through, knowing what was before. */
	ev[0] = put("config/k", "2", 4, 2);
	ck_assert_int_eq(replica_write_through_all(replica, ev, 1), 0);
	ck_assert_int_eq(all(&rows), 1);	/* rows come from the watcher */
	/* The watcher brings it with its record, finds the row there already. */
	ev[0].prev_known = 0;
	ev[0].prev_revision = 0;
	ev[1] = put("audit/2026-11-22T10:00:00.000000Z-w", record("audit/2026-11-22T10:00:00.000000Z-w", "me", "w",
	    "[{\"key\":\"config/k\",\"action\":\"put\"}]"), 4, 0);
	ev[1].prev_known = 0;
	apply(ev, 2, 4);
	ck_assert_int_eq(all(&rows), 2);
	ck_assert_str_eq(rows[0].actor, "me");
	ck_assert_str_eq(rows[0].action, "update");
	ck_assert_int_eq(rows[0].old_revision, 2);
	/* Again (a resync): no second row. */
	apply(ev, 2, 4);
	ck_assert_int_eq(all(&rows), 2);
}
END_TEST

/*
 * A later change written through before the watcher brought an earlier
 * one (made on another node): the earlier one's old revision is unknown,
 * never wrong.
 */
START_TEST(test_a_replica_ahead_knows_no_old_revision)
{
	struct replica_event ev[1];
	struct audit_row *rows;

	ev[0] = put("config/k", "1", 2, 0);
	apply(ev, 1, 2);
	ev[0] = put("config/k", "3", 6, 4);	/* etcd said: 4 before it */
	ck_assert_int_eq(replica_write_through_all(replica, ev, 1), 0);
	ev[0] = put("config/k", "2", 4, 0);
	ev[0].prev_known = 0;
	apply(ev, 1, 4);
	ev[0] = put("config/k", "3", 6, 0);
	ev[0].prev_known = 0;
	apply(ev, 1, 6);
	ck_assert_int_eq(all(&rows), 3);
	ck_assert_int_eq(rows[0].revision, 6);
	ck_assert_int_eq(rows[0].old_revision, 4);
	ck_assert_int_eq(rows[1].revision, 4);
	ck_assert_int_eq(rows[1].old_revision, 0);
	ck_assert_int_eq(rows[2].revision, 2);
}
END_TEST

START_TEST(test_a_record_that_goes_takes_its_rows)
{
	struct replica_event ev[3];
	struct audit_row *rows;
	/* Its key names its time, as dynconf writes them. */
	const char *rkey = "audit/2026-11-22T10:00:00.250000Z-g";
	struct replica_row kept;

	ev[0] = put("config/a", "1", 3, 0);
	ev[1] = put("config/b", "1", 3, 0);
	ev[2] = put(rkey, record(rkey, "me", "g", "[{\"key\":\"config/a\",\"action\":"
	    "\"put\"},{\"key\":\"config/b\",\"action\":\"put\"}]"), 3, 0);
	apply(ev, 3, 3);
	/* The replica keeps the record's rows, not the record. */
	ck_assert_int_eq(replica_get(replica, rkey, &arena, &kept), 0);
	ev[0] = put("config/a", "2", 4, 3);
	apply(ev, 1, 4);
	ck_assert_int_eq(all(&rows), 3);
	/* Its lease lapsed: etcd deleted the record. */
	ev[0] = del(rkey, 5, 3);
	ev[0].prev_lease = 9;
	apply(ev, 1, 5);
	ck_assert_int_eq(all(&rows), 1);
	ck_assert_str_eq(rows[0].actor, "etcd");
}
END_TEST

/* A snapshot of rows (in key order), swapped in at revision. */
static void
snapshot(const struct replica_row *rows, size_t n, int64_t revision)
{
	ck_assert_int_eq(replica_snapshot_begin(replica), 0);
	ck_assert_int_eq(replica_snapshot_add(replica, rows, n), 0);
	ck_assert_int_eq(replica_snapshot_commit(replica, revision), 0);
}

static struct replica_row
row(const char *key, const char *value, int64_t create, int64_t mod)
{
	struct replica_row r;

	memset(&r, 0, sizeof(r));
	r.key = key;
	r.value = value;
	r.value_len = strlen(value);
	r.create_revision = create;
	r.mod_revision = mod;
	r.version = 1;
	return r;
}

START_TEST(test_rebuild_from_a_snapshot)
{
	struct replica_event ev[2];
	struct replica_row snap[6], kept;
	struct audit_row *rows;
	const char *gone = "audit/2026-11-22T09:00:00.000000Z-gone";

	/* Seen live: a record, and a change by hand. */
	ev[0] = put("config/old", "1", 2, 0);
	ev[1] = put(gone, record(gone, "me", "gone", "[{\"key\":\"config/old\","
	    "\"action\":\"put\"}]"), 2, 0);
	apply(ev, 2, 2);
	ev[0] = put("config/hand", "1", 3, 0);
	apply(ev, 1, 3);
	ck_assert_int_eq(all(&rows), 2);
	/*
	 * The snapshot: that record is gone; three others, for a key created
	 * at its revision (live still), one that lived before (update), one
	 * deleted since (unknown: put), and a prefix delete naming its keys.
	 */
	snap[0] = row("audit/2026-11-22T10:00:00.000000Z-a", record("audit/2026-11-22T10:00:00.000000Z-a", "a", "ra",
	    "[{\"key\":\"config/new\",\"action\":\"put\"}]"), 10, 10);
	snap[1] = row("audit/2026-11-22T10:00:01.000000Z-b", record("audit/2026-11-22T10:00:01.000000Z-b", "b", "rb",
	    "[{\"key\":\"config/lived\",\"action\":\"put\"},{\"key\":\"config/"
	    "gone\",\"action\":\"put\"}]"), 11, 11);
	snap[2] = row("audit/2026-11-22T10:00:02.000000Z-c", record("audit/2026-11-22T10:00:02.000000Z-c", "c", "rc",
	    "[{\"key\":\"flags/e/\",\"action\":\"delete\",\"prefix\":true},"
	    "{\"key\":\"flags/e/x\",\"action\":\"delete\"},{\"key\":"
	    "\"index/sdk_keys/h\",\"action\":\"delete\"}]"), 12, 12);
	snap[3] = row("config/lived", "1", 5, 11);
	snap[4] = row("config/new", "1", 10, 10);
	snap[5] = row("config/hand", "1", 3, 3);
	snapshot(snap, 6, 12);
	ck_assert_int_eq(all(&rows), 5);
	ck_assert_str_eq(rows[0].key, "e/x");
	ck_assert_str_eq(rows[0].action, "delete");
	ck_assert_int_eq(rows[0].old_revision, 0);	/* unknown */
	ck_assert_str_eq(rows[1].key, "lived");
	ck_assert_str_eq(rows[1].action, "update");
	ck_assert_str_eq(rows[2].key, "gone");
	ck_assert_str_eq(rows[2].action, "put");
	ck_assert_str_eq(rows[3].key, "new");
	ck_assert_str_eq(rows[3].action, "create");
	ck_assert_str_eq(rows[3].actor, "a");
	/* The change by hand was only ever known here: it stays. */
	ck_assert_str_eq(rows[4].key, "hand");
	ck_assert_str_eq(rows[4].actor, "etcd");
	ck_assert_int_eq(replica_get(replica, snap[0].key, &arena, &kept), 0);
	ck_assert_int_eq(replica_get(replica, "config/new", &arena, &kept), 1);
	/* Again: nothing changes, nothing doubles. */
	snapshot(snap, 6, 12);
	ck_assert_int_eq(all(&rows), 5);
}
END_TEST

/*
 * A record is believed only under the key dynconf writes it at, which
 * names its time: its rows are found by that time when it goes. One put
 * by hand under another key (no time, another time) would keep its rows
 * on a node that saw it after it went, and no other node would list them.
 */
START_TEST(test_a_record_under_a_key_without_its_time_counts_as_none)
{
	static const char *const keys[] = { "audit/by-hand",
	    "audit/2026-11-22T11:00:00.000000Z-other", "audit/2026-11-22T10:00:00.250000Z",
	    "audit/2026-11-22T10:00:00.250000Zr", "audit/2026-11-22T10:00:00.25Z-short" };
	const char *text = record("audit/2026-11-22T10:00:00.250000Z-r", "forger", "r",
	    "[{\"key\":\"config/k\",\"action\":\"update\"}]");
	struct replica_event ev[2];
	struct replica_row snap[2];
	struct audit_row *rows;
	int64_t rev;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		rev = 2 + 2 * (int64_t)i;
		ev[0] = put("config/k", "1", rev, i > 0 ? rev - 1 : 0);
		ev[1] = put(keys[i], text, rev, 0);
		apply(ev, 2, rev);
		ev[0] = del(keys[i], rev + 1, rev);
		apply(ev, 1, rev + 1);
	}
	ck_assert_int_eq(all(&rows), (long)ARRAY_SIZE(keys));
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		ck_assert_str_eq(rows[i].actor, "etcd");
	/* A node that starts from a snapshot holding one lists nothing of it. */
	snap[0] = row(keys[1], text, 20, 20);
	snap[1] = row("config/k", "1", 2, 20);
	snapshot(snap, 2, 20);
	ck_assert_int_eq(all(&rows), (long)ARRAY_SIZE(keys));
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		ck_assert_str_ne(rows[i].actor, "forger");
}
END_TEST

START_TEST(test_prune_drops_old_rows_without_a_record)
{
	struct replica_event ev[2];
	struct audit_row *rows;

	ev[0] = put("config/hand", "1", 2, 0);
	ev[0].row.updated_at = 100;
	apply(ev, 1, 2);
	ev[0] = put("config/hand", "2", 3, 2);
	ev[0].row.updated_at = 5000;
	apply(ev, 1, 3);
	ev[0] = put("config/api", "1", 4, 0);
	ev[1] = put("audit/2000-01-01T00:00:00.000000Z-r", record("audit/2000-01-01T00:00:00.000000Z-r", "me", "r",
	    "[{\"key\":\"config/api\",\"action\":\"put\"}]"), 4, 0);
	apply(ev, 2, 4);
	ck_assert_int_eq(replica_audit_prune(replica, 1000), 0);
	/* The old recorded one stays: its record's lease ends it. */
	ck_assert_int_eq(all(&rows), 2);
	ck_assert_int_eq(rows[0].revision, 4);
	ck_assert_int_eq(rows[1].revision, 3);
}
END_TEST

/* Run sql on the replica's file through a connection of its own. */
static void
exec_on_file(const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* An apply that fails half way leaves the kept row count as it was. */
START_TEST(test_a_failed_apply_keeps_the_count)
{
	struct replica_event ev[2];
	struct audit_row *rows;

	ev[0] = put("config/a", "1", 2, 0);
	apply(ev, 1, 2);
	exec_on_file("CREATE TRIGGER boom BEFORE INSERT ON audit WHEN NEW.name = 'boom'"
	    " BEGIN SELECT RAISE(ABORT, 'injected'); END;");
	ev[0] = put("config/b", "1", 3, 0);
	ev[1] = put("config/boom", "1", 3, 0);
	ck_assert_int_eq(replica_apply_events(replica, 3, ev, 2, 10000), -1);
	exec_on_file("DROP TRIGGER boom;");
	ev[0] = put("config/b", "1", 3, 0);
	ev[1] = put("config/boom", "1", 3, 0);
	apply(ev, 2, 3);
	ck_assert_int_eq(all(&rows), 3);	/* and the count says 3 */
}
END_TEST

START_TEST(test_list_filters_and_pages)
{
	struct replica_event ev[2];
	struct audit_query q;
	struct audit_row *rows;
	int64_t total, rev;
	long n;

	/* Revisions 2..21: config/k0..k4 and flags/p/f by turns, two actors. */
	for (rev = 2; rev <= 21; rev++) {
		const char *key = rev % 4 == 0 ? "flags/p/f" :
		    arena_printf(&arena, "config/a/k%lld", (long long)(rev % 5));
		const char *rkey = arena_printf(&arena, "audit/2026-11-22T10:00:"
		    "%02lld.000000Z-r%lld", (long long)rev, (long long)rev);

		ev[0] = put(key, "1", rev, 0);
		ev[1] = put(rkey, arena_printf(&arena, "{\"actor\":\"%s\",\"time\":"
		    "\"2026-11-22T10:00:%02lldZ\",\"ops\":[{\"key\":\"%s\",\"action\":"
		    "\"put\"}]}", rev % 2 ? "odd" : "even", (long long)rev, key), rev, 0);
		apply(ev, 2, rev);
	}
	memset(&q, 0, sizeof(q));
	q.limit = 5;
	q.offset = 3;
	n = list(&q, &rows, &total);
	ck_assert_int_eq(total, 20);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(rows[0].revision, 18);
	ck_assert_int_eq(rows[4].revision, 14);
	memset(&q, 0, sizeof(q));
	q.resource = "flags";
	n = list(&q, &rows, &total);
	ck_assert_int_eq(total, 5);
	ck_assert_int_eq(rows[0].revision, 20);
	memset(&q, 0, sizeof(q));
	q.resource = "config";
	q.key = "a/k1";
	n = list(&q, &rows, &total);
	ck_assert_int_eq(total, n);
	for (long i = 0; i < n; i++)
		ck_assert_str_eq(rows[i].key, "a/k1");
	q.key = "a/";
	list(&q, &rows, &total);
	ck_assert_int_eq(total, 15);
	q.key = "a/k";		/* no '/' at the end: a key, not a prefix */
	list(&q, &rows, &total);
	ck_assert_int_eq(total, 0);
	memset(&q, 0, sizeof(q));
	q.actor = "odd";
	q.since_revision = 15;
	n = list(&q, &rows, &total);
	ck_assert_int_eq(total, 3);	/* 17, 19, 21 */
	ck_assert_int_eq(rows[0].revision, 21);
	ck_assert_int_eq(rows[2].revision, 17);
	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(parse_rfc3339("2026-11-22T10:00:19Z", &q.since_us), 0);
	list(&q, &rows, &total);
	ck_assert_int_eq(total, 3);	/* 19, 20, 21: at or after */
	q.limit = 1;
	q.offset = 100;
	ck_assert_int_eq(list(&q, &rows, &total), 0);
	ck_assert_int_eq(total, 3);
}
END_TEST

Suite *
audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_record_names_the_actor);
	tcase_add_test(tc, test_without_a_record);
	tcase_add_test(tc, test_renewals_and_noops_are_left_out);
	tcase_add_test(tc, test_verbs_and_prefixes);
	tcase_add_test(tc, test_a_bad_record_counts_as_none);
	tcase_add_test(tc, test_a_record_under_a_key_without_its_time_counts_as_none);
	tcase_add_test(tc, test_write_through_then_watcher);
	tcase_add_test(tc, test_a_replica_ahead_knows_no_old_revision);
	tcase_add_test(tc, test_a_record_that_goes_takes_its_rows);
	tcase_add_test(tc, test_rebuild_from_a_snapshot);
	tcase_add_test(tc, test_prune_drops_old_rows_without_a_record);
	tcase_add_test(tc, test_list_filters_and_pages);
	tcase_add_test(tc, test_a_failed_apply_keeps_the_count);
	suite_add_tcase(s, tc);
	return s;
}
