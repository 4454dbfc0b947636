/*
 * dynconfctl token create|list|revoke. "create" is the bootstrap path (like
 * Django's createsuperuser): it writes an API token exactly as
 * POST /v1/tokens does (the document and its hash index in one
 * transaction) and prints the token once on stdout. A token made here has
 * no maker. "revoke" deletes the document and its index together, as
 * DELETE /v1/tokens/{id} does; tokens it made stop working with it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "ctl.h"
#include "model/keys.h"
#include "model/scope.h"
#include "model/token.h"
#include "store/stored_doc.h"

#define TOKEN_PAGE 1000

/* "flags:write,config:read" (commas or spaces) into a scope set. */
static int
parse_scope_list(const char *text, unsigned *scopes)
{
	char list[1024], *word, *save = NULL;
	enum scope s;

	snprintf(list, sizeof(list), "%s", text);
	for (word = strtok_r(list, ", ", &save); word != NULL;
	    word = strtok_r(NULL, ", ", &save)) {
		if (scope_parse(word, &s) == -1)
			return ctl_usage("unknown scope %s", word);
		*scopes |= SCOPE_BIT(s);
	}
	if (*scopes == 0)
		return ctl_usage("--scopes names no scope");
	return 0;
}

struct create_args {
	const char	*name;
	unsigned	 scopes;
	int64_t		 ttl;
};

static int
parse_create(int argc, char **argv, struct create_args *a)
{
	static const struct option options[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "scopes", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	while ((ch = ctl_getopt(argc, argv, ":n:s:t:", options)) != -1) {
		if (ch == 'n')
			a->name = optarg;
		else if (ch == 's') {
			if (parse_scope_list(optarg, &a->scopes) != 0)
				return CTL_USAGE;
		} else if (ch == 't') {
			if (ctl_number("--ttl", optarg, 1, TOKEN_MAX_TTL, &a->ttl) != 0)
				return CTL_USAGE;
		} else
			return CTL_USAGE;
	}
	if (ctl_operands(argc, argv, 0, 0, "") != 0)
		return CTL_USAGE;
	if (a->name == NULL || a->scopes == 0)
		return ctl_usage("%s is required", a->name == NULL ? "--name" : "--scopes");
	if (!name_valid(a->name))
		return ctl_usage("--name %.128s is not a valid name: "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}", a->name);
	return 0;
}

/* The document and its index, both or neither. */
static int
store_token(const struct token_minted *t, const char *doc)
{
	struct store_check check = { .kind = STORE_CHECK_ABSENT };
	struct store_op ops[2];
	struct store_ctx ctx;
	struct arena arena;
	enum store_result rc;
	char key[64], index[128];
	size_t failed;
	int64_t revision;

	token_key(key, sizeof(key), t->id);
	token_index_key(index, sizeof(index), t->sha256);
	check.key = key;
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct store_op){ .kind = STORE_OP_PUT, .key = key,
	    .value = doc, .value_len = strlen(doc) };
	ops[1] = (struct store_op){ .kind = STORE_OP_PUT, .key = index,
	    .value = t->id, .value_len = strlen(t->id) };
	ctl_ctx_init(&ctx, &arena);
	rc = store_commit(&ctx, &check, 1, ops, 2, &revision, &failed);
	ctl_ctx_free(&ctx);
	if (rc == STORE_OUTCOME_UNKNOWN) {
		ctl_error("etcd did not answer: token id %s may have been stored "
		    "all the same, unseen; revoke it if it is listed", t->id);
		return CTL_FAILED;
	}
	if (rc == STORE_STALE) {
		ctl_error("token id %s exists; try again", t->id);
		return CTL_FAILED;
	}
	return ctl_store_failed(rc, "the token");
}

int
cmd_token_create(int argc, char **argv)
{
	struct create_args a;
	struct token_minted t;
	char *doc;
	int rc;

	if (parse_create(argc, argv, &a) != 0)
		return CTL_USAGE;
	if (token_mint(&t, a.ttl, 0) == -1) {
		ctl_error("no randomness");
		return CTL_FAILED;
	}
	/* The bootstrap token: made by no other, so it records no maker. */
	doc = token_doc(&t, a.name, a.scopes, NULL);
	rc = store_token(&t, doc);
	free(doc);
	if (rc == CTL_OK) {
		/* The only place it is ever shown. */
		printf("%s\n", t.text);
		fprintf(stderr, "dynconfctl: token %s (%s) made\n", t.id, a.name);
	}
	explicit_bzero(&t, sizeof(t));
	return rc;
}

