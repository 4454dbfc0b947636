/*
 * Authorization in the pipeline (auth.c) and JWT verification (jwt.c),
 * without a store: headers, HS256 and ES256 tokens made here with OpenSSL,
 * "none", algorithm confusion, exp/nbf/aud, scopes to 401/403, and the
 * claims (exp, sub) a verified token hands on.
 * API tokens and SDK keys need etcd: tests/integration/test_auth.py.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "base/conf.h"
#include "base/util.h"
#include "http/api.h"
#include "http/jwks.h"
#include "http/jwt.h"
#include "http/router.h"

#include "check_suites.h"

#define SECRET "0123456789abcdef0123456789abcdef-test-secret"

static int calls;
static char *dir;
static EVP_PKEY *ec_key;

static void
ok(struct exchange *ex)
{
	calls++;
	respond_empty(ex, 204);
}

static const struct route routes[] = {
	{ .method = HTTP_GET, .pattern = "/public", .scope = SCOPE_PUBLIC,
	    .handler = ok, .summary = "public" },
	{ .method = HTTP_GET, .pattern = "/read", .scope = SCOPE_FLAGS_READ,
	    .handler = ok, .summary = "read" },
	{ .method = HTTP_PUT, .pattern = "/write", .scope = SCOPE_FLAGS_WRITE,
	    .handler = ok, .flags = ROUTE_JSON_BODY, .summary = "write" },
};

static void
setup(void)
{
	char err[1024], *pem_path;
	BIO *bio;
	BUF_MEM *mem;

	test_clear_dynconf_env();
	ck_assert_msg(conf_load(&conf, NULL, err, sizeof(err)) == 0, "%s", err);
	dir = test_mkdtemp();
	free(test_write_file(dir, "secret", SECRET "\n"));
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_assert_ptr_nonnull(ec_key);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(bio, ec_key);
	BIO_write(bio, "", 1);
	BIO_get_mem_ptr(bio, &mem);
	pem_path = test_write_file(dir, "ec.pem", mem->data);
	BIO_free(bio);
	snprintf(conf.auth.jwt_hs256_secret_file,
	    sizeof(conf.auth.jwt_hs256_secret_file), "%s/secret", dir);
	snprintf(conf.auth.jwt_public_keys, sizeof(conf.auth.jwt_public_keys),
	    "%s", pem_path);
	free(pem_path);
	snprintf(conf.auth.jwt_audience, sizeof(conf.auth.jwt_audience), "dynconf");
	jwt_reset();
	calls = 0;
}

static void
teardown(void)
{
	char err[1024];

	jwt_reset();
	EVP_PKEY_free(ec_key);
	test_rmdir(dir);
	(void)conf_load(&conf, NULL, err, sizeof(err));
}

static void
b64url(const unsigned char *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len), i;

	for (i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
		else if (out[i] == '=') {
			out[i] = '\0';
			break;
		}
	}
}

/* header.payload.signature with alg "HS256", "ES256" or "none". */
static char *
make_jwt(const char *alg, const char *payload, const char *secret)
{
	char header[64], h64[128], p64[1024], *input, *token;
	unsigned char sig[256];
	size_t siglen = 0, n;

	snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	b64url((const unsigned char *)header, strlen(header), h64);
	b64url((const unsigned char *)payload, strlen(payload), p64);
	n = strlen(h64) + strlen(p64) + 2;
	input = xmalloc(n);
	snprintf(input, n, "%s.%s", h64, p64);
	if (strcmp(alg, "HS256") == 0) {
		unsigned int maclen;

		HMAC(EVP_sha256(), secret, (int)strlen(secret),
		    (unsigned char *)input, strlen(input), sig, &maclen);
		siglen = maclen;
	} else if (strcmp(alg, "ES256") == 0) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char der[128];
		const unsigned char *p = der;
		size_t derlen = sizeof(der);
		ECDSA_SIG *es;

		ck_assert(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ec_key) == 1);
		ck_assert(EVP_DigestSign(md, der, &derlen, (unsigned char *)input,
		    strlen(input)) == 1);
		EVP_MD_CTX_free(md);
		es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
		ECDSA_SIG_free(es);
		siglen = 64;
	}
	n = strlen(input) + 2 + 2 * siglen + 4;
	token = xmalloc(n);
	snprintf(token, n, "%s.", input);
	b64url(sig, siglen, token + strlen(token));
	if (siglen == 0)
		token[strlen(input) + 1] = '\0';
	free(input);
	return token;
}

/* Claims valid now, for aud "dynconf", with these extra members. */
static char *
claims(const char *extra)
{
	static char text[512];
	long long now = clock_realtime_us() / 1000000;

	snprintf(text, sizeof(text), "{\"sub\":\"t\",\"aud\":\"dynconf\","
	    "\"iat\":%lld,\"exp\":%lld%s%s}", now, now + 300,
	    extra[0] ? "," : "", extra);
	return text;
}

