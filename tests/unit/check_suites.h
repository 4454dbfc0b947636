/*
 * The unit test suites of the core library (src/), run by check_main.c as
 * one Check runner, and the few helpers they share (check_main.c holds them).
 *
 * The tests run in Check's default fork mode (each test in its own child),
 * but every test also cleans up after itself (environment, temporary files,
 * the global conf) so that CK_FORK=no works too.
 */
#ifndef DYNCONF_CHECK_SUITES_H
#define DYNCONF_CHECK_SUITES_H

#include <stddef.h>

#include <check.h>

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

struct json_object;
struct replica;

Suite	*util_suite(void);
Suite	*buf_suite(void);
Suite	*arena_suite(void);
Suite	*conf_suite(void);
Suite	*conf_reload_suite(void);
Suite	*http_suite(void);
Suite	*router_suite(void);
Suite	*route_table_suite(void);
Suite	*api_suite(void);
Suite	*metrics_suite(void);
Suite	*store_cache_suite(void);
Suite	*log_suite(void);
Suite	*openapi_suite(void);
Suite	*replica_suite(void);
Suite	*audit_suite(void);
Suite	*flag_suite(void);
Suite	*eval_suite(void);
Suite	*auth_suite(void);
Suite	*validate_suite(void);
Suite	*users_suite(void);
Suite	*wait_suite(void);
Suite	*discovery_suite(void);

/* Unset every DYNCONF_* environment variable (the tests set their own). */
void	 test_clear_dynconf_env(void);

/* A fresh private directory (mkdtemp); test_rmdir removes it and its files. */
char	*test_mkdtemp(void);
void	 test_rmdir(char *dir);

/* Write text to dir/name; returns the malloc'ed path. Fails the test on error. */
char	*test_write_file(const char *dir, const char *name, const char *text);

/* The whole file, NUL-terminated, malloc'ed; NULL if it cannot be read. */
char	*test_read_file(const char *path, size_t *len);

/*
 * Parse text as one strict JSON document (nothing after it but whitespace);
 * fails the test, naming what, when it is not. The caller puts the result.
 */
struct json_object *test_json_parse(const char *text, const char *what);

/* The string member name of obj, or NULL when absent or not a string. */
const char *test_json_string(struct json_object *obj, const char *name);

/*
 * A replica in a fresh SQLite file /tmp/check_{name}_{pid}.db, its path
 * written to path; fails the test when it cannot be opened.
 * test_replica_remove closes it and removes the file with its WAL and shm.
 */
struct replica *test_replica_open(const char *name, char *path, size_t size);
void	 test_replica_remove(struct replica *replica, const char *path);

#endif
