/*
 * dynconfctl: administration without a running pool. "token create" is
 * the bootstrap path (like Django's createsuperuser): it reads the same
 * configuration file as dynconf-fcgi, writes an API token straight to etcd
 * (the document and its hash index in one transaction, exactly as
 * POST /v1/tokens does) and prints the token once on stdout. The pools
 * learn of it through their watchers.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/conf.h"
#include "base/util.h"
#include "etcd/etcd.h"
#include "model/keys.h"
#include "model/scope.h"
#include "model/token.h"
#include "store/store.h"

struct create_args {
	const char	*name;
	unsigned	 scopes;
	int64_t		 ttl;
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: dynconfctl [-c config] token create --name name "
	    "--scopes scope[,scope...] [--ttl seconds]\n");
}

/* "flags:write,config:read" (commas or spaces) into a scope set. */
static int
parse_scope_list(const char *text, unsigned *scopes)
{
	char list[1024], *word, *save = NULL;
	enum scope s;

	snprintf(list, sizeof(list), "%s", text);
	for (word = strtok_r(list, ", ", &save); word != NULL;
	    word = strtok_r(NULL, ", ", &save)) {
		if (scope_parse(word, &s) == -1) {
			fprintf(stderr, "dynconfctl: unknown scope %s\n", word);
			return -1;
		}
		*scopes |= SCOPE_BIT(s);
	}
	if (*scopes == 0) {
		fprintf(stderr, "dynconfctl: --scopes names no scope\n");
		return -1;
	}
	return 0;
}

static int
parse_create(int argc, char **argv, struct create_args *a)
{
	static const struct option options[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "scopes", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *errstr;
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "n:s:t:", options, NULL)) != -1) {
		switch (ch) {
		case 'n':
			a->name = optarg;
			break;
		case 's':
			if (parse_scope_list(optarg, &a->scopes) == -1)
				return -1;
			break;
		case 't':
			a->ttl = strtonum(optarg, 1, TOKEN_MAX_TTL, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "dynconfctl: --ttl is %s\n", errstr);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (a->name == NULL || a->scopes == 0) {
		fprintf(stderr, "dynconfctl: %s is required\n",
		    a->name == NULL ? "--name" : "--scopes");
		return -1;
	}
	if (!name_valid(a->name)) {
		fprintf(stderr, "dynconfctl: --name %.128s is not a valid name: "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}\n", a->name);
		return -1;
	}
	return 0;
}

/* Write the token's document and index to etcd, both or neither. */
static int
write_token(const struct token_minted *t, const char *doc)
{
	struct etcd_options options;
	struct etcd_client *client;
	struct etcd_txn_result result;
	struct etcd_error error;
	struct etcd_compare absent;
	struct etcd_op ops[2];
	struct etcd_txn txn;
	char password[256], key[512], index[512], rel[160];
	int rc = -1;

	token_key(rel, sizeof(rel), t->id);
	snprintf(key, sizeof(key), "%s%s", conf.etcd.prefix, rel);
	token_index_key(rel, sizeof(rel), t->sha256);
	snprintf(index, sizeof(index), "%s%s", conf.etcd.prefix, rel);
	store_etcd_options(&options, password, sizeof(password));
	options.use_breaker = 0;
	client = etcd_client_new(&options);
	explicit_bzero(password, sizeof(password));
	if (client == NULL)
		goto fail;
	memset(&absent, 0, sizeof(absent));
	absent = (struct etcd_compare){ .key = key, .key_len = strlen(key),
	    .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL, .number = 0 };
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct etcd_op){ .type = ETCD_OP_PUT, .key = key,
	    .key_len = strlen(key), .value = doc, .value_len = strlen(doc) };
	ops[1] = (struct etcd_op){ .type = ETCD_OP_PUT, .key = index,
	    .key_len = strlen(index), .value = t->id, .value_len = strlen(t->id) };
	txn = (struct etcd_txn){ .compare = &absent, .ncompare = 1,
	    .success = ops, .nsuccess = 2 };
	memset(&result, 0, sizeof(result));
	switch (etcd_txn(client, &txn, &result, &error)) {
	case ETCD_OK:
		break;
	case ETCD_UNKNOWN:
		fprintf(stderr, "dynconfctl: etcd: %s\n", error.message);
		fprintf(stderr, "dynconfctl: token id %s may have been stored "
		    "all the same, unseen: revoke it if it is listed\n", t->id);
		goto fail;
	case ETCD_UNAVAILABLE:	/* not applied: nothing to revoke */
	case ETCD_COMPACTED:
	case ETCD_NOT_FOUND:
	case ETCD_ERROR:
		fprintf(stderr, "dynconfctl: etcd: %s\n", error.message);
		goto fail;
	}
	if (!result.succeeded)
		fprintf(stderr, "dynconfctl: token id %s exists; try again\n", t->id);
	else
		rc = 0;
	etcd_txn_result_free(&result);
fail:
	if (client != NULL)
		etcd_client_free(client);
	return rc;
}

static int
token_create(int argc, char **argv)
{
	struct create_args a;
	struct token_minted t;
	char *doc;
	int rc;

	if (parse_create(argc, argv, &a) == -1) {
		usage(stderr);
		return 2;
	}
	if (token_mint(&t, a.ttl, 0) == -1) {
		fprintf(stderr, "dynconfctl: no randomness\n");
		return 1;
	}
	/* The bootstrap token: made by no other, so it records no maker. */
	doc = token_doc(&t, a.name, a.scopes, NULL);
	rc = write_token(&t, doc);
	free(doc);
	if (rc == 0) {
		/* The only place it is ever shown. */
		printf("%s\n", t.text);
		fprintf(stderr, "dynconfctl: token %s (%s) made\n", t.id, a.name);
	}
	explicit_bzero(&t, sizeof(t));
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *config_path = conf_default_path();
	char err[512];
	int ch;

	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || strcmp(argv[0], "token") != 0 ||
	    strcmp(argv[1], "create") != 0) {
		usage(stderr);
		return 2;
	}
	if (conf_load(&conf, config_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "dynconfctl: %s\n", err);
		return 1;
	}
	return token_create(argc - 1, argv + 1);
}
