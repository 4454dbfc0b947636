/*
 * SHA-256, the one helper of the code base: token and SDK key hashes,
 * JWT cache keys, split buckets. OpenSSL 3 looks the digest up in its
 * provider store on every one-shot SHA256() call, which cost more than
 * the hashing of a 64-byte token: here it is fetched once per thread and
 * its context reused.
 */
#ifndef DYNCONF_DIGEST_H
#define DYNCONF_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_LEN	32
#define DIGEST_SHA256_HEX_LEN	64

/* One piece of what is hashed. */
struct digest_part {
	const void	*data;
	size_t		 len;
};

void	digest_sha256(const void *data, size_t len,
	    unsigned char out[DIGEST_SHA256_LEN]);
/* The hash of the n parts as one string (nothing is copied). */
void	digest_sha256_parts(const struct digest_part *parts, size_t n,
	    unsigned char out[DIGEST_SHA256_LEN]);
/* Lowercase hex and a NUL: out holds DIGEST_SHA256_HEX_LEN + 1 bytes. */
void	digest_sha256_hex(const void *data, size_t len, char *out);

#endif
