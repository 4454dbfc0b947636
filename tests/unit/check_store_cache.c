/*
 * Unit tests of the store's point-read cache (store_cache.c), of how a
 * stored value is shown (resource.c): written straight out or through
 * json-c, a value must read exactly alike; and of how a stored document is
 * read back (stored_doc.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/buf.h"
#include "http/resource.h"
#include "store/store_cache.h"
#include "store/stored_doc.h"

#include "check_suites.h"

static struct store_item
item_of(const char *key, const char *value, size_t value_len, int64_t revision)
{
	struct store_item item;

	memset(&item, 0, sizeof(item));
	item.key = key;
	item.value = value;
	item.value_len = value_len;
	item.mod_revision = item.create_revision = revision;
	item.version = 1;
	return item;
}

static void
teardown(void)
{
	store_cache_clear();
}

START_TEST(test_miss_then_hit_at_the_same_generation)
{
	struct store_generation g = { 7, 3 };
	struct store_item kept = item_of("config/a", "42", 2, 7), got;
	struct arena arena;
	int found = -1;

	arena_init(&arena);
	ck_assert_int_eq(store_cache_lookup("config/a", &g, &arena, &got, &found), 0);
	store_cache_keep("config/a", &kept, &g);
	ck_assert_int_eq(store_cache_lookup("config/a", &g, &arena, &got, &found), 1);
	ck_assert_int_eq(found, 1);
	ck_assert_str_eq(got.key, "config/a");
	ck_assert_str_eq(got.value, "42");
	ck_assert_int_eq(got.mod_revision, 7);
	/* The answer is a copy: the caller's item may go, the entry stays. */
	ck_assert_ptr_ne(got.value, kept.value);
	ck_assert_int_eq(store_cache_lookup("config/b", &g, &arena, &got, &found), 0);
	arena_free(&arena);
}
END_TEST

START_TEST(test_any_generation_move_retires_the_entry)
{
	struct store_generation g = { 7, 3 }, applied = { 8, 3 }, written = { 7, 4 };
	struct store_item kept = item_of("config/a", "1", 1, 7), got;
	struct arena arena;
	int found;

	arena_init(&arena);
	store_cache_keep("config/a", &kept, &g);
	ck_assert_int_eq(store_cache_lookup("config/a", &applied, &arena, &got, &found), 0);
	ck_assert_int_eq(store_cache_lookup("config/a", &written, &arena, &got, &found), 0);
	ck_assert_int_eq(store_cache_lookup("config/a", &g, &arena, &got, &found), 1);
	arena_free(&arena);
}
END_TEST

START_TEST(test_absence_is_cached_too)
{
	struct store_generation g = { 5, 0 };
	struct store_item got;
	struct arena arena;
	int found = -1;

	arena_init(&arena);
	store_cache_keep("config/none", NULL, &g);
	ck_assert_int_eq(store_cache_lookup("config/none", &g, &arena, &got, &found), 1);
	ck_assert_int_eq(found, 0);
	arena_free(&arena);
}
END_TEST

START_TEST(test_values_with_nul_bytes_keep_their_length)
{
	static const char value[] = { 'a', '\0', 'b' };
	struct store_generation g = { 1, 1 };
	struct store_item kept = item_of("k", value, sizeof(value), 1), got;
	struct arena arena;
	int found;

	arena_init(&arena);
	store_cache_keep("k", &kept, &g);
	ck_assert_int_eq(store_cache_lookup("k", &g, &arena, &got, &found), 1);
	ck_assert_uint_eq(got.value_len, 3);
	ck_assert_mem_eq(got.value, value, 3);
	ck_assert_int_eq(got.value[3], '\0');
	arena_free(&arena);
}
END_TEST

