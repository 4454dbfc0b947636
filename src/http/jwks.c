/*
 * JWKS keys; see jwks.h.
 *
 * Who fetches: a process that needs a fetch (first use, schedule, unknown
 * kid) claims it by moving claimed_at_us forward with a compare-and-swap,
 * so a pool fetches once however many of its processes asked; the claim is
 * also the rate limit. The document lands in shared memory under a
 * sequence lock, and every process re-parses when the sequence moves.
 */
#include "config.h"

#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/json_check.h"
#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "http/jwks.h"
#include "http/jwt.h"

#define JWKS_TIMEOUT_MS 3000

static struct {
	uint64_t	 seq;		/* the shared document these came from */
	EVP_PKEY	*keys[JWKS_MAX_KEYS];
	char		 kids[JWKS_MAX_KEYS][128];
	size_t		 count;
} local;

int
jwks_enabled(void)
{
	return conf.auth.jwks_url[0] != '\0';
}

void
jwks_reset(void)
{
	size_t i;

	for (i = 0; i < local.count; i++)
		EVP_PKEY_free(local.keys[i]);
	memset(&local, 0, sizeof(local));
}

/* A base64url member of a JWK as a big-endian number; NULL when absent. */
static BIGNUM *
jwk_number(struct json_object *jwk, const char *name, size_t want)
{
	unsigned char raw[1024];
	struct json_object *v;
	size_t n;

	if (!json_object_object_get_ex(jwk, name, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    base64_decode(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), raw, sizeof(raw), &n,
	    BASE64_URL | BASE64_NOPAD) == -1 ||
	    n == 0 || (want != 0 && n != want))
		return NULL;
	return BN_bin2bn(raw, (int)n, NULL);
}

/* An EVP_PKEY of algorithm name from the parameters built in bld. */
static EVP_PKEY *
pkey_from(const char *name, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	EVP_PKEY *key = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return key;
}

