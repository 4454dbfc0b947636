/*
 * Unit tests of the flag document (flag.c, flag_criteria.c, flag_value.c):
 * what parses, every kind of refusal with the field it names, and the round
 * trip through flag_to_json. Evaluation is in check_eval.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "model/flag.h"
#include "model/flag_cache.h"
#include "model/flag_impl.h"

#include "check_suites.h"

/* Parse text as the flag named key; returns flag_parse's result. */
static int
parse_text(const char *text, const char *key, struct flag *flag,
    struct flag_errors *errors)
{
	struct json_object *doc = test_json_parse(text, "flag document");
	int rc;

	rc = flag_parse(doc, key, flag, errors);
	json_object_put(doc);	/* the flag keeps its own references */
	return rc;
}

static char *
errors_text(const struct flag_errors *errors)
{
	static char text[4096];
	size_t i, off = 0;

	text[0] = '\0';
	for (i = 0; i < errors->count && off < sizeof(text); i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "[%s: %s] ",
		    errors->items[i].field, errors->items[i].message);
	return text;
}

/* Valid documents */

static const char full_example[] =
    "{\"key\":\"new-checkout\",\"description\":\"\",\"enabled\":true,"
    "\"criteria\":{\"region\":\"US\",\"user_tier\":[\"premium\",\"gold\"]},"
    "\"value\":true, \"default\":false,"
    "\"variants\":[{\"name\":\"on\",\"value\":true,\"weight\":20},"
    "{\"name\":\"off\",\"value\":false,\"weight\":80}],"
    "\"rules\":[{\"criteria\":{\"age\":{\"gte\":18}},\"value\":\"adult\"}],"
    "\"revision\":42,\"created_at\":\"…\",\"updated_at\":\"…\"}";

static const char every_operator[] =
    "{\"criteria\":{\"a\":{\"eq\":1,\"ne\":\"x\",\"gt\":1,\"gte\":\"2\","
    "\"lt\":3.5,\"lte\":-4e2,\"in\":[1,\"a\",true,null],\"not_in\":[],"
    "\"contains\":\"c\",\"not_contains\":5,\"starts_with\":\"s\","
    "\"ends_with\":\"\",\"regex\":\"^[a-z]+@example\\\\.com$\","
    "\"exists\":true,\"semver_gt\":\"v1.2.3\",\"semver_lt\":\"2.0.0-rc.1+b5\"},"
    "\"user.address.country\":null,\"n\":1.5},\"value\":{\"deep\":[1,2,{}]}}";

static const char with_timestamps[] =
    "{\"value\":1,\"created_at\":\"2026-11-22T10:00:00Z\","
    "\"updated_at\":\"2026-11-22T10:00:00.123+01:00\",\"revision\":\"x\"}";

static const struct {
	const char	*name;
	const char	*text;
	const char	*key;
} valid_docs[] = {
	{ "seed", "{\"criteria\":null,\"value\":true}", "seed" },
	{ "full example", full_example, "new-checkout" },
	{ "every operator", every_operator, "ops" },
	{ "null value", "{\"value\":null}", "n" },
	{ "variants only", "{\"variants\":[{\"name\":\"a\",\"value\":1,"
	    "\"weight\":0},{\"name\":\"b.c_d-1\",\"value\":[2],\"weight\":0.5}]}",
	    "v" },
	{ "disabled with default", "{\"enabled\":false,\"value\":\"x\","
	    "\"default\":null,\"description\":\"d\"}", "d" },
	{ "rules", "{\"value\":0,\"rules\":[{\"criteria\":{},\"value\":1},"
	    "{\"criteria\":{\"b\":{\"exists\":false}},\"variants\":"
	    "[{\"name\":\"x\",\"value\":2,\"weight\":1}]},"
	    "{\"criteria\":{\"c\":[]},\"value\":null,\"variants\":null}]}", "r" },
	{ "null variants and rules", "{\"value\":1,\"variants\":null,"
	    "\"rules\":null}", "n" },
	{ "empty criteria", "{\"criteria\":{},\"value\":1}", "e" },
	{ "timestamps", with_timestamps, "t" },
	{ "key from the body", "{\"key\":\"body-key\",\"value\":1}", NULL },
};

START_TEST(test_valid_docs)
{
	struct flag_errors errors;
	struct flag flag;

	ck_assert_msg(parse_text(valid_docs[_i].text, valid_docs[_i].key, &flag,
	    &errors) == 0, "%s: refused: %s", valid_docs[_i].name,
	    errors_text(&errors));
	ck_assert_uint_eq(errors.count, 0);
	ck_assert_ptr_nonnull(flag.key);
	flag_free(&flag);
	ck_assert_ptr_null(flag.key);
	flag_free(&flag);	/* twice is harmless */
}
END_TEST

