/*
 * API tokens as data; see token.h. No store and no HTTP here, so that
 * dynconfctl writes exactly the documents the service reads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base/digest.h"
#include "base/util.h"
#include "model/scope.h"
#include "model/token.h"

int
token_mint(struct token_minted *t, int64_t ttl, int64_t not_after)
{
	char hex[2 * TOKEN_BYTES + 1];
	int64_t now = clock_realtime_us() / 1000000;

	memset(t, 0, sizeof(*t));
	if (random_hex(hex, TOKEN_BYTES) == -1 ||
	    random_hex(t->id, TOKEN_ID_BYTES) == -1)
		return -1;
	snprintf(t->text, sizeof(t->text), TOKEN_PREFIX "%s", hex);
	explicit_bzero(hex, sizeof(hex));
	digest_sha256_hex(t->text, strlen(t->text), t->sha256);
	format_rfc3339(now, t->created_at, sizeof(t->created_at));
	if (ttl > 0)
		t->expires = now + ttl;
	/* A maker's expiry past any ttl (a JWT's exp can be) bounds nothing. */
	if (not_after > now + TOKEN_MAX_TTL)
		not_after = now + TOKEN_MAX_TTL;
	if (not_after > 0 && (t->expires == 0 || t->expires > not_after))
		t->expires = not_after;
	if (t->expires != 0)
		format_rfc3339(t->expires, t->expires_at, sizeof(t->expires_at));
	return 0;
}

char *
token_doc(const struct token_minted *t, const char *name, unsigned scopes,
    const char *created_by)
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
	if (created_by != NULL)
		json_object_object_add(doc, "created_by",
		    json_object_new_string(created_by));
	text = xstrdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return text;
}

/* The optional "created_by" into out: 0, or -1 when it is malformed. */
static int
token_maker(struct json_object *doc, char *out, size_t outlen)
{
	struct json_object *v;
	const char *text;

	out[0] = '\0';
	if (!json_object_object_get_ex(doc, "created_by", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	text = json_object_get_string(v);
	/* A token id or "jwt:..."; anything else could name no maker. */
	if ((size_t)json_object_get_string_len(v) >= outlen ||
	    strlen(text) != (size_t)json_object_get_string_len(v) ||
	    (strncmp(text, TOKEN_MAKER_JWT, strlen(TOKEN_MAKER_JWT)) != 0 &&
	    !token_id_valid(text)))
		return -1;
	memcpy(out, text, strlen(text) + 1);
	return 0;
}

int
token_info(struct json_object *doc, struct token_info *info)
{
	struct json_object *hash, *scopes, *expires, *label;
	size_t i, n;

	memset(info, 0, sizeof(*info));
	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "sha256", &hash) ||
	    !json_object_is_type(hash, json_type_string) ||
	    json_object_get_string_len(hash) != DIGEST_SHA256_HEX_LEN ||
	    !json_object_object_get_ex(doc, "scopes", &scopes) ||
	    !json_object_is_type(scopes, json_type_array) ||
	    token_maker(doc, info->created_by, sizeof(info->created_by)) == -1)
		return -1;
	memcpy(info->sha256, json_object_get_string(hash), DIGEST_SHA256_HEX_LEN);
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
	/* Shown as the audit trail's actor: a name as the API makes them, or none. */
	if (json_object_object_get_ex(doc, "name", &label) &&
	    json_object_is_type(label, json_type_string) &&
	    name_valid(json_object_get_string(label)))
		snprintf(info->name, sizeof(info->name), "%s", json_object_get_string(label));
	return 0;
}

int
token_id_valid(const char *id)
{
	size_t n = strspn(id, "0123456789abcdef");

	return n == 2 * TOKEN_ID_BYTES && id[n] == '\0';
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
