/*
 * SHA-256 with the digest fetched once; see digest.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/digest.h"

EVP_MD_CTX *
digest_sha256_begin(void)
{
	static _Thread_local EVP_MD_CTX *ctx;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	static _Thread_local EVP_MD *md;

	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return NULL;
#else
	const EVP_MD *md = EVP_sha256();
#endif
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	return EVP_DigestInit_ex(ctx, md, NULL) == 1 ? ctx : NULL;
}

void
digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_LEN])
{
	EVP_MD_CTX *ctx;
	unsigned int outlen = 0;

	if ((ctx = digest_sha256_begin()) == NULL ||
	    EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &outlen) != 1 ||
	    outlen != DIGEST_SHA256_LEN) {
		/* Only out of memory gets here: as fatal as in xmalloc. */
		fprintf(stderr, "dynconf: SHA-256 failed\n");
		abort();
	}
}

void
digest_sha256_hex(const void *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[DIGEST_SHA256_LEN];
	size_t i;

	digest_sha256(data, len, raw);
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 0xf];
	}
	out[DIGEST_SHA256_HEX_LEN] = '\0';
}
