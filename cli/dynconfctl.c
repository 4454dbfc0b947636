/*
 * dynconfctl: administration from the command line, without HTTP. It reads
 * the same configuration file as dynconf-fcgi and goes to etcd (and, for
 * replica and status, to this node's replica) through the same core, so it
 * works before any token exists and while no pool runs (as OpenBSD's bgpctl
 * sits beside bgpd). Commands are rows of one table; each group lives in a
 * file of its own (cmd_token.c, cmd_env.c, ...), and ctl.c holds what they
 * share. The pools learn of every change through their watchers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"
#include "ctl.h"

static const struct ctl_command commands[] = {
	{ .group = "status", .args = "", .needs = CTL_NEEDS_CONF, .run = cmd_status,
	  .summary = "etcd's members and health, the replica, the breaker and the pool",
	  .options = "It exits 1 when etcd cannot be reached.\n" },
	{ .group = "token", .name = "create", .run = cmd_token_create,
	  .args = "--name name --scopes scope[,scope...] [--ttl seconds]",
	  .summary = "make an API token and print it once",
	  .options = "  --name name       a name: [A-Za-z0-9][A-Za-z0-9._-]{0,127}\n"
	    "  --scopes list     scopes, separated by commas or spaces (admin: all)\n"
	    "  --ttl seconds     expire after that long (default: never)\n" },
	{ .group = "token", .name = "list", .args = "", .run = cmd_token_list,
	  .summary = "list the API tokens (never the tokens themselves)" },
	{ .group = "token", .name = "revoke", .args = "id", .run = cmd_token_revoke,
	  .summary = "revoke a token, and with it every token it made" },
	{ .group = "env", .name = "create", .args = "name", .run = cmd_env_create,
	  .summary = "make an environment and print its SDK key once" },
	{ .group = "env", .name = "list", .args = "", .run = cmd_env_list,
	  .summary = "list the environments" },
	{ .group = "env", .name = "rotate-key", .args = "name", .run = cmd_env_rotate_key,
	  .summary = "give an environment a new SDK key and print it once" },
	{ .group = "flag", .name = "get", .args = "[--env name] key", .run = cmd_flag_get,
	  .summary = "print a flag",
	  .options = "  --env name        the environment (default: default)\n" },
	{ .group = "flag", .name = "set", .run = cmd_flag_set,
	  .args = "[--env name] [--revision rev] key {json | --file path}",
	  .summary = "create or replace a flag with a JSON document",
	  .options = "  --env name        the environment (default: default)\n"
	    "  --file path       the document from a file (-: standard input)\n"
	    "  --revision rev    only if the flag is at that revision\n" },
	{ .group = "flag", .name = "eval", .run = cmd_flag_eval,
	  .args = "[--env name] [--context json] key",
	  .summary = "evaluate a flag for a context",
	  .options = "  --env name        the environment (default: default)\n"
	    "  --context json    the evaluation context, a JSON object\n" },
	{ .group = "config", .name = "get", .args = "key", .run = cmd_config_get,
	  .summary = "print a config entry's value" },
	{ .group = "config", .name = "set", .args = "key json", .run = cmd_config_set,
	  .summary = "set a config entry to a JSON value ('\"text\"' for a string)" },
	{ .group = "config", .name = "list", .args = "[--prefix prefix]",
	  .run = cmd_config_list, .summary = "list config entries, key and value",
	  .options = "  --prefix prefix   only keys that start with it\n" },
	{ .group = "user", .name = "import", .args = "[--file path]",
	  .run = cmd_user_import,
	  .summary = "create users from JSON lines, one user a line",
	  .options = "  --file path       read it instead of standard input\n"
	    "Progress goes to standard error when it is a terminal.\n" },
	{ .group = "user", .name = "export", .args = "[--file path]",
	  .run = cmd_user_export,
	  .summary = "print every user as JSON lines, at one revision",
	  .options = "  --file path       write it (mode 0600) instead of standard output\n" },
	{ .group = "replica", .name = "verify", .args = "", .needs = CTL_NEEDS_CONF,
	  .run = cmd_replica_verify,
	  .summary = "compare this node's replica with etcd; list every difference",
	  .options = "It exits 3 when it finds a difference.\n" },
	{ .group = "replica", .name = "rebuild", .args = "[--force]",
	  .needs = CTL_NEEDS_CONF, .run = cmd_replica_rebuild,
	  .summary = "load the replica afresh from etcd",
	  .options = "  --force           also when etcd is at an older revision than the\n"
	    "                    replica (etcd replaced or restored): stop the pool first\n" },
	{ .group = "backup", .args = "[--file path]", .needs = CTL_NEEDS_CONF,
	  .run = cmd_backup,
	  .summary = "write every key under the prefix, at one revision, as JSON lines",
	  .options = "  --file path       write it (mode 0600) instead of standard output\n" },
	{ .group = "restore", .args = "[--force] [--file path]", .needs = CTL_NEEDS_CONF,
	  .run = cmd_restore,
	  .summary = "write a backup's keys under the prefix, which must be empty",
	  .options = "  --file path       read it instead of standard input\n"
	    "  --force           delete what the prefix holds first\n" },
};

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: dynconfctl [-c config] command [arguments]\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct ctl_command *c = &commands[i];
		char words[64];

		snprintf(words, sizeof(words), "%s%s%s", c->group, c->name ? " " : "",
		    c->name ? c->name : "");
		fprintf(out, "  %-18s %s\n", words, c->summary);
	}
	fprintf(out, "dynconfctl command --help says more; see dynconfctl(8).\n");
}

static void
command_help(const struct ctl_command *c)
{
	printf("usage: dynconfctl [-c config] %s%s%s%s%s\n%s.\n", c->group,
	    c->name ? " " : "", c->name ? c->name : "", c->args[0] ? " " : "",
	    c->args, c->summary);
	if (c->options != NULL)
		printf("%s", c->options);
}

/* The group's commands, for "dynconfctl token" alone. */
static int
group_usage(const char *group, const char *problem)
{
	FILE *out = problem != NULL ? stderr : stdout;
	size_t i;

	if (problem != NULL) {
		fprintf(stderr, "dynconfctl: %s: %s (see dynconfctl %s --help)\n",
		    group, problem, group);
		return CTL_USAGE;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].group, group) == 0)
			fprintf(out, "usage: dynconfctl [-c config] %s %s %s\n", group,
			    commands[i].name, commands[i].args);
	return CTL_OK;
}