START_TEST(test_seed_body)
{
	struct flag_errors errors;
	struct flag flag;

	ck_assert_int_eq(parse_text("{\"criteria\":null,\"value\":true}", "seed",
	    &flag, &errors), 0);
	ck_assert_str_eq(flag.key, "seed");
	ck_assert_str_eq(flag.description, "");
	ck_assert_int_eq(flag.enabled, 1);
	ck_assert_int_eq(flag.has_criteria, 0);
	ck_assert_int_eq(flag.has_value, 1);
	ck_assert_int_eq(json_object_get_boolean(flag.value), 1);
	ck_assert_int_eq(flag.has_default, 0);
	ck_assert_uint_eq(flag.nvariants, 0);
	ck_assert_uint_eq(flag.nrules, 0);
	ck_assert_str_eq(flag.created_at, "");
	flag_free(&flag);
}
END_TEST

START_TEST(test_full_example)
{
	struct flag_errors errors;
	struct flag flag;
	const struct flag_condition *c;

	ck_assert_int_eq(parse_text(full_example, "new-checkout", &flag, &errors), 0);
	ck_assert_int_eq(flag.has_criteria, 1);
	ck_assert_uint_eq(flag.criteria.count, 2);
	c = flag.criteria.conditions;
	ck_assert_str_eq(c[0].attribute, "region");
	ck_assert_int_eq(c[0].op, FLAG_OP_EQ);
	ck_assert_str_eq(json_object_get_string(c[0].operand), "US");
	ck_assert_str_eq(c[1].attribute, "user_tier");
	ck_assert_int_eq(c[1].op, FLAG_OP_IN);
	ck_assert_uint_eq(json_object_array_length(c[1].operand), 2);
	ck_assert_int_eq(flag.has_default, 1);
	ck_assert_uint_eq(flag.nvariants, 2);
	ck_assert_str_eq(flag.variants[1].name, "off");
	ck_assert_double_eq(flag.variants[0].weight, 20);
	ck_assert_uint_eq(flag.nrules, 1);
	ck_assert_int_eq(flag.rules[0].criteria.conditions[0].op, FLAG_OP_GTE);
	ck_assert_str_eq(json_object_get_string(flag.rules[0].value), "adult");
	/* "…" is no timestamp: ignored. */
	ck_assert_str_eq(flag.created_at, "");
	flag_free(&flag);
}
END_TEST

START_TEST(test_operators_parsed)
{
	static const enum flag_op want[] = {
		FLAG_OP_EQ, FLAG_OP_NE, FLAG_OP_GT, FLAG_OP_GTE, FLAG_OP_LT,
		FLAG_OP_LTE, FLAG_OP_IN, FLAG_OP_NOT_IN, FLAG_OP_CONTAINS,
		FLAG_OP_NOT_CONTAINS, FLAG_OP_STARTS_WITH, FLAG_OP_ENDS_WITH,
		FLAG_OP_REGEX, FLAG_OP_EXISTS, FLAG_OP_SEMVER_GT, FLAG_OP_SEMVER_LT,
	};
	struct flag_errors errors;
	struct flag flag;
	size_t i;

	ck_assert_int_eq(parse_text(every_operator, "ops", &flag, &errors), 0);
	ck_assert_uint_eq(flag.criteria.count, 18);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_str_eq(flag.criteria.conditions[i].attribute, "a");
		ck_assert_int_eq(flag.criteria.conditions[i].op, want[i]);
		ck_assert_int_eq(flag.criteria.conditions[i].regex != NULL,
		    want[i] == FLAG_OP_REGEX);
	}
	ck_assert_str_eq(flag.criteria.conditions[16].attribute,
	    "user.address.country");
	ck_assert_int_eq(flag.criteria.conditions[16].op, FLAG_OP_EQ);
	ck_assert_ptr_null(flag.criteria.conditions[16].operand);
	flag_free(&flag);
}
END_TEST

START_TEST(test_timestamps_kept)
{
	struct flag_errors errors;
	struct flag flag;

	ck_assert_int_eq(parse_text(with_timestamps, "t", &flag, &errors), 0);
	ck_assert_str_eq(flag.created_at, "2026-11-22T10:00:00Z");
	ck_assert_str_eq(flag.updated_at, "2026-11-22T10:00:00.123+01:00");
	flag_free(&flag);
	ck_assert_int_eq(parse_text("{\"value\":1,\"created_at\":5,"
	    "\"updated_at\":\"2026-11-22 10:00:00Z\"}", "t", &flag, &errors), 0);
	ck_assert_str_eq(flag.created_at, "");
	ck_assert_str_eq(flag.updated_at, "");
	flag_free(&flag);
}
END_TEST

/* Refusals */

