/*
 * The audit table: the replica's rows of the audit trail (API.md §14),
 * derived from etcd's records (audit.h) and the events they commit with,
 * so that GET /v1/audit never reads etcd.
 *
 * replica.c calls audit_index_apply with every batch of events it applies
 * (the watcher's, a responder's write-through), inside the same SQLite
 * transaction. Each revision gets one row per resource key it changed
 * (not index/ or audit/ keys): with the actor, request id and time of the
 * revision's record when it has one; as "lease" for a delete of a key on
 * a lease without one (the lease lapsed, or was revoked outside the API);
 * as "etcd" otherwise (a change made by hand). A put that keeps a key on
 * the lease it was on, without a record, is a renewal (a heartbeat) and
 * gets no row. The old revision is what etcd said the key was at before
 * (the watch's prev_kv, the transaction's previous kvs); create and
 * update come from the event (a put whose create_revision is its own
 * revision created the key).
 *
 * A record's key deleted (its lease lapsed) takes its rows along. Rows
 * without a record live on this node only; audit_index_prune drops them
 * after the retention. audit_index_rebuild, after a snapshot replaced the
 * replica, drops the rows of records that are gone and adds those of
 * records it lacks, with the old revision unknown: it reads the records
 * from the snapshot's table (temp.snapshot), which the key table is
 * filled from without them.
 */
#ifndef DYNCONF_AUDIT_INDEX_H
#define DYNCONF_AUDIT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "store/replica.h"

struct arena;
struct sqlite3;

/* A list of rows: filters (NULL or 0: none) and a page, newest first. */
struct audit_query {
	const char	*resource;	/* the first segment of the key: flags */
	const char	*key;		/* the rest: prod/x; ending in '/', a prefix */
	const char	*actor;
	int64_t		 since_revision;	/* only revisions above it */
	int64_t		 since_us;	/* only changes at or after it (unix µs) */
	int64_t		 limit;
	int64_t		 offset;
};

struct audit_row {
	int64_t		 revision;	/* the change's (new) revision */
	int64_t		 old_revision;	/* 0: none (created) or unknown */
	const char	*resource;
	const char	*key;		/* relative to the resource's folder */
	const char	*action;	/* create, update, put, delete, or a verb */
	const char	*actor;
	const char	*actor_kind;	/* token, jwt, sdk, ..., etcd, lease */
	const char	*token_id;	/* NULL: none */
	const char	*request_id;	/* NULL: none */
	int64_t		 time_us;	/* the record's time, else first seen here */
};

/* The schema of the audit table: one of the replica's migrations. */
extern const char audit_index_schema[];

struct audit_index;

struct audit_index *audit_index_open(struct sqlite3 *db);
void	audit_index_close(struct audit_index *ai);

/*
 * Derive the rows of events (in revision order, each revision whole)
 * inside the caller's transaction. 0, or -1 on a SQLite error.
 */
int	audit_index_apply(struct audit_index *ai,
	    const struct replica_event *events, size_t count);

/* After a snapshot swap, inside its transaction: see the top. */
int	audit_index_rebuild(struct audit_index *ai);

/* Drop rows without a record seen before before_us; inside a transaction. */
int	audit_index_prune(struct audit_index *ai, int64_t before_us);

/*
 * The rows q asks for, newest first (revision, then key, descending):
 * *rows (in arena), their count returned, *total every match. -1 on error.
 */
long	audit_index_list(struct audit_index *ai, const struct audit_query *q,
	    struct arena *arena, struct audit_row **rows, int64_t *total);

#endif
