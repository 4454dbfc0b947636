/*
 * JWT verification; see jwt.h.
 *
 * Keys are loaded on first use in each process and kept until jwt_reset().
 * A verified token is cached by the SHA-256 of its text (a direct-mapped
 * table, JWT_CACHE_SLOTS entries) with its exp and nbf, so the signature
 * check, the costly part for RS256, runs once per token and process rather
 * than once per request; the times are checked again on every hit.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "base/base64.h"
#include "base/conf.h"
#include "base/digest.h"
#include "base/json_check.h"
#include "base/log.h"
#include "base/util.h"
#include "http/api.h"
#include "http/jwks.h"
#include "http/jwt.h"
#include "model/scope.h"

#define JWT_MAX_LEN		8192
#define JWT_MAX_KEYS		8
#define JWT_SECRET_MAX		1024
#define JWT_SECRET_MIN		32	/* RFC 7518 §3.2: no shorter than the hash */
#define JWT_CACHE_SLOTS		64
/* RS256 keys up to this size: their signatures fit check_signature's buffer. */
#define JWT_RSA_MIN_BITS	2048
#define JWT_RSA_MAX_BITS	8192
/* Segments are base64url without padding (RFC 7515 §2). */
#define JWT_BASE64		(BASE64_URL | BASE64_NOPAD)

static struct {
	int		 loaded;
	unsigned char	 secret[JWT_SECRET_MAX];
	size_t		 secret_len;	/* 0: no HS256 */
	EVP_PKEY	*keys[JWT_MAX_KEYS];
	size_t		 nkeys;
	int		 has_rsa, has_ec;
} ring;

struct cached {
	unsigned char	 hash[DIGEST_SHA256_LEN];
	int64_t		 nbf;
	struct jwt_claims claims;
	int		 used;
};
static struct cached cache[JWT_CACHE_SLOTS];

static void
load_secret(const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL) {
		log_error("auth.jwt_hs256_secret_file %s: %s", path, strerror(errno));
		return;
	}
	n = fread(ring.secret, 1, sizeof(ring.secret), fp);
	fclose(fp);
	while (n > 0 && (ring.secret[n - 1] == '\n' || ring.secret[n - 1] == '\r'))
		n--;
	if (n < JWT_SECRET_MIN) {
		log_error("auth.jwt_hs256_secret_file %s: shorter than %d bytes; "
		    "HS256 is off", path, JWT_SECRET_MIN);
		explicit_bzero(ring.secret, sizeof(ring.secret));
		return;
	}
	ring.secret_len = n;
}

static void
load_public_key(const char *path)
{
	FILE *fp;
	EVP_PKEY *key;
	int type;

	if (ring.nkeys == JWT_MAX_KEYS) {
		log_error("auth.jwt_public_keys: more than %d keys; %s ignored",
		    JWT_MAX_KEYS, path);
		return;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		log_error("auth.jwt_public_keys %s: %s", path, strerror(errno));
		return;
	}
	key = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	fclose(fp);
	if (key == NULL) {
		log_error("auth.jwt_public_keys %s: not a PEM public key", path);
		return;
	}
	type = EVP_PKEY_get_base_id(key);
	if (type == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) >= JWT_RSA_MIN_BITS &&
	    EVP_PKEY_get_bits(key) <= JWT_RSA_MAX_BITS) {
		ring.has_rsa = 1;
	} else if (type == EVP_PKEY_EC && EVP_PKEY_get_bits(key) == 256) {
		ring.has_ec = 1;
	} else {
		log_error("auth.jwt_public_keys %s: neither RSA (%d to %d bits) "
		    "nor EC P-256", path, JWT_RSA_MIN_BITS, JWT_RSA_MAX_BITS);
		EVP_PKEY_free(key);
		return;
	}
	ring.keys[ring.nkeys++] = key;
}

