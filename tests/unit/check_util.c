/*
 * Unit tests of the small helpers: util (strtonum, random_hex,
 * format_rfc3339), SHA-256 (digest), base64, buf (growth, JSON string
 * escaping) and arena (alignment, zeroing, large allocations).
 */
#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/digest.h"
#include "base/util.h"

#include "check_suites.h"

/* util: strtonum */

static const struct {
	const char	*input;
	long long	 min, max;
	long long	 value;
	const char	*error;		/* NULL: accepted */
} strtonum_cases[] = {
	{ "0", 0, 10, 0, NULL },
	{ "10", 0, 10, 10, NULL },
	{ "7", 7, 7, 7, NULL },
	{ "007", 0, 10, 7, NULL },		/* decimal, never octal */
	{ "-5", -10, 10, -5, NULL },
	{ "-0", 0, 10, 0, NULL },
	{ "11", 0, 10, 0, "too large" },
	{ "-1", 0, 10, 0, "too small" },
	{ "6", 7, 7, 0, "too small" },
	{ "8", 7, 7, 0, "too large" },
	{ "", 0, 10, 0, "invalid" },
	{ "abc", 0, 10, 0, "invalid" },
	{ "12abc", 0, 10, 0, "invalid" },
	{ "5 ", 0, 10, 0, "invalid" },
	{ "5\n", 0, 10, 0, "invalid" },
	{ " 5", 0, 10, 0, "invalid" },
	{ "\t5", 0, 10, 0, "invalid" },
	{ "\n5", 0, 10, 0, "invalid" },
	{ "\r5", 0, 10, 0, "invalid" },
	{ "\v5", 0, 10, 0, "invalid" },
	{ "\f5", 0, 10, 0, "invalid" },
	{ "+5", 0, 10, 0, "invalid" },
	{ "++5", 0, 10, 0, "invalid" },
	{ "--5", -10, 10, 0, "invalid" },
	{ "- 5", -10, 10, 0, "invalid" },
	{ "-", -10, 10, 0, "invalid" },
	{ "0x10", 0, 100, 0, "invalid" },
	{ "1e3", 0, 10000, 0, "invalid" },
	{ "1.5", 0, 10, 0, "invalid" },
	{ "5", 10, 0, 0, "invalid" },		/* min > max */
	{ "9223372036854775807", LLONG_MIN, LLONG_MAX, LLONG_MAX, NULL },
	{ "-9223372036854775808", LLONG_MIN, LLONG_MAX, LLONG_MIN, NULL },
	{ "9223372036854775808", LLONG_MIN, LLONG_MAX, 0, "too large" },
	{ "-9223372036854775809", LLONG_MIN, LLONG_MAX, 0, "too small" },
	{ "99999999999999999999999", 0, 10, 0, "too large" },
	{ "-99999999999999999999999", 0, 10, 0, "too small" },
	{ "1073741824", 1024, 1073741824, 1073741824, NULL },
	{ "1073741825", 1024, 1073741824, 0, "too large" },
};

START_TEST(test_strtonum)
{
	const char *errstr = "untouched";
	long long v;

	v = strtonum(strtonum_cases[_i].input, strtonum_cases[_i].min,
	    strtonum_cases[_i].max, &errstr);
	if (strtonum_cases[_i].error == NULL) {
		ck_assert_msg(errstr == NULL, "strtonum(\"%s\"): unexpected error %s",
		    strtonum_cases[_i].input, errstr);
		ck_assert_msg(v == strtonum_cases[_i].value,
		    "strtonum(\"%s\") = %lld, want %lld", strtonum_cases[_i].input,
		    v, strtonum_cases[_i].value);
	} else {
		ck_assert_msg(errstr != NULL, "strtonum(\"%s\") accepted as %lld, "
		    "want error \"%s\"", strtonum_cases[_i].input, v,
		    strtonum_cases[_i].error);
		ck_assert_str_eq(errstr, strtonum_cases[_i].error);
		ck_assert_msg(v == 0, "strtonum(\"%s\") returned %lld on error",
		    strtonum_cases[_i].input, v);
	}
}
END_TEST

