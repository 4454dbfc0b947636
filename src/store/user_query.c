/*
 * Searching the users index; see user_query.h.
 *
 * Costs, measured on 100,000 users: sorting the matches of an FTS5 query
 * costs about 1 µs per match; walking an ordering's covering index and
 * testing each entry with instr() about 0.07 µs per entry. A page of L
 * items from offset O among T matches of N users walks about
 * (O + L) * N / T entries, so the walk wins unless the matches are few.
 * Of a walked entry's cost, comparing texts was two thirds: a signature
 * test (user_text_signature) in front of it halved a walk's time (for a
 * 3-letter name, 6% of 100,000 users pass it, 3.3% match). A walk picks the
 * page's rows from the index alone and reads the table for those only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/fold.h"
#include "base/log.h"
#include "base/util.h"
#include "store/user_index.h"
#include "store/user_query.h"

#define QUERY_CACHE 32
/* How much cheaper an index entry walked is than a match sorted. */
#define WALK_COST_DIVISOR 10

/* The bound parameters of every statement here, by number. */
enum { P_NAME = 1, P_SEARCH, P_EMAIL, P_MATCH, P_LIMIT, P_OFFSET, P_NAME_SIG,
	P_SEARCH_SIG };

struct cached {
	char		*sql;
	sqlite3_stmt	*stmt;
	uint64_t	 used;
};

/*
 * How many users a term matches, while the database stays as it was: the
 * count is the one part of a search whose cost grows with its matches
 * (FTS5 reads the whole doclist), and the same searches come again.
 */
#define COUNT_CACHE 64

struct counted {
	char		*match;		/* the term's FTS5 query; NULL: free */
	uint64_t	 version;	/* the database's data version then */
	int64_t		 count;
};

struct user_query_cache {
	sqlite3		*db;
	struct cached	 slot[QUERY_CACHE];
	uint64_t	 clock;
	struct counted	 counts[COUNT_CACHE];
	size_t		 next_count;	/* the slot a new count replaces */
};

struct user_query_cache *
user_query_cache_new(struct sqlite3 *db)
{
	struct user_query_cache *c = xcalloc(1, sizeof(*c));

	c->db = db;
	return c;
}

void
user_query_cache_free(struct user_query_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < QUERY_CACHE; i++) {
		sqlite3_finalize(c->slot[i].stmt);
		free(c->slot[i].sql);
	}
	for (i = 0; i < COUNT_CACHE; i++)
		free(c->counts[i].match);
	free(c);
}

/* The statement for sql, prepared once per shape (the least used goes). */
static sqlite3_stmt *
prepared(struct user_query_cache *c, const char *sql)
{
	struct cached *slot = &c->slot[0];
	size_t i;

	for (i = 0; i < QUERY_CACHE; i++) {
		if (c->slot[i].sql != NULL && strcmp(c->slot[i].sql, sql) == 0) {
			c->slot[i].used = ++c->clock;
			sqlite3_reset(c->slot[i].stmt);
			sqlite3_clear_bindings(c->slot[i].stmt);
			return c->slot[i].stmt;
		}
		if (c->slot[i].used < slot->used)
			slot = &c->slot[i];
	}
	sqlite3_finalize(slot->stmt);
	free(slot->sql);
	memset(slot, 0, sizeof(*slot));
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &slot->stmt, NULL) != SQLITE_OK) {
		log_error("replica: users query: %s: %s", sqlite3_errmsg(c->db), sql);
		slot->stmt = NULL;
		return NULL;
	}
	slot->sql = xstrdup(sql);
	slot->used = ++c->clock;
	return slot->stmt;
}

void
user_gram_word(struct buf *out, const char *field, char kind,
    const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (out->len > 0)
		buf_putc(out, ' ');
	buf_puts(out, field);
	buf_putc(out, kind);
	for (i = 0; i < n; i++) {
		buf_putc(out, hex[p[i] >> 4]);
		buf_putc(out, hex[p[i] & 0xf]);
	}
}

