/*
 * JWT bearer tokens (RFC 7519, compact JWS) verified with OpenSSL against
 * the keys [auth] configures: HS256 with jwt_hs256_secret_file, RS256 and
 * ES256 with the PEM public keys of jwt_public_keys (several, for
 * rotation) and with the keys of the JWKS document at jwks_url, chosen by
 * the token's kid (jwks.h). Only algorithms with a configured key of their own type are
 * accepted, so "none" and algorithm confusion (an RSA public key used as an
 * HMAC secret) never verify.
 */
#ifndef DYNCONF_JWT_H
#define DYNCONF_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "model/token.h"

/* The longest sub kept; a longer one is verified but not passed on. */
#define JWT_SUB_MAX	TOKEN_SUBJECT_MAX

/* What a verified token says. */
struct jwt_claims {
	unsigned	 scopes;	/* "scope" and "permissions"; implications not applied */
	int64_t		 exp;		/* unix seconds */
	char		 sub[JWT_SUB_MAX + 1];	/* "" when absent or unusable */
};

/* Is any JWT key configured (and loaded)? */
int	jwt_enabled(void);

/*
 * Verify token: signature, exp/nbf (with auth.jwt_leeway), iss and aud when
 * configured. On success returns 0 with *claims filled in. The sub is kept
 * only when it is UTF-8 text without NUL of at most JWT_SUB_MAX bytes. On
 * failure returns -1 with *why a short reason that never quotes the token.
 * Verified tokens are remembered by their SHA-256 until they expire.
 */
int	jwt_verify(const char *token, struct jwt_claims *claims, const char **why);

/* Forget the loaded keys and the cache (after a configuration reload). */
void	jwt_reset(void);

#endif