START_TEST(test_strtonum_null)
{
	const char *errstr = NULL;

	ck_assert(strtonum(NULL, 0, 10, &errstr) == 0);
	ck_assert_pstr_eq(errstr, "invalid");
	/* A success after an error clears errstr. */
	ck_assert(strtonum("3", 0, 10, &errstr) == 3);
	ck_assert_ptr_null(errstr);
}
END_TEST

/* util: random_hex */

static int
is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static const size_t random_hex_lengths[] = { 0, 1, 8, 16, 32, 64 };

START_TEST(test_random_hex_length)
{
	size_t len = random_hex_lengths[_i];
	char out[2 * 64 + 8];

	memset(out, 'X', sizeof(out));
	ck_assert_int_eq(random_hex(out, len), 0);
	ck_assert_uint_eq(strlen(out), 2 * len);
	ck_assert_msg(is_lower_hex(out, 2 * len), "not lowercase hex: %s", out);
	/* Nothing written past the NUL. */
	ck_assert_int_eq(out[2 * len + 1], 'X');
}
END_TEST

START_TEST(test_random_hex_too_long)
{
	char out[2 * 65 + 1];

	ck_assert_int_eq(random_hex(out, 65), -1);
}
END_TEST

static int
cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_random_hex_distinct)
{
	enum { N = 2000 };
	static char ids[N][33];
	int seen[16] = { 0 };
	size_t i, j;

	for (i = 0; i < N; i++) {
		ck_assert_int_eq(random_hex(ids[i], 16), 0);
		ck_assert_uint_eq(strlen(ids[i]), 32);
		for (j = 0; j < 32; j++) {
			char c = ids[i][j];

			seen[c <= '9' ? c - '0' : c - 'a' + 10]++;
		}
	}
	/* Every hex digit shows up, and roughly evenly (expected 4000 each). */
	for (j = 0; j < 16; j++)
		ck_assert_msg(seen[j] > 3000 && seen[j] < 5000,
		    "hex digit %zx seen %d times in %d ids", j, seen[j], N);
	qsort(ids, N, sizeof(ids[0]), cmp_ids);
	for (i = 1; i < N; i++)
		ck_assert_msg(strcmp(ids[i - 1], ids[i]) != 0, "duplicate id %s", ids[i]);
}
END_TEST

/* util: format_rfc3339 */

static const struct {
	int64_t		 t;
	const char	*text;
} rfc3339_cases[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ -1, "1969-12-31T23:59:59Z" },
	{ 951782400, "2000-02-29T00:00:00Z" },
	{ 1234567890, "2009-02-13T23:31:30Z" },
	{ 1795341600, "2026-11-22T10:00:00Z" },
	{ 4102444800LL, "2100-01-01T00:00:00Z" },
	{ 253402300799LL, "9999-12-31T23:59:59Z" },
};

START_TEST(test_format_rfc3339)
{
	char out[21];

	/* UTC whatever the local zone. */
	setenv("TZ", "Pacific/Chatham", 1);
	tzset();
	memset(out, 'X', sizeof(out));
	format_rfc3339(rfc3339_cases[_i].t, out, sizeof(out));
	ck_assert_str_eq(out, rfc3339_cases[_i].text);
	unsetenv("TZ");
	tzset();
}
END_TEST

