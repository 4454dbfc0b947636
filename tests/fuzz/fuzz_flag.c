/*
 * libFuzzer harness for the flag document and its evaluation: arbitrary
 * bytes are parsed as JSON (json-c, as permissive as it gets: NaN,
 * Infinity, bad UTF-8 all come through), given to flag_parse, and a flag
 * that parses is printed with flag_to_json, parsed back (which must succeed
 * and, after one normalisation, print the same text: the round trip is
 * checked, not just survived) and evaluated against a few fixed contexts
 * and against the document itself. Seeds: tests/fuzz/corpus/flag.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "model/eval.h"
#include "model/flag.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const context_texts[] = {
	"{}",
	"{\"targetingKey\":\"user-1\",\"region\":\"US\",\"age\":42,"
	"\"email\":\"bob@example.com\",\"version\":\"1.2.3-rc.1\","
	"\"tags\":[\"a\",\"b\",1],\"user\":{\"address\":{\"country\":\"US\"},"
	"\"age\":\"17\"},\"a\":null,\"b\":true,\"n\":-1.5e3}",
	"{\"targetingKey\":42,\"age\":\"17\",\"region\":[\"US\"],\"a\":{}}",
	"{\"targetingKey\":true,\"version\":\"v10.0.0\",\"email\":\"\"}",
	"{\"targetingKey\":1.5e300,\"a\":\"1\",\"b\":\"x.y\"}",
};

static struct json_object *contexts[sizeof(context_texts) / sizeof(context_texts[0])];

static void
contexts_init(void)
{
	size_t i;

	if (contexts[0] != NULL)
		return;
	for (i = 0; i < sizeof(contexts) / sizeof(contexts[0]); i++)
		if ((contexts[i] = json_tokener_parse(context_texts[i])) == NULL)
			abort();
}

static void
evaluate(const struct flag *flag, struct json_object *context)
{
	struct eval_result result;

	eval_flag(flag, context, &result);
	if (result.reason > EVAL_DISABLED || eval_reason_name(result.reason) == NULL)
		abort();
	if (!result.has_value && result.value != NULL)
		abort();
	if (result.variant != NULL && strlen(result.variant) == 0)
		abort();
	if (result.has_value)	/* a value the flag owns: reading it is safe */
		(void)json_object_to_json_string(result.value);
}

/* The flag printed, as a malloc'ed string. */
static char *
print(const struct flag *flag)
{
	struct json_object *out = flag_to_json(flag, 7);
	char *text;

	text = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	if (text == NULL)
		abort();
	json_object_put(out);
	return text;
}

/* Parse text as a flag, which must succeed; the caller frees *flag. */
static void
reparse(const char *text, const char *key, struct flag *flag,
    struct json_object **doc)
{
	struct flag_errors errors;

	if ((*doc = json_tokener_parse(text)) == NULL) {
		fprintf(stderr, "printed flag is not JSON: %s\n", text);
		abort();
	}
	if (flag_parse(*doc, key, flag, &errors) == -1) {
		fprintf(stderr, "printed flag refused: %s: %s: %s\n", text,
		    errors.items[0].field, errors.items[0].message);
		abort();
	}
}

/*
 * Printed, parsed back and printed again, twice: every print must parse,
 * and from the second on the text must not change. (The first may: json-c
 * prints some numbers it took from non-JSON input, like "-0e", in a form
 * it then reads differently.)
 */
static void
round_trip(const struct flag *flag)
{
	struct json_object *doc2, *doc3;
	struct flag second, third;
	char *text1, *text2, *text3;

	text1 = print(flag);
	reparse(text1, flag->key, &second, &doc2);
	text2 = print(&second);
	reparse(text2, flag->key, &third, &doc3);
	text3 = print(&third);
	if (strcmp(text2, text3) != 0) {
		fprintf(stderr, "printed differently:\n%s\n%s\n", text2, text3);
		abort();
	}
	flag_free(&third);
	flag_free(&second);
	json_object_put(doc3);
	json_object_put(doc2);
	free(text3);
	free(text2);
	free(text1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok;
	struct json_object *doc, *key;
	struct flag_errors errors;
	struct flag flag;
	const char *name = "fuzz";
	size_t i;

	contexts_init();
	if (size > 1 << 20 || (tok = json_tokener_new_ex(64)) == NULL)
		return 0;
	doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (doc == NULL)
		return 0;
	/* A body naming its own key is parsed without a path key, as stored. */
	if (json_object_object_get_ex(doc, "key", &key))
		name = NULL;
	if (flag_parse(doc, name, &flag, &errors) == 0) {
		round_trip(&flag);
		evaluate(&flag, NULL);
		for (i = 0; i < sizeof(contexts) / sizeof(contexts[0]); i++)
			evaluate(&flag, contexts[i]);
		evaluate(&flag, doc);
	} else if (errors.count == 0 || errors.count > FLAG_MAX_ERRORS)
		abort();
	flag_free(&flag);
	json_object_put(doc);
	return 0;
}
