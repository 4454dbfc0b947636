/*
 * dynconfctl's shared pieces; see ctl.h. Every failure a user can cause
 * ends in one line on stderr that names the command and what was wrong.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/conf.h"
#include "base/util.h"
#include "ctl.h"
#include "store/replica.h"

#define SCAN_PAGE 1000

static const struct ctl_command *current;
static char current_name[64] = "dynconfctl";

void
ctl_set_command(const struct ctl_command *command)
{
	current = command;
	snprintf(current_name, sizeof(current_name), "%s%s%s", command->group,
	    command->name != NULL ? " " : "",
	    command->name != NULL ? command->name : "");
}

const char *
ctl_name(void)
{
	return current_name;
}

static void
say(const char *fmt, va_list ap, const char *tail)
{
	fprintf(stderr, "dynconfctl: %s: ", current_name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "%s\n", tail);
}

void
ctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap, "");
	va_end(ap);
}

int
ctl_usage(const char *fmt, ...)
{
	char tail[128];
	va_list ap;

	snprintf(tail, sizeof(tail), " (see dynconfctl %s --help)", current_name);
	va_start(ap, fmt);
	say(fmt, ap, tail);
	va_end(ap);
	return CTL_USAGE;
}

int
ctl_getopt(int argc, char **argv, const char *optstring,
    const struct option *options)
{
	/* Long options must be known as such to be named when unknown. */
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	int ch;

	opterr = 0;
	ch = getopt_long(argc, argv, optstring, options != NULL ? options : none,
	    NULL);
	if (ch == ':') {
		ctl_usage("option %s needs a value", argv[optind - 1]);
		return '?';
	}
	if (ch == '?') {
		const char *arg = argv[optind - 1];

		if (strncmp(arg, "--", 2) == 0)
			ctl_usage("unknown option %.*s", (int)strcspn(arg, "="), arg);
		else
			ctl_usage("unknown option -%c", optopt);
		return '?';
	}
	return ch;
}

int
ctl_operands(int argc, char **argv, int min, int max, const char *what)
{
	int n = argc - optind;

	if (n < min)
		return ctl_usage("%s is missing", what);
	if (n > max)
		return ctl_usage("unexpected argument %s", argv[optind + max]);
	return 0;
}

int
ctl_number(const char *option, const char *text, long long min,
    long long max, int64_t *out)
{
	const char *errstr;

	*out = strtonum(text, min, max, &errstr);
	if (errstr != NULL)
		return ctl_usage("%s %s is %s (%lld to %lld)", option, text, errstr,
		    min, max);
	return 0;
}

void
ctl_ctx_init(struct store_ctx *ctx, struct arena *arena)
{
	const struct passwd *pw = getpwuid(geteuid());
	char id[17];

	arena_init(arena);
	memset(ctx, 0, sizeof(*ctx));
	ctx->arena = arena;
	/* The audit trail names the command and who ran it (API.md §14). */
	ctx->actor.kind = "dynconfctl";
	ctx->actor.name = arena_concat(arena, "dynconfctl:",
	    pw != NULL ? pw->pw_name : "unknown", (char *)NULL);
	if (random_hex(id, 8) == 0)
		ctx->actor.request_id = arena_strdup(arena, id);
}

void
ctl_ctx_free(struct store_ctx *ctx)
{
	arena_free(ctx->arena);
}

int
ctl_store_failed(enum store_result rc, const char *what)
{
	switch (rc) {
	case STORE_OK:
		return CTL_OK;
	case STORE_NOT_FOUND:
		ctl_error("%s does not exist", what);
		break;
	case STORE_EXISTS:
		ctl_error("%s exists already", what);
		break;
	case STORE_STALE:
		ctl_error("%s changed meanwhile; try again", what);
		break;
	case STORE_UNAVAILABLE:
		ctl_error("etcd is unreachable at %s; nothing was changed",
		    conf.etcd.endpoints);
		break;
	case STORE_OUTCOME_UNKNOWN:
		ctl_error("etcd did not say whether %s was written; look before "
		    "trying again", what);
		break;
	case STORE_GONE:
		ctl_error("the history of %s is no longer kept", what);
		break;
	case STORE_CORRUPT:
		ctl_error("%s is not a valid document", what);
		break;
	case STORE_FAILED:
		ctl_error("etcd failed for %s", what);
		break;
	}
	return CTL_FAILED;
}

struct etcd_client *
ctl_etcd(void)
{
	struct etcd_options options;
	struct etcd_client *client;
	char password[256];

	store_etcd_options(&options, password, sizeof(password));
	options.use_breaker = 0;
	client = etcd_client_new(&options);
	explicit_bzero(password, sizeof(password));
	if (client == NULL)
		ctl_error("cannot make an etcd client for %s", conf.etcd.endpoints);
	return client;
}

int
ctl_etcd_failed(const struct etcd_error *error)
{
	ctl_error("etcd: %s", error->message);
	return CTL_FAILED;
}

/* The kvs of one page to fn; 1 when fn stopped the scan. */
static int
scan_page(const struct etcd_range_result *page, size_t prefix_len,
    ctl_scan_fn fn, void *arg)
{
	size_t i;

	for (i = 0; i < page->count; i++) {
		const struct etcd_kv *kv = &page->kvs[i];

		if (kv->key_len < prefix_len ||
		    memchr(kv->key, '\0', kv->key_len) != NULL)
			continue;
		if (fn(arg, kv->key + prefix_len, kv) != 0)
			return 1;
	}
	return 0;
}

