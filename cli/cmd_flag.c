/*
 * dynconfctl flag get|set|eval: feature flags (API.md §5) read from etcd,
 * validated by the same parser as request bodies (model/flag.c), written in
 * one transaction with the check that their environment exists, as the
 * API's PUT does, and evaluated by the same code (model/eval.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/util.h"
#include "ctl.h"
#include "model/environment.h"
#include "model/eval.h"
#include "model/flag.h"
#include "model/keys.h"
#include "store/stored_doc.h"

struct flag_args {
	const char	*env;
	const char	*key;
	const char	*file;
	const char	*context;
	const char	*document;
	int64_t		 revision;	/* 0: any */
};

static const struct option flag_options[] = {
	{ "env", required_argument, NULL, 'e' },
	{ "file", required_argument, NULL, 'f' },
	{ "revision", required_argument, NULL, 'r' },
	{ "context", required_argument, NULL, 'x' },
	{ NULL, 0, NULL, 0 },
};

/* Options (those of optstring) and the key, then up to extra operands. */
static int
parse_args(int argc, char **argv, const char *optstring, int extra,
    struct flag_args *a)
{
	int ch;

	memset(a, 0, sizeof(*a));
	a->env = DEFAULT_ENVIRONMENT;
	while ((ch = ctl_getopt(argc, argv, optstring, flag_options)) != -1) {
		if (ch == 'e')
			a->env = optarg;
		else if (ch == 'f')
			a->file = optarg;
		else if (ch == 'x')
			a->context = optarg;
		else if (ch == 'r') {
			if (ctl_number("--revision", optarg, 1, INT64_MAX, &a->revision) != 0)
				return CTL_USAGE;
		} else
			return CTL_USAGE;
	}
	if (ctl_operands(argc, argv, 1, 1 + extra, "the flag key") != 0)
		return CTL_USAGE;
	a->key = argv[optind];
	a->document = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (!name_valid(a->env))
		return ctl_usage("--env %.128s is not a valid name", a->env);
	if (!name_valid(a->key))
		return ctl_usage("%.128s is not a valid flag key: "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}", a->key);
	return 0;
}

/* Every error of a document, on one line. */
static void
report_errors(const struct flag_errors *errors)
{
	char line[1024];
	size_t i, used = 0;

	line[0] = '\0';
	for (i = 0; i < errors->count && used < sizeof(line); i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s: %s",
		    i ? "; " : "", errors->items[i].field, errors->items[i].message);
	ctl_error("the flag document is not valid: %s", line);
}

/* The stored flag, parsed into *flag (free it); *item its etcd entry. */
static enum store_result
read_flag(struct store_ctx *ctx, const struct flag_args *a, struct flag *flag,
    struct store_item *item)
{
	struct flag_errors errors;
	struct json_object *doc;
	enum store_result rc;
	int ok;

	memset(flag, 0, sizeof(*flag));
	rc = store_get(ctx, flag_store_key(ctx->arena, a->env, a->key), 1, item);
	if (rc != STORE_OK)
		return rc;
	doc = stored_doc_parse(item->key, item->value, item->value_len);
	ok = doc != NULL && flag_parse(doc, a->key, flag, &errors) == 0;
	json_object_put(doc);
	return ok ? STORE_OK : STORE_CORRUPT;
}

int
cmd_flag_get(int argc, char **argv)
{
	struct flag_args a;
	struct store_item item;
	struct store_ctx ctx;
	struct arena arena;
	struct flag flag;
	enum store_result rc;

	if (parse_args(argc, argv, ":e:", 0, &a) != 0)
		return CTL_USAGE;
	ctl_ctx_init(&ctx, &arena);
	if ((rc = read_flag(&ctx, &a, &flag, &item)) == STORE_OK) {
		struct json_object *out = flag_to_json(&flag, item.mod_revision);

		ctl_print_json(out);
		json_object_put(out);
	}
	flag_free(&flag);
	ctl_ctx_free(&ctx);
	return ctl_store_failed(rc, "the flag");
}

/* created_at kept from the stored flag, if any; updated_at now. */
static void
stamp_times(struct store_ctx *ctx, const struct flag_args *a, struct flag *flag)
{
	struct store_item item;
	struct flag old;
	char now[32];

	format_rfc3339(clock_realtime_us() / 1000000, now, sizeof(now));
	snprintf(flag->created_at, sizeof(flag->created_at), "%s", now);
	snprintf(flag->updated_at, sizeof(flag->updated_at), "%s", now);
	if (read_flag(ctx, a, &old, &item) == STORE_OK && old.created_at[0] != '\0')
		snprintf(flag->created_at, sizeof(flag->created_at), "%s",
		    old.created_at);
	flag_free(&old);
}

