/*
 * Unit tests of what service discovery and locks decide without etcd
 * (src/model/service.c, lock.c, store/lease.c): which endpoints and
 * metadata an instance may have, when an instance counts as expired, the
 * form of lock tokens, and lease ids as instance ids. What needs etcd is
 * in tests/integration/test_discovery.py.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/util.h"
#include "model/lock.h"
#include "model/service.h"
#include "store/lease.h"

#include "check_suites.h"

static const char *const good_endpoints[] = {
	"http://10.0.0.5:8080",
	"https://api.example.com",
	"http://h",
	"http://h/",
	"https://h:443/a/b?c=d#e",
	"HTTP://Host.Example:1",
	"http://[::1]:80/path",
	"http://[fe80::1]",
	"http://a-b.c.d/x",
	"10.0.0.5:8080",
	"db.internal:5432",
	"[2001:db8::7]:65535",
	"localhost:1",
};

static const char *const bad_endpoints[] = {
	"",
	"10.0.0.5",			/* neither a URL nor host:port */
	"db.internal",
	"ftp://h:21",			/* another scheme */
	"tcp://h:1",
	"http://",			/* no host */
	"http:///path",
	"http://:80",
	"http://user:pw@h:80",		/* credentials */
	"http://u@h",
	"http://h:0",			/* ports */
	"http://h:65536",
	"http://h:80x",
	"http://h:",
	"h:",
	":80",
	"h:99999",
	"http://-a.b",			/* host names */
	"http://a-.b",
	"http://a..b",
	"http://.a",
	"http://a.",
	"http://a_b",
	"http://a b",			/* spaces, controls, non-ASCII */
	"http://h\n",
	"http://h\xc3\xa9",
	"http://[::1",			/* IPv6 */
	"http://[zz::1]:80",
	"http://[::1]x",
	"http://::1:80",
	"[::1]",
	"h:1:2",
};

START_TEST(test_endpoint_good)
{
	ck_assert_msg(service_endpoint_problem(good_endpoints[_i]) == NULL,
	    "%s refused: %s", good_endpoints[_i],
	    service_endpoint_problem(good_endpoints[_i]));
}
END_TEST

START_TEST(test_endpoint_bad)
{
	ck_assert_msg(service_endpoint_problem(bad_endpoints[_i]) != NULL,
	    "%s accepted", bad_endpoints[_i]);
}
END_TEST

START_TEST(test_endpoint_lengths)
{
	char long_name[SERVICE_ENDPOINT_MAX + 16], label[80];

	/* A label is at most 63 bytes, a name at most 253. */
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(long_name, sizeof(long_name), "%s:80", label);
	ck_assert_ptr_null(service_endpoint_problem(long_name));
	snprintf(long_name, sizeof(long_name), "%sa:80", label);
	ck_assert_ptr_nonnull(service_endpoint_problem(long_name));
	snprintf(long_name, sizeof(long_name), "%s.%s.%s.%s:80", label, label,
	    label, label);	/* 255 bytes of name */
	ck_assert_ptr_nonnull(service_endpoint_problem(long_name));
	/* The whole endpoint is at most 1024 bytes. */
	memset(long_name, 'p', sizeof(long_name));
	memcpy(long_name, "http://h/", 9);
	long_name[SERVICE_ENDPOINT_MAX] = '\0';
	ck_assert_ptr_null(service_endpoint_problem(long_name));
	long_name[SERVICE_ENDPOINT_MAX] = 'p';
	long_name[SERVICE_ENDPOINT_MAX + 1] = '\0';
	ck_assert_ptr_nonnull(service_endpoint_problem(long_name));
}
END_TEST

START_TEST(test_metadata)
{
	struct json_object *meta = json_object_new_object();
	char big[SERVICE_METADATA_MAX];
	size_t room;

	ck_assert_ptr_null(service_metadata_problem(meta));
	/* {"k":"..."} is 8 bytes besides the value: exactly at the limit. */
	room = SERVICE_METADATA_MAX - 8;
	memset(big, 'x', room);
	big[room] = '\0';
	json_object_object_add(meta, "k", json_object_new_string(big));
	ck_assert_ptr_null(service_metadata_problem(meta));
	big[room] = 'x';
	big[room + 1] = '\0';
	json_object_object_add(meta, "k", json_object_new_string(big));
	ck_assert_ptr_nonnull(service_metadata_problem(meta));
	json_object_put(meta);
	meta = json_object_new_array();
	ck_assert_ptr_nonnull(service_metadata_problem(meta));
	json_object_put(meta);
}
END_TEST