static const struct {
	const char	*text;
	const char	*field;		/* one of the errors names it */
	int		 unknown;	/* errors->unknown_field */
} invalid_docs[] = {
	{ "[1]", "body", 0 },
	{ "\"x\"", "body", 0 },
	{ "{\"value\":1,\"colour\":\"red\"}", "colour", 1 },
	{ "{\"value\":1,\"Value\":2}", "Value", 1 },
	{ "{\"value\":1,\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":1,"
	    "\"colour\":1}]}", "variants[0].colour", 1 },
	{ "{\"value\":1,\"rules\":[{\"criteria\":{},\"value\":1},"
	    "{\"criteria\":{},\"value\":1,\"when\":2}]}", "rules[1].when", 1 },
	{ "{\"value\":1,\"rules\":[{\"criteria\":{},\"variants\":[{\"name\":\"a\","
	    "\"value\":1,\"weight\":1,\"x\":0}]}]}", "rules[0].variants[0].x", 1 },
	/* segments in rules (segment.h) */
	{ "{\"value\":1,\"rules\":[{\"segments\":[],\"value\":2}]}",
	    "rules[0].segments", 0 },
	{ "{\"value\":1,\"rules\":[{\"segments\":\"beta\",\"value\":2}]}",
	    "rules[0].segments", 0 },
	{ "{\"value\":1,\"rules\":[{\"segments\":[\"a/b\"],\"value\":2}]}",
	    "rules[0].segments[0]", 0 },
	{ "{\"value\":1,\"rules\":[{\"segments\":[1],\"value\":2}]}",
	    "rules[0].segments[0]", 0 },
	{ "{\"value\":1,\"rules\":[{\"value\":2}]}", "rules[0].criteria", 0 },
	{ "{\"value\":1,\"rules\":[{\"segments\":[\"s1\",\"s2\",\"s3\",\"s4\","
	    "\"s5\",\"s6\",\"s7\",\"s8\",\"s9\"],\"value\":2},{\"segments\":[\"t1\","
	    "\"t2\",\"t3\",\"t4\",\"t5\",\"t6\",\"t7\",\"t8\",\"t9\"],\"value\":3}]}",
	    "rules", 0 },
	/* wrong types */
	{ "{\"key\":5,\"value\":1}", "key", 0 },
	{ "{\"key\":\"other\",\"value\":1}", "key", 0 },
	{ "{\"description\":null,\"value\":1}", "description", 0 },
	{ "{\"description\":1,\"value\":1}", "description", 0 },
	{ "{\"enabled\":\"true\",\"value\":1}", "enabled", 0 },
	{ "{\"enabled\":1,\"value\":1}", "enabled", 0 },
	{ "{\"criteria\":\"US\",\"value\":1}", "criteria", 0 },
	{ "{\"criteria\":[],\"value\":1}", "criteria", 0 },
	{ "{\"value\":1,\"variants\":{}}", "variants", 0 },
	{ "{\"value\":1,\"variants\":[1]}", "variants[0]", 0 },
	{ "{\"value\":1,\"rules\":{}}", "rules", 0 },
	{ "{\"value\":1,\"rules\":[[]]}", "rules[0]", 0 },
	{ "{\"value\":1,\"rules\":[{\"value\":1}]}", "rules[0].criteria", 0 },
	{ "{\"value\":1,\"rules\":[{\"criteria\":null,\"value\":1}]}",
	    "rules[0].criteria", 0 },
	{ "{\"value\":1,\"rules\":[{\"criteria\":{}}]}", "rules[0].value", 0 },
	/* value */
	{ "{}", "value", 0 },
	{ "{\"criteria\":null}", "value", 0 },
	{ "{\"variants\":null}", "value", 0 },
	/* variants */
	{ "{\"variants\":[]}", "variants", 0 },
	{ "{\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":-1}]}",
	    "variants[0].weight", 0 },
	{ "{\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":\"1\"}]}",
	    "variants[0].weight", 0 },
	{ "{\"variants\":[{\"name\":\"a\",\"value\":1}]}", "variants[0].weight", 0 },
	{ "{\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":0},"
	    "{\"name\":\"b\",\"value\":1,\"weight\":0}]}", "variants", 0 },
	{ "{\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":1e308},"
	    "{\"name\":\"b\",\"value\":1,\"weight\":1e308}]}", "variants", 0 },
	{ "{\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":1},"
	    "{\"name\":\"a\",\"value\":2,\"weight\":1}]}", "variants[1].name", 0 },
	{ "{\"variants\":[{\"name\":\"-a\",\"value\":1,\"weight\":1}]}",
	    "variants[0].name", 0 },
	{ "{\"variants\":[{\"name\":\"\",\"value\":1,\"weight\":1}]}",
	    "variants[0].name", 0 },
	{ "{\"variants\":[{\"name\":\"a b\",\"value\":1,\"weight\":1}]}",
	    "variants[0].name", 0 },
	{ "{\"variants\":[{\"value\":1,\"weight\":1}]}", "variants[0].name", 0 },
	{ "{\"variants\":[{\"name\":\"a\",\"weight\":1}]}", "variants[0].value", 0 },
	/* criteria */
	{ "{\"criteria\":{\"a\":{\"like\":\"x\"}},\"value\":1}", "criteria.a.like", 0 },
	{ "{\"criteria\":{\"a\":{}},\"value\":1}", "criteria.a", 0 },
	{ "{\"criteria\":{\"\":1},\"value\":1}", "criteria.", 0 },
	{ "{\"criteria\":{\"a..b\":1},\"value\":1}", "criteria.a..b", 0 },
	{ "{\"criteria\":{\".a\":1},\"value\":1}", "criteria..a", 0 },
	{ "{\"criteria\":{\"a.\":1},\"value\":1}", "criteria.a.", 0 },
	{ "{\"criteria\":{\"a\":[[1]]},\"value\":1}", "criteria.a", 0 },
	{ "{\"criteria\":{\"a\":[{}]},\"value\":1}", "criteria.a", 0 },
	{ "{\"criteria\":{\"a\":{\"eq\":[1]}},\"value\":1}", "criteria.a.eq", 0 },
	{ "{\"criteria\":{\"a\":{\"ne\":{}}},\"value\":1}", "criteria.a.ne", 0 },
	{ "{\"criteria\":{\"a\":{\"in\":\"x\"}},\"value\":1}", "criteria.a.in", 0 },
	{ "{\"criteria\":{\"a\":{\"in\":[[\"x\"]]}},\"value\":1}", "criteria.a.in", 0 },
	{ "{\"criteria\":{\"a\":{\"not_in\":1}},\"value\":1}", "criteria.a.not_in", 0 },
	{ "{\"criteria\":{\"a\":{\"gt\":\"abc\"}},\"value\":1}", "criteria.a.gt", 0 },
	{ "{\"criteria\":{\"a\":{\"gte\":true}},\"value\":1}", "criteria.a.gte", 0 },
	{ "{\"criteria\":{\"a\":{\"lt\":null}},\"value\":1}", "criteria.a.lt", 0 },
	{ "{\"criteria\":{\"a\":{\"lte\":\" 1\"}},\"value\":1}", "criteria.a.lte", 0 },
	{ "{\"criteria\":{\"a\":{\"contains\":[1]}},\"value\":1}",
	    "criteria.a.contains", 0 },
	{ "{\"criteria\":{\"a\":{\"not_contains\":{}}},\"value\":1}",
	    "criteria.a.not_contains", 0 },
	{ "{\"criteria\":{\"a\":{\"starts_with\":1}},\"value\":1}",
	    "criteria.a.starts_with", 0 },
	{ "{\"criteria\":{\"a\":{\"ends_with\":null}},\"value\":1}",
	    "criteria.a.ends_with", 0 },
	{ "{\"criteria\":{\"email\":{\"regex\":\"([a-z\"}},\"value\":1}",
	    "criteria.email.regex", 0 },
	{ "{\"criteria\":{\"email\":{\"regex\":\"a{2,1}\"}},\"value\":1}",
	    "criteria.email.regex", 0 },
	{ "{\"criteria\":{\"a\":{\"regex\":5}},\"value\":1}", "criteria.a.regex", 0 },
	{ "{\"criteria\":{\"a\":{\"regex\":\"(a)\\\\1\"}},\"value\":1}",
	    "criteria.a.regex", 0 },
	{ "{\"criteria\":{\"a\":{\"regex\":\"((.{1,100}){1,100}){1,100}\"}},"
	    "\"value\":1}", "criteria.a.regex", 0 },
	{ "{\"criteria\":{\"a\":{\"regex\":\"(.?){600}\"}},\"value\":1}",
	    "criteria.a.regex", 0 },
	/* Stacked repetitions: regcomp's closure blows up (found by the fuzzer). */
	{ "{\"criteria\":{\"a\":{\"regex\":\"x\\\\*****************\"}},\"value\":1}",
	    "criteria.a.regex", 0 },
	{ "{\"criteria\":{\"a\":{\"regex\":\"a+{2}\"}},\"value\":1}",
	    "criteria.a.regex", 0 },
	{ "{\"criteria\":{\"a\":{\"regex\":\"a?*\"}},\"value\":1}",
	    "criteria.a.regex", 0 },
	{ "{\"criteria\":{\"a\":{\"regex\":\"a++++++++++++++++++++++++++++++"
	    "++++++++++++{1}\"}},\"value\":1}", "criteria.a.regex", 0 },
	{ "{\"criteria\":{\"a\":{\"regex\":\"((((((((((a+)+)+)+)+)+)+)+)+)+)+\"}},"
	    "\"value\":1}", "criteria.a.regex", 0 },
	{ "{\"criteria\":{\"a\":{\"exists\":\"yes\"}},\"value\":1}",
	    "criteria.a.exists", 0 },
	{ "{\"criteria\":{\"a\":{\"semver_gt\":\"1.2\"}},\"value\":1}",
	    "criteria.a.semver_gt", 0 },
	{ "{\"criteria\":{\"a\":{\"semver_lt\":\"01.2.3\"}},\"value\":1}",
	    "criteria.a.semver_lt", 0 },
	{ "{\"criteria\":{\"a\":{\"semver_lt\":123}},\"value\":1}",
	    "criteria.a.semver_lt", 0 },
	{ "{\"criteria\":{\"a\":{\"eq\":1,\"bogus\":2}},\"value\":1}",
	    "criteria.a.bogus", 0 },
	{ "{\"value\":1,\"rules\":[{\"criteria\":{\"age\":{\"gte\":\"x\"}},"
	    "\"value\":1}]}", "rules[0].criteria.age.gte", 0 },
	{ "{\"value\":1,\"rules\":[{\"criteria\":5,\"value\":1}]}",
	    "rules[0].criteria", 0 },
};

