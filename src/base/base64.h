/*
 * Base64 (RFC 4648 §4) and base64url (§5), with or without the "="
 * padding: the one codec of the code base. The etcd gateway's keys and
 * values are padded base64; JWT segments are unpadded base64url (RFC 7515
 * §2). Bounded: the caller says how much room there is, and nothing is
 * written past it.
 */
#ifndef DYNCONF_BASE64_H
#define DYNCONF_BASE64_H

#include <stddef.h>

#define BASE64_URL	0x01	/* '-' and '_' in place of '+' and '/' */
#define BASE64_NOPAD	0x02	/* no '=': none written, none accepted */

/* The length of the encoding of len bytes, without a NUL. */
size_t	base64_encoded_len(size_t len, int flags);

/*
 * Encode len bytes of data into out, which holds base64_encoded_len() + 1
 * bytes, NUL-terminated. Returns the length without the NUL.
 */
size_t	base64_encode(const void *data, size_t len, char *out, int flags);

/* The most bytes that len characters of either form decode to. */
size_t	base64_decoded_max(size_t len);

/*
 * Decode len characters of text into out, at most outmax bytes; *outlen
 * is how many. Returns -1 (*outlen 0, out's content undefined) when text
 * decodes to more than outmax bytes or is not the form flags name:
 *   - a character outside the alphabet, white space and the other
 *     alphabet's two characters included;
 *   - padded: a length that is not a multiple of 4, or an "=" anywhere
 *     but as the last one or two characters;
 *   - unpadded: a length of 4n + 1, or any "=".
 * The unused low bits of the last character are not checked: neither
 * OpenSSL's decoder, which both callers used before, nor Go's, which
 * writes the gateway's base64, rejects them being set.
 */
int	base64_decode(const char *text, size_t len, void *out, size_t outmax,
	    size_t *outlen, int flags);

#endif
