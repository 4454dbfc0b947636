/*
 * Distributed locks; see lock.h for the rules they keep.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "base/arena.h"
#include "base/digest.h"
#include "base/log.h"
#include "base/util.h"
#include "model/lock.h"
#include "store/lease.h"
#include "store/stored_doc.h"

const char *
lock_holder_problem(const char *holder)
{
	const unsigned char *p;

	for (p = (const unsigned char *)holder; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "must not hold control characters";
	return NULL;
}

int
lock_token_valid(const char *text)
{
	size_t plen = sizeof(LOCK_TOKEN_PREFIX) - 1, i;

	if (text == NULL || strlen(text) != LOCK_TOKEN_LEN ||
	    strncmp(text, LOCK_TOKEN_PREFIX, plen) != 0)
		return 0;
	for (i = plen; i < LOCK_TOKEN_LEN; i++)
		if (hex_digit((unsigned char)text[i]) == -1 ||
		    (text[i] >= 'A' && text[i] <= 'F'))
			return 0;
	return 1;
}

const char *
lock_key(struct arena *arena, const char *name)
{
	return arena_concat(arena, "locks/", name, (char *)NULL);
}

static char *
lock_doc(const struct lock_state *s)
{
	struct json_object *doc = json_object_new_object();
	char acquired[32];
	char *text;

	format_rfc3339(s->acquired_at, acquired, sizeof(acquired));
	json_object_object_add(doc, "name", json_object_new_string(s->name));
	json_object_object_add(doc, "holder", json_object_new_string(s->holder));
	json_object_object_add(doc, "sha256", json_object_new_string(s->sha256));
	json_object_object_add(doc, "ttl", json_object_new_int64(s->ttl));
	json_object_object_add(doc, "acquired_at", json_object_new_string(acquired));
	json_object_object_add(doc, "acquired", json_object_new_int64(s->acquired_at));
	text = xstrdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return text;
}

static const char *
doc_string(struct json_object *doc, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
doc_int(struct json_object *doc, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, name, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

/*
 * The holding a stored key describes. 0, or -1 when the document is not a
 * lock's (written by hand: logged); the etcd facts are filled in anyway.
 */
static int
state_from_item(struct store_ctx *ctx, const char *name,
    const struct store_item *item, struct lock_state *s)
{
	struct json_object *doc;
	const char *holder, *sha;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->fencing_token = item->create_revision;
	s->revision = item->mod_revision;
	s->lease = item->lease;
	doc = stored_doc_parse(item->key, item->value, item->value_len);
	holder = doc_string(doc, "holder");
	sha = doc_string(doc, "sha256");
	if (holder == NULL || sha == NULL || strlen(sha) != 64) {
		if (doc != NULL)
			log_warn("lock %s: the document at %s is not a lock's",
			    name, item->key);
		json_object_put(doc);
		return -1;
	}
	s->holder = arena_strdup(ctx->arena, holder);
	memcpy(s->sha256, sha, 65);
	s->ttl = doc_int(doc, "ttl");
	s->acquired_at = doc_int(doc, "acquired");
	json_object_put(doc);
	return 0;
}

/* The lease's time left into s; a lapsed one means the lock is not held. */
static enum store_result
state_expiry(struct store_ctx *ctx, struct lock_state *s)
{
	struct store_lease lease;
	enum store_result rc;

	if (s->lease == 0)
		return STORE_OK;	/* put by hand, on no lease: never lapses */
	if ((rc = store_lease_ttl(ctx, s->lease, &lease)) == STORE_OK)
		s->expires_us = lease.expires_us;
	return rc;
}

/* Someone else holds it: who, and until when (about now if it just lapsed). */
static void
held_by(struct store_ctx *ctx, const char *name, const struct store_item *seen,
    struct lock_state *held)
{
	state_from_item(ctx, name, seen, held);
	if (state_expiry(ctx, held) != STORE_OK && held->lease != 0)
		held->expires_us = clock_realtime_us();
}

/* Put the holding on its lease if the key is absent. */
static enum store_result
put_if_absent(struct store_ctx *ctx, struct lock_acquired *got,
    const char *key, struct lock_state *held)
{
	struct store_check check = { .kind = STORE_CHECK_ABSENT, .key = key };
	struct store_op op = { .kind = STORE_OP_PUT, .key = key };
	enum store_result rc;
	int64_t revision;
	size_t failed;
	char *doc = lock_doc(&got->state);

	op.value = doc;
	op.value_len = strlen(doc);
	op.lease = got->state.lease;
	rc = store_commit(ctx, &check, 1, &op, 1, &revision, &failed);
	free(doc);
	if (rc == STORE_OK) {
		got->state.fencing_token = got->state.revision = revision;
		return STORE_OK;
	}
	if (rc == STORE_STALE) {
		held_by(ctx, got->state.name, &check.seen, held);
		return STORE_EXISTS;
	}
	return rc;
}