uint64_t
user_text_signature(const char *folded)
{
	const unsigned char *p = (const unsigned char *)folded;
	size_t i, n = strlen(folded);
	uint64_t signature = 0;
	uint32_t h;

	for (i = 0; i + 3 <= n; i++) {
		/* FNV-1a of the three bytes, its halves folded together */
		h = ((2166136261u ^ p[i]) * 16777619u ^ p[i + 1]) * 16777619u;
		h = (h ^ p[i + 2]) * 16777619u;
		signature |= UINT64_C(1) << ((h ^ h >> 16) & 63);
	}
	return signature;
}

/* A substring filter as the index looks it up. */
struct term {
	const char	*fold;		/* the folded text, bound for instr() */
	uint64_t	 signature;	/* its signature, bound beside it */
	const char	*match;		/* its FTS5 query */
	int		 grams;		/* 1: users_grams, 0: users_text */
	int		 never;		/* not UTF-8: in no name, no email */
	int64_t		 count;		/* users it matches */
};

static int
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	size_t n;

	for (; p < end; p += n)
		if ((n = utf8_sequence(p, end)) == 0)
			return 0;
	return 1;
}

/* An FTS5 phrase: the text in double quotes, a quote doubled. */
static void
put_phrase(struct buf *out, const char *text)
{
	buf_putc(out, '"');
	for (; *text != '\0'; text++) {
		if (*text == '"')
			buf_putc(out, '"');
		buf_putc(out, *text);
	}
	buf_putc(out, '"');
}

/* One or two characters: the words of users_grams that hold them. */
static void
put_gram_query(struct buf *out, const char *fold, size_t chars, int both)
{
	const unsigned char *p = (const unsigned char *)fold;
	size_t len = strlen(fold);
	char kind = chars == 1 ? '1' : '2';

	user_gram_word(out, "n", kind, p, len);
	if (both) {
		buf_puts(out, " OR");
		user_gram_word(out, "e", kind, p, len);
	}
}

/* text as a term; both: in the name or the email (?search=). */
static void
make_term(struct arena *arena, const char *text, int both, struct term *t)
{
	struct buf b;
	size_t chars;

	buf_init(&b);
	fold_append(&b, text, strlen(text));
	t->fold = arena_strndup(arena, b.data ? b.data : "", b.len);
	t->never = !utf8_valid(t->fold);
	t->signature = user_text_signature(t->fold);
	chars = utf8_count(t->fold, strlen(t->fold));
	buf_reset(&b);
	t->grams = chars < 3;
	if (t->grams)
		put_gram_query(&b, t->fold, chars, both);
	else {
		if (!both)
			buf_puts(&b, "name : ");
		put_phrase(&b, t->fold);
	}
	t->match = arena_strndup(arena, b.data ? b.data : "", b.len);
	buf_free(&b);
}

/* What is bound: the filters' texts and the driving term's query. */
struct binding {
	const char	*name;
	const char	*search;
	const char	*email;
	const char	*match;
	int64_t		 limit;
	int64_t		 offset;
	uint64_t	 name_signature;
	uint64_t	 search_signature;
};

static void
bind_all(sqlite3_stmt *s, const struct binding *b)
{
	int n = sqlite3_bind_parameter_count(s);

	if (n >= P_NAME && b->name != NULL)
		sqlite3_bind_text(s, P_NAME, b->name, -1, SQLITE_STATIC);
	if (n >= P_SEARCH && b->search != NULL)
		sqlite3_bind_text(s, P_SEARCH, b->search, -1, SQLITE_STATIC);
	if (n >= P_EMAIL && b->email != NULL)
		sqlite3_bind_text(s, P_EMAIL, b->email, -1, SQLITE_STATIC);
	if (n >= P_MATCH && b->match != NULL)
		sqlite3_bind_text(s, P_MATCH, b->match, -1, SQLITE_STATIC);
	if (n >= P_LIMIT)
		sqlite3_bind_int64(s, P_LIMIT, b->limit);
	if (n >= P_OFFSET)
		sqlite3_bind_int64(s, P_OFFSET, b->offset);
	/* The bits as they are: SQLite's integers are signed. */
	if (n >= P_NAME_SIG)
		sqlite3_bind_int64(s, P_NAME_SIG, (int64_t)b->name_signature);
	if (n >= P_SEARCH_SIG)
		sqlite3_bind_int64(s, P_SEARCH_SIG, (int64_t)b->search_signature);
}