/* util: parse_rfc3339 reads what format_rfc3339 writes, and only that. */
START_TEST(test_parse_rfc3339)
{
	static const struct { const char *text; int64_t us; } good[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2000-02-29T00:00:00Z", 951782400LL * 1000000 },
		{ "2026-11-22T10:00:00Z", 1795341600LL * 1000000 },
		{ "2026-11-22t10:00:00z", 1795341600LL * 1000000 },
		{ "2026-11-22T10:00:00.5Z", 1795341600LL * 1000000 + 500000 },
		{ "2026-11-22T10:00:00.1234567Z", 1795341600LL * 1000000 + 123456 },
		{ "2026-11-22T11:30:00+01:30", 1795341600LL * 1000000 },
		{ "2026-11-22T08:00:00-02:00", 1795341600LL * 1000000 },
		{ "9999-12-31T23:59:59Z", 253402300799LL * 1000000 },
		{ "2016-12-31T23:59:60Z", 1483228800LL * 1000000 },
	};
	static const char *const bad[] = { "", "2026", "2026-11-22", "2026-11-22 10:00:00Z",
	    "2026-11-22T10:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
	    "2026-11-31T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:60:00Z",
	    "2026-11-22T10:00:61Z", "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00+1:00",
	    "2026-11-22T10:00:00Zjunk", "1969-12-31T23:59:59Z", "+026-11-22T10:00:00Z",
	    "2026-1-22T10:00:00Z", "1970-01-01T00:00:00+00:01" };
	int64_t us;
	char out[40];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		ck_assert_msg(parse_rfc3339(good[i].text, &us) == 0, "%s", good[i].text);
		ck_assert_msg(us == good[i].us, "%s: %lld", good[i].text, (long long)us);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(parse_rfc3339(bad[i], &us) == -1, "\"%s\" was taken", bad[i]);
	/* Any year: before 1970, negative (January of year 0 needs floor division). */
	ck_assert_int_eq(parse_rfc3339_any("1969-12-31T23:59:59Z", &us), 0);
	ck_assert_int_eq(us, -1000000);
	ck_assert_int_eq(parse_rfc3339_any("1970-01-01T00:00:00+00:01", &us), 0);
	ck_assert_int_eq(us, -60000000);
	ck_assert_int_eq(parse_rfc3339_any("0000-01-01T00:00:00Z", &us), 0);
	ck_assert_int_eq(us, -62167219200LL * 1000000);
	ck_assert_int_eq(parse_rfc3339_any("0000-03-01T00:00:00Z", &us), 0);
	ck_assert_int_eq(us, -62162035200LL * 1000000);
	ck_assert_int_eq(parse_rfc3339_any("2026-11-22T10:00:00Z", &us), 0);
	ck_assert_int_eq(us, 1795341600LL * 1000000);
	ck_assert_int_eq(parse_rfc3339_any("1969-02-29T00:00:00Z", &us), -1);
	format_rfc3339_us(1795341600LL * 1000000 + 42, out, sizeof(out));
	ck_assert_str_eq(out, "2026-11-22T10:00:00.000042Z");
	ck_assert_int_eq(parse_rfc3339(out, &us), 0);
	ck_assert(us == 1795341600LL * 1000000 + 42);
}
END_TEST

START_TEST(test_clocks)
{
	int64_t m1 = clock_monotonic_us(), m2 = clock_monotonic_us();
	int64_t now = clock_realtime_us();

	ck_assert(m2 >= m1);
	/* Microseconds, not seconds or nanoseconds. */
	ck_assert(now / 1000000 - (int64_t)time(NULL) <= 1);
	ck_assert(now / 1000000 - (int64_t)time(NULL) >= -1);
}
END_TEST

START_TEST(test_xstrndup)
{
	char *s = xstrndup("abcdef", 3), *t = xstrdup("");

	ck_assert_str_eq(s, "abc");
	ck_assert_str_eq(t, "");
	free(s);
	free(t);
}
END_TEST

START_TEST(test_buf_put_int)
{
	static const long long values[] = { 0, 7, -7, 10, 1234567890123LL,
	    LLONG_MAX, LLONG_MIN };
	char want[32];
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		buf_init(&b);
		buf_put_int(&b, values[i]);
		buf_putc(&b, '\0');
		snprintf(want, sizeof(want), "%lld", values[i]);
		ck_assert_str_eq(b.data, want);
		buf_free(&b);
	}
}
END_TEST

/* FIPS 180-2 vectors; twice each, as the context is reused. */
START_TEST(test_sha256_vectors)
{
	static const struct { const char *in, *hex; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	char hex[DIGEST_SHA256_HEX_LEN + 1];
	size_t i, round;

	for (round = 0; round < 2; round++)
		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			digest_sha256_hex(v[i].in, strlen(v[i].in), hex);
			ck_assert_str_eq(hex, v[i].hex);
		}
}
END_TEST

