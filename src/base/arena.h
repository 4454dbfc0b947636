/*
 * A per-request arena: everything a request allocates on the way comes from
 * here and is released by one arena_free() at the end of the request, so no
 * error path can leak.
 */
#ifndef DYNCONF_ARENA_H
#define DYNCONF_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
};

void	 arena_init(struct arena *a);
void	*arena_alloc(struct arena *a, size_t size);	/* zeroed */
char	*arena_strdup(struct arena *a, const char *s);
char	*arena_strndup(struct arena *a, const char *s, size_t n);
char	*arena_printf(struct arena *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * first and the strings after it, up to a NULL, joined: for keys built on
 * every request, where printf's parsing shows. The NULL ends the list, so
 * none of the strings may be NULL.
 */
char	*arena_concat(struct arena *a, const char *first, ...)
	    __attribute__((sentinel));
void	 arena_free(struct arena *a);

#endif