int
ctl_scan(struct etcd_client *client, const char *folder, int64_t *revision,
    ctl_scan_fn fn, void *arg, struct etcd_error *error)
{
	struct etcd_range_options options;
	char *from = xmalloc(strlen(conf.etcd.prefix) + strlen(folder) + 1), *end;
	size_t prefix_len = strlen(conf.etcd.prefix), from_len;
	int rc = ETCD_OK, stop = 0;

	from_len = (size_t)sprintf(from, "%s%s", conf.etcd.prefix, folder);
	memset(&options, 0, sizeof(options));
	end = etcd_prefix_end(from, from_len, &options.range_end_len);
	options.range_end = end;
	options.limit = SCAN_PAGE;
	options.revision = *revision;
	while (!stop) {
		struct etcd_range_result page;

		memset(&page, 0, sizeof(page));
		etcd_set_deadline(client, 0);
		if ((rc = etcd_range(client, from, from_len, &options, &page,
		    error)) != ETCD_OK)
			break;
		/* Every page at the first one's revision: one consistent view. */
		if (options.revision == 0)
			options.revision = *revision = page.revision;
		stop = scan_page(&page, prefix_len, fn, arg) || !page.more ||
		    page.count == 0;
		if (!stop) {
			/* The next page starts just after the last key: key + "\0". */
			free(from);
			from_len = page.kvs[page.count - 1].key_len + 1;
			from = xcalloc(1, from_len + 1);
			memcpy(from, page.kvs[page.count - 1].key, from_len - 1);
		}
		etcd_range_result_free(&page);
	}
	free(from);
	free(end);
	return rc;
}

int
ctl_parse_json(const char *text, size_t len, const char *what,
    struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new();
	enum json_tokener_error jerr;
	size_t end;
	int rc = -1;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	*out = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = (size_t)json_tokener_get_parse_end(tok);
	if (jerr != json_tokener_success)
		ctl_error("%s is not JSON: %s", what, jerr == json_tokener_continue ?
		    "it ends too soon" : json_tokener_error_desc(jerr));
	else if (strspn(text + end, " \t\r\n") != len - end)
		ctl_error("%s: text after the JSON value", what);
	else
		rc = 0;
	if (rc == -1) {
		json_object_put(*out);
		*out = NULL;
	}
	json_tokener_free(tok);
	return rc;
}

char *
ctl_read_file(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *data = NULL;
	size_t size = 0, cap = 0, n;

	if (fp == NULL) {
		ctl_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - size < 65536) {
			cap = cap ? cap * 2 : 65536;
			data = xrealloc(data, cap + 1);
		}
		n = fread(data + size, 1, cap - size, fp);
		size += n;
	} while (n > 0);
	if (ferror(fp)) {
		ctl_error("%s: %s", path, strerror(errno));
		free(data);
		data = NULL;
	} else {
		data[size] = '\0';
		*len = size;
	}
	if (fp != stdin)
		fclose(fp);
	return data;
}

void
ctl_print_json(struct json_object *value)
{
	printf("%s\n", json_object_to_json_string_ext(value,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* A file for secrets: mode 0600, or stdout for NULL or "-". */
FILE *
ctl_open_output(const char *path)
{
	FILE *out;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return stdout;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1 ||
	    (out = fdopen(fd, "w")) == NULL) {
		ctl_error("%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	return out;
}


/*
 * Run as the replica's owner when started as root, so that SQLite's -wal
 * and -shm files, if it makes them, are ones the pool can open.
 */
int
ctl_become_owner(const char *path)
{
	char dir[4096], *slash;
	struct stat st;

	if (geteuid() != 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(path, &st) == -1) {
		if ((slash = strrchr(dir, '/')) != NULL)
			*(slash == dir ? slash + 1 : slash) = '\0';
		if (stat(slash != NULL ? dir : ".", &st) == -1)
			return 0;
	}
	if (st.st_uid == 0)
		return 0;
	/* Effective ids only: ctl_become_root() comes back, to signal the pool. */
	if (setegid(st.st_gid) == -1 || seteuid(st.st_uid) == -1) {
		ctl_error("cannot become the replica's owner (uid %ld): %s",
		    (long)st.st_uid, strerror(errno));
		return -1;
	}
	return 0;
}

/* The configured replica, opened as its owner; NULL after ctl_error. */
struct replica *
ctl_open_replica(int must_exist)
{
	struct replica *r;
	char err[512];

	if (must_exist && access(conf.replica.path, F_OK) == -1) {
		ctl_error("no replica at %s (replica.path): %s", conf.replica.path,
		    strerror(errno));
		return NULL;
	}
	if (ctl_become_owner(conf.replica.path) == -1)
		return NULL;
	if ((r = replica_open(conf.replica.path, err, sizeof(err))) == NULL)
		ctl_error("%s", err);
	return r;
}


void
ctl_become_root(void)
{
	if (getuid() == 0 && geteuid() != 0 &&
	    (seteuid(0) == -1 || setegid(0) == -1))
		ctl_error("cannot become root again: %s", strerror(errno));
}
