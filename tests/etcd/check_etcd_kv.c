/*
 * etcd client tests: KV range, put and delete against a real etcd.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_etcd.h"

START_TEST(put_range_single)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_result r;
	struct etcd_error err;
	char key[256];
	int64_t rev1, rev2;

	test_key(key, "single");
	rev1 = put_str(c, key, "v1");
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err), ETCD_OK);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_int_eq(r.total, 1);
	ck_assert_int_eq(r.more, 0);
	ck_assert_int_ge(r.revision, rev1);
	ck_assert_str_eq(r.kvs[0].key, key);
	ck_assert_uint_eq(r.kvs[0].key_len, strlen(key));
	ck_assert_str_eq(r.kvs[0].value, "v1");
	ck_assert_uint_eq(r.kvs[0].value_len, 2);
	ck_assert_int_eq(r.kvs[0].create_revision, rev1);
	ck_assert_int_eq(r.kvs[0].mod_revision, rev1);
	ck_assert_int_eq(r.kvs[0].version, 1);
	ck_assert_int_eq(r.kvs[0].lease, 0);
	etcd_range_result_free(&r);

	rev2 = put_str(c, key, "v2");
	ck_assert_int_gt(rev2, rev1);
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err), ETCD_OK);
	ck_assert_str_eq(r.kvs[0].value, "v2");
	ck_assert_int_eq(r.kvs[0].create_revision, rev1);
	ck_assert_int_eq(r.kvs[0].mod_revision, rev2);
	ck_assert_int_eq(r.kvs[0].version, 2);
	etcd_range_result_free(&r);

	/* Nothing there: the gateway leaves out "kvs" and "count". */
	test_key(key, "single-absent");
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err), ETCD_OK);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_ptr_null(r.kvs);
	ck_assert_int_eq(r.total, 0);
	ck_assert_int_gt(r.revision, 0);
	etcd_range_result_free(&r);
	etcd_client_free(c);
}
END_TEST

/* Put name=value for each name under test_prefix + dir. */
static void
put_tree(struct etcd_client *c, const char *dir, const char *const *names,
    size_t n)
{
	char key[256], path[256];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s%s", dir, names[i]);
		put_str(c, test_key(key, path), names[i]);
	}
}

static void
prefix_options(struct etcd_range_options *o, const char *prefix, char **end)
{
	memset(o, 0, sizeof(*o));
	*end = etcd_prefix_end(prefix, strlen(prefix), &o->range_end_len);
	o->range_end = *end;
}

START_TEST(range_prefix)
{
	static const char *const names[] = { "a", "b", "c" };
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_options o;
	struct etcd_range_result r;
	struct etcd_error err;
	char prefix[256], outside[256], *end;

	put_tree(c, "pfx/", names, 3);
	/* Sorts right after the prefix range: must not be in it. */
	put_str(c, test_key(outside, "pfx0"), "x");
	test_key(prefix, "pfx/");
	prefix_options(&o, prefix, &end);
	ck_assert_int_eq(etcd_range(c, prefix, strlen(prefix), &o, &r, &err),
	    ETCD_OK);
	ck_assert_uint_eq(r.count, 3);
	ck_assert_int_eq(r.total, 3);
	ck_assert_str_eq(r.kvs[0].value, "a");
	ck_assert_str_eq(r.kvs[2].value, "c");
	etcd_range_result_free(&r);
	free(end);
	etcd_client_free(c);
}
END_TEST

