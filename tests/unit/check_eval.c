/*
 * Unit tests of flag evaluation (eval.c): every operator against matching,
 * non-matching, missing and wrongly typed attributes; dotted paths, numeric
 * strings and semantic version order; the steps of API.md §5 and their
 * reasons; and the split: its distribution, its stability and its hash,
 * pinned so that every node and every version agrees.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "model/eval.h"
#include "model/flag_impl.h"
#include "model/flag.h"

#include "check_suites.h"

/* Parse text as the flag "k"; fails the test when it is refused. */
static void
flag_from(const char *text, struct flag *flag)
{
	struct json_object *doc = test_json_parse(text, "flag");
	struct flag_errors errors;

	ck_assert_msg(flag_parse(doc, "k", flag, &errors) == 0, "%s: refused: %s: %s",
	    text, errors.count > 0 ? errors.items[0].field : "?",
	    errors.count > 0 ? errors.items[0].message : "?");
	json_object_put(doc);
}

/* Does criteria (JSON text) hold for context (JSON text)? */
static int
holds(const char *criteria, const char *context)
{
	struct json_object *ctx = test_json_parse(context, "context");
	struct flag flag;
	char text[1024];
	int rc;

	snprintf(text, sizeof(text), "{\"criteria\":%s,\"value\":1}", criteria);
	flag_from(text, &flag);
	rc = eval_criteria(&flag.criteria, ctx);
	flag_free(&flag);
	json_object_put(ctx);
	return rc;
}

/* Operators: for each, a match, a miss, a missing and a wrong-type attribute. */
#define EMAIL_REGEX "{\"a\":{\"regex\":\"^[a-z]+@example\\\\.com$\"}}"