/* Parts hash as their concatenation. */
START_TEST(test_sha256_parts)
{
	static const struct digest_part parts[] = {
		{ "abcdbcdecdefdefg", 16 }, { "", 0 },
		{ "efghfghighijhijkijkljklmklmnlmnomnopnopq", 40 },
	};
	unsigned char one[DIGEST_SHA256_LEN], three[DIGEST_SHA256_LEN];

	digest_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, one);
	digest_sha256_parts(parts, 3, three);
	ck_assert_mem_eq(one, three, sizeof(one));
	ck_assert_uint_eq(one[0], 0x24);
	ck_assert_uint_eq(one[31], 0xc1);
}
END_TEST

/* base64: RFC 4648 §10, in the four forms. */
#define B64(raw, padded) { raw, sizeof(raw) - 1, padded }
static const struct {
	const char	*raw;
	size_t		 rawlen;
	const char	*padded;	/* standard alphabet; the others derive */
} base64_vectors[] = {
	B64("", ""),
	B64("f", "Zg=="),
	B64("fo", "Zm8="),
	B64("foo", "Zm9v"),
	B64("foob", "Zm9vYg=="),
	B64("fooba", "Zm9vYmE="),
	B64("foobar", "Zm9vYmFy"),
	/* The last two characters of each alphabet, and NUL bytes. */
	B64("\xfb\xff\xbf", "+/+/"),
	B64("\xfb\xef", "++8="),
	B64("\0\0\0\xff", "AAAA/w=="),
};
#undef B64

static const int base64_forms[] = { 0, BASE64_NOPAD, BASE64_URL,
    BASE64_URL | BASE64_NOPAD };

/* The encoding of the vector in the form flags names. */
static void
base64_expected(const char *padded, int flags, char *out)
{
	size_t i, n = 0;

	for (i = 0; padded[i] != '\0'; i++) {
		char c = padded[i];

		if (c == '=' && (flags & BASE64_NOPAD))
			continue;
		if (flags & BASE64_URL)
			c = c == '+' ? '-' : c == '/' ? '_' : c;
		out[n++] = c;
	}
	out[n] = '\0';
}

START_TEST(test_base64_vectors)
{
	char want[64], text[64];
	unsigned char raw[64];
	size_t i, f, rawlen, n;

	for (i = 0; i < ARRAY_SIZE(base64_vectors); i++)
		for (f = 0; f < ARRAY_SIZE(base64_forms); f++) {
			int flags = base64_forms[f];
			const char *in = base64_vectors[i].raw;

			rawlen = base64_vectors[i].rawlen;
			base64_expected(base64_vectors[i].padded, flags, want);
			ck_assert_uint_eq(base64_encoded_len(rawlen, flags), strlen(want));
			memset(text, 'x', sizeof(text));
			n = base64_encode(in, rawlen, text, flags);
			ck_assert_uint_eq(n, strlen(want));
			ck_assert_str_eq(text, want);
			ck_assert_int_eq(base64_decode(want, strlen(want), raw,
			    sizeof(raw), &n, flags), 0);
			ck_assert_uint_eq(n, rawlen);
			ck_assert_mem_eq(raw, in, rawlen);
			/* Exactly enough room, and one byte less. */
			ck_assert_uint_ge(base64_decoded_max(strlen(want)), rawlen);
			ck_assert_int_eq(base64_decode(want, strlen(want), raw,
			    rawlen, &n, flags), 0);
			if (rawlen > 0)
				ck_assert_int_eq(base64_decode(want, strlen(want), raw,
				    rawlen - 1, &n, flags), -1);
		}
}
END_TEST

