/*
 * Unit tests of what a reload does with the configuration: which settings
 * need a restart (conf_needs_restart), the warning and the running value
 * kept for each one that changed (conf_keep_restart_only), command-line
 * overrides that every load applies (conf_override), and that the sample
 * configuration and dynconf.conf(5) say "needs a restart" for exactly
 * those settings.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"

#include "check_suites.h"

#define SAMPLE_CONF TOP_SRCDIR "/etc/dynconf.conf.in"
#define MAN_PAGE TOP_SRCDIR "/doc/dynconf.conf.5"
#define RESTART_PHRASE "needs a restart"

static char *tmpdir;
static char logpath[1024];

static void
setup(void)
{
	struct conf c;
	char err[256];

	test_clear_dynconf_env();
	tmpdir = test_mkdtemp();
	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), 0);
	snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
	snprintf(c.log.target, sizeof(c.log.target), "%s", logpath);
	ck_assert_int_eq(log_open(&c), 0);
}

static void
teardown(void)
{
	struct conf c;
	char err[256];

	conf_override("server.user", NULL);
	conf_override("server.pidfile", NULL);
	test_clear_dynconf_env();
	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), 0);
	log_open(&c);	/* back to stderr */
	test_rmdir(tmpdir);
	tmpdir = NULL;
}

/* Load text as a configuration file into c, asserting success. */
static void
load(struct conf *c, const char *text)
{
	char *path = test_write_file(tmpdir, "dynconf.conf", text), err[1024];

	ck_assert_msg(conf_load(c, path, err, sizeof(err)) == 0, "%s", err);
	free(path);
}

/* The settings the master uses once and keeps (see conf.c). */
static const char *const restart_only[] = {
	"server.listen", "server.write_listen", "server.socket_mode",
	"server.socket_owner", "server.socket_group", "server.backlog",
	"server.user", "server.group", "server.pidfile", "server.metrics_file",
	"replica.path",
};

/* And some that a reload applies: new responders and watcher read them. */
static const char *const reloadable[] = {
	"server.processes", "server.write_processes", "server.max_requests",
	"server.shutdown_timeout", "server.max_body", "server.request_timeout",
	"server.max_watches", "etcd.endpoints", "etcd.timeout", "replica.history",
	"auth.mode", "auth.jwt_public_keys", "log.level", "log.target",
};

START_TEST(test_needs_restart)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(restart_only); i++)
		ck_assert_msg(conf_needs_restart(restart_only[i]) == 1,
		    "%s: a reload would not apply it", restart_only[i]);
	for (i = 0; i < ARRAY_SIZE(reloadable); i++)
		ck_assert_msg(conf_needs_restart(reloadable[i]) == 0,
		    "%s: a reload applies it", reloadable[i]);
	ck_assert_int_eq(conf_needs_restart("server.no_such"), -1);
	ck_assert_int_eq(conf_needs_restart("listen"), -1);
	ck_assert_int_eq(conf_needs_restart(""), -1);
}
END_TEST

static size_t
count(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}

START_TEST(test_keep_restart_only)
{
	static const char *const warnings[] = {
		"server.listen changed from /run/a.sock to /run/b.sock; it takes "
		    "effect at the next restart\n",
		"server.socket_mode changed from 0660 to 0600; it takes effect at "
		    "the next restart\n",
		"server.backlog changed from 4096 to 64; it takes effect at the "
		    "next restart\n",
		"server.user changed from dynconf to \"\"; it takes effect at the "
		    "next restart\n",
		"replica.path changed from /var/a.db to /var/b.db; it takes effect "
		    "at the next restart\n",
	};
	struct conf running, fresh;
	char *text;
	size_t i;

	load(&running, "[server]\nlisten = /run/a.sock\nprocesses = 2\n"
	    "user = dynconf\n[replica]\npath = /var/a.db\n");
	load(&fresh, "[server]\nlisten = /run/b.sock\nprocesses = 3\n"
	    "socket_mode = 0600\nbacklog = 64\n[replica]\npath = /var/b.db\n"
	    "history = 500\n");
	ck_assert_int_eq(conf_keep_restart_only(&fresh, &running), 5);
	/* The running values stay; the rest is the new configuration. */
	ck_assert_str_eq(fresh.server.listen, "/run/a.sock");
	ck_assert_int_eq(fresh.server.socket_mode, 0660);
	ck_assert_int_eq(fresh.server.backlog, 4096);
	ck_assert_str_eq(fresh.server.user, "dynconf");
	ck_assert_str_eq(fresh.replica.path, "/var/a.db");
	ck_assert_int_eq(fresh.server.processes, 3);
	ck_assert(fresh.replica.history == 500);
	/* Once each; nothing more the second time. */
	ck_assert_int_eq(conf_keep_restart_only(&fresh, &running), 0);
	text = test_read_file(logpath, NULL);
	ck_assert_ptr_nonnull(text);
	for (i = 0; i < ARRAY_SIZE(warnings); i++)
		ck_assert_msg(count(text, warnings[i]) == 1, "want once: %s\nlogged:\n%s",
		    warnings[i], text);
	ck_assert_uint_eq(count(text, "next restart"), ARRAY_SIZE(warnings));
	free(text);
}
END_TEST