/*
 * Leases this process keeps in reserve, each holding no key: one whose
 * lock it released, or whose acquisition failed, waits here for the next
 * acquisition of the same ttl. Taking it is a keep-alive, which etcd's
 * leader answers without a raft write, where a revoke now and a grant then
 * would be two: a lock pair costs etcd one write less. A spare that lapsed
 * meanwhile (nobody acquired for ttl seconds) is replaced by a grant; one
 * left when the process ends lapses by itself, holding nothing.
 */
#define SPARE_LEASES 4
static struct {
	int64_t	 id;
	int64_t	 asked;		/* the ttl it was granted for */
} spare[SPARE_LEASES];

/* A lease of ttl seconds, renewed in full: a spare one, else a fresh one. */
static enum store_result
lease_take(struct store_ctx *ctx, int64_t ttl, struct store_lease *lease)
{
	enum store_result rc;
	int64_t id;
	size_t i;

	for (i = 0; i < SPARE_LEASES; i++) {
		if (spare[i].id == 0 || spare[i].asked != ttl)
			continue;
		id = spare[i].id;
		spare[i].id = 0;
		rc = store_lease_keepalive(ctx, id, lease);
		if (rc != STORE_NOT_FOUND)
			return rc;
	}
	return store_lease_grant(ctx, ttl, lease);
}

/* A lease that holds no key any more: kept in reserve, or revoked. */
static void
lease_give_back(struct store_ctx *ctx, int64_t id, int64_t ttl)
{
	size_t i;

	for (i = 0; i < SPARE_LEASES; i++)
		if (spare[i].id == 0) {
			spare[i].id = id;
			spare[i].asked = ttl;
			return;
		}
	if (store_lease_revoke(ctx, id) != STORE_OK)
		log_info("lock: a lease holding nothing is left to lapse in %lld s",
		    (long long)ttl);
}

/* A fresh token and the holding it names, on a fresh lease. */
static enum store_result
new_holding(struct store_ctx *ctx, const char *name, const char *holder,
    int64_t ttl, struct lock_acquired *got)
{
	struct lock_state *s = &got->state;
	struct store_lease lease;
	enum store_result rc;
	char hex[2 * LOCK_TOKEN_BYTES + 1];

	memset(got, 0, sizeof(*got));
	if (random_hex(hex, LOCK_TOKEN_BYTES) == -1) {
		log_error("lock %s: no randomness for a token", name);
		return STORE_FAILED;
	}
	snprintf(got->token, sizeof(got->token), LOCK_TOKEN_PREFIX "%s", hex);
	explicit_bzero(hex, sizeof(hex));
	digest_sha256_hex(got->token, strlen(got->token), s->sha256);
	if ((rc = lease_take(ctx, ttl, &lease)) != STORE_OK)
		return rc;
	s->name = name;
	s->holder = holder;
	s->lease = lease.id;
	s->ttl = lease.ttl;
	s->acquired_at = (lease.expires_us - lease.ttl * 1000000) / 1000000;
	s->expires_us = lease.expires_us;
	return STORE_OK;
}

enum store_result
lock_try_acquire(struct store_ctx *ctx, const char *name, const char *holder,
    int64_t ttl, struct lock_acquired *got, struct lock_state *held)
{
	enum store_result rc;

	ctx->no_write_through = 1;
	ctx->actor.action = "acquire";
	memset(held, 0, sizeof(*held));
	if ((rc = new_holding(ctx, name, holder, ttl, got)) != STORE_OK)
		return rc;
	rc = put_if_absent(ctx, got, lock_key(ctx->arena, name), held);
	if (rc == STORE_OK)
		return STORE_OK;
	/*
	 * Held by another: the lease holds nothing, and is kept for the next
	 * try. Otherwise the transaction's fate may be unknown, and the lease
	 * may hold the key: revoked, or, if etcd cannot be told, left to lapse.
	 */
	if (rc == STORE_EXISTS)
		lease_give_back(ctx, got->state.lease, ttl);
	else if (store_lease_revoke(ctx, got->state.lease) != STORE_OK)
		log_info("lock %s: the lease of a failed acquisition is left to "
		    "lapse in %lld s", name, (long long)got->state.ttl);
	explicit_bzero(got->token, sizeof(got->token));
	if (rc == STORE_OUTCOME_UNKNOWN)
		rc = STORE_UNAVAILABLE;
	return rc;
}

