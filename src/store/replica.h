/*
 * The local replica: a SQLite database (WAL) holding a full copy of every
 * key under etcd.prefix, with etcd's revisions, plus a bounded log of recent
 * events for /v1/watch. Keys are stored relative to the prefix
 * ("config/app/x"). The audit trail's records (audit/...) are the one
 * exception: the audit table (audit_index.h) holds what they say instead.
 *
 * Two kinds of writers share it. The watcher applies etcd's event stream in
 * order and owns the applied revision: every event up to it is in. A
 * responder writes its own acknowledged writes through at once, so a client
 * reads its own write on the same node. Both apply monotonically: a row is
 * only replaced by one with a newer mod_revision, deletes leave a tombstone
 * until the watcher has passed them, and a write-through at or below the
 * applied revision is skipped (the watcher already has it or something
 * newer). One place holds the schema, versioned, with migrations.
 */
#ifndef DYNCONF_REPLICA_H
#define DYNCONF_REPLICA_H

#include <stddef.h>
#include <stdint.h>

struct replica;
struct arena;

struct replica_row {
	const char	*key;		/* relative to the prefix */
	const char	*value;
	size_t		 value_len;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 lease;
	int64_t		 updated_at;	/* unix µs this node first saw the revision */
};

struct replica_event {
	int		 deleted;	/* 0: put */
	struct replica_row row;
	/*
	 * What etcd said the key was just before (the watch's prev_kv, a
	 * transaction's previous kvs), for the audit trail: prev_known 0 when
	 * nobody asked; then prev_revision (0: the key did not exist) and the
	 * lease it was on.
	 */
	int		 prev_known;
	int64_t		 prev_revision;
	int64_t		 prev_lease;
};

/* Open (creating and migrating) the database at path; NULL with err. */
struct replica *replica_open(const char *path, char *err, size_t errlen);
void	replica_close(struct replica *r);

/* 1 found (strings in the arena), 0 absent, -1 error. */
int	replica_get(struct replica *r, const char *key, struct arena *arena,
	    struct replica_row *row);

/*
 * Rows whose key starts with prefix, in key order, from offset, at most
 * limit. *total is the count of all matches. Returns the number of rows, -1
 * on error.
 */
long	replica_list(struct replica *r, const char *prefix, int64_t limit,
	    int64_t offset, struct arena *arena, struct replica_row **rows,
	    int64_t *total);

/* A responder's own acknowledged write (or a forced read) at revision. */
int	replica_write_through(struct replica *r, const struct replica_event *event);
/* The same for the writes of one transaction, in one SQLite transaction. */
int	replica_write_through_all(struct replica *r,
	    const struct replica_event *events, size_t count);

/* The watcher's side. */
int	replica_applied_revision(struct replica *r, int64_t *revision);
int	replica_snapshot_complete(struct replica *r);
int	replica_snapshot_begin(struct replica *r);
int	replica_snapshot_add(struct replica *r, const struct replica_row *rows,
	    size_t count);
/* Replace everything with the snapshot taken at revision. */
int	replica_snapshot_commit(struct replica *r, int64_t revision);
/*
 * The same, for a rebuild beside a running watcher: -2, and nothing
 * changed, when the replica has applied a revision above the snapshot's
 * (unless force: etcd replaced by one at lower revisions). The watcher
 * then applies again what it has, which the rows' revisions make harmless.
 */
int	replica_snapshot_replace(struct replica *r, int64_t revision, int force);

/*
 * Every live row in key order, and the applied revision, read in one
 * transaction: a view that holds together while the watcher writes. fn's
 * row lasts for the call; non-zero from it stops the scan. 0 or -1.
 */
typedef int (*replica_row_fn)(void *arg, const struct replica_row *row);
int	replica_scan(struct replica *r, int64_t *applied, replica_row_fn fn,
	    void *arg);
/* Apply a batch of events in one transaction; revision becomes applied. */
int	replica_apply_events(struct replica *r, int64_t revision,
	    const struct replica_event *events, size_t count, int64_t history);

/*
 * Events under prefix with revision > since, oldest first, at most limit.
 * Returns the count, -1 on error, -2 when since is older than the history
 * kept (the caller answers 410).
 */
long	replica_events_since(struct replica *r, const char *prefix, int64_t since,
	    int64_t limit, struct arena *arena, struct replica_event **events);

/*
 * Tidy the users index's text tables for about budget_us (the watcher
 * calls it when etcd is quiet): 1 when there is more to do, 0 when done,
 * -1 on error.
 */
int	replica_compact(struct replica *r, int64_t budget_us);

/*
 * The users a query asks for (user_index.h), in its order, read from one
 * state of the replica: *hits (in arena), their count returned, *total
 * every match. -1 on error.
 */
struct user_hit;
struct user_query;
long	replica_user_search(struct replica *r, const struct user_query *q,
	    struct arena *arena, struct user_hit **hits, int64_t *total);

/*
 * The audit trail (audit_index.h): rows q asks for, newest first, read
 * from one state of the replica (*rows in arena, their count returned,
 * *total every match; -1 on error); and the rows seen here without a
 * record (etcd's, a lease's) dropped once older than before_us.
 */
struct audit_query;
struct audit_row;
long	replica_audit_list(struct replica *r, const struct audit_query *q,
	    struct arena *arena, struct audit_row **rows, int64_t *total);
int	replica_audit_prune(struct replica *r, int64_t before_us);

#endif
