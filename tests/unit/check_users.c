/*
 * Users below HTTP: case folding (base/fold.h), the rules of a user
 * document (store/user_doc.h), the two forms and the merge patch
 * (model/user.h), and the replica's users index (store/user_index.h):
 * kept by applied rows, rebuilt by a snapshot, searched with both of its
 * plans, tidied, and never answering a count from before a change.
 */
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/fold.h"
#include "model/user.h"
#include "store/replica.h"
#include "store/store.h"
#include "store/user_doc.h"
#include "store/user_index.h"
#include "store/user_query.h"

#include "check_suites.h"

static char *
folded(const char *text)
{
	static struct buf out;

	buf_reset(&out);
	buf_putc(&out, 'x');
	buf_reset(&out);
	fold_append(&out, text, strlen(text));
	return out.data;
}

START_TEST(test_fold)
{
	ck_assert_str_eq(folded("MARÍA José"), "maría josé");
	ck_assert_str_eq(folded("ÇÃÕÑÜÉ"), "çãõñüé");
	ck_assert_str_eq(folded("ΣΩ Жи ŁŒŸ"), "σω жи łœÿ");
	ck_assert_str_eq(folded("İstanbul"), "istanbul");	/* one to one */
	ck_assert_str_eq(folded("Straße"), "straße");
	ck_assert_str_eq(folded("a\xff" "B"), "a\xff" "b");	/* not UTF-8: kept */
	ck_assert_uint_eq(utf8_count("aé😀", strlen("aé😀")), 3);
	ck_assert_uint_eq(utf8_count("a\xff", 2), 2);
}
END_TEST

START_TEST(test_email_form)
{
	static const char *const good[] = { "a@b", "first.last+tag@sub.example.co",
	    "o'neil@x.org", "A_B@X-Y.Z9", "x@1.2.3.4" };
	static const char *const bad[] = { "", "a", "a@", "@b", "a b@c", "a@b..c",
	    "a@-b.c", "a@b-.c", "a@b_c", "a@.b", "a@b.", "ação@x.com", "a@b@c",
	    "a\"b@c" };
	char longer[300];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(user_email_valid(good[i], strlen(good[i])), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!user_email_valid(bad[i], strlen(bad[i])), "%s", bad[i]);
	memset(longer, 'x', sizeof(longer));
	memcpy(longer + 64, "@b.c", 5);
	ck_assert(user_email_valid(longer, strlen(longer)));	/* 64 before @ */
	memset(longer, 'x', sizeof(longer));
	memcpy(longer + 65, "@b.c", 5);
	ck_assert(!user_email_valid(longer, strlen(longer)));
}
END_TEST

static size_t
problems_of(const char *text, struct user_problem *p)
{
	struct json_object *doc = test_json_parse(text, "a user document");
	struct user_fields f;
	size_t n = user_doc_check(doc, &f, p, USER_MAX_PROBLEMS);

	json_object_put(doc);
	return n;
}

START_TEST(test_document_rules)
{
	struct user_problem p[USER_MAX_PROBLEMS];
	struct json_object *doc;
	struct user_fields f;

	ck_assert_uint_eq(problems_of("{\"name\":\"a\"}", p), 0);
	ck_assert_uint_eq(problems_of("{\"name\":\"a\",\"email\":null,\"age\":null}", p), 0);
	ck_assert_uint_eq(problems_of("{}", p), 1);
	ck_assert_str_eq(p[0].field, "name");
	ck_assert_uint_eq(problems_of("{\"name\":\"\",\"email\":\"x\",\"age\":151}", p), 3);
	ck_assert_uint_eq(problems_of("{\"name\":\"a\",\"age\":1.0}", p), 1);
	ck_assert_uint_eq(problems_of("{\"name\":\"a\",\"age\":\"1\"}", p), 1);
	ck_assert_uint_eq(problems_of("{\"name\":\"a\",\"nome\":\"b\",\"_id\":1}", p), 2);
	ck_assert_uint_eq(problems_of("[1]", p), 1);
	doc = test_json_parse("{\"name\":\"a\",\"email\":\"A@B.c\",\"age\":7,"
	    "\"created_at\":\"2026-01-02T03:04:05Z\",\"updated_at\":\"soon\"}", "doc");
	ck_assert_uint_eq(user_doc_check(doc, &f, p, USER_MAX_PROBLEMS), 0);
	ck_assert_str_eq(f.email, "A@B.c");
	ck_assert(f.has_age && f.age == 7);
	ck_assert_str_eq(f.created_at, "2026-01-02T03:04:05Z");
	ck_assert_ptr_null(f.updated_at);	/* not a timestamp: as if absent */
	json_object_put(doc);
}
END_TEST

