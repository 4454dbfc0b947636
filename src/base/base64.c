/*
 * Base64 and base64url; see base64.h. Plain loops rather than OpenSSL's
 * EVP_EncodeBlock and EVP_DecodeBlock: those take int lengths, know only
 * the padded standard alphabet, and decode an "=" in the middle of the
 * text as zero bits instead of refusing it.
 */
#include "config.h"

#include <stdint.h>

#include "base/base64.h"

static const char standard_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
base64_encoded_len(size_t len, int flags)
{
	size_t rest = len % 3;

	if (rest == 0 || !(flags & BASE64_NOPAD))
		return (len / 3 + (rest != 0)) * 4;
	return len / 3 * 4 + rest + 1;
}

size_t
base64_encode(const void *data, size_t len, char *out, int flags)
{
	const unsigned char *in = data;
	const char *abc = flags & BASE64_URL ? url_alphabet : standard_alphabet;
	int pad = !(flags & BASE64_NOPAD);
	char *p = out;
	uint32_t v;
	size_t i;

	for (i = 0; len - i >= 3; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*p++ = abc[v >> 18];
		*p++ = abc[v >> 12 & 63];
		*p++ = abc[v >> 6 & 63];
		*p++ = abc[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		*p++ = abc[v >> 18];
		*p++ = abc[v >> 12 & 63];
		if (pad) {
			*p++ = '=';
			*p++ = '=';
		}
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*p++ = abc[v >> 18];
		*p++ = abc[v >> 12 & 63];
		*p++ = abc[v >> 6 & 63];
		if (pad)
			*p++ = '=';
	}
	*p = '\0';
	return (size_t)(p - out);
}

size_t
base64_decoded_max(size_t len)
{
	return len / 4 * 3 + len % 4 * 3 / 4;
}

/* The six bits a character stands for, -1 if it is not of the alphabet. */
static int
sextet(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* n (2 to 4) characters into n - 1 bytes; -1 if one is not of the alphabet. */
static int
decode_group(const unsigned char *t, size_t n, unsigned char *o, int url)
{
	uint32_t v = 0;
	size_t i;
	int s;

	for (i = 0; i < 4; i++) {
		s = i < n ? sextet(t[i], url) : 0;
		if (s == -1)
			return -1;
		v = v << 6 | (uint32_t)s;
	}
	o[0] = (unsigned char)(v >> 16);
	if (n > 2)
		o[1] = (unsigned char)(v >> 8);
	if (n > 3)
		o[2] = (unsigned char)v;
	return 0;
}

int
base64_decode(const char *text, size_t len, void *out, size_t outmax,
    size_t *outlen, int flags)
{
	const unsigned char *t = (const unsigned char *)text;
	unsigned char *o = out;
	int url = (flags & BASE64_URL) != 0;
	size_t i, tail;

	*outlen = 0;
	if (flags & BASE64_NOPAD) {
		if (len % 4 == 1)
			return -1;
	} else {
		if (len % 4 != 0)
			return -1;
		/* One or two "=" end the last group; any other is refused below. */
		if (len > 0 && t[len - 1] == '=')
			len -= t[len - 2] == '=' ? 2 : 1;
	}
	if (base64_decoded_max(len) > outmax)
		return -1;
	tail = len % 4;
	for (i = 0; i + 4 <= len; i += 4, o += 3)
		if (decode_group(t + i, 4, o, url) == -1)
			return -1;
	if (tail > 0 && decode_group(t + i, tail, o, url) == -1)
		return -1;
	*outlen = base64_decoded_max(len);
	return 0;
}