static int
has_error(const struct flag_errors *errors, const char *field)
{
	size_t i;

	for (i = 0; i < errors->count; i++)
		if (strcmp(errors->items[i].field, field) == 0)
			return 1;
	return 0;
}

START_TEST(test_invalid_docs)
{
	struct flag_errors errors;
	struct flag flag;

	ck_assert_msg(parse_text(invalid_docs[_i].text, "k", &flag, &errors) == -1,
	    "accepted: %s", invalid_docs[_i].text);
	ck_assert_msg(has_error(&errors, invalid_docs[_i].field),
	    "%s: no error for %s, got %s", invalid_docs[_i].text,
	    invalid_docs[_i].field, errors_text(&errors));
	ck_assert_int_eq(errors.unknown_field, invalid_docs[_i].unknown);
	ck_assert_str_ne(errors.items[0].message, "");
	flag_free(&flag);
}
END_TEST

START_TEST(test_key_required_without_path)
{
	struct flag_errors errors;
	struct flag flag;

	ck_assert_int_eq(parse_text("{\"value\":1}", NULL, &flag, &errors), -1);
	ck_assert(has_error(&errors, "key"));
	flag_free(&flag);
	ck_assert_int_eq(parse_text("{\"key\":\"a/b\",\"value\":1}", NULL, &flag,
	    &errors), -1);
	ck_assert(has_error(&errors, "key"));
	flag_free(&flag);
}
END_TEST

