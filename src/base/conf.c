/*
 * The configuration file and environment; see conf.h. Every setting is one
 * row of conf_table: its type, range, default, where it lives in struct
 * conf, and whether a reload applies it. Parsing, the environment and
 * command-line overrides, the -t dump, the reload's warnings and the tests
 * all walk that one table.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"

/* server.write_processes = 0: this many per read responder (256 at most). */
#define WRITE_PROCESSES_PER_READER 4
#define WRITE_PROCESSES_MAX 256

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

struct conf conf;

/* CONF_DURATION: seconds, written with a unit: s, m, h or d (none: days). */
enum conf_type { CONF_STRING, CONF_INT, CONF_LONG, CONF_OCTAL, CONF_ENUM,
	CONF_DURATION };

/*
 * When a changed value takes effect. A reload (SIGHUP) starts new
 * responders and a new watcher with the new configuration, so most
 * settings apply then. The others are used once, at start, by a master
 * that keeps what they made for its whole life: the listening sockets it
 * bound (listen, write_listen, socket_*, backlog), the user it dropped to
 * (user, group), the pidfile it wrote, and what every process of the pool
 * shares (the metrics file, the replica that the watcher writes and every
 * responder reads while the shared state says it is loaded).
 */
enum conf_apply {
	CONF_RELOAD,	/* a reload applies it */
	CONF_RESTART,	/* a reload warns and keeps the running value */
};

struct conf_setting {
	const char	*section;
	const char	*key;
	enum conf_type	 type;
	size_t		 offset;
	size_t		 size;		/* strings: capacity */
	long long	 min, max;	/* numbers */
	const char	*const *names;	/* enums: NULL-terminated */
	const char	*default_value;
	enum conf_apply	 apply;
};

static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const log_formats[] = { "text", "json", NULL };
static const char *const auth_modes[] = { "on", "off", NULL };

#define FIELD(field) \
	.offset = offsetof(struct conf, field), \
	.size = sizeof(((struct conf *)0)->field)
#define STR(sec, name, field, def, when) \
	{ .section = #sec, .key = #name, .type = CONF_STRING, FIELD(field), \
	  .default_value = def, .apply = when }
#define NUM(sec, name, kind, field, lo, hi, def, when) \
	{ .section = #sec, .key = #name, .type = kind, FIELD(field), \
	  .min = lo, .max = hi, .default_value = def, .apply = when }
#define ENUM(sec, name, field, list, def, when) \
	{ .section = #sec, .key = #name, .type = CONF_ENUM, FIELD(field), \
	  .names = list, .default_value = def, .apply = when }

