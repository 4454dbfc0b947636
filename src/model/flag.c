/*
 * The feature flag document; see flag.h. Parsing checks every field and
 * collects what is wrong (up to FLAG_MAX_ERRORS, each with its field path)
 * instead of stopping at the first problem, so that one 400 tells the
 * client everything to fix. The criteria live in flag_criteria.c.
 *
 * Values ("value", "default", variant and rule values) are any JSON and are
 * kept as references to the parsed document, never copied.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "model/flag_impl.h"
#include "model/keys.h"

static const char *const flag_fields[] = {
	"key", "description", "enabled", "criteria", "value", "default",
	"variants", "rules", "revision", "created_at", "updated_at", NULL,
};
static const char *const variant_fields[] = { "name", "value", "weight", NULL };
static const char *const rule_fields[] = { "segments", "criteria", "value",
    "variants", NULL };

/* An error for every member of obj not in known; -1 if there was one. */
static int
unknown_fields(struct json_object *obj, const char *const *known,
    const char *path, struct flag_errors *errors)
{
	const char *const *k;
	int rc = 0;

	json_object_object_foreach(obj, name, value) {
		(void)value;
		for (k = known; *k != NULL && strcmp(*k, name) != 0; k++)
			;
		if (*k == NULL) {
			flag_error(errors, 1, "unknown field", "%s%s%s", path,
			    *path != '\0' ? "." : "", name);
			rc = -1;
		}
	}
	return rc;
}

/* Looks like an RFC 3339 timestamp: 2026-11-22T10:00:00[.frac](Z|+hh:mm). */
static int
rfc3339_like(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, len = strlen(s);

	if (len < sizeof(shape) || len >= 32)
		return 0;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return 0;
	s += i;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (strcmp(s, "Z") == 0)
		return 1;
	return (*s == '+' || *s == '-') && strlen(s) == 6 && s[3] == ':' &&
	    s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
	    s[4] >= '0' && s[4] <= '9' && s[5] >= '0' && s[5] <= '9';
}

static void
copy_timestamp(struct json_object *doc, const char *name, char *out, size_t outlen)
{
	struct json_object *v;

	if (json_object_object_get_ex(doc, name, &v) &&
	    json_object_is_type(v, json_type_string) &&
	    rfc3339_like(json_object_get_string(v)))
		snprintf(out, outlen, "%s", json_object_get_string(v));
}

static void
key_parse(struct json_object *doc, const char *key, struct flag *flag,
    struct flag_errors *errors)
{
	struct json_object *v;
	const char *given = NULL;

	if (json_object_object_get_ex(doc, "key", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			flag_error(errors, 0, "must be a string", "key");
			return;
		}
		given = json_object_get_string(v);
		if (key != NULL && strcmp(given, key) != 0) {
			flag_error(errors, 0, "must equal the key in the path", "key");
			return;
		}
	}
	if (key == NULL && (given == NULL || !name_valid(given))) {
		flag_error(errors, 0, "required: [A-Za-z0-9][A-Za-z0-9._-]{0,127}",
		    "key");
		return;
	}
	flag->key = xstrdup(key != NULL ? key : given);
}

/* variants[i] of arr: {"name","value","weight"}, the name unlike earlier ones. */
static int
variant_parse(struct json_object *obj, const char *path, size_t i,
    struct flag_variant *variants, struct flag_errors *errors)
{
	struct flag_variant *v = &variants[i];
	struct json_object *name, *value, *weight;
	char vpath[112];
	size_t j;
	int rc = 0;

	snprintf(vpath, sizeof(vpath), "%s[%zu]", path, i);
	if (!json_object_is_type(obj, json_type_object)) {
		flag_error(errors, 0, "must be an object {name, value, weight}",
		    "%s", vpath);
		return -1;
	}
	if (unknown_fields(obj, variant_fields, vpath, errors) == -1)
		rc = -1;
	if (!json_object_object_get_ex(obj, "name", &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    !name_valid(json_object_get_string(name))) {
		flag_error(errors, 0, "required: [A-Za-z0-9][A-Za-z0-9._-]{0,127}",
		    "%s.name", vpath);
		rc = -1;
	} else {
		for (j = 0; j < i; j++)
			if (variants[j].name != NULL &&
			    strcmp(variants[j].name, json_object_get_string(name)) == 0)
				break;
		if (j < i) {
			flag_error(errors, 0, "duplicate variant name", "%s.name",
			    vpath);
			rc = -1;
		} else
			v->name = xstrdup(json_object_get_string(name));
	}
	if (!json_object_object_get_ex(obj, "value", &value)) {
		flag_error(errors, 0, "required", "%s.value", vpath);
		rc = -1;
	} else
		v->value = json_object_get(value);
	if (!json_object_object_get_ex(obj, "weight", &weight) ||
	    !(json_object_is_type(weight, json_type_int) ||
	    json_object_is_type(weight, json_type_double)) ||
	    !isfinite(json_object_get_double(weight)) ||
	    json_object_get_double(weight) < 0) {
		flag_error(errors, 0, "required: a number >= 0", "%s.weight", vpath);
		rc = -1;
	} else
		v->weight = json_object_get_double(weight);
	return rc;
}

static int
variants_parse(struct json_object *arr, const char *path,
    struct flag_variant **variants, size_t *nvariants, struct flag_errors *errors)
{
	size_t i, n;
	double sum = 0;
	int rc = 0;