START_TEST(test_many_errors)
{
	struct flag_errors errors;
	struct flag flag;
	char text[2048];
	size_t off, i;

	ck_assert_int_eq(parse_text("{\"enabled\":0,\"description\":[],"
	    "\"criteria\":{\"a\":{\"gt\":\"z\"}},\"x\":1}", "k", &flag, &errors), -1);
	ck_assert_msg(errors.count == 5, "%s", errors_text(&errors));
	ck_assert(has_error(&errors, "enabled"));
	ck_assert(has_error(&errors, "description"));
	ck_assert(has_error(&errors, "criteria.a.gt"));
	ck_assert(has_error(&errors, "x"));
	ck_assert(has_error(&errors, "value"));
	ck_assert_int_eq(errors.unknown_field, 1);
	flag_free(&flag);

	/* More than fit: the count stops at FLAG_MAX_ERRORS. */
	off = (size_t)snprintf(text, sizeof(text), "{\"value\":1");
	for (i = 0; i < 40; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    ",\"x%zu\":1", i);
	snprintf(text + off, sizeof(text) - off, "}");
	ck_assert_int_eq(parse_text(text, "k", &flag, &errors), -1);
	ck_assert_uint_eq(errors.count, FLAG_MAX_ERRORS);
	ck_assert_int_eq(errors.unknown_field, 1);
	flag_free(&flag);
}
END_TEST

/* head, then n copies of fmt (with the index), comma-separated, then tail. */
static char *
list_doc(const char *head, const char *fmt, size_t n, const char *tail)
{
	size_t cap = strlen(head) + n * (strlen(fmt) + 24) + strlen(tail) + 1;
	char *text = malloc(cap);
	size_t off, i;

	ck_assert_ptr_nonnull(text);
	off = (size_t)snprintf(text, cap, "%s", head);
	for (i = 0; i < n; i++) {
		if (i > 0)
			text[off++] = ',';
		off += (size_t)snprintf(text + off, cap - off, fmt, i);
	}
	snprintf(text + off, cap - off, "%s", tail);
	return text;
}

static const struct {
	const char	*head, *fmt, *tail, *field;
	size_t		 ok, too_many;
} limits[] = {
	{ "{\"variants\":[", "{\"name\":\"v%zu\",\"value\":1,\"weight\":1}", "]}",
	    "variants", 100, 101 },
	{ "{\"value\":1,\"rules\":[", "{\"criteria\":{\"a\":%zu},\"value\":1}",
	    "]}", "rules", 100, 101 },
	{ "{\"value\":1,\"criteria\":{", "\"a%zu\":1", "}}", "criteria.a1000",
	    1000, 1001 },
	{ "{\"value\":1,\"rules\":[{\"value\":1,\"criteria\":{",
	    "\"a%zu\":{\"gt\":1,\"lt\":2}", "}}]}", "rules[0].criteria.a500",
	    500, 501 },
	{ "{\"value\":1,\"criteria\":{", "\"a%zu\":{\"regex\":\"^x\"}", "}}",
	    "criteria.a20", 20, 21 },
};

