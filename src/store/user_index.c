/*
 * The users index; see user_index.h. Its tables are written only here and
 * only inside the transaction that applies the rows they derive from.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/fold.h"
#include "base/log.h"
#include "base/util.h"
#include "store/sql.h"
#include "store/stored_doc.h"
#include "store/user_doc.h"
#include "store/user_index.h"
#include "store/user_query.h"

/*
 * Raised when what is derived from a document changes (the folding, the
 * rules of user_doc.c): a replica built by another version is rebuilt.
 */
#define USER_INDEX_VERSION 2

/*
 * Each ordering's index carries the texts' signatures and the folded texts
 * after its own columns, so that a filter is tested inside the index while
 * walking it in order.
 */
#define USERS_FILTERS "name_sig, email_sig, name_fold, email_fold);"
#define USERS_ORDER_INDEXES \
	"CREATE INDEX users_by_name ON users(name_fold, uid, name_sig, email_sig," \
	"  email_fold);" \
	"CREATE INDEX users_by_email ON users(email_fold, uid, name_sig, email_sig," \
	"  name_fold);" \
	"CREATE INDEX users_by_age ON users(age, uid, " USERS_FILTERS \
	"CREATE INDEX users_by_created ON users(created_at, created_rev, uid, " \
	USERS_FILTERS \
	"CREATE INDEX users_by_updated ON users(updated_at, mod_rev, uid, " \
	USERS_FILTERS

const char user_index_schema[] =
	"CREATE TABLE users ("
	"  uid TEXT NOT NULL UNIQUE,"
	"  name_fold TEXT NOT NULL,"
	"  email_fold TEXT,"
	"  age INTEGER,"
	"  created_at TEXT NOT NULL,"
	"  created_rev INTEGER NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  mod_rev INTEGER NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  seen_at INTEGER NOT NULL,"	/* kv.updated_at: first seen, µs */
	"  plain INTEGER NOT NULL,"	/* doc is in the server's own form */
	"  doc BLOB NOT NULL"		/* kv.value: a page is read from here */
	");"
	/* USERS_ORDER_INDEXES: made by user_index_rebuild, on first open too */
	"CREATE VIRTUAL TABLE users_text USING fts5(name, email,"
	"  tokenize = 'trigram case_sensitive 1', content = '', detail = full);"
	"CREATE VIRTUAL TABLE users_grams USING fts5(grams,"
	"  tokenize = 'ascii', content = '', detail = none);"
	"INSERT INTO meta VALUES ('user_index', 0), ('user_count', 0);";

/* The texts' signatures (user_query.h), set when the index is rebuilt. */
const char user_index_signatures_schema[] =
	"ALTER TABLE users ADD COLUMN name_sig INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN email_sig INTEGER NOT NULL DEFAULT 0;";

enum ui_statement {
	UI_FIND,
	UI_INSERT,
	UI_UPDATE,
	UI_DELETE,
	UI_TEXT_ADD,
	UI_TEXT_DEL,
	UI_GRAMS_ADD,
	UI_GRAMS_DEL,
	UI_COUNT_ADD,
	UI_META_GET,
	UI_META_SET,
	UI_ROWS,
	UI_STATEMENTS
};