START_TEST(test_big_values_are_not_kept)
{
	static char big[64 * 1024];
	struct store_generation g = { 1, 1 };
	struct store_item kept, got;
	struct arena arena;
	int found;

	memset(big, 'x', sizeof(big) - 1);
	kept = item_of("big", big, sizeof(big) - 1, 1);
	arena_init(&arena);
	store_cache_keep("big", &kept, &g);
	ck_assert_int_eq(store_cache_lookup("big", &g, &arena, &got, &found), 0);
	arena_free(&arena);
}
END_TEST

START_TEST(test_clear_empties_the_cache)
{
	struct store_generation g = { 1, 1 };
	struct store_item kept = item_of("k", "1", 1, 1), got;
	struct arena arena;
	int found;

	arena_init(&arena);
	store_cache_keep("k", &kept, &g);
	store_cache_clear();
	ck_assert_int_eq(store_cache_lookup("k", &g, &arena, &got, &found), 0);
	arena_free(&arena);
}
END_TEST

/* Stored text and how the API shows it; both ways must give the same. */
static const struct {
	const char	*stored;
	size_t		 len;	/* 0: strlen */
	const char	*shown;
} value_cases[] = {
	{ "100", 0, "100" },
	{ "{\"a\":[1,2,{\"b\":null}]}", 0, "{\"a\":[1,2,{\"b\":null}]}" },
	{ "\"text\"", 0, "\"text\"" },
	{ "null", 0, "null" },
	{ "true", 0, "true" },
	{ "-1.5e3", 0, "-1.5e3" },
	{ "hello", 0, "\"hello\"" },
	{ "NaN", 0, "\"NaN\"" },
	{ "1.", 0, "\"1.\"" },
	{ "{\"a\":1} x", 0, "\"{\\\"a\\\":1} x\"" },
	{ "", 0, "\"\"" },
	{ "a\0b", 3, "\"a\\u0000b\"" },
	{ "line\nbreak", 0, "\"line\\nbreak\"" },
	/* Not UTF-8: a string, with U+FFFD for each bad byte (API.md §6). */
	{ "\xc0\xaf", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },	/* overlong '/' */
	{ "\"caf\xe9\"", 0, "\"\\\"caf\xef\xbf\xbd\\\"\"" },	/* Latin-1 */
	{ "ok \xe2\x82\xac \xed\xa0\x80", 0,
	    "\"ok \xe2\x82\xac \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },	/* surrogate */
	{ "\xe2\x82", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },	/* cut short */
	/* A lone surrogate escape is not Unicode text: a string too. */
	{ "\"\\ud800\"", 0, "\"\\\"\\\\ud800\\\"\"" },
	{ "[\"\\udc00\"]", 0, "\"[\\\"\\\\udc00\\\"]\"" },
	{ "\"\\ud83d\\ude00\"", 0, "\"\\ud83d\\ude00\"" },	/* a pair is fine */
	/* JSON as stored, even what a request body may not hold (API.md §1). */
	{ "\"a\\u0000b\"", 0, "\"a\\u0000b\"" },
	{ "123456789012345678901234567890", 0, "123456789012345678901234567890" },
	{ "-0", 0, "-0" },
};

START_TEST(test_value_written_straight_out)
{
	const char *stored = value_cases[_i].stored;
	size_t len = value_cases[_i].len ? value_cases[_i].len : strlen(stored);
	struct buf b;

	buf_init(&b);
	resource_put_value(&b, "config/t", stored, len);
	buf_putc(&b, '\0');
	ck_assert_msg(strcmp(b.data, value_cases[_i].shown) == 0,
	    "stored %s: shown %s, want %s", stored, b.data, value_cases[_i].shown);
	buf_free(&b);
}
END_TEST

START_TEST(test_value_through_json_c_agrees)
{
	const char *stored = value_cases[_i].stored;
	size_t len = value_cases[_i].len ? value_cases[_i].len : strlen(stored);
	struct json_object *obj = json_object_new_object();
	char want[256];

	/* Inside an object, as a list or a watch event carries it. */
	json_object_object_add(obj, "value", resource_value_json("config/t", stored, len));
	snprintf(want, sizeof(want), "{\"value\":%s}", value_cases[_i].shown);
	ck_assert_str_eq(json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), want);
	json_object_put(obj);
}
END_TEST

