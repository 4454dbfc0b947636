/*
 * dynconf-fcgi: the FastCGI responder pool. Started with a listening socket
 * on fd 0 (spawn-fcgi) it serves as one responder; with -W it is only the
 * replica's watcher, with --waiter only the waiting process (both for
 * spawn-fcgi too); otherwise it binds server.listen, drops root and runs
 * the pool master.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/shared.h"
#include "http/metrics.h"
#include "listen.h"
#include "pool.h"
#include "privdrop.h"
#include "responder.h"
#include "store/watcher.h"
#include "waiter.h"

struct options {
	const char	*config_path;
	const char	*pidfile;
	const char	*user;
	const char	*group;
	int		 foreground;
	int		 check_only;
	int		 watcher_only;
	int		 waiter_only;
};

/* Long options without a letter. */
enum { OPTION_WAITER = 256 };

static void
usage(FILE *out)
{
	fprintf(out, "usage: dynconf-fcgi [-ftV] [-c config] [-p pidfile] "
	    "[-u user] [-g group]\n"
	    "       dynconf-fcgi -W | --watcher [-c config] [-u user] [-g group]\n"
	    "       dynconf-fcgi --waiter [-c config] [-u user] [-g group]\n");
}

static int
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option long_options[] = {
		{ "watcher", no_argument, NULL, 'W' },
		{ "waiter", no_argument, NULL, OPTION_WAITER },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(opt, 0, sizeof(*opt));
	opt->config_path = conf_default_path();
	while ((ch = getopt_long(argc, argv, "c:fg:hp:tu:VW", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			opt->config_path = optarg;
			break;
		case 'f':
			opt->foreground = 1;
			break;
		case 'g':
			opt->group = optarg;
			break;
		case 'p':
			opt->pidfile = optarg;
			break;
		case 't':
			opt->check_only = 1;
			break;
		case 'u':
			opt->user = optarg;
			break;
		case 'W':
			opt->watcher_only = 1;
			break;
		case OPTION_WAITER:
			opt->waiter_only = 1;
			break;
		case 'V':
			printf("dynconf-fcgi %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/*
 * Command-line options win over the file and the environment for these
 * settings, at the start and at every reload.
 */
static void
apply_options(const struct options *opt)
{
	if (opt->user != NULL)
		conf_override("server.user", opt->user);
	if (opt->group != NULL)
		conf_override("server.group", opt->group);
	if (opt->pidfile != NULL)
		conf_override("server.pidfile", opt->pidfile);
}

static int
daemonize(void)
{
	int fd;

	switch (fork()) {
	case -1:
		return -1;
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() == -1)
		return -1;
	if (chdir("/") == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (strcmp(conf.log.target, "stderr") != 0)
			dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

static int
write_pidfile(const char *path)
{
	FILE *fp;

	if (path[0] == '\0')
		return 0;
	if ((fp = fopen(path, "w")) == NULL) {
		log_error("pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
	return 0;
}

/*
 * Only the replica's watcher, for deployments where spawn-fcgi (or systemd)
 * runs the responders and no master forks one.
 */
static int
run_watcher_only(void)
{
	char err[512];

	/* As the service user, so the shared file is one its responders can map. */
	if (privdrop(conf.server.user, conf.server.group, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 1;
	}
	if (metrics_attach(conf.server.metrics_file) == -1)
		return 1;
	return watcher_run();
}

/*
 * Only the waiting process, where spawn-fcgi (or systemd) runs the
 * responders and no master forks one.
 */
static int
run_waiter_only(const struct options *opt)
{
	char err[512];

	log_set_role("waiter");
	if (privdrop(conf.server.user, conf.server.group, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 1;
	}
	if (metrics_attach(conf.server.metrics_file) == -1)
		return 1;
	return waiter_run(opt->config_path);
}

/* spawn-fcgi started us with the socket on fd 0: one responder, no master. */
static int
run_inherited(const struct options *opt)
{
	char err[512];

	log_set_role("responder");
	if (privdrop(conf.server.user, conf.server.group, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 1;
	}
	if (conf.auth.mode == AUTH_MODE_OFF)
		log_warn("auth.mode = off: every endpoint is open; for development only");
	if (metrics_attach(conf.server.metrics_file) == -1)
		log_warn("metrics are per process: %s is not usable",
		    conf.server.metrics_file);
	/* No master here to replace a responder that retires: never retire. */
	if (conf.server.max_requests != 0)
		log_info("server.max_requests ignored under spawn-fcgi: nothing "
		    "would start a responder that exits");
	return responder_run(STDIN_FILENO, 0, opt->config_path);
}

static int
run_standalone(const struct options *opt)
{
	char err[512];
	int fd, write_fd = -1, rc;

	if ((fd = listen_open(&conf, conf.server.listen, err, sizeof(err))) == -1 ||
	    (conf.server.write_listen[0] != '\0' &&
	    (write_fd = listen_open(&conf, conf.server.write_listen, err,
	    sizeof(err))) == -1)) {
		log_error("%s", err);
		return 1;
	}
	if (metrics_attach(NULL) == -1)
		return 1;
	/* As root, before dropping it: for dynconfctl status. */
	shared_mirror_open(conf.server.metrics_file);
	if (!opt->foreground && daemonize() == -1) {
		log_error("daemonize: %s", strerror(errno));
		return 1;
	}
	if (write_pidfile(conf.server.pidfile) == -1)
		return 1;
	if (privdrop(conf.server.user, conf.server.group, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 1;
	}
	if (conf.auth.mode == AUTH_MODE_OFF)
		log_warn("auth.mode = off: every endpoint is open; for development only");
	rc = pool_run(fd, write_fd, opt->config_path);
	if (conf.server.pidfile[0] != '\0')
		unlink(conf.server.pidfile);
	if (conf.server.listen[0] == '/')
		unlink(conf.server.listen);
	if (conf.server.write_listen[0] == '/')
		unlink(conf.server.write_listen);
	return rc;
}

int
main(int argc, char **argv)
{
	static char config_path[PATH_MAX];
	struct options opt;
	char err[512];

	if (parse_options(argc, argv, &opt) == -1)
		return 2;
	/* Reloads happen after daemonize() has moved to "/": keep a full path. */
	if (opt.config_path != NULL && opt.config_path[0] != '/' &&
	    realpath(opt.config_path, config_path) != NULL)
		opt.config_path = config_path;
	apply_options(&opt);
	if (conf_load(&conf, opt.config_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "dynconf-fcgi: %s\n", err);
		return 1;
	}
	if (opt.check_only) {
		conf_dump(&conf, stdout);
		fprintf(stderr, "dynconf-fcgi: %s: configuration OK\n", opt.config_path);
		return 0;
	}
	log_open(&conf);
	if (opt.watcher_only)
		return run_watcher_only();
	if (opt.waiter_only)
		return run_waiter_only(&opt);
	if (listen_is_socket(STDIN_FILENO))
		return run_inherited(&opt);
	return run_standalone(&opt);
}