static const char *const ui_sql[UI_STATEMENTS] = {
	[UI_FIND] = "SELECT rowid, name_fold, email_fold FROM users WHERE uid = ?1",
	[UI_INSERT] = "INSERT INTO users (uid, name_fold, email_fold, age,"
	    " created_at, created_rev, updated_at, mod_rev, version, seen_at, plain,"
	    " doc, name_sig, email_sig) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	    " ?10, ?11, ?12, ?13, ?14, ?15)",
	[UI_UPDATE] = "UPDATE users SET uid = ?1, name_fold = ?2, email_fold = ?3,"
	    " age = ?4, created_at = ?5, created_rev = ?6, updated_at = ?7,"
	    " mod_rev = ?8, version = ?10, seen_at = ?11, plain = ?12, doc = ?13,"
	    " name_sig = ?14, email_sig = ?15 WHERE rowid = ?9",
	[UI_DELETE] = "DELETE FROM users WHERE rowid = ?1",
	[UI_TEXT_ADD] = "INSERT INTO users_text (rowid, name, email) VALUES (?1, ?2, ?3)",
	[UI_TEXT_DEL] = "INSERT INTO users_text (users_text, rowid, name, email)"
	    " VALUES ('delete', ?1, ?2, ?3)",
	[UI_GRAMS_ADD] = "INSERT INTO users_grams (rowid, grams) VALUES (?1, ?2)",
	[UI_GRAMS_DEL] = "INSERT INTO users_grams (users_grams, rowid, grams)"
	    " VALUES ('delete', ?1, ?2)",
	[UI_COUNT_ADD] = "UPDATE meta SET value = value + ?1 WHERE name = 'user_count'",
	[UI_META_GET] = "SELECT value FROM meta WHERE name = ?1",
	[UI_META_SET] = "UPDATE meta SET value = ?2 WHERE name = ?1",
	[UI_ROWS] = "SELECT key, value, create_revision, mod_revision, updated_at,"
	    " version FROM kv WHERE key >= 'users/' AND key < 'users0' AND deleted = 0",
};

struct user_index {
	sqlite3			*db;
	sqlite3_stmt		*stmt[UI_STATEMENTS];
	struct user_query_cache	*queries;
	struct buf		 scratch[4];	/* folded texts and their grams */
};

#define UI_WHO "replica: users index"

static void
ui_log_error(struct user_index *ui, const char *what)
{
	log_error(UI_WHO ": %s: %s", what, sqlite3_errmsg(ui->db));
}

static sqlite3_stmt *
ui_stmt(struct user_index *ui, enum ui_statement which)
{
	return sql_prepared(ui->db, &ui->stmt[which], ui_sql[which], UI_WHO);
}

struct user_index *
user_index_open(struct sqlite3 *db)
{
	struct user_index *ui = xcalloc(1, sizeof(*ui));
	size_t i;

	ui->db = db;
	ui->queries = user_query_cache_new(db);
	for (i = 0; i < ARRAY_SIZE(ui->scratch); i++)
		buf_init(&ui->scratch[i]);
	return ui;
}

void
user_index_close(struct user_index *ui)
{
	size_t i;

	if (ui == NULL)
		return;
	for (i = 0; i < UI_STATEMENTS; i++)
		sqlite3_finalize(ui->stmt[i]);
	user_query_cache_free(ui->queries);
	for (i = 0; i < ARRAY_SIZE(ui->scratch); i++)
		buf_free(&ui->scratch[i]);
	free(ui);
}

static int
meta_get(struct user_index *ui, const char *name, int64_t *value)
{
	sqlite3_stmt *s = ui_stmt(ui, UI_META_GET);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*value = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
meta_set(struct user_index *ui, const char *name, int64_t value)
{
	sqlite3_stmt *s = ui_stmt(ui, UI_META_SET);

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, value);
	return sql_run(s, UI_WHO);
}

int
user_index_current(struct user_index *ui)
{
	int64_t version = 0;

	return meta_get(ui, "user_index", &version) == 0 &&
	    version == USER_INDEX_VERSION;
}

/* The words of users_grams for one text: each character, each pair. */
static void
put_grams(struct buf *out, const char *field, const char *text)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + strlen(text);
	size_t n, next;

	for (; p < end; p += n) {
		n = utf8_sequence(p, end);
		n = n ? n : 1;
		user_gram_word(out, field, '1', p, n);
		if (p + n < end) {
			next = utf8_sequence(p + n, end);
			user_gram_word(out, field, '2', p, n + (next ? next : 1));
		}
	}
}

/* What the index keeps of one user, folded into ui's scratch buffers. */
struct folded {
	const char	*name;
	const char	*email;		/* NULL: none */
	const char	*grams;
};

