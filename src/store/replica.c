/*
 * The local SQLite replica; see replica.h for the rules it keeps.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "base/arena.h"
#include "base/log.h"
#include "base/util.h"
#include "store/audit.h"
#include "store/audit_index.h"
#include "store/replica.h"
#include "store/replica_impl.h"
#include "store/sql.h"
#include "store/user_index.h"

/* Each entry moves the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE kv ("
	"  key TEXT PRIMARY KEY,"
	"  value BLOB NOT NULL,"
	"  create_revision INTEGER NOT NULL,"
	"  mod_revision INTEGER NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  lease INTEGER NOT NULL,"
	"  deleted INTEGER NOT NULL DEFAULT 0,"
	"  updated_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX kv_tombstones ON kv(mod_revision) WHERE deleted = 1;"
	"CREATE TABLE events ("
	"  seq INTEGER PRIMARY KEY,"
	"  revision INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  deleted INTEGER NOT NULL,"
	"  value BLOB NOT NULL,"
	"  create_revision INTEGER NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  lease INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE INDEX events_revision ON events(revision);"
	"CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta VALUES ('applied_revision', 0), ('snapshot_complete', 0),"
	"  ('history_floor', 0);",
	user_index_schema,
	audit_index_schema,
	/*
	 * What etcd said the key was before the change at mod_revision, as
	 * its writer knew it (the audit trail's old revision): NULL, unknown.
	 */
	"ALTER TABLE kv ADD COLUMN prev_revision INTEGER;"
	"ALTER TABLE kv ADD COLUMN prev_lease INTEGER;",
	user_index_signatures_schema,
};