static void
load_keys(void)
{
	char list[CONF_STRING_MAX], *path, *save = NULL;

	ring.loaded = 1;
	if (conf.auth.jwt_hs256_secret_file[0] != '\0')
		load_secret(conf.auth.jwt_hs256_secret_file);
	snprintf(list, sizeof(list), "%s", conf.auth.jwt_public_keys);
	for (path = strtok_r(list, " ,\t", &save); path != NULL;
	    path = strtok_r(NULL, " ,\t", &save))
		load_public_key(path);
}

void
jwt_reset(void)
{
	size_t i;

	for (i = 0; i < ring.nkeys; i++)
		EVP_PKEY_free(ring.keys[i]);
	explicit_bzero(&ring, sizeof(ring));
	explicit_bzero(cache, sizeof(cache));
	jwks_reset();
}

int
jwt_enabled(void)
{
	if (!ring.loaded)
		load_keys();
	return ring.secret_len > 0 || ring.nkeys > 0 || jwks_enabled();
}

/*
 * A decoded segment parsed as a JSON object; NULL when it is not one, or
 * when it breaks a rule a request body keeps (API.md §1): "iss":
 * "issuer\u0000..." must not compare equal to "issuer".
 */
static struct json_object *
segment_json(const char *in, size_t len)
{
	unsigned char raw[JWT_MAX_LEN];
	struct json_object *obj;
	size_t n;

	if (base64_decode(in, len, raw, sizeof(raw) - 1, &n, JWT_BASE64) == -1 ||
	    memchr(raw, '\0', n) != NULL ||
	    json_check_ex((const char *)raw, n, JSON_MAX_DEPTH,
	    JSON_CHECK_REQUEST, NULL) != JSON_CHECK_OK)
		return NULL;
	raw[n] = '\0';
	obj = json_tokener_parse((const char *)raw);
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

static int
verify_hs256(const char *input, size_t len, const unsigned char *sig,
    size_t siglen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (ring.secret_len == 0 || HMAC(EVP_sha256(), ring.secret,
	    (int)ring.secret_len, (const unsigned char *)input, len, mac,
	    &maclen) == NULL)
		return -1;
	return maclen == siglen && CRYPTO_memcmp(mac, sig, siglen) == 0 ? 0 : -1;
}

/* JOSE ES256 signatures are r || s; OpenSSL verifies DER. */
static int
es256_der(const unsigned char *sig, size_t siglen, unsigned char **der,
    int *derlen)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;

	if (siglen != 64 || (es = ECDSA_SIG_new()) == NULL)
		return -1;
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return -1;
	}
	*der = NULL;
	*derlen = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	return *derlen > 0 ? 0 : -1;
}

/* Does one of keys[0..n) of the type verify the signature? 0, else -1. */
static int
verify_with(EVP_PKEY *const *keys, size_t n, int type, const char *input,
    size_t len, const unsigned char *sig, size_t siglen)
{
	unsigned char *der = NULL;
	int derlen = 0, rc = -1;
	size_t i;

	if (type == EVP_PKEY_EC) {
		if (es256_der(sig, siglen, &der, &derlen) == -1)
			return -1;
		sig = der;
		siglen = (size_t)derlen;
	}
	for (i = 0; i < n && rc == -1; i++) {
		EVP_MD_CTX *md;

		if (EVP_PKEY_get_base_id(keys[i]) != type ||
		    (md = EVP_MD_CTX_new()) == NULL)
			continue;
		if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
		    keys[i]) == 1 && EVP_DigestVerify(md, sig, siglen,
		    (const unsigned char *)input, len) == 1)
			rc = 0;
		EVP_MD_CTX_free(md);
	}
	OPENSSL_free(der);
	return rc;
}

/*
 * The configured PEM keys of the type, then the JWKS keys: the one the
 * header's kid names, or every one of the type when it names none.
 */
static int
verify_pkey(int type, const char *kid, const char *input, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_PKEY *keys[JWKS_MAX_KEYS];
	size_t n;

	if (verify_with(ring.keys, ring.nkeys, type, input, len, sig, siglen) == 0)
		return 0;
	n = jwks_keys(kid, type, keys, JWKS_MAX_KEYS);
	return verify_with(keys, n, type, input, len, sig, siglen);
}

