/*
 * What dynconfctl's command groups share: the command table's entry, exit
 * statuses, one-line error messages, option parsing that names the bad
 * option, the store's answers as words, and a consistent read of a whole
 * etcd prefix. Each group (cmd_token.c, cmd_env.c, ...) exports its
 * commands' run functions; dynconfctl.c holds the table.
 */
#ifndef DYNCONF_CTL_H
#define DYNCONF_CTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"
#include "etcd/etcd.h"
#include "store/store.h"

struct json_object;

/* Exit statuses; dynconfctl(8) EXIT STATUS says the same. */
#define CTL_OK		0
#define CTL_FAILED	1
#define CTL_USAGE	2
#define CTL_DIFFERENT	3	/* replica verify found a difference */

/* What a command needs before it runs. */
enum ctl_needs {
	CTL_NEEDS_STORE,	/* the store, on etcd alone (store_open_remote) */
	CTL_NEEDS_CONF,		/* the configuration only: it connects itself */
};

struct ctl_command {
	const char	*group;		/* "token", or "status" */
	const char	*name;		/* "create", or NULL: the group is the command */
	const char	*args;		/* what follows the words, for usage lines */
	const char	*summary;	/* one line */
	const char	*options;	/* the --help text below the usage line */
	enum ctl_needs	 needs;
	int		(*run)(int argc, char **argv);	/* argv[0]: the command */
};

/* The command being run ("token create"), for messages. */
const char	*ctl_name(void);
void	ctl_set_command(const struct ctl_command *command);

/* "dynconfctl: token create: <message>" on stderr. */
void	ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, pointing at --help; returns CTL_USAGE. */
int	ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * getopt_long over a command's arguments, with errors as ctl_usage lines:
 * returns the option, -1 at the end, or '?' after reporting a bad one (the
 * caller returns CTL_USAGE). optstring must start with ':'.
 */
int	ctl_getopt(int argc, char **argv, const char *optstring,
	    const struct option *options);
/* The positional arguments left: between min and max, else a usage error. */
int	ctl_operands(int argc, char **argv, int min, int max, const char *what);
/* A bounded number option: 0, or CTL_USAGE after saying why. */
int	ctl_number(const char *option, const char *text, long long min,
	    long long max, int64_t *out);

/* A store context with its own arena; free with ctl_ctx_free. */
void	ctl_ctx_init(struct store_ctx *ctx, struct arena *arena);
void	ctl_ctx_free(struct store_ctx *ctx);
/* Say what a store result means for what ("the token", "flag x"). */
int	ctl_store_failed(enum store_result rc, const char *what);

/* A client for etcd from the configuration, without the pool's breaker. */
struct etcd_client *ctl_etcd(void);
int	ctl_etcd_failed(const struct etcd_error *error);

/*
 * Every key under folder ("users/"; "" for all) of the configured prefix at one revision (*revision: 0 for
 * the latest, set to the one read), a page at a time, in key order: fn gets
 * each kv with its key relative to the prefix (keys holding a NUL byte are
 * left out, as the replica leaves them); non-zero from fn stops the scan.
 */
typedef int (*ctl_scan_fn)(void *arg, const char *key, const struct etcd_kv *kv);
int	ctl_scan(struct etcd_client *client, const char *folder, int64_t *revision,
	    ctl_scan_fn fn, void *arg, struct etcd_error *error);

/* JSON text (strict, one value) into *out (NULL is JSON null): 0, or -1 after ctl_error. */
int	ctl_parse_json(const char *text, size_t len, const char *what,
	    struct json_object **out);
/* Text from a file ("-": standard input) into a malloc'd string; NULL after ctl_error. */
char	*ctl_read_file(const char *path, size_t *len);
/* Where secrets go: path made with mode 0600, or stdout for NULL or "-"; NULL after ctl_error. */
FILE	*ctl_open_output(const char *path);
/*
 * Started as root, become the owner of the replica at path (or of its
 * directory), so that SQLite's -wal and -shm files, if it makes them, are
 * ones the pool can open. 0, or -1 after ctl_error.
 */
int	ctl_become_owner(const char *path);
/* Back to root's effective ids, after ctl_become_owner. */
void	ctl_become_root(void);
/* The configured replica, opened as its owner; NULL after ctl_error. */
struct replica;
struct replica *ctl_open_replica(int must_exist);

/* Print a JSON value, pretty, and a newline. */
void	ctl_print_json(struct json_object *value);

/* The commands, by group. */
int	cmd_status(int argc, char **argv);
int	cmd_token_create(int argc, char **argv);
int	cmd_token_list(int argc, char **argv);
int	cmd_token_revoke(int argc, char **argv);
int	cmd_env_create(int argc, char **argv);
int	cmd_env_list(int argc, char **argv);
int	cmd_env_rotate_key(int argc, char **argv);
int	cmd_flag_get(int argc, char **argv);
int	cmd_flag_set(int argc, char **argv);
int	cmd_flag_eval(int argc, char **argv);
int	cmd_config_get(int argc, char **argv);
int	cmd_config_set(int argc, char **argv);
int	cmd_config_list(int argc, char **argv);
int	cmd_user_import(int argc, char **argv);
int	cmd_user_export(int argc, char **argv);
int	cmd_replica_verify(int argc, char **argv);
int	cmd_replica_rebuild(int argc, char **argv);
int	cmd_backup(int argc, char **argv);
int	cmd_restore(int argc, char **argv);

#endif