static const struct {
	const char	*criteria;
	const char	*context;
	int		 want;
} conditions[] = {
	/* eq, the scalar shorthand and the operator */
	{ "{\"a\":\"US\"}", "{\"a\":\"US\"}", 1 },
	{ "{\"a\":\"US\"}", "{\"a\":\"FR\"}", 0 },
	{ "{\"a\":\"US\"}", "{}", 0 },
	{ "{\"a\":\"US\"}", "{\"a\":[\"US\"]}", 0 },
	{ "{\"a\":\"US\"}", "{\"a\":\"us\"}", 0 },
	{ "{\"a\":{\"eq\":1}}", "{\"a\":1.0}", 1 },
	{ "{\"a\":{\"eq\":1}}", "{\"a\":\"1\"}", 1 },
	{ "{\"a\":{\"eq\":\"1\"}}", "{\"a\":1}", 1 },
	{ "{\"a\":{\"eq\":0}}", "{\"a\":\"-0\"}", 1 },
	{ "{\"a\":{\"eq\":\"1\"}}", "{\"a\":\"1.0\"}", 0 },	/* two strings: bytes */
	{ "{\"a\":{\"eq\":1}}", "{\"a\":\"1x\"}", 0 },
	{ "{\"a\":{\"eq\":1}}", "{\"a\":true}", 0 },
	{ "{\"a\":{\"eq\":true}}", "{\"a\":true}", 1 },
	{ "{\"a\":{\"eq\":true}}", "{\"a\":false}", 0 },
	{ "{\"a\":{\"eq\":true}}", "{\"a\":\"true\"}", 0 },
	{ "{\"a\":{\"eq\":1}}", "{\"a\":{\"b\":1}}", 0 },
	{ "{\"a\":null}", "{\"a\":null}", 1 },
	{ "{\"a\":null}", "{}", 0 },
	{ "{\"a\":null}", "{\"a\":0}", 0 },
	{ "{\"a\":{\"eq\":9007199254740993}}", "{\"a\":9007199254740992}", 0 },
	{ "{\"a\":{\"eq\":9007199254740993}}", "{\"a\":\"9007199254740993\"}", 1 },
	/* ne */
	{ "{\"a\":{\"ne\":\"US\"}}", "{\"a\":\"FR\"}", 1 },
	{ "{\"a\":{\"ne\":\"US\"}}", "{\"a\":\"US\"}", 0 },
	{ "{\"a\":{\"ne\":\"US\"}}", "{}", 0 },
	{ "{\"a\":{\"ne\":\"US\"}}", "{\"a\":{\"b\":1}}", 0 },
	{ "{\"a\":{\"ne\":\"US\"}}", "{\"a\":[\"FR\"]}", 0 },
	{ "{\"a\":{\"ne\":\"US\"}}", "{\"a\":null}", 1 },
	{ "{\"a\":{\"ne\":1}}", "{\"a\":\"1\"}", 0 },
	{ "{\"a\":{\"ne\":1}}", "{\"a\":true}", 1 },
	/* gt */
	{ "{\"a\":{\"gt\":10}}", "{\"a\":42}", 1 },
	{ "{\"a\":{\"gt\":10}}", "{\"a\":10}", 0 },
	{ "{\"a\":{\"gt\":10}}", "{\"a\":5}", 0 },
	{ "{\"a\":{\"gt\":10}}", "{}", 0 },
	{ "{\"a\":{\"gt\":10}}", "{\"a\":\"abc\"}", 0 },
	{ "{\"a\":{\"gt\":10}}", "{\"a\":true}", 0 },
	{ "{\"a\":{\"gt\":10}}", "{\"a\":null}", 0 },
	{ "{\"a\":{\"gt\":10}}", "{\"a\":\"42\"}", 1 },
	{ "{\"a\":{\"gt\":10}}", "{\"a\":\"9\"}", 0 },
	{ "{\"a\":{\"gt\":\"10\"}}", "{\"a\":11}", 1 },
	{ "{\"a\":{\"gt\":1.5}}", "{\"a\":2}", 1 },
	{ "{\"a\":{\"gt\":1.5}}", "{\"a\":1}", 0 },
	/* gte */
	{ "{\"a\":{\"gte\":18}}", "{\"a\":18}", 1 },
	{ "{\"a\":{\"gte\":18}}", "{\"a\":17.999}", 0 },
	{ "{\"a\":{\"gte\":18}}", "{}", 0 },
	{ "{\"a\":{\"gte\":18}}", "{\"a\":[18]}", 0 },
	{ "{\"a\":{\"gte\":18}}", "{\"a\":\"18.0\"}", 1 },
	{ "{\"a\":{\"gte\":18}}", "{\"a\":\"018\"}", 0 },	/* not a JSON number */
	/* lt */
	{ "{\"a\":{\"lt\":0}}", "{\"a\":-1}", 1 },
	{ "{\"a\":{\"lt\":0}}", "{\"a\":0}", 0 },
	{ "{\"a\":{\"lt\":0}}", "{}", 0 },
	{ "{\"a\":{\"lt\":0}}", "{\"a\":\"\"}", 0 },
	{ "{\"a\":{\"lt\":0}}", "{\"a\":\"-1e1\"}", 1 },
	/* lte */
	{ "{\"a\":{\"lte\":\"3\"}}", "{\"a\":3}", 1 },
	{ "{\"a\":{\"lte\":\"3\"}}", "{\"a\":3.01}", 0 },
	{ "{\"a\":{\"lte\":\"3\"}}", "{}", 0 },
	{ "{\"a\":{\"lte\":\"3\"}}", "{\"a\":\"x\"}", 0 },
	/* in, the array shorthand and the operator */
	{ "{\"a\":[\"premium\",\"gold\"]}", "{\"a\":\"gold\"}", 1 },
	{ "{\"a\":[\"premium\",\"gold\"]}", "{\"a\":\"silver\"}", 0 },
	{ "{\"a\":[\"premium\",\"gold\"]}", "{}", 0 },
	{ "{\"a\":[\"premium\",\"gold\"]}", "{\"a\":[\"gold\"]}", 0 },
	{ "{\"a\":{\"in\":[1,2]}}", "{\"a\":\"2\"}", 1 },
	{ "{\"a\":{\"in\":[1,2]}}", "{\"a\":2.0}", 1 },
	{ "{\"a\":{\"in\":[1,2]}}", "{\"a\":3}", 0 },
	{ "{\"a\":[null]}", "{\"a\":null}", 1 },
	{ "{\"a\":[]}", "{\"a\":1}", 0 },
	/* not_in */
	{ "{\"a\":{\"not_in\":[\"x\",\"y\"]}}", "{\"a\":\"z\"}", 1 },
	{ "{\"a\":{\"not_in\":[\"x\",\"y\"]}}", "{\"a\":\"x\"}", 0 },
	{ "{\"a\":{\"not_in\":[\"x\",\"y\"]}}", "{}", 0 },
	{ "{\"a\":{\"not_in\":[\"x\",\"y\"]}}", "{\"a\":{}}", 0 },
	{ "{\"a\":{\"not_in\":[]}}", "{\"a\":1}", 1 },
	{ "{\"a\":{\"not_in\":[1]}}", "{\"a\":\"1\"}", 0 },
	/* contains */
	{ "{\"a\":{\"contains\":\"ell\"}}", "{\"a\":\"hello\"}", 1 },
	{ "{\"a\":{\"contains\":\"ell\"}}", "{\"a\":\"world\"}", 0 },
	{ "{\"a\":{\"contains\":\"ell\"}}", "{}", 0 },
	{ "{\"a\":{\"contains\":\"ell\"}}", "{\"a\":5}", 0 },
	{ "{\"a\":{\"contains\":\"ell\"}}", "{\"a\":null}", 0 },
	{ "{\"a\":{\"contains\":\"b\"}}", "{\"a\":[\"a\",\"b\"]}", 1 },
	{ "{\"a\":{\"contains\":\"b\"}}", "{\"a\":[\"a\",\"bc\"]}", 0 },
	{ "{\"a\":{\"contains\":2}}", "{\"a\":[1,\"2\"]}", 1 },
	{ "{\"a\":{\"contains\":2}}", "{\"a\":\"123\"}", 0 },
	{ "{\"a\":{\"contains\":\"\"}}", "{\"a\":\"\"}", 1 },
	/* not_contains */
	{ "{\"a\":{\"not_contains\":\"ell\"}}", "{\"a\":\"world\"}", 1 },
	{ "{\"a\":{\"not_contains\":\"ell\"}}", "{\"a\":\"hello\"}", 0 },
	{ "{\"a\":{\"not_contains\":\"ell\"}}", "{}", 0 },
	{ "{\"a\":{\"not_contains\":\"ell\"}}", "{\"a\":5}", 0 },
	{ "{\"a\":{\"not_contains\":\"c\"}}", "{\"a\":[\"a\"]}", 1 },
	{ "{\"a\":{\"not_contains\":\"a\"}}", "{\"a\":[\"a\"]}", 0 },
	/* starts_with */
	{ "{\"a\":{\"starts_with\":\"abc\"}}", "{\"a\":\"abcdef\"}", 1 },
	{ "{\"a\":{\"starts_with\":\"abc\"}}", "{\"a\":\"xabc\"}", 0 },
	{ "{\"a\":{\"starts_with\":\"abc\"}}", "{\"a\":\"ab\"}", 0 },
	{ "{\"a\":{\"starts_with\":\"abc\"}}", "{}", 0 },
	{ "{\"a\":{\"starts_with\":\"123\"}}", "{\"a\":1234}", 0 },
	/* ends_with */
	{ "{\"a\":{\"ends_with\":\"@example.com\"}}", "{\"a\":\"bob@example.com\"}", 1 },
	{ "{\"a\":{\"ends_with\":\"@example.com\"}}", "{\"a\":\"bob@example.org\"}", 0 },
	{ "{\"a\":{\"ends_with\":\"@example.com\"}}", "{\"a\":\"m\"}", 0 },
	{ "{\"a\":{\"ends_with\":\"@example.com\"}}", "{}", 0 },
	{ "{\"a\":{\"ends_with\":\"@example.com\"}}",
	    "{\"a\":[\"bob@example.com\"]}", 0 },
	{ "{\"a\":{\"ends_with\":\"\"}}", "{\"a\":\"\"}", 1 },
	/* regex */
	{ EMAIL_REGEX, "{\"a\":\"bob@example.com\"}", 1 },
	{ EMAIL_REGEX, "{\"a\":\"Bob@example.com\"}", 0 },
	{ EMAIL_REGEX, "{\"a\":\"bob@exampleXcom\"}", 0 },
	{ EMAIL_REGEX, "{}", 0 },
	{ "{\"a\":{\"regex\":\"^4\"}}", "{\"a\":42}", 0 },
	{ "{\"a\":{\"regex\":\"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
	    "[0-9a-f]{12}\"}}", "{\"a\":\"123e4567-e89b-12d3-a456-426614174000\"}", 1 },
	{ "{\"a\":{\"regex\":\"(foo|bar)+\"}}", "{\"a\":\"xbarfoo\"}", 1 },
	/* exists */
	{ "{\"a\":{\"exists\":true}}", "{\"a\":0}", 1 },
	{ "{\"a\":{\"exists\":true}}", "{\"a\":{}}", 1 },
	{ "{\"a\":{\"exists\":true}}", "{}", 0 },
	{ "{\"a\":{\"exists\":true}}", "{\"a\":null}", 0 },
	{ "{\"a\":{\"exists\":false}}", "{}", 1 },
	{ "{\"a\":{\"exists\":false}}", "{\"a\":null}", 1 },
	{ "{\"a\":{\"exists\":false}}", "{\"a\":false}", 0 },
	{ "{\"a.b\":{\"exists\":false}}", "{\"a\":5}", 1 },
	/* semver_gt */
	{ "{\"v\":{\"semver_gt\":\"1.2.3\"}}", "{\"v\":\"1.10.0\"}", 1 },
	{ "{\"v\":{\"semver_gt\":\"1.2.3\"}}", "{\"v\":\"1.2.3\"}", 0 },
	{ "{\"v\":{\"semver_gt\":\"1.2.3\"}}", "{\"v\":\"1.2.3+build.7\"}", 0 },
	{ "{\"v\":{\"semver_gt\":\"1.2.3\"}}", "{\"v\":\"1.2.3-rc.1\"}", 0 },
	{ "{\"v\":{\"semver_gt\":\"1.2.3\"}}", "{\"v\":\"v1.2.4\"}", 1 },
	{ "{\"v\":{\"semver_gt\":\"1.2.3\"}}", "{}", 0 },
	{ "{\"v\":{\"semver_gt\":\"1.2.3\"}}", "{\"v\":\"banana\"}", 0 },
	{ "{\"v\":{\"semver_gt\":\"1.2.3\"}}", "{\"v\":\"1.3\"}", 0 },
	{ "{\"v\":{\"semver_gt\":\"1.2.3\"}}", "{\"v\":124}", 0 },
	/* semver_lt */
	{ "{\"v\":{\"semver_lt\":\"2.0.0\"}}", "{\"v\":\"2.0.0-rc.1\"}", 1 },
	{ "{\"v\":{\"semver_lt\":\"2.0.0\"}}", "{\"v\":\"2.0.0\"}", 0 },
	{ "{\"v\":{\"semver_lt\":\"2.0.0\"}}", "{\"v\":\"10.0.0\"}", 0 },
	{ "{\"v\":{\"semver_lt\":\"2.0.0\"}}", "{}", 0 },
	{ "{\"v\":{\"semver_lt\":\"2.0.0\"}}", "{\"v\":true}", 0 },
	/* dotted paths */
	{ "{\"user.address.country\":\"US\"}",
	    "{\"user\":{\"address\":{\"country\":\"US\"}}}", 1 },
	{ "{\"user.address.country\":\"US\"}",
	    "{\"user\":{\"address\":{\"country\":\"FR\"}}}", 0 },
	{ "{\"user.address.country\":\"US\"}", "{\"user\":{\"address\":\"US\"}}", 0 },
	{ "{\"user.address.country\":\"US\"}", "{\"user\":null}", 0 },
	{ "{\"user.address.country\":\"US\"}", "{\"user.address.country\":\"US\"}", 0 },
	{ "{\"user.age\":{\"gt\":\"17\"}}", "{\"user\":{\"age\":\"18\"}}", 1 },
	{ "{\"targetingKey\":{\"starts_with\":\"u-\"}}",
	    "{\"targetingKey\":\"u-1\"}", 1 },
	/* several conditions: all must hold */
	{ "{\"a\":{\"gt\":1,\"lt\":5}}", "{\"a\":3}", 1 },
	{ "{\"a\":{\"gt\":1,\"lt\":5}}", "{\"a\":7}", 0 },
	{ "{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2}", 1 },
	{ "{\"a\":1,\"b\":2}", "{\"a\":1}", 0 },
	{ "{}", "{}", 1 },
};