static const struct conf_setting conf_table[] = {
	STR(server, listen, server.listen, "/run/dynconf/dynconf.sock",
	    CONF_RESTART),
	STR(server, write_listen, server.write_listen,
	    "/run/dynconf/dynconf-write.sock", CONF_RESTART),
	NUM(server, socket_mode, CONF_OCTAL, server.socket_mode, 0, 0777, "0660",
	    CONF_RESTART),
	STR(server, socket_owner, server.socket_owner, "", CONF_RESTART),
	STR(server, socket_group, server.socket_group, "", CONF_RESTART),
	NUM(server, backlog, CONF_INT, server.backlog, 1, 65535, "4096",
	    CONF_RESTART),
	NUM(server, processes, CONF_INT, server.processes, 0, 256, "0",
	    CONF_RELOAD),
	NUM(server, write_processes, CONF_INT, server.write_processes, 0, 256, "0",
	    CONF_RELOAD),
	NUM(server, max_requests, CONF_LONG, server.max_requests, 0, 1000000000,
	    "100000", CONF_RELOAD),
	NUM(server, shutdown_timeout, CONF_INT, server.shutdown_timeout, 1, 3600,
	    "30", CONF_RELOAD),
	NUM(server, max_body, CONF_LONG, server.max_body, 1024, 1073741824,
	    "1048576", CONF_RELOAD),
	NUM(server, request_timeout, CONF_INT, server.request_timeout, 100, 600000,
	    "10000", CONF_RELOAD),
	NUM(server, max_watches, CONF_INT, server.max_watches, 1, 1000000,
	    "10000", CONF_RELOAD),
	STR(server, wait_socket, server.wait_socket, "", CONF_RELOAD),
	STR(server, user, server.user, "", CONF_RESTART),
	STR(server, group, server.group, "", CONF_RESTART),
	STR(server, pidfile, server.pidfile, "", CONF_RESTART),
	STR(server, metrics_file, server.metrics_file,
	    LOCALSTATEDIR "/lib/dynconf/metrics", CONF_RESTART),
	STR(etcd, endpoints, etcd.endpoints, "http://127.0.0.1:2379", CONF_RELOAD),
	STR(etcd, prefix, etcd.prefix, "/dynconf/", CONF_RELOAD),
	NUM(etcd, timeout, CONF_INT, etcd.timeout, 50, 600000, "2000", CONF_RELOAD),
	STR(etcd, username, etcd.username, "", CONF_RELOAD),
	STR(etcd, password_file, etcd.password_file, "", CONF_RELOAD),
	STR(etcd, ca_file, etcd.ca_file, "", CONF_RELOAD),
	STR(etcd, cert_file, etcd.cert_file, "", CONF_RELOAD),
	STR(etcd, key_file, etcd.key_file, "", CONF_RELOAD),
	STR(replica, path, replica.path, LOCALSTATEDIR "/lib/dynconf/replica.db",
	    CONF_RESTART),
	NUM(replica, history, CONF_LONG, replica.history, 100, 10000000, "10000",
	    CONF_RELOAD),
	ENUM(auth, mode, auth.mode, auth_modes, "on", CONF_RELOAD),
	STR(auth, jwt_hs256_secret_file, auth.jwt_hs256_secret_file, "",
	    CONF_RELOAD),
	STR(auth, jwt_public_keys, auth.jwt_public_keys, "", CONF_RELOAD),
	STR(auth, jwt_issuer, auth.jwt_issuer, "", CONF_RELOAD),
	STR(auth, jwt_audience, auth.jwt_audience, "", CONF_RELOAD),
	NUM(auth, jwt_leeway, CONF_INT, auth.jwt_leeway, 0, 600, "30", CONF_RELOAD),
	STR(auth, jwks_url, auth.jwks_url, "", CONF_RELOAD),
	NUM(auth, jwks_refresh, CONF_INT, auth.jwks_refresh, 1, 86400, "600",
	    CONF_RELOAD),
	NUM(auth, jwks_min_interval, CONF_INT, auth.jwks_min_interval, 0, 3600,
	    "30", CONF_RELOAD),
	NUM(audit, retention, CONF_DURATION, audit.retention, 0,
	    36500LL * 86400, "90d", CONF_RELOAD),
	ENUM(log, level, log.level, log_levels, "info", CONF_RELOAD),
	ENUM(log, format, log.format, log_formats, "text", CONF_RELOAD),
	STR(log, target, log.target, "stderr", CONF_RELOAD),
};

/*
 * Command-line values (dynconf-fcgi -u, -g, -p), applied after the file
 * and the environment by every conf_load: a reload keeps them too.
 */
#define CONF_OVERRIDES_MAX 8
static struct {
	const struct conf_setting	*setting;
	const char			*value;
} overrides[CONF_OVERRIDES_MAX];
static size_t noverrides;

const char *
conf_default_path(void)
{
	return SYSCONFDIR "/dynconf/dynconf.conf";
}

static const struct conf_setting *
conf_find(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conf_table); i++)
		if (strcmp(conf_table[i].section, section) == 0 &&
		    strcmp(conf_table[i].key, key) == 0)
			return &conf_table[i];
	return NULL;
}

/* The setting named "section.key", or NULL. */
static const struct conf_setting *
conf_find_name(const char *name)
{
	const char *dot = strchr(name, '.');
	char section[64];

	if (dot == NULL || (size_t)(dot - name) >= sizeof(section))
		return NULL;
	memcpy(section, name, (size_t)(dot - name));
	section[dot - name] = '\0';
	return conf_find(section, dot + 1);
}

static const struct {
	char		 unit;
	long long	 seconds;
} duration_units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };

/* "90d", "12h", "30m", "45s" or "90" (days) as seconds; NULL or why not. */
static const char *
duration_parse(const char *value, long long min, long long max, long long *out)
{
	char digits[24];
	size_t len = strlen(value), i;
	long long unit = 86400, n;
	const char *errstr;

	if (len > 0 && !isdigit((unsigned char)value[len - 1])) {
		for (i = 0; i < ARRAY_SIZE(duration_units); i++)
			if (value[len - 1] == duration_units[i].unit)
				break;
		if (i == ARRAY_SIZE(duration_units))
			return "not a duration (a number and s, m, h or d)";
		unit = duration_units[i].seconds;
		len--;
	}
	if (len == 0 || len >= sizeof(digits))
		return "not a duration (a number and s, m, h or d)";
	memcpy(digits, value, len);
	digits[len] = '\0';
	n = strtonum(digits, 0, max / unit, &errstr);
	if (errstr != NULL)
		return errstr;
	if (n * unit < min)
		return "too small";
	*out = n * unit;
	return NULL;
}

/* Seconds in the largest unit that divides them ("90d", "0"). */
static void
duration_format(long long seconds, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; seconds != 0 && i < ARRAY_SIZE(duration_units); i++)
		if (seconds % duration_units[i].seconds == 0) {
			snprintf(out, outlen, "%lld%c",
			    seconds / duration_units[i].seconds, duration_units[i].unit);
			return;
		}
	snprintf(out, outlen, "%lld", seconds);
}