static int
call(const char *method, const char *path, const char *authorization,
    char *www, size_t wwwlen)
{
	struct exchange ex;
	const char *h;
	int status;

	exchange_init(&ex);
	ex.req.method = method;
	ex.req.path = path;
	ex.req.authorization = authorization;
	api_handle_routes(&ex, routes, ARRAY_SIZE(routes));
	status = ex.res.status;
	h = response_header_get(&ex, "WWW-Authenticate");
	if (www != NULL)
		snprintf(www, wwwlen, "%s", h ? h : "");
	exchange_free(&ex);
	return status;
}

static int
call_jwt(const char *path, const char *token)
{
	char header[8192];

	snprintf(header, sizeof(header), "Bearer %s", token);
	return call(strcmp(path, "/write") == 0 ? "PUT" : "GET", path, header,
	    NULL, 0);
}

START_TEST(test_headers)
{
	char www[256];

	ck_assert_int_eq(call("GET", "/public", NULL, www, sizeof(www)), 204);
	ck_assert_int_eq(call("GET", "/read", NULL, www, sizeof(www)), 401);
	ck_assert_str_eq(www, "Bearer");
	ck_assert_int_eq(call("GET", "/read", "Basic dXNlcjpwYXNz", www,
	    sizeof(www)), 401);
	ck_assert_str_eq(www, "Bearer error=\"invalid_token\"");
	ck_assert_int_eq(call("GET", "/read", "Bearer ", www, sizeof(www)), 401);
	ck_assert_int_eq(call("GET", "/read", "Bearer a b", www, sizeof(www)), 401);
	ck_assert_int_eq(call("GET", "/read", "Bearer nothing-known", www,
	    sizeof(www)), 401);
	ck_assert_str_eq(www, "Bearer error=\"invalid_token\"");
	ck_assert_int_eq(calls, 1);
	conf.auth.mode = AUTH_MODE_OFF;
	ck_assert_int_eq(call("GET", "/read", NULL, www, sizeof(www)), 204);
}
END_TEST

START_TEST(test_hs256_scopes)
{
	char *read = make_jwt("HS256", claims("\"scope\":\"flags:read other\""), SECRET);
	char *write = make_jwt("HS256", claims("\"permissions\":[\"flags:write\"]"),
	    SECRET);
	char *admin = make_jwt("HS256", claims("\"scope\":\"admin\""), SECRET);
	char www[256], header[4096];

	ck_assert_int_eq(call_jwt("/read", read), 204);
	ck_assert_int_eq(call_jwt("/read", read), 204);	/* cached */
	snprintf(header, sizeof(header), "Bearer %s", read);
	ck_assert_int_eq(call("PUT", "/write", header, www, sizeof(www)), 403);
	ck_assert_str_eq(www, "Bearer error=\"insufficient_scope\", "
	    "scope=\"flags:write\"");
	ck_assert_int_eq(call_jwt("/write", write), 204);
	ck_assert_int_eq(call_jwt("/read", write), 204);	/* write ⇒ read */
	ck_assert_int_eq(call_jwt("/write", admin), 204);
	free(read);
	free(write);
	free(admin);
}
END_TEST

START_TEST(test_refused)
{
	long long now = clock_realtime_us() / 1000000;
	char text[256], *t;

	t = make_jwt("HS256", claims("\"scope\":\"admin\""), "another secret of 32 bytes......");
	ck_assert_int_eq(call_jwt("/read", t), 401);
	free(t);
	t = make_jwt("none", claims("\"scope\":\"admin\""), NULL);
	ck_assert_int_eq(call_jwt("/read", t), 401);
	free(t);
	t = make_jwt("HS256", "{\"aud\":\"other\",\"exp\":9999999999,"
	    "\"scope\":\"admin\"}", SECRET);
	ck_assert_int_eq(call_jwt("/read", t), 401);
	free(t);
	t = make_jwt("HS256", "{\"aud\":\"dynconf\",\"scope\":\"admin\"}", SECRET);
	ck_assert_int_eq(call_jwt("/read", t), 401);	/* no exp */
	free(t);
	snprintf(text, sizeof(text), "{\"aud\":[\"x\",\"dynconf\"],\"exp\":%lld,"
	    "\"scope\":\"admin\"}", now - 10);	/* within the leeway */
	t = make_jwt("HS256", text, SECRET);
	ck_assert_int_eq(call_jwt("/read", t), 204);
	free(t);
	snprintf(text, sizeof(text), "{\"aud\":\"dynconf\",\"exp\":%lld,"
	    "\"scope\":\"admin\"}", now - 100);
	t = make_jwt("HS256", text, SECRET);
	ck_assert_int_eq(call_jwt("/read", t), 401);
	free(t);
	snprintf(text, sizeof(text), "{\"aud\":\"dynconf\",\"exp\":%lld,"
	    "\"nbf\":%lld,\"scope\":\"admin\"}", now + 600, now + 300);
	t = make_jwt("HS256", text, SECRET);
	ck_assert_int_eq(call_jwt("/read", t), 401);
	free(t);
}
END_TEST