START_TEST(test_conditions)
{
	ck_assert_msg(holds(conditions[_i].criteria, conditions[_i].context) ==
	    conditions[_i].want, "criteria %s, context %s: want %d",
	    conditions[_i].criteria, conditions[_i].context, conditions[_i].want);
}
END_TEST

START_TEST(test_no_context)
{
	struct flag flag;

	flag_from("{\"criteria\":{\"a\":{\"exists\":false}},\"value\":1}", &flag);
	ck_assert_int_eq(eval_criteria(&flag.criteria, NULL), 1);
	flag_free(&flag);
	flag_from("{\"criteria\":{\"a\":{\"ne\":1}},\"value\":1}", &flag);
	ck_assert_int_eq(eval_criteria(&flag.criteria, NULL), 0);
	flag_free(&flag);
}
END_TEST

START_TEST(test_regex_long_subject)
{
	struct json_object *ctx = json_object_new_object();
	struct flag flag;
	char *s = malloc(5000);

	ck_assert_ptr_nonnull(s);
	memset(s, 'a', 4999);
	s[4999] = '\0';
	flag_from("{\"criteria\":{\"a\":{\"regex\":\"^a\"}},\"value\":1}", &flag);
	json_object_object_add(ctx, "a", json_object_new_string_len(s, 4096));
	ck_assert_int_eq(eval_criteria(&flag.criteria, ctx), 1);
	json_object_object_add(ctx, "a", json_object_new_string_len(s, 4097));
	ck_assert_int_eq(eval_criteria(&flag.criteria, ctx), 0);
	json_object_put(ctx);
	flag_free(&flag);
	free(s);
}
END_TEST

