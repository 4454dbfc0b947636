/*
 * Unit tests of the configuration: defaults, the INI file (sections,
 * comments, quotes, errors naming file:line), DYNCONF_<SECTION>_<KEY>
 * environment overrides, the post-load checks, and that every setting is
 * documented in the sample configuration etc/dynconf.conf.in.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"

#include "check_suites.h"

#define SAMPLE_CONF TOP_SRCDIR "/etc/dynconf.conf.in"

static char *tmpdir;

static void
setup(void)
{
	test_clear_dynconf_env();
	tmpdir = test_mkdtemp();
}

static void
teardown(void)
{
	test_clear_dynconf_env();
	test_rmdir(tmpdir);
	tmpdir = NULL;
}

static int
cpu_count(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus > 0 && cpus <= 256 ? (int)cpus : 1;
}

/* Load text as a configuration file; returns conf_load's result. */
static int
load_text(struct conf *c, const char *text, char *err, size_t errlen,
    char **pathp)
{
	char *path = test_write_file(tmpdir, "dynconf.conf", text);
	int rc;

	err[0] = '\0';
	rc = conf_load(c, path, err, errlen);
	if (pathp != NULL)
		*pathp = path;
	else
		free(path);
	return rc;
}

START_TEST(test_defaults)
{
	struct conf c;
	char err[1024] = "";

	memset(&c, 0x5a, sizeof(c));
	ck_assert_msg(conf_load(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.server.listen, "/run/dynconf/dynconf.sock");
	ck_assert_int_eq(c.server.socket_mode, 0660);
	ck_assert_str_eq(c.server.socket_owner, "");
	ck_assert_str_eq(c.server.socket_group, "");
	ck_assert_int_eq(c.server.backlog, 4096);
	ck_assert_int_eq(c.server.processes, cpu_count());
	ck_assert(c.server.max_requests == 100000);
	ck_assert_int_eq(c.server.shutdown_timeout, 30);
	ck_assert(c.server.max_body == 1048576);	/* API.md §1: 1 MiB */
	ck_assert_int_eq(c.server.request_timeout, 10000);
	ck_assert_int_eq(c.server.max_watches, 10000);	/* thousands: issue 13 */
	ck_assert_str_eq(strrchr(c.server.wait_socket, '/'), "/wait.sock");
	ck_assert_int_eq(strncmp(c.server.wait_socket, c.replica.path,
	    (size_t)(strrchr(c.replica.path, '/') - c.replica.path + 1)), 0);
	ck_assert_str_eq(c.server.user, "");
	ck_assert_str_eq(c.server.pidfile, "");
	ck_assert_str_eq(c.etcd.endpoints, "http://127.0.0.1:2379");
	ck_assert_str_eq(c.etcd.prefix, "/dynconf/");	/* API.md §13 */
	ck_assert_int_eq(c.etcd.timeout, 2000);
	ck_assert_int_eq(c.auth.mode, AUTH_MODE_ON);
	ck_assert_int_eq(c.log.level, LOG_LEVEL_INFO);
	ck_assert_int_eq(c.log.format, LOG_FORMAT_TEXT);
	ck_assert_str_eq(c.log.target, "stderr");
	ck_assert_msg(strstr(conf_default_path(), "dynconf.conf") != NULL,
	    "default path %s", conf_default_path());
}
END_TEST

START_TEST(test_processes_zero_is_cpu_count)
{
	struct conf c;
	char err[1024];

	ck_assert_msg(load_text(&c, "[server]\nprocesses = 0\n", err, sizeof(err),
	    NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.processes, cpu_count());
	ck_assert_int_gt(c.server.processes, 0);
	setenv("DYNCONF_SERVER_PROCESSES", "0", 1);
	ck_assert_msg(conf_load(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.server.processes, cpu_count());
	ck_assert_msg(load_text(&c, "[server]\nprocesses = 7\n", err, sizeof(err),
	    NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.processes, cpu_count());	/* env wins */
	unsetenv("DYNCONF_SERVER_PROCESSES");
	ck_assert_msg(load_text(&c, "[server]\nprocesses = 7\n", err, sizeof(err),
	    NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.processes, 7);
}
END_TEST

START_TEST(test_write_processes_zero_is_four_per_reader)
{
	struct conf c;
	char err[1024];

	ck_assert_msg(load_text(&c, "[server]\nprocesses = 3\n", err, sizeof(err),
	    NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.write_processes, 12);
	ck_assert_msg(load_text(&c, "[server]\nprocesses = 64\nwrite_processes = 0\n",
	    err, sizeof(err), NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.write_processes, 256);
	ck_assert_msg(load_text(&c, "[server]\nprocesses = 200\n", err, sizeof(err),
	    NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.write_processes, 256);	/* the range's top */
	ck_assert_msg(load_text(&c, "[server]\nprocesses = 3\nwrite_processes = 5\n",
	    err, sizeof(err), NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.write_processes, 5);
}
END_TEST

static const char full_file[] =
    "# dynconf test configuration\n"
    "; semicolon comments too\n"
    "\n"
    "[server]\n"
    "listen = \"/tmp/dynconf test.sock\"\n"
    "  socket_mode   =   0640   \n"
    "socket_owner=www-data\n"
    "socket_group = \"www-data\"\n"
    "backlog = 128\n"
    "\t# indented comment\n"
    "processes = 4\n"
    "max_requests = 0\n"
    "shutdown_timeout = 5\n"
    "max_body = 2048\n"
    "request_timeout = 250\n"
    "user = dynconf\n"
    "group = dynconf\n"
    "pidfile = /run/dynconf.pid\n"
    "metrics_file = /tmp/metrics\n"
    "\n"
    "[ etcd ]\n"
    "endpoints = \"http://10.0.0.1:2379,http://10.0.0.2:2379\"\n"
    "prefix = /test/prefix/\n"
    "timeout = 50\n"
    "\n"
    "[replica]\n"
    "path = \"\"\n"
    "\n"
    "[auth]\n"
    "mode = OFF\n"
    "\n"
    "[log]\n"
    "level = debug\n"
    "format = json\n"
    "target = \"a = b # not a comment\"\n";

START_TEST(test_full_file)
{
	struct conf c;
	char err[1024];

	ck_assert_msg(load_text(&c, full_file, err, sizeof(err), NULL) == 0,
	    "%s", err);
	ck_assert_str_eq(c.server.listen, "/tmp/dynconf test.sock");
	ck_assert_int_eq(c.server.socket_mode, 0640);
	ck_assert_str_eq(c.server.socket_owner, "www-data");
	ck_assert_str_eq(c.server.socket_group, "www-data");
	ck_assert_int_eq(c.server.backlog, 128);
	ck_assert_int_eq(c.server.processes, 4);
	ck_assert(c.server.max_requests == 0);
	ck_assert_int_eq(c.server.shutdown_timeout, 5);
	ck_assert(c.server.max_body == 2048);
	ck_assert_int_eq(c.server.request_timeout, 250);
	ck_assert_str_eq(c.server.user, "dynconf");
	ck_assert_str_eq(c.server.group, "dynconf");
	ck_assert_str_eq(c.server.pidfile, "/run/dynconf.pid");
	ck_assert_str_eq(c.server.metrics_file, "/tmp/metrics");
	ck_assert_str_eq(c.etcd.endpoints, "http://10.0.0.1:2379,http://10.0.0.2:2379");
	ck_assert_str_eq(c.etcd.prefix, "/test/prefix/");
	ck_assert_int_eq(c.etcd.timeout, 50);
	ck_assert_str_eq(c.replica.path, "");
	ck_assert_int_eq(c.auth.mode, AUTH_MODE_OFF);
	ck_assert_int_eq(c.log.level, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(c.log.format, LOG_FORMAT_JSON);
	ck_assert_str_eq(c.log.target, "a = b # not a comment");
}
END_TEST

START_TEST(test_crlf_and_repeated_sections)
{
	struct conf c;
	char err[1024];

	ck_assert_msg(load_text(&c, "[server]\r\nbacklog = 1\r\n[etcd]\r\n"
	    "timeout = 100\r\n[server]\r\nbacklog = 2\r\n", err, sizeof(err),
	    NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.backlog, 2);
	ck_assert_int_eq(c.etcd.timeout, 100);
	/* An empty file is all defaults. */
	ck_assert_msg(load_text(&c, "", err, sizeof(err), NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.backlog, 4096);
}
END_TEST

/* Bad files: the error names the file, the line and what was wrong. */
static const struct {
	const char	*text;
	unsigned	 line;		/* 0: no line number expected */
	const char	*want1, *want2;
} bad_files[] = {
	{ "[server]\nbacklog = 1024\nnope = 1\n", 3, "server.nope", NULL },
	{ "[server]\n# comment\n\nbacklog = 70000\n", 4, "server.backlog", "too large" },
	{ "[server]\nbacklog = 0\n", 2, "server.backlog", "too small" },
	{ "[server]\nmax_body = 10\n", 2, "server.max_body", "too small" },
	{ "[server]\nmax_body = 1073741825\n", 2, "server.max_body", "too large" },
	{ "[server]\nprocesses = 257\n", 2, "server.processes", "too large" },
	{ "[server]\nprocesses = -1\n", 2, "server.processes", "too small" },
	{ "[etcd]\ntimeout = 49\n", 2, "etcd.timeout", "too small" },
	{ "[server]\nbacklog = abc\n", 2, "server.backlog", "invalid" },
	{ "[server]\nbacklog = +5\n", 2, "server.backlog", "invalid" },
	{ "[server]\nbacklog = 5 # comment\n", 2, "server.backlog", "invalid" },
	{ "[server]\nbacklog =\n", 2, "server.backlog", "invalid" },
	{ "[server]\nsocket_mode = 0999\n", 2, "server.socket_mode", NULL },
	{ "[server]\nsocket_mode = 01000\n", 2, "server.socket_mode", NULL },
	{ "[server]\nsocket_mode = -1\n", 2, "server.socket_mode", NULL },
	{ "[server]\nsocket_mode =\n", 2, "server.socket_mode", NULL },
	{ "[log]\nlevel = loud\n", 2, "log.level", NULL },
	{ "[log]\nformat = xml\n", 2, "log.format", NULL },
	{ "[auth]\nmode = maybe\n", 2, "auth.mode", NULL },
	{ "[server\nbacklog = 1\n", 1, "bad section header", NULL },
	{ "\n\n[server] x\n", 3, "bad section header", NULL },
	{ "[server]]\n", 1, "bad section header", NULL },
	{ "backlog = 5\n", 1, "backlog", NULL },
	{ "[nosuch]\nkey = 1\n", 2, "nosuch.key", NULL },
	{ "[server]\nserver.backlog = 5\n", 2, "server.backlog", NULL },
	{ "[SERVER]\nbacklog = 5\n", 2, "SERVER.backlog", NULL },
	{ "[server]\nbacklog 5\n", 2, "expected key = value", NULL },
	{ "[etcd]\nprefix = dynconf/\n", 0, "etcd.prefix", NULL },
	{ "[etcd]\nprefix = /dynconf\n", 0, "etcd.prefix", NULL },
	{ "[etcd]\nprefix = \"\"\n", 0, "etcd.prefix", NULL },
	{ "[server]\nlisten = \"\"\n", 0, "server.listen", NULL },
};

START_TEST(test_bad_file)
{
	struct conf c;
	char err[1024], *path, where[4200];

	ck_assert_int_eq(load_text(&c, bad_files[_i].text, err, sizeof(err), &path), -1);
	ck_assert_msg(err[0] != '\0', "no error message");
	if (bad_files[_i].line > 0) {
		snprintf(where, sizeof(where), "%s:%u:", path, bad_files[_i].line);
		ck_assert_msg(strstr(err, where) != NULL,
		    "error \"%s\" does not name %s", err, where);
	}
	ck_assert_msg(strstr(err, bad_files[_i].want1) != NULL,
	    "error \"%s\" does not say \"%s\"", err, bad_files[_i].want1);
	if (bad_files[_i].want2 != NULL)
		ck_assert_msg(strstr(err, bad_files[_i].want2) != NULL,
		    "error \"%s\" does not say \"%s\"", err, bad_files[_i].want2);
	free(path);
}
END_TEST

START_TEST(test_long_values)
{
	struct conf c;
	struct buf text;
	char err[1024], *path;
	int i;

	/* A string longer than its field. */
	buf_init(&text);
	buf_puts(&text, "[etcd]\nendpoints = ");
	for (i = 0; i < CONF_STRING_MAX + 10; i++)
		buf_putc(&text, 'x');
	buf_puts(&text, "\n");
	ck_assert_int_eq(load_text(&c, text.data, err, sizeof(err), &path), -1);
	ck_assert_msg(strstr(err, ":2:") != NULL && strstr(err, "etcd.endpoints") != NULL,
	    "error \"%s\"", err);
	free(path);
	/* Exactly the capacity minus the NUL fits. */
	buf_reset(&text);
	buf_puts(&text, "[etcd]\nendpoints = ");
	for (i = 0; i < CONF_STRING_MAX - 1; i++)
		buf_putc(&text, 'y');
	buf_puts(&text, "\n");
	ck_assert_msg(load_text(&c, text.data, err, sizeof(err), NULL) == 0, "%s", err);
	ck_assert_uint_eq(strlen(c.etcd.endpoints), CONF_STRING_MAX - 1);
	/* A line longer than the reader's buffer is an error, not two lines. */
	buf_reset(&text);
	buf_puts(&text, "[server]\n# ");
	for (i = 0; i < 5000; i++)
		buf_putc(&text, 'z');
	buf_puts(&text, "\nbacklog = 3\n");
	ck_assert_int_eq(load_text(&c, text.data, err, sizeof(err), &path), -1);
	ck_assert_msg(strstr(err, ":2:") != NULL, "error \"%s\"", err);
	free(path);
	buf_free(&text);
}
END_TEST

START_TEST(test_missing_file)
{
	struct conf c;
	char err[1024], path[4200];

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	ck_assert_int_eq(conf_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, path) != NULL, "error \"%s\" does not name %s",
	    err, path);
}
END_TEST

START_TEST(test_env_overrides_file)
{
	struct conf c;
	char err[1024];
	static const char text[] = "[server]\nprocesses = 2\nbacklog = 10\n"
	    "[etcd]\nendpoints = http://file:2379\n[log]\nlevel = warn\n";

	setenv("DYNCONF_SERVER_PROCESSES", "3", 1);
	setenv("DYNCONF_ETCD_ENDPOINTS", "http://env:2379", 1);
	setenv("DYNCONF_LOG_LEVEL", "ERROR", 1);
	setenv("DYNCONF_SERVER_MAX_BODY", "4096", 1);
	ck_assert_msg(load_text(&c, text, err, sizeof(err), NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.processes, 3);
	ck_assert_int_eq(c.server.backlog, 10);		/* not overridden */
	ck_assert_str_eq(c.etcd.endpoints, "http://env:2379");
	ck_assert_int_eq(c.log.level, LOG_LEVEL_ERROR);
	ck_assert(c.server.max_body == 4096);
	/* Without a file too. */
	ck_assert_msg(conf_load(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.server.processes, 3);
	/* Lowercase names are not ours. */
	test_clear_dynconf_env();
	setenv("dynconf_server_processes", "5", 1);
	ck_assert_msg(load_text(&c, text, err, sizeof(err), NULL) == 0, "%s", err);
	ck_assert_int_eq(c.server.processes, 2);
	unsetenv("dynconf_server_processes");
}
END_TEST

static const struct {
	const char	*name, *value;
} bad_env[] = {
	{ "DYNCONF_SERVER_PROCESSES", "many" },
	{ "DYNCONF_SERVER_PROCESSES", "257" },
	{ "DYNCONF_SERVER_PROCESSES", "-1" },
	{ "DYNCONF_SERVER_PROCESSES", "" },
	{ "DYNCONF_SERVER_PROCESSES", " 4" },
	{ "DYNCONF_SERVER_BACKLOG", "+5" },
	{ "DYNCONF_SERVER_MAX_BODY", "1" },
	{ "DYNCONF_SERVER_SOCKET_MODE", "0999" },
	{ "DYNCONF_LOG_FORMAT", "xml" },
	{ "DYNCONF_AUTH_MODE", "sometimes" },
	{ "DYNCONF_ETCD_TIMEOUT", "1e3" },
};

START_TEST(test_bad_env)
{
	struct conf c;
	char err[1024] = "";

	setenv(bad_env[_i].name, bad_env[_i].value, 1);
	ck_assert_msg(load_text(&c, "[server]\nbacklog = 5\n", err, sizeof(err),
	    NULL) == -1, "%s=\"%s\" accepted", bad_env[_i].name, bad_env[_i].value);
	ck_assert_msg(strstr(err, bad_env[_i].name) != NULL,
	    "error \"%s\" does not name %s", err, bad_env[_i].name);
	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), -1);
	unsetenv(bad_env[_i].name);
}
END_TEST

static const struct {
	const char	*prefix;
	int		 ok;
} prefixes[] = {
	{ "/dynconf/", 1 },
	{ "/", 1 },
	{ "/a/b/", 1 },
	{ "dynconf/", 0 },
	{ "/dynconf", 0 },
	{ "dynconf", 0 },
	{ "", 0 },
};

START_TEST(test_etcd_prefix)
{
	struct conf c;
	char err[1024] = "";
	int rc;

	setenv("DYNCONF_ETCD_PREFIX", prefixes[_i].prefix, 1);
	rc = conf_load(&c, NULL, err, sizeof(err));
	unsetenv("DYNCONF_ETCD_PREFIX");
	if (prefixes[_i].ok) {
		ck_assert_msg(rc == 0, "prefix \"%s\": %s", prefixes[_i].prefix, err);
		ck_assert_str_eq(c.etcd.prefix, prefixes[_i].prefix);
	} else {
		ck_assert_msg(rc == -1, "prefix \"%s\" accepted", prefixes[_i].prefix);
		ck_assert_msg(strstr(err, "prefix") != NULL, "error \"%s\"", err);
	}
}
END_TEST

/* The "section.key" lines of conf_list_keys, as a malloc'ed NULL-terminated array. */
static char **
list_keys(size_t *countp)
{
	struct buf keys;
	char **list, *line, *save = NULL;
	size_t n = 0;

	buf_init(&keys);
	conf_list_keys(&keys);
	ck_assert_msg(keys.len > 0, "conf_list_keys listed nothing");
	list = calloc(keys.len + 1, sizeof(*list));
	ck_assert_ptr_nonnull(list);
	for (line = strtok_r(keys.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		list[n++] = strdup(line);
	buf_free(&keys);
	*countp = n;
	return list;
}

static void
free_keys(char **list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/* The waiting socket: beside the replica unless set; a socket path's length. */
START_TEST(test_wait_socket)
{
	struct conf c;
	char err[1024] = "", big[200];

	ck_assert_msg(load_text(&c, "[replica]\npath = /srv/dc/r.db\n", err,
	    sizeof(err), NULL) == 0, "%s", err);
	ck_assert_str_eq(c.server.wait_socket, "/srv/dc/wait.sock");
	ck_assert_msg(load_text(&c, "[replica]\npath = /r.db\n", err,
	    sizeof(err), NULL) == 0, "%s", err);
	ck_assert_str_eq(c.server.wait_socket, "/wait.sock");
	ck_assert_msg(load_text(&c, "[replica]\npath = r.db\n", err,
	    sizeof(err), NULL) == 0, "%s", err);
	ck_assert_str_eq(c.server.wait_socket, "wait.sock");
	ck_assert_msg(load_text(&c, "[server]\nwait_socket = /run/w.sock\n"
	    "[replica]\npath = /srv/dc/r.db\n", err, sizeof(err), NULL) == 0, "%s", err);
	ck_assert_str_eq(c.server.wait_socket, "/run/w.sock");
	/* 107 bytes fit sun_path with its NUL; 108 do not. */
	memset(big, 'w', sizeof(big));
	big[0] = '/';
	big[107] = '\0';
	setenv("DYNCONF_SERVER_WAIT_SOCKET", big, 1);
	ck_assert_msg(conf_load(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	big[107] = 'w';
	big[108] = '\0';
	setenv("DYNCONF_SERVER_WAIT_SOCKET", big, 1);
	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "server.wait_socket") != NULL, "%s", err);
	/* A replica path too deep for a socket beside it. */
	unsetenv("DYNCONF_SERVER_WAIT_SOCKET");
	memset(big, 'd', sizeof(big));
	big[0] = '/';
	memcpy(big + 100, "/r.db", 6);
	setenv("DYNCONF_REPLICA_PATH", big, 1);
	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "server.wait_socket") != NULL, "%s", err);
	unsetenv("DYNCONF_REPLICA_PATH");
}
END_TEST

/* audit.retention: a duration, days when it has no unit. */
START_TEST(test_duration)
{
	static const struct { const char *text; long long seconds; } good[] = {
		{ "90d", 90LL * 86400 }, { "90", 90LL * 86400 }, { "12h", 43200 },
		{ "30m", 1800 }, { "45s", 45 }, { "0", 0 }, { "0s", 0 },
		{ "36500d", 36500LL * 86400 },
	};
	static const char *const bad[] = { "", "d", "5x", "-1", "1.5d", " 5d",
	    "36501", "3153600001s", "99999999999999999999d", "5dd" };
	struct conf c;
	char err[1024], text[128];
	size_t i;

	ck_assert_msg(load_text(&c, "", err, sizeof(err), NULL) == 0, "%s", err);
	ck_assert(c.audit.retention == 90LL * 86400);
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		snprintf(text, sizeof(text), "[audit]\nretention = %s\n", good[i].text);
		ck_assert_msg(load_text(&c, text, err, sizeof(err), NULL) == 0,
		    "%s: %s", good[i].text, err);
		ck_assert_msg(c.audit.retention == good[i].seconds, "%s: %lld",
		    good[i].text, c.audit.retention);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		setenv("DYNCONF_AUDIT_RETENTION", bad[i], 1);
		ck_assert_msg(load_text(&c, "", err, sizeof(err), NULL) == -1,
		    "\"%s\" was taken", bad[i]);
		ck_assert_msg(strstr(err, "DYNCONF_AUDIT_RETENTION") != NULL, "%s", err);
	}
	unsetenv("DYNCONF_AUDIT_RETENTION");
}
END_TEST

START_TEST(test_list_keys)
{
	static const char *const sections[] = { "server", "etcd", "replica",
	    "auth", "audit", "log" };
	static const char *const expected[] = { "server.listen", "server.processes",
	    "server.max_body", "etcd.endpoints", "etcd.prefix", "replica.path",
	    "auth.mode", "log.level", "log.format", "log.target" };
	size_t n, i, j;
	char **keys = list_keys(&n);

	ck_assert_uint_ge(n, 20);
	for (i = 0; i < n; i++) {
		const char *dot = strchr(keys[i], '.');
		int known = 0;

		ck_assert_msg(dot != NULL && dot != keys[i] && dot[1] != '\0' &&
		    strchr(dot + 1, '.') == NULL, "bad key line \"%s\"", keys[i]);
		for (j = 0; j < ARRAY_SIZE(sections); j++)
			if (strlen(sections[j]) == (size_t)(dot - keys[i]) &&
			    strncmp(keys[i], sections[j], (size_t)(dot - keys[i])) == 0)
				known = 1;
		ck_assert_msg(known, "key %s is in no documented section", keys[i]);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(keys[i], keys[j]) != 0, "key %s twice", keys[i]);
	}
	for (j = 0; j < ARRAY_SIZE(expected); j++) {
		for (i = 0; i < n && strcmp(keys[i], expected[j]) != 0; i++)
			;
		ck_assert_msg(i < n, "%s not listed", expected[j]);
	}
	free_keys(keys);
}
END_TEST

/*
 * conf_dump's "section.key = value" lines, written back as a file and as
 * DYNCONF_ variables, load to the same configuration: every listed key is
 * settable both ways and the dump is faithful.
 */
START_TEST(test_dump_round_trip)
{
	struct conf c1, c2;
	struct buf file;
	char err[1024], *dump = NULL, *line, *save = NULL, section[64] = "";
	size_t dumplen = 0, nkeys, nlines = 0;
	char **keys = list_keys(&nkeys);
	FILE *fp;

	ck_assert_msg(load_text(&c1, full_file, err, sizeof(err), NULL) == 0, "%s", err);
	fp = open_memstream(&dump, &dumplen);
	ck_assert_ptr_nonnull(fp);
	conf_dump(&c1, fp);
	fclose(fp);
	ck_assert_msg(strstr(dump, "server.socket_mode = 0640\n") != NULL, "%.3000s", dump);
	ck_assert_msg(strstr(dump, "log.level = debug\n") != NULL, "%.3000s", dump);
	ck_assert_msg(strstr(dump, "auth.mode = off\n") != NULL, "%.3000s", dump);
	ck_assert_msg(strstr(dump, "server.backlog = 128\n") != NULL, "%.3000s", dump);
	buf_init(&file);
	for (line = strtok_r(dump, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *dot = strchr(line, '.'), *eq = strstr(line, " = ");
		char name[256], *p;

		ck_assert_msg(dot != NULL && eq != NULL && dot < eq, "dump line \"%s\"", line);
		*eq = '\0';
		ck_assert_uint_lt(nlines, nkeys);
		ck_assert_str_eq(line, keys[nlines]);	/* same order as the list */
		nlines++;
		*dot = '\0';
		if (strcmp(section, line) != 0) {
			buf_printf(&file, "[%s]\n", line);
			snprintf(section, sizeof(section), "%s", line);
		}
		buf_printf(&file, "%s = \"%s\"\n", dot + 1, eq + 3);
		snprintf(name, sizeof(name), "DYNCONF_%s_%s", line, dot + 1);
		for (p = name; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		setenv(name, eq + 3, 1);
	}
	ck_assert_uint_eq(nlines, nkeys);
	/* From the environment alone. */
	ck_assert_msg(conf_load(&c2, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(memcmp(&c1, &c2, sizeof(c1)) == 0,
	    "the environment did not reproduce the dumped configuration");
	/* From the file alone. */
	test_clear_dynconf_env();
	ck_assert_msg(load_text(&c2, file.data, err, sizeof(err), NULL) == 0,
	    "%s\n%.3000s", err, file.data);
	ck_assert_msg(memcmp(&c1, &c2, sizeof(c1)) == 0,
	    "the file did not reproduce the dumped configuration:\n%.3000s", file.data);
	buf_free(&file);
	free(dump);
	free_keys(keys);
}
END_TEST

/* Strip leading blanks and comment markers ("# key = v" documents key). */
static const char *
doc_line_body(const char *line)
{
	while (*line == ' ' || *line == '\t' || *line == '#' || *line == ';')
		line++;
	return line;
}

/* "[name]" alone on the line (not "[::1]:9000" inside a comment's prose). */
static int
is_section_header(const char *body, const char *eol)
{
	const char *p;

	if (body >= eol || *body != '[')
		return 0;
	for (p = body + 1; p < eol && *p != ']'; p++)
		if (!(islower((unsigned char)*p) || *p == '_' || *p == ' ' || *p == '\t'))
			return 0;
	if (p == eol)
		return 0;
	for (p++; p < eol; p++)
		if (!isspace((unsigned char)*p))
			return 0;
	return 1;
}

/*
 * Is section.key documented in the sample: "key =" (commented out or not)
 * under [section], or the full name "section.key" anywhere?
 */
static int
documented(const char *doc, const char *name)
{
	const char *dot = strchr(name, '.'), *key = dot + 1, *p = doc;
	size_t seclen = (size_t)(dot - name), keylen = strlen(key);
	int in_section = 0;

	if (strstr(doc, name) != NULL)
		return 1;
	while (*p != '\0') {
		const char *eol = strchr(p, '\n'), *body;

		if (eol == NULL)
			eol = p + strlen(p);
		body = doc_line_body(p);
		if (is_section_header(body, eol)) {
			const char *s = body + 1, *close = memchr(body, ']', (size_t)(eol - body));

			while (s < close && (*s == ' ' || *s == '\t'))
				s++;
			in_section = (size_t)(close - s) >= seclen &&
			    strncmp(s, name, seclen) == 0 &&
			    strspn(s + seclen, " \t") == (size_t)(close - s) - seclen;
		} else if (in_section && (size_t)(eol - body) > keylen &&
		    strncmp(body, key, keylen) == 0) {
			const char *q = body + keylen;

			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			if (q < eol && *q == '=')
				return 1;
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

START_TEST(test_keys_documented)
{
	struct buf missing;
	size_t n, i, len = 0;
	char **keys = list_keys(&n);
	char *doc = test_read_file(SAMPLE_CONF, &len);

	ck_assert_msg(doc != NULL, "cannot read %s", SAMPLE_CONF);
	buf_init(&missing);
	for (i = 0; i < n; i++)
		if (!documented(doc, keys[i]))
			buf_printf(&missing, " %s", keys[i]);
	ck_assert_msg(missing.len == 0, "%s (%zu bytes) does not document:%s",
	    SAMPLE_CONF, len, missing.data);
	buf_free(&missing);
	free(doc);
	free_keys(keys);
}
END_TEST

/* The sample, with configure's paths put in as the Makefile does, loads. */
START_TEST(test_sample_loads)
{
	static const struct {
		const char *var, *value;
	} subst[] = {
		{ "@sysconfdir@", "/etc" }, { "@localstatedir@", "/var" },
		{ "@runstatedir@", "/run" }, { "@sbindir@", "/usr/sbin" },
	};
	struct conf c;
	struct buf out;
	char err[1024], *doc = test_read_file(SAMPLE_CONF, NULL), *p;
	size_t i;

	ck_assert_msg(doc != NULL, "cannot read %s", SAMPLE_CONF);
	buf_init(&out);
	buf_puts(&out, "");
	for (p = doc; *p != '\0';) {
		for (i = 0; i < ARRAY_SIZE(subst); i++)
			if (strncmp(p, subst[i].var, strlen(subst[i].var)) == 0)
				break;
		if (i < ARRAY_SIZE(subst)) {
			buf_puts(&out, subst[i].value);
			p += strlen(subst[i].var);
		} else {
			buf_putc(&out, *p++);
		}
	}
	ck_assert_msg(load_text(&c, out.data, err, sizeof(err), NULL) == 0,
	    "the sample configuration does not load: %s", err);
	buf_free(&out);
	free(doc);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_processes_zero_is_cpu_count);
	tcase_add_test(tc, test_write_processes_zero_is_four_per_reader);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_crlf_and_repeated_sections);
	tcase_add_loop_test(tc, test_bad_file, 0, (int)ARRAY_SIZE(bad_files));
	tcase_add_test(tc, test_long_values);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("environment");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_env_overrides_file);
	tcase_add_loop_test(tc, test_bad_env, 0, (int)ARRAY_SIZE(bad_env));
	tcase_add_loop_test(tc, test_etcd_prefix, 0, (int)ARRAY_SIZE(prefixes));
	tcase_add_test(tc, test_wait_socket);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_list_keys);
	tcase_add_test(tc, test_dump_round_trip);
	tcase_add_test(tc, test_keys_documented);
	tcase_add_test(tc, test_sample_loads);
	suite_add_tcase(s, tc);
	return s;
}