/* The single number a counting statement answers; -1 on error. */
static int64_t
count_rows(struct user_query_cache *c, const char *sql, const struct binding *b)
{
	sqlite3_stmt *s = prepared(c, sql);
	int64_t n = -1;

	if (s == NULL)
		return -1;
	bind_all(s, b);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		log_error("replica: users count: %s", sqlite3_errmsg(c->db));
	sqlite3_reset(s);
	return n;
}

static const char *
term_table(const struct term *t)
{
	return t->grams ? "users_grams" : "users_text";
}

/*
 * The database's data version, which any commit moves (this
 * connection's own too): inside a read transaction, its state's.
 */
static uint64_t
data_version(struct user_query_cache *c)
{
	unsigned int version = 0;

	sqlite3_file_control(c->db, "main", SQLITE_FCNTL_DATA_VERSION, &version);
	return version;
}

static int64_t
term_count(struct user_query_cache *c, struct arena *arena, struct term *t)
{
	struct binding b = { .match = t->match };
	uint64_t version = data_version(c);
	struct counted *slot;
	size_t i;

	for (i = 0; i < COUNT_CACHE; i++)
		if (c->counts[i].match != NULL && c->counts[i].version == version &&
		    strcmp(c->counts[i].match, t->match) == 0)
			return t->count = c->counts[i].count;
	t->count = count_rows(c, arena_concat(arena, "SELECT count(*) FROM ",
	    term_table(t), " WHERE ", term_table(t), " MATCH ?4", (char *)NULL), &b);
	if (t->count >= 0) {
		slot = &c->counts[c->next_count++ % COUNT_CACHE];
		free(slot->match);
		slot->match = xstrdup(t->match);
		slot->version = version;
		slot->count = t->count;
	}
	return t->count;
}

/* Every filter of the query, as a condition on a row of users u. */
static void
put_where(struct buf *sql, const struct binding *b)
{
	const char *and = "";

	buf_puts(sql, " WHERE ");
	if (b->name != NULL) {
		buf_puts(sql, "(u.name_sig & ?7) = ?7 AND instr(u.name_fold, ?1) > 0");
		and = " AND ";
	}
	if (b->search != NULL) {
		buf_puts(sql, and);
		buf_puts(sql, "((u.name_sig & ?8) = ?8 AND instr(u.name_fold, ?2) > 0"
		    " OR (u.email_sig & ?8) = ?8 AND instr(u.email_fold, ?2) > 0)");
		and = " AND ";
	}
	if (b->email != NULL) {
		buf_puts(sql, and);
		buf_puts(sql, "u.email_fold = ?3");
		and = " AND ";
	}
	if (*and == '\0')
		buf_puts(sql, "1");
}

static const char *const order_index[] = {
	[USER_ORDER_NAME] = "users_by_name",
	[USER_ORDER_EMAIL] = "users_by_email",
	[USER_ORDER_AGE] = "users_by_age",
	[USER_ORDER_CREATED_AT] = "users_by_created",
	[USER_ORDER_UPDATED_AT] = "users_by_updated",
};

/* The columns of each field, in its index's order. */
static const char *const order_columns[][2] = {
	[USER_ORDER_NAME] = { "name_fold", NULL },
	[USER_ORDER_EMAIL] = { "email_fold", NULL },
	[USER_ORDER_AGE] = { "age", NULL },
	[USER_ORDER_CREATED_AT] = { "created_at", "created_rev" },
	[USER_ORDER_UPDATED_AT] = { "updated_at", "mod_rev" },
};

