/*
 * The waiting process: the one place per node where requests wait (long-
 * poll watches, and what else waits for a change, http/wait.h). Responders
 * hand it their waiting requests, connection and all (handoff.h); it holds
 * them all in one epoll loop around a wait room (http/wait_room.h), writes
 * each answer as FastCGI records itself when its change comes or its
 * timeout passes, and forgets those whose web server connection closed.
 * The pool master forks and supervises it; under spawn-fcgi,
 * dynconf-fcgi --waiter runs it.
 *
 * SIGTERM and SIGINT: answer everything waiting (no change, the current
 * revision), then exit. SIGHUP: reread the configuration and answer
 * everything waiting the same way. SIGUSR1: reopen the log.
 */
#ifndef DYNCONF_WAITER_H
#define DYNCONF_WAITER_H

/* Run until stopped; config_path is reread on SIGHUP. The exit status. */
int	waiter_run(const char *config_path);

#endif
