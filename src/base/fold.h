/*
 * Case folding for case-insensitive matching: what the users index stores
 * and what a search term is turned into before it is looked up, so that
 * "MARÍA", "María" and "maría" are one text. Each code point is mapped to
 * its lowercase form by Unicode's simple case mapping (glibc's C.UTF-8
 * tables: one code point to one code point, so "İ" becomes "i" and "ß"
 * stays), never by the process's own locale.
 */
#ifndef DYNCONF_FOLD_H
#define DYNCONF_FOLD_H

#include <stddef.h>

struct buf;

/*
 * Append s[0..len), folded, to out. Bytes that are not well-formed UTF-8
 * are copied as they are. Without the C.UTF-8 locale (logged once), only
 * ASCII is folded.
 */
void	fold_append(struct buf *out, const char *s, size_t len);

/* Code points in s[0..len) (a byte that is not UTF-8 counts as one). */
size_t	utf8_count(const char *s, size_t len);

#endif