START_TEST(test_limits)
{
	struct flag_errors errors;
	struct flag flag;
	char *text;

	text = list_doc(limits[_i].head, limits[_i].fmt, limits[_i].ok,
	    limits[_i].tail);
	ck_assert_msg(parse_text(text, "k", &flag, &errors) == 0, "%s",
	    errors_text(&errors));
	flag_free(&flag);
	free(text);
	text = list_doc(limits[_i].head, limits[_i].fmt, limits[_i].too_many,
	    limits[_i].tail);
	ck_assert_int_eq(parse_text(text, "k", &flag, &errors), -1);
	ck_assert_msg(has_error(&errors, limits[_i].field), "%s",
	    errors_text(&errors));
	flag_free(&flag);
	free(text);
}
END_TEST

START_TEST(test_attribute_length)
{
	struct flag_errors errors;
	struct flag flag;
	char text[600], name[300];

	memset(name, 'a', 256);
	name[256] = '\0';
	snprintf(text, sizeof(text), "{\"value\":1,\"criteria\":{\"%s\":1}}", name);
	ck_assert_int_eq(parse_text(text, "k", &flag, &errors), 0);
	flag_free(&flag);
	memset(name, 'a', 257);
	name[257] = '\0';
	snprintf(text, sizeof(text), "{\"value\":1,\"criteria\":{\"%s\":1}}", name);
	ck_assert_int_eq(parse_text(text, "k", &flag, &errors), -1);
	ck_assert_uint_eq(errors.count, 1);
	/* The field is truncated to fit, never overflows. */
	ck_assert_uint_eq(strlen(errors.items[0].field),
	    sizeof(errors.items[0].field) - 1);
	flag_free(&flag);
}
END_TEST

/* Semantic versions and numeric strings (flag_value.c) */

static const struct {
	const char	*text;
	int		 valid;
} semvers[] = {
	{ "1.2.3", 1 }, { "v1.2.3", 1 }, { "0.0.0", 1 }, { "10.20.30", 1 },
	{ "1.0.0-alpha", 1 }, { "1.0.0-alpha.1", 1 }, { "1.0.0-0.3.7", 1 },
	{ "1.0.0-x.7.z.92", 1 }, { "1.0.0-alpha+001", 1 },
	{ "1.0.0+20130313144700", 1 }, { "1.0.0-beta+exp.sha.5114f85", 1 },
	{ "1.0.0-x-y-z.--", 1 }, { "99999999999999999999999.1.1", 1 },
	{ "1.2", 0 }, { "1", 0 }, { "", 0 }, { "v", 0 }, { "V1.2.3", 0 },
	{ "01.2.3", 0 }, { "1.02.3", 0 }, { "1.2.03", 0 }, { "1.2.3-", 0 },
	{ "1.2.3+", 0 }, { "1.2.3-01", 0 }, { "1.2.3-a..b", 0 },
	{ "1.2.3-a_b", 0 }, { "1.2.3+a+b", 0 }, { "1.2.3x", 0 },
	{ " 1.2.3", 0 }, { "1.2.3 ", 0 }, { "1.2.-3", 0 }, { "a.b.c", 0 },
	{ "1.2.3.4", 0 },
};

START_TEST(test_semver_parse)
{
	struct flag_semver v;

	ck_assert_msg(flag_semver_parse(semvers[_i].text, strlen(semvers[_i].text),
	    &v) == semvers[_i].valid, "%s", semvers[_i].text);
}
END_TEST

static const struct {
	const char	*text;
	int		 number;
	int		 is_int;
} numbers[] = {
	{ "\"42\"", 1, 1 }, { "\"-0\"", 1, 1 }, { "\"1.5\"", 1, 0 },
	{ "\"-1.5e3\"", 1, 0 }, { "\"1E+2\"", 1, 0 },
	{ "\"9223372036854775807\"", 1, 1 }, { "\"9223372036854775808\"", 1, 0 },
	{ "\"1e999\"", 0, 0 }, { "\"042\"", 0, 0 }, { "\" 42\"", 0, 0 },
	{ "\"42 \"", 0, 0 }, { "\"+1\"", 0, 0 }, { "\"0x2a\"", 0, 0 },
	{ "\"1.\"", 0, 0 }, { "\".5\"", 0, 0 }, { "\"NaN\"", 0, 0 },
	{ "\"\"", 0, 0 }, { "\"abc\"", 0, 0 }, { "\"4\\u00002\"", 0, 0 },
	{ "7", 1, 1 }, { "7.25", 1, 0 }, { "18446744073709551615", 1, 0 },
	{ "true", 0, 0 }, { "null", 0, 0 }, { "[1]", 0, 0 },
};

START_TEST(test_numbers)
{
	struct json_object *v = test_json_parse(numbers[_i].text, "number");
	struct flag_number n;

	ck_assert_msg(flag_number_get(v, &n) == numbers[_i].number, "%s",
	    numbers[_i].text);
	if (numbers[_i].number)
		ck_assert_int_eq(n.is_int, numbers[_i].is_int);
	json_object_put(v);
}
END_TEST

