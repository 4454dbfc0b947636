/*
 * Flag evaluation; see eval.h. Pure: no I/O, no state but a reused digest
 * context, and no allocation (json-c may cache the text of a numeric
 * targetingKey).
 *
 * How a condition meets the context:
 *  - An attribute path "a.b" walks nested objects. A path that is not there
 *    is a missing attribute, and a condition on a missing attribute fails,
 *    whatever its operator (ne, not_in and not_contains included), except
 *    exists:false. So "country ne US" says "has a country, and it is not US".
 *  - A JSON null is a present value: it equals null only (eq, ne, in,
 *    not_in see it), is no number, string or list, and does not "exist":
 *    exists:true needs a present, non-null value; exists:false holds for a
 *    missing or null attribute.
 *  - Numbers compare by value, integers exactly: 1, 1.0 and "1" are equal.
 *    A string counts as a number when it is a JSON number text ("42",
 *    "-1.5e3"; not "042", " 42" or "0x2a"). Two strings always compare by
 *    bytes, so "1" and "1.0" are different strings. Booleans equal booleans
 *    only.
 *  - A value of a type the operator cannot use is no match: gt on "abc",
 *    starts_with on 5, ne or not_in on an object or array.
 *  - contains: substring of a string, or an element equal to the operand in
 *    an array; not_contains is its negation on those two types only.
 *  - regex on strings only, and not on strings longer than
 *    FLAG_MAX_REGEX_SUBJECT bytes (bounds the matcher's time).
 *  - semver_gt / semver_lt: the attribute must be a semantic version
 *    string; precedence per semver.org 2.0 (build metadata ignored).
 *
 * Splits: the bucket is the first 8 bytes of SHA-256(flag key, NUL,
 * targeting key) read big-endian, as a fraction of 2^64 (its top 53 bits,
 * so that it stays below 1 as a double). The variants own consecutive
 * slices of [0, 1) in their order, each weight/total wide; weight 0 never
 * wins. The targeting key is the context's "targetingKey": a string as is,
 * a number as its JSON text. Without one (absent, or another type) the
 * first listed variant is served.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "base/digest.h"
#include "model/eval.h"
#include "model/flag_impl.h"

/*
 * The value at path in context: 1 and *value (NULL for JSON null) when
 * present, 0 when missing.
 */
static int
attribute_get(struct json_object *context, const char *path,
    struct json_object **value)
{
	char segment[FLAG_MAX_ATTRIBUTE + 1];
	struct json_object *cur = context;
	const char *dot;
	size_t len;

	for (;;) {
		if (!json_object_is_type(cur, json_type_object))
			return 0;
		dot = strchr(path, '.');
		len = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(segment))
			return 0;
		memcpy(segment, path, len);
		segment[len] = '\0';
		if (!json_object_object_get_ex(cur, segment, &cur))
			return 0;
		if (dot == NULL)
			break;
		path = dot + 1;
	}
	*value = cur;
	return 1;
}

static int
is_scalar(struct json_object *v)
{
	enum json_type t = json_object_get_type(v);

	return t != json_type_object && t != json_type_array;
}

/* eq: see the top of the file. */
static int
value_equal(struct json_object *a, struct json_object *b)
{
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
	struct flag_number na, nb;

	if (ta == json_type_null || tb == json_type_null)
		return ta == tb;
	if (ta == json_type_boolean || tb == json_type_boolean)
		return ta == tb &&
		    json_object_get_boolean(a) == json_object_get_boolean(b);
	if (ta == json_type_string && tb == json_type_string)
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		    memcmp(json_object_get_string(a), json_object_get_string(b),
		    (size_t)json_object_get_string_len(a)) == 0;
	if (flag_number_get(a, &na) && flag_number_get(b, &nb))
		return flag_number_cmp(&na, &nb) == 0;
	return 0;
}

static int
in_list(struct json_object *v, struct json_object *list)
{
	size_t i, n = json_object_array_length(list);

	for (i = 0; i < n; i++)
		if (value_equal(v, json_object_array_get_idx(list, i)))
			return 1;
	return 0;
}

/* 1 or 0, or -1 when v is neither a string nor an array. */
static int
contains(struct json_object *v, struct json_object *operand)
{
	const char *s, *o;
	size_t slen, olen;

	if (json_object_is_type(v, json_type_array))
		return in_list(operand, v);
	if (!json_object_is_type(v, json_type_string))
		return -1;
	if (!json_object_is_type(operand, json_type_string))
		return 0;
	s = json_object_get_string(v);
	slen = (size_t)json_object_get_string_len(v);
	o = json_object_get_string(operand);
	olen = (size_t)json_object_get_string_len(operand);
	return olen == 0 || memmem(s, slen, o, olen) != NULL;
}