/* folded: the texts are the index's own already, taken as they are. */
static void
fold_fields(struct user_index *ui, int folded, const char *name,
    size_t name_len, const char *email, size_t email_len, struct folded *out)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		buf_reset(&ui->scratch[i]);
		buf_putc(&ui->scratch[i], '\0');
		buf_reset(&ui->scratch[i]);
	}
	if (folded) {
		buf_append(&ui->scratch[0], name, name_len);
		if (email != NULL)
			buf_append(&ui->scratch[1], email, email_len);
	} else {
		fold_append(&ui->scratch[0], name, name_len);
		if (email != NULL)
			fold_append(&ui->scratch[1], email, email_len);
	}
	out->name = ui->scratch[0].data;
	out->email = email != NULL ? ui->scratch[1].data : NULL;
	put_grams(&ui->scratch[2], "n", out->name);
	if (out->email != NULL)
		put_grams(&ui->scratch[2], "e", out->email);
	out->grams = ui->scratch[2].data;
}

/* Add (or, del, take out) rowid's words in both text tables. */
static int
text_rows(struct user_index *ui, int del, int64_t rowid, const struct folded *f)
{
	sqlite3_stmt *s = ui_stmt(ui, del ? UI_TEXT_DEL : UI_TEXT_ADD);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, rowid);
	sqlite3_bind_text(s, 2, f->name, -1, SQLITE_STATIC);
	if (f->email != NULL)
		sqlite3_bind_text(s, 3, f->email, -1, SQLITE_STATIC);
	if (sql_run(s, UI_WHO) == -1 ||
	    (s = ui_stmt(ui, del ? UI_GRAMS_DEL : UI_GRAMS_ADD)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, rowid);
	sqlite3_bind_text(s, 2, f->grams, -1, SQLITE_STATIC);
	return sql_run(s, UI_WHO);
}

/* The user's row as indexed now: 1 with rowid and its texts, 0 none, -1. */
static int
find_row(struct user_index *ui, const char *uid, int64_t *rowid,
    struct folded *old)
{
	sqlite3_stmt *s = ui_stmt(ui, UI_FIND);
	const char *email;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, uid, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*rowid = sqlite3_column_int64(s, 0);
		email = (const char *)sqlite3_column_text(s, 2);
		fold_fields(ui, 1, (const char *)sqlite3_column_text(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1), email,
		    email ? (size_t)sqlite3_column_bytes(s, 2) : 0, old);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ui_log_error(ui, "find");
		return -1;
	}
	return rc == SQLITE_ROW;
}

static int
count_add(struct user_index *ui, int delta)
{
	sqlite3_stmt *s = ui_stmt(ui, UI_COUNT_ADD);

	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, delta);
	return sql_run(s, UI_WHO);
}

/* One user as it is to be indexed: its kv row, and what is read from it. */
struct entry {
	const char	*uid;
	const char	*value;
	size_t		 value_len;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 seen_at;
	struct user_fields fields;
	char		 created_at[32];
	char		 updated_at[32];
	int		 plain;
};

/* Insert it, or (rowid > 0) update the row it had. */
static int
write_row(struct user_index *ui, const struct entry *e, int64_t rowid)
{
	struct folded now;
	sqlite3_stmt *s = ui_stmt(ui, rowid > 0 ? UI_UPDATE : UI_INSERT);

	if (s == NULL)
		return -1;
	fold_fields(ui, 0, e->fields.name, e->fields.name_len, e->fields.email,
	    e->fields.email_len, &now);
	sqlite3_bind_text(s, 1, e->uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, now.name, -1, SQLITE_STATIC);
	if (now.email != NULL)
		sqlite3_bind_text(s, 3, now.email, -1, SQLITE_STATIC);
	if (e->fields.has_age)
		sqlite3_bind_int(s, 4, e->fields.age);
	sqlite3_bind_text(s, 5, e->created_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, e->create_revision);
	sqlite3_bind_text(s, 7, e->updated_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, e->mod_revision);
	if (rowid > 0)
		sqlite3_bind_int64(s, 9, rowid);
	sqlite3_bind_int64(s, 10, e->version);
	sqlite3_bind_int64(s, 11, e->seen_at);
	sqlite3_bind_int(s, 12, e->plain);
	sqlite3_bind_blob(s, 13, e->value, (int)e->value_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 14, (int64_t)user_text_signature(now.name));
	sqlite3_bind_int64(s, 15, now.email != NULL ?
	    (int64_t)user_text_signature(now.email) : 0);
	if (sql_run(s, UI_WHO) == -1)
		return -1;
	if (rowid == 0) {
		rowid = sqlite3_last_insert_rowid(ui->db);
		if (count_add(ui, 1) == -1)
			return -1;
	}
	return text_rows(ui, 0, rowid, &now);
}

