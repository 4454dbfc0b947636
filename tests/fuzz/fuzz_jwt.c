/*
 * libFuzzer harness for JWT verification (src/http/jwt.c): jwt_verify with
 * an HS256 secret, an RS256 and an ES256 public key, an issuer and an
 * audience configured (fuzz_common.c). Random bytes never carry a valid
 * signature, so the first byte of the input says what the rest is, and
 * two of the three ways sign it here, to get the claims past the
 * signature:
 *
 *	0 (a first byte that is 0 modulo 3, '0' in the seeds): the token
 *	  text itself, as it would follow "Bearer ";
 *	1 ('1'): header.payload as text, signed here with HS256;
 *	2 ('2'): the claims' JSON; the next byte picks HS256, RS256 or
 *	  ES256 (modulo 3), and the token is made and signed here.
 *
 * Every verdict is checked: a refusal says why, and a token signed here
 * under our own header is never refused for its signature or its header;
 * a verified token's sub is UTF-8 text without NUL, its scopes are known
 * ones; and verifying again (from the cache) gives the same verdict.
 * FUZZ_VERBOSE=1 prints each verdict (to see what seeds do).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "http/jwt.h"
#include "model/scope.h"

#include "fuzz_common.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_conf();
	if (!jwt_enabled()) {
		fprintf(stderr, "fuzz_jwt: no JWT key loaded\n");
		abort();
	}
	return 0;
}

/* Refusals a token with our header and our signature must never get. */
static int
about_the_signature(const char *why)
{
	return strcmp(why, "malformed header") == 0 ||
	    strcmp(why, "algorithm not accepted") == 0 ||
	    strcmp(why, "malformed signature") == 0 ||
	    strcmp(why, "bad signature") == 0;
}

static void
check_claims(const struct jwt_claims *claims)
{
	const unsigned char *p = (const unsigned char *)claims->sub;
	const unsigned char *end = p + strlen(claims->sub);
	size_t n;

	if (end - p > JWT_SUB_MAX)
		abort();
	for (; p < end; p += n)
		if ((n = utf8_sequence(p, end)) == 0) {
			fprintf(stderr, "sub is not UTF-8: %s\n", claims->sub);
			abort();
		}
	if (claims->scopes & ~((SCOPE_BIT(SCOPE_COUNT) - 1) & ~SCOPE_BIT(SCOPE_PUBLIC)))
		abort();
	if (claims->exp <= 0)
		abort();
}

/*
 * Only the clock may change a verdict between two verifications: a token
 * verified whose exp is at hand, or one refused as expired or not yet valid.
 */
static int
clock_edge(int rc, const struct jwt_claims *claims, const char *why)
{
	int64_t now = clock_realtime_us() / 1000000;

	if (rc == 0)
		return claims->exp - now <= 2 && claims->exp - now >= -2;
	return strcmp(why, "expired") == 0 || strcmp(why, "not valid yet") == 0;
}

static void
verify(const char *token, int signed_here)
{
	struct jwt_claims claims, again;
	const char *why = NULL, *why_again = NULL;
	int rc, rc_again;

	memset(&claims, 0x5a, sizeof(claims));
	rc = jwt_verify(token, &claims, &why);
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "fuzz_jwt: %s\n", rc == 0 ? "verified" : why);
	if (rc == -1) {
		if (why == NULL || *why == '\0')
			abort();
		if (signed_here && about_the_signature(why)) {
			fprintf(stderr, "a token signed with the configured key "
			    "was refused: %s\n%s\n", why, token);
			abort();
		}
	} else if (rc == 0)
		check_claims(&claims);
	else
		abort();
	rc_again = jwt_verify(token, &again, &why_again);
	if (rc_again != rc && !clock_edge(rc, &claims, why)) {
		fprintf(stderr, "verified twice: %d (%s), then %d (%s)\n", rc,
		    rc == 0 ? "ok" : why, rc_again, rc_again == 0 ? "ok" : why_again);
		abort();
	}
	if (rc == 0 && rc_again == 0 && (again.scopes != claims.scopes ||
	    again.exp != claims.exp || strcmp(again.sub, claims.sub) != 0))
		abort();
}

/* Does the token start with our own HS256 header? */
static int
our_hs256_header(const char *token)
{
	static struct buf header;
	static const char json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

	if (header.len == 0) {
		fuzz_b64url(&header, json, strlen(json));
		buf_putc(&header, '.');
	}
	return strncmp(token, header.data, header.len) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf token;
	enum fuzz_alg alg;

	if (size == 0 || size > 64 * 1024)
		return 0;
	buf_init(&token);
	switch (data[0] % 3) {
	case 0:
		/* As a header's value would be: up to a NUL. */
		buf_append(&token, data + 1, strnlen((const char *)data + 1,
		    size - 1));
		buf_putc(&token, '\0');
		verify(token.data, 0);
		break;
	case 1:
		buf_append(&token, data + 1, strnlen((const char *)data + 1,
		    size - 1));
		buf_putc(&token, '\0');
		token.len--;
		fuzz_jwt_sign(&token, FUZZ_HS256, token.data, token.len);
		/* Two dots in what we signed make a token of four parts. */
		verify(token.data, our_hs256_header(token.data) &&
		    strchr(strchr(token.data, '.') + 1, '.') ==
		    strrchr(token.data, '.'));
		break;
	default:
		if (size < 2)
			break;
		alg = (enum fuzz_alg)(data[1] % 3);
		fuzz_jwt_make(&token, alg, (const char *)data + 2, size - 2);
		verify(token.data, 1);
		break;
	}
	buf_free(&token);
	return 0;
}
