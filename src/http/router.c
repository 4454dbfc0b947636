/*
 * The router: a loop over the const route table; see router.h.
 */
#include "config.h"

#include <string.h>

#include "base/util.h"
#include "http/router.h"

#define PATH_MAX_SEGMENTS 64

struct split_path {
	const char	*segments[PATH_MAX_SEGMENTS];	/* decoded */
	size_t		 count;
};

/* Split "/a/b%20c" into decoded segments; -1 on bad encoding, -2 if too many. */
static int
split_path(const char *path, struct arena *arena, struct split_path *out)
{
	const char *p = path + 1, *slash;

	out->count = 0;
	for (;;) {
		if (out->count == PATH_MAX_SEGMENTS)
			return -2;
		slash = strchr(p, '/');
		if (slash == NULL)
			slash = p + strlen(p);
		out->segments[out->count] = percent_decode(arena, p,
		    (size_t)(slash - p), 0);
		if (out->segments[out->count] == NULL)
			return -1;
		out->count++;
		if (*slash == '\0')
			return 0;
		p = slash + 1;
	}
}

static size_t
join_rest(const struct split_path *sp, size_t from, struct arena *arena,
    const char **out)
{
	size_t i, len = 0;
	char *joined, *o;

	for (i = from; i < sp->count; i++)
		len += strlen(sp->segments[i]) + 1;
	o = joined = arena_alloc(arena, len + 1);
	for (i = from; i < sp->count; i++) {
		size_t n = strlen(sp->segments[i]);

		if (i > from)
			*o++ = '/';
		memcpy(o, sp->segments[i], n);
		o += n;
	}
	*o = '\0';
	*out = joined;
	return len;
}

/* Does the pattern match the split path? Fills params when it does. */
static int
pattern_match(const char *pattern, const struct split_path *sp,
    struct arena *arena, const char **params)
{
	const char *p = pattern + 1, *end;
	size_t seg = 0, nparams = 0, len;

	for (;;) {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len >= 5 && p[0] == '{' && memcmp(end - 4, "...}", 4) == 0) {
			/* A trailing wildcard: at least one non-empty segment. */
			if (seg >= sp->count || sp->segments[seg][0] == '\0' ||
			    nparams == ROUTE_MAX_PARAMS)
				return 0;
			join_rest(sp, seg, arena, &params[nparams]);
			return 1;
		}
		if (seg >= sp->count)
			return 0;
		if (len >= 2 && p[0] == '{' && end[-1] == '}') {
			if (sp->segments[seg][0] == '\0' || nparams == ROUTE_MAX_PARAMS)
				return 0;
			params[nparams++] = sp->segments[seg];
		} else if (strlen(sp->segments[seg]) != len ||
		    memcmp(sp->segments[seg], p, len) != 0) {
			return 0;
		}
		seg++;
		if (*end == '\0')
			return seg == sp->count;
		p = end + 1;
	}
}

enum router_result
router_match(const struct route *table, size_t count, enum http_method method,
    const char *path, struct arena *arena, const struct route **route,
    const char **params, unsigned *allowed)
{
	struct split_path sp;
	const char *scratch[ROUTE_MAX_PARAMS];
	enum http_method wanted = method == HTTP_HEAD ? HTTP_GET : method;
	size_t i;

	*route = NULL;
	*allowed = 0;
	if (path == NULL || path[0] != '/')
		return ROUTER_NOT_FOUND;
	switch (split_path(path, arena, &sp)) {
	case -1:
		return ROUTER_BAD_ENCODING;
	case -2:
		return ROUTER_NOT_FOUND;	/* no route is that deep */
	}
	for (i = 0; i < count; i++) {
		if (table[i].method == wanted &&
		    pattern_match(table[i].pattern, &sp, arena, params)) {
			*route = &table[i];
			return ROUTER_FOUND;
		}
	}
	/* Only a miss pays for finding which methods the path has (405's Allow). */
	for (i = 0; i < count; i++) {
		const struct route *r = &table[i];

		if (r->method != wanted && !(*allowed & r->method) &&
		    pattern_match(r->pattern, &sp, arena, scratch))
			*allowed |= r->method;
	}
	if (*allowed == 0)
		return ROUTER_NOT_FOUND;
	if (*allowed & HTTP_GET)
		*allowed |= HTTP_HEAD;
	return ROUTER_METHOD_NOT_ALLOWED;
}

unsigned
router_path_flags(const struct route *table, size_t count, const char *path,
    struct arena *arena)
{
	const char *scratch[ROUTE_MAX_PARAMS];
	struct split_path sp;
	unsigned flags = 0;
	size_t i;

	if (path == NULL || path[0] != '/' || split_path(path, arena, &sp) != 0)
		return 0;
	for (i = 0; i < count; i++)
		if (pattern_match(table[i].pattern, &sp, arena, scratch))
			flags |= table[i].flags;
	return flags;
}

size_t
route_index(const struct route *route)
{
	size_t i;

	/* Compared one by one: a route of another table (the tests') is not ours. */
	for (i = 0; route != NULL && i < route_count; i++)
		if (route == &route_table[i])
			return i;
	return route_count;
}