static int
write_flag(const struct flag_args *a, struct flag *flag)
{
	struct store_check checks[2];
	struct store_op op;
	struct store_ctx ctx;
	struct arena arena;
	struct json_object *doc;
	enum store_result rc;
	size_t failed = 0;
	int64_t revision;

	ctl_ctx_init(&ctx, &arena);
	/* "default" always exists: made on first use, as the API makes it. */
	if (strcmp(a->env, DEFAULT_ENVIRONMENT) == 0 &&
	    (rc = environment_ensure_default(&ctx)) != STORE_OK) {
		ctl_ctx_free(&ctx);
		return ctl_store_failed(rc, "the default environment");
	}
	stamp_times(&ctx, a, flag);
	memset(checks, 0, sizeof(checks));
	checks[0].kind = STORE_CHECK_PRESENT;
	checks[0].key = environment_key(&arena, a->env);
	checks[1].kind = STORE_CHECK_REVISION;
	checks[1].key = flag_store_key(&arena, a->env, a->key);
	checks[1].revision = a->revision;
	doc = flag_to_json(flag, 0);
	memset(&op, 0, sizeof(op));
	op.kind = STORE_OP_PUT;
	op.key = checks[1].key;
	op.value = arena_strdup(&arena, json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	op.value_len = strlen(op.value);
	json_object_put(doc);
	rc = store_commit(&ctx, checks, a->revision > 0 ? 2 : 1, &op, 1,
	    &revision, &failed);
	ctl_ctx_free(&ctx);
	if (rc == STORE_STALE && failed == 0) {
		ctl_error("environment %s does not exist (env create makes it)", a->env);
		return CTL_FAILED;
	}
	if (rc == STORE_STALE) {
		ctl_error("the flag is not at revision %lld; read it again",
		    (long long)a->revision);
		return CTL_FAILED;
	}
	if (rc == STORE_OK) {
		doc = flag_to_json(flag, revision);
		ctl_print_json(doc);
		json_object_put(doc);
	}
	return ctl_store_failed(rc, "the flag");
}

int
cmd_flag_set(int argc, char **argv)
{
	struct flag_errors errors;
	struct json_object *doc;
	struct flag_args a;
	struct flag flag;
	char *text = NULL;
	size_t len;
	int rc = CTL_FAILED;

	if (parse_args(argc, argv, ":e:f:r:", 1, &a) != 0)
		return CTL_USAGE;
	if ((a.file == NULL) == (a.document == NULL))
		return ctl_usage("give the document or --file, one of them");
	if (a.file != NULL && (text = ctl_read_file(a.file, &len)) == NULL)
		return CTL_FAILED;
	rc = a.file != NULL ? ctl_parse_json(text, len, a.file, &doc) :
	    ctl_parse_json(a.document, strlen(a.document), "the document", &doc);
	free(text);
	if (rc == -1)
		return CTL_USAGE;
	if (flag_parse(doc, a.key, &flag, &errors) == -1) {
		report_errors(&errors);
		rc = CTL_USAGE;
	} else {
		rc = write_flag(&a, &flag);
	}
	flag_free(&flag);
	json_object_put(doc);
	return rc;
}

static void
print_evaluation(const char *key, const struct flag *flag,
    struct json_object *context, int64_t revision)
{
	struct json_object *out = json_object_new_object();
	struct eval_result result;

	eval_flag(flag, context, &result);
	json_object_object_add(out, "key", json_object_new_string(key));
	if (result.has_value)
		json_object_object_add(out, "value", json_object_get(result.value));
	json_object_object_add(out, "variant", result.variant != NULL ?
	    json_object_new_string(result.variant) : NULL);
	json_object_object_add(out, "reason",
	    json_object_new_string(eval_reason_name(result.reason)));
	json_object_object_add(out, "revision", json_object_new_int64(revision));
	ctl_print_json(out);
	json_object_put(out);
}

int
cmd_flag_eval(int argc, char **argv)
{
	struct json_object *context = NULL;
	struct store_item item;
	struct store_ctx ctx;
	struct flag_args a;
	struct arena arena;
	struct flag flag;
	enum store_result rc;

	if (parse_args(argc, argv, ":e:x:", 0, &a) != 0)
		return CTL_USAGE;
	if (a.context != NULL) {
		if (ctl_parse_json(a.context, strlen(a.context), "--context",
		    &context) == -1)
			return CTL_USAGE;
		if (!json_object_is_type(context, json_type_object)) {
			json_object_put(context);
			return ctl_usage("--context must be a JSON object");
		}
	}
	ctl_ctx_init(&ctx, &arena);
	if ((rc = read_flag(&ctx, &a, &flag, &item)) == STORE_OK)
		print_evaluation(a.key, &flag, context, item.mod_revision);
	flag_free(&flag);
	ctl_ctx_free(&ctx);
	json_object_put(context);
	return ctl_store_failed(rc, "the flag");
}