/* semver.org 2.0 §11's example order, and then some. */
static const char *const semver_order[] = {
	"0.0.1", "0.9.9", "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10",
	"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
	"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1",
	"1.2.0", "1.10.0", "2.0.0", "10.0.0", "99999999999999999999.0.0",
};

START_TEST(test_semver_order)
{
	char criteria[256], context[256];
	size_t i, j, n = ARRAY_SIZE(semver_order);

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			snprintf(context, sizeof(context), "{\"v\":\"%s\"}",
			    semver_order[i]);
			snprintf(criteria, sizeof(criteria),
			    "{\"v\":{\"semver_lt\":\"%s\"}}", semver_order[j]);
			ck_assert_msg(holds(criteria, context) == (i < j),
			    "%s semver_lt %s", semver_order[i], semver_order[j]);
			snprintf(criteria, sizeof(criteria),
			    "{\"v\":{\"semver_gt\":\"%s\"}}", semver_order[j]);
			ck_assert_msg(holds(criteria, context) == (i > j),
			    "%s semver_gt %s", semver_order[i], semver_order[j]);
		}
}
END_TEST

/* The steps of API.md §5 */

static const char graded[] =
    "{\"criteria\":{\"region\":\"US\"},\"value\":\"us\",\"default\":\"other\","
    "\"rules\":[{\"criteria\":{\"age\":{\"gte\":18}},\"value\":\"adult\"},"
    "{\"criteria\":{\"age\":{\"gte\":65}},\"value\":\"senior\"},"
    "{\"criteria\":{\"beta\":true},\"variants\":[{\"name\":\"x\",\"value\":\"bx\","
    "\"weight\":1},{\"name\":\"y\",\"value\":\"by\",\"weight\":1}]}]}";

