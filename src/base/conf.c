/*
 * The configuration file and environment; see conf.h. Every setting is one
 * row of conf_table: its type, range, default and where it lives in struct
 * conf. Parsing, the environment override, the -t dump and the tests all walk
 * that one table.
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

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

struct conf conf;

enum conf_type { CONF_STRING, CONF_INT, CONF_LONG, CONF_OCTAL, CONF_ENUM };

struct conf_setting {
	const char	*section;
	const char	*key;
	enum conf_type	 type;
	size_t		 offset;
	size_t		 size;		/* strings: capacity */
	long long	 min, max;	/* numbers */
	const char	*const *names;	/* enums: NULL-terminated */
	const char	*default_value;
};

static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const log_formats[] = { "text", "json", NULL };
static const char *const auth_modes[] = { "on", "off", NULL };

#define STR(sec, name, field, def) \
	{ #sec, #name, CONF_STRING, offsetof(struct conf, field), \
	  sizeof(((struct conf *)0)->field), 0, 0, NULL, def }
#define NUM(sec, name, type, field, lo, hi, def) \
	{ #sec, #name, type, offsetof(struct conf, field), \
	  sizeof(((struct conf *)0)->field), lo, hi, NULL, def }
#define ENUM(sec, name, field, names, def) \
	{ #sec, #name, CONF_ENUM, offsetof(struct conf, field), \
	  sizeof(int), 0, 0, names, def }

static const struct conf_setting conf_table[] = {
	STR(server, listen, server.listen, "/run/dynconf/dynconf.sock"),
	STR(server, write_listen, server.write_listen, "/run/dynconf/dynconf-write.sock"),
	NUM(server, socket_mode, CONF_OCTAL, server.socket_mode, 0, 0777, "0660"),
	STR(server, socket_owner, server.socket_owner, ""),
	STR(server, socket_group, server.socket_group, ""),
	NUM(server, backlog, CONF_INT, server.backlog, 1, 65535, "4096"),
	NUM(server, processes, CONF_INT, server.processes, 0, 256, "0"),
	NUM(server, write_processes, CONF_INT, server.write_processes, 0, 256, "0"),
	NUM(server, max_requests, CONF_LONG, server.max_requests, 0, 1000000000, "100000"),
	NUM(server, shutdown_timeout, CONF_INT, server.shutdown_timeout, 1, 3600, "30"),
	NUM(server, max_body, CONF_LONG, server.max_body, 1024, 1073741824, "1048576"),
	NUM(server, request_timeout, CONF_INT, server.request_timeout, 100, 600000, "10000"),
	NUM(server, max_watches, CONF_INT, server.max_watches, 1, 1000000, "10000"),
	STR(server, wait_socket, server.wait_socket, ""),
	STR(server, user, server.user, ""),
	STR(server, group, server.group, ""),
	STR(server, pidfile, server.pidfile, ""),
	STR(server, metrics_file, server.metrics_file, LOCALSTATEDIR "/lib/dynconf/metrics"),
	STR(etcd, endpoints, etcd.endpoints, "http://127.0.0.1:2379"),
	STR(etcd, prefix, etcd.prefix, "/dynconf/"),
	NUM(etcd, timeout, CONF_INT, etcd.timeout, 50, 600000, "2000"),
	STR(etcd, username, etcd.username, ""),
	STR(etcd, password_file, etcd.password_file, ""),
	STR(etcd, ca_file, etcd.ca_file, ""),
	STR(etcd, cert_file, etcd.cert_file, ""),
	STR(etcd, key_file, etcd.key_file, ""),
	STR(replica, path, replica.path, LOCALSTATEDIR "/lib/dynconf/replica.db"),
	NUM(replica, history, CONF_LONG, replica.history, 100, 10000000, "10000"),
	ENUM(auth, mode, auth.mode, auth_modes, "on"),
	STR(auth, jwt_hs256_secret_file, auth.jwt_hs256_secret_file, ""),
	STR(auth, jwt_public_keys, auth.jwt_public_keys, ""),
	STR(auth, jwt_issuer, auth.jwt_issuer, ""),
	STR(auth, jwt_audience, auth.jwt_audience, ""),
	NUM(auth, jwt_leeway, CONF_INT, auth.jwt_leeway, 0, 600, "30"),
	ENUM(log, level, log.level, log_levels, "info"),
	ENUM(log, format, log.format, log_formats, "text"),
	STR(log, target, log.target, "stderr"),
};

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
	if (s->type == CONF_LONG)
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
	if (conf_apply_environment(c, err, errlen) == -1)
		return -1;
	if (c->server.processes == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		c->server.processes = cpus > 0 && cpus <= 256 ? (int)cpus : 1;
	}
	if (c->server.write_processes == 0)
		c->server.write_processes = c->server.processes;
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

void
conf_dump(const struct conf *c, FILE *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conf_table); i++) {
		const struct conf_setting *s = &conf_table[i];
		const char *field = (const char *)c + s->offset;

		fprintf(out, "%s.%s = ", s->section, s->key);
		switch (s->type) {
		case CONF_STRING:
			fprintf(out, "%s\n", field);
			break;
		case CONF_INT:
			fprintf(out, "%d\n", *(const int *)field);
			break;
		case CONF_LONG:
			fprintf(out, "%lld\n", *(const long long *)field);
			break;
		case CONF_OCTAL:
			fprintf(out, "%04o\n", (unsigned)*(const int *)field);
			break;
		case CONF_ENUM:
			fprintf(out, "%s\n", s->names[*(const int *)field]);
			break;
		}
	}
}

void
conf_list_keys(struct buf *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conf_table); i++)
		buf_printf(out, "%s.%s\n", conf_table[i].section, conf_table[i].key);
}