START_TEST(test_too_deep_value_is_a_string_both_ways)
{
	char deep[300];
	struct json_object *value;
	struct buf b;
	int i, n = 70;

	for (i = 0; i < n; i++)
		deep[i] = '[';
	for (i = 0; i < n; i++)
		deep[n + i] = ']';
	deep[2 * n] = '\0';
	buf_init(&b);
	resource_put_value(&b, "config/t", deep, strlen(deep));
	ck_assert_int_eq(b.data[0], '"');
	buf_free(&b);
	value = json_object_new_array();
	json_object_array_add(value, resource_value_json("config/t", deep, strlen(deep)));
	ck_assert_int_eq(json_object_to_json_string_ext(value,
	    JSON_C_TO_STRING_PLAIN)[1], '"');
	json_object_put(value);
}
END_TEST

/* A document read back from etcd: what stored_doc_parse accepts, mends or refuses. */
static const struct {
	const char	*stored;
	const char	*read;		/* as json-c prints it; NULL: corrupt */
} docs[] = {
	{ "{\"a\":[1,2.50,\"x\"]}", "{\"a\":[1,2.50,\"x\"]}" },
	{ "{\"n\":18446744073709551615,\"m\":-9223372036854775808}",
	  "{\"n\":18446744073709551615,\"m\":-9223372036854775808}" },
	{ "{\"d\":1e400}", "{\"d\":1e400}" },	/* json-c keeps a double's text */
	{ "{\"s\":\"caf\xe9\"}", "{\"s\":\"caf\xef\xbf\xbd\"}" },
	{ "{\"s\":\"\\ud800!\"}", "{\"s\":\"\xef\xbf\xbd!\"}" },
	{ "not json", NULL },
	{ "{\"a\":1} x", NULL },
	{ "{\"description\":\"a\\u0000b\"}", NULL },
	{ "{\"k\\u0000\":1}", NULL },
	{ "{\"n\":123456789012345678901234567890}", NULL },
	{ "{\"n\":-0}", NULL },
	{ "{\"s\":\"\xff\\u0000\"}", NULL },		/* mended, still a NUL */
	{ "", NULL },
};

START_TEST(test_stored_doc)
{
	struct json_object *doc = stored_doc_parse("flags/default/t", docs[_i].stored,
	    strlen(docs[_i].stored));

	if (docs[_i].read == NULL) {
		ck_assert_msg(doc == NULL, "%s was read as %s", docs[_i].stored,
		    json_object_to_json_string(doc));
		return;
	}
	ck_assert_msg(doc != NULL, "%s was refused", docs[_i].stored);
	ck_assert_str_eq(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), docs[_i].read);
	json_object_put(doc);
}
END_TEST

Suite *
store_cache_suite(void)
{
	Suite *s = suite_create("store_cache");
	TCase *tc = tcase_create("cache");
	TCase *values = tcase_create("values");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_miss_then_hit_at_the_same_generation);
	tcase_add_test(tc, test_any_generation_move_retires_the_entry);
	tcase_add_test(tc, test_absence_is_cached_too);
	tcase_add_test(tc, test_values_with_nul_bytes_keep_their_length);
	tcase_add_test(tc, test_big_values_are_not_kept);
	tcase_add_test(tc, test_clear_empties_the_cache);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(values, test_value_written_straight_out, 0,
	    sizeof(value_cases) / sizeof(value_cases[0]));
	tcase_add_loop_test(values, test_value_through_json_c_agrees, 0,
	    sizeof(value_cases) / sizeof(value_cases[0]));
	tcase_add_test(values, test_too_deep_value_is_a_string_both_ways);
	tcase_add_loop_test(values, test_stored_doc, 0, sizeof(docs) / sizeof(docs[0]));
	suite_add_tcase(s, values);
	return s;
}