static const char split_flag[] =
    "{\"value\":\"unused\",\"default\":\"d\",\"variants\":["
    "{\"name\":\"on\",\"value\":true,\"weight\":20},"
    "{\"name\":\"off\",\"value\":false,\"weight\":80}]}";

static const struct {
	const char	*flag;
	const char	*context;	/* NULL: no context */
	int		 has_value;
	const char	*value;		/* JSON text of the value */
	const char	*variant;
	enum eval_reason reason;
} steps[] = {
	{ "{\"criteria\":null,\"value\":true}", NULL, 1, "true", NULL, EVAL_STATIC },
	{ "{\"criteria\":null,\"value\":true}", "{\"a\":1}", 1, "true", NULL,
	    EVAL_STATIC },
	{ "{\"value\":null}", "{}", 1, "null", NULL, EVAL_STATIC },
	{ graded, "{\"region\":\"US\"}", 1, "\"us\"", NULL, EVAL_TARGETING_MATCH },
	{ graded, "{\"region\":\"FR\"}", 1, "\"other\"", NULL, EVAL_DEFAULT },
	{ graded, NULL, 1, "\"other\"", NULL, EVAL_DEFAULT },
	/* Rules come first, in order: the first that matches wins. */
	{ graded, "{\"region\":\"FR\",\"age\":70}", 1, "\"adult\"", NULL,
	    EVAL_TARGETING_MATCH },
	{ graded, "{\"region\":\"US\",\"age\":30,\"beta\":true}", 1, "\"adult\"",
	    NULL, EVAL_TARGETING_MATCH },
	{ graded, "{\"beta\":true}", 1, "\"bx\"", "x", EVAL_TARGETING_MATCH },
	{ "{\"value\":0,\"rules\":[{\"criteria\":{\"age\":{\"gte\":65}},"
	    "\"value\":\"senior\"},{\"criteria\":{\"age\":{\"gte\":18}},"
	    "\"value\":\"adult\"}]}", "{\"age\":70}", 1, "\"senior\"", NULL,
	    EVAL_TARGETING_MATCH },
	{ "{\"value\":0,\"rules\":[{\"criteria\":{},\"value\":null}]}", "{}", 1,
	    "null", NULL, EVAL_TARGETING_MATCH },
	/* Disabled: the default, whatever matches. */
	{ "{\"enabled\":false,\"value\":1,\"default\":2}", "{}", 1, "2", NULL,
	    EVAL_DISABLED },
	{ "{\"enabled\":false,\"value\":1,\"default\":2,\"rules\":[{\"criteria\":"
	    "{},\"value\":3}]}", "{}", 1, "2", NULL, EVAL_DISABLED },
	/* No default: no value, the caller's own default applies. */
	{ "{\"enabled\":false,\"value\":1}", "{}", 0, NULL, NULL, EVAL_DISABLED },
	{ "{\"criteria\":{\"a\":1},\"value\":1}", "{\"a\":2}", 0, NULL, NULL,
	    EVAL_DEFAULT },
	/* Splits; the bucket of k/user-1 is pinned below (0.65...). */
	{ split_flag, "{\"targetingKey\":\"user-1\"}", 1, "false", "off", EVAL_SPLIT },
	{ split_flag, "{}", 1, "true", "on", EVAL_DEFAULT },
	{ split_flag, NULL, 1, "true", "on", EVAL_DEFAULT },
	{ split_flag, "{\"targetingKey\":true}", 1, "true", "on", EVAL_DEFAULT },
	{ split_flag, "{\"targetingKey\":null}", 1, "true", "on", EVAL_DEFAULT },
	{ "{\"criteria\":{\"a\":1},\"default\":\"d\",\"variants\":[{\"name\":\"v\","
	    "\"value\":1,\"weight\":1}]}", "{\"targetingKey\":\"u\",\"a\":2}", 1,
	    "\"d\"", NULL, EVAL_DEFAULT },
	{ "{\"criteria\":{\"a\":1},\"variants\":[{\"name\":\"v\",\"value\":1,"
	    "\"weight\":1}]}", "{\"targetingKey\":\"u\",\"a\":1}", 1, "1", "v",
	    EVAL_SPLIT },
	/* The first listed variant without a key, even with weight 0. */
	{ "{\"variants\":[{\"name\":\"z\",\"value\":0,\"weight\":0},{\"name\":\"w\","
	    "\"value\":1,\"weight\":1}]}", "{}", 1, "0", "z", EVAL_DEFAULT },
	{ "{\"variants\":[{\"name\":\"z\",\"value\":0,\"weight\":0},{\"name\":\"w\","
	    "\"value\":1,\"weight\":1}]}", "{\"targetingKey\":\"u\"}", 1, "1", "w",
	    EVAL_SPLIT },
};

