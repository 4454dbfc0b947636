/*
 * Criteria of a flag (API.md §5): an object of attribute -> matcher, parsed
 * into a flat list of conditions at write time so that evaluation only
 * walks an array. The value rules that parsing and evaluation share (which
 * strings are numbers, what a semantic version is) are in flag_value.c.
 *
 * A matcher is a scalar (one eq condition), an array (one in condition) or
 * an object of operators (one condition each). Printing goes the other way
 * and is canonical: a lone eq prints as its scalar, a lone in as its array,
 * anything else as an operator object, so a printed flag parses back to an
 * equal one.
 *
 * Regexes are POSIX EREs. glibc's matcher backtracks on back-references,
 * and its compiler copies a subexpression for each repetition ({m,n}, and
 * x+ as xx*), so nested repetitions grow exponentially. Both are limited
 * here, at write time: no back-references, and a size with repetitions
 * expanded of at most FLAG_MAX_REGEX_SIZE.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "model/flag_impl.h"

enum operand_kind {
	OPERAND_SCALAR,		/* string, number, boolean or null */
	OPERAND_ARRAY,		/* an array of scalars */
	OPERAND_NUMBER,		/* a number or a numeric string */
	OPERAND_STRING,
	OPERAND_REGEX,
	OPERAND_BOOLEAN,
	OPERAND_SEMVER,
};

static const struct {
	const char		*name;
	enum flag_op		 op;
	enum operand_kind	 operand;
} operators[] = {
	{ "eq",			FLAG_OP_EQ,		OPERAND_SCALAR },
	{ "ne",			FLAG_OP_NE,		OPERAND_SCALAR },
	{ "gt",			FLAG_OP_GT,		OPERAND_NUMBER },
	{ "gte",		FLAG_OP_GTE,		OPERAND_NUMBER },
	{ "lt",			FLAG_OP_LT,		OPERAND_NUMBER },
	{ "lte",		FLAG_OP_LTE,		OPERAND_NUMBER },
	{ "in",			FLAG_OP_IN,		OPERAND_ARRAY },
	{ "not_in",		FLAG_OP_NOT_IN,		OPERAND_ARRAY },
	{ "contains",		FLAG_OP_CONTAINS,	OPERAND_SCALAR },
	{ "not_contains",	FLAG_OP_NOT_CONTAINS,	OPERAND_SCALAR },
	{ "starts_with",	FLAG_OP_STARTS_WITH,	OPERAND_STRING },
	{ "ends_with",		FLAG_OP_ENDS_WITH,	OPERAND_STRING },
	{ "regex",		FLAG_OP_REGEX,		OPERAND_REGEX },
	{ "exists",		FLAG_OP_EXISTS,		OPERAND_BOOLEAN },
	{ "semver_gt",		FLAG_OP_SEMVER_GT,	OPERAND_SEMVER },
	{ "semver_lt",		FLAG_OP_SEMVER_LT,	OPERAND_SEMVER },
};

