/*
 * The replica's snapshots (replica.h): a full copy of etcd's keys, loaded
 * page by page into a temporary table and swapped in at once, with what
 * is derived from the rows (the users index, the audit table) made again
 * in the same transaction.
 */
#include "config.h"

#include <sqlite3.h>

#include "base/log.h"
#include "base/util.h"
#include "store/audit_index.h"
#include "store/replica.h"
#include "store/replica_impl.h"
#include "store/user_index.h"

int
replica_snapshot_begin(struct replica *r)
{
	static const char sql[] = "CREATE TEMP TABLE IF NOT EXISTS snapshot"
	    " AS SELECT * FROM main.kv WHERE 0; DELETE FROM temp.snapshot;"
	    " CREATE UNIQUE INDEX IF NOT EXISTS temp.snapshot_key ON snapshot(key);";

	if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		replica_log_error(r, "snapshot");
		return -1;
	}
	return 0;
}

int
replica_snapshot_add(struct replica *r, const struct replica_row *rows,
    size_t count)
{
	size_t i;

	if (replica_begin(r) == -1)
		return -1;
	for (i = 0; i < count; i++) {
		sqlite3_stmt *s = replica_stmt(r, ST_SNAP_ADD);

		if (s == NULL)
			goto fail;
		sqlite3_bind_text(s, 1, rows[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 2, rows[i].value, (int)rows[i].value_len,
		    SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, rows[i].create_revision);
		sqlite3_bind_int64(s, 4, rows[i].mod_revision);
		sqlite3_bind_int64(s, 5, rows[i].version);
		sqlite3_bind_int64(s, 6, rows[i].lease);
		sqlite3_bind_int64(s, 7, rows[i].updated_at);
		if (replica_exec(r, s) == -1)
			goto fail;
	}
	return replica_commit(r);
fail:
	replica_rollback(r);
	return -1;
}

/* The audit table has the records' rows now: the snapshot goes. */
#define SNAPSHOT_GO "DELETE FROM temp.snapshot"
#define SNAPSHOT_CACHE "PRAGMA cache_size = -262144"	/* 256 MiB at most */
#define DEFAULT_CACHE "PRAGMA cache_size = -2000"	/* SQLite's default */

int
replica_snapshot_commit(struct replica *r, int64_t revision)
{
	return replica_snapshot_replace(r, revision, 1);
}

int
replica_snapshot_replace(struct replica *r, int64_t revision, int force)
{
	/* A row at the revision the replica had keeps the time it was first seen. */
	static const char swap[] = "UPDATE temp.snapshot SET updated_at ="
	    " (SELECT k.updated_at FROM main.kv k WHERE k.key = snapshot.key"
	    " AND k.mod_revision = snapshot.mod_revision AND k.deleted = 0)"
	    " WHERE EXISTS (SELECT 1 FROM main.kv k WHERE k.key = snapshot.key"
	    " AND k.mod_revision = snapshot.mod_revision AND k.deleted = 0);"
	    " DELETE FROM main.kv;"
	    /* The audit records stay out: their rows are all the replica keeps. */
	    " INSERT INTO main.kv SELECT * FROM temp.snapshot"
	    " WHERE key < 'audit/' OR key >= 'audit0';"
	    " DELETE FROM main.events;";
	int64_t applied, t[4];

	int rc = -1;

	/*
	 * The swap and the users index rewrite every page: a cache that holds
	 * them (for this transaction only) saves re-reading and spilling them.
	 */
	sqlite3_exec(r->db, SNAPSHOT_CACHE, NULL, NULL, NULL);
	if (replica_begin(r) == -1)
		goto done;
	if (replica_meta_get(r, "applied_revision", &applied) == -1)
		goto fail;
	if (applied > revision && !force) {
		replica_rollback(r);
		rc = -2;
		goto done;
	}
	t[0] = clock_monotonic_us();
	if (sqlite3_exec(r->db, swap, NULL, NULL, NULL) != SQLITE_OK) {
		replica_log_error(r, "snapshot swap");
		goto fail;
	}
	t[1] = clock_monotonic_us();
	if (user_index_rebuild(r->users) == -1)
		goto fail;
	t[2] = clock_monotonic_us();
	if (audit_index_rebuild(r->audit) == -1 ||
	    sqlite3_exec(r->db, SNAPSHOT_GO, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	t[3] = clock_monotonic_us();
	if (replica_meta_set(r, "applied_revision", revision) == -1 ||
	    replica_meta_set(r, "history_floor", revision) == -1 ||
	    replica_meta_set(r, "snapshot_complete", 1) == -1)
		goto fail;
	rc = replica_commit(r);
	log_info("snapshot swapped in: rows %lld ms, users index %lld ms, audit"
	    " %lld ms, commit %lld ms", (long long)(t[1] - t[0]) / 1000,
	    (long long)(t[2] - t[1]) / 1000, (long long)(t[3] - t[2]) / 1000,
	    (long long)(clock_monotonic_us() - t[3]) / 1000);
	goto done;
fail:
	replica_rollback(r);
done:
	sqlite3_exec(r->db, DEFAULT_CACHE, NULL, NULL, NULL);
	return rc;
}