static EVP_PKEY *
rsa_key(struct json_object *jwk)
{
	BIGNUM *n = jwk_number(jwk, "n", 0), *e = jwk_number(jwk, "e", 0);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *key = NULL;

	if (n != NULL && e != NULL && bld != NULL && BN_num_bits(n) >= 2048 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1)
		key = pkey_from("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return key;
}

static EVP_PKEY *
ec_key(struct json_object *jwk)
{
	BIGNUM *x = jwk_number(jwk, "x", 32), *y = jwk_number(jwk, "y", 32);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	struct json_object *crv;
	unsigned char point[65];
	EVP_PKEY *key = NULL;

	point[0] = 0x04;	/* uncompressed: x then y */
	if (x != NULL && y != NULL && bld != NULL &&
	    json_object_object_get_ex(jwk, "crv", &crv) &&
	    strcmp(json_object_get_string(crv), "P-256") == 0 &&
	    BN_bn2binpad(x, point + 1, 32) == 32 &&
	    BN_bn2binpad(y, point + 33, 32) == 32 &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
	    sizeof(point)) == 1)
		key = pkey_from("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(x);
	BN_free(y);
	return key;
}

/* One JWK as a key we can use, or NULL: wrong use, algorithm or type. */
static EVP_PKEY *
jwk_key(struct json_object *jwk)
{
	struct json_object *v;
	const char *kty;

	if (!json_object_is_type(jwk, json_type_object) ||
	    !json_object_object_get_ex(jwk, "kty", &v) ||
	    (kty = json_object_get_string(v)) == NULL)
		return NULL;
	if (json_object_object_get_ex(jwk, "use", &v) &&
	    strcmp(json_object_get_string(v), "sig") != 0)
		return NULL;
	if (strcmp(kty, "RSA") == 0)
		return json_object_object_get_ex(jwk, "alg", &v) &&
		    strcmp(json_object_get_string(v), "RS256") != 0 ? NULL : rsa_key(jwk);
	if (strcmp(kty, "EC") == 0)
		return json_object_object_get_ex(jwk, "alg", &v) &&
		    strcmp(json_object_get_string(v), "ES256") != 0 ? NULL : ec_key(jwk);
	return NULL;
}

int
jwks_parse(const char *doc, size_t len, EVP_PKEY **keys, char kids[][128],
    size_t max)
{
	struct json_object *root, *list, *v;
	size_t i, n, count = 0;

	if (json_check(doc, len, JSON_MAX_DEPTH) != JSON_CHECK_OK ||
	    (root = json_tokener_parse(doc)) == NULL)
		return -1;
	if (!json_object_object_get_ex(root, "keys", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		json_object_put(root);
		return -1;
	}
	n = json_object_array_length(list);
	for (i = 0; i < n && count < max; i++) {
		struct json_object *jwk = json_object_array_get_idx(list, i);

		if ((keys[count] = jwk_key(jwk)) == NULL)
			continue;
		kids[count][0] = '\0';
		if (json_object_object_get_ex(jwk, "kid", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(kids[count], 128, "%s", json_object_get_string(v));
		count++;
	}
	json_object_put(root);
	return (int)count;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *body = arg;

	if (body->len + size * n > SHARED_JWKS_MAX)
		return 0;	/* too large: the transfer fails */
	buf_append(body, data, size * n);
	return size * n;
}

/* GET auth.jwks_url into body; 0 on a 200 with a JWKS document. */
static int
fetch(struct buf *body)
{
	char error[CURL_ERROR_SIZE] = "";
	EVP_PKEY *keys[JWKS_MAX_KEYS];
	char kids[JWKS_MAX_KEYS][128];
	long status = 0;
	CURL *curl;
	CURLcode rc;
	int n, i;

	if ((curl = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(curl, CURLOPT_URL, conf.auth.jwks_url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)JWKS_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		log_warn("auth.jwks_url: %s; keeping the keys there are", error);
		return -1;
	}
	if (status != 200) {
		log_warn("auth.jwks_url: HTTP %ld; keeping the keys there are", status);
		return -1;
	}
	buf_putc(body, '\0');
	body->len--;
	if ((n = jwks_parse(body->data, body->len, keys, kids, JWKS_MAX_KEYS)) < 0) {
		log_warn("auth.jwks_url: not a JWKS document; keeping the keys "
		    "there are");
		return -1;
	}
	for (i = 0; i < n; i++)
		EVP_PKEY_free(keys[i]);
	return 0;
}

/* Put a fetched document into shared memory for every process. */
static void
publish(const struct buf *body)
{
	struct shared_jwks *j = &shared()->jwks;
	uint32_t idle = 0;

	if (!__atomic_compare_exchange_n(&j->writing, &idle, 1, 0,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;	/* another fetch is being written: it is as new */
	__atomic_fetch_add(&j->seq, 1, __ATOMIC_ACQ_REL);	/* odd: writing */
	memcpy(j->doc, body->data, body->len);
	j->len = (uint32_t)body->len;
	__atomic_store_n(&j->fetched_at_us, clock_monotonic_us(), __ATOMIC_RELEASE);
	__atomic_fetch_add(&j->seq, 1, __ATOMIC_ACQ_REL);	/* even: done */
	__atomic_store_n(&j->writing, 0, __ATOMIC_RELEASE);
}

/*
 * Claim the next fetch if the last attempt is at least interval_us old,
 * and fetch. 1 when a new document was published.
 */
static int
claim_and_fetch(int64_t interval_us)
{
	struct shared_jwks *j = &shared()->jwks;
	int64_t now = clock_monotonic_us();
	int64_t last = __atomic_load_n(&j->claimed_at_us, __ATOMIC_ACQUIRE);
	struct buf body;
	int ok;

	if (last != 0 && now - last < interval_us)
		return 0;
	if (!__atomic_compare_exchange_n(&j->claimed_at_us, &last, now, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;	/* another process is fetching */
	__atomic_fetch_add(&j->fetches, 1, __ATOMIC_RELAXED);
	buf_init(&body);
	if ((ok = fetch(&body) == 0))
		publish(&body);
	else
		__atomic_fetch_add(&j->failures, 1, __ATOMIC_RELAXED);
	buf_free(&body);
	return ok;
}

/* Parse the shared document again when it changed since this process did. */
static void
sync_local(void)
{
	struct shared_jwks *j = &shared()->jwks;
	static char copy[SHARED_JWKS_MAX + 1];
	uint64_t before, after;
	uint32_t len;
	int n, tries;

	for (tries = 0; tries < 100; tries++) {
		before = __atomic_load_n(&j->seq, __ATOMIC_ACQUIRE);
		if (before == local.seq || before == 0)
			return;
		if (before & 1)
			continue;	/* being written */
		len = j->len < SHARED_JWKS_MAX ? j->len : SHARED_JWKS_MAX;
		memcpy(copy, j->doc, len);
		after = __atomic_load_n(&j->seq, __ATOMIC_ACQUIRE);
		if (before == after)
			break;
	}
	if (tries == 100)
		return;
	copy[len] = '\0';
	jwks_reset();
	local.seq = before;
	if ((n = jwks_parse(copy, len, local.keys, local.kids, JWKS_MAX_KEYS)) > 0)
		local.count = (size_t)n;
	log_info("auth.jwks_url: %d key%s in use", n < 0 ? 0 : n, n == 1 ? "" : "s");
}

/* The keys of type named kid (or all of the type) into keys[]. */
static size_t
pick(const char *kid, int type, EVP_PKEY **keys, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < local.count && n < max; i++)
		if (EVP_PKEY_get_base_id(local.keys[i]) == type &&
		    (kid == NULL || strcmp(local.kids[i], kid) == 0))
			keys[n++] = local.keys[i];
	return n;
}

size_t
jwks_keys(const char *kid, int type, EVP_PKEY **keys, size_t max)
{
	struct shared_jwks *j = &shared()->jwks;
	int64_t fetched, now = clock_monotonic_us();
	size_t n;

	if (!jwks_enabled())
		return 0;
	fetched = __atomic_load_n(&j->fetched_at_us, __ATOMIC_ACQUIRE);
	/* First use, or time for the scheduled refresh (retried while failing). */
	if (fetched == 0 || now - fetched >= conf.auth.jwks_refresh * 1000000LL)
		claim_and_fetch(conf.auth.jwks_min_interval * 1000000LL);
	sync_local();
	if ((n = pick(kid, type, keys, max)) > 0 || kid == NULL)
		return n;
	/* An unknown kid: the provider may have rotated its keys. */
	if (claim_and_fetch(conf.auth.jwks_min_interval * 1000000LL))
		sync_local();
	return pick(kid, type, keys, max);
}

void
jwks_prefetch(void)
{
	if (jwks_enabled() &&
	    __atomic_load_n(&shared()->jwks.fetched_at_us, __ATOMIC_ACQUIRE) == 0)
		claim_and_fetch(conf.auth.jwks_min_interval * 1000000LL);
}