START_TEST(test_steps)
{
	struct json_object *ctx = NULL;
	struct eval_result result;
	struct flag flag;

	flag_from(steps[_i].flag, &flag);
	if (steps[_i].context != NULL)
		ctx = test_json_parse(steps[_i].context, "context");
	eval_flag(&flag, ctx, &result);
	ck_assert_int_eq(result.has_value, steps[_i].has_value);
	if (steps[_i].has_value)
		ck_assert_str_eq(json_object_to_json_string_ext(result.value,
		    JSON_C_TO_STRING_PLAIN), steps[_i].value);
	if (steps[_i].variant == NULL)
		ck_assert_ptr_null(result.variant);
	else
		ck_assert_str_eq(result.variant, steps[_i].variant);
	ck_assert_msg(result.reason == steps[_i].reason, "reason %s, want %s",
	    eval_reason_name(result.reason), eval_reason_name(steps[_i].reason));
	json_object_put(ctx);
	flag_free(&flag);
}
END_TEST

/* Segments by name for the tests: "beta" holds for {"beta": true}. */
static const struct flag_criteria *
test_segments(void *arg, const char *name)
{
	struct flag_criteria *beta = arg;

	return strcmp(name, "beta") == 0 ? beta : NULL;
}

START_TEST(test_rule_segments)
{
	struct json_object *criteria = test_json_parse("{\"beta\":true}", "criteria");
	struct json_object *yes = test_json_parse("{\"beta\":true,\"plan\":\"pro\"}", "context");
	struct json_object *no = test_json_parse("{\"beta\":false,\"plan\":\"pro\"}", "context");
	struct flag_criteria beta = { 0 };
	struct eval_segments segments = { test_segments, &beta };
	struct flag_errors errors;
	struct eval_result r;
	struct flag flag;
	size_t budget = 100;
	const char *names[FLAG_MAX_SEGMENTS];

	memset(&errors, 0, sizeof(errors));
	ck_assert_int_eq(flag_criteria_parse(criteria, "criteria", &beta, &budget,
	    &errors), 0);
	flag_from("{\"value\":\"all\",\"rules\":["
	    "{\"segments\":[\"beta\",\"beta\"],\"criteria\":{\"plan\":\"pro\"},\"value\":\"beta-pro\"},"
	    "{\"segments\":[\"gone\"],\"value\":\"never\"},"
	    "{\"segments\":[\"beta\"],\"value\":\"beta\"}]}", &flag);
	/* Named twice, kept once; the flag names two segments in all. */
	ck_assert_uint_eq(flag.rules[0].nsegments, 1);
	ck_assert_uint_eq(flag_segments(&flag, names), 2);
	ck_assert_str_eq(names[1], "gone");
	ck_assert(flag_uses_segment(&flag, "gone") && !flag_uses_segment(&flag, "x"));
	eval_flag_in(&flag, yes, &segments, &r);
	ck_assert_str_eq(json_object_get_string(r.value), "beta-pro");
	ck_assert_int_eq(r.reason, EVAL_TARGETING_MATCH);
	/* A segment that does not hold, or does not exist, fails its rule. */
	eval_flag_in(&flag, no, &segments, &r);
	ck_assert_str_eq(json_object_get_string(r.value), "all");
	ck_assert_int_eq(r.reason, EVAL_STATIC);
	/* Without segments to look in, no rule that names one matches. */
	eval_flag(&flag, yes, &r);
	ck_assert_str_eq(json_object_get_string(r.value), "all");
	flag_free(&flag);
	flag_criteria_free(&beta);
	json_object_put(criteria);
	json_object_put(yes);
	json_object_put(no);
}
END_TEST

