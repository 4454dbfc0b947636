/*
 * The users index: tables derived from the replica's users/ rows, so that
 * lists and searches of users never scan etcd, nor every user.
 *
 * replica.c calls user_index_apply for every users/ row it applies (the
 * watcher's events, a responder's write-through: in the same SQLite
 * transaction as the row itself) and user_index_rebuild when a snapshot
 * replaces everything. A document user_doc.c refuses is logged and left
 * out; the others are indexed whatever it holds.
 *
 * What is kept, per user: its id, name and email case-folded (fold.h),
 * age, created_at and updated_at with the etcd revisions that break their
 * ties. B-tree indexes serve equality and every ordering, each covering
 * the folded texts so that a filter is tested inside the index. Two FTS5
 * tables serve substrings: a trigram one (3 characters or more) and one of
 * the texts' single characters and character pairs as words (1 or 2
 * characters). A search first counts its matches in one of them, then
 * either sorts the matches (few) or walks the ordering's index until the
 * page is full (many); either way its cost follows the matches and the
 * page, never the number of users.
 */
#ifndef DYNCONF_USER_INDEX_H
#define DYNCONF_USER_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct sqlite3;

enum user_order_field {
	USER_ORDER_NAME,
	USER_ORDER_EMAIL,
	USER_ORDER_AGE,
	USER_ORDER_CREATED_AT,
	USER_ORDER_UPDATED_AT,
};

#define USER_ORDER_MAX 4

/* A list of users: filters (NULL: none), an order, a page. */
struct user_query {
	const char		*name;		/* a substring of the name */
	const char		*search;	/* a substring of the name or the email */
	const char		*email;		/* the email, in any case */
	enum user_order_field	 order[USER_ORDER_MAX];
	int			 descending[USER_ORDER_MAX];
	size_t			 norder;	/* 0: created_at */
	int64_t			 limit;		/* -1: all */
	int64_t			 offset;
};

/* A user a search found: its replica row, as the index keeps it. */
struct user_hit {
	const char	*id;
	const char	*doc;		/* the stored text */
	size_t		 doc_len;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 seen_at;	/* unix µs this node first saw the revision */
	int		 plain;		/* doc is exactly as the server writes it */
};

/*
 * The schema of the index's tables, and the signatures added to it later:
 * two of the replica's migrations.
 */
extern const char user_index_schema[];
extern const char user_index_signatures_schema[];

struct user_index;

struct user_index *user_index_open(struct sqlite3 *db);
void	user_index_close(struct user_index *ui);

/*
 * The row at key (relative: "users/ID") changed: a put of value, or a
 * delete. first_seen (unix µs) stands for a timestamp the document lacks.
 * Called inside the caller's transaction; 0, or -1 on a SQLite error.
 */
int	user_index_apply(struct user_index *ui, const char *key, int deleted,
	    const char *value, size_t value_len, int64_t create_revision,
	    int64_t mod_revision, int64_t version, int64_t first_seen);

/* Make the index again from the replica's users/ rows; inside a transaction. */
int	user_index_rebuild(struct user_index *ui);

/*
 * One step of merging the text tables' segments towards one (a bounded
 * amount of work, inside a transaction): *more when there is more to do.
 * For quiet moments: merging a large index rewrites it.
 */
int	user_index_compact(struct user_index *ui, int *more);

/* Does the index follow today's rules (a rebuild is due when not)? */
int	user_index_current(struct user_index *ui);

/*
 * The users q asks for, in its order: *hits (in arena), their count
 * returned, *total every match. -1 on error.
 */
long	user_index_search(struct user_index *ui, const struct user_query *q,
	    struct arena *arena, struct user_hit **hits, int64_t *total);

#endif