/*
 * Is the stored text exactly what the server writes: the members in its
 * order (name, email, age, the others, created_at, updated_at), no "id" or
 * "revision", and json-c printing it back byte for byte? Then a page is
 * cut from the text without parsing it (model/user.c).
 */
static int
plain_text(struct json_object *doc, const struct entry *e)
{
	size_t members = (size_t)json_object_object_length(doc), i = 0;
	size_t email = json_object_object_get_ex(doc, "email", NULL) ? 1 : 0;
	int age = json_object_object_get_ex(doc, "age", NULL);
	const char *text, *want;

	if (e->fields.created_at == NULL || e->fields.updated_at == NULL)
		return 0;
	json_object_object_foreach(doc, name, v) {
		(void)v;
		want = i == 0 ? "name" : i == 1 && email ? "email" :
		    i == 1 + email && age ? "age" : i + 2 == members ? "created_at" :
		    i + 1 == members ? "updated_at" : NULL;
		if (want != NULL ? strcmp(name, want) != 0 :
		    strcmp(name, "id") == 0 || strcmp(name, "revision") == 0)
			return 0;
		i++;
	}
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	return strlen(text) == e->value_len && memcmp(text, e->value, e->value_len) == 0;
}

/*
 * The document at key as an entry: 1, or 0 when it is no user (logged:
 * not JSON, or not what a user is). json is the caller's to put.
 */
static int
read_entry(const char *key, struct json_object **json, struct entry *e)
{
	struct user_problem problems[USER_MAX_PROBLEMS];
	size_t n;

	e->uid = key + strlen(USER_FOLDER);
	if ((*json = stored_doc_parse(key, e->value, e->value_len)) == NULL)
		return 0;	/* stored_doc_parse said why */
	if ((n = user_doc_check(*json, &e->fields, problems,
	    ARRAY_SIZE(problems))) > 0) {
		log_warn("user document %.200s is not valid (%s: %s%s): not "
		    "listed, not searchable", key, problems[0].field[0] ?
		    problems[0].field : "the document", problems[0].message,
		    n > 1 ? ", and more" : "");
		return 0;
	}
	format_rfc3339(e->seen_at / 1000000, e->updated_at, sizeof(e->updated_at));
	snprintf(e->created_at, sizeof(e->created_at), "%s",
	    e->fields.created_at ? e->fields.created_at : e->updated_at);
	if (e->fields.updated_at != NULL)
		snprintf(e->updated_at, sizeof(e->updated_at), "%s",
		    e->fields.updated_at);
	e->plain = plain_text(*json, e);
	return 1;
}

/* A key of the users folder that is no user's: "users/a/b", "users/". */
static int
user_key(const char *key)
{
	const char *uid = key + strlen(USER_FOLDER);

	return strncmp(key, USER_FOLDER, strlen(USER_FOLDER)) == 0 &&
	    *uid != '\0' && strchr(uid, '/') == NULL;
}

int
user_index_apply(struct user_index *ui, const char *key, int deleted,
    const char *value, size_t value_len, int64_t create_revision,
    int64_t mod_revision, int64_t version, int64_t first_seen)
{
	struct json_object *json = NULL;
	struct folded old;
	struct entry e;
	int64_t rowid = 0;
	int found, rc = -1;

	if (!user_key(key))
		return 0;
	memset(&e, 0, sizeof(e));
	e.value = value;
	e.value_len = value_len;
	e.create_revision = create_revision;
	e.mod_revision = mod_revision;
	e.version = version;
	e.seen_at = first_seen;
	if ((found = find_row(ui, key + strlen(USER_FOLDER), &rowid, &old)) == -1)
		return -1;
	if (found && text_rows(ui, 1, rowid, &old) == -1)
		return -1;
	if (!deleted && read_entry(key, &json, &e))
		rc = write_row(ui, &e, found ? rowid : 0);
	else if (found) {
		sqlite3_stmt *s = ui_stmt(ui, UI_DELETE);

		if (s != NULL)
			sqlite3_bind_int64(s, 1, rowid);
		rc = sql_run(s, UI_WHO) == -1 ? -1 : count_add(ui, -1);
	} else
		rc = 0;
	json_object_put(json);
	return rc;
}

