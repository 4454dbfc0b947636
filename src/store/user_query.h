/*
 * Searching the users index (internal to store/; user_index.h says what is
 * indexed). A query is planned from what it asks for: the filter that
 * matches the fewest users drives it, its matches are counted in an FTS5
 * table (or the email index), and the page is cut either by sorting the
 * matches or by walking the ordering's index, whichever reads fewer
 * entries. The SQL is put together from fixed pieces, never from the
 * request's text (which is bound), and kept prepared per shape.
 */
#ifndef DYNCONF_USER_QUERY_H
#define DYNCONF_USER_QUERY_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct buf;
struct sqlite3;
struct user_hit;
struct user_query;
struct user_query_cache;

struct user_query_cache *user_query_cache_new(struct sqlite3 *db);
void	user_query_cache_free(struct user_query_cache *c);

/*
 * Run q over an index of users users: the page in order (*hits, in
 * arena), their count returned, *total every match; -1 on error.
 */
long	user_query_run(struct user_query_cache *c, const struct user_query *q,
	    int64_t users, struct arena *arena, struct user_hit **hits,
	    int64_t *total);

/*
 * One word of the users_grams table: field ("n" name, "e" email), kind
 * ('1' a character, '2' a pair) and the n bytes at p in hex; a space
 * first when out holds words already.
 */
void	user_gram_word(struct buf *out, const char *field, char kind,
	    const unsigned char *p, size_t n);

/*
 * A folded text's signature: one bit of 64 for each three bytes in a row
 * it holds. A text holds another only if its signature has every bit of
 * the other's, so a walk tests the bits (two integer operations inside the
 * index) before it compares texts; 0 for a text under three bytes.
 */
uint64_t user_text_signature(const char *folded);

#endif
