/*
 * API tokens (API.md §10) as data, shared by the /v1/tokens handlers and
 * dynconfctl: making a token, its stored document and the etcd keys it
 * lives under. A token is "dct_" and 64 hex digits (32 random bytes); only
 * its SHA-256 is ever stored, under
 *
 *	tokens/<id>			{id, name, scopes, sha256, created_at,
 *					 expires_at, expires[, created_by]}
 *	index/tokens/<sha256 hex>	<id>
 *
 * so that a bearer token is found through the replica by its hash alone.
 * created_by names the maker: another token's id, or "jwt:<sub>"; a token
 * made by dynconfctl or with auth.mode = off (and any made before the field
 * existed) has none. A token works only while every token up that chain
 * still exists and has not expired, so revoking one revokes all made under
 * it; the chain is at most TOKEN_MAX_DEPTH tokens above any token.
 */
#ifndef DYNCONF_TOKEN_H
#define DYNCONF_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "model/keys.h"

#define TOKEN_PREFIX		"dct_"
#define TOKEN_BYTES		32
#define TOKEN_TEXT_LEN		(sizeof(TOKEN_PREFIX) - 1 + 2 * TOKEN_BYTES)
#define TOKEN_ID_BYTES		8
/* Ten years: a ttl longer than that is a mistake. */
#define TOKEN_MAX_TTL		(10LL * 366 * 86400)
#define TOKEN_MAX_DEPTH		8
/* The longest JWT "sub" a maker may carry (longer ones name no maker). */
#define TOKEN_SUBJECT_MAX	255
#define TOKEN_MAKER_JWT		"jwt:"
/* "jwt:" and a JWT's sub, or a token id. */
#define TOKEN_MAKER_MAX		(sizeof(TOKEN_MAKER_JWT) - 1 + TOKEN_SUBJECT_MAX)

struct token_minted {
	char		text[TOKEN_TEXT_LEN + 1];	/* shown once, never stored */
	char		id[2 * TOKEN_ID_BYTES + 1];
	char		sha256[DIGEST_SHA256_HEX_LEN + 1];
	char		created_at[32];
	char		expires_at[32];		/* "" when it never expires */
	int64_t		expires;		/* unix seconds; 0: never */
};

/*
 * A fresh token valid for ttl seconds (0: forever), but never past
 * not_after (unix seconds; 0: no bound), nor, when bound, past
 * TOKEN_MAX_TTL. 0, or -1 without entropy.
 */
int	token_mint(struct token_minted *t, int64_t ttl, int64_t not_after);

/* The stored document (without the token); created_by NULL for none. */
char	*token_doc(const struct token_minted *t, const char *name, unsigned scopes,
	    const char *created_by);

/* What a stored document says, copied out of it. */
struct token_info {
	char		 name[NAME_MAX_LEN + 1];	/* "" when not a name */
	char		 sha256[DIGEST_SHA256_HEX_LEN + 1];
	unsigned	 scopes;	/* as made, without implications */
	int64_t		 expires;
	char		 created_by[TOKEN_MAKER_MAX + 1];	/* "": none */
};
struct json_object;
/* Parse doc into *info; -1 when it is not a token document. */
int	token_info(struct json_object *doc, struct token_info *info);

/* Is id a token id (what token_mint makes)? */
int	token_id_valid(const char *id);

/* "tokens/<id>" and "index/tokens/<hash>" into out (outlen bytes). */
void	token_key(char *out, size_t outlen, const char *id);
void	token_index_key(char *out, size_t outlen, const char *sha256);

#endif
