/*
 * The two things every module of the replica does with its SQLite
 * statements (internal to store/): keep each one prepared for reuse, and
 * run one whose rows are not read. Errors are logged as
 * "WHO: prepare|step: SQLite's message", WHO naming the module.
 */
#ifndef DYNCONF_SQL_H
#define DYNCONF_SQL_H

#include <sqlite3.h>

/*
 * The statement in *slot, prepared from sql on first use (persistent),
 * reset and unbound for this use; NULL (logged) when it cannot be prepared.
 */
sqlite3_stmt *sql_prepared(sqlite3 *db, sqlite3_stmt **slot, const char *sql,
	    const char *who);

/* Step s once and reset it: 0, or -1 (logged); s NULL is -1 (logged before). */
int	sql_run(sqlite3_stmt *s, const char *who);

#endif