static const char *
field_text(struct json_object *doc, const char *name, const char *none)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, name, &v) ||
	    json_object_is_type(v, json_type_null))
		return none;
	return json_object_get_string(v);
}

/* One listed token: id, name, scopes, expiry, maker. */
static void
print_token(const struct store_item *item)
{
	struct json_object *doc = stored_doc_parse(item->key, item->value,
	    item->value_len), *scopes;
	struct token_info info;
	const char *expires;
	size_t i, n;

	if (doc == NULL || token_info(doc, &info) == -1) {
		printf("%s\t(not a token document)\n", item->key + strlen("tokens/"));
		json_object_put(doc);
		return;
	}
	expires = field_text(doc, "expires_at", "never");
	printf("%s\t%s\t", field_text(doc, "id", "?"), field_text(doc, "name", "?"));
	if (json_object_object_get_ex(doc, "scopes", &scopes) &&
	    json_object_is_type(scopes, json_type_array)) {
		n = json_object_array_length(scopes);
		for (i = 0; i < n; i++)
			printf("%s%s", i ? "," : "", json_object_get_string(
			    json_object_array_get_idx(scopes, i)));
	}
	printf("\t%s%s\t%s\n", expires[0] ? expires : "never",
	    info.expires != 0 && info.expires <= clock_realtime_us() / 1000000 ?
	    " (expired)" : "", info.created_by[0] ? info.created_by : "-");
	json_object_put(doc);
}

int
cmd_token_list(int argc, char **argv)
{
	enum store_result rc = STORE_OK;
	int64_t start, stored = 1;

	if (ctl_getopt(argc, argv, ":", NULL) != -1 ||
	    ctl_operands(argc, argv, 0, 0, "") != 0)
		return CTL_USAGE;
	printf("ID\tNAME\tSCOPES\tEXPIRES\tMADE BY\n");
	for (start = 0; rc == STORE_OK && start < stored; start += TOKEN_PAGE) {
		struct store_item *found;
		struct store_ctx ctx;
		struct arena arena;
		size_t count = 0, i;

		ctl_ctx_init(&ctx, &arena);
		rc = store_list(&ctx, "tokens/", TOKEN_PAGE, start, &found, &count,
		    &stored);
		for (i = 0; rc == STORE_OK && i < count; i++)
			print_token(&found[i]);
		ctl_ctx_free(&ctx);
		if (count == 0)
			break;
	}
	return ctl_store_failed(rc, "the token list");
}

int
cmd_token_revoke(int argc, char **argv)
{
	struct store_check check = { .kind = STORE_CHECK_REVISION };
	struct store_op ops[2];
	struct store_item item;
	struct store_ctx ctx;
	struct token_info info;
	struct json_object *doc;
	struct arena arena;
	enum store_result rc;
	const char *id;
	char key[64], index[128];
	size_t failed, nops = 1;
	int64_t revision;

	if (ctl_getopt(argc, argv, ":", NULL) != -1 ||
	    ctl_operands(argc, argv, 1, 1, "the token id") != 0)
		return CTL_USAGE;
	id = argv[optind];
	if (!token_id_valid(id))
		return ctl_usage("%.64s is not a token id (16 hex digits, as "
		    "token list shows)", id);
	token_key(key, sizeof(key), id);
	ctl_ctx_init(&ctx, &arena);
	if ((rc = store_get(&ctx, key, 1, &item)) != STORE_OK) {
		ctl_ctx_free(&ctx);
		return ctl_store_failed(rc, "the token");
	}
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct store_op){ .kind = STORE_OP_DELETE, .key = key };
	/* A corrupt document names no index entry: the token goes alone. */
	doc = stored_doc_parse(item.key, item.value, item.value_len);
	if (doc != NULL && token_info(doc, &info) == 0) {
		token_index_key(index, sizeof(index), info.sha256);
		ops[nops++] = (struct store_op){ .kind = STORE_OP_DELETE, .key = index };
	}
	json_object_put(doc);
	check.key = key;
	check.revision = item.mod_revision;
	rc = store_commit(&ctx, &check, 1, ops, nops, &revision, &failed);
	ctl_ctx_free(&ctx);
	if (rc == STORE_OK)
		fprintf(stderr, "dynconfctl: token %s revoked\n", id);
	return ctl_store_failed(rc, "the token");
}