void
flag_error(struct flag_errors *errors, int unknown, const char *message,
    const char *fmt, ...)
{
	va_list ap;

	if (unknown)
		errors->unknown_field = 1;
	if (errors->count >= FLAG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(errors->items[errors->count].field,
	    sizeof(errors->items[0].field), fmt, ap);
	va_end(ap);
	snprintf(errors->items[errors->count].message,
	    sizeof(errors->items[0].message), "%s", message);
	errors->count++;
}

/* Regex limits */

struct rx_scan {
	const char	*p, *end;
	int		 depth;
	int		 backref;
	int		 stacked;	/* a repetition of a repetition: x**, x+{2} */
};

static size_t
sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t
sat_mul(size_t a, size_t b)
{
	return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/* At '{': the larger bound of {m}, {m,} or {m,n}, at least 1; 0 if not a bound. */
static size_t
rx_bound(struct rx_scan *s)
{
	const char *p = s->p + 1;
	size_t m = 0, n = 0, *cur = &m;
	int comma = 0, digits = 0;

	for (; p < s->end && *p != '}'; p++) {
		if (*p == ',' && !comma) {
			comma = 1;
			cur = &n;
		} else if (*p >= '0' && *p <= '9') {
			if (*cur < 1000000)	/* beyond any limit already */
				*cur = *cur * 10 + (size_t)(*p - '0');
			digits = 1;
		} else
			return 0;
	}
	if (p == s->end || !digits)
		return 0;
	s->p = p + 1;
	if (comma && n == 0)
		n = m + 1;	/* {m,}: m copies and a star */
	m = m > n ? m : n;
	return m > 0 ? m : 1;
}

/* Past a bracket expression, [:class:] and friends included. */
static void
rx_skip_bracket(struct rx_scan *s)
{
	const char *p = s->p + 1, *close;

	if (p < s->end && *p == '^')
		p++;
	if (p < s->end && *p == ']')
		p++;
	while (p < s->end && *p != ']') {
		if (*p == '[' && p + 1 < s->end &&
		    (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char delim[3] = { p[1], ']', '\0' };

			close = strstr(p + 2, delim);
			p = close != NULL && close < s->end ? close + 2 : s->end;
			continue;
		}
		p++;
	}
	s->p = p < s->end ? p + 1 : s->end;
}

/* The size of the alternatives up to ')' or the end, repetitions expanded. */
static size_t
rx_size(struct rx_scan *s)
{
	size_t total = 0, atom, bound;
	int repeats;

	if (++s->depth > 32)
		return SIZE_MAX;
	while (s->p < s->end && *s->p != ')') {
		switch (*s->p) {
		case '(':
			s->p++;
			atom = sat_add(rx_size(s), 1);
			if (s->p < s->end)
				s->p++;
			break;
		case '[':
			rx_skip_bracket(s);
			atom = 1;
			break;
		case '\\':
			if (s->p + 1 < s->end && s->p[1] >= '1' && s->p[1] <= '9')
				s->backref = 1;
			s->p += s->p + 1 < s->end ? 2 : 1;
			atom = 1;
			break;
		default:
			s->p++;
			atom = 1;
		}
		/*
		 * glibc copies the atom for each of its repetitions: x+ is xx*.
		 * Repeating a repetition (undefined in POSIX EREs) makes its
		 * closure computation explode (x*** took a fuzzed regcomp past
		 * 10 s): one repetition per atom.
		 */
		for (repeats = 0; s->p < s->end; repeats++) {
			if (*s->p == '*' || *s->p == '?')
				atom = sat_add(atom, 1);
			else if (*s->p == '+')
				atom = sat_mul(atom, 2);
			else if (*s->p == '{' && (bound = rx_bound(s)) != 0) {
				atom = sat_mul(atom, bound);
				s->stacked |= repeats > 0;
				continue;
			} else
				break;
			s->stacked |= repeats > 0;
			s->p++;
		}
		total = sat_add(total, atom);
	}
	s->depth--;
	return total;
}

/* Compile pattern for a condition; NULL with *why set when it is refused. */
static regex_t *
regex_compile(const char *pattern, size_t len, char *why, size_t whylen)
{
	struct rx_scan scan = { pattern, pattern + len, 0, 0, 0 };
	size_t size = 0;
	regex_t *re;
	int rc;

	if (len > FLAG_MAX_REGEX || strlen(pattern) != len) {
		snprintf(why, whylen, "a regex is at most %d bytes, without NUL",
		    FLAG_MAX_REGEX);
		return NULL;
	}
	while (scan.p < scan.end) {	/* a stray ')' ends rx_size early */
		size = sat_add(size, rx_size(&scan));
		if (scan.p < scan.end)
			scan.p++;
	}
	if (scan.backref) {
		snprintf(why, whylen, "back-references are not allowed in a regex");
		return NULL;
	}
	if (scan.stacked) {
		snprintf(why, whylen, "a repetition may not be repeated (x**, x+{2}): "
		    "group it first, (x+){2}");
		return NULL;
	}
	if (size > FLAG_MAX_REGEX_SIZE) {
		snprintf(why, whylen, "regex too complex: more than %d elements "
		    "with repetitions expanded", FLAG_MAX_REGEX_SIZE);
		return NULL;
	}
	re = xmalloc(sizeof(*re));
	if ((rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB)) != 0) {
		char msg[100];

		regerror(rc, re, msg, sizeof(msg));
		snprintf(why, whylen, "not a valid extended regex: %s", msg);
		free(re);
		return NULL;
	}
	return re;
}

/* Criteria */

static int
is_scalar(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_double:
		return isfinite(json_object_get_double(v));
	case json_type_null:
	case json_type_boolean:
	case json_type_int:
	case json_type_string:
		return 1;
	default:
		return 0;
	}
}

static int
scalar_array(struct json_object *v)
{
	size_t i, n;

	if (!json_object_is_type(v, json_type_array))
		return 0;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++)
		if (!is_scalar(json_object_array_get_idx(v, i)))
			return 0;
	return 1;
}

