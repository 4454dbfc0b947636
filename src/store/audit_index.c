/*
 * The audit table; see audit_index.h. Its rows are written only here and
 * only inside the transaction that applies the events they derive from.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/util.h"
#include "store/audit.h"
#include "store/audit_index.h"
#include "store/sql.h"

/*
 * Every index ends with the primary key (WITHOUT ROWID), so each serves
 * its filter in the list's order: newest first, walked backwards.
 */
const char audit_index_schema[] =
	"CREATE TABLE audit ("
	"  revision INTEGER NOT NULL,"
	"  resource TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  actor_kind TEXT NOT NULL,"
	"  token_id TEXT,"
	"  request_id TEXT,"
	"  old_revision INTEGER,"
	"  time INTEGER NOT NULL,"	/* unix µs */
	"  record TEXT,"		/* its audit/ key; NULL: etcd's, a lease's */
	"  PRIMARY KEY (revision, resource, name)"
	") WITHOUT ROWID;"
	"CREATE INDEX audit_by_resource ON audit(resource, revision);"
	"CREATE INDEX audit_by_name ON audit(name, revision);"
	"CREATE INDEX audit_by_actor ON audit(actor, revision);"
	"CREATE INDEX audit_by_time ON audit(time);"
	"INSERT INTO meta VALUES ('audit_rows', 0);";

enum ai_statement {
	AI_INSERT,
	AI_DROP_RECORD,
	AI_PRUNE,
	AI_COUNT_ADD,
	AI_COUNT_GET,
	AI_RECOUNT,
	AI_DROP_GONE,
	AI_RECORDS,
	AI_CREATED_AT,
	AI_STATEMENTS
};

static const char *const ai_sql[AI_STATEMENTS] = {
	[AI_INSERT] = "INSERT OR IGNORE INTO audit (revision, resource, name, action,"
	    " actor, actor_kind, token_id, request_id, old_revision, time, record)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	/* A record's rows are at the time its key names (its own). */
	[AI_DROP_RECORD] = "DELETE FROM audit WHERE time = ?1 AND record = ?2",
	[AI_PRUNE] = "DELETE FROM audit WHERE record IS NULL AND time < ?1",
	[AI_COUNT_ADD] = "UPDATE meta SET value = value + ?1 WHERE name = 'audit_rows'",
	[AI_COUNT_GET] = "SELECT value FROM meta WHERE name = 'audit_rows'",
	[AI_RECOUNT] = "UPDATE meta SET value = (SELECT count(*) FROM audit)"
	    " WHERE name = 'audit_rows'",
	/*
	 * These two read the records where a snapshot brings them: the table
	 * it is swapped in from (replica_snapshot.c), the key table never
	 * holding a record.
	 */
	[AI_DROP_GONE] = "DELETE FROM audit WHERE record IS NOT NULL AND NOT EXISTS"
	    " (SELECT 1 FROM temp.snapshot s WHERE s.key = audit.record"
	    " AND s.deleted = 0 AND s.mod_revision = audit.revision)",
	/* Records the table lacks, a page at a time in key order. */
	[AI_RECORDS] = "SELECT key, value, mod_revision FROM temp.snapshot s"
	    " WHERE key > ?1 AND key < 'audit0' AND deleted = 0 AND NOT EXISTS"
	    " (SELECT 1 FROM audit WHERE audit.record = s.key"
	    " AND audit.revision = s.mod_revision) ORDER BY key LIMIT 1000",
	[AI_CREATED_AT] = "SELECT create_revision FROM kv WHERE key = ?1 AND deleted = 0",
};

/* The list's filters, one bit each: a statement per combination. */
enum {
	Q_RESOURCE = 1, Q_KEY = 2, Q_KEY_PREFIX = 4, Q_ACTOR = 8,
	Q_SINCE_REVISION = 16, Q_SINCE_TIME = 32, Q_COMBINATIONS = 64
};

struct audit_index {
	sqlite3		*db;
	sqlite3_stmt	*stmt[AI_STATEMENTS];
	sqlite3_stmt	*list[Q_COMBINATIONS];
	sqlite3_stmt	*count[Q_COMBINATIONS];
	int64_t		 added;		/* rows, in this transaction */
};

#define AI_WHO "replica: audit table"

static void
ai_log_error(struct audit_index *ai, const char *what)
{
	log_error(AI_WHO ": %s: %s", what, sqlite3_errmsg(ai->db));
}

