/*
 * dynconfctl backup|restore: every key under etcd.prefix, as JSON lines.
 *
 *	{"dynconf_backup":1,"prefix":"/dynconf/","created_at":"..."}
 *	{"key":"config/app/x","value":"3"}	one a key, in key order
 *	{"end":true,"keys":N,"revision":R,"finished_at":"..."}
 *
 * The keys are read at one revision (a paginated range pinned to the first
 * page's revision), so the backup is one consistent snapshot. Keys are
 * relative to the prefix, so a backup restores under another prefix too.
 * A key or value that is not UTF-8 text goes as "key_base64" or
 * "value_base64". Keys held by a lease (service instances, locks) belong to
 * live sessions and are left out, and counted.
 *
 * restore reads and checks the whole file before it writes anything (a
 * truncated backup has no end line and is refused), then writes into an
 * empty prefix, 100 keys to a transaction; --force empties the prefix first.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "base/conf.h"
#include "base/util.h"
#include "ctl.h"

#define BACKUP_FORMAT 1
#define RESTORE_BATCH 100

static int
is_text(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data, *end = p + len;
	size_t n;

	while (p < end) {
		if (*p == '\0' || (n = utf8_sequence(p, end)) == 0)
			return 0;
		p += n;
	}
	return 1;
}

/* name (text) or name_base64, whichever data can be. */
static void
add_bytes(struct json_object *obj, const char *name, const char *data, size_t len)
{
	char field[32];
	unsigned char *b64;

	if (is_text(data, len)) {
		json_object_object_add(obj, name, json_object_new_string_len(data, (int)len));
		return;
	}
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock(b64, (const unsigned char *)data, (int)len);
	snprintf(field, sizeof(field), "%s_base64", name);
	json_object_object_add(obj, field, json_object_new_string((char *)b64));
	free(b64);
}

struct backup {
	FILE	*out;
	size_t	 keys;
	size_t	 leased;
};

