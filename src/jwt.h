/*
 * JWT bearer tokens (RFC 7519, compact JWS) verified with OpenSSL against
 * the keys [auth] configures: HS256 with jwt_hs256_secret_file, RS256 and
 * ES256 with the PEM public keys of jwt_public_keys (several, for
 * rotation). Only algorithms with a configured key of their own type are
 * accepted, so "none" and algorithm confusion (an RSA public key used as an
 * HMAC secret) never verify.
 */
#ifndef DYNCONF_JWT_H
#define DYNCONF_JWT_H

/* Is any JWT key configured (and loaded)? */
int	jwt_enabled(void);

/*
 * Verify token: signature, exp/nbf (with auth.jwt_leeway), iss and aud when
 * configured. On success returns 0 with *scopes the scopes named by its
 * "scope" and "permissions" claims (implications not applied). On failure
 * returns -1 with *why a short reason that never quotes the token.
 * Verified tokens are remembered by their SHA-256 until they expire.
 */
int	jwt_verify(const char *token, unsigned *scopes, const char **why);

/* Forget the loaded keys and the cache (after a configuration reload). */
void	jwt_reset(void);

#endif