static sqlite3_stmt *
prepared(struct audit_index *ai, sqlite3_stmt **slot, const char *sql)
{
	return sql_prepared(ai->db, slot, sql, AI_WHO);
}

static sqlite3_stmt *
ai_stmt(struct audit_index *ai, enum ai_statement which)
{
	return prepared(ai, &ai->stmt[which], ai_sql[which]);
}

/* Run s, which returns no rows; its changes added to ai->added. 0 or -1. */
static int
ai_exec(struct audit_index *ai, sqlite3_stmt *s, int sign)
{
	if (sql_run(s, AI_WHO) == -1)
		return -1;
	ai->added += sign * sqlite3_changes(ai->db);
	return 0;
}

struct audit_index *
audit_index_open(struct sqlite3 *db)
{
	struct audit_index *ai = xcalloc(1, sizeof(*ai));

	ai->db = db;
	return ai;
}

void
audit_index_close(struct audit_index *ai)
{
	size_t i;

	if (ai == NULL)
		return;
	for (i = 0; i < AI_STATEMENTS; i++)
		sqlite3_finalize(ai->stmt[i]);
	for (i = 0; i < Q_COMBINATIONS; i++) {
		sqlite3_finalize(ai->list[i]);
		sqlite3_finalize(ai->count[i]);
	}
	free(ai);
}

/* Keep the row count of meta in step with what changed since it was 0. */
static int
count_settle(struct audit_index *ai)
{
	sqlite3_stmt *s;

	if (ai->added == 0)
		return 0;
	if ((s = ai_stmt(ai, AI_COUNT_ADD)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, ai->added);
	ai->added = 0;
	return ai_exec(ai, s, 0);
}

/* -- deriving rows */

/* A row to insert: its text fields, bound as they are. */
struct pending_row {
	int64_t		 revision;
	const char	*key;		/* resource/name */
	const char	*action;
	const char	*actor;
	const char	*actor_kind;
	const char	*token_id;
	const char	*request_id;
	int64_t		 old_revision;	/* 0: NULL */
	int64_t		 time_us;
	const char	*record;
};

static void
bind_text_or_null(sqlite3_stmt *s, int i, const char *text, int len)
{
	if (text == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, text, len, SQLITE_STATIC);
}

static int
insert_row(struct audit_index *ai, const struct pending_row *p)
{
	sqlite3_stmt *s = ai_stmt(ai, AI_INSERT);
	const char *slash = strchr(p->key, '/');
	int resource_len = slash != NULL ? (int)(slash - p->key) : (int)strlen(p->key);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, p->revision);
	sqlite3_bind_text(s, 2, p->key, resource_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, slash != NULL ? slash + 1 : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, p->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->actor_kind, -1, SQLITE_STATIC);
	bind_text_or_null(s, 7, p->token_id, -1);
	bind_text_or_null(s, 8, p->request_id, -1);
	if (p->old_revision > 0)
		sqlite3_bind_int64(s, 9, p->old_revision);
	else
		sqlite3_bind_null(s, 9);
	sqlite3_bind_int64(s, 10, p->time_us);
	bind_text_or_null(s, 11, p->record, -1);
	return ai_exec(ai, s, 1);
}

static int
is_plain_action(const char *action)
{
	return strcmp(action, "create") == 0 || strcmp(action, "update") == 0 ||
	    strcmp(action, "put") == 0 || strcmp(action, "delete") == 0;
}

/* create, update or delete as the event says, unless the record has a verb. */
static const char *
event_action(const char *recorded, const struct replica_event *e)
{
	if (recorded != NULL && !is_plain_action(recorded))
		return recorded;
	if (e->deleted)
		return "delete";
	return e->row.create_revision == e->row.mod_revision ? "create" : "update";
}