START_TEST(test_new_ids)
{
	char a[USER_ID_LEN + 1], b[USER_ID_LEN + 1];

	ck_assert_int_eq(user_new_id(a), 0);
	ck_assert_int_eq(user_new_id(b), 0);
	ck_assert_str_ne(a, b);
	ck_assert_uint_eq(strlen(a), 36);
	ck_assert(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
	ck_assert_int_eq(a[14], '4');
	ck_assert(strchr("89ab", a[19]) != NULL);
	ck_assert(user_id_valid(a));
	ck_assert(!user_id_valid("-x") && !user_id_valid("a/b") && !user_id_valid(""));
}
END_TEST

/* body through user_doc_from_body, printed; "!" and the fields when refused. */
static const char *
from_body(const char *body, enum user_form form, const char *path_id)
{
	static char out[1024];
	struct json_object *json = test_json_parse(body, "a body"), *doc;
	struct user_errors errors;
	size_t i;

	doc = user_doc_from_body(json, form, path_id, &errors);
	if (doc == NULL) {
		snprintf(out, sizeof(out), "!");
		for (i = 0; i < errors.count && i < USER_MAX_PROBLEMS; i++)
			snprintf(out + strlen(out), sizeof(out) - strlen(out), " %s",
			    errors.items[i].field);
	} else {
		snprintf(out, sizeof(out), "%s", json_object_to_json_string_ext(doc,
		    JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(doc);
	json_object_put(json);
	return out;
}

START_TEST(test_bodies_and_forms)
{
	ck_assert_str_eq(from_body("{\"x\":1,\"age\":3,\"name\":\"N\",\"email\":\"e@x\","
	    "\"created_at\":5,\"revision\":9}", USER_FORM_API, NULL),
	    "{\"name\":\"N\",\"email\":\"e@x\",\"age\":3,\"x\":1}");
	ck_assert_str_eq(from_body("{\"idade\":3,\"nome\":\"N\",\"y\":[]}",
	    USER_FORM_SEED, NULL), "{\"name\":\"N\",\"age\":3,\"y\":[]}");
	ck_assert_str_eq(from_body("{\"name\":\"N\",\"nome\":1,\"_id\":2}",
	    USER_FORM_API, NULL), "! nome _id");
	ck_assert_str_eq(from_body("{\"nome\":\"N\",\"name\":1,\"age\":2,\"id\":3}",
	    USER_FORM_SEED, NULL), "! name age id");
	ck_assert_str_eq(from_body("{\"nome\":\"\",\"idade\":-1}", USER_FORM_SEED,
	    NULL), "! nome idade");
	ck_assert_str_eq(from_body("{\"name\":\"N\",\"id\":\"u1\"}", USER_FORM_API,
	    "u1"), "{\"name\":\"N\"}");
	ck_assert_str_eq(from_body("{\"name\":\"N\",\"id\":\"u2\"}", USER_FORM_API,
	    "u1"), "! id");
	ck_assert_str_eq(from_body("{\"name\":\"N\",\"id\":\"u1\"}", USER_FORM_API,
	    NULL), "! id");
}
END_TEST

/* RFC 7386's merge of patch into a stored user; the document printed. */
static const char *
patched(const char *stored, const char *patch)
{
	static char out[1024];
	struct json_object *current = test_json_parse(stored, "stored");
	struct json_object *p = test_json_parse(patch, "patch"), *doc;
	struct user_errors errors;

	doc = user_doc_patch(current, p, "u1", &errors);
	snprintf(out, sizeof(out), "%s", doc == NULL ? "!" :
	    json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	json_object_put(current);
	json_object_put(p);
	return out;
}

START_TEST(test_merge_patch)
{
	const char *stored = "{\"name\":\"N\",\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"},"
	    "\"created_at\":\"2026-01-02T03:04:05Z\",\"updated_at\":\"2026-01-02T03:04:05Z\"}";

	/* RFC 7386, section 3's example, on the user's own members. */
	ck_assert_str_eq(patched(stored, "{\"a\":\"z\",\"c\":{\"f\":null}}"),
	    "{\"name\":\"N\",\"a\":\"z\",\"c\":{\"d\":\"e\"}}");
	ck_assert_str_eq(patched(stored, "{\"c\":[1],\"n\":{\"x\":null,\"y\":{\"z\":null}}}"),
	    "{\"name\":\"N\",\"a\":\"b\",\"c\":[1],\"n\":{\"y\":{}}}");
	ck_assert_str_eq(patched(stored, "{\"a\":null,\"c\":null,\"age\":5}"),
	    "{\"name\":\"N\",\"age\":5}");
	ck_assert_str_eq(patched(stored, "{\"created_at\":\"x\",\"revision\":1}"),
	    "{\"name\":\"N\",\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"}}");
	ck_assert_str_eq(patched(stored, "{\"name\":null}"), "!");
	ck_assert_str_eq(patched(stored, "{\"id\":\"other\"}"), "!");
	ck_assert_str_eq(patched(stored, "{\"nome\":\"x\"}"), "!");
}
END_TEST

/* A stored user as the server writes it, its item, and both renderings. */
static void
check_renderings(const char *body, int64_t revision)
{
	struct json_object *json = test_json_parse(body, "body"), *doc, *slow;
	struct user_errors errors;
	struct user_fields f;
	struct store_item item;
	struct arena arena;
	struct buf fast;
	enum user_form form;

	arena_init(&arena);
	doc = user_doc_from_body(json, USER_FORM_API, NULL, &errors);
	ck_assert_ptr_nonnull(doc);
	memset(&item, 0, sizeof(item));
	item.key = "users/abc";
	item.value = user_doc_text(&arena, doc, "2026-01-02T03:04:05Z");
	item.value_len = strlen(item.value);
	item.mod_revision = revision;
	json_object_put(doc);
	doc = user_doc_read(&item, &f);
	ck_assert_ptr_nonnull(doc);
	for (form = USER_FORM_API; form <= USER_FORM_SEED; form++) {
		buf_init(&fast);
		ck_assert_int_eq(user_render_plain(&fast, &item, form), 0);
		slow = user_to_json(&item, doc, &f, form);
		ck_assert_str_eq(fast.data, json_object_to_json_string_ext(slow,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(slow);
		buf_free(&fast);
	}
	json_object_put(doc);
	json_object_put(json);
	arena_free(&arena);
}

START_TEST(test_plain_rendering_is_json_c_s)
{
	check_renderings("{\"name\":\"Ana \\\"A\\\" ação\"}", 7);
	check_renderings("{\"name\":\"B\",\"email\":\"b@x.org\"}", 12);
	check_renderings("{\"name\":\"C\",\"age\":0,\"z\":{\"age\":1},\"e\":1E2}", 3);
	check_renderings("{\"age\":150,\"email\":\"c@d\",\"x\":[null,true],\"name\":\"D\"}", 9);
}
END_TEST

START_TEST(test_render_refuses_other_shapes)
{
	struct store_item item;
	struct buf out;

	memset(&item, 0, sizeof(item));
	item.key = "users/x";
	item.value = "{\"name\":\"a\"}";
	item.value_len = strlen(item.value);
	buf_init(&out);
	ck_assert_int_eq(user_render_plain(&out, &item, USER_FORM_API), -1);
	ck_assert_int_eq(user_render_plain(&out, &item, USER_FORM_SEED), -1);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}
END_TEST

/* -- the users index, on a replica of its own */

static char db_path[256];
static struct replica *replica;
static struct arena arena;
static int64_t revision;

static void
setup(void)
{
	replica = test_replica_open("users", db_path, sizeof(db_path));
	arena_init(&arena);
	revision = 1;
}

static void
teardown(void)
{
	test_replica_remove(replica, db_path);
	arena_free(&arena);
}

/* A put (text) or, with NULL, a delete of users/id, applied as the watcher does. */
static void
apply(struct replica *r, const char *id, const char *text)
{
	struct replica_event e;
	char key[128];

	snprintf(key, sizeof(key), "users/%s", id);
	memset(&e, 0, sizeof(e));
	e.deleted = text == NULL;
	e.row.key = key;
	e.row.value = text ? text : "";
	e.row.value_len = text ? strlen(text) : 0;
	e.row.create_revision = e.row.mod_revision = ++revision;
	e.row.updated_at = 1700000000000000LL;
	ck_assert_int_eq(replica_apply_events(r, revision, &e, 1, 1000), 0);
}

static void
user(const char *id, const char *name, const char *email, int age)
{
	char text[512];

	snprintf(text, sizeof(text), "{\"name\":\"%s\"%s%s%s,\"age\":%d}", name,
	    email ? ",\"email\":\"" : "", email ? email : "", email ? "\"" : "", age);
	apply(replica, id, text);
}

/* The ids a search finds, joined by spaces, and its total after a '|'. */
static const char *
found(struct replica *r, const struct user_query *q)
{
	static char out[2048];
	struct user_hit *hits;
	int64_t total = -1;
	long n, i;

	n = replica_user_search(r, q, &arena, &hits, &total);
	ck_assert_int_ge(n, 0);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    i ? " " : "", hits[i].id);
	snprintf(out + strlen(out), sizeof(out) - strlen(out), "|%lld",
	    (long long)total);
	return out;
}

static struct user_query
query(const char *name, const char *search, const char *email)
{
	struct user_query q;

	memset(&q, 0, sizeof(q));
	q.name = name;
	q.search = search;
	q.email = email;
	q.limit = 50;
	return q;
}

static void
some_users(void)
{
	user("u1", "Maria Silva", "maria@example.com", 30);
	user("u2", "JOÃO Souza", "joao@x.org", 41);
	user("u3", "ana maria", NULL, 22);
	user("u4", "Zé", "ze@EXAMPLE.com", 30);
}

START_TEST(test_index_filters)
{
	struct user_query q;

	some_users();
	q = query("MARIA", NULL, NULL);
	ck_assert_str_eq(found(replica, &q), "u1 u3|2");
	q = query("ão", NULL, NULL);
	ck_assert_str_eq(found(replica, &q), "u2|1");
	q = query("a", NULL, NULL);		/* one character */
	ck_assert_str_eq(found(replica, &q), "u1 u2 u3|3");
	q = query("zé", NULL, NULL);		/* two */
	ck_assert_str_eq(found(replica, &q), "u4|1");
	q = query(NULL, "example", NULL);	/* the email too */
	ck_assert_str_eq(found(replica, &q), "u1 u4|2");
	q = query(NULL, "x", NULL);
	ck_assert_str_eq(found(replica, &q), "u1 u2 u4|3");
	q = query(NULL, NULL, "ZE@example.COM");
	ck_assert_str_eq(found(replica, &q), "u4|1");
	q = query("maria", "example", NULL);
	ck_assert_str_eq(found(replica, &q), "u1|1");
	q = query("nobody", NULL, NULL);
	ck_assert_str_eq(found(replica, &q), "|0");
}
END_TEST

START_TEST(test_index_orders_and_pages)
{
	struct user_query q = query(NULL, NULL, NULL);

	some_users();
	q.order[0] = USER_ORDER_AGE;
	q.descending[0] = 1;
	q.order[1] = USER_ORDER_NAME;
	q.norder = 2;
	ck_assert_str_eq(found(replica, &q), "u2 u1 u4 u3|4");
	q.descending[0] = 0;
	q.limit = 2;
	q.offset = 1;
	ck_assert_str_eq(found(replica, &q), "u1 u4|4");
	q = query("a", NULL, NULL);
	q.order[0] = USER_ORDER_EMAIL;		/* no email first */
	q.norder = 1;
	ck_assert_str_eq(found(replica, &q), "u3 u2 u1|3");
	q.limit = -1;
	q.order[0] = USER_ORDER_CREATED_AT;
	q.descending[0] = 1;
	ck_assert_str_eq(found(replica, &q), "u3 u2 u1|3");
}
END_TEST

START_TEST(test_index_follows_changes)
{
	struct user_query q = query("maria", NULL, NULL);

	some_users();
	ck_assert_str_eq(found(replica, &q), "u1 u3|2");
	user("u1", "Mario Silva", NULL, 30);		/* renamed */
	ck_assert_str_eq(found(replica, &q), "u3|1");
	apply(replica, "u3", NULL);			/* deleted */
	ck_assert_str_eq(found(replica, &q), "|0");
	apply(replica, "u3", "{\"name\":\"maria\",\"age\":\"x\"}");	/* not valid */
	ck_assert_str_eq(found(replica, &q), "|0");
	apply(replica, "bad", "{not json");
	apply(replica, "nested/x", "{\"name\":\"maria\"}");	/* no user's key */
	user("u5", "Maria", NULL, 1);
	ck_assert_str_eq(found(replica, &q), "u5|1");
	q = query(NULL, NULL, NULL);
	ck_assert_str_eq(found(replica, &q), "u2 u4 u1 u5|4");
}
END_TEST

/* A change through another connection moves the count, cached or not. */
START_TEST(test_counts_follow_other_writers)
{
	struct user_query q = query("sil", NULL, NULL);
	struct replica *other;
	char err[256];

	some_users();
	ck_assert_str_eq(found(replica, &q), "u1|1");
	other = replica_open(db_path, err, sizeof(err));
	ck_assert_ptr_nonnull(other);
	apply(other, "u6", "{\"name\":\"Silvio\"}");
	ck_assert_str_eq(found(replica, &q), "u1 u6|2");
	apply(replica, "u7", "{\"name\":\"Silas\"}");
	ck_assert_str_eq(found(other, &q), "u1 u6 u7|3");
	ck_assert_str_eq(found(replica, &q), "u1 u6 u7|3");
	replica_close(other);
}
END_TEST

START_TEST(test_snapshot_rebuilds_the_index)
{
	struct replica_row rows[3];
	struct user_query q = query("a", NULL, NULL);
	size_t i;

	some_users();
	memset(rows, 0, sizeof(rows));
	rows[0].key = "users/s1";
	rows[0].value = "{\"name\":\"Sara\"}";
	rows[1].key = "users/s2";
	rows[1].value = "{\"name\":\"bad\",\"email\":5}";
	rows[2].key = "config/x";
	rows[2].value = "1";
	for (i = 0; i < 3; i++) {
		rows[i].value_len = strlen(rows[i].value);
		rows[i].create_revision = rows[i].mod_revision = 100 + (int64_t)i;
	}
	ck_assert_int_eq(replica_snapshot_begin(replica), 0);
	ck_assert_int_eq(replica_snapshot_add(replica, rows, 3), 0);
	ck_assert_int_eq(replica_snapshot_commit(replica, 200), 0);
	ck_assert_str_eq(found(replica, &q), "s1|1");
	q = query(NULL, NULL, NULL);
	ck_assert_str_eq(found(replica, &q), "s1|1");
}
END_TEST

/*
 * A replica whose index was built before the signatures (all 0, index
 * version 1) is rebuilt when opened: a walk then still finds its users.
 */
START_TEST(test_an_index_without_signatures_is_rebuilt)
{
	struct user_query q = query("silva", NULL, NULL);
	char id[16], err[256];
	sqlite3 *db;
	int i;

	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "s%02d", i);
		user(id, i % 2 ? "Ana Silva" : "Rui Souza", NULL, i);
	}
	q.order[0] = USER_ORDER_AGE;
	q.norder = 1;
	q.limit = 2;
	ck_assert_str_eq(found(replica, &q), "s01 s03|20");
	replica_close(replica);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE users SET name_sig = 0,"
	    " email_sig = 0; UPDATE meta SET value = 1 WHERE name = 'user_index'",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	replica = replica_open(db_path, err, sizeof(err));
	ck_assert_msg(replica != NULL, "reopen: %s", err);
	ck_assert_str_eq(found(replica, &q), "s01 s03|20");
}
END_TEST

/* A text holds every substring's signature bits; short texts have none. */
START_TEST(test_signatures_hold_substrings)
{
	static const char *const texts[] = { "maria da silva", "joão conceição",
	    "ana@example.com", "zé", "ab", "abc", "\xe2\x82\xac\xe2\x82\xac" };
	char sub[64];
	uint64_t whole;
	size_t t, from, len, n;

	ck_assert_uint_eq(user_text_signature(""), 0);
	ck_assert_uint_eq(user_text_signature("ab"), 0);
	ck_assert_uint_ne(user_text_signature("abc"), 0);
	for (t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		whole = user_text_signature(texts[t]);
		n = strlen(texts[t]);
		for (from = 0; from < n; from++)
			for (len = 1; from + len <= n; len++) {
				memcpy(sub, texts[t] + from, len);
				sub[len] = '\0';
				ck_assert_msg((user_text_signature(sub) & ~whole) == 0,
				    "%s in %s", sub, texts[t]);
			}
	}
	/* Not a constant: other texts set other bits. */
	ck_assert_uint_ne(user_text_signature("sil"), user_text_signature("mar"));
}
END_TEST

/*
 * A replica as the version before the signatures left it (schema 4, no
 * signature columns, the ordering indexes without them, index version 1)
 * gets the columns, is rebuilt once, and its walks find their users.
 */
START_TEST(test_a_replica_of_the_previous_version_is_migrated)
{
	struct user_query q = query("silva", NULL, NULL);
	char id[16], err[256];
	sqlite3 *db;
	sqlite3_stmt *s;
	int i, sig_columns = 0;

	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "s%02d", i);
		user(id, i % 2 ? "Ana Silva" : "Rui Souza", i % 4 ? "ana@silva.pt" : NULL, i);
	}
	replica_close(replica);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
	    "DROP INDEX users_by_name; DROP INDEX users_by_email;"
	    "DROP INDEX users_by_age; DROP INDEX users_by_created;"
	    "DROP INDEX users_by_updated;"
	    "ALTER TABLE users DROP COLUMN name_sig;"
	    "ALTER TABLE users DROP COLUMN email_sig;"
	    "CREATE INDEX users_by_name ON users(name_fold, uid, email_fold);"
	    "CREATE INDEX users_by_email ON users(email_fold, uid, name_fold);"
	    "CREATE INDEX users_by_age ON users(age, uid, name_fold, email_fold);"
	    "CREATE INDEX users_by_created ON users(created_at, created_rev, uid,"
	    "  name_fold, email_fold);"
	    "CREATE INDEX users_by_updated ON users(updated_at, mod_rev, uid,"
	    "  name_fold, email_fold);"
	    "UPDATE meta SET value = 1 WHERE name = 'user_index';"
	    "PRAGMA user_version = 4;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	replica = replica_open(db_path, err, sizeof(err));
	ck_assert_msg(replica != NULL, "reopen: %s", err);
	q.order[0] = USER_ORDER_AGE;
	q.norder = 1;
	q.limit = 2;
	ck_assert_str_eq(found(replica, &q), "s01 s03|20");
	q = query(NULL, "silva", NULL);
	q.order[0] = USER_ORDER_NAME;
	q.descending[0] = 1;
	q.norder = 1;
	q.limit = 3;
	ck_assert_str_eq(found(replica, &q), "s38 s34 s30|30");
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM"
	    " pragma_index_info('users_by_age') WHERE name LIKE '%_sig'", -1, &s,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	sig_columns = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	ck_assert_int_eq(sig_columns, 2);
}
END_TEST