/*
 * Everything goes, the ordering indexes too: made again once the rows are
 * in, each in one sorted pass, they cost half of keeping them up row by row.
 */
static int
clear_all(struct user_index *ui)
{
	static const char sql[] = "DROP INDEX IF EXISTS users_by_name;"
	    "DROP INDEX IF EXISTS users_by_email; DROP INDEX IF EXISTS users_by_age;"
	    "DROP INDEX IF EXISTS users_by_created;"
	    "DROP INDEX IF EXISTS users_by_updated;"
	    "DELETE FROM users;"
	    "INSERT INTO users_text (users_text) VALUES ('delete-all');"
	    "INSERT INTO users_grams (users_grams) VALUES ('delete-all');"
	    "UPDATE meta SET value = 0 WHERE name = 'user_count';";

	if (sqlite3_exec(ui->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		ui_log_error(ui, "clear");
		return -1;
	}
	return 0;
}

int
user_index_rebuild(struct user_index *ui)
{
	int64_t started = clock_monotonic_us(), users = 0;
	sqlite3_stmt *s;
	int rc = 0, step;

	if (clear_all(ui) == -1 || (s = ui_stmt(ui, UI_ROWS)) == NULL)
		return -1;
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(s, 0);
		const void *value = sqlite3_column_blob(s, 1);
		struct json_object *json = NULL;
		struct entry e;

		memset(&e, 0, sizeof(e));
		e.value = value ? value : "";
		e.value_len = (size_t)sqlite3_column_bytes(s, 1);
		e.create_revision = sqlite3_column_int64(s, 2);
		e.mod_revision = sqlite3_column_int64(s, 3);
		e.seen_at = sqlite3_column_int64(s, 4);
		e.version = sqlite3_column_int64(s, 5);
		if (user_key(key) && read_entry(key, &json, &e))
			rc = write_row(ui, &e, 0);
		json_object_put(json);
	}
	if (rc == 0 && step != SQLITE_DONE) {
		ui_log_error(ui, "rebuild");
		rc = -1;
	}
	sqlite3_reset(s);
	if (rc == 0 && sqlite3_exec(ui->db, USERS_ORDER_INDEXES, NULL, NULL,
	    NULL) != SQLITE_OK) {
		ui_log_error(ui, "index");
		rc = -1;
	}
	if (rc == -1 || meta_set(ui, "user_index", USER_INDEX_VERSION) == -1 ||
	    meta_get(ui, "user_count", &users) == -1)
		return -1;
	log_info("users index built: %lld users in %lld ms", (long long)users,
	    (long long)(clock_monotonic_us() - started) / 1000);
	return 0;
}

/*
 * FTS5 writes each transaction's words as a new segment, and a query reads
 * every segment: a thousand users created one by one, merged only by
 * FTS5's own automerge, made a search five to ten times slower than the
 * same users in one segment. Each step writes about 200 pages.
 */
int
user_index_compact(struct user_index *ui, int *more)
{
	static const char *const steps[] = {
		"INSERT INTO users_text (users_text, rank) VALUES ('merge', -200)",
		"INSERT INTO users_grams (users_grams, rank) VALUES ('merge', -200)",
	};
	size_t i;

	*more = 0;
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		int before = sqlite3_total_changes(ui->db);

		if (sqlite3_exec(ui->db, steps[i], NULL, NULL, NULL) != SQLITE_OK) {
			ui_log_error(ui, "merge");
			return -1;
		}
		/* The statement itself counts one; FTS5's page writes the rest. */
		*more |= sqlite3_total_changes(ui->db) - before > 1;
	}
	return 0;
}

long
user_index_search(struct user_index *ui, const struct user_query *q,
    struct arena *arena, struct user_hit **hits, int64_t *total)
{
	int64_t users = 0;

	if (meta_get(ui, "user_count", &users) == -1)
		return -1;
	return user_query_run(ui->queries, q, users, arena, hits, total);
}