/* The row of one resource key's event in a revision with record rec (or none). */
static int
derive_one(struct audit_index *ai, const struct replica_event *e,
    const struct audit_record *rec, const char *record_key)
{
	struct pending_row p;

	/* A delete that deleted nothing (written through as a tombstone). */
	if (e->deleted && e->prev_known && e->prev_revision == 0)
		return 0;
	/* A key kept on its lease, rewritten without a record: a renewal. */
	if (rec == NULL && !e->deleted && e->prev_known && e->prev_revision > 0 &&
	    e->prev_lease != 0 && e->prev_lease == e->row.lease)
		return 0;
	memset(&p, 0, sizeof(p));
	p.revision = e->row.mod_revision;
	p.key = e->row.key;
	p.old_revision = e->prev_known ? e->prev_revision : 0;
	if (rec != NULL) {
		p.actor = rec->actor;
		p.actor_kind = rec->actor_kind;
		p.token_id = rec->token_id;
		p.request_id = rec->request_id;
		p.time_us = rec->time_us;
		p.record = record_key;
	} else {
		p.actor = p.actor_kind = e->deleted && e->prev_known &&
		    e->prev_lease != 0 ? "lease" : "etcd";
		p.time_us = e->row.updated_at;
	}
	p.action = event_action(rec != NULL ?
	    audit_record_action(rec, e->row.key) : NULL, e);
	return insert_row(ai, &p);
}

static int
is_record_key(const char *key)
{
	return strncmp(key, AUDIT_FOLDER, strlen(AUDIT_FOLDER)) == 0;
}

/* The record put at this revision, parsed into rec; its key, or NULL. */
static const char *
find_record(const struct replica_event *events, size_t count,
    struct arena *arena, struct audit_record *rec)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!events[i].deleted && is_record_key(events[i].row.key) &&
		    audit_record_parse(events[i].row.key, events[i].row.value,
		    events[i].row.value_len, arena, rec) == 0)
			return events[i].row.key;
	return NULL;
}

/*
 * A record went (its lease ended): its rows go, found by the time its key
 * names, "audit/<time>-<request id>-<tag>" (audit_record_parse believes no
 * record whose key does not name its own time: such a one has no rows).
 */