START_TEST(test_number_cmp)
{
	struct flag_number a = { 1, 0, 0 }, b = { 0, 0, 0 };

	/* Integers against doubles are compared exactly. */
	a.i = INT64_MAX;
	b.d = 9223372036854775808.0;
	ck_assert_int_eq(flag_number_cmp(&a, &b), -1);
	ck_assert_int_eq(flag_number_cmp(&b, &a), 1);
	a.i = 9007199254740993LL;	/* 2^53 + 1: no double */
	b.d = 9007199254740992.0;
	ck_assert_int_eq(flag_number_cmp(&a, &b), 1);
	a.i = -3;
	b.d = -2.5;
	ck_assert_int_eq(flag_number_cmp(&a, &b), -1);
	a.i = -2;
	ck_assert_int_eq(flag_number_cmp(&a, &b), 1);
	a.i = 2;
	b.d = 2.0;
	ck_assert_int_eq(flag_number_cmp(&a, &b), 0);
	b.d = -1e300;
	ck_assert_int_eq(flag_number_cmp(&a, &b), 1);
}
END_TEST

/* Round trip */

static int
json_same(struct json_object *a, struct json_object *b)
{
	return json_object_equal(a, b);
}

static void
criteria_same(const struct flag_criteria *a, const struct flag_criteria *b)
{
	size_t i;

	ck_assert_uint_eq(a->count, b->count);
	for (i = 0; i < a->count; i++) {
		ck_assert_str_eq(a->conditions[i].attribute, b->conditions[i].attribute);
		ck_assert_int_eq(a->conditions[i].op, b->conditions[i].op);
		ck_assert(json_same(a->conditions[i].operand, b->conditions[i].operand));
		ck_assert_int_eq(a->conditions[i].regex != NULL,
		    b->conditions[i].regex != NULL);
	}
}

static void
variants_same(const struct flag_variant *a, const struct flag_variant *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_str_eq(a[i].name, b[i].name);
		ck_assert(json_same(a[i].value, b[i].value));
		ck_assert_double_eq(a[i].weight, b[i].weight);
	}
}

static void
flags_same(const struct flag *a, const struct flag *b)
{
	size_t i;

	ck_assert_str_eq(a->key, b->key);
	ck_assert_str_eq(a->description, b->description);
	ck_assert_int_eq(a->enabled, b->enabled);
	ck_assert_int_eq(a->has_criteria, b->has_criteria);
	criteria_same(&a->criteria, &b->criteria);
	ck_assert_int_eq(a->has_value, b->has_value);
	ck_assert(json_same(a->value, b->value));
	ck_assert_int_eq(a->has_default, b->has_default);
	ck_assert(json_same(a->default_value, b->default_value));
	ck_assert_uint_eq(a->nvariants, b->nvariants);
	variants_same(a->variants, b->variants, a->nvariants);
	ck_assert_uint_eq(a->nrules, b->nrules);
	for (i = 0; i < a->nrules; i++) {
		criteria_same(&a->rules[i].criteria, &b->rules[i].criteria);
		ck_assert_int_eq(a->rules[i].has_value, b->rules[i].has_value);
		ck_assert(json_same(a->rules[i].value, b->rules[i].value));
		ck_assert_uint_eq(a->rules[i].nvariants, b->rules[i].nvariants);
		variants_same(a->rules[i].variants, b->rules[i].variants,
		    a->rules[i].nvariants);
	}
	ck_assert_str_eq(a->created_at, b->created_at);
	ck_assert_str_eq(a->updated_at, b->updated_at);
}

START_TEST(test_round_trip)
{
	struct flag_errors errors;
	struct flag first, second;
	struct json_object *out, *again;
	char *text;

	ck_assert_int_eq(parse_text(valid_docs[_i].text, valid_docs[_i].key,
	    &first, &errors), 0);
	out = flag_to_json(&first, 0);
	text = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	ck_assert_msg(parse_text(text, valid_docs[_i].key, &second, &errors) == 0,
	    "%s: printed form refused: %s: %s", valid_docs[_i].name, text,
	    errors_text(&errors));
	flags_same(&first, &second);
	/* Printing is canonical: the second print is the first. */
	again = flag_to_json(&second, 0);
	ck_assert_str_eq(json_object_to_json_string_ext(again,
	    JSON_C_TO_STRING_PLAIN), text);
	json_object_put(again);
	json_object_put(out);
	free(text);
	flag_free(&first);
	flag_free(&second);
}
END_TEST