START_TEST(test_both_plans_agree)
{
	struct user_query q;
	char id[16], name[64];
	int i;
	const char *walked, *sorted;
	char first[2048];

	/* Many matches: the page is cut by walking the age index. */
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "w%03d", i);
		snprintf(name, sizeof(name), "%s %d", i % 3 ? "Ana" : "Rui", i);
		user(id, name, NULL, i % 151);
	}
	q = query("ana", NULL, NULL);
	q.order[0] = USER_ORDER_AGE;
	q.descending[0] = 1;
	q.norder = 1;
	q.limit = 5;
	walked = found(replica, &q);
	snprintf(first, sizeof(first), "%s", walked);
	/* Every match asked for at once: they are sorted instead. */
	q.limit = 1000;
	sorted = found(replica, &q);
	ck_assert_msg(strncmp(sorted, first, strchr(first, '|') - first) == 0,
	    "%s / %s", first, sorted);
	ck_assert_str_eq(strchr(first, '|'), "|200");
	ck_assert_int_eq(replica_compact(replica, 10000000), 0);
	q.limit = 5;
	ck_assert_str_eq(found(replica, &q), first);
}
END_TEST

Suite *
users_suite(void)
{
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("documents");
	TCase *ix = tcase_create("index");

	tcase_add_test(tc, test_fold);
	tcase_add_test(tc, test_email_form);
	tcase_add_test(tc, test_document_rules);
	tcase_add_test(tc, test_new_ids);
	tcase_add_test(tc, test_bodies_and_forms);
	tcase_add_test(tc, test_merge_patch);
	tcase_add_test(tc, test_plain_rendering_is_json_c_s);
	tcase_add_test(tc, test_render_refuses_other_shapes);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ix, setup, teardown);
	tcase_add_test(ix, test_index_filters);
	tcase_add_test(ix, test_index_orders_and_pages);
	tcase_add_test(ix, test_index_follows_changes);
	tcase_add_test(ix, test_counts_follow_other_writers);
	tcase_add_test(ix, test_snapshot_rebuilds_the_index);
	tcase_add_test(ix, test_both_plans_agree);
	tcase_add_test(ix, test_signatures_hold_substrings);
	tcase_add_test(ix, test_an_index_without_signatures_is_rebuilt);
	tcase_add_test(ix, test_a_replica_of_the_previous_version_is_migrated);
	suite_add_tcase(s, ix);
	return s;
}