/* ORDER BY the fields of users row, then the id in the first field's direction. */
static void
put_order(struct buf *sql, const struct user_query *q, const char *row)
{
	enum user_order_field first = q->norder ? q->order[0] : USER_ORDER_CREATED_AT;
	const char *dir, *first_dir = q->norder && q->descending[0] ? " DESC" : "";
	size_t i, j, n = q->norder ? q->norder : 1;

	buf_puts(sql, " ORDER BY ");
	for (i = 0; i < n; i++) {
		enum user_order_field f = q->norder ? q->order[i] : first;

		dir = q->norder && q->descending[i] ? " DESC" : "";
		for (j = 0; j < 2 && order_columns[f][j] != NULL; j++) {
			buf_puts(sql, row);
			buf_putc(sql, '.');
			buf_puts(sql, order_columns[f][j]);
			buf_puts(sql, dir);
			buf_puts(sql, ", ");
		}
	}
	buf_puts(sql, row);
	buf_puts(sql, ".uid");
	buf_puts(sql, first_dir);
}

/* How the page is cut. */
enum driver { DRIVE_ALL, DRIVE_EMAIL, DRIVE_TERM };

static void
put_source(struct buf *sql, enum driver driver, const struct term *term,
    const struct user_query *q, int walk)
{
	if (driver == DRIVE_TERM && !walk) {
		buf_puts(sql, " FROM (SELECT rowid FROM ");
		buf_puts(sql, term_table(term));
		buf_puts(sql, " WHERE ");
		buf_puts(sql, term_table(term));
		buf_puts(sql, " MATCH ?4) d CROSS JOIN users u ON u.rowid = d.rowid");
		return;
	}
	buf_puts(sql, " FROM users u INDEXED BY ");
	buf_puts(sql, driver == DRIVE_EMAIL ? "users_by_email" :
	    order_index[q->norder ? q->order[0] : USER_ORDER_CREATED_AT]);
}

/* The users of the page; their count, or -1. */
static long
page_hits(struct user_query_cache *c, const char *sql, const struct binding *b,
    int64_t total, struct arena *arena, struct user_hit **hits)
{
	int64_t room = b->limit < 0 || b->limit > total ? total : b->limit;
	sqlite3_stmt *s = prepared(c, sql);
	long n = 0;
	int rc = SQLITE_DONE;

	*hits = arena_alloc(arena, sizeof(**hits) * (size_t)(room > 0 ? room : 1));
	if (s == NULL)
		return -1;
	bind_all(s, b);
	while (n < room && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct user_hit *h = &(*hits)[n++];
		const void *doc = sqlite3_column_blob(s, 1);

		h->id = arena_strdup(arena, (const char *)sqlite3_column_text(s, 0));
		h->doc_len = (size_t)sqlite3_column_bytes(s, 1);
		h->doc = arena_strndup(arena, doc ? doc : "", h->doc_len);
		h->create_revision = sqlite3_column_int64(s, 2);
		h->mod_revision = sqlite3_column_int64(s, 3);
		h->version = sqlite3_column_int64(s, 4);
		h->seen_at = sqlite3_column_int64(s, 5);
		h->plain = sqlite3_column_int(s, 6);
	}
	if (n < room && rc != SQLITE_DONE) {
		log_error("replica: users page: %s", sqlite3_errmsg(c->db));
		n = -1;
	}
	sqlite3_reset(s);
	return n;
}

/* The plan: which filter drives, and the number of matches. */
struct plan {
	struct binding	 b;
	struct term	 terms[2];
	size_t		 nterms;
	enum driver	 driver;
	const struct term *term;	/* DRIVE_TERM: the driving one */
	int		 never;		/* a term is not UTF-8: no match */
};

static int
plan_query(struct user_query_cache *c, const struct user_query *q,
    struct arena *arena, struct plan *p)
{
	struct buf email;
	size_t i;