/* The header's kid, when it is a string of at most 127 bytes; else NULL. */
static const char *
header_kid(struct json_object *header, char *out, size_t outlen)
{
	struct json_object *kid;

	if (!json_object_object_get_ex(header, "kid", &kid) ||
	    !json_object_is_type(kid, json_type_string) ||
	    (size_t)json_object_get_string_len(kid) >= outlen)
		return NULL;
	memcpy(out, json_object_get_string(kid),
	    (size_t)json_object_get_string_len(kid) + 1);
	return out;
}

/* The header names an algorithm we hold a key for, and nothing critical. */
static int
check_signature(const char *token, const char *dot1, const char *dot2,
    const char **why)
{
	unsigned char sig[JWT_RSA_MAX_BITS / 8];
	struct json_object *header, *alg, *crit;
	const char *name, *kid;
	char kidbuf[128];
	size_t siglen, inlen = (size_t)(dot2 - token);
	int rc = -1;

	if ((header = segment_json(token, (size_t)(dot1 - token))) == NULL) {
		*why = "malformed header";
		return -1;
	}
	*why = "algorithm not accepted";
	if (!json_object_object_get_ex(header, "alg", &alg) ||
	    !json_object_is_type(alg, json_type_string) ||
	    json_object_object_get_ex(header, "crit", &crit))
		goto done;
	name = json_object_get_string(alg);
	if (base64_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig),
	    &siglen, JWT_BASE64) == -1) {
		*why = "malformed signature";
		goto done;
	}
	*why = "bad signature";
	kid = header_kid(header, kidbuf, sizeof(kidbuf));
	if (strcmp(name, "HS256") == 0 && ring.secret_len > 0)
		rc = verify_hs256(token, inlen, sig, siglen);
	else if (strcmp(name, "RS256") == 0 && (ring.has_rsa || jwks_enabled()))
		rc = verify_pkey(EVP_PKEY_RSA, kid, token, inlen, sig, siglen);
	else if (strcmp(name, "ES256") == 0 && (ring.has_ec || jwks_enabled()))
		rc = verify_pkey(EVP_PKEY_EC, kid, token, inlen, sig, siglen);
	else
		*why = "algorithm not accepted";
done:
	json_object_put(header);
	return rc;
}

static int
audience_matches(struct json_object *aud)
{
	size_t i, n;

	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), conf.auth.jwt_audience) == 0;
	if (!json_object_is_type(aud, json_type_array))
		return 0;
	n = json_object_array_length(aud);
	for (i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(aud, i));

		if (s != NULL && strcmp(s, conf.auth.jwt_audience) == 0)
			return 1;
	}
	return 0;
}

static unsigned
claim_scopes(struct json_object *claims)
{
	struct json_object *scope, *perms;
	unsigned set = 0;
	enum scope s;

	if (json_object_object_get_ex(claims, "scope", &scope) &&
	    json_object_is_type(scope, json_type_string)) {
		char list[1024], *word, *save = NULL;

		snprintf(list, sizeof(list), "%s", json_object_get_string(scope));
		for (word = strtok_r(list, " ", &save); word != NULL;
		    word = strtok_r(NULL, " ", &save))
			if (scope_parse(word, &s) == 0)
				set |= SCOPE_BIT(s);
	}
	if (json_object_object_get_ex(claims, "permissions", &perms) &&
	    json_object_is_type(perms, json_type_array)) {
		size_t i, n = json_object_array_length(perms);

		for (i = 0; i < n; i++) {
			const char *p = json_object_get_string(
			    json_object_array_get_idx(perms, i));

			if (p != NULL && scope_parse(p, &s) == 0)
				set |= SCOPE_BIT(s);
		}
	}
	return set;
}

/*
 * The sub, when it can be passed on as it is (into a token's created_by):
 * a string of UTF-8 text without NUL, short enough. json-c checked no
 * UTF-8 here, so the strict check runs on the string's JSON form.
 */