/* Text that is not the form named is refused, whatever room there is. */
static const struct {
	const char	*text;
	int		 flags;
} base64_bad[] = {
	/* Padded standard, as the etcd gateway writes it. */
	{ "Zg", 0 },			/* padding missing */
	{ "Zm8", 0 },
	{ "Z", 0 },
	{ "Zg=", 0 },			/* too little */
	{ "Zg===", 0 },
	{ "Z===", 0 },			/* three "=" */
	{ "====", 0 },
	{ "Zm=v", 0 },			/* "=" inside */
	{ "=m9v", 0 },
	{ "Zg==Zm9v", 0 },		/* padding, then more */
	{ "Zm9v ", 0 },			/* white space */
	{ " Zm9v", 0 },
	{ "Zm9\nv", 0 },
	{ "Zm9v\n", 0 },
	{ "_w==", 0 },			/* the other alphabet */
	{ "-w==", 0 },
	{ "Zm9!", 0 },
	{ "Zm9\x80", 0 },
	/* Unpadded base64url, as a JWT's segments. */
	{ "Zg==", BASE64_URL | BASE64_NOPAD },	/* padding */
	{ "Zg=", BASE64_URL | BASE64_NOPAD },
	{ "Zm9vY", BASE64_URL | BASE64_NOPAD },	/* 4n + 1 characters */
	{ "Z", BASE64_URL | BASE64_NOPAD },
	{ "+w", BASE64_URL | BASE64_NOPAD },	/* the other alphabet */
	{ "/w", BASE64_URL | BASE64_NOPAD },
	{ "Zm9 v", BASE64_URL | BASE64_NOPAD },
	{ "Zm9v.", BASE64_URL | BASE64_NOPAD },
	/* The other two forms. */
	{ "-w==", BASE64_NOPAD },
	{ "Zg==", BASE64_NOPAD },
	{ "+w==", BASE64_URL },
	{ "Zg", BASE64_URL },
};