START_TEST(test_reason_names)
{
	ck_assert_str_eq(eval_reason_name(EVAL_STATIC), "STATIC");
	ck_assert_str_eq(eval_reason_name(EVAL_TARGETING_MATCH), "TARGETING_MATCH");
	ck_assert_str_eq(eval_reason_name(EVAL_SPLIT), "SPLIT");
	ck_assert_str_eq(eval_reason_name(EVAL_DEFAULT), "DEFAULT");
	ck_assert_str_eq(eval_reason_name(EVAL_DISABLED), "DISABLED");
}
END_TEST

/* Splits */

/*
 * Regression pins: these buckets were computed once (SHA-256 of key, NUL,
 * targeting key; first 8 bytes big-endian; top 53 bits / 2^53) and are
 * hard-coded so that a change to the hash, on any node or in any later
 * version, fails here instead of silently moving users between variants.
 * They are exact doubles: compared with ==.
 */
static const struct {
	const char	*flag_key, *targeting_key;
	double		 bucket;
} pinned[] = {
	{ "new-checkout", "user-1", 0.9011605370721293 },
	{ "new-checkout", "user-2", 0.9562656668295779 },
	{ "banner", "42", 0.9900965376266707 },
	{ "k", "user-1", 0.6502767131860526 },
	/* The NUL between the two keeps these apart. */
	{ "ab", "c", 0.42192354125766096 },
	{ "a", "bc", 0.2528584295827575 },
};

START_TEST(test_bucket_pinned)
{
	double b = eval_bucket(pinned[_i].flag_key, pinned[_i].targeting_key);

	ck_assert_msg(b == pinned[_i].bucket, "bucket(%s, %s) = %.17g, pinned %.17g",
	    pinned[_i].flag_key, pinned[_i].targeting_key, b, pinned[_i].bucket);
}
END_TEST

