/*
 * The FastCGI listen sockets: bound by the master from server.listen and
 * server.write_listen (a unix socket path, with mode and owner, or
 * host:port), or inherited on fd 0 from spawn-fcgi.
 */
#ifndef DYNCONF_LISTEN_H
#define DYNCONF_LISTEN_H

#include <stddef.h>

struct conf;

/*
 * Bind and listen on spec (a path or host:port) with the configuration's
 * socket mode, owner and backlog; returns the fd or -1 with err.
 */
int	listen_open(const struct conf *c, const char *spec, char *err,
	    size_t errlen);

/* Is fd a listening socket (spawn-fcgi hands one over on fd 0)? */
int	listen_is_socket(int fd);

#endif
