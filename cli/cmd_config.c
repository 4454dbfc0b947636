/*
 * dynconfctl config get|set|list: dynamic configuration (API.md §6). The
 * etcd value is the JSON text of the value itself, as the API writes it; a
 * value someone wrote into etcd that is not JSON reads back as a string.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"
#include "model/keys.h"

#define CONFIG_FOLDER "config/"
#define CONFIG_PAGE 1000

static int
key_ok(const char *key)
{
	if (config_key_valid(key))
		return 1;
	ctl_usage("%.200s is not a config key: 1 to %d names of "
	    "[A-Za-z0-9][A-Za-z0-9._-]* joined by '/', at most %d bytes", key,
	    CONFIG_KEY_MAX_SEGMENTS, CONFIG_KEY_MAX_LEN);
	return 0;
}

/* The value as JSON text: the stored text, or that text as a JSON string. */
static const char *
value_text(const struct store_item *item, struct json_object **holder)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *value;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	value = json_tokener_parse_ex(tok, item->value, (int)item->value_len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != item->value_len) {
		json_object_put(value);
		value = json_object_new_string_len(item->value, (int)item->value_len);
	}
	json_tokener_free(tok);
	*holder = value;
	return value == NULL ? "null" : json_object_to_json_string_ext(value,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

int
cmd_config_get(int argc, char **argv)
{
	struct json_object *holder = NULL;
	struct store_item item;
	struct store_ctx ctx;
	struct arena arena;
	enum store_result rc;

	if (ctl_getopt(argc, argv, ":", NULL) != -1 ||
	    ctl_operands(argc, argv, 1, 1, "the config key") != 0 ||
	    !key_ok(argv[optind]))
		return CTL_USAGE;
	ctl_ctx_init(&ctx, &arena);
	rc = store_get(&ctx, arena_concat(&arena, CONFIG_FOLDER, argv[optind],
	    (char *)NULL), 1, &item);
	if (rc == STORE_OK) {
		printf("%s\n", value_text(&item, &holder));
		json_object_put(holder);
	}
	ctl_ctx_free(&ctx);
	return ctl_store_failed(rc, "the config entry");
}

int
cmd_config_set(int argc, char **argv)
{
	struct store_condition any = { .kind = STORE_IF_ANY };
	struct json_object *value;
	struct store_item item;
	struct store_ctx ctx;
	struct arena arena;
	enum store_result rc;
	const char *text;
	int created;

	if (ctl_getopt(argc, argv, ":", NULL) != -1 ||
	    ctl_operands(argc, argv, 2, 2, "the key or the value") != 0 ||
	    !key_ok(argv[optind]))
		return CTL_USAGE;
	if (ctl_parse_json(argv[optind + 1], strlen(argv[optind + 1]),
	    "the value (quote a string: '\"text\"')", &value) == -1)
		return CTL_USAGE;
	/* Stored as the API stores it: the value's JSON, printed plain. */
	text = value == NULL ? "null" : json_object_to_json_string_ext(value,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	ctl_ctx_init(&ctx, &arena);
	rc = store_put(&ctx, arena_concat(&arena, CONFIG_FOLDER, argv[optind],
	    (char *)NULL), text, strlen(text), 0, &any, &item, &created);
	if (rc == STORE_OK)
		fprintf(stderr, "dynconfctl: config %s %s at revision %lld\n",
		    argv[optind], created ? "created" : "replaced",
		    (long long)item.mod_revision);
	json_object_put(value);
	ctl_ctx_free(&ctx);
	return ctl_store_failed(rc, "the config entry");
}

static const struct option list_options[] = {
	{ "prefix", required_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_config_list(int argc, char **argv)
{
	enum store_result rc = STORE_OK;
	const char *prefix = "";
	int64_t start, total = 1;
	int ch;

	while ((ch = ctl_getopt(argc, argv, ":p:", list_options)) != -1) {
		if (ch != 'p')
			return CTL_USAGE;
		prefix = optarg;
	}
	if (ctl_operands(argc, argv, 0, 0, "") != 0)
		return CTL_USAGE;
	if (!config_prefix_valid(prefix))
		return ctl_usage("--prefix %.200s is not the start of a config key", prefix);
	for (start = 0; rc == STORE_OK && start < total; start += CONFIG_PAGE) {
		struct store_item *found;
		struct store_ctx ctx;
		struct arena arena;
		size_t count = 0, i;

		ctl_ctx_init(&ctx, &arena);
		rc = store_list(&ctx, arena_concat(&arena, CONFIG_FOLDER, prefix,
		    (char *)NULL), CONFIG_PAGE, start, &found, &count, &total);
		for (i = 0; rc == STORE_OK && i < count; i++) {
			struct json_object *holder = NULL;

			printf("%s\t%s\n", found[i].key + strlen(CONFIG_FOLDER),
			    value_text(&found[i], &holder));
			json_object_put(holder);
		}
		ctl_ctx_free(&ctx);
		if (count == 0)
			break;
	}
	return ctl_store_failed(rc, "the config list");
}
