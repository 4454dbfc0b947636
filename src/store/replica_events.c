/*
 * The replica's event log (replica.h): the recent changes the watcher
 * applied, kept to replica.history of them, from which /v1/watch and the
 * waiting process answer "what changed under this prefix since revision N".
 */
#include "config.h"

#include <sqlite3.h>

#include "base/arena.h"
#include "base/log.h"
#include "store/replica.h"
#include "store/replica_impl.h"

int
replica_log_event(struct replica *r, const struct replica_event *event)
{
	const struct replica_row *row = &event->row;
	sqlite3_stmt *s = replica_stmt(r, ST_EVENT_ADD);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, row->mod_revision);
	sqlite3_bind_text(s, 2, row->key, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, event->deleted);
	sqlite3_bind_blob(s, 4, event->deleted ? "" : row->value,
	    event->deleted ? 0 : (int)row->value_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, row->create_revision);
	sqlite3_bind_int64(s, 6, row->version);
	sqlite3_bind_int64(s, 7, row->lease);
	sqlite3_bind_int64(s, 8, row->updated_at);
	return replica_exec(r, s);
}

/* Keep the newest history events; what is cut raises the history floor. */
int
replica_trim_events(struct replica *r, int64_t history)
{
	sqlite3_stmt *s = replica_stmt(r, ST_EVENT_TRIM_POINT);
	int64_t seq, revision, floor;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, history);
	rc = sqlite3_step(s);
	seq = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	revision = rc == SQLITE_ROW ? sqlite3_column_int64(s, 1) : 0;
	sqlite3_reset(s);
	if (seq == 0)
		return 0;
	if ((s = replica_stmt(r, ST_EVENT_TRIM)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, seq);
	if (replica_exec(r, s) == -1 || replica_meta_get(r, "history_floor", &floor) == -1)
		return -1;
	return revision > floor ? replica_meta_set(r, "history_floor", revision) : 0;
}

long
replica_events_since(struct replica *r, const char *prefix, int64_t since,
    int64_t limit, struct arena *arena, struct replica_event **events)
{
	sqlite3_stmt *s;
	int64_t floor;
	long n = 0;
	int rc;

	if (replica_meta_get(r, "history_floor", &floor) == -1)
		return -1;
	if (since < floor)
		return -2;
	if ((s = replica_stmt(r, ST_EVENTS_SINCE)) == NULL)
		return -1;
	*events = arena_alloc(arena, sizeof(**events) * (size_t)(limit > 0 ? limit : 1));
	sqlite3_bind_int64(s, 1, since);
	replica_bind_prefix(s, 2, prefix, arena);
	sqlite3_bind_int64(s, 4, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < limit) {
		struct replica_event *e = &(*events)[n++];
		const void *blob = sqlite3_column_blob(s, 2);
		int len = sqlite3_column_bytes(s, 2);

		e->row.key = arena_strdup(arena, (const char *)sqlite3_column_text(s, 0));
		e->deleted = sqlite3_column_int(s, 1);
		e->row.value = arena_strndup(arena, blob ? blob : "", (size_t)len);
		e->row.value_len = (size_t)len;
		e->row.create_revision = sqlite3_column_int64(s, 3);
		e->row.mod_revision = sqlite3_column_int64(s, 4);
		e->row.version = sqlite3_column_int64(s, 5);
		e->row.lease = sqlite3_column_int64(s, 6);
		e->row.updated_at = sqlite3_column_int64(s, 7);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		replica_log_error(r, "events");
		return -1;
	}
	return n;
}
