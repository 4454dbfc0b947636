/*
 * SHA-256 with the digest fetched once; see digest.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "base/digest.h"

/* A context ready for EVP_DigestUpdate: owned here, never freed. */
static EVP_MD_CTX *
sha256_begin(void)
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
digest_sha256_parts(const struct digest_part *parts, size_t n,
    unsigned char out[DIGEST_SHA256_LEN])
{
	EVP_MD_CTX *ctx;
	unsigned int outlen = 0;
	size_t i;

	if ((ctx = sha256_begin()) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (EVP_DigestUpdate(ctx, parts[i].data, parts[i].len) != 1)
			goto fail;
	if (EVP_DigestFinal_ex(ctx, out, &outlen) == 1 &&
	    outlen == DIGEST_SHA256_LEN)
		return;
fail:
	/* Only out of memory gets here: as fatal as in xmalloc. */
	fprintf(stderr, "dynconf: SHA-256 failed\n");
	abort();
}

void
digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_LEN])
{
	struct digest_part part = { data, len };

	digest_sha256_parts(&part, 1, out);
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