	if (!json_object_is_type(arr, json_type_array)) {
		flag_error(errors, 0, "must be an array of {name, value, weight}",
		    "%s", path);
		return -1;
	}
	n = json_object_array_length(arr);
	if (n == 0 || n > FLAG_MAX_VARIANTS) {
		flag_error(errors, 0, "1 to 100 variants", "%s", path);
		return -1;
	}
	*variants = xcalloc(n, sizeof(**variants));
	*nvariants = n;
	for (i = 0; i < n; i++) {
		if (variant_parse(json_object_array_get_idx(arr, i), path, i,
		    *variants, errors) == -1)
			rc = -1;
		sum += (*variants)[i].weight;
	}
	if (rc == 0 && !(sum > 0 && isfinite(sum))) {
		flag_error(errors, 0, "the weights must add up to a positive "
		    "finite number", "%s", path);
		rc = -1;
	}
	return rc;
}

/* value and variants of a rule or of the flag: at least one of them. */
static int
outcome_parse(struct json_object *obj, const char *path, int *has_value,
    struct json_object **value, struct flag_variant **variants,
    size_t *nvariants, struct flag_errors *errors)
{
	struct json_object *v, *vs = NULL;
	char vpath[96];
	int rc = 0;

	if (json_object_object_get_ex(obj, "value", &v)) {
		*has_value = 1;
		*value = json_object_get(v);
	}
	snprintf(vpath, sizeof(vpath), "%s%svariants", path, *path != '\0' ? "." : "");
	if (json_object_object_get_ex(obj, "variants", &vs) && vs != NULL &&
	    variants_parse(vs, vpath, variants, nvariants, errors) == -1)
		rc = -1;
	if (!*has_value && vs == NULL) {
		flag_error(errors, 0, "required unless variants are given",
		    "%s%svalue", path, *path != '\0' ? "." : "");
		rc = -1;
	}
	return rc;
}

/* The rule's "segments": 1 to FLAG_MAX_SEGMENTS distinct names. */
static int
segments_parse(struct json_object *obj, const char *path, struct flag_rule *rule,
    struct flag_errors *errors)
{
	struct json_object *arr, *name;
	size_t i, j, n;

	if (!json_object_object_get_ex(obj, "segments", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) == 0 || n > FLAG_MAX_SEGMENTS) {
		flag_error(errors, 0, "must be an array of 1 to 16 segment names",
		    "%s.segments", path);
		return -1;
	}
	rule->segments = xcalloc(n, sizeof(*rule->segments));
	for (i = 0; i < n; i++) {
		name = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(name, json_type_string) ||
		    !name_valid(json_object_get_string(name))) {
			flag_error(errors, 0, "a segment name: "
			    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}", "%s.segments[%zu]",
			    path, i);
			return -1;
		}
		for (j = 0; j < rule->nsegments; j++)
			if (strcmp(rule->segments[j], json_object_get_string(name)) == 0)
				break;
		if (j == rule->nsegments)
			rule->segments[rule->nsegments++] =
			    xstrdup(json_object_get_string(name));
	}
	return 0;
}

static int
rule_parse(struct json_object *obj, size_t i, struct flag_rule *rule,
    size_t *budget, struct flag_errors *errors)
{
	struct json_object *criteria;
	char path[48];
	int rc = 0;

	snprintf(path, sizeof(path), "rules[%zu]", i);
	if (!json_object_is_type(obj, json_type_object)) {
		flag_error(errors, 0, "must be an object {criteria, value | variants}",
		    "%s", path);
		return -1;
	}
	if (unknown_fields(obj, rule_fields, path, errors) == -1)
		rc = -1;
	if (segments_parse(obj, path, rule, errors) == -1)
		rc = -1;
	if (!json_object_object_get_ex(obj, "criteria", &criteria) ||
	    criteria == NULL) {
		/* A rule that names segments needs no criteria of its own. */
		if (rule->nsegments == 0) {
			flag_error(errors, 0, "required: an object of attribute: "
			    "matcher", "%s.criteria", path);
			rc = -1;
		}
	} else {
		char cpath[64];

		snprintf(cpath, sizeof(cpath), "%s.criteria", path);
		if (flag_criteria_parse(criteria, cpath, &rule->criteria, budget,
		    errors) == -1)
			rc = -1;
	}
	if (outcome_parse(obj, path, &rule->has_value, &rule->value,
	    &rule->variants, &rule->nvariants, errors) == -1)
		rc = -1;
	return rc;
}

