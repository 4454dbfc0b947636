/*
 * ?ordering=field,-field for lists (API.md §1): parsed against the fields a
 * resource lists as orderable, then applied to the list's items (JSON
 * objects) before a page is cut from them. An unknown field is 400
 * invalid_ordering.
 */
#ifndef DYNCONF_ORDERING_H
#define DYNCONF_ORDERING_H

#include <stddef.h>

#include "http/http.h"

#define ORDERING_MAX 4

struct ordering {
	const char *const *fields;	/* the resource's orderable fields */
	size_t		 field[ORDERING_MAX];	/* indexes into fields */
	int		 descending[ORDERING_MAX];
	size_t		 count;
};

/*
 * Read ?ordering= over fields (nfields of them); without one the order is
 * fields[0] ascending. -1 after answering 400 invalid_ordering.
 */
int	ordering_parse(struct exchange *ex, const char *const *fields,
	    size_t nfields, struct ordering *order);

struct json_object;
/*
 * Sort items in place by order: numbers compare as numbers, everything
 * else by its string form, a missing field first; ties keep the order
 * the items came in.
 */
void	ordering_sort(struct json_object **items, size_t count,
	    const struct ordering *order);

#endif