START_TEST(test_base64_bad)
{
	const char *text = base64_bad[_i].text;
	unsigned char raw[64];
	size_t n = 99;

	ck_assert_msg(base64_decode(text, strlen(text), raw, sizeof(raw), &n,
	    base64_bad[_i].flags) == -1, "\"%s\" (flags %d) accepted", text,
	    base64_bad[_i].flags);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* Random bytes of every length up to 300, in each form, and back. */
START_TEST(test_base64_round_trip)
{
	unsigned char raw[300], back[300];
	char text[410];
	size_t len, f, n;

	ck_assert_int_eq(random_bytes(raw, sizeof(raw)), 0);
	for (len = 0; len <= sizeof(raw); len++)
		for (f = 0; f < ARRAY_SIZE(base64_forms); f++) {
			n = base64_encode(raw, len, text, base64_forms[f]);
			ck_assert_uint_eq(n, base64_encoded_len(len, base64_forms[f]));
			ck_assert_uint_eq(strlen(text), n);
			ck_assert_int_eq(base64_decode(text, n, back, len, &n,
			    base64_forms[f]), 0);
			ck_assert_uint_eq(n, len);
			ck_assert_mem_eq(back, raw, len);
		}
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("strtonum");

	tcase_add_loop_test(tc, test_strtonum, 0, (int)ARRAY_SIZE(strtonum_cases));
	tcase_add_test(tc, test_strtonum_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("random_hex");
	tcase_add_loop_test(tc, test_random_hex_length, 0,
	    (int)ARRAY_SIZE(random_hex_lengths));
	tcase_add_test(tc, test_random_hex_too_long);
	tcase_add_test(tc, test_random_hex_distinct);
	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_sha256_parts);
	tcase_add_test(tc, test_buf_put_int);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64");
	tcase_add_test(tc, test_base64_vectors);
	tcase_add_loop_test(tc, test_base64_bad, 0, (int)ARRAY_SIZE(base64_bad));
	tcase_add_test(tc, test_base64_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_loop_test(tc, test_format_rfc3339, 0, (int)ARRAY_SIZE(rfc3339_cases));
	tcase_add_test(tc, test_parse_rfc3339);
	tcase_add_test(tc, test_clocks);
	tcase_add_test(tc, test_xstrndup);
	suite_add_tcase(s, tc);
	return s;
}

/* buf */

START_TEST(test_buf_growth)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	for (i = 0; i < 100000; i++)
		buf_putc(&b, (char)('a' + i % 26));
	ck_assert_uint_eq(b.len, 100000);
	ck_assert(b.cap > b.len);
	ck_assert_int_eq(b.data[b.len], '\0');
	for (i = 0; i < 100000 && b.data[i] == (char)('a' + i % 26); i++)
		;
	ck_assert_msg(i == 100000, "wrong byte at %zu", i);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(test_buf_append_binary)
{
	static const char bytes[] = { 'a', '\0', 'b', '\0' };
	struct buf b;

	buf_init(&b);
	buf_append(&b, bytes, sizeof(bytes));
	ck_assert_uint_eq(b.len, 4);
	ck_assert(memcmp(b.data, bytes, 4) == 0);
	ck_assert_int_eq(b.data[4], '\0');
	buf_append(&b, "", 0);
	ck_assert_uint_eq(b.len, 4);
	buf_free(&b);
}
END_TEST

START_TEST(test_buf_printf)
{
	struct buf b;
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b);
	buf_printf(&b, "%d-%s", 42, "y");
	ck_assert_str_eq(b.data, "42-y");
	/* Longer than the first allocation: the reserve must cover it. */
	buf_printf(&b, "[%s]", big);
	ck_assert_uint_eq(b.len, 4 + 2 + strlen(big));
	ck_assert_uint_eq(strlen(b.data), b.len);
	ck_assert_int_eq(b.data[4], '[');
	ck_assert_int_eq(b.data[b.len - 1], ']');
	buf_puts(&b, "z");
	ck_assert_int_eq(b.data[b.len - 1], 'z');
	buf_free(&b);
}
END_TEST

START_TEST(test_buf_reset)
{
	struct buf b;

	buf_init(&b);
	buf_reset(&b);			/* never used: no crash */
	ck_assert_uint_eq(b.len, 0);
	buf_puts(&b, "hello");
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	buf_puts(&b, "again");
	ck_assert_str_eq(b.data, "again");
	buf_free(&b);
	buf_free(&b);			/* twice is harmless */
}
END_TEST

static const struct {
	const char	*input;
	const char	*json;
} json_string_cases[] = {
	{ "", "\"\"" },
	{ "plain", "\"plain\"" },
	{ "a\"b", "\"a\\\"b\"" },
	{ "a\\b", "\"a\\\\b\"" },
	{ "\\\"", "\"\\\\\\\"\"" },
	{ "line\nnext", "\"line\\nnext\"" },
	{ "\r\t", "\"\\r\\t\"" },
	{ "\x01", "\"\\u0001\"" },
	{ "\x1f", "\"\\u001f\"" },
	{ "\b\f", "\"\\u0008\\u000c\"" },
	{ "a\x7f" "b", "\"a\x7f" "b\"" },
	{ "a/b", "\"a/b\"" },
	{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },
};

START_TEST(test_buf_json_string)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "x");		/* appends, does not replace */
	buf_json_string(&b, json_string_cases[_i].input);
	ck_assert_int_eq(b.data[0], 'x');
	/* \u escapes may use either case of hex digit. */
	ck_assert_msg(strcasecmp(b.data + 1, json_string_cases[_i].json) == 0,
	    "buf_json_string: got %s, want %s", b.data + 1,
	    json_string_cases[_i].json);
	buf_free(&b);
}
END_TEST

/* Every byte 1..255 survives a round trip through a JSON parser. */
START_TEST(test_buf_json_string_roundtrip)
{
	char input[256];
	struct buf b;
	struct json_object *obj;
	size_t i;

	for (i = 1; i < 0x80; i++)
		input[i - 1] = (char)i;
	input[0x7f] = '\0';
	buf_init(&b);
	buf_json_string(&b, input);
	for (i = 0; i < b.len; i++)
		ck_assert_msg((unsigned char)b.data[i] >= 0x20,
		    "raw control byte 0x%02x in %s", (unsigned char)b.data[i], b.data);
	obj = test_json_parse(b.data, "buf_json_string output");
	ck_assert(json_object_is_type(obj, json_type_string));
	ck_assert_str_eq(json_object_get_string(obj), input);
	json_object_put(obj);
	buf_free(&b);
}
END_TEST

