/*
 * Authorization in the pipeline (auth.c) and JWT verification (jwt.c),
 * without a store: headers, HS256, RS256 (every key size taken) and ES256
 * tokens made here with OpenSSL, segments that are not base64url, "none",
 * algorithm confusion, exp/nbf/aud, scopes to 401/403, and the claims
 * (exp, sub) a verified token hands on.
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
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "base/base64.h"
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
static EVP_PKEY *rsa_key;	/* made by the RS256 tests only: slow */

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
	{ .method = HTTP_GET, .pattern = "/any", .scope = SCOPE_PUBLIC,
	    .handler = ok, .flags = ROUTE_ANY_CREDENTIAL, .summary = "whoami" },
};

/* The public half of key as a PEM file in dir; the malloc'ed path. */
static char *
write_public_pem(EVP_PKEY *key, const char *name)
{
	BUF_MEM *mem;
	BIO *bio = BIO_new(BIO_s_mem());
	char *path;

	PEM_write_bio_PUBKEY(bio, key);
	BIO_write(bio, "", 1);
	BIO_get_mem_ptr(bio, &mem);
	path = test_write_file(dir, name, mem->data);
	BIO_free(bio);
	return path;
}

static void
setup(void)
{
	char err[1024], *pem_path;

	test_clear_dynconf_env();
	ck_assert_msg(conf_load(&conf, NULL, err, sizeof(err)) == 0, "%s", err);
	dir = test_mkdtemp();
	free(test_write_file(dir, "secret", SECRET "\n"));
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_assert_ptr_nonnull(ec_key);
	pem_path = write_public_pem(ec_key, "ec.pem");
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
	EVP_PKEY_free(rsa_key);
	rsa_key = NULL;
	test_rmdir(dir);
	(void)conf_load(&conf, NULL, err, sizeof(err));
}

static void
b64url(const unsigned char *in, size_t len, char *out)
{
	base64_encode(in, len, out, BASE64_URL | BASE64_NOPAD);
}

/* A signature of input by key (RS256: rsa_key, ES256: DER, then r || s). */
static size_t
sign_pkey(EVP_PKEY *key, const char *input, unsigned char *sig, size_t max)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t len = max;

	ck_assert(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1);
	ck_assert(EVP_DigestSign(md, sig, &len, (const unsigned char *)input,
	    strlen(input)) == 1);
	EVP_MD_CTX_free(md);
	return len;
}

/* header.payload.signature with alg "HS256", "RS256", "ES256" or "none". */
static char *
make_jwt(const char *alg, const char *payload, const char *secret)
{
	char header[64], h64[128], p64[1024], *input, *token;
	unsigned char sig[1024];
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
	} else if (strcmp(alg, "RS256") == 0) {
		siglen = sign_pkey(rsa_key, input, sig, sizeof(sig));
	} else if (strcmp(alg, "ES256") == 0) {
		unsigned char der[128];
		const unsigned char *p = der;
		size_t derlen = sign_pkey(ec_key, input, der, sizeof(der));
		ECDSA_SIG *es;

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
 * ROUTE_ANY_CREDENTIAL (GET /v1/whoami): a valid credential is needed, but
 * no scope, not even one dynconf knows; without one it is 401 as anywhere.
 */
START_TEST(test_any_credential)
{
	char *none = make_jwt("HS256", claims("\"scope\":\"openid\""), SECRET);
	char *read = make_jwt("HS256", claims("\"scope\":\"flags:read\""), SECRET);
	char *forged = make_jwt("HS256", claims("\"scope\":\"admin\""),
	    "another secret of 32 bytes......");
	char www[256];

	ck_assert_int_eq(call("GET", "/any", NULL, www, sizeof(www)), 401);
	ck_assert_str_eq(www, "Bearer");
	ck_assert_int_eq(call("GET", "/any", "Bearer nothing-known", www,
	    sizeof(www)), 401);
	ck_assert_int_eq(call_jwt("/any", forged), 401);
	ck_assert_int_eq(calls, 0);
	ck_assert_int_eq(call_jwt("/any", none), 204);
	ck_assert_int_eq(call_jwt("/any", read), 204);
	ck_assert_int_eq(call_jwt("/read", none), 403);
	ck_assert_int_eq(calls, 2);
	free(none);
	free(read);
	free(forged);
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

/*
 * RS256 with every RSA size it takes, 4096 bits included: a 512-byte
 * signature is 683 characters of base64url, which the decoder's bound
 * must not count as 513 bytes.
 */
static const int rsa_bits[] = { 2048, 4096 };

START_TEST(test_rs256_key_sizes)
{
	char *pem, *t, *tampered;

	rsa_key = EVP_RSA_gen((unsigned)rsa_bits[_i]);
	ck_assert_ptr_nonnull(rsa_key);
	pem = write_public_pem(rsa_key, "rsa.pem");
	snprintf(conf.auth.jwt_public_keys, sizeof(conf.auth.jwt_public_keys),
	    "%s", pem);
	free(pem);
	jwt_reset();
	t = make_jwt("RS256", claims("\"scope\":\"flags:read\""), NULL);
	ck_assert_msg(call_jwt("/read", t) == 204, "RS256 with %d bits refused",
	    rsa_bits[_i]);
	tampered = xstrdup(t);
	tampered[strlen(tampered) - 3] ^= 1;
	ck_assert_int_eq(call_jwt("/read", tampered), 401);
	free(tampered);
	free(t);
}
END_TEST

/* An RSA public key of bits bits (any odd modulus: never used to verify). */
static EVP_PKEY *
rsa_public_of_size(int bits)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *n = BN_new(), *e = BN_new();
	OSSL_PARAM *params;
	EVP_PKEY *key = NULL;

	ck_assert(BN_set_bit(n, bits - 1) == 1 && BN_set_bit(n, 0) == 1 &&
	    BN_set_word(e, 65537) == 1);
	ck_assert(OSSL_PARAM_BLD_push_BN(bld, "n", n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, "e", e) == 1);
	params = OSSL_PARAM_BLD_to_param(bld);
	ck_assert(EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1);
	ck_assert_int_eq(EVP_PKEY_get_bits(key), bits);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return key;
}

/*
 * Only RSA keys whose signatures fit the verifier are loaded: up to 8192
 * bits. A larger one would make every RS256 token "malformed"; refused at
 * load, RS256 is off instead, and the log says why.
 */
START_TEST(test_rs256_key_bounds)
{
	static const struct {
		int		 bits;
		const char	*why;	/* of an RS256 token signed by another key */
	} cases[] = {
		{ 2047, "algorithm not accepted" },
		{ 8192, "bad signature" },
		{ 8200, "algorithm not accepted" },
	};
	struct jwt_claims c;
	EVP_PKEY *big;
	const char *why;
	char *pem, *t;
	size_t i;

	rsa_key = EVP_RSA_gen(2048);
	ck_assert_ptr_nonnull(rsa_key);
	t = make_jwt("RS256", claims("\"scope\":\"flags:read\""), NULL);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		big = rsa_public_of_size(cases[i].bits);
		pem = write_public_pem(big, "big.pem");
		snprintf(conf.auth.jwt_public_keys,
		    sizeof(conf.auth.jwt_public_keys), "%s", pem);
		jwt_reset();
		ck_assert_int_eq(jwt_verify(t, &c, &why), -1);
		ck_assert_msg(strcmp(why, cases[i].why) == 0, "%d bits: %s, want %s",
		    cases[i].bits, why, cases[i].why);
		free(pem);
		EVP_PKEY_free(big);
	}
	free(t);
}
END_TEST

