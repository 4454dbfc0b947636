/*
 * What the harnesses of tests/fuzz share: a scratch directory removed at
 * exit, the configuration they run with, and JWTs signed with the test keys
 * of tests/fuzz/keys (made for these harnesses, public, trusted nowhere),
 * so that a harness can make tokens that verify.
 */
#ifndef DYNCONF_FUZZ_COMMON_H
#define DYNCONF_FUZZ_COMMON_H

#include <stddef.h>

#include "base/buf.h"

#define FUZZ_JWT_ISSUER		"https://issuer.example.com/"
#define FUZZ_JWT_AUDIENCE	"dynconf"

enum fuzz_alg { FUZZ_HS256, FUZZ_RS256, FUZZ_ES256, FUZZ_ALGS };

/* The scratch directory, made on first use and removed at exit. */
const char	*fuzz_scratch(void);

/*
 * conf as the defaults have it (no DYNCONF_* variable counts), with auth on
 * and every JWT algorithm configured with a test key, the issuer and the
 * audience above. The log goes to /dev/null, or to stderr when FUZZ_LOG is
 * set. The keys are read from tests/fuzz/keys, or from $FUZZ_KEYS.
 */
void	fuzz_conf(void);

const char	*fuzz_alg_name(enum fuzz_alg alg);

/* base64url without padding, appended to out. */
void	fuzz_b64url(struct buf *out, const void *data, size_t len);

/* Append "." and the signature of input[0..len) with alg's test key. */
void	fuzz_jwt_sign(struct buf *out, enum fuzz_alg alg, const char *input,
	    size_t len);

/* Append a token: header {"alg":...,"typ":"JWT"}, these claims, signed. */
void	fuzz_jwt_make(struct buf *out, enum fuzz_alg alg, const char *claims,
	    size_t len);

#endif