static int
asks_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* The table's row for argv's words; NULL after saying why (*status set). */
static const struct ctl_command *
find_command(int argc, char **argv, int *status)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	int group_known = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].group, argv[0]) != 0)
			continue;
		group_known = 1;
		if (commands[i].name == NULL ||
		    (sub != NULL && strcmp(commands[i].name, sub) == 0))
			return &commands[i];
	}
	if (!group_known) {
		fprintf(stderr, "dynconfctl: unknown command %s (see dynconfctl "
		    "--help)\n", argv[0]);
		*status = CTL_USAGE;
	} else if (sub == NULL || strcmp(sub, "--help") == 0 ||
	    strcmp(sub, "-h") == 0) {
		*status = group_usage(argv[0], sub == NULL ? "which command?" : NULL);
	} else {
		char problem[128];

		snprintf(problem, sizeof(problem), "unknown command %s", sub);
		*status = group_usage(argv[0], problem);
	}
	return NULL;
}

/* Errors only, on stderr, as "dynconfctl: ..." lines: no timestamps. */
static void
quiet_logging(void)
{
	struct conf c = conf;

	c.log.level = LOG_LEVEL_ERROR;
	c.log.format = LOG_FORMAT_TEXT;
	snprintf(c.log.target, sizeof(c.log.target), "stderr");
	log_open(&c);
	log_set_role("dynconfctl");
}

static int
run(const struct ctl_command *c, int argc, char **argv, const char *config_path)
{
	char err[512];

	if (conf_load(&conf, config_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "dynconfctl: %s\n", err);
		return CTL_FAILED;
	}
	quiet_logging();
	if (c->needs == CTL_NEEDS_STORE && store_open_remote() == -1) {
		ctl_error("cannot reach etcd at %s", conf.etcd.endpoints);
		return CTL_FAILED;
	}
	optind = 0;	/* glibc: start afresh on the command's arguments */
	return c->run(argc, argv);
}

int
main(int argc, char **argv)
{
	const struct ctl_command *c;
	const char *config_path = conf_default_path();
	int ch, status = CTL_USAGE;

	opterr = 0;
	while ((ch = getopt(argc, argv, "+:c:h")) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		case ':':
			fprintf(stderr, "dynconfctl: -c needs the configuration file\n");
			return CTL_USAGE;
		default:
			fprintf(stderr, "dynconfctl: unknown option -%c (see dynconfctl "
			    "--help)\n", optopt);
			return CTL_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fprintf(stderr, "dynconfctl: which command? (see dynconfctl --help)\n");
		return CTL_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return CTL_OK;
	}
	if ((c = find_command(argc, argv, &status)) == NULL)
		return status;
	ctl_set_command(c);
	/* argv[0] becomes the command's own name, as getopt wants it. */
	if (c->name != NULL) {
		argc--;
		argv++;
	}
	if (asks_help(argc, argv)) {
		command_help(c);
		return CTL_OK;
	}
	status = run(c, argc, argv, config_path);
	store_close();
	return status;
}