static int
rules_parse(struct json_object *arr, struct flag *flag, size_t *budget,
    struct flag_errors *errors)
{
	size_t i, n;
	int rc = 0;

	if (arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array)) {
		flag_error(errors, 0, "must be an array of rules", "rules");
		return -1;
	}
	if ((n = json_object_array_length(arr)) > FLAG_MAX_RULES) {
		flag_error(errors, 0, "at most 100 rules", "rules");
		return -1;
	}
	flag->rules = n > 0 ? xcalloc(n, sizeof(*flag->rules)) : NULL;
	flag->nrules = n;
	for (i = 0; i < n; i++)
		if (rule_parse(json_object_array_get_idx(arr, i), i,
		    &flag->rules[i], budget, errors) == -1)
			rc = -1;
	if (rc == 0 && flag_segments(flag, NULL) > FLAG_MAX_SEGMENTS) {
		flag_error(errors, 0, "at most 16 distinct segments in a flag",
		    "rules");
		rc = -1;
	}
	return rc;
}

/* description, enabled, criteria. */
static int
basics_parse(struct json_object *doc, struct flag *flag, size_t *budget,
    struct flag_errors *errors)
{
	struct json_object *v;
	int rc = 0;

	if (json_object_object_get_ex(doc, "description", &v)) {
		if (json_object_is_type(v, json_type_string)) {
			free(flag->description);
			flag->description = xstrdup(json_object_get_string(v));
		} else {
			flag_error(errors, 0, "must be a string", "description");
			rc = -1;
		}
	}
	if (json_object_object_get_ex(doc, "enabled", &v)) {
		if (json_object_is_type(v, json_type_boolean))
			flag->enabled = json_object_get_boolean(v);
		else {
			flag_error(errors, 0, "must be true or false", "enabled");
			rc = -1;
		}
	}
	/* An empty object is no criteria, as null is: it matches everyone. */
	if (json_object_object_get_ex(doc, "criteria", &v) && v != NULL &&
	    !(json_object_is_type(v, json_type_object) &&
	    json_object_object_length(v) == 0)) {
		flag->has_criteria = 1;
		if (flag_criteria_parse(v, "criteria", &flag->criteria, budget,
		    errors) == -1)
			rc = -1;
	}
	return rc;
}

int
flag_parse(struct json_object *doc, const char *key, struct flag *flag,
    struct flag_errors *errors)
{
	struct json_object *v;
	size_t budget = FLAG_MAX_CONDITIONS;

	memset(flag, 0, sizeof(*flag));
	memset(errors, 0, sizeof(*errors));
	flag->enabled = 1;
	flag->description = xstrdup("");
	if (!json_object_is_type(doc, json_type_object)) {
		flag_error(errors, 0, "a flag is a JSON object", "body");
		return -1;
	}
	unknown_fields(doc, flag_fields, "", errors);
	key_parse(doc, key, flag, errors);
	basics_parse(doc, flag, &budget, errors);
	outcome_parse(doc, "", &flag->has_value, &flag->value, &flag->variants,
	    &flag->nvariants, errors);
	if (json_object_object_get_ex(doc, "default", &v)) {
		flag->has_default = 1;
		flag->default_value = json_object_get(v);
	}
	if (json_object_object_get_ex(doc, "rules", &v))
		rules_parse(v, flag, &budget, errors);
	copy_timestamp(doc, "created_at", flag->created_at, sizeof(flag->created_at));
	copy_timestamp(doc, "updated_at", flag->updated_at, sizeof(flag->updated_at));
	return errors->count > 0 ? -1 : 0;
}

static void
variants_free(struct flag_variant *variants, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(variants[i].name);
		json_object_put(variants[i].value);
	}
	free(variants);
}

void
flag_free(struct flag *flag)
{
	size_t i, j;

	free(flag->key);
	free(flag->description);
	flag_criteria_free(&flag->criteria);
	json_object_put(flag->value);
	json_object_put(flag->default_value);
	variants_free(flag->variants, flag->nvariants);
	for (i = 0; i < flag->nrules; i++) {
		for (j = 0; j < flag->rules[i].nsegments; j++)
			free(flag->rules[i].segments[j]);
		free(flag->rules[i].segments);
		flag_criteria_free(&flag->rules[i].criteria);
		json_object_put(flag->rules[i].value);
		variants_free(flag->rules[i].variants, flag->rules[i].nvariants);
	}
	free(flag->rules);
	memset(flag, 0, sizeof(*flag));
}

