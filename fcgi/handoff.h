/*
 * The handoff of a waiting request from a responder to the waiting
 * process: one datagram on the unix socket server.wait_socket, holding the
 * FastCGI request id and the struct wait_request (http/wait.h), with the
 * connection's file descriptor riding along (SCM_RIGHTS). Once it is sent
 * the request is the waiting process's: a responder that dies afterwards
 * loses nothing. The socket is the waiting process's own: when that dies,
 * what it held and what was still queued to it is closed, and the web
 * server answers 502 at once rather than letting anything hang.
 */
#ifndef DYNCONF_HANDOFF_H
#define DYNCONF_HANDOFF_H

#include <stdint.h>

#include "http/wait.h"

struct handoff {
	uint32_t		magic;
	uint32_t		size;		/* sizeof(struct handoff): one build */
	uint32_t		fcgi_id;	/* the FastCGI request id */
	uint32_t		reserved;
	struct wait_request	wait;
};

/*
 * In a responder: hand connection fd, FastCGI request fcgi_id, over.
 * Blocks at most a second while the waiting process is busy. 0, or -1 with
 * errno (ENOENT or ECONNREFUSED: no waiting process) and fd still ours.
 */
int	handoff_send(int fd, unsigned fcgi_id, const struct wait_request *req);

/* In the waiting process: bind path (mode 0600), non-blocking; -1 with err. */
int	handoff_listen(const char *path, char *err, size_t errlen);

/*
 * The next handoff queued on sock: 1 with *msg checked and *fd the
 * connection; 0 when none is queued; -1 on a socket error. A malformed one
 * is logged and its connection closed, and the next one read.
 */
int	handoff_receive(int sock, struct handoff *msg, int *fd);

#endif