/* starts_with (at_end 0) or ends_with (1), strings only. */
static int
affix(struct json_object *v, struct json_object *operand, int at_end)
{
	size_t slen, olen;

	if (!json_object_is_type(v, json_type_string) ||
	    !json_object_is_type(operand, json_type_string))
		return 0;
	slen = (size_t)json_object_get_string_len(v);
	olen = (size_t)json_object_get_string_len(operand);
	return olen <= slen && memcmp(json_object_get_string(v) +
	    (at_end ? slen - olen : 0), json_object_get_string(operand), olen) == 0;
}

/* The sign of v - operand, in *cmp; 0 when either is not a number. */
static int
number_compare(struct json_object *v, struct json_object *operand, int *cmp)
{
	struct flag_number a, b;

	if (!flag_number_get(v, &a) || !flag_number_get(operand, &b))
		return 0;
	*cmp = flag_number_cmp(&a, &b);
	return 1;
}

static int
semver_compare(struct json_object *v, struct json_object *operand, int *cmp)
{
	struct flag_semver a, b;

	if (!json_object_is_type(v, json_type_string) ||
	    !json_object_is_type(operand, json_type_string) ||
	    !flag_semver_parse(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), &a) ||
	    !flag_semver_parse(json_object_get_string(operand),
	    (size_t)json_object_get_string_len(operand), &b))
		return 0;
	*cmp = flag_semver_cmp(&a, &b);
	return 1;
}

static int
regex_match(const struct flag_condition *c, struct json_object *v)
{
	if (c->regex == NULL || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) > FLAG_MAX_REGEX_SUBJECT)
		return 0;
	return regexec(c->regex, json_object_get_string(v), 0, NULL, 0) == 0;
}

static int
condition_holds(const struct flag_condition *c, struct json_object *context)
{
	struct json_object *v = NULL;
	int cmp = 0;

	if (!attribute_get(context, c->attribute, &v))
		return c->op == FLAG_OP_EXISTS && !json_object_get_boolean(c->operand);
	switch (c->op) {
	case FLAG_OP_EQ:
		return value_equal(v, c->operand);
	case FLAG_OP_NE:
		return is_scalar(v) && !value_equal(v, c->operand);
	case FLAG_OP_GT:
		return number_compare(v, c->operand, &cmp) && cmp > 0;
	case FLAG_OP_GTE:
		return number_compare(v, c->operand, &cmp) && cmp >= 0;
	case FLAG_OP_LT:
		return number_compare(v, c->operand, &cmp) && cmp < 0;
	case FLAG_OP_LTE:
		return number_compare(v, c->operand, &cmp) && cmp <= 0;
	case FLAG_OP_IN:
		return is_scalar(v) && json_object_is_type(c->operand,
		    json_type_array) && in_list(v, c->operand);
	case FLAG_OP_NOT_IN:
		return is_scalar(v) && json_object_is_type(c->operand,
		    json_type_array) && !in_list(v, c->operand);
	case FLAG_OP_CONTAINS:
		return contains(v, c->operand) == 1;
	case FLAG_OP_NOT_CONTAINS:
		return contains(v, c->operand) == 0;
	case FLAG_OP_STARTS_WITH:
		return affix(v, c->operand, 0);
	case FLAG_OP_ENDS_WITH:
		return affix(v, c->operand, 1);
	case FLAG_OP_REGEX:
		return regex_match(c, v);
	case FLAG_OP_EXISTS:
		return (v != NULL) == json_object_get_boolean(c->operand);
	case FLAG_OP_SEMVER_GT:
		return semver_compare(v, c->operand, &cmp) && cmp > 0;
	case FLAG_OP_SEMVER_LT:
		return semver_compare(v, c->operand, &cmp) && cmp < 0;
	}
	return 0;
}

int
eval_criteria(const struct flag_criteria *criteria, struct json_object *context)
{
	size_t i;

	for (i = 0; i < criteria->count; i++)
		if (!condition_holds(&criteria->conditions[i], context))
			return 0;
	return 1;
}

double
eval_bucket(const char *flag_key, const char *targeting_key)
{
	/* The NUL keeps ("ab", "c") and ("a", "bc") apart. */
	const struct digest_part parts[] = {
		{ flag_key, strlen(flag_key) + 1 },
		{ targeting_key, strlen(targeting_key) },
	};
	unsigned char md[DIGEST_SHA256_LEN];
	uint64_t x = 0;
	int i;

	digest_sha256_parts(parts, 2, md);
	for (i = 0; i < 8; i++)
		x = x << 8 | md[i];
	return (double)(x >> 11) * 0x1p-53;
}