/* A weight as an integer when it is one, else in the fewest digits that read back. */
static struct json_object *
weight_json(double w)
{
	char text[40];
	int digits;

	if (w < 9007199254740992.0 && w == (double)(int64_t)w)
		return json_object_new_int64((int64_t)w);
	for (digits = 15; digits < 17; digits++) {
		snprintf(text, sizeof(text), "%.*g", digits, w);
		if (strtod(text, NULL) == w)
			break;
	}
	snprintf(text, sizeof(text), "%.*g", digits, w);
	return json_object_new_double_s(w, text);
}

static struct json_object *
variants_json(const struct flag_variant *variants, size_t n)
{
	struct json_object *arr = json_object_new_array(), *obj;
	size_t i;

	for (i = 0; i < n; i++) {
		obj = json_object_new_object();
		json_object_object_add(obj, "name",
		    json_object_new_string(variants[i].name));
		json_object_object_add(obj, "value", json_object_get(variants[i].value));
		json_object_object_add(obj, "weight", weight_json(variants[i].weight));
		json_object_array_add(arr, obj);
	}
	return arr;
}

static struct json_object *
rules_json(const struct flag_rule *rules, size_t n)
{
	struct json_object *arr = json_object_new_array(), *obj;
	size_t i;

	for (i = 0; i < n; i++) {
		obj = json_object_new_object();
		if (rules[i].nsegments > 0) {
			struct json_object *names = json_object_new_array();
			size_t j;

			for (j = 0; j < rules[i].nsegments; j++)
				json_object_array_add(names,
				    json_object_new_string(rules[i].segments[j]));
			json_object_object_add(obj, "segments", names);
		}
		json_object_object_add(obj, "criteria",
		    flag_criteria_to_json(&rules[i].criteria));
		if (rules[i].has_value)
			json_object_object_add(obj, "value",
			    json_object_get(rules[i].value));
		if (rules[i].nvariants > 0)
			json_object_object_add(obj, "variants", variants_json(
			    rules[i].variants, rules[i].nvariants));
		json_object_array_add(arr, obj);
	}
	return arr;
}

struct json_object *
flag_to_json(const struct flag *flag, int64_t revision)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "key", json_object_new_string(
	    flag->key != NULL ? flag->key : ""));
	json_object_object_add(obj, "description", json_object_new_string(
	    flag->description != NULL ? flag->description : ""));
	json_object_object_add(obj, "enabled", json_object_new_boolean(flag->enabled));
	json_object_object_add(obj, "criteria", flag->has_criteria ?
	    flag_criteria_to_json(&flag->criteria) : NULL);
	if (flag->has_value)
		json_object_object_add(obj, "value", json_object_get(flag->value));
	if (flag->has_default)
		json_object_object_add(obj, "default",
		    json_object_get(flag->default_value));
	if (flag->nvariants > 0)
		json_object_object_add(obj, "variants",
		    variants_json(flag->variants, flag->nvariants));
	if (flag->nrules > 0)
		json_object_object_add(obj, "rules",
		    rules_json(flag->rules, flag->nrules));
	if (flag->created_at[0] != '\0')
		json_object_object_add(obj, "created_at",
		    json_object_new_string(flag->created_at));
	if (flag->updated_at[0] != '\0')
		json_object_object_add(obj, "updated_at",
		    json_object_new_string(flag->updated_at));
	if (revision > 0)
		json_object_object_add(obj, "revision", json_object_new_int64(revision));
	return obj;
}

size_t
flag_segments(const struct flag *flag, const char **names)
{
	const char *seen[FLAG_MAX_SEGMENTS + 1];
	size_t i, j, k, n = 0;

	for (i = 0; i < flag->nrules; i++)
		for (j = 0; j < flag->rules[i].nsegments; j++) {
			const char *name = flag->rules[i].segments[j];

			for (k = 0; k < n && strcmp(seen[k], name) != 0; k++)
				;
			if (k < n)
				continue;
			if (n == FLAG_MAX_SEGMENTS)
				return n + 1;	/* too many: the parser refuses it */
			seen[n] = name;
			if (names != NULL)
				names[n] = name;
			n++;
		}
	return n;
}

int
flag_uses_segment(const struct flag *flag, const char *segment)
{
	size_t i, j;

	for (i = 0; i < flag->nrules; i++)
		for (j = 0; j < flag->rules[i].nsegments; j++)
			if (strcmp(flag->rules[i].segments[j], segment) == 0)
				return 1;
	return 0;
}

int
flag_has_variants(const struct flag *flag)
{
	size_t i;

	if (flag->nvariants > 0)
		return 1;
	for (i = 0; i < flag->nrules; i++)
		if (flag->rules[i].nvariants > 0)
			return 1;
	return 0;
}
