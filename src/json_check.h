/*
 * A strict RFC 8259 / RFC 3629 check of a JSON text before json-c parses it.
 * json-c (even with JSON_TOKENER_STRICT) takes NaN, Infinity, "1.",
 * single-quoted names, raw control characters in strings and overlong or
 * surrogate UTF-8, and it would serve them back out unchanged; and it counts
 * a scalar inside the innermost container as a nesting level. What passes
 * here is JSON that every client can read.
 */
#ifndef DYNCONF_JSON_CHECK_H
#define DYNCONF_JSON_CHECK_H

#include <stddef.h>

enum json_check { JSON_CHECK_OK, JSON_CHECK_SYNTAX, JSON_CHECK_UTF8, JSON_CHECK_DEPTH };

/* Check text[0..len); containers nested deeper than max_depth fail. */
enum json_check	json_check(const char *text, size_t len, int max_depth);

#endif