static const struct {
	const char	*in;
	int64_t		 revision;
	const char	*out;
} printed[] = {
	{ "{\"criteria\":null,\"value\":true}", 0,
	  "{\"key\":\"k\",\"description\":\"\",\"enabled\":true,\"criteria\":null,"
	  "\"value\":true}" },
	{ "{\"value\":true,\"key\":\"k\",\"revision\":3}", 7,
	  "{\"key\":\"k\",\"description\":\"\",\"enabled\":true,\"criteria\":null,"
	  "\"value\":true,\"revision\":7}" },
	{ "{\"criteria\":{},\"value\":null,\"default\":null}", 0,
	  "{\"key\":\"k\",\"description\":\"\",\"enabled\":true,\"criteria\":null,"
	  "\"value\":null,\"default\":null}" },
	{ "{\"criteria\":{\"region\":{\"eq\":\"US\"},\"tier\":{\"in\":[1]},"
	  "\"age\":{\"gte\":18,\"lt\":65},\"b\":null},\"value\":1}", 0,
	  "{\"key\":\"k\",\"description\":\"\",\"enabled\":true,\"criteria\":"
	  "{\"region\":\"US\",\"tier\":[1],\"age\":{\"gte\":18,\"lt\":65},"
	  "\"b\":null},\"value\":1}" },
	{ "{\"updated_at\":\"2026-11-22T10:00:00Z\",\"variants\":[{\"name\":\"a\","
	  "\"value\":1,\"weight\":20.0},{\"name\":\"b\",\"value\":2,\"weight\":0.1}],"
	  "\"enabled\":false,\"description\":\"d\",\"rules\":[{\"value\":3,"
	  "\"criteria\":{\"x\":{\"exists\":true}}}]}", 0,
	  "{\"key\":\"k\",\"description\":\"d\",\"enabled\":false,\"criteria\":null,"
	  "\"variants\":[{\"name\":\"a\",\"value\":1,\"weight\":20},{\"name\":\"b\","
	  "\"value\":2,\"weight\":0.1}],\"rules\":[{\"criteria\":{\"x\":{\"exists\":"
	  "true}},\"value\":3}],\"updated_at\":\"2026-11-22T10:00:00Z\"}" },
};

START_TEST(test_printed_form)
{
	struct flag_errors errors;
	struct json_object *out;
	struct flag flag;

	ck_assert_int_eq(parse_text(printed[_i].in, "k", &flag, &errors), 0);
	out = flag_to_json(&flag, printed[_i].revision);
	ck_assert_str_eq(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
	    printed[_i].out);
	json_object_put(out);
	flag_free(&flag);
}
END_TEST

/* A cached flag's text is its printed form; a flag not in the cache has none. */
START_TEST(test_cache_text)
{
	struct store_item item;
	struct flag_errors errors;
	struct json_object *out;
	const struct flag *cached;
	struct flag other;
	const char *text;

	memset(&item, 0, sizeof(item));
	item.key = "flags/default/k";
	item.value = printed[_i].in;
	item.value_len = strlen(printed[_i].in);
	item.mod_revision = printed[_i].revision;
	cached = flag_cache_get(&item);
	ck_assert_ptr_nonnull(cached);
	text = flag_cache_text(cached);
	ck_assert_ptr_nonnull(text);
	out = flag_to_json(cached, printed[_i].revision);
	ck_assert_str_eq(text, json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	ck_assert_ptr_eq(flag_cache_text(cached), text);	/* made once */
	ck_assert_int_eq(parse_text(printed[_i].in, "k", &other, &errors), 0);
	ck_assert_ptr_null(flag_cache_text(&other));
	ck_assert_ptr_null(flag_cache_text(cached + 1));	/* inside a slot */
	flag_free(&other);
	flag_cache_clear();
	ck_assert_ptr_null(flag_cache_text(cached));	/* an empty slot */
}
END_TEST

Suite *
flag_suite(void)
{
	Suite *s = suite_create("flag");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_valid_docs, 0, ARRAY_SIZE(valid_docs));
	tcase_add_test(tc, test_seed_body);
	tcase_add_test(tc, test_full_example);
	tcase_add_test(tc, test_operators_parsed);
	tcase_add_test(tc, test_timestamps_kept);
	suite_add_tcase(s, tc);

	tc = tcase_create("refuse");
	tcase_add_loop_test(tc, test_invalid_docs, 0, ARRAY_SIZE(invalid_docs));
	tcase_add_test(tc, test_key_required_without_path);
	tcase_add_test(tc, test_many_errors);
	tcase_add_loop_test(tc, test_limits, 0, ARRAY_SIZE(limits));
	tcase_add_test(tc, test_attribute_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_semver_parse, 0, ARRAY_SIZE(semvers));
	tcase_add_loop_test(tc, test_numbers, 0, ARRAY_SIZE(numbers));
	tcase_add_test(tc, test_number_cmp);
	suite_add_tcase(s, tc);

	tc = tcase_create("print");
	tcase_add_loop_test(tc, test_round_trip, 0, ARRAY_SIZE(valid_docs));
	tcase_add_loop_test(tc, test_printed_form, 0, ARRAY_SIZE(printed));
	tcase_add_loop_test(tc, test_cache_text, 0, ARRAY_SIZE(printed));
	suite_add_tcase(s, tc);
	return s;
}
