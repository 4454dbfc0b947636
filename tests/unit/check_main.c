/*
 * The unit test runner: one SRunner over every suite of check_suites.h,
 * CK_NORMAL output, exit status non-zero when any test failed. Also the
 * helpers the suites share.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "store/replica.h"

#include "check_suites.h"

extern char **environ;

void
test_clear_dynconf_env(void)
{
	char name[256];
	size_t i;

	/* unsetenv() reshuffles environ: restart the scan after each removal. */
again:
	for (i = 0; environ != NULL && environ[i] != NULL; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t n = eq != NULL ? (size_t)(eq - environ[i]) : strlen(environ[i]);

		if (strncmp(environ[i], "DYNCONF_", 8) != 0 || n >= sizeof(name))
			continue;
		memcpy(name, environ[i], n);
		name[n] = '\0';
		unsetenv(name);
		goto again;
	}
}

char *
test_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;
	size_t n;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = strlen(tmp) + sizeof("/dynconf-check-XXXXXX");
	dir = malloc(n);
	ck_assert_ptr_nonnull(dir);
	snprintf(dir, n, "%s/dynconf-check-XXXXXX", tmp);
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
	return dir;
}

void
test_rmdir(char *dir)
{
	struct dirent *de;
	DIR *d;

	if (dir == NULL)
		return;
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char path[4096];

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

char *
test_write_file(const char *dir, const char *name, const char *text)
{
	size_t n = strlen(dir) + strlen(name) + 2, len = strlen(text);
	char *path = malloc(n);
	FILE *fp;

	ck_assert_ptr_nonnull(path);
	snprintf(path, n, "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_msg(fp != NULL, "fopen %s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	return path;
}

char *
test_read_file(const char *path, size_t *lenp)
{
	char *data = NULL;
	size_t len = 0, cap = 0;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			data = realloc(data, cap);
			ck_assert_ptr_nonnull(data);
		}
		n = fread(data + len, 1, cap - len - 1, fp);
		len += n;
		if (n == 0)
			break;
	}
	fclose(fp);
	data[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return data;
}

struct json_object *
test_json_parse(const char *text, const char *what)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t len, end;

	ck_assert_msg(text != NULL, "%s: no text", what);
	len = strlen(text);
	tok = json_tokener_new_ex(100000);	/* the tests echo deep documents */
	ck_assert_ptr_nonnull(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* Include the NUL so that a top-level number is terminated. */
	obj = json_tokener_parse_ex(tok, text, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	ck_assert_msg(jerr == json_tokener_success, "%s: not valid JSON (%s): %.2000s",
	    what, json_tokener_error_desc(jerr), text);
	while (end < len && strchr(" \t\r\n", text[end]) != NULL)
		end++;
	ck_assert_msg(end >= len, "%s: trailing data after the JSON: %.2000s", what, text);
	return obj;
}

const char *
test_json_string(struct json_object *obj, const char *name)
{
	struct json_object *member;

	if (!json_object_object_get_ex(obj, name, &member) ||
	    !json_object_is_type(member, json_type_string))
		return NULL;
	return json_object_get_string(member);
}

struct replica *
test_replica_open(const char *name, char *path, size_t size)
{
	struct replica *replica;
	char err[256];

	snprintf(path, size, "/tmp/check_%s_%ld.db", name, (long)getpid());
	unlink(path);
	replica = replica_open(path, err, sizeof(err));
	ck_assert_msg(replica != NULL, "open %s: %s", path, err);
	return replica;
}

void
test_replica_remove(struct replica *replica, const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char file[300];
	size_t i;

	replica_close(replica);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		unlink(file);
	}
}

int
main(void)
{
	Suite *(*const suites[])(void) = {
		util_suite, buf_suite, arena_suite, conf_suite, conf_reload_suite,
		http_suite,
		router_suite, route_table_suite, api_suite, metrics_suite,
		openapi_suite, replica_suite, audit_suite, flag_suite, eval_suite,
		auth_suite,
		store_cache_suite, log_suite, validate_suite, users_suite,
		wait_suite, discovery_suite,
	};
	SRunner *sr;
	size_t i;
	int failed;

	test_clear_dynconf_env();
	sr = srunner_create(suites[0]());
	for (i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