START_TEST(range_limit_pagination)
{
	static const char *const names[] = { "k1", "k2", "k3", "k4", "k5" };
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_options o;
	struct etcd_range_result r;
	struct etcd_error err;
	char prefix[256], from[300], *end;
	size_t i, from_len, seen = 0, pages = 0;
	int more;

	put_tree(c, "page/", names, 5);
	test_key(prefix, "page/");
	prefix_options(&o, prefix, &end);
	o.limit = 2;
	from_len = strlen(prefix);
	memcpy(from, prefix, from_len);
	do {
		ck_assert_int_eq(etcd_range(c, from, from_len, &o, &r, &err),
		    ETCD_OK);
		ck_assert_uint_le(r.count, 2);
		/* "count" is the whole range, not the page. */
		ck_assert_int_eq(r.total, 5 - (int64_t)seen);
		for (i = 0; i < r.count; i++)
			ck_assert_str_eq(r.kvs[i].value, names[seen + i]);
		seen += r.count;
		pages++;
		/* The next page starts right after the last key: key + "\0". */
		if (r.count > 0) {
			from_len = r.kvs[r.count - 1].key_len + 1;
			ck_assert_uint_le(from_len, sizeof(from));
			memcpy(from, r.kvs[r.count - 1].key, from_len);
		}
		more = r.more;
		etcd_range_result_free(&r);
	} while (more);
	ck_assert_uint_eq(seen, 5);
	ck_assert_uint_eq(pages, 3);
	free(end);
	etcd_client_free(c);
}
END_TEST

START_TEST(range_old_revision_serializable)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_options o;
	struct etcd_range_result r;
	struct etcd_error err;
	char key[256];
	int64_t rev1;

	test_key(key, "old");
	rev1 = put_str(c, key, "first");
	put_str(c, key, "second");
	memset(&o, 0, sizeof(o));
	o.revision = rev1;
	ck_assert_int_eq(etcd_range(c, key, strlen(key), &o, &r, &err), ETCD_OK);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_str_eq(r.kvs[0].value, "first");
	etcd_range_result_free(&r);
	memset(&o, 0, sizeof(o));
	o.serializable = 1;
	ck_assert_int_eq(etcd_range(c, key, strlen(key), &o, &r, &err), ETCD_OK);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_str_eq(r.kvs[0].value, "second");
	etcd_range_result_free(&r);
	/* A future revision is an error answer, not an outage. */
	o.serializable = 0;
	o.revision = rev1 + 1000000;
	ck_assert_int_eq(etcd_range(c, key, strlen(key), &o, &r, &err),
	    ETCD_ERROR);
	ck_assert_int_eq(err.code, 11);
	ck_assert_ptr_nonnull(strstr(err.message, "future revision"));
	etcd_client_free(c);
}
END_TEST

START_TEST(range_keys_count_only)
{
	static const char *const names[] = { "x", "y" };
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_options o;
	struct etcd_range_result r;
	struct etcd_error err;
	char prefix[256], *end;

	put_tree(c, "only/", names, 2);
	test_key(prefix, "only/");
	prefix_options(&o, prefix, &end);
	o.keys_only = 1;
	ck_assert_int_eq(etcd_range(c, prefix, strlen(prefix), &o, &r, &err),
	    ETCD_OK);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_uint_eq(r.kvs[1].value_len, 0);
	ck_assert_str_eq(r.kvs[1].value, "");
	ck_assert_uint_eq(r.kvs[1].key_len, strlen(prefix) + 1);
	ck_assert_int_gt(r.kvs[1].mod_revision, 0);
	etcd_range_result_free(&r);
	o.keys_only = 0;
	o.count_only = 1;
	ck_assert_int_eq(etcd_range(c, prefix, strlen(prefix), &o, &r, &err),
	    ETCD_OK);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_ptr_null(r.kvs);
	ck_assert_int_eq(r.total, 2);
	etcd_range_result_free(&r);
	free(end);
	etcd_client_free(c);
}
END_TEST