/*
 * Claims are held to a request body's rules: "dynconf\u0000evil" is not the
 * audience "dynconf", nor "admin\u0000" the scope admin.
 */
START_TEST(test_claims_strict)
{
	static const struct {
		const char	*extra;
		int		 status;
	} cases[] = {
		{ "\"aud\":\"dynconf\\u0000evil\",\"scope\":\"admin\"", 401 },
		{ "\"aud\":[\"x\\u0000\",\"dynconf\"],\"scope\":\"admin\"", 401 },
		{ "\"aud\":\"dynconf\",\"scope\":\"admin\\u0000\"", 401 },
		{ "\"aud\":\"dynconf\",\"permissions\":[\"admin\\u0000x\"]", 401 },
		{ "\"aud\":\"dynconf\",\"scope\":\"admin\",\"n\":1e400", 401 },
		{ "\"aud\":\"dynconf\",\"scope\":\"admin\"", 204 },
	};
	char text[512], *t;
	long long now = clock_realtime_us() / 1000000;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(text, sizeof(text), "{\"exp\":%lld,%s}", now + 300,
		    cases[i].extra);
		t = make_jwt("HS256", text, SECRET);
		ck_assert_msg(call_jwt("/read", t) == cases[i].status, "%s: want %d",
		    text, cases[i].status);
		free(t);
	}
}
END_TEST

/* An exp json-c saturates (INT64_MAX) is far ahead, not overflowed into the past. */
START_TEST(test_exp_saturated)
{
	char *t;

	t = make_jwt("HS256", "{\"aud\":\"dynconf\",\"exp\":1e300,"
	    "\"scope\":\"admin\"}", SECRET);
	ck_assert_int_eq(call_jwt("/read", t), 204);
	free(t);
	t = make_jwt("HS256", "{\"aud\":\"dynconf\",\"exp\":9223372036854775807,"
	    "\"scope\":\"admin\"}", SECRET);
	ck_assert_int_eq(call_jwt("/read", t), 204);
	free(t);
}
END_TEST

