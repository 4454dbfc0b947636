/*
 * dynconfctl user import|export: users (API.md §7) in bulk, as JSON lines,
 * one user a line. They are stored as API.md §13 lays them out:
 *
 *	users/<id>			the user's JSON (id, name, email, age,
 *					 other fields as given, created_at, updated_at)
 *	index/users/email/<email>	<id>, so that an email is unique
 *
 * and each user is written with its index in one transaction whose checks
 * are that neither exists, as POST /v1/users does: a taken email is refused
 * by etcd, not by a racy read. Users go 50 to a transaction; when one of
 * them is refused, that batch is written again a user at a time so that
 * every other one still goes in and the refused one is named.
 *
 * The layout and the checks are the few functions under "Layout" below:
 * when the users model of the API lands (model/user.h), call it from there.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/conf.h"
#include "base/util.h"
#include "ctl.h"
#include "store/stored_doc.h"

#define USER_BATCH 50
#define USER_NAME_MAX 200
#define USER_EMAIL_MAX 254
#define USER_AGE_MAX 150

/* ---- Layout (API.md §7 and §13) */

static const char *
user_key(struct arena *arena, const char *id)
{
	return arena_concat(arena, "users/", id, (char *)NULL);
}

/* Emails are unique whatever their case: the index holds them lowercased. */
static const char *
user_email_index_key(struct arena *arena, const char *email)
{
	char *key = arena_concat(arena, "index/users/email/", email, (char *)NULL);
	char *p;

	for (p = key; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return key;
}

static int
uuid_valid(const char *id)
{
	size_t i;

	if (strlen(id) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (id[i] != '-')
				return 0;
		} else if (hex_digit((unsigned char)id[i]) < 0 || isupper((unsigned char)id[i]))
			return 0;
	}
	return 1;
}

