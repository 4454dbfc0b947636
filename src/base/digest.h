/*
 * SHA-256 for the hot paths (credential lookups, JWT cache keys, splits).
 * OpenSSL 3 looks the digest up in its provider store on every one-shot
 * SHA256() call, which cost more than the hashing of a 64-byte token:
 * here it is fetched once per thread and its context reused.
 */
#ifndef DYNCONF_DIGEST_H
#define DYNCONF_DIGEST_H

#include <stddef.h>

#include <openssl/evp.h>

#define DIGEST_SHA256_LEN	32
#define DIGEST_SHA256_HEX_LEN	64

/* A context ready for EVP_DigestUpdate/Final_ex: owned here, not freed. */
EVP_MD_CTX *digest_sha256_begin(void);
void	digest_sha256(const void *data, size_t len,
	    unsigned char out[DIGEST_SHA256_LEN]);
/* Lowercase hex and a NUL: out holds DIGEST_SHA256_HEX_LEN + 1 bytes. */
void	digest_sha256_hex(const void *data, size_t len, char *out);

#endif
