/*
 * Statements kept prepared and run; see sql.h.
 */
#include "config.h"

#include <stddef.h>

#include <sqlite3.h>

#include "base/log.h"
#include "store/sql.h"

sqlite3_stmt *
sql_prepared(sqlite3 *db, sqlite3_stmt **slot, const char *sql, const char *who)
{
	if (*slot == NULL && sqlite3_prepare_v3(db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
		log_error("%s: prepare: %s", who, sqlite3_errmsg(db));
		*slot = NULL;
		return NULL;
	}
	sqlite3_reset(*slot);
	sqlite3_clear_bindings(*slot);
	return *slot;
}

int
sql_run(sqlite3_stmt *s, const char *who)
{
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("%s: step: %s", who, sqlite3_errmsg(sqlite3_db_handle(s)));
		return -1;
	}
	return 0;
}
