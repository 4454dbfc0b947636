/*
 * List ordering; see ordering.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "http/ordering.h"
#include "http/validate.h"

static int
invalid_ordering(struct exchange *ex, const char *const *fields, size_t nfields)
{
	struct buf list;
	size_t i;

	buf_init(&list);
	for (i = 0; i < nfields; i++) {
		if (i > 0)
			buf_puts(&list, i + 1 == nfields ? " or " : ", ");
		buf_puts(&list, fields[i]);
	}
	respond_problem(ex, 400, "invalid_ordering", "ordering names up to %d of "
	    "%s, each with '-' first for descending, joined by ','",
	    ORDERING_MAX, list.data ? list.data : "");
	buf_free(&list);
	return -1;
}

int
ordering_parse(struct exchange *ex, const char *const *fields, size_t nfields,
    struct ordering *order)
{
	const char *spec = arg_text(ex, "ordering", NULL), *p;

	memset(order, 0, sizeof(*order));
	order->fields = fields;
	order->count = 1;
	if (spec == NULL)
		return 0;
	order->count = 0;
	for (p = spec;; p++) {
		size_t len = strcspn(p, ","), i;
		int desc = *p == '-';

		for (i = 0; i < nfields; i++)
			if (len - desc == strlen(fields[i]) &&
			    memcmp(p + desc, fields[i], len - desc) == 0)
				break;
		if (i == nfields || order->count == ORDERING_MAX)
			return invalid_ordering(ex, fields, nfields);
		order->field[order->count] = i;
		order->descending[order->count++] = desc;
		p += len;
		if (*p == '\0')
			return 0;
	}
}

struct sortable {
	struct json_object	*item;
	size_t			 position;	/* to keep ties stable */
};

static const struct ordering *sort_order;	/* qsort's comparator reads it */

static int
compare_field(struct json_object *a, struct json_object *b, const char *field)
{
	struct json_object *x = NULL, *y = NULL;
	int xn, yn;

	json_object_object_get_ex(a, field, &x);
	json_object_object_get_ex(b, field, &y);
	if (x == NULL || y == NULL)
		return (x != NULL) - (y != NULL);
	xn = json_object_is_type(x, json_type_int) || json_object_is_type(x, json_type_double);
	yn = json_object_is_type(y, json_type_int) || json_object_is_type(y, json_type_double);
	if (xn && yn) {
		double dx = json_object_get_double(x), dy = json_object_get_double(y);

		return (dx > dy) - (dx < dy);
	}
	if (xn != yn)
		return xn ? -1 : 1;	/* numbers before strings */
	return strcmp(json_object_get_string(x), json_object_get_string(y));
}

static int
compare_sortable(const void *pa, const void *pb)
{
	const struct sortable *a = pa, *b = pb;
	size_t i;

	for (i = 0; i < sort_order->count; i++) {
		int c = compare_field(a->item, b->item,
		    sort_order->fields[sort_order->field[i]]);

		if (c != 0)
			return sort_order->descending[i] ? -c : c;
	}
	return (a->position > b->position) - (a->position < b->position);
}

void
ordering_sort(struct json_object **items, size_t count, const struct ordering *order)
{
	struct sortable *s;
	size_t i;

	if (count < 2 || (s = calloc(count, sizeof(*s))) == NULL)
		return;
	for (i = 0; i < count; i++) {
		s[i].item = items[i];
		s[i].position = i;
	}
	sort_order = order;
	qsort(s, count, sizeof(*s), compare_sortable);
	for (i = 0; i < count; i++)
		items[i] = s[i].item;
	free(s);
}