/* Text as it is, but U+FFFD for each byte that does not start UTF-8. */
START_TEST(test_buf_put_utf8)
{
	static const struct {
		const char *in;
		size_t bad;
		const char *out;
	} cases[] = {
		{ "{\"k\":\"caf\xc3\xa9\"}", 0, "{\"k\":\"caf\xc3\xa9\"}" },
		{ "a\xff" "b", 1, "a\xef\xbf\xbd" "b" },
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong */
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "x\xe2\x82", 2, "x\xef\xbf\xbd\xef\xbf\xbd" },	/* cut short */
		{ "\xf0\x9f\x98\x80!", 0, "\xf0\x9f\x98\x80!" },
		{ "", 0, "" },
	};
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b);
		buf_puts(&b, ">");
		ck_assert_uint_eq(buf_put_utf8(&b, cases[i].in,
		    strlen(cases[i].in)),
		    cases[i].bad);
		ck_assert_str_eq(b.data + 1, cases[i].out);
		buf_free(&b);
	}
}
END_TEST

Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("buf");

	tcase_add_test(tc, test_buf_growth);
	tcase_add_test(tc, test_buf_append_binary);
	tcase_add_test(tc, test_buf_printf);
	tcase_add_test(tc, test_buf_reset);
	tcase_add_loop_test(tc, test_buf_json_string, 0,
	    (int)ARRAY_SIZE(json_string_cases));
	tcase_add_test(tc, test_buf_json_string_roundtrip);
	tcase_add_test(tc, test_buf_put_utf8);
	suite_add_tcase(s, tc);
	return s;
}

/* arena */

START_TEST(test_arena_small)
{
	enum { N = 3000 };
	static unsigned char *ptrs[N];
	struct arena a;
	size_t i, j;

	arena_init(&a);
	for (i = 0; i < N; i++) {
		size_t size = 1 + i % 97;

		ptrs[i] = arena_alloc(&a, size);
		ck_assert_ptr_nonnull(ptrs[i]);
		ck_assert_msg(((uintptr_t)ptrs[i] & 15) == 0,
		    "allocation %zu not 16-byte aligned", i);
		for (j = 0; j < size && ptrs[i][j] == 0; j++)
			;
		ck_assert_msg(j == size, "allocation %zu not zeroed", i);
		memset(ptrs[i], (int)(i & 0xff), size);
	}
	/* No allocation overlapped another. */
	for (i = 0; i < N; i++) {
		for (j = 0; j < 1 + i % 97 && ptrs[i][j] == (i & 0xff); j++)
			;
		ck_assert_msg(j == 1 + i % 97, "allocation %zu overwritten", i);
	}
	arena_free(&a);
	ck_assert_ptr_null(a.head);
}
END_TEST

static const size_t arena_large_sizes[] = { 4095, 4096, 4097, 8192, 8193, 100000,
    4 * 1024 * 1024 };

START_TEST(test_arena_large)
{
	size_t size = arena_large_sizes[_i], k;
	struct arena a;
	unsigned char *small1, *big, *small2;
	char *s;

	arena_init(&a);
	small1 = arena_alloc(&a, 10);
	memset(small1, 0xaa, 10);
	big = arena_alloc(&a, size);
	ck_assert_ptr_nonnull(big);
	ck_assert(((uintptr_t)big & 15) == 0);
	for (k = 0; k < size && big[k] == 0; k++)
		;
	ck_assert_msg(k == size, "large allocation not zeroed at %zu", k);
	memset(big, 0x55, size);	/* ASan catches a short block */
	small2 = arena_alloc(&a, 10);
	memset(small2, 0xbb, 10);
	for (k = 0; k < 10; k++)
		ck_assert_int_eq(small1[k], 0xaa);
	for (k = 0; k < size && big[k] == 0x55; k++)
		;
	ck_assert_msg(k == size, "large allocation overwritten at %zu", k);
	/* A large block first, in an empty arena. */
	arena_free(&a);
	big = arena_alloc(&a, size);
	memset(big, 0x11, size);
	s = arena_strdup(&a, "after");
	ck_assert_str_eq(s, "after");
	ck_assert_int_eq(big[size - 1], 0x11);
	arena_free(&a);
}
END_TEST

