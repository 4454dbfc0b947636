/*
 * The pool master (standalone mode): preforks server.processes responders on
 * the read socket and server.write_processes on the write socket (when
 * server.write_listen is set) and supervises them. A dead responder is replaced at
 * once; one that keeps dying right after start is backed off. SIGTERM and
 * SIGINT stop gracefully, SIGHUP reloads the configuration and replaces the
 * responders, SIGUSR1 reopens log files. Signals reach the loop through a
 * self-pipe.
 */
#ifndef DYNCONF_POOL_H
#define DYNCONF_POOL_H

/* Run until stopped (write_fd -1: no write group); the exit status. */
int	pool_run(int read_fd, int write_fd, const char *config_path);

#endif