START_TEST(test_expired)
{
	struct service_instance inst;

	memset(&inst, 0, sizeof(inst));
	inst.expires = 1000;
	ck_assert(!service_expired(&inst, 999999999));
	ck_assert(service_expired(&inst, 1000000000));
	ck_assert(service_expired(&inst, 1000000001));
}
END_TEST

START_TEST(test_service_key)
{
	struct arena arena;

	arena_init(&arena);
	ck_assert_str_eq(service_key(&arena, "web", ""), "services/web/");
	ck_assert_str_eq(service_key(&arena, "web", "00000000000000ff"),
	    "services/web/00000000000000ff");
	ck_assert_str_eq(lock_key(&arena, "db"), "locks/db");
	arena_free(&arena);
}
END_TEST

static const struct {
	const char	*text;
	int		 valid;
} tokens[] = {
	{ "dcl_0123456789abcdef0123456789abcdef", 1 },
	{ "dcl_0123456789ABCDEF0123456789abcdef", 0 },	/* lowercase only */
	{ "dcl_0123456789abcdef0123456789abcde", 0 },	/* 31 digits */
	{ "dcl_0123456789abcdef0123456789abcdef0", 0 },
	{ "dct_0123456789abcdef0123456789abcdef", 0 },	/* an API token's prefix */
	{ "0123456789abcdef0123456789abcdef", 0 },
	{ "dcl_0123456789abcdef0123456789abcdeg", 0 },
	{ "", 0 },
};

START_TEST(test_lock_token)
{
	ck_assert_int_eq(lock_token_valid(tokens[_i].text), tokens[_i].valid);
}
END_TEST

START_TEST(test_lock_holder)
{
	ck_assert_ptr_null(lock_holder_problem("worker-1"));
	ck_assert_ptr_null(lock_holder_problem("host:1234 \xc3\xa9"));
	ck_assert_ptr_nonnull(lock_holder_problem("a\nb"));
	ck_assert_ptr_nonnull(lock_holder_problem("a\tb"));
	ck_assert_ptr_nonnull(lock_holder_problem("\x7f"));
}
END_TEST

START_TEST(test_lease_hex)
{
	static const int64_t ids[] = { 1, 0x694d7e1c5f1a2b3cLL, INT64_MAX };
	char hex[17];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		store_lease_hex(ids[i], hex);
		ck_assert_uint_eq(strlen(hex), 16);
		ck_assert_int_eq(store_lease_parse_hex(hex), ids[i]);
	}
	ck_assert_str_eq((store_lease_hex(255, hex), hex), "00000000000000ff");
	/* Exactly what store_lease_hex writes, and a positive int64. */
	ck_assert_int_eq(store_lease_parse_hex("00000000000000FF"), 0);
	ck_assert_int_eq(store_lease_parse_hex("ff"), 0);
	ck_assert_int_eq(store_lease_parse_hex("000000000000000ff"), 0);
	ck_assert_int_eq(store_lease_parse_hex("0000000000000000"), 0);
	ck_assert_int_eq(store_lease_parse_hex("8000000000000000"), 0);
	ck_assert_int_eq(store_lease_parse_hex("00000000000000fg"), 0);
	ck_assert_int_eq(store_lease_parse_hex(""), 0);
}
END_TEST

Suite *
discovery_suite(void)
{
	Suite *s = suite_create("discovery");
	TCase *tc = tcase_create("service");

	tcase_add_loop_test(tc, test_endpoint_good, 0, (int)ARRAY_SIZE(good_endpoints));
	tcase_add_loop_test(tc, test_endpoint_bad, 0, (int)ARRAY_SIZE(bad_endpoints));
	tcase_add_test(tc, test_endpoint_lengths);
	tcase_add_test(tc, test_metadata);
	tcase_add_test(tc, test_expired);
	tcase_add_test(tc, test_service_key);
	suite_add_tcase(s, tc);
	tc = tcase_create("lock");
	tcase_add_loop_test(tc, test_lock_token, 0, (int)ARRAY_SIZE(tokens));
	tcase_add_test(tc, test_lock_holder);
	tcase_add_test(tc, test_lease_hex);
	suite_add_tcase(s, tc);
	return s;
}
