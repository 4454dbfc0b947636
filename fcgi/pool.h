/*
 * The pool master (standalone mode): preforks server.processes responders on
 * the bound socket and supervises them. A dead responder is replaced at
 * once; one that keeps dying right after start is backed off. SIGTERM and
 * SIGINT stop gracefully, SIGHUP reloads the configuration and replaces the
 * responders, SIGUSR1 reopens log files. Signals reach the loop through a
 * self-pipe.
 */
#ifndef DYNCONF_POOL_H
#define DYNCONF_POOL_H

/* Run until stopped; returns the process exit status. */
int	pool_run(int listen_fd, const char *config_path);

#endif
