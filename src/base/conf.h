/*
 * The configuration: an INI file ([server] [etcd] [replica] [auth] [audit] [log])
 * parsed against one typed, ranged table of settings, with
 * DYNCONF_<SECTION>_<KEY> environment variables taking precedence over the
 * file. Errors name the file and line.
 */
#ifndef DYNCONF_CONF_H
#define DYNCONF_CONF_H

#include <limits.h>
#include <stdio.h>

#include "base/buf.h"

#define CONF_STRING_MAX 1024
/* The longest unix socket path (sockaddr_un's sun_path, less its NUL). */
#define CONF_SOCKET_PATH_MAX 107

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
enum auth_mode { AUTH_MODE_ON, AUTH_MODE_OFF };

struct conf {
	struct {
		char		listen[CONF_STRING_MAX];
		char		write_listen[CONF_STRING_MAX];	/* "": none */
		int		socket_mode;
		char		socket_owner[64];
		char		socket_group[64];
		int		backlog;
		int		processes;	/* 0 in the file: one per CPU */
		int		write_processes;	/* 0 in the file: as processes */
		long long	max_requests;	/* 0: never recycle */
		int		shutdown_timeout;	/* seconds */
		long long	max_body;	/* bytes */
		int		request_timeout;	/* milliseconds */
		int		max_watches;	/* waiting at once, per node */
		char		wait_socket[PATH_MAX];	/* the waiting process's */
		char		user[64];
		char		group[64];
		char		pidfile[PATH_MAX];
		char		metrics_file[PATH_MAX];
	} server;
	struct {
		char		endpoints[CONF_STRING_MAX];
		char		prefix[256];
		int		timeout;	/* milliseconds */
		char		username[128];
		char		password_file[PATH_MAX];
		char		ca_file[PATH_MAX];
		char		cert_file[PATH_MAX];
		char		key_file[PATH_MAX];
	} etcd;
	struct {
		char		path[PATH_MAX];
		long long	history;	/* events kept for /v1/watch */
	} replica;
	struct {
		int		mode;	/* enum auth_mode */
		char		jwt_hs256_secret_file[PATH_MAX];
		char		jwt_public_keys[CONF_STRING_MAX];	/* PEM files */
		char		jwt_issuer[256];	/* "": not checked */
		char		jwt_audience[256];	/* "": not checked */
		int		jwt_leeway;	/* seconds */
		char		jwks_url[1024];	/* "": no JWKS */
		int		jwks_refresh;	/* seconds between scheduled fetches */
		int		jwks_min_interval;	/* seconds between fetches for an unknown kid */
	} auth;
	struct {
		long long	retention;	/* seconds audit records are kept; 0: forever */
	} audit;
	struct {
		int		level;	/* enum log_level */
		int		format;	/* enum log_format */
		char		target[PATH_MAX];	/* stderr, syslog or a file */
	} log;
};

/* The configuration this process runs with. */
extern struct conf conf;

/* The default configuration file path (from configure's sysconfdir). */
const char *conf_default_path(void);

/*
 * Fill *c with defaults, then the file at path (which may be NULL for
 * defaults only), then the environment, then the command-line overrides.
 * On error returns -1 with a message naming file and line in err (errlen
 * bytes).
 */
int	conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/*
 * A command-line value for the setting name ("server.user"), which wins
 * over the file and the environment in every conf_load from now on,
 * reloads included; value (kept, not copied) NULL drops it. -1 for an
 * unknown name or too many overrides.
 */
int	conf_override(const char *name, const char *value);

/*
 * 1 when the setting name ("server.listen") takes effect only at a
 * restart, 0 when a reload applies it, -1 when there is no such setting.
 */
int	conf_needs_restart(const char *name);

/*
 * For a reload that loaded fresh while running is in effect: log a
 * warning for each setting that needs a restart and changed ("server.listen
 * changed from X to Y; it takes effect at the next restart"), and keep
 * running's value in fresh, so that the configuration in effect says what
 * the process uses (the socket and pidfile removed at exit are the ones
 * it made). Returns how many there were.
 */
int	conf_keep_restart_only(struct conf *fresh, const struct conf *running);

/* Print every setting as "section.key = value" lines. */
void	conf_dump(const struct conf *c, FILE *out);

/* Render the same "section.key" names, one per line (for tests and docs). */
void	conf_list_keys(struct buf *out);

#endif