/* Store value into the setting; on error returns a reason for the message. */
static const char *
conf_assign(struct conf *c, const struct conf_setting *s, const char *value)
{
	char *field = (char *)c + s->offset;
	const char *errstr = NULL;
	long long number = 0;
	char *end;
	size_t i;

	switch (s->type) {
	case CONF_STRING:
		if (strlen(value) >= s->size)
			return "value too long";
		memcpy(field, value, strlen(value) + 1);
		return NULL;
	case CONF_INT:
	case CONF_LONG:
		number = strtonum(value, s->min, s->max, &errstr);
		if (errstr != NULL)
			return errstr;
		break;
	case CONF_DURATION:
		if ((errstr = duration_parse(value, s->min, s->max, &number)) != NULL)
			return errstr;
		break;
	case CONF_OCTAL:
		errno = 0;
		number = strtoll(value, &end, 8);
		if (*value == '\0' || *end != '\0' || errno != 0 ||
		    number < s->min || number > s->max)
			return "not an octal mode";
		break;
	case CONF_ENUM:
		for (i = 0; s->names[i] != NULL; i++)
			if (strcasecmp(value, s->names[i]) == 0) {
				*(int *)field = (int)i;
				return NULL;
			}
		return "not one of the allowed values";
	}
	if (s->type == CONF_LONG || s->type == CONF_DURATION)
		*(long long *)field = number;
	else
		*(int *)field = (int)number;
	return NULL;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Strip a matching pair of double quotes around a value. */
static char *
unquote(char *value)
{
	size_t len = strlen(value);

	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		value[len - 1] = '\0';
		return value + 1;
	}
	return value;
}

static int
conf_parse_file(struct conf *c, const char *path, char *err, size_t errlen)
{
	char line[4096], section[64] = "";
	unsigned lineno = 0;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		const struct conf_setting *s;
		const char *why;
		char *p, *eq, *key, *value;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			goto fail;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			char *close = strchr(p, ']');

			if (close == NULL || close[1] != '\0' ||
			    (size_t)(close - p - 1) >= sizeof(section)) {
				snprintf(err, errlen, "%s:%u: bad section header",
				    path, lineno);
				goto fail;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(p + 1));
			continue;
		}
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value",
			    path, lineno);
			goto fail;
		}
		*eq = '\0';
		key = trim(p);
		value = unquote(trim(eq + 1));
		if ((s = conf_find(section, key)) == NULL) {
			snprintf(err, errlen, "%s:%u: unknown setting %s%s%s",
			    path, lineno, section, *section ? "." : "", key);
			goto fail;
		}
		if ((why = conf_assign(c, s, value)) != NULL) {
			snprintf(err, errlen, "%s:%u: %s.%s: %s", path, lineno,
			    s->section, s->key, why);
			goto fail;
		}
	}
	rc = 0;
fail:
	fclose(fp);
	return rc;
}

static int
conf_apply_overrides(struct conf *c, char *err, size_t errlen)
{
	const char *why;
	size_t i;

	for (i = 0; i < noverrides; i++)
		if ((why = conf_assign(c, overrides[i].setting,
		    overrides[i].value)) != NULL) {
			snprintf(err, errlen, "command line: %s.%s: %s",
			    overrides[i].setting->section, overrides[i].setting->key,
			    why);
			return -1;
		}
	return 0;
}

int
conf_override(const char *name, const char *value)
{
	const struct conf_setting *s = conf_find_name(name);
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < noverrides && overrides[i].setting != s; i++)
		continue;
	if (value == NULL) {
		if (i < noverrides)
			overrides[i] = overrides[--noverrides];
		return 0;
	}
	if (i == CONF_OVERRIDES_MAX)
		return -1;
	overrides[i].setting = s;
	overrides[i].value = value;
	if (i == noverrides)
		noverrides++;
	return 0;
}

static int
conf_apply_environment(struct conf *c, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conf_table); i++) {
		const struct conf_setting *s = &conf_table[i];
		char name[128], *p;
		const char *value, *why;

		snprintf(name, sizeof(name), "DYNCONF_%s_%s", s->section, s->key);
		for (p = name; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		if ((value = getenv(name)) == NULL)
			continue;
		if ((why = conf_assign(c, s, value)) != NULL) {
			snprintf(err, errlen, "environment %s: %s", name, why);
			return -1;
		}
	}
	return 0;
}

/*
 * The waiting process's socket: by default beside the replica, in a
 * directory the service user writes (the process binds it after dropping
 * root, and binds it anew each time the master restarts it).
 */
