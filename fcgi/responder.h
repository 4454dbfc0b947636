/*
 * A FastCGI responder: accepts connections on the listen socket, turns each
 * FastCGI request into the core's plain struct exchange, runs the pipeline
 * and writes the response back, or, for a request that waits, hands it to
 * the waiting process (handoff.h). The only module besides main.c that
 * knows libfcgi.
 */
#ifndef DYNCONF_RESPONDER_H
#define DYNCONF_RESPONDER_H

/*
 * Serve requests on listen_fd until SIGTERM/SIGINT (the request in flight
 * finishes first) or until max_requests were served (0: no limit).
 * config_path, when not NULL, is re-read on SIGHUP (spawn-fcgi mode, where
 * no master does it). Returns the exit status.
 */
int	responder_run(int listen_fd, long long max_requests, const char *config_path);

#endif
