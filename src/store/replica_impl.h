/*
 * What the replica's own files (replica.c: the schema, rows and the
 * watcher's batches; replica_snapshot.c; replica_events.c: the event log
 * behind /v1/watch) share, and nothing else sees: the connection, its
 * prepared statements, and transactions.
 */
#ifndef DYNCONF_REPLICA_IMPL_H
#define DYNCONF_REPLICA_IMPL_H

#include <stdint.h>

#include <sqlite3.h>

#include "store/replica.h"

enum statement {
	ST_GET,
	ST_PREV,
	ST_LIST,
	ST_COUNT,
	ST_UPSERT,
	ST_TOMBSTONE,
	ST_PURGE,
	ST_META_GET,
	ST_META_SET,
	ST_EVENT_ADD,
	ST_EVENT_TRIM_POINT,
	ST_EVENT_TRIM,
	ST_EVENTS_SINCE,
	ST_SNAP_ADD,
	ST_SCAN,
	ST_BEGIN_READ,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT_ALL
};

struct replica {
	sqlite3		*db;
	sqlite3_stmt	*stmt[ST_COUNT_ALL];
	struct user_index *users;	/* tables derived from users/ rows */
	struct audit_index *audit;	/* the audit trail's rows */
	char		 path[4096];
	char		 who[4104];	/* "replica PATH", for its log lines */
};

void	replica_log_error(struct replica *r, const char *what);
/* Statement which, prepared on first use, reset and unbound; NULL (logged). */
sqlite3_stmt *replica_stmt(struct replica *r, enum statement which);
/* Run a statement that returns no rows; 0 or -1 (logged). */
int	replica_exec(struct replica *r, sqlite3_stmt *s);
int	replica_begin(struct replica *r);	/* BEGIN IMMEDIATE */
int	replica_commit(struct replica *r);
void	replica_rollback(struct replica *r);	/* if one is open */
int	replica_meta_get(struct replica *r, const char *name, int64_t *value);
int	replica_meta_set(struct replica *r, const char *name, int64_t value);
/* ?first and ?first+1: every key that starts with prefix (end in arena). */
int	replica_bind_prefix(sqlite3_stmt *s, int first, const char *prefix,
	    struct arena *arena);
/* The watcher's event log: one event more, and the history kept to its length. */
int	replica_log_event(struct replica *r, const struct replica_event *event);
int	replica_trim_events(struct replica *r, int64_t history);

#endif
