/*
 * API tokens as data; see token.h. No store and no HTTP here, so that
 * dynconfctl writes exactly the documents the service reads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/sha.h>

#include "digest.h"
#include "scope.h"
#include "token.h"
#include "util.h"

void
sha256_hex(const void *data, size_t len, char *out)
{
	digest_sha256_hex(data, len, out);
}

int
token_mint(struct token_minted *t, int64_t ttl)
{
	char hex[2 * TOKEN_BYTES + 1];
	int64_t now = clock_realtime_us() / 1000000;

	memset(t, 0, sizeof(*t));
	if (random_hex(hex, TOKEN_BYTES) == -1 ||
	    random_hex(t->id, TOKEN_ID_BYTES) == -1)
		return -1;
	snprintf(t->text, sizeof(t->text), TOKEN_PREFIX "%s", hex);
	explicit_bzero(hex, sizeof(hex));
	sha256_hex(t->text, strlen(t->text), t->sha256);
	format_rfc3339(now, t->created_at, sizeof(t->created_at));
	if (ttl > 0) {
		t->expires = now + ttl;
		format_rfc3339(t->expires, t->expires_at, sizeof(t->expires_at));
	}
	return 0;
}

char *
token_doc(const struct token_minted *t, const char *name, unsigned scopes)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *list = json_object_new_array();
	char *text;
	int i;

	for (i = 1; i < SCOPE_COUNT; i++)
		if (scopes & SCOPE_BIT(i))
			json_object_array_add(list,
			    json_object_new_string(scope_name((enum scope)i)));
	json_object_object_add(doc, "id", json_object_new_string(t->id));
	json_object_object_add(doc, "name", json_object_new_string(name));
	json_object_object_add(doc, "scopes", list);
	json_object_object_add(doc, "sha256", json_object_new_string(t->sha256));
	json_object_object_add(doc, "created_at",
	    json_object_new_string(t->created_at));
	json_object_object_add(doc, "expires_at", t->expires_at[0] == '\0' ?
	    NULL : json_object_new_string(t->expires_at));
	json_object_object_add(doc, "expires", json_object_new_int64(t->expires));
	text = xstrdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return text;
}

int
token_info(struct json_object *doc, struct token_info *info)
{
	struct json_object *hash, *scopes, *expires;
	size_t i, n;

	memset(info, 0, sizeof(*info));
	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "sha256", &hash) ||
	    !json_object_is_type(hash, json_type_string) ||
	    json_object_get_string_len(hash) != SHA256_HEX_LEN ||
	    !json_object_object_get_ex(doc, "scopes", &scopes) ||
	    !json_object_is_type(scopes, json_type_array))
		return -1;
	info->sha256 = json_object_get_string(hash);
	n = json_object_array_length(scopes);
	for (i = 0; i < n; i++) {
		enum scope s;
		const char *name = json_object_get_string(
		    json_object_array_get_idx(scopes, i));

		/* A scope this version does not know grants nothing. */
		if (name != NULL && scope_parse(name, &s) == 0)
			info->scopes |= SCOPE_BIT(s);
	}
	if (json_object_object_get_ex(doc, "expires", &expires))
		info->expires = json_object_get_int64(expires);
	return 0;
}

void
token_key(char *out, size_t outlen, const char *id)
{
	snprintf(out, outlen, "tokens/%s", id);
}

void
token_index_key(char *out, size_t outlen, const char *sha256)
{
	snprintf(out, outlen, "index/tokens/%s", sha256);
}