START_TEST(test_arena_strings)
{
	struct arena a;
	char big[20000];
	char *p, *q, *r;

	arena_init(&a);
	p = arena_strdup(&a, "hello");
	q = arena_strndup(&a, "hello world", 5);
	ck_assert_str_eq(p, "hello");
	ck_assert_str_eq(q, "hello");
	ck_assert_ptr_ne(p, q);
	ck_assert_str_eq(arena_strndup(&a, "", 0), "");
	r = arena_printf(&a, "%s-%d", "n", 7);
	ck_assert_str_eq(r, "n-7");
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r = arena_printf(&a, "<%s>", big);
	ck_assert_uint_eq(strlen(r), sizeof(big) + 1);
	ck_assert_int_eq(r[0], '<');
	ck_assert_int_eq(r[sizeof(big)], '>');
	ck_assert_str_eq(arena_concat(&a, "flags/", "dev", "/", "x", (char *)NULL),
	    "flags/dev/x");
	ck_assert_str_eq(arena_concat(&a, "", (char *)NULL), "");
	ck_assert_str_eq(arena_concat(&a, "only", (char *)NULL), "only");
	r = arena_concat(&a, "<", big, ">", (char *)NULL);
	ck_assert_uint_eq(strlen(r), sizeof(big) + 1);
	ck_assert_int_eq(r[sizeof(big)], '>');
	ck_assert_ptr_nonnull(arena_alloc(&a, 0));
	ck_assert_ptr_ne(arena_alloc(&a, 0), arena_alloc(&a, 0));
	arena_free(&a);
	arena_free(&a);		/* twice is harmless */
}
END_TEST

/*
 * A block kept from a freed arena for the next one comes back zeroed, and
 * two live arenas never share one.
 */
START_TEST(test_arena_reuse)
{
	struct arena first, second, third;
	unsigned char *p, *q, *r;
	size_t i;

	arena_init(&first);
	p = arena_alloc(&first, 100);
	memset(p, 0xAB, 100);
	arena_free(&first);
	arena_init(&second);
	arena_init(&third);
	q = arena_alloc(&second, 100);
	r = arena_alloc(&third, 100);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(q[i] | r[i], 0);
	memset(q, 0x11, 100);
	memset(r, 0x22, 100);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(q[i], 0x11);
		ck_assert_int_eq(r[i], 0x22);
	}
	arena_free(&second);
	arena_free(&third);
}
END_TEST

/*
 * A size so large that rounding it up wraps around must not hand back a
 * tiny block: out of memory aborts, as xmalloc does.
 */
START_TEST(test_arena_overflow)
{
	struct arena a;

	arena_init(&a);
	(void)arena_alloc(&a, SIZE_MAX);
	arena_free(&a);
}
END_TEST

START_TEST(test_arena_overflow_header)
{
	struct arena a;

	arena_init(&a);
	(void)arena_alloc(&a, SIZE_MAX - 32);
	arena_free(&a);
}
END_TEST

Suite *
arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("arena");
	const char *fork_env = getenv("CK_FORK");

	tcase_add_test(tc, test_arena_small);
	tcase_add_loop_test(tc, test_arena_large, 0, (int)ARRAY_SIZE(arena_large_sizes));
	tcase_add_test(tc, test_arena_strings);
	tcase_add_test(tc, test_arena_reuse);
	/* Death tests need a child to die in. */
	if (fork_env == NULL || strcmp(fork_env, "no") != 0) {
		tcase_add_test_raise_signal(tc, test_arena_overflow, SIGABRT);
		tcase_add_test_raise_signal(tc, test_arena_overflow_header, SIGABRT);
	}
	suite_add_tcase(s, tc);
	return s;
}