	if (q->name != NULL) {
		make_term(arena, q->name, 0, &p->terms[p->nterms]);
		p->b.name_signature = p->terms[p->nterms].signature;
		p->b.name = p->terms[p->nterms++].fold;
	}
	if (q->search != NULL) {
		make_term(arena, q->search, 1, &p->terms[p->nterms]);
		p->b.search_signature = p->terms[p->nterms].signature;
		p->b.search = p->terms[p->nterms++].fold;
	}
	for (i = 0; i < p->nterms; i++)
		p->never |= p->terms[i].never;
	if (p->never)
		return 0;	/* matches nobody: nothing to look up */
	if (q->email != NULL) {
		buf_init(&email);
		fold_append(&email, q->email, strlen(q->email));
		p->b.email = arena_strndup(arena, email.data ? email.data : "", email.len);
		buf_free(&email);
		p->driver = DRIVE_EMAIL;
		return 0;
	}
	for (i = 0; i < p->nterms; i++) {
		if (term_count(c, arena, &p->terms[i]) < 0)
			return -1;
		if (p->term == NULL || p->terms[i].count < p->term->count)
			p->term = &p->terms[i];
	}
	p->driver = p->term != NULL ? DRIVE_TERM : DRIVE_ALL;
	p->b.match = p->term != NULL ? p->term->match : NULL;
	return 0;
}

/* Every match, counted; the driving term's own count when it is the only filter. */
static int64_t
count_matches(struct user_query_cache *c, const struct plan *p, int64_t users)
{
	struct buf sql;
	int64_t n;

	if (p->never)
		return 0;
	if (p->driver == DRIVE_ALL)
		return users;
	if (p->driver == DRIVE_TERM && (p->nterms == 1 || p->term->count == 0))
		return p->term->count;
	buf_init(&sql);
	buf_puts(&sql, "SELECT count(*)");
	put_source(&sql, p->driver, p->term, NULL, 0);
	put_where(&sql, &p->b);
	n = count_rows(c, sql.data, &p->b);
	buf_free(&sql);
	return n;
}

/*
 * The page's statement. A walk cuts the page in the index alone (the rowids
 * of its rows), then reads those rows: reading the row of every entry
 * walked, as the plain form does, cost a fifth of the walk.
 */
static void
put_page(struct buf *sql, const struct plan *p, const struct user_query *q,
    int walk)
{
	const char *row = walk ? "x" : "u";
	static const char *const columns[] = { "uid", "doc", "created_rev",
	    "mod_rev", "version", "seen_at", "plain" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(columns); i++) {
		buf_puts(sql, i == 0 ? "SELECT " : ", ");
		buf_puts(sql, row);
		buf_putc(sql, '.');
		buf_puts(sql, columns[i]);
	}
	if (walk)
		buf_puts(sql, " FROM (SELECT u.rowid AS r");
	put_source(sql, p->driver, p->term, q, walk);
	put_where(sql, &p->b);
	put_order(sql, q, "u");
	buf_puts(sql, " LIMIT ?5 OFFSET ?6");
	if (walk) {
		buf_puts(sql, ") w CROSS JOIN users x ON x.rowid = w.r");
		put_order(sql, q, "x");
	}
}

long
user_query_run(struct user_query_cache *c, const struct user_query *q,
    int64_t users, struct arena *arena, struct user_hit **hits, int64_t *total)
{
	struct plan p;
	struct buf sql;
	int64_t need;
	long n;
	int walk;

	memset(&p, 0, sizeof(p));
	*hits = NULL;
	if (plan_query(c, q, arena, &p) == -1 ||
	    (*total = count_matches(c, &p, users)) < 0)
		return -1;
	if (*total == 0 || q->limit == 0)
		return 0;
	p.b.limit = q->limit;
	p.b.offset = q->offset;
	/* Entries a walk reads against matches a sort reads (see the top). */
	need = q->limit < 0 ? users : q->offset + q->limit;
	walk = p.driver == DRIVE_ALL || (p.driver == DRIVE_TERM &&
	    (double)need * (double)users / (double)*total / WALK_COST_DIVISOR <
	    (double)*total);
	buf_init(&sql);
	put_page(&sql, &p, q, walk);
	n = page_hits(c, sql.data, &p.b, *total, arena, hits);
	buf_free(&sql);
	return n;
}