static const struct {
	const char	*flag;
	double		 share[3];	/* expected fraction per variant */
} splits[] = {
	{ split_flag, { 0.2, 0.8, 0 } },
	{ "{\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":10},"
	    "{\"name\":\"b\",\"value\":2,\"weight\":30},"
	    "{\"name\":\"c\",\"value\":3,\"weight\":60}]}", { 0.1, 0.3, 0.6 } },
	{ "{\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":0.5},"
	    "{\"name\":\"b\",\"value\":2,\"weight\":0},"
	    "{\"name\":\"c\",\"value\":3,\"weight\":0.5}]}", { 0.5, 0, 0.5 } },
	{ "{\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":0},"
	    "{\"name\":\"b\",\"value\":2,\"weight\":7},"
	    "{\"name\":\"c\",\"value\":3,\"weight\":0}]}", { 0, 1, 0 } },
};

START_TEST(test_split_distribution)
{
	struct json_object *ctx = json_object_new_object();
	struct eval_result result, again;
	size_t counts[3] = { 0, 0, 0 }, i, v;
	struct flag flag;
	char tk[32];

	flag_from(splits[_i].flag, &flag);
	for (i = 0; i < 10000; i++) {
		snprintf(tk, sizeof(tk), "user-%zu", i);
		json_object_object_add(ctx, "targetingKey", json_object_new_string(tk));
		eval_flag(&flag, ctx, &result);
		ck_assert_int_eq(result.reason, EVAL_SPLIT);
		ck_assert_ptr_nonnull(result.variant);
		for (v = 0; v < flag.nvariants; v++)
			if (strcmp(result.variant, flag.variants[v].name) == 0)
				break;
		ck_assert_uint_lt(v, flag.nvariants);
		ck_assert_ptr_eq(result.value, flag.variants[v].value);
		counts[v]++;
		/* The same key always gets the same variant. */
		eval_flag(&flag, ctx, &again);
		ck_assert_str_eq(again.variant, result.variant);
	}
	for (v = 0; v < flag.nvariants; v++) {
		double share = counts[v] / 10000.0;

		ck_assert_msg(share >= splits[_i].share[v] - 0.02 &&
		    share <= splits[_i].share[v] + 0.02, "variant %zu: %.4f, want %.2f",
		    v, share, splits[_i].share[v]);
		if (splits[_i].share[v] == 0)
			ck_assert_uint_eq(counts[v], 0);
	}
	json_object_put(ctx);
	flag_free(&flag);
}
END_TEST

START_TEST(test_split_numeric_key)
{
	struct json_object *a = test_json_parse("{\"targetingKey\":42}", "ctx");
	struct json_object *b = test_json_parse("{\"targetingKey\":\"42\"}", "ctx");
	struct eval_result ra, rb;
	struct flag flag;
	size_t i;
	char doc[4096];
	int off;

	/* Many variants, so that "42" and 42 agreeing is no accident. */
	off = snprintf(doc, sizeof(doc), "{\"variants\":[");
	for (i = 0; i < 50; i++)
		off += snprintf(doc + off, sizeof(doc) - (size_t)off,
		    "%s{\"name\":\"v%zu\",\"value\":%zu,\"weight\":1}", i ? "," : "",
		    i, i);
	snprintf(doc + off, sizeof(doc) - (size_t)off, "]}");
	flag_from(doc, &flag);
	eval_flag(&flag, a, &ra);
	eval_flag(&flag, b, &rb);
	ck_assert_int_eq(ra.reason, EVAL_SPLIT);
	ck_assert_str_eq(ra.variant, rb.variant);
	/* bucket(k, 42) = 0.1403...: v7 of 50. */
	ck_assert_str_eq(ra.variant, "v7");
	json_object_put(a);
	json_object_put(b);
	flag_free(&flag);
}
END_TEST

Suite *
eval_suite(void)
{
	Suite *s = suite_create("eval");
	TCase *tc;

	tc = tcase_create("conditions");
	tcase_add_loop_test(tc, test_conditions, 0, ARRAY_SIZE(conditions));
	tcase_add_test(tc, test_no_context);
	tcase_add_test(tc, test_regex_long_subject);
	tcase_add_test(tc, test_semver_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("steps");
	tcase_add_loop_test(tc, test_steps, 0, ARRAY_SIZE(steps));
	tcase_add_test(tc, test_reason_names);
	tcase_add_test(tc, test_rule_segments);
	suite_add_tcase(s, tc);

	tc = tcase_create("split");
	tcase_add_loop_test(tc, test_bucket_pinned, 0, ARRAY_SIZE(pinned));
	tcase_add_loop_test(tc, test_split_distribution, 0, ARRAY_SIZE(splits));
	tcase_add_test(tc, test_split_numeric_key);
	suite_add_tcase(s, tc);
	return s;
}