/* NULL when operand suits kind, else what is wrong; regexes compile into *re. */
static const char *
operand_check(enum operand_kind kind, struct json_object *operand, regex_t **re,
    char *why, size_t whylen)
{
	struct flag_number n;
	struct flag_semver v;
	int string = json_object_is_type(operand, json_type_string);
	const char *s = string ? json_object_get_string(operand) : NULL;
	size_t len = string ? (size_t)json_object_get_string_len(operand) : 0;

	switch (kind) {
	case OPERAND_SCALAR:
		return is_scalar(operand) ? NULL : "must be a string, number, "
		    "boolean or null";
	case OPERAND_ARRAY:
		return scalar_array(operand) ? NULL : "must be an array of "
		    "strings, numbers, booleans or nulls";
	case OPERAND_NUMBER:
		return flag_number_get(operand, &n) ? NULL : "must be a number "
		    "or a numeric string";
	case OPERAND_STRING:
		return string ? NULL : "must be a string";
	case OPERAND_REGEX:
		if (!string)
			return "must be a string";
		if ((*re = regex_compile(s, len, why, whylen)) == NULL)
			return why;
		return NULL;
	case OPERAND_BOOLEAN:
		return json_object_is_type(operand, json_type_boolean) ? NULL :
		    "must be true or false";
	case OPERAND_SEMVER:
		return string && flag_semver_parse(s, len, &v) ? NULL :
		    "must be a semantic version like 1.2.3 or 2.0.0-rc.1";
	}
	return "unknown operand";
}

static int
attribute_valid(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > FLAG_MAX_ATTRIBUTE || name[0] == '.' ||
	    name[len - 1] == '.')
		return 0;
	for (i = 1; i < len; i++)
		if (name[i] == '.' && name[i - 1] == '.')
			return 0;
	return 1;
}

#define TOO_MANY "too many conditions in the flag (at most 1000, a regex counts as 50)"

/*
 * Append one condition; -1 when the budget is spent. A regex takes
 * FLAG_REGEX_COST of it: one can cost milliseconds on a long string, where
 * other conditions cost nanoseconds.
 */
static int
condition_add(struct flag_criteria *criteria, const char *attribute,
    enum flag_op op, struct json_object *operand, regex_t *re, size_t *budget)
{
	size_t cost = re != NULL ? FLAG_REGEX_COST : 1;
	struct flag_condition *c;

	if (*budget < cost) {
		if (re != NULL) {
			regfree(re);
			free(re);
		}
		return -1;
	}
	*budget -= cost;
	criteria->conditions = xrealloc(criteria->conditions,
	    (criteria->count + 1) * sizeof(*criteria->conditions));
	c = &criteria->conditions[criteria->count++];
	c->attribute = xstrdup(attribute);
	c->op = op;
	c->operand = json_object_get(operand);
	c->regex = re;
	return 0;
}

/* One "operator": operand member of an attribute's operator object. */
static int
operator_parse(const char *path, const char *attribute, const char *name,
    struct json_object *operand, struct flag_criteria *criteria,
    size_t *budget, struct flag_errors *errors)
{
	const char *problem;
	regex_t *re = NULL;
	char why[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(operators); i++)
		if (strcmp(operators[i].name, name) == 0)
			break;
	if (i == ARRAY_SIZE(operators)) {
		flag_error(errors, 0, "unknown operator: use eq, ne, gt, gte, lt, "
		    "lte, in, not_in, contains, not_contains, starts_with, "
		    "ends_with, regex, exists, semver_gt or semver_lt",
		    "%s.%s.%s", path, attribute, name);
		return -1;
	}
	if ((problem = operand_check(operators[i].operand, operand, &re, why,
	    sizeof(why))) != NULL) {
		flag_error(errors, 0, problem, "%s.%s.%s", path, attribute, name);
		return -1;
	}
	if (condition_add(criteria, attribute, operators[i].op, operand, re,
	    budget) == -1) {
		flag_error(errors, 0, TOO_MANY, "%s.%s", path, attribute);
		return -1;
	}
	return 0;
}