static void
claim_sub(struct json_object *claims, char *out, size_t outlen)
{
	struct json_object *sub;
	const char *text, *json;
	size_t len;

	out[0] = '\0';
	if (!json_object_object_get_ex(claims, "sub", &sub) ||
	    !json_object_is_type(sub, json_type_string))
		return;
	text = json_object_get_string(sub);
	len = (size_t)json_object_get_string_len(sub);
	json = json_object_to_json_string_ext(sub, JSON_C_TO_STRING_PLAIN);
	if (len >= outlen || strlen(text) != len ||
	    json_check(json, strlen(json), 1) != JSON_CHECK_OK)
		return;
	memcpy(out, text, len + 1);
}

static int
is_number(struct json_object *o)
{
	return json_object_is_type(o, json_type_int) ||
	    json_object_is_type(o, json_type_double);
}

/* exp and nbf against now, with the leeway. */
static int
times_hold(int64_t exp, int64_t nbf, const char **why)
{
	int64_t now = clock_realtime_us() / 1000000;

	/* exp may be INT64_MAX (json-c saturates 1e300): nothing added to it. */
	if (now - conf.auth.jwt_leeway > exp) {
		*why = "expired";
		return 0;
	}
	if (nbf != 0 && now + conf.auth.jwt_leeway < nbf) {
		*why = "not valid yet";
		return 0;
	}
	return 1;
}

/* The claims: exp (required), nbf, iss and aud when configured. */
static int
check_claims(const char *payload, size_t len, struct cached *out,
    const char **why)
{
	struct json_object *claims, *exp, *nbf = NULL, *v;
	int rc = -1;

	if ((claims = segment_json(payload, len)) == NULL) {
		*why = "malformed claims";
		return -1;
	}
	*why = "no exp claim";
	if (!json_object_object_get_ex(claims, "exp", &exp) || !is_number(exp))
		goto done;
	*why = "bad nbf claim";
	if (json_object_object_get_ex(claims, "nbf", &nbf) && !is_number(nbf))
		goto done;
	*why = "wrong issuer";
	if (conf.auth.jwt_issuer[0] != '\0' && (!json_object_object_get_ex(claims,
	    "iss", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), conf.auth.jwt_issuer) != 0))
		goto done;
	*why = "wrong audience";
	if (conf.auth.jwt_audience[0] != '\0' && (!json_object_object_get_ex(claims,
	    "aud", &v) || !audience_matches(v)))
		goto done;
	out->claims.exp = json_object_get_int64(exp);
	out->nbf = nbf != NULL ? json_object_get_int64(nbf) : 0;
	out->claims.scopes = claim_scopes(claims);
	claim_sub(claims, out->claims.sub, sizeof(out->claims.sub));
	rc = times_hold(out->claims.exp, out->nbf, why) ? 0 : -1;
done:
	json_object_put(claims);
	return rc;
}

int
jwt_verify(const char *token, struct jwt_claims *claims, const char **why)
{
	const char *dot1, *dot2;
	struct cached fresh, *slot;
	size_t len = strlen(token);

	*why = "not a JWT";
	if (!jwt_enabled() || len > JWT_MAX_LEN ||
	    (dot1 = strchr(token, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL || strchr(dot2 + 1, '.') != NULL)
		return -1;
	memset(&fresh, 0, sizeof(fresh));
	digest_sha256(token, len, fresh.hash);
	slot = &cache[fresh.hash[0] % JWT_CACHE_SLOTS];
	if (slot->used && CRYPTO_memcmp(slot->hash, fresh.hash,
	    sizeof(fresh.hash)) == 0) {
		if (!times_hold(slot->claims.exp, slot->nbf, why))
			return -1;
		*claims = slot->claims;
		return 0;
	}
	if (check_signature(token, dot1, dot2, why) == -1 ||
	    check_claims(dot1 + 1, (size_t)(dot2 - dot1 - 1), &fresh, why) == -1)
		return -1;
	fresh.used = 1;
	*slot = fresh;
	*claims = fresh.claims;
	return 0;
}
