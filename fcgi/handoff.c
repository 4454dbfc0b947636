/*
 * The handoff to the waiting process; see handoff.h.
 *
 * A datagram socket, not a stream: every responder sends to the one path,
 * each message arrives whole or not at all, and nobody keeps a connection
 * that the waiting process's restart would break. The kernel queues a few
 * datagrams per socket (net.unix.max_dgram_qlen); past that a sender waits
 * for the waiting process to read, which it does before anything else.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "handoff.h"

#define HANDOFF_MAGIC	0x64796e77u	/* "dynw" */

union fd_control {
	struct cmsghdr	header;
	char		space[CMSG_SPACE(sizeof(int))];
};

static int
socket_address(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(addr->sun_path, path, strlen(path) + 1);
	return 0;
}

/* This responder's sending socket, made on first use. */
static int
sender(void)
{
	static int sock = -1;
	struct timeval patience = { 1, 0 };

	if (sock != -1)
		return sock;
	if ((sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof(patience));
	return sock;
}

int
handoff_send(int fd, unsigned fcgi_id, const struct wait_request *req)
{
	static struct handoff msg;
	union fd_control control;
	struct sockaddr_un addr;
	struct cmsghdr *cmsg;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;
	int sock;

	if ((sock = sender()) == -1 ||
	    socket_address(&addr, conf.server.wait_socket) == -1)
		return -1;
	memset(&msg, 0, sizeof(msg));
	msg.magic = HANDOFF_MAGIC;
	msg.size = sizeof(msg);
	msg.fcgi_id = fcgi_id;
	msg.wait = *req;
	iov.iov_base = &msg;
	iov.iov_len = sizeof(msg);
	memset(&mh, 0, sizeof(mh));
	memset(&control, 0, sizeof(control));
	mh.msg_name = &addr;
	mh.msg_namelen = sizeof(addr);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control.space;
	mh.msg_controllen = sizeof(control.space);
	cmsg = CMSG_FIRSTHDR(&mh);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) == -1 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(msg) ? 0 : -1;
}

int
handoff_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	int sock;

	if (socket_address(&addr, path) == -1) {
		snprintf(err, errlen, "%s: path too long for a unix socket", path);
		return -1;
	}
	if ((sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		goto fail;
	/* What a waiting process left behind when it was killed. */
	if (unlink(path) == -1 && errno != ENOENT)
		goto fail;
	if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
	    chmod(path, 0600) == -1)
		goto fail;
	return sock;
fail:
	snprintf(err, errlen, "waiting socket %s: %s", path, strerror(errno));
	if (sock != -1)
		close(sock);
	return -1;
}

/* The descriptors that came with a message: the first one, the rest closed. */
static int
received_fd(struct msghdr *mh)
{
	struct cmsghdr *cmsg;
	int fd = -1, one;
	size_t i, n;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL; cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&one, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
			if (fd == -1)
				fd = one;
			else
				close(one);
		}
	}
	return fd;
}

int
handoff_receive(int sock, struct handoff *msg, int *fd)
{
	union fd_control control;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;

	for (;;) {
		iov.iov_base = msg;
		iov.iov_len = sizeof(*msg);
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = control.space;
		mh.msg_controllen = sizeof(control.space);
		n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 :
			    errno == EINTR ? 0 : -1;
		*fd = received_fd(&mh);
		if (*fd != -1 && n == (ssize_t)sizeof(*msg) &&
		    !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
		    msg->magic == HANDOFF_MAGIC && msg->size == sizeof(*msg) &&
		    wait_request_check(&msg->wait) == 0)
			return 1;
		log_warn("dropped a malformed handoff (%zd bytes%s)", n,
		    *fd == -1 ? ", no connection" : "");
		if (*fd != -1)
			close(*fd);
	}
}
