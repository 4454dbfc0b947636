/*
 * A strict RFC 8259 / RFC 3629 check of a JSON text before json-c parses it.
 * json-c (even with JSON_TOKENER_STRICT) takes NaN, Infinity, "1.",
 * single-quoted names, raw control characters in strings and overlong or
 * surrogate UTF-8, and it would serve them back out unchanged; and it counts
 * a scalar inside the innermost container as a nesting level. What passes
 * here is JSON that every client can read.
 *
 * On top of the grammar, rules for what json-c would change on the way in:
 * a \u0000 escape (json-c keeps member names, and callers read strings, as
 * C strings: "admin\u0000x" would become "admin"), integers beyond
 * int64/uint64 (json-c saturates them) and -0 (it becomes 0), and numbers
 * beyond the range of a double (they read as infinity). A request body must
 * pass them all (API.md §1); a stored config value only needs to be JSON.
 *
 * One pass, no allocation: this runs on every request body.
 */
#ifndef DYNCONF_JSON_CHECK_H
#define DYNCONF_JSON_CHECK_H

#include <stddef.h>

enum json_check {
	JSON_CHECK_OK,
	JSON_CHECK_SYNTAX,
	JSON_CHECK_UTF8,	/* bad UTF-8, or a lone UTF-16 surrogate escape */
	JSON_CHECK_DEPTH,
	JSON_CHECK_NUL,		/* \u0000 under JSON_CHECK_NO_NUL */
	JSON_CHECK_NUMBER,	/* a number the rules refuse */
};

/* Rules beyond the grammar, or'ed. */
/* JSON nested deeper than this is refused, in bodies and stored documents (API.md §1). */
#define JSON_MAX_DEPTH		64

#define JSON_CHECK_NO_NUL	0x1	/* no \u0000 in a string or member name */
#define JSON_CHECK_INT_EXACT	0x2	/* integers within int64/uint64, no -0 */
#define JSON_CHECK_FINITE	0x4	/* no number that overflows a double */
#define JSON_CHECK_REQUEST	(JSON_CHECK_NO_NUL | JSON_CHECK_INT_EXACT | \
				 JSON_CHECK_FINITE)

#define JSON_CHECK_PATH_MAX	256

/* Where a check failed. */
struct json_check_where {
	size_t	offset;		/* bytes into the text */
	/*
	 * The failing member as a field path: names joined by '.', array
	 * indexes as [i] ("variants[1].name"), a name as written between its
	 * quotes; "" for the top-level value. Cut at JSON_CHECK_PATH_MAX - 1.
	 */
	char	path[JSON_CHECK_PATH_MAX];
};

/* Check text[0..len); containers nested deeper than max_depth fail. */
enum json_check	json_check(const char *text, size_t len, int max_depth);

/* The same with rules; where (may be NULL) says where it failed. */
enum json_check	json_check_ex(const char *text, size_t len, int max_depth,
		    unsigned rules, struct json_check_where *where);

struct buf;

/*
 * text[0..len) onto out with every byte that is not well-formed UTF-8
 * replaced by U+FFFD and every lone surrogate escape by \ufffd: what is
 * left can pass the check's UTF-8 rule. For documents written into etcd
 * by hand; a request body is refused instead.
 */
void		json_repair_utf8(const char *text, size_t len, struct buf *out);

#endif