enum store_result
lock_read(struct store_ctx *ctx, const char *name, struct lock_state *state)
{
	struct store_item item;
	enum store_result rc;

	ctx->no_write_through = 1;
	memset(state, 0, sizeof(*state));
	if ((rc = store_get(ctx, lock_key(ctx->arena, name), 1, &item)) != STORE_OK)
		return rc;
	if (state_from_item(ctx, name, &item, state) == -1)
		return STORE_CORRUPT;
	return state_expiry(ctx, state);
}

/* 1 when item is the holding of the token whose hash is sha256. */
static int
holds(struct store_ctx *ctx, const char *name, const struct store_item *item,
    const char *sha256, struct lock_state *state)
{
	return state_from_item(ctx, name, item, state) == 0 &&
	    CRYPTO_memcmp(state->sha256, sha256, 64) == 0;
}

/*
 * The holding of token. The replica answers only "this lease is the
 * token's" (its hash names one holding); anything else is asked of etcd,
 * which has the last word: STORE_STALE for another token's holding.
 */
static enum store_result
find_holding(struct store_ctx *ctx, const char *name, const char *token,
    struct lock_state *state)
{
	const char *key = lock_key(ctx->arena, name);
	struct store_item item;
	enum store_result rc;
	char sha256[65];

	ctx->no_write_through = 1;
	digest_sha256_hex(token, strlen(token), sha256);
	if (store_get(ctx, key, 0, &item) == STORE_OK &&
	    holds(ctx, name, &item, sha256, state))
		return STORE_OK;
	if ((rc = store_get(ctx, key, 1, &item)) != STORE_OK)
		return rc;
	if (holds(ctx, name, &item, sha256, state))
		return STORE_OK;
	return state->holder == NULL ? STORE_CORRUPT : STORE_STALE;
}

enum store_result
lock_refresh(struct store_ctx *ctx, const char *name, const char *token,
    struct lock_state *state)
{
	struct store_lease lease;
	enum store_result rc;

	if ((rc = find_holding(ctx, name, token, state)) != STORE_OK)
		return rc;
	if ((rc = store_lease_keepalive(ctx, state->lease, &lease)) != STORE_OK)
		return rc;
	state->ttl = lease.ttl;
	state->expires_us = lease.expires_us;
	return STORE_OK;
}

enum store_result
lock_release(struct store_ctx *ctx, const char *name, const char *token,
    struct lock_state *state)
{
	enum store_result rc;

	struct store_condition at = { .kind = STORE_IF_REVISION };
	int64_t revision;

	if ((rc = find_holding(ctx, name, token, state)) != STORE_OK)
		return rc;
	if (state->lease == 0)
		return STORE_CORRUPT;
	/*
	 * The holding's key goes, as it was found (a lapse and a new holder
	 * meanwhile: not ours to delete); its lease, now empty, is kept for
	 * the next acquisition here.
	 */
	at.revision = state->revision;
	ctx->actor.action = "release";
	rc = store_delete(ctx, lock_key(ctx->arena, name), &at, &revision);
	if (rc == STORE_OK)
		lease_give_back(ctx, state->lease, state->ttl);
	return rc == STORE_STALE ? STORE_NOT_FOUND : rc;
}

enum store_result
lock_force_release(struct store_ctx *ctx, const char *name,
    struct lock_state *state)
{
	struct store_condition at = { .kind = STORE_IF_REVISION };
	struct store_item item;
	enum store_result rc;
	int64_t revision;

	memset(state, 0, sizeof(*state));
	ctx->no_write_through = 1;
	if ((rc = store_get(ctx, lock_key(ctx->arena, name), 1, &item)) != STORE_OK)
		return rc;
	state_from_item(ctx, name, &item, state);
	/*
	 * The holding goes as it was read, with its record (API.md §14); its
	 * lease, now holding nothing, is revoked, so that its holder's next
	 * refresh finds it gone.
	 */
	at.revision = item.mod_revision;
	ctx->actor.action = "release";
	rc = store_delete(ctx, item.key, &at, &revision);
	if (rc == STORE_OK && item.lease != 0 &&
	    store_lease_revoke(ctx, item.lease) != STORE_OK)
		log_info("lock %s: the lease of a released holding is left to "
		    "lapse", name);
	return rc == STORE_STALE ? STORE_NOT_FOUND : rc;
}
