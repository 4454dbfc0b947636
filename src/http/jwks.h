/*
 * Public keys from an identity provider's JWKS document (RFC 7517), for
 * the JWTs it signs (API.md §2): auth.jwks_url names the document (Auth0's
 * https://TENANT/.well-known/jwks.json, Keycloak's, Okta's). RSA keys
 * (RS256) and EC P-256 keys (ES256) are used; others are skipped.
 *
 * The document is fetched when the pool starts (and on first use if that
 * failed), then again every auth.jwks_refresh
 * seconds, and when a token names a kid it lacks, at most once every
 * auth.jwks_min_interval seconds for the whole pool (a flood of made-up
 * kids costs the provider one request per interval). One process fetches
 * and shares the document through the pool's shared memory; each process
 * parses it once per change. A failed fetch keeps the keys there are: a
 * node that cannot reach the provider keeps accepting the tokens it could.
 */
#ifndef DYNCONF_JWKS_H
#define DYNCONF_JWKS_H

#include <stddef.h>

#include <openssl/evp.h>

#define JWKS_MAX_KEYS 16

/* Is auth.jwks_url set? */
int	jwks_enabled(void);

/*
 * The keys a token can be checked with, of OpenSSL key type type
 * (EVP_PKEY_RSA or EVP_PKEY_EC), into keys[]: the one named kid (fetching
 * the document again when it is not known, as above), or with kid NULL
 * every key of the type. Returns how many; the keys stay valid until the
 * next call.
 */
size_t	jwks_keys(const char *kid, int type, EVP_PKEY **keys, size_t max);

/*
 * Fetch the document now if the pool never has (a responder starting):
 * one process fetches, the others go on at once.
 */
void	jwks_prefetch(void);

/* Forget the parsed keys (a configuration reload; tests). */
void	jwks_reset(void);

/*
 * Parse a JWKS document into keys (new references the caller frees) and
 * their kids (copied, NUL-terminated, "" when absent): how many, or -1
 * when it is not a JWKS document. Exposed for the tests.
 */
int	jwks_parse(const char *doc, size_t len, EVP_PKEY **keys,
	    char kids[][128], size_t max);

#endif