static int
wait_socket_path(struct conf *c, char *err, size_t errlen, const char *path)
{
	const char *slash = strrchr(c->replica.path, '/');

	if (c->server.wait_socket[0] == '\0')
		snprintf(c->server.wait_socket, sizeof(c->server.wait_socket),
		    "%.*s%swait.sock", slash ? (int)(slash - c->replica.path) : 0,
		    c->replica.path, slash ? "/" : "");
	/* What sockaddr_un's sun_path holds. */
	if (strlen(c->server.wait_socket) > CONF_SOCKET_PATH_MAX) {
		snprintf(err, errlen, "%s: server.wait_socket %s is longer than the "
		    "%d bytes a unix socket path may have", path ? path : "environment",
		    c->server.wait_socket, CONF_SOCKET_PATH_MAX);
		return -1;
	}
	return 0;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < ARRAY_SIZE(conf_table); i++)
		if (conf_assign(c, &conf_table[i], conf_table[i].default_value) != NULL) {
			snprintf(err, errlen, "bad built-in default for %s.%s",
			    conf_table[i].section, conf_table[i].key);
			return -1;
		}
	if (path != NULL && conf_parse_file(c, path, err, errlen) == -1)
		return -1;
	if (conf_apply_environment(c, err, errlen) == -1 ||
	    conf_apply_overrides(c, err, errlen) == -1)
		return -1;
	if (c->server.processes == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		c->server.processes = cpus > 0 && cpus <= 256 ? (int)cpus : 1;
	}
	/*
	 * A write responder spends most of a write waiting for etcd's commit,
	 * and etcd commits the writes in flight together: with 2 CPUs, 16
	 * writers took 1.5 times the writes of 4 (README).
	 */
	if (c->server.write_processes == 0) {
		int writers = WRITE_PROCESSES_PER_READER * c->server.processes;

		c->server.write_processes = writers < WRITE_PROCESSES_MAX ?
		    writers : WRITE_PROCESSES_MAX;
	}
	if (c->etcd.prefix[0] != '/' ||
	    c->etcd.prefix[strlen(c->etcd.prefix) - 1] != '/') {
		snprintf(err, errlen, "%s: etcd.prefix must start and end with '/'",
		    path ? path : "environment");
		return -1;
	}
	if (wait_socket_path(c, err, errlen, path) == -1)
		return -1;
	if (c->server.listen[0] == '\0') {
		snprintf(err, errlen, "%s: server.listen must not be empty",
		    path ? path : "environment");
		return -1;
	}
	return 0;
}

/* The setting's value in c as the file would give it. */
static void
conf_format(const struct conf_setting *s, const struct conf *c, char *out,
    size_t outlen)
{
	const char *field = (const char *)c + s->offset;

	switch (s->type) {
	case CONF_STRING:
		snprintf(out, outlen, "%s", field);
		break;
	case CONF_INT:
		snprintf(out, outlen, "%d", *(const int *)field);
		break;
	case CONF_LONG:
		snprintf(out, outlen, "%lld", *(const long long *)field);
		break;
	case CONF_DURATION:
		duration_format(*(const long long *)field, out, outlen);
		break;
	case CONF_OCTAL:
		snprintf(out, outlen, "%04o", (unsigned)*(const int *)field);
		break;
	case CONF_ENUM:
		snprintf(out, outlen, "%s", s->names[*(const int *)field]);
		break;
	}
}

void
conf_dump(const struct conf *c, FILE *out)
{
	char value[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conf_table); i++) {
		conf_format(&conf_table[i], c, value, sizeof(value));
		fprintf(out, "%s.%s = %s\n", conf_table[i].section,
		    conf_table[i].key, value);
	}
}

int
conf_needs_restart(const char *name)
{
	const struct conf_setting *s = conf_find_name(name);

	if (s == NULL)
		return -1;
	return s->apply == CONF_RESTART;
}

int
conf_keep_restart_only(struct conf *fresh, const struct conf *running)
{
	char was[PATH_MAX], now[PATH_MAX];
	size_t i;
	int changed = 0;

	for (i = 0; i < ARRAY_SIZE(conf_table); i++) {
		const struct conf_setting *s = &conf_table[i];

		if (s->apply != CONF_RESTART)
			continue;
		conf_format(s, running, was, sizeof(was));
		conf_format(s, fresh, now, sizeof(now));
		if (strcmp(was, now) == 0)
			continue;
		log_warn("%s.%s changed from %s to %s; it takes effect at the next "
		    "restart", s->section, s->key, *was ? was : "\"\"",
		    *now ? now : "\"\"");
		memcpy((char *)fresh + s->offset, (const char *)running + s->offset,
		    s->size);
		changed++;
	}
	return changed;
}

void
conf_list_keys(struct buf *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conf_table); i++)
		buf_printf(out, "%s.%s\n", conf_table[i].section, conf_table[i].key);
}