static int
backup_kv(void *arg, const char *key, const struct etcd_kv *kv)
{
	struct backup *b = arg;
	struct json_object *line;

	if (kv->lease != 0) {
		b->leased++;
		return 0;
	}
	line = json_object_new_object();
	add_bytes(line, "key", key, strlen(key));
	add_bytes(line, "value", kv->value, kv->value_len);
	fprintf(b->out, "%s\n", json_object_to_json_string_ext(line,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(line);
	b->keys++;
	return 0;
}

static void
print_string(FILE *out, const char *text)
{
	struct json_object *s = json_object_new_string(text);

	fputs(json_object_to_json_string_ext(s, JSON_C_TO_STRING_NOSLASHESCAPE), out);
	json_object_put(s);
}

static const struct option file_options[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "force", no_argument, NULL, 'F' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_backup(int argc, char **argv)
{
	struct etcd_client *client = NULL;
	struct etcd_error error;
	struct backup b;
	const char *path = NULL;
	char when[32];
	int64_t revision = 0;
	int ch, rc;

	while ((ch = ctl_getopt(argc, argv, ":f:", file_options)) != -1) {
		if (ch != 'f')
			return CTL_USAGE;
		path = optarg;
	}
	if (ctl_operands(argc, argv, 0, 0, "") != 0)
		return CTL_USAGE;
	memset(&b, 0, sizeof(b));
	if ((client = ctl_etcd()) == NULL || (b.out = ctl_open_output(path)) == NULL) {
		if (client != NULL)
			etcd_client_free(client);
		return CTL_FAILED;
	}
	format_rfc3339(clock_realtime_us() / 1000000, when, sizeof(when));
	fprintf(b.out, "{\"dynconf_backup\":%d,\"prefix\":", BACKUP_FORMAT);
	print_string(b.out, conf.etcd.prefix);
	fprintf(b.out, ",\"created_at\":\"%s\"}\n", when);
	/* The end line names the revision: it is known once a page is read. */
	rc = ctl_scan(client, "", &revision, backup_kv, &b, &error);
	etcd_client_free(client);
	if (rc != ETCD_OK) {
		fprintf(b.out, "{\"error\":\"incomplete\"}\n");
		if (b.out != stdout)
			fclose(b.out);
		return ctl_etcd_failed(&error);
	}
	format_rfc3339(clock_realtime_us() / 1000000, when, sizeof(when));
	fprintf(b.out, "{\"end\":true,\"keys\":%zu,\"revision\":%lld,"
	    "\"finished_at\":\"%s\"}\n", b.keys, (long long)revision, when);
	if (fflush(b.out) != 0 || (b.out != stdout && fclose(b.out) != 0)) {
		ctl_error("%s: cannot write", path);
		return CTL_FAILED;
	}
	fprintf(stderr, "dynconfctl: backup: %zu keys at revision %lld%s\n", b.keys,
	    (long long)revision, b.leased ? "; keys held by leases left out" : "");
	return CTL_OK;
}

/* ---- restore */

struct restored {
	char	*key;
	char	*value;
	size_t	 value_len;
};

struct restore {
	struct restored	*items;
	size_t		 count;
	int		 ended;
};

/* name or name_base64 of obj into a malloc'd *out; -1 when neither is there. */
static int
get_bytes(struct json_object *obj, const char *name, char **out, size_t *len)
{
	struct json_object *v;
	char field[32];
	const char *text;
	size_t n;
	int decoded;

	if (json_object_object_get_ex(obj, name, &v) &&
	    json_object_is_type(v, json_type_string)) {
		*len = (size_t)json_object_get_string_len(v);
		*out = xmalloc(*len + 1);
		memcpy(*out, json_object_get_string(v), *len + 1);
		return 0;
	}
	snprintf(field, sizeof(field), "%s_base64", name);
	if (!json_object_object_get_ex(obj, field, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	text = json_object_get_string(v);
	n = strlen(text);
	*out = xmalloc(n / 4 * 3 + 1);
	if (n % 4 != 0 || (decoded = EVP_DecodeBlock((unsigned char *)*out,
	    (const unsigned char *)text, (int)n)) < 0) {
		free(*out);
		return -1;
	}
	/* EVP_DecodeBlock counts the padding's bytes too. */
	*len = (size_t)decoded - (n > 0 && text[n - 1] == '=') -
	    (n > 1 && text[n - 2] == '=');
	(*out)[*len] = '\0';
	return 0;
}

/* One line of the body (number line): a key, or the end. -1 after ctl_error. */
static int
restore_line(struct restore *r, struct json_object *obj, long line)
{
	struct json_object *v;
	struct restored *x;

	if (r->ended) {
		ctl_error("line %ld: text after the end line", line);
		return -1;
	}
	if (json_object_object_get_ex(obj, "end", &v)) {
		if (!json_object_object_get_ex(obj, "keys", &v) ||
		    json_object_get_int64(v) != (int64_t)r->count) {
			ctl_error("line %ld: the end line counts %lld keys, the backup "
			    "holds %zu", line, (long long)json_object_get_int64(v), r->count);
			return -1;
		}
		r->ended = 1;
		return 0;
	}
	r->items = xrealloc(r->items, (r->count + 1) * sizeof(*r->items));
	x = &r->items[r->count];
	if (get_bytes(obj, "key", &x->key, &x->value_len) == -1) {
		ctl_error("line %ld: no key", line);
		return -1;
	}
	if (x->key[0] == '\0' || strlen(x->key) != x->value_len ||
	    get_bytes(obj, "value", &x->value, &x->value_len) == -1) {
		ctl_error("line %ld: no value, or a key that cannot be one", line);
		free(x->key);
		return -1;
	}
	r->count++;
	return 0;
}

/* The whole backup, checked, into r; -1 after ctl_error. */
static int
read_backup(const char *path, struct restore *r)
{
	struct json_object *obj, *v;
	char *text, *line, *next, what[32];
	size_t len;
	long number = 0;
	int rc = 0;

	if ((text = ctl_read_file(path == NULL ? "-" : path, &len)) == NULL)
		return -1;
	for (line = text; rc == 0 && line < text + len; line = next) {
		next = strchr(line, '\n');
		next = next != NULL ? next + 1 : text + len;
		snprintf(what, sizeof(what), "line %ld", ++number);
		if (ctl_parse_json(line, (size_t)(next - line), what, &obj) == -1) {
			rc = -1;
		} else if (!json_object_is_type(obj, json_type_object)) {
			ctl_error("line %ld is not a JSON object", number);
			rc = -1;
		} else if (number == 1 && (!json_object_object_get_ex(obj,
		    "dynconf_backup", &v) || json_object_get_int(v) != BACKUP_FORMAT)) {
			ctl_error("%s is not a dynconf backup", path ? path : "the input");
			rc = -1;
		} else if (number > 1)
			rc = restore_line(r, obj, number);
		json_object_put(obj);
	}
	free(text);
	if (rc == 0 && !r->ended) {
		ctl_error("the backup ends early (no end line): nothing restored");
		rc = -1;
	}
	return rc;
}

/* Keys under the prefix: how many, or -1 after ctl_error. */
static int64_t
prefix_keys(struct etcd_client *client)
{
	struct etcd_range_options options;
	struct etcd_range_result result;
	struct etcd_error error;
	size_t len = strlen(conf.etcd.prefix);
	int64_t count;
	char *end;

	memset(&options, 0, sizeof(options));
	memset(&result, 0, sizeof(result));
	options.range_end = end = etcd_prefix_end(conf.etcd.prefix, len,
	    &options.range_end_len);
	options.count_only = 1;
	if (etcd_range(client, conf.etcd.prefix, len, &options, &result, &error) !=
	    ETCD_OK) {
		free(end);
		ctl_etcd_failed(&error);
		return -1;
	}
	free(end);
	count = result.total;
	etcd_range_result_free(&result);
	return count;
}

/* Everything under the prefix, gone (--force). */
static int
empty_prefix(struct etcd_client *client)
{
	struct etcd_error error;
	size_t len = strlen(conf.etcd.prefix), end_len;
	char *end = etcd_prefix_end(conf.etcd.prefix, len, &end_len);
	int64_t deleted, revision;
	int rc;

	rc = etcd_delete(client, conf.etcd.prefix, len, end, end_len, &deleted,
	    &revision, &error);
	free(end);
	if (rc != ETCD_OK)
		return ctl_etcd_failed(&error);
	fprintf(stderr, "dynconfctl: restore: %lld keys deleted first\n",
	    (long long)deleted);
	return 0;
}

/* The keys, RESTORE_BATCH to a transaction, the first while the prefix is empty. */
static int
write_keys(const struct restore *r, int64_t *revision)
{
	struct store_check empty = { .kind = STORE_CHECK_PREFIX_EMPTY, .key = "" };
	struct store_op ops[RESTORE_BATCH];
	enum store_result rc = STORE_OK;
	size_t i, n, failed;

	for (i = 0; rc == STORE_OK && i < r->count; i += n) {
		struct store_ctx ctx;
		struct arena arena;

		memset(ops, 0, sizeof(ops));
		for (n = 0; n < RESTORE_BATCH && i + n < r->count; n++)
			ops[n] = (struct store_op){ .kind = STORE_OP_PUT,
			    .key = r->items[i + n].key, .value = r->items[i + n].value,
			    .value_len = r->items[i + n].value_len };
		ctl_ctx_init(&ctx, &arena);
		/* The keys as they were backed up: no audit record of its own. */
		ctx.actor.name = NULL;
		rc = store_commit(&ctx, &empty, i == 0 ? 1 : 0, ops, n, revision,
		    &failed);
		ctl_ctx_free(&ctx);
	}
	if (rc == STORE_STALE) {
		ctl_error("the prefix %s is no longer empty: someone wrote meanwhile",
		    conf.etcd.prefix);
		return CTL_FAILED;
	}
	if (rc != STORE_OK && i > 0)
		ctl_error("%zu keys of %zu were written before etcd failed", i - n,
		    r->count);
	return ctl_store_failed(rc, "the keys");
}

int
cmd_restore(int argc, char **argv)
{
	struct etcd_client *client = NULL;
	struct restore r;
	const char *path = NULL;
	int64_t present, revision = 0;
	int ch, force = 0, rc = CTL_FAILED;
	size_t i;

	while ((ch = ctl_getopt(argc, argv, ":f:F", file_options)) != -1) {
		if (ch == 'f')
			path = optarg;
		else if (ch == 'F')
			force = 1;
		else
			return CTL_USAGE;
	}
	if (ctl_operands(argc, argv, 0, 0, "") != 0)
		return CTL_USAGE;
	memset(&r, 0, sizeof(r));
	if (read_backup(path, &r) == -1 || (client = ctl_etcd()) == NULL ||
	    store_open_remote() == -1 || (present = prefix_keys(client)) == -1)
		goto done;
	if (present > 0 && !force) {
		ctl_error("the prefix %s holds %lld keys: restore writes only into an "
		    "empty one (--force deletes them first)", conf.etcd.prefix,
		    (long long)present);
		goto done;
	}
	if (present > 0 && empty_prefix(client) != 0)
		goto done;
	if ((rc = write_keys(&r, &revision)) == CTL_OK)
		fprintf(stderr, "dynconfctl: restore: %zu keys written under %s, at "
		    "revision %lld\n", r.count, conf.etcd.prefix, (long long)revision);
done:
	for (i = 0; i < r.count; i++) {
		free(r.items[i].key);
		free(r.items[i].value);
	}
	free(r.items);
	if (client != NULL)
		etcd_client_free(client);
	return rc;
}