/* One attribute: matcher. */
static int
matcher_parse(const char *path, const char *attribute, struct json_object *matcher,
    struct flag_criteria *criteria, size_t *budget, struct flag_errors *errors)
{
	enum flag_op op = FLAG_OP_EQ;
	int rc = 0;

	if (!attribute_valid(attribute)) {
		flag_error(errors, 0, "an attribute is 1 to 256 bytes of names "
		    "joined by '.'", "%s.%s", path, attribute);
		return -1;
	}
	switch (json_object_get_type(matcher)) {
	case json_type_object:
		if (json_object_object_length(matcher) == 0) {
			flag_error(errors, 0, "an operator object needs at least "
			    "one operator", "%s.%s", path, attribute);
			return -1;
		}
		json_object_object_foreach(matcher, name, operand)
			if (operator_parse(path, attribute, name, operand,
			    criteria, budget, errors) == -1)
				rc = -1;
		return rc;
	case json_type_array:
		op = FLAG_OP_IN;
		/* FALLTHROUGH */
	default:
		if (!(op == FLAG_OP_IN ? scalar_array(matcher) : is_scalar(matcher))) {
			flag_error(errors, 0, "a matcher is a scalar, an array of "
			    "scalars or an object of operators", "%s.%s", path,
			    attribute);
			return -1;
		}
		if (condition_add(criteria, attribute, op, matcher, NULL,
		    budget) == -1) {
			flag_error(errors, 0, TOO_MANY, "%s.%s", path,
			    attribute);
			return -1;
		}
		return 0;
	}
}

int
flag_criteria_parse(struct json_object *obj, const char *path,
    struct flag_criteria *criteria, size_t *budget, struct flag_errors *errors)
{
	int rc = 0;

	if (!json_object_is_type(obj, json_type_object)) {
		flag_error(errors, 0, "must be an object of attribute: matcher",
		    "%s", path);
		return -1;
	}
	json_object_object_foreach(obj, attribute, matcher)
		if (matcher_parse(path, attribute, matcher, criteria, budget,
		    errors) == -1)
			rc = -1;
	return rc;
}

void
flag_criteria_free(struct flag_criteria *criteria)
{
	size_t i;

	for (i = 0; i < criteria->count; i++) {
		free(criteria->conditions[i].attribute);
		json_object_put(criteria->conditions[i].operand);
		if (criteria->conditions[i].regex != NULL) {
			regfree(criteria->conditions[i].regex);
			free(criteria->conditions[i].regex);
		}
	}
	free(criteria->conditions);
	memset(criteria, 0, sizeof(*criteria));
}

static const char *
operator_name(enum flag_op op)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(operators); i++)
		if (operators[i].op == op)
			return operators[i].name;
	return "eq";
}

/* The matcher of conditions c[0..n), which share one attribute. */
static struct json_object *
matcher_json(const struct flag_condition *c, size_t n)
{
	struct json_object *matcher;
	size_t i;

	if (n == 1 && (c->op == FLAG_OP_EQ ||
	    (c->op == FLAG_OP_IN && json_object_is_type(c->operand, json_type_array))))
		return json_object_get(c->operand);
	matcher = json_object_new_object();
	for (i = 0; i < n; i++)
		json_object_object_add(matcher, operator_name(c[i].op),
		    json_object_get(c[i].operand));
	return matcher;
}

struct json_object *
flag_criteria_to_json(const struct flag_criteria *criteria)
{
	struct json_object *obj = json_object_new_object();
	size_t i, j;

	for (i = 0; i < criteria->count; i = j) {
		for (j = i + 1; j < criteria->count &&
		    strcmp(criteria->conditions[j].attribute,
		    criteria->conditions[i].attribute) == 0; j++)
			;
		json_object_object_add(obj, criteria->conditions[i].attribute,
		    matcher_json(&criteria->conditions[i], j - i));
	}
	return obj;
}