START_TEST(binary_keys_values)
{
	static const char value[] = "a\0b\0\377\001\n\"";
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_result r;
	struct etcd_error err;
	char key[300];
	size_t key_len;

	/* A key with a NUL, high bytes and a quote in it. */
	test_key(key, "bin/");
	key_len = strlen(key);
	memcpy(key + key_len, "\0\377\001\"k", 5);
	key_len += 5;
	ck_assert_int_eq(etcd_put(c, key, key_len, value, sizeof(value) - 1, 0,
	    NULL, &err), ETCD_OK);
	ck_assert_int_eq(etcd_range(c, key, key_len, NULL, &r, &err), ETCD_OK);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_uint_eq(r.kvs[0].key_len, key_len);
	ck_assert_mem_eq(r.kvs[0].key, key, key_len);
	ck_assert_int_eq(r.kvs[0].key[key_len], '\0');
	ck_assert_uint_eq(r.kvs[0].value_len, sizeof(value) - 1);
	ck_assert_mem_eq(r.kvs[0].value, value, sizeof(value) - 1);
	ck_assert_int_eq(r.kvs[0].value[r.kvs[0].value_len], '\0');
	etcd_range_result_free(&r);

	/* An empty value: present, zero length, still a C string. */
	ck_assert_int_eq(etcd_put(c, key, key_len, "", 0, 0, NULL, &err), ETCD_OK);
	ck_assert_int_eq(etcd_range(c, key, key_len, NULL, &r, &err), ETCD_OK);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_uint_eq(r.kvs[0].value_len, 0);
	ck_assert_str_eq(r.kvs[0].value, "");
	etcd_range_result_free(&r);
	etcd_client_free(c);
}
END_TEST

START_TEST(delete_single_prefix)
{
	static const char *const names[] = { "a", "b", "c" };
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_options o;
	struct etcd_range_result r;
	struct etcd_error err;
	char key[256], prefix[256], *end;
	int64_t deleted, rev, put_rev;

	put_rev = put_str(c, test_key(key, "del/one"), "1");
	ck_assert_int_eq(etcd_delete(c, key, strlen(key), NULL, 0, &deleted, &rev,
	    &err), ETCD_OK);
	ck_assert_int_eq(deleted, 1);
	ck_assert_int_gt(rev, put_rev);
	ck_assert_int_eq(etcd_delete(c, key, strlen(key), NULL, 0, &deleted, &rev,
	    &err), ETCD_OK);
	ck_assert_int_eq(deleted, 0);

	put_tree(c, "del/tree/", names, 3);
	test_key(prefix, "del/tree/");
	prefix_options(&o, prefix, &end);
	ck_assert_int_eq(etcd_delete(c, prefix, strlen(prefix), o.range_end,
	    o.range_end_len, &deleted, NULL, &err), ETCD_OK);
	ck_assert_int_eq(deleted, 3);
	ck_assert_int_eq(etcd_range(c, prefix, strlen(prefix), &o, &r, &err),
	    ETCD_OK);
	ck_assert_uint_eq(r.count, 0);
	etcd_range_result_free(&r);
	free(end);
	etcd_client_free(c);
}
END_TEST

START_TEST(bad_request_is_error)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_error err;

	/* An empty key: etcd says "key is not provided" (InvalidArgument). */
	ck_assert_int_eq(etcd_put(c, "", 0, "v", 1, 0, NULL, &err), ETCD_ERROR);
	ck_assert_int_eq(err.status, ETCD_ERROR);
	ck_assert_int_eq(err.code, 3);
	ck_assert_ptr_nonnull(strstr(err.message, "key is not provided"));
	etcd_client_free(c);
}
END_TEST

Suite *
suite_kv(void)
{
	Suite *s = suite_create("etcd kv");
	TCase *tc = tcase_create("kv");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, put_range_single);
	tcase_add_test(tc, range_prefix);
	tcase_add_test(tc, range_limit_pagination);
	tcase_add_test(tc, range_old_revision_serializable);
	tcase_add_test(tc, range_keys_count_only);
	tcase_add_test(tc, binary_keys_values);
	tcase_add_test(tc, delete_single_prefix);
	tcase_add_test(tc, bad_request_is_error);
	suite_add_tcase(s, tc);
	return s;
}