/* A UUID version 4, in 37 bytes; -1 without entropy. */
static int
uuid_v4(char *out)
{
	unsigned char b[16];

	if (random_bytes(b, sizeof(b)) == -1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6],
	    b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* local@domain.tld, no spaces or control characters, no '/'. */
static int
email_valid(const char *email)
{
	const char *at = strchr(email, '@'), *p;

	if (at == NULL || at == email || strchr(at + 1, '@') != NULL ||
	    strlen(email) > USER_EMAIL_MAX || strchr(at + 1, '.') == NULL ||
	    at[1] == '.' || email[strlen(email) - 1] == '.')
		return 0;
	for (p = email; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == 0x7f)
			return 0;
	return 1;
}

/* Characters (code points) of UTF-8 text. */
static size_t
utf8_length(const char *text)
{
	size_t n = 0;

	for (; *text != '\0'; text++)
		n += ((unsigned char)*text & 0xc0) != 0x80;
	return n;
}

/* ---- Import */

struct user {
	char		*id;
	char		*email;		/* NULL: none */
	char		*doc;		/* the stored JSON text */
	long		 line;
};

static void
user_free(struct user *u)
{
	free(u->id);
	free(u->email);
	free(u->doc);
	memset(u, 0, sizeof(*u));
}

/* Why doc cannot be a user, or NULL; fills u (free it with user_free). */
static const char *
user_check(struct json_object *doc, struct user *u)
{
	struct json_object *v;
	char id[37], now[32];

	if (!json_object_is_type(doc, json_type_object))
		return "a user is a JSON object";
	if (!json_object_object_get_ex(doc, "name", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    utf8_length(json_object_get_string(v)) < 1 ||
	    utf8_length(json_object_get_string(v)) > USER_NAME_MAX)
		return "name is required: a string of 1 to 200 characters";
	if (json_object_object_get_ex(doc, "email", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_string) ||
	    !email_valid(json_object_get_string(v))))
		return "email is not an email address";
	if (json_object_object_get_ex(doc, "age", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > USER_AGE_MAX))
		return "age is an integer from 0 to 150";
	if (json_object_object_get_ex(doc, "id", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    !uuid_valid(json_object_get_string(v)))
			return "id is a UUID (lowercase, 8-4-4-4-12 hex digits)";
	} else {
		if (uuid_v4(id) == -1)
			return "no randomness for an id";
		json_object_object_add(doc, "id", json_object_new_string(id));
	}
	/* The revision is etcd's; times given (by an export) are kept. */
	json_object_object_del(doc, "revision");
	format_rfc3339(clock_realtime_us() / 1000000, now, sizeof(now));
	if (!json_object_object_get_ex(doc, "created_at", &v) ||
	    !json_object_is_type(v, json_type_string))
		json_object_object_add(doc, "created_at", json_object_new_string(now));
	if (!json_object_object_get_ex(doc, "updated_at", &v) ||
	    !json_object_is_type(v, json_type_string))
		json_object_object_add(doc, "updated_at", json_object_new_string(now));
	json_object_object_get_ex(doc, "id", &v);
	u->id = xstrdup(json_object_get_string(v));
	if (json_object_object_get_ex(doc, "email", &v) && v != NULL)
		u->email = xstrdup(json_object_get_string(v));
	u->doc = xstrdup(json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return NULL;
}

struct import {
	struct user	 batch[USER_BATCH];
	size_t		 count;
	long		 imported;
	long		 refused;
	int		 progress;	/* stderr is a terminal */
	int		 broken;	/* etcd failed: stop */
};

/* users[0..n) in one transaction, if every id and email is free. */
static enum store_result
commit_users(const struct user *users, size_t n, size_t *failed)
{
	struct store_check *checks;
	struct store_op *ops;
	struct store_ctx ctx;
	struct arena arena;
	enum store_result rc;
	size_t i, nchecks = 0, nops = 0;
	int64_t revision;

	ctl_ctx_init(&ctx, &arena);
	checks = arena_alloc(&arena, sizeof(*checks) * 2 * n);
	ops = arena_alloc(&arena, sizeof(*ops) * 2 * n);
	for (i = 0; i < n; i++) {
		checks[nchecks++] = (struct store_check){ .kind = STORE_CHECK_ABSENT,
		    .key = user_key(&arena, users[i].id) };
		ops[nops++] = (struct store_op){ .kind = STORE_OP_PUT,
		    .key = checks[nchecks - 1].key, .value = users[i].doc,
		    .value_len = strlen(users[i].doc) };
		if (users[i].email == NULL)
			continue;
		checks[nchecks++] = (struct store_check){ .kind = STORE_CHECK_ABSENT,
		    .key = user_email_index_key(&arena, users[i].email) };
		ops[nops++] = (struct store_op){ .kind = STORE_OP_PUT,
		    .key = checks[nchecks - 1].key, .value = users[i].id,
		    .value_len = strlen(users[i].id) };
	}
	rc = store_commit(&ctx, checks, nchecks, ops, nops, &revision, failed);
	ctl_ctx_free(&ctx);
	return rc;
}

static void
refuse(struct import *im, long line, const char *fmt, const char *what)
{
	if (im->progress)
		fprintf(stderr, "\r\033[K");
	fprintf(stderr, "dynconfctl: user import: line %ld: ", line);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n");
	im->refused++;
}

/* A refused batch, again a user at a time: every one that can goes in. */
static void
commit_singly(struct import *im)
{
	enum store_result rc;
	size_t i, failed;

	for (i = 0; i < im->count && !im->broken; i++) {
		const struct user *u = &im->batch[i];

		rc = commit_users(u, 1, &failed);
		if (rc == STORE_OK)
			im->imported++;
		else if (rc == STORE_STALE && failed == 0)
			refuse(im, u->line, "user id %s exists", u->id);
		else if (rc == STORE_STALE)
			refuse(im, u->line, "email %s is taken", u->email);
		else {
			ctl_store_failed(rc, "the user");
			im->broken = 1;
		}
	}
}

static void
flush(struct import *im)
{
	enum store_result rc;
	size_t failed, i;

	if (im->count > 0 && !im->broken) {
		rc = commit_users(im->batch, im->count, &failed);
		if (rc == STORE_OK)
			im->imported += (long)im->count;
		else if (rc == STORE_STALE)
			commit_singly(im);
		else {
			ctl_store_failed(rc, "the users");
			im->broken = 1;
		}
	}
	for (i = 0; i < im->count; i++)
		user_free(&im->batch[i]);
	im->count = 0;
	if (im->progress && !im->broken)
		fprintf(stderr, "\r\033[Kdynconfctl: user import: %ld imported, "
		    "%ld refused", im->imported, im->refused);
}

/* Two users of one transaction must not share an id or an email. */
static int
clashes(const struct import *im, const struct user *u)
{
	size_t i;

	for (i = 0; i < im->count; i++)
		if (strcmp(im->batch[i].id, u->id) == 0 ||
		    (u->email != NULL && im->batch[i].email != NULL &&
		    strcasecmp(im->batch[i].email, u->email) == 0))
			return 1;
	return 0;
}

static void
import_line(struct import *im, const char *text, size_t len, long line)
{
	struct json_object *doc;
	struct user u;
	const char *why;
	char what[32];

	if (strspn(text, " \t\r\n") == len)
		return;
	snprintf(what, sizeof(what), "line %ld", line);
	if (ctl_parse_json(text, len, what, &doc) == -1) {
		im->refused++;
		return;
	}
	memset(&u, 0, sizeof(u));
	u.line = line;
	why = user_check(doc, &u);
	json_object_put(doc);
	if (why != NULL) {
		refuse(im, line, "%s", why);
		user_free(&u);
		return;
	}
	if (clashes(im, &u))
		flush(im);
	im->batch[im->count++] = u;
	if (im->count == USER_BATCH)
		flush(im);
}

static const struct option file_options[] = {
	{ "file", required_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

/* --file path and no operands; path stays NULL without it. */
static int
parse_file(int argc, char **argv, const char **path)
{
	int ch;

	*path = NULL;
	while ((ch = ctl_getopt(argc, argv, ":f:", file_options)) != -1) {
		if (ch != 'f')
			return CTL_USAGE;
		*path = optarg;
	}
	return ctl_operands(argc, argv, 0, 0, "");
}

int
cmd_user_import(int argc, char **argv)
{
	struct import im;
	const char *path;
	FILE *in;
	char *text = NULL;
	size_t cap = 0;
	ssize_t len;
	long line = 0;

	if (parse_file(argc, argv, &path) != 0)
		return CTL_USAGE;
	if ((in = path == NULL || strcmp(path, "-") == 0 ? stdin :
	    fopen(path, "r")) == NULL) {
		ctl_error("%s: %s", path, strerror(errno));
		return CTL_FAILED;
	}
	memset(&im, 0, sizeof(im));
	im.progress = isatty(STDERR_FILENO);
	while (!im.broken && (len = getline(&text, &cap, in)) != -1)
		import_line(&im, text, (size_t)len, ++line);
	flush(&im);
	free(text);
	if (in != stdin)
		fclose(in);
	if (im.progress)
		fprintf(stderr, "\r\033[K");
	fprintf(stderr, "dynconfctl: user import: %ld imported, %ld refused%s\n",
	    im.imported, im.refused, im.broken ? ", stopped" : "");
	return im.refused > 0 || im.broken ? CTL_FAILED : CTL_OK;
}

/* ---- Export */

static int
export_user(void *arg, const char *key, const struct etcd_kv *kv)
{
	struct json_object *doc;

	/* A document that is not JSON is logged and left out, as lists do. */
	if ((doc = stored_doc_parse(key, kv->value, kv->value_len)) == NULL)
		return 0;
	fprintf(arg, "%s\n", json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	return 0;
}

int
cmd_user_export(int argc, char **argv)
{
	struct etcd_client *client;
	struct etcd_error error;
	const char *path;
	FILE *out;
	int64_t revision = 0;
	int rc;

	if (parse_file(argc, argv, &path) != 0)
		return CTL_USAGE;
	if ((client = ctl_etcd()) == NULL)
		return CTL_FAILED;
	if ((out = ctl_open_output(path)) == NULL) {
		etcd_client_free(client);
		return CTL_FAILED;
	}
	rc = ctl_scan(client, "users/", &revision, export_user, out, &error);
	etcd_client_free(client);
	if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
		ctl_error("%s: %s", path, strerror(errno));
		return CTL_FAILED;
	}
	if (rc != ETCD_OK)
		return ctl_etcd_failed(&error);
	return CTL_OK;
}