static int
drop_record(struct audit_index *ai, const char *key)
{
	sqlite3_stmt *s;
	int64_t when;

	if (audit_record_key_time(key, &when) == -1)
		return 0;
	if ((s = ai_stmt(ai, AI_DROP_RECORD)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, when);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	return ai_exec(ai, s, -1);
}

/* One revision's events. */
static int
apply_revision(struct audit_index *ai, const struct replica_event *events,
    size_t count, struct arena *arena)
{
	struct audit_record rec;
	const char *record_key = find_record(events, count, arena, &rec);
	size_t i;

	for (i = 0; i < count; i++) {
		const struct replica_event *e = &events[i];

		if (is_record_key(e->row.key) && e->deleted) {
			if (drop_record(ai, e->row.key) == -1)
				return -1;
		} else if (!audit_key_internal(e->row.key) &&
		    derive_one(ai, e, record_key ? &rec : NULL, record_key) == -1) {
			return -1;
		}
	}
	return 0;
}

int
audit_index_apply(struct audit_index *ai, const struct replica_event *events,
    size_t count)
{
	struct arena arena;
	size_t start, end;
	int rc = 0;

	arena_init(&arena);
	for (start = 0; rc == 0 && start < count; start = end) {
		for (end = start + 1; end < count &&
		    events[end].row.mod_revision == events[start].row.mod_revision; end++)
			continue;
		rc = apply_revision(ai, events + start, end - start, &arena);
	}
	arena_free(&arena);
	if (rc == -1) {
		ai->added = 0;	/* its rows roll back with the caller's transaction */
		return -1;
	}
	return count_settle(ai);
}

/* -- after a snapshot */

static const char *
column_text(sqlite3_stmt *s, int i, struct arena *arena)
{
	const unsigned char *text = sqlite3_column_text(s, i);

	return text != NULL ? arena_strdup(arena, (const char *)text) : NULL;
}


/*
 * What a recorded action was, read long after: a verb or create, update,
 * delete as recorded; "put" is a create if the key still lives from that
 * revision on, an update if it lived before it, else left as "put".
 */
static const char *
rebuilt_action(struct audit_index *ai, const struct audit_record_op *op,
    int64_t revision)
{
	sqlite3_stmt *s;
	int64_t created = 0;

	if (strcmp(op->action, "put") != 0 || (s = ai_stmt(ai, AI_CREATED_AT)) == NULL)
		return op->action;
	sqlite3_bind_text(s, 1, op->key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		created = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (created == revision)
		return "create";
	return created > 0 && created < revision ? "update" : "put";
}

/* The rows of the record at key (mod_revision revision). */
static int
rebuild_record(struct audit_index *ai, const char *key, const char *value,
    size_t len, int64_t revision, struct arena *arena)
{
	struct audit_record rec;
	struct pending_row p;
	size_t i;

	if (audit_record_parse(key, value, len, arena, &rec) == -1)
		return 0;
	for (i = 0; i < rec.nops; i++) {
		/* A prefix's keys are named one by one beside it (audit.c). */
		if (audit_key_internal(rec.ops[i].key) || rec.ops[i].prefix)
			continue;
		memset(&p, 0, sizeof(p));
		p.revision = revision;
		p.key = rec.ops[i].key;
		p.action = rebuilt_action(ai, &rec.ops[i], revision);
		p.actor = rec.actor;
		p.actor_kind = rec.actor_kind;
		p.token_id = rec.token_id;
		p.request_id = rec.request_id;
		p.time_us = rec.time_us;
		p.record = key;
		if (insert_row(ai, &p) == -1)
			return -1;
	}
	return 0;
}

/* A record read from kv, held while the page's rows are inserted. */
struct page_record {
	const char	*key;
	const char	*value;
	size_t		 len;
	int64_t		 revision;
};

#define REBUILD_PAGE 1000

/* A page of the records the table lacks, from after *from: how many, or -1. */
static long
rebuild_page(struct audit_index *ai, struct buf *from)
{
	sqlite3_stmt *s = ai_stmt(ai, AI_RECORDS);
	struct page_record *page;
	struct arena arena;
	long n = 0, i;
	int rc = SQLITE_DONE;

	if (s == NULL)
		return -1;
	arena_init(&arena);
	page = arena_alloc(&arena, sizeof(*page) * REBUILD_PAGE);
	sqlite3_bind_text(s, 1, from->data, -1, SQLITE_TRANSIENT);
	/* Read first, then insert: the select reads the table it fills. */
	while (n < REBUILD_PAGE && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(s, 1);

		page[n].key = column_text(s, 0, &arena);
		page[n].len = (size_t)sqlite3_column_bytes(s, 1);
		page[n].value = arena_strndup(&arena, blob ? blob : "", page[n].len);
		page[n].revision = sqlite3_column_int64(s, 2);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ai_log_error(ai, "rebuild");
		n = -1;
	}
	for (i = 0; i < n; i++)
		if (rebuild_record(ai, page[i].key, page[i].value, page[i].len,
		    page[i].revision, &arena) == -1)
			n = -1;
	if (n > 0) {
		buf_reset(from);
		buf_puts(from, page[n - 1].key);
	}
	arena_free(&arena);
	return n;
}

int
audit_index_rebuild(struct audit_index *ai)
{
	struct buf from;
	long n;

	if (ai_exec(ai, ai_stmt(ai, AI_DROP_GONE), 0) == -1)
		return -1;
	buf_init(&from);
	buf_puts(&from, AUDIT_FOLDER);
	while ((n = rebuild_page(ai, &from)) > 0)
		continue;
	buf_free(&from);
	ai->added = 0;
	if (n < 0)
		return -1;
	return ai_exec(ai, ai_stmt(ai, AI_RECOUNT), 0);
}

int
audit_index_prune(struct audit_index *ai, int64_t before_us)
{
	sqlite3_stmt *s = ai_stmt(ai, AI_PRUNE);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, before_us);
	if (ai_exec(ai, s, -1) == -1)
		return -1;
	return count_settle(ai);
}

/* -- listing */

static unsigned
query_mask(const struct audit_query *q)
{
	size_t klen = q->key != NULL ? strlen(q->key) : 0;

	return (q->resource != NULL ? Q_RESOURCE : 0) |
	    (klen > 0 && q->key[klen - 1] == '/' ? Q_KEY_PREFIX :
	    q->key != NULL ? Q_KEY : 0) |
	    (q->actor != NULL ? Q_ACTOR : 0) |
	    (q->since_revision > 0 ? Q_SINCE_REVISION : 0) |
	    (q->since_us > 0 ? Q_SINCE_TIME : 0);
}

/* The statement of mask's filters: the page, or the count. */
static sqlite3_stmt *
query_stmt(struct audit_index *ai, unsigned mask, int counting)
{
	sqlite3_stmt **slot = counting ? &ai->count[mask] : &ai->list[mask];
	struct buf sql;
	sqlite3_stmt *s;

	if (*slot != NULL)
		return prepared(ai, slot, NULL);
	buf_init(&sql);
	buf_puts(&sql, counting ? "SELECT count(*) FROM audit WHERE 1" :
	    "SELECT revision, resource, name, action, actor, actor_kind, token_id,"
	    " request_id, old_revision, time FROM audit WHERE 1");
	if (mask & Q_RESOURCE)
		buf_puts(&sql, " AND resource = ?1");
	if (mask & Q_KEY)
		buf_puts(&sql, " AND name = ?2");
	if (mask & Q_KEY_PREFIX)
		buf_puts(&sql, " AND name >= ?2 AND name < ?3");
	if (mask & Q_ACTOR)
		buf_puts(&sql, " AND actor = ?4");
	if (mask & Q_SINCE_REVISION)
		buf_puts(&sql, " AND revision > ?5");
	if (mask & Q_SINCE_TIME)
		buf_puts(&sql, " AND time >= ?6");
	if (!counting)
		buf_puts(&sql, " ORDER BY revision DESC, resource DESC, name DESC"
		    " LIMIT ?7 OFFSET ?8");
	s = prepared(ai, slot, sql.data);
	buf_free(&sql);
	return s;
}

static void
bind_query(sqlite3_stmt *s, unsigned mask, const struct audit_query *q,
    struct arena *arena)
{
	if (mask & Q_RESOURCE)
		sqlite3_bind_text(s, 1, q->resource, -1, SQLITE_STATIC);
	if (mask & (Q_KEY | Q_KEY_PREFIX))
		sqlite3_bind_text(s, 2, q->key, -1, SQLITE_STATIC);
	if (mask & Q_KEY_PREFIX) {
		/* The key ends in '/': the first string past every one under it. */
		char *end = arena_strdup(arena, q->key);

		end[strlen(end) - 1]++;
		sqlite3_bind_text(s, 3, end, -1, SQLITE_STATIC);
	}
	if (mask & Q_ACTOR)
		sqlite3_bind_text(s, 4, q->actor, -1, SQLITE_STATIC);
	if (mask & Q_SINCE_REVISION)
		sqlite3_bind_int64(s, 5, q->since_revision);
	if (mask & Q_SINCE_TIME)
		sqlite3_bind_int64(s, 6, q->since_us);
}

static void
read_list_row(sqlite3_stmt *s, struct arena *arena, struct audit_row *row)
{
	row->revision = sqlite3_column_int64(s, 0);
	row->resource = column_text(s, 1, arena);
	row->key = column_text(s, 2, arena);
	row->action = column_text(s, 3, arena);
	row->actor = column_text(s, 4, arena);
	row->actor_kind = column_text(s, 5, arena);
	row->token_id = column_text(s, 6, arena);
	row->request_id = column_text(s, 7, arena);
	row->old_revision = sqlite3_column_int64(s, 8);	/* NULL reads as 0 */
	row->time_us = sqlite3_column_int64(s, 9);
}

/* Every match: the kept count when nothing filters, else counted. */
static int
query_total(struct audit_index *ai, unsigned mask, const struct audit_query *q,
    struct arena *arena, int64_t *total)
{
	sqlite3_stmt *s = mask == 0 ? ai_stmt(ai, AI_COUNT_GET) :
	    query_stmt(ai, mask, 1);
	int rc;

	if (s == NULL)
		return -1;
	if (mask != 0)
		bind_query(s, mask, q, arena);
	rc = sqlite3_step(s);
	*total = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

long
audit_index_list(struct audit_index *ai, const struct audit_query *q,
    struct arena *arena, struct audit_row **rows, int64_t *total)
{
	unsigned mask = query_mask(q);
	sqlite3_stmt *s;
	long n = 0;
	int rc = SQLITE_DONE;

	if (query_total(ai, mask, q, arena, total) == -1 ||
	    (s = query_stmt(ai, mask, 0)) == NULL) {
		ai_log_error(ai, "list");
		return -1;
	}
	bind_query(s, mask, q, arena);
	sqlite3_bind_int64(s, 7, q->limit);
	sqlite3_bind_int64(s, 8, q->offset);
	*rows = arena_alloc(arena, sizeof(**rows) * (size_t)(q->limit > 0 ? q->limit : 1));
	while (n < q->limit && (rc = sqlite3_step(s)) == SQLITE_ROW)
		read_list_row(s, arena, &(*rows)[n++]);
	if (n < q->limit && rc != SQLITE_DONE) {
		ai_log_error(ai, "list");
		n = -1;
	}
	sqlite3_reset(s);
	return n;
}
