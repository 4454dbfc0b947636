/*
 * The FastCGI listen socket; see listen.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/conf.h"
#include "listen.h"

int
listen_is_socket(int fd)
{
	int accepting = 0;
	socklen_t len = sizeof(accepting);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == -1)
		return 0;
	return accepting != 0;
}

static int
socket_owner(const struct conf *c, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (c->server.socket_owner[0] != '\0') {
		struct passwd *pw = getpwnam(c->server.socket_owner);

		if (pw == NULL) {
			snprintf(err, errlen, "server.socket_owner: no user %s",
			    c->server.socket_owner);
			return -1;
		}
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (c->server.socket_group[0] != '\0') {
		struct group *gr = getgrnam(c->server.socket_group);

		if (gr == NULL) {
			snprintf(err, errlen, "server.socket_group: no group %s",
			    c->server.socket_group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

static int
listen_unix(const struct conf *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	uid_t uid;
	gid_t gid;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	if (socket_owner(c, &uid, &gid, err, errlen) == -1)
		return -1;
	/* A stale socket from an earlier run; never remove anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, (mode_t)c->server.socket_mode) == -1 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) == -1) ||
	    listen(fd, c->server.backlog) == -1) {
		close(fd);
		goto fail;
	}
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

static int
listen_tcp(const struct conf *c, const char *spec, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *res = NULL;
	size_t hostlen;
	int fd = -1, one = 1, gai;

	if (colon == NULL) {
		snprintf(err, errlen, "%s is neither a socket path nor host:port",
		    spec);
		return -1;
	}
	hostlen = (size_t)(colon - spec);
	if (hostlen >= 2 && spec[0] == '[' && colon[-1] == ']') {
		spec++;
		hostlen -= 2;
	}
	if (hostlen >= sizeof(host)) {
		snprintf(err, errlen, "%s: host too long", spec);
		return -1;
	}
	memcpy(host, spec, hostlen);
	host[hostlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((gai = getaddrinfo(hostlen ? host : NULL, colon + 1, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(gai));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, c->server.backlog) == -1) {
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
listen_open(const struct conf *c, const char *spec, char *err, size_t errlen)
{
	if (spec[0] == '/')
		return listen_unix(c, spec, err, errlen);
	return listen_tcp(c, spec, err, errlen);
}