/* An unchanged file warns of nothing, a value given by -u included. */
START_TEST(test_keep_restart_only_quiet)
{
	struct conf running, fresh;
	char *text;

	ck_assert_int_eq(conf_override("server.user", "dynconf"), 0);
	load(&running, "[server]\nlisten = /run/a.sock\n");
	load(&fresh, "[server]\nlisten = /run/a.sock\nprocesses = 7\n");
	ck_assert_int_eq(conf_keep_restart_only(&fresh, &running), 0);
	ck_assert_str_eq(fresh.server.user, "dynconf");
	text = test_read_file(logpath, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(*text == '\0', "logged: %s", text);
	free(text);
}
END_TEST

START_TEST(test_override)
{
	struct conf c;
	char err[1024], *path, *big;

	setenv("DYNCONF_SERVER_USER", "environment", 1);
	path = test_write_file(tmpdir, "dynconf.conf",
	    "[server]\nuser = file\npidfile = /run/file.pid\n");
	ck_assert_int_eq(conf_override("server.user", "cli"), 0);
	ck_assert_int_eq(conf_override("server.pidfile", "/run/cli.pid"), 0);
	ck_assert_int_eq(conf_override("server.user", "cli2"), 0);	/* replaced */
	ck_assert_int_eq(conf_override("server.no_such", "x"), -1);
	ck_assert_int_eq(conf_override("nodot", "x"), -1);
	/* Every load, a reload's too. */
	ck_assert_msg(conf_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.server.user, "cli2");
	ck_assert_str_eq(c.server.pidfile, "/run/cli.pid");
	ck_assert_msg(conf_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.server.user, "cli2");
	/* Dropped: the environment wins again over the file. */
	ck_assert_int_eq(conf_override("server.user", NULL), 0);
	ck_assert_msg(conf_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.server.user, "environment");
	ck_assert_str_eq(c.server.pidfile, "/run/cli.pid");
	/* Checked as the file's values are. */
	big = xmalloc(sizeof(c.server.user) + 1);
	memset(big, 'u', sizeof(c.server.user));
	big[sizeof(c.server.user)] = '\0';
	ck_assert_int_eq(conf_override("server.user", big), 0);
	ck_assert_int_eq(conf_load(&c, path, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "command line: server.user: value too long");
	conf_override("server.user", NULL);
	free(big);
	free(path);
}
END_TEST

/* The text's lines, split in place: a malloc'ed NULL-terminated array. */
static char **
split_lines(char *text)
{
	size_t n = 1, i = 0;
	char **lines, *p;

	for (p = text; *p != '\0'; p++)
		n += *p == '\n';
	lines = xcalloc(n + 1, sizeof(*lines));
	for (p = text; p != NULL; i++) {
		lines[i] = p;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = '\0';
	}
	return lines;
}

/* Append line to out without its "#" markers, one space apart. */
static void
append_words(struct buf *out, const char *line)
{
	line += strspn(line, "#; \t");
	if (*line == '\0')
		return;
	if (out->len > 0)
		buf_putc(out, ' ');
	buf_puts(out, line);
}

/* Is line "key =" (or "# key = ...")? */
static int
sets_key(const char *line, const char *key)
{
	line += strspn(line, "#; \t");
	if (strncmp(line, key, strlen(key)) != 0)
		return 0;
	line += strlen(key);
	return line[strspn(line, " \t")] == '=';
}

/*
 * The comment of section.key in the sample configuration: from the blank
 * line before "# key =" under [section] to that line. 0 if not found.
 */
static int
sample_block(char **lines, const char *section, const char *key,
    struct buf *out)
{
	size_t i, j, start = 0, seclen = strlen(section);
	int in_section = 0;

	for (i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == '[') {
			in_section = strncmp(lines[i] + 1, section, seclen) == 0 &&
			    strcmp(lines[i] + 1 + seclen, "]") == 0;
			start = i + 1;
		} else if (lines[i][strspn(lines[i], " \t")] == '\0') {
			start = i + 1;
		} else if (in_section && sets_key(lines[i], key)) {
			for (j = start; j <= i; j++)
				append_words(out, lines[j]);
			return 1;
		}
	}
	return 0;
}

/*
 * The entry of section.key in dynconf.conf(5): from ".It Cm key" under
 * ".Ss [section]" to the next entry or the end of the list. 0 if none.
 */
static int
man_block(char **lines, const char *section, const char *key, struct buf *out)
{
	char header[64], item[128];
	size_t i;
	int in_section = 0, in_item = 0;

	snprintf(header, sizeof(header), ".Ss [%s]", section);
	snprintf(item, sizeof(item), ".It Cm %s ", key);
	for (i = 0; lines[i] != NULL; i++) {
		if (strncmp(lines[i], ".Ss ", 4) == 0)
			in_section = strcmp(lines[i], header) == 0;
		if (in_item && (strncmp(lines[i], ".It Cm ", 7) == 0 ||
		    strcmp(lines[i], ".El") == 0 || strncmp(lines[i], ".Ss ", 4) == 0))
			return 1;
		if (in_section && strncmp(lines[i], item, strlen(item)) == 0)
			in_item = 1;
		if (in_item)
			append_words(out, lines[i]);
	}
	return in_item;
}

/*
 * Both documents say "needs a restart" in the entry of every setting that
 * needs one, and in no other entry: a reload warns for those, and an
 * operator must learn it before editing, not from the warning.
 */
START_TEST(test_restart_documented)
{
	struct buf keys, text, wrong;
	char *sample = test_read_file(SAMPLE_CONF, NULL);
	char *man = test_read_file(MAN_PAGE, NULL);
	char **sample_lines, **man_lines, *name, *save = NULL;
	char section[64];
	const char *key;
	int restart, documents;

	ck_assert_msg(sample != NULL && man != NULL, "cannot read %s or %s",
	    SAMPLE_CONF, MAN_PAGE);
	sample_lines = split_lines(sample);
	man_lines = split_lines(man);
	buf_init(&keys);
	buf_init(&wrong);
	conf_list_keys(&keys);
	for (name = strtok_r(keys.data, "\n", &save); name != NULL;
	    name = strtok_r(NULL, "\n", &save)) {
		restart = conf_needs_restart(name);
		ck_assert_int_ge(restart, 0);
		key = strchr(name, '.') + 1;
		snprintf(section, sizeof(section), "%.*s", (int)(key - name - 1), name);
		buf_init(&text);
		ck_assert_msg(sample_block(sample_lines, section, key, &text),
		    "%s: no entry in %s", name, SAMPLE_CONF);
		documents = strstr(text.data, RESTART_PHRASE) != NULL;
		if (documents != restart)
			buf_printf(&wrong, " %s (sample)", name);
		buf_reset(&text);
		ck_assert_msg(man_block(man_lines, section, key, &text),
		    "%s: no entry in %s", name, MAN_PAGE);
		documents = strstr(text.data, RESTART_PHRASE) != NULL;
		if (documents != restart)
			buf_printf(&wrong, " %s (dynconf.conf.5)", name);
		buf_free(&text);
	}
	ck_assert_msg(wrong.len == 0, "\"" RESTART_PHRASE "\" should be said "
	    "exactly for the settings that need a restart:%s", wrong.data);
	buf_free(&wrong);
	buf_free(&keys);
	free(sample_lines);
	free(man_lines);
	free(sample);
	free(man);
}
END_TEST

Suite *
conf_reload_suite(void)
{
	Suite *s = suite_create("conf_reload");
	TCase *tc = tcase_create("restart");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_needs_restart);
	tcase_add_test(tc, test_keep_restart_only);
	tcase_add_test(tc, test_keep_restart_only_quiet);
	tcase_add_test(tc, test_override);
	tcase_add_test(tc, test_restart_documented);
	suite_add_tcase(s, tc);
	return s;
}
