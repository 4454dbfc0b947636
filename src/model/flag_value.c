/*
 * The value rules that the write-time checks (flag_criteria.c) and the
 * evaluation (eval.c) must agree on: which JSON values are numbers and how
 * they compare, and what a semantic version is and how versions order.
 * Nothing here allocates.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "model/flag_impl.h"

/* Numbers */

/* Does s[0..len) follow the JSON number grammar? *integral: no fraction or exponent. */
static int
number_syntax(const char *s, size_t len, int *integral)
{
	size_t i = 0, digits;

	*integral = 1;
	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else {
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0)
			return 0;
	}
	if (i < len && s[i] == '.') {
		*integral = 0;
		for (i++, digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		*integral = 0;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0)
			return 0;
	}
	return i == len;
}

/* A numeric string: exact when it is an integer that fits int64_t. */
static int
number_from_string(const char *s, size_t len, struct flag_number *n)
{
	const char *errstr;
	int integral;

	if (len == 0 || len > 400 || strlen(s) != len ||
	    !number_syntax(s, len, &integral))
		return 0;
	if (integral) {
		n->i = strtonum(s, INT64_MIN, INT64_MAX, &errstr);
		if (errstr == NULL) {
			n->is_int = 1;
			return 1;
		}
	}
	/* The syntax is checked, so strtod reads all of it. */
	n->is_int = 0;
	n->d = strtod(s, NULL);
	return isfinite(n->d);
}

int
flag_number_get(struct json_object *value, struct flag_number *n)
{
	memset(n, 0, sizeof(*n));
	switch (json_object_get_type(value)) {
	case json_type_int:
		n->i = json_object_get_int64(value);
		if (n->i == INT64_MAX && json_object_get_uint64(value) > INT64_MAX) {
			n->d = (double)json_object_get_uint64(value);
			return 1;
		}
		n->is_int = 1;
		return 1;
	case json_type_double:
		n->d = json_object_get_double(value);
		return isfinite(n->d);
	case json_type_string:
		return number_from_string(json_object_get_string(value),
		    (size_t)json_object_get_string_len(value), n);
	default:
		return 0;
	}
}

/* Exact: converting i to double could round. d is finite. */
static int
cmp_int_double(int64_t i, double d)
{
	int64_t t;

	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = (int64_t)d;		/* truncates; exact in this range */
	if (i != t)
		return i < t ? -1 : 1;
	return d > (double)t ? -1 : d < (double)t ? 1 : 0;
}

int
flag_number_cmp(const struct flag_number *a, const struct flag_number *b)
{
	if (a->is_int && b->is_int)
		return a->i < b->i ? -1 : a->i > b->i;
	if (a->is_int)
		return cmp_int_double(a->i, b->d);
	if (b->is_int)
		return -cmp_int_double(b->i, a->d);
	return a->d < b->d ? -1 : a->d > b->d;
}

/* Semantic versions */

static int
semver_ident_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z') || c == '-';
}

static int
all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Dot-separated identifiers in s[0..len); strict: numeric ones without leading zeros. */
static int
semver_idents(const char *s, size_t len, int strict)
{
	size_t start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!semver_ident_char(s[i]))
				return 0;
			continue;
		}
		if (i == start)
			return 0;
		if (strict && i - start > 1 && s[start] == '0' &&
		    all_digits(s + start, i - start))
			return 0;
		start = i + 1;
	}
	return 1;
}

int
flag_semver_parse(const char *s, size_t len, struct flag_semver *v)
{
	const char *end = s + len, *p, *build;
	int k;

	memset(v, 0, sizeof(*v));
	if (len > FLAG_MAX_SEMVER)
		return 0;
	if (s < end && *s == 'v')
		s++;
	for (k = 0, p = s; k < 3; k++) {
		v->part[k] = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		v->partlen[k] = (size_t)(p - v->part[k]);
		if (v->partlen[k] == 0 || (v->partlen[k] > 1 && *v->part[k] == '0'))
			return 0;
		if (k < 2 && (p == end || *p++ != '.'))
			return 0;
	}
	build = memchr(p, '+', (size_t)(end - p));
	if (build == NULL)
		build = end;
	else if (!semver_idents(build + 1, (size_t)(end - build - 1), 0))
		return 0;
	if (p < build) {
		if (*p != '-' || !semver_idents(p + 1, (size_t)(build - p - 1), 1))
			return 0;
		v->pre = p + 1;
		v->prelen = (size_t)(build - p - 1);
	}
	return 1;
}

/* Digit strings without leading zeros: the longer is larger. */
static int
cmp_digits(const char *a, size_t alen, const char *b, size_t blen)
{
	int c;

	if (alen != blen)
		return alen < blen ? -1 : 1;
	c = memcmp(a, b, alen);
	return c < 0 ? -1 : c > 0;
}

/* One prerelease identifier against another (semver.org 2.0 §11.4). */
static int
cmp_ident(const char *a, size_t alen, const char *b, size_t blen)
{
	int an = all_digits(a, alen), bn = all_digits(b, blen), c;

	if (an && bn)
		return cmp_digits(a, alen, b, blen);
	if (an != bn)
		return an ? -1 : 1;
	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

static int
cmp_prerelease(const char *a, size_t alen, const char *b, size_t blen)
{
	const char *ae = a + alen, *be = b + blen, *ad, *bd;
	int c;

	for (;;) {
		if (a >= ae || b >= be)
			return (a < ae) - (b < be);
		if ((ad = memchr(a, '.', (size_t)(ae - a))) == NULL)
			ad = ae;
		if ((bd = memchr(b, '.', (size_t)(be - b))) == NULL)
			bd = be;
		if ((c = cmp_ident(a, (size_t)(ad - a), b, (size_t)(bd - b))) != 0)
			return c;
		a = ad + 1;
		b = bd + 1;
	}
}

int
flag_semver_cmp(const struct flag_semver *a, const struct flag_semver *b)
{
	int k, c;

	for (k = 0; k < 3; k++)
		if ((c = cmp_digits(a->part[k], a->partlen[k], b->part[k],
		    b->partlen[k])) != 0)
			return c;
	if (a->pre == NULL || b->pre == NULL)
		return (a->pre == NULL) - (b->pre == NULL);
	return cmp_prerelease(a->pre, a->prelen, b->pre, b->prelen);
}