START_TEST(test_es256_and_confusion)
{
	char *t = make_jwt("ES256", claims("\"scope\":\"flags:read\""), NULL);
	char pem[4096];
	FILE *fp;
	size_t n;

	ck_assert_int_eq(call_jwt("/read", t), 204);
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(call_jwt("/read", t), 401);
	free(t);
	/* The public key as an HMAC secret: refused (HS256 uses its own secret). */
	fp = fopen(conf.auth.jwt_public_keys, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(pem, 1, sizeof(pem) - 1, fp);
	pem[n] = '\0';
	fclose(fp);
	conf.auth.jwt_hs256_secret_file[0] = '\0';
	jwt_reset();
	t = make_jwt("HS256", claims("\"scope\":\"admin\""), pem);
	ck_assert_int_eq(call_jwt("/read", t), 401);
	free(t);
	t = make_jwt("HS256", claims("\"scope\":\"admin\""), SECRET);
	ck_assert_int_eq(call_jwt("/read", t), 401);
	free(t);
}
END_TEST

/* The sub a verified JWT hands on, given its "sub" member's JSON text. */
static void
check_sub(const char *sub_json, const char *expected)
{
	struct jwt_claims c;
	const char *why = NULL;
	long long exp = clock_realtime_us() / 1000000 + 60;
	char payload[900], *t;
	int pass;

	snprintf(payload, sizeof(payload), "{\"aud\":\"dynconf\",\"exp\":%lld,"
	    "\"scope\":\"flags:read admin\"%s%s}", exp, sub_json[0] ? ",\"sub\":" : "",
	    sub_json);
	t = make_jwt("HS256", payload, SECRET);
	/* Twice: verified, then from the cache. */
	for (pass = 0; pass < 2; pass++) {
		memset(&c, 0xa5, sizeof(c));
		ck_assert_msg(jwt_verify(t, &c, &why) == 0, "%s: %s", sub_json, why);
		ck_assert_int_eq(c.exp, exp);
		ck_assert_uint_eq(c.scopes, SCOPE_BIT(SCOPE_FLAGS_READ) |
		    SCOPE_BIT(SCOPE_ADMIN));
		ck_assert_str_eq(c.sub, expected);
	}
	free(t);
}

/* A JWT whose "sub" member is sub_json is refused as a whole. */
static void
check_sub_refused(const char *sub_json)
{
	struct jwt_claims c;
	const char *why = NULL;
	long long exp = clock_realtime_us() / 1000000 + 60;
	char payload[900], *t;

	snprintf(payload, sizeof(payload), "{\"aud\":\"dynconf\",\"exp\":%lld,"
	    "\"scope\":\"admin\",\"sub\":%s}", exp, sub_json);
	t = make_jwt("HS256", payload, SECRET);
	ck_assert_msg(jwt_verify(t, &c, &why) == -1, "%s accepted", sub_json);
	free(t);
}

START_TEST(test_claims_exp_and_sub)
{
	char long_sub[JWT_SUB_MAX + 4], json[JWT_SUB_MAX + 8];

	check_sub("\"alice\"", "alice");
	check_sub("\"auth0|5f\\u00e9\"", "auth0|5f\xc3\xa9");
	check_sub("", "");
	check_sub("42", "");
	/* Claims that are not UTF-8 (or NUL-bearing) fail as a body would. */
	check_sub_refused("\"a\xff\"");
	check_sub_refused("\"\xed\xa0\x80\"");
	check_sub_refused("\"a\\u0000b\"");
	memset(long_sub, 's', JWT_SUB_MAX);
	long_sub[JWT_SUB_MAX] = '\0';
	snprintf(json, sizeof(json), "\"%s\"", long_sub);
	check_sub(json, long_sub);
	snprintf(json, sizeof(json), "\"%ss\"", long_sub);
	check_sub(json, "");
}
END_TEST

/* An exp as far off as an int64 goes is no overflow, and no expiry. */
START_TEST(test_claims_far_exp)
{
	struct jwt_claims c;
	const char *why = NULL;
	char *t = make_jwt("HS256", "{\"aud\":\"dynconf\",\"exp\":"
	    "9223372036854775807,\"scope\":\"flags:read\"}", SECRET);

	ck_assert_msg(jwt_verify(t, &c, &why) == 0, "%s", why);
	ck_assert_int_eq(c.exp, INT64_MAX);
	ck_assert_int_eq(call_jwt("/read", t), 204);
	free(t);
}
END_TEST

/* The public EC key of the fixture as a JWK (x, y), with extra members. */
static char *
ec_jwk(const char *extra)
{
	unsigned char point[65];
	char x[64], y[64], *text;
	size_t len = 0;

	ck_assert_int_eq(EVP_PKEY_get_octet_string_param(ec_key,
	    OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len), 1);
	ck_assert_uint_eq(len, 65);
	b64url(point + 1, 32, x);
	b64url(point + 33, 32, y);
	ck_assert_int_gt(asprintf(&text, "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"%s}", x, y, extra), 0);
	return text;
}

/* RFC 7517 documents: usable keys kept with their kid, others skipped. */
START_TEST(test_jwks_parse)
{
	char *sig = ec_jwk(",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"ES256\"");
	char *enc = ec_jwk(",\"kid\":\"k2\",\"use\":\"enc\"");
	char *es384 = ec_jwk(",\"kid\":\"k3\",\"alg\":\"ES384\"");
	char *bare = ec_jwk("");
	char doc[4096], kids[4][128];
	EVP_PKEY *keys[4];
	int n, i;

	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s,%s,{\"kty\":\"oct\",\"k\":\"AA\"},"
	    "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},%s]}", sig, enc, es384,
	    bare);
	n = jwks_parse(doc, strlen(doc), keys, kids, 4);
	/* Only the signing ES256 key and the bare one; RSA under 2048 bits is out. */
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(kids[0], "k1");
	ck_assert_str_eq(kids[1], "");
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(EVP_PKEY_get_base_id(keys[i]), EVP_PKEY_EC);
		ck_assert_int_eq(EVP_PKEY_eq(keys[i], ec_key), 1);
		EVP_PKEY_free(keys[i]);
	}
	ck_assert_int_eq(jwks_parse("{\"keys\":{}}", 11, keys, kids, 4), -1);
	ck_assert_int_eq(jwks_parse("[]", 2, keys, kids, 4), -1);
	ck_assert_int_eq(jwks_parse("{\"keys\":[]}", 11, keys, kids, 4), 0);
	free(sig);
	free(enc);
	free(es384);
	free(bare);
}
END_TEST

Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_hs256_scopes);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_claims_strict);
	tcase_add_test(tc, test_exp_saturated);
	tcase_add_test(tc, test_es256_and_confusion);
	tcase_add_test(tc, test_claims_exp_and_sub);
	tcase_add_test(tc, test_claims_far_exp);
	tcase_add_test(tc, test_jwks_parse);
	suite_add_tcase(s, tc);
	return s;
}