/* Segments that are not unpadded base64url are refused as malformed. */
START_TEST(test_segments_malformed)
{
	static const struct {
		const char	*sig_suffix;	/* appended to a good signature */
		const char	*why;
	} cases[] = {
		{ "=", "malformed signature" },		/* padding */
		{ "A", "bad signature" },		/* 44 characters: 33 bytes */
		{ "AA", "malformed signature" },	/* 45: 4n + 1 */
		{ "+", "malformed signature" },		/* the standard alphabet */
		{ "/", "malformed signature" },
		{ " ", "malformed signature" },
	};
	struct jwt_claims c;
	const char *why;
	char *t, *bad;
	size_t i, n;

	t = make_jwt("HS256", claims("\"scope\":\"flags:read\""), SECRET);
	ck_assert_int_eq(jwt_verify(t, &c, &why), 0);
	jwt_reset();
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		n = strlen(t) + strlen(cases[i].sig_suffix) + 1;
		bad = xmalloc(n);
		snprintf(bad, n, "%s%s", t, cases[i].sig_suffix);
		ck_assert_msg(jwt_verify(bad, &c, &why) == -1, "%s accepted", bad);
		ck_assert_msg(strcmp(why, cases[i].why) == 0, "\"%s\": %s, want %s",
		    cases[i].sig_suffix, why, cases[i].why);
		free(bad);
	}
	/* A padded header. */
	n = strlen(t) + 2;
	bad = xmalloc(n);
	snprintf(bad, n, "%.*s=%s", (int)strcspn(t, "."), t, t + strcspn(t, "."));
	ck_assert_int_eq(jwt_verify(bad, &c, &why), -1);
	ck_assert_str_eq(why, "malformed header");
	free(bad);
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
	tcase_add_test(tc, test_any_credential);
	tcase_add_test(tc, test_claims_strict);
	tcase_add_test(tc, test_exp_saturated);
	tcase_add_test(tc, test_es256_and_confusion);
	tcase_add_test(tc, test_claims_exp_and_sub);
	tcase_add_test(tc, test_claims_far_exp);
	tcase_add_test(tc, test_segments_malformed);
	tcase_add_test(tc, test_jwks_parse);
	suite_add_tcase(s, tc);

	/* RSA key generation takes seconds, 4096 bits most. */
	tc = tcase_create("rs256");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_rs256_key_sizes, 0, (int)ARRAY_SIZE(rsa_bits));
	tcase_add_test(tc, test_rs256_key_bounds);
	suite_add_tcase(s, tc);
	return s;
}