/* The context's targeting key, or NULL; numbers as their JSON text. */
static const char *
targeting_key(struct json_object *context)
{
	struct json_object *v;

	if (!json_object_is_type(context, json_type_object) ||
	    !json_object_object_get_ex(context, "targetingKey", &v))
		return NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return json_object_get_string(v);
	case json_type_int:
	case json_type_double:
		return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	default:
		return NULL;
	}
}

/* The variant the bucket falls in; rounding past the end: the last with weight. */
static const struct flag_variant *
variant_pick(const struct flag_variant *variants, size_t n, double bucket)
{
	const struct flag_variant *last = &variants[0];
	double total = 0, at = 0, target;
	size_t i;

	for (i = 0; i < n; i++)
		total += variants[i].weight;
	target = bucket * total;
	for (i = 0; i < n; i++) {
		if (!(variants[i].weight > 0))
			continue;
		at += variants[i].weight;
		last = &variants[i];
		if (target < at)
			break;
	}
	return last;
}

/* Serve a variant of variants[0..n): split by the targeting key, else the first. */
static void
split(const struct flag *flag, const struct flag_variant *variants, size_t n,
    struct json_object *context, enum eval_reason split_reason,
    enum eval_reason keyless_reason, struct eval_result *result)
{
	const char *tk = targeting_key(context);
	const struct flag_variant *v = &variants[0];

	if (tk != NULL)
		v = variant_pick(variants, n, eval_bucket(flag->key != NULL ?
		    flag->key : "", tk));
	result->has_value = 1;
	result->value = v->value;
	result->variant = v->name;
	result->reason = tk != NULL ? split_reason : keyless_reason;
}

static void
serve_default(const struct flag *flag, enum eval_reason reason,
    struct eval_result *result)
{
	result->has_value = flag->has_default;
	result->value = flag->has_default ? flag->default_value : NULL;
	result->reason = reason;
}

/* Do the rule's segments and its own criteria hold for context? */
static int
rule_matches(const struct flag_rule *rule, struct json_object *context,
    const struct eval_segments *segments)
{
	const struct flag_criteria *criteria;
	size_t i;

	for (i = 0; i < rule->nsegments; i++) {
		/* Used at once: the next lookup may reuse what it points to. */
		if (segments == NULL || segments->lookup == NULL ||
		    (criteria = segments->lookup(segments->arg,
		    rule->segments[i])) == NULL ||
		    !eval_criteria(criteria, context))
			return 0;
	}
	return eval_criteria(&rule->criteria, context);
}

void
eval_flag(const struct flag *flag, struct json_object *context,
    struct eval_result *result)
{
	eval_flag_in(flag, context, NULL, result);
}

void
eval_flag_in(const struct flag *flag, struct json_object *context,
    const struct eval_segments *segments, struct eval_result *result)
{
	const struct flag_rule *rule;
	size_t i;

	memset(result, 0, sizeof(*result));
	if (!flag->enabled) {
		serve_default(flag, EVAL_DISABLED, result);
		return;
	}
	for (i = 0; i < flag->nrules; i++) {
		rule = &flag->rules[i];
		if (!rule_matches(rule, context, segments))
			continue;
		if (rule->nvariants > 0)
			split(flag, rule->variants, rule->nvariants, context,
			    EVAL_TARGETING_MATCH, EVAL_TARGETING_MATCH, result);
		else {
			result->has_value = rule->has_value;
			result->value = rule->value;
			result->reason = EVAL_TARGETING_MATCH;
		}
		return;
	}
	if (flag->has_criteria && !eval_criteria(&flag->criteria, context)) {
		serve_default(flag, EVAL_DEFAULT, result);
		return;
	}
	if (flag->nvariants > 0)
		split(flag, flag->variants, flag->nvariants, context, EVAL_SPLIT,
		    EVAL_DEFAULT, result);
	else {
		result->has_value = flag->has_value;
		result->value = flag->value;
		result->reason = flag->has_criteria ? EVAL_TARGETING_MATCH : EVAL_STATIC;
	}
}

const char *
eval_reason_name(enum eval_reason reason)
{
	switch (reason) {
	case EVAL_STATIC:
		return "STATIC";
	case EVAL_TARGETING_MATCH:
		return "TARGETING_MATCH";
	case EVAL_SPLIT:
		return "SPLIT";
	case EVAL_DEFAULT:
		return "DEFAULT";
	case EVAL_DISABLED:
		return "DISABLED";
	}
	return "DEFAULT";
}