static const char *const statement_sql[ST_COUNT_ALL] = {
	[ST_GET] = "SELECT value, create_revision, mod_revision, version, lease,"
	    " updated_at FROM kv WHERE key = ?1 AND deleted = 0",
	[ST_PREV] = "SELECT mod_revision, lease, deleted, prev_revision, prev_lease"
	    " FROM kv WHERE key = ?1",
	[ST_LIST] = "SELECT key, value, create_revision, mod_revision, version,"
	    " lease, updated_at FROM kv WHERE key >= ?1 AND key < ?2 AND deleted = 0"
	    " ORDER BY key LIMIT ?3 OFFSET ?4",
	[ST_COUNT] = "SELECT count(*) FROM kv WHERE key >= ?1 AND key < ?2"
	    " AND deleted = 0",
	[ST_UPSERT] = "INSERT INTO kv (key, value, create_revision, mod_revision,"
	    " version, lease, deleted, updated_at, prev_revision, prev_lease)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9)"
	    " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
	    " create_revision = excluded.create_revision,"
	    " mod_revision = excluded.mod_revision, version = excluded.version,"
	    " lease = excluded.lease, deleted = 0, updated_at = excluded.updated_at,"
	    " prev_revision = excluded.prev_revision, prev_lease = excluded.prev_lease"
	    " WHERE excluded.mod_revision > kv.mod_revision",
	[ST_TOMBSTONE] = "INSERT INTO kv (key, value, create_revision, mod_revision,"
	    " version, lease, deleted, updated_at, prev_revision, prev_lease)"
	    " VALUES (?1, x'', 0, ?2, 0, 0, 1, ?3, ?4, ?5)"
	    " ON CONFLICT (key) DO UPDATE SET value = x'', deleted = 1,"
	    " mod_revision = excluded.mod_revision, updated_at = excluded.updated_at,"
	    " prev_revision = excluded.prev_revision, prev_lease = excluded.prev_lease"
	    " WHERE excluded.mod_revision > kv.mod_revision",
	[ST_PURGE] = "DELETE FROM kv WHERE deleted = 1 AND mod_revision <= ?1",
	[ST_META_GET] = "SELECT value FROM meta WHERE name = ?1",
	[ST_META_SET] = "INSERT INTO meta (name, value) VALUES (?1, ?2)"
	    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
	[ST_EVENT_ADD] = "INSERT INTO events (revision, key, deleted, value,"
	    " create_revision, version, lease, updated_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	/* seq grows by one per event: the cut is found by rowid, not by an OFFSET scan. */
	[ST_EVENT_TRIM_POINT] = "SELECT seq, revision FROM events WHERE seq <="
	    " (SELECT max(seq) FROM events) - ?1 ORDER BY seq DESC LIMIT 1",
	[ST_EVENT_TRIM] = "DELETE FROM events WHERE seq <= ?1",
	[ST_EVENTS_SINCE] = "SELECT key, deleted, value, create_revision, revision,"
	    " version, lease, updated_at FROM events WHERE revision > ?1"
	    " AND key >= ?2 AND key < ?3 ORDER BY seq LIMIT ?4",
	[ST_SNAP_ADD] = "INSERT OR REPLACE INTO temp.snapshot (key, value,"
	    " create_revision, mod_revision, version, lease, deleted, updated_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
	[ST_SCAN] = "SELECT key, value, create_revision, mod_revision, version,"
	    " lease, updated_at FROM kv WHERE deleted = 0 ORDER BY key",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

void
replica_log_error(struct replica *r, const char *what)
{
	log_error("%s: %s: %s", r->who, what, sqlite3_errmsg(r->db));
}

/* Prepared lazily: ST_SNAP_ADD needs the temp table to exist first. */
sqlite3_stmt *
replica_stmt(struct replica *r, enum statement which)
{
	return sql_prepared(r->db, &r->stmt[which], statement_sql[which], r->who);
}

/* Run a statement that returns no rows; 0 or -1. */
int
replica_exec(struct replica *r, sqlite3_stmt *s)
{
	return sql_run(s, r->who);
}

int
replica_begin(struct replica *r)
{
	return replica_exec(r, replica_stmt(r, ST_BEGIN));
}

int
replica_commit(struct replica *r)
{
	return replica_exec(r, replica_stmt(r, ST_COMMIT));
}

void
replica_rollback(struct replica *r)
{
	if (!sqlite3_get_autocommit(r->db))
		replica_exec(r, replica_stmt(r, ST_ROLLBACK));
}

int
replica_meta_get(struct replica *r, const char *name, int64_t *value)
{
	sqlite3_stmt *s = replica_stmt(r, ST_META_GET);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*value = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
replica_meta_set(struct replica *r, const char *name, int64_t value)
{
	sqlite3_stmt *s = replica_stmt(r, ST_META_SET);

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, value);
	return replica_exec(r, s);
}

/* PRAGMA user_version, the schema's version, in *version: 0, or -1. */
static int
schema_version(struct replica *r, int *version, char *err, size_t errlen)
{
	sqlite3_stmt *s;

	*version = 0;
	if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

/*
 * A newer dynconf's replica may keep derived tables this one would keep
 * wrong (users' signatures): it is only a copy of etcd, so say so rather
 * than use it.
 */
static int
schema_known(struct replica *r, int version, char *err, size_t errlen)
{
	if (version >= 0 && (size_t)version <= ARRAY_SIZE(migrations))
		return 1;
	snprintf(err, errlen, "%s: made by a newer dynconf (schema %d, this one"
	    " knows %zu): remove it, and it is made again from etcd", r->path,
	    version, ARRAY_SIZE(migrations));
	return 0;
}

/*
 * Each step reads the version again under the write lock: another process
 * opening the replica at the same time may have made it meanwhile (its
 * ALTER TABLE, made twice, would fail).
 */
static int
migrate(struct replica *r, char *err, size_t errlen)
{
	char *msg = NULL;
	int version;

	if (schema_version(r, &version, err, errlen) == -1 ||
	    !schema_known(r, version, err, errlen))
		return -1;
	while ((size_t)version < ARRAY_SIZE(migrations)) {
		char pragma[64];

		if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
			goto fail;
		if (schema_version(r, &version, err, errlen) == -1 ||
		    !schema_known(r, version, err, errlen)) {
			sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if ((size_t)version == ARRAY_SIZE(migrations)) {
			/* Made meanwhile by another process: nothing left. */
			sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
			break;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;",
		    version + 1);
		if (sqlite3_exec(r->db, migrations[version], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(r->db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(r->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
			goto fail;
		version++;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: migration %d: %s", r->path, version + 1,
	    msg ? msg : "failed");
	sqlite3_free(msg);
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * SQLite's own busy timeout sleeps in growing steps (up to 100 ms); the
 * write lock here is held for a row or two, so a waiter that dozes that
 * long only adds latency. Wait in short steps instead, 5 s at the most.
 */
#define BUSY_STEP_US 200
#define BUSY_LIMIT_US 5000000

static int
busy_wait(void *arg, int attempts)
{
	struct timespec step = { 0, BUSY_STEP_US * 1000 };

	(void)arg;
	if ((int64_t)attempts * BUSY_STEP_US >= BUSY_LIMIT_US)
		return 0;
	nanosleep(&step, NULL);
	return 1;
}

/*
 * A replica made before the users index, or by a version that derived it
 * otherwise, has it built from its rows once (whichever process opens it
 * first; the others then find it current).
 */
static int
users_index_ready(struct replica *r, char *err, size_t errlen)
{
	if (user_index_current(r->users))
		return 0;
	if (replica_begin(r) == -1)
		goto fail;
	if (!user_index_current(r->users) && user_index_rebuild(r->users) == -1)
		goto fail;
	if (replica_commit(r) == 0)
		return 0;
fail:
	replica_rollback(r);
	snprintf(err, errlen, "%s: cannot build the users index: %s", r->path,
	    sqlite3_errmsg(r->db));
	return -1;
}

struct replica *
replica_open(const char *path, char *err, size_t errlen)
{
	static const char pragmas[] = "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = NORMAL;";
	struct replica *r = xcalloc(1, sizeof(*r));

	snprintf(r->path, sizeof(r->path), "%s", path);
	snprintf(r->who, sizeof(r->who), "replica %s", path);
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		    r->db ? sqlite3_errmsg(r->db) : "cannot open");
		goto fail;
	}
	/* Writers from several processes queue for the lock instead of failing. */
	sqlite3_busy_handler(r->db, busy_wait, NULL);
	if (sqlite3_exec(r->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(r->db));
		goto fail;
	}
	if (migrate(r, err, errlen) == -1)
		goto fail;
	r->users = user_index_open(r->db);
	r->audit = audit_index_open(r->db);
	if (users_index_ready(r, err, errlen) == -1)
		goto fail;
	return r;
fail:
	replica_close(r);
	return NULL;
}

void
replica_close(struct replica *r)
{
	size_t i;

	if (r == NULL)
		return;
	user_index_close(r->users);
	audit_index_close(r->audit);
	for (i = 0; i < ST_COUNT_ALL; i++)
		sqlite3_finalize(r->stmt[i]);
	sqlite3_close(r->db);
	free(r);
}

static void
read_row(sqlite3_stmt *s, int first, struct arena *arena, struct replica_row *row)
{
	const void *blob = sqlite3_column_blob(s, first);
	int len = sqlite3_column_bytes(s, first);

	row->value = arena_strndup(arena, blob ? blob : "", (size_t)len);
	row->value_len = (size_t)len;
	row->create_revision = sqlite3_column_int64(s, first + 1);
	row->mod_revision = sqlite3_column_int64(s, first + 2);
	row->version = sqlite3_column_int64(s, first + 3);
	row->lease = sqlite3_column_int64(s, first + 4);
	row->updated_at = sqlite3_column_int64(s, first + 5);
}

int
replica_get(struct replica *r, const char *key, struct arena *arena,
    struct replica_row *row)
{
	sqlite3_stmt *s = replica_stmt(r, ST_GET);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row->key = arena_strdup(arena, key);
		read_row(s, 0, arena, row);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		replica_log_error(r, "get");
		return -1;
	}
	return rc == SQLITE_ROW;
}

/* The smallest string greater than every string starting with prefix. */
static char *
prefix_end(struct arena *arena, const char *prefix)
{
	size_t len = strlen(prefix);
	char *end = arena_strndup(arena, prefix, len);

	while (len > 0) {
		if ((unsigned char)end[len - 1] < 0xff) {
			end[len - 1]++;
			end[len] = '\0';
			return end;
		}
		len--;
	}
	/* An empty (or all-0xff) prefix: everything. */
	return arena_strdup(arena, "\xff\xff\xff\xff");
}

int
replica_bind_prefix(sqlite3_stmt *s, int first, const char *prefix, struct arena *arena)
{
	sqlite3_bind_text(s, first, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, first + 1, prefix_end(arena, prefix), -1, SQLITE_STATIC);
	return 0;
}

long
replica_list(struct replica *r, const char *prefix, int64_t limit,
    int64_t offset, struct arena *arena, struct replica_row **rows,
    int64_t *total)
{
	sqlite3_stmt *s;
	long n = 0;
	int rc;

	if ((s = replica_stmt(r, ST_COUNT)) == NULL)
		return -1;
	replica_bind_prefix(s, 1, prefix, arena);
	*total = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	*rows = arena_alloc(arena, sizeof(**rows) * (size_t)(limit > 0 ? limit : 1));
	if ((s = replica_stmt(r, ST_LIST)) == NULL)
		return -1;
	replica_bind_prefix(s, 1, prefix, arena);
	sqlite3_bind_int64(s, 3, limit);
	sqlite3_bind_int64(s, 4, offset);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < limit) {
		(*rows)[n].key = arena_strdup(arena,
		    (const char *)sqlite3_column_text(s, 0));
		read_row(s, 1, arena, &(*rows)[n]);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		replica_log_error(r, "list");
		return -1;
	}
	return n;
}

/*
 * A row that changed under users/ changes the users index with it, in the
 * same transaction (user_index.h).
 */
static int
derive(struct replica *r, const struct replica_event *event)
{
	const struct replica_row *row = &event->row;

	if (sqlite3_changes(r->db) == 0 ||
	    strncmp(row->key, "users/", 6) != 0)
		return 0;
	return user_index_apply(r->users, row->key, event->deleted, row->value,
	    row->value_len, row->create_revision, row->mod_revision, row->version,
	    row->updated_at);
}

/* The event's prev_revision and prev_lease into s at i and i + 1 (NULL: unknown). */
static void
bind_prev(sqlite3_stmt *s, int i, const struct replica_event *event)
{
	if (!event->prev_known)
		return;		/* cleared bindings are NULL */
	sqlite3_bind_int64(s, i, event->prev_revision);
	sqlite3_bind_int64(s, i + 1, event->prev_lease);
}

/* Upsert or tombstone one row, keeping mod_revision monotonic. */
static int
apply_row(struct replica *r, const struct replica_event *event)
{
	const struct replica_row *row = &event->row;
	sqlite3_stmt *s;

	if (event->deleted) {
		if ((s = replica_stmt(r, ST_TOMBSTONE)) == NULL)
			return -1;
		sqlite3_bind_text(s, 1, row->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, row->mod_revision);
		sqlite3_bind_int64(s, 3, row->updated_at);
		bind_prev(s, 4, event);
		return replica_exec(r, s) == -1 ? -1 : derive(r, event);
	}
	if ((s = replica_stmt(r, ST_UPSERT)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, row->key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, row->value, (int)row->value_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, row->create_revision);
	sqlite3_bind_int64(s, 4, row->mod_revision);
	sqlite3_bind_int64(s, 5, row->version);
	sqlite3_bind_int64(s, 6, row->lease);
	sqlite3_bind_int64(s, 7, row->updated_at);
	bind_prev(s, 8, event);
	return replica_exec(r, s) == -1 ? -1 : derive(r, event);
}

int
replica_write_through(struct replica *r, const struct replica_event *event)
{
	return replica_write_through_all(r, event, 1);
}

int
replica_write_through_all(struct replica *r, const struct replica_event *events,
    size_t count)
{
	int64_t applied;
	size_t i;

	if (replica_begin(r) == -1)
		return -1;
	if (replica_meta_get(r, "applied_revision", &applied) == -1)
		goto fail;
	for (i = 0; i < count; i++)
		if (events[i].row.mod_revision > applied &&
		    apply_row(r, &events[i]) == -1)
			goto fail;
	return replica_commit(r);
fail:
	replica_rollback(r);
	return -1;
}

int
replica_applied_revision(struct replica *r, int64_t *revision)
{
	return replica_meta_get(r, "applied_revision", revision);
}

int
replica_snapshot_complete(struct replica *r)
{
	int64_t complete = 0;

	return replica_meta_get(r, "snapshot_complete", &complete) == 0 && complete == 1;
}

/*
 * What the replica held for e's key just before e, for the audit trail
 * (its old revision, the lease it was on), unless e says already: known
 * while the row is older than e, or is e's own revision written through
 * with what the writer knew; a write-through of a later change may have
 * got there first, and then it is unknown.
 */
static int
event_prev(struct replica *r, struct replica_event *e)
{
	sqlite3_stmt *s;
	int rc;

	if (e->prev_known || strncmp(e->row.key, "index/", 6) == 0)
		return 0;
	if ((s = replica_stmt(r, ST_PREV)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, e->row.key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) < e->row.mod_revision) {
		e->prev_known = 1;
		if (!sqlite3_column_int(s, 2)) {
			e->prev_revision = sqlite3_column_int64(s, 0);
			e->prev_lease = sqlite3_column_int64(s, 1);
		}
	} else if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) == e->row.mod_revision &&
	    sqlite3_column_type(s, 3) != SQLITE_NULL) {
		/* Written through already, with what its writer knew. */
		e->prev_known = 1;
		e->prev_revision = sqlite3_column_int64(s, 3);
		e->prev_lease = sqlite3_column_int64(s, 4);
	} else if (rc == SQLITE_DONE) {
		e->prev_known = 1;	/* no row: the key did not exist */
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * An event into its row and the log. Audit records are neither: their
 * rows in the audit table (audit_index.c) are all the replica keeps of
 * them, and nobody watches them.
 */
static int
apply_logged(struct replica *r, struct replica_event *e)
{
	if (strncmp(e->row.key, AUDIT_FOLDER, strlen(AUDIT_FOLDER)) == 0)
		return 0;
	if (event_prev(r, e) == -1 || apply_row(r, e) == -1)
		return -1;
	return replica_log_event(r, e);
}

int
replica_apply_events(struct replica *r, int64_t revision,
    const struct replica_event *events, size_t count, int64_t history)
{
	struct replica_event *seen = xcalloc(count ? count : 1, sizeof(*seen));
	sqlite3_stmt *s;
	int64_t applied;
	size_t i;

	memcpy(seen, events, sizeof(*events) * count);
	if (replica_begin(r) == -1)
		goto fail;
	if (replica_meta_get(r, "applied_revision", &applied) == -1)
		goto fail;
	for (i = 0; i < count; i++)
		if (apply_logged(r, &seen[i]) == -1)
			goto fail;
	if (audit_index_apply(r->audit, seen, count) == -1)
		goto fail;
	if (revision > applied) {
		if (replica_meta_set(r, "applied_revision", revision) == -1)
			goto fail;
		if ((s = replica_stmt(r, ST_PURGE)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, revision);
		if (replica_exec(r, s) == -1)
			goto fail;
	}
	if (count > 0 && replica_trim_events(r, history) == -1)
		goto fail;
	free(seen);
	return replica_commit(r);
fail:
	free(seen);
	replica_rollback(r);
	return -1;
}

int
replica_scan(struct replica *r, int64_t *applied, replica_row_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int rc = SQLITE_DONE, stop = 0;

	/* One read transaction: the rows and the revision they are at agree. */
	if (replica_exec(r, replica_stmt(r, ST_BEGIN_READ)) == -1)
		return -1;
	if (replica_meta_get(r, "applied_revision", applied) == -1 ||
	    (s = replica_stmt(r, ST_SCAN)) == NULL)
		goto fail;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct replica_row row;
		struct arena arena;

		arena_init(&arena);
		row.key = arena_strdup(&arena, (const char *)sqlite3_column_text(s, 0));
		read_row(s, 1, &arena, &row);
		stop = fn(arg, &row);
		arena_free(&arena);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		replica_log_error(r, "scan");
		goto fail;
	}
	return replica_commit(r);
fail:
	replica_rollback(r);
	return -1;
}

int
replica_compact(struct replica *r, int64_t budget_us)
{
	int64_t until = clock_monotonic_us() + budget_us;
	int more = 1;

	/* A transaction per step: writers wait for one step, never the lot. */
	while (more && clock_monotonic_us() < until) {
		if (replica_begin(r) == -1)
			return -1;
		if (user_index_compact(r->users, &more) == -1 || replica_commit(r) == -1) {
			replica_rollback(r);
			return -1;
		}
	}
	return more;
}

long
replica_user_search(struct replica *r, const struct user_query *q,
    struct arena *arena, struct user_hit **hits, int64_t *total)
{
	long n;

	/* One read transaction: the count and the page from one state. */
	if (replica_exec(r, replica_stmt(r, ST_BEGIN_READ)) == -1)
		return -1;
	n = user_index_search(r->users, q, arena, hits, total);
	replica_commit(r);
	return n;
}

int
replica_audit_prune(struct replica *r, int64_t before_us)
{
	if (replica_begin(r) == -1)
		return -1;
	if (audit_index_prune(r->audit, before_us) == -1 || replica_commit(r) == -1) {
		replica_rollback(r);
		return -1;
	}
	return 0;
}

long
replica_audit_list(struct replica *r, const struct audit_query *q,
    struct arena *arena, struct audit_row **rows, int64_t *total)
{
	long n;

	/* One read transaction: the count and the page from one state. */
	if (replica_exec(r, replica_stmt(r, ST_BEGIN_READ)) == -1)
		return -1;
	n = audit_index_list(r->audit, q, arena, rows, total);
	replica_commit(r);
	return n;
}
