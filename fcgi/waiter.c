/*
 * The waiting process; see waiter.h.
 *
 * Each connection is a struct conn, registered with epoll for reading
 * only: the web server sends nothing more on it (the responder read the
 * request), so anything readable is the end of the request stream, read
 * and dropped, or the connection closing: the client left, and the room
 * forgets its request. An answer is written at once; what the socket does
 * not take goes out as it drains (EPOLLOUT), then the connection closes.
 *
 * Signals are blocked but in epoll_pwait(2), as in the responders.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "http/wait_room.h"
#include "handoff.h"
#include "record.h"
#include "waiter.h"

/* Descriptors kept for anything but waiting requests (logs, SQLite, ...). */
#define FD_RESERVE	64
/* Handoffs read in one go, before the connections get their turn again. */
#define RECEIVE_BATCH	256
/* How long answers still going out may take once stopping. */
#define DRAIN_MS	2000

struct conn {
	int			 fd;
	unsigned		 fcgi_id;
	struct wait_entry	*entry;		/* NULL once answered */
	struct buf		 out;		/* the answer, while it goes out */
	size_t			 sent;
	int			 writing;	/* answered, not all out yet */
	struct conn		*prev, *next;	/* every connection */
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
static volatile sig_atomic_t reopen_requested;

static struct {
	int			 epoll_fd;
	int			 sock;
	struct wait_room	*room;
	struct conn		*conns;
	size_t			 writing;	/* answers still going out */
	struct stat		 bound;		/* the socket's file */
} w = { .epoll_fd = -1, .sock = -1 };

static void
on_signal(int signo)
{
	if (signo == SIGHUP)
		reload_requested = 1;
	else if (signo == SIGUSR1)
		reopen_requested = 1;
	else
		stop_requested = 1;
}

/* Install the handlers, block the signals; *waiting_mask unblocks them. */
static void
install_signals(sigset_t *waiting_mask)
{
	static const int handled[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct sigaction sa;
	sigset_t blocked;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&blocked);
	for (i = 0; i < ARRAY_SIZE(handled); i++) {
		sigaction(handled[i], &sa, NULL);
		sigaddset(&blocked, handled[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &blocked, waiting_mask);
	for (i = 0; i < ARRAY_SIZE(handled); i++)
		sigdelset(waiting_mask, handled[i]);
}

/*
 * How many requests may wait: server.max_watches, unless the descriptors
 * this process may open are fewer (each request holds one). The soft limit
 * is raised to the hard one first.
 */
static int
waiting_cap(void)
{
	struct rlimit rl;
	long long usable;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return conf.server.max_watches;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return conf.server.max_watches;
	usable = (long long)rl.rlim_cur - FD_RESERVE;
	if (usable < conf.server.max_watches) {
		log_warn("server.max_watches = %d, but this process may open only "
		    "%llu files: at most %lld requests wait (raise the limit, "
		    "e.g. LimitNOFILE= in the systemd unit)", conf.server.max_watches,
		    (unsigned long long)rl.rlim_cur, usable < 1 ? 1 : usable);
		return usable < 1 ? 1 : (int)usable;
	}
	return conf.server.max_watches;
}

/* -- connections */

static void
conn_close(struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->writing)
		w.writing--;
	close(c->fd);
	buf_free(&c->out);
	free(c);
}

static int
conn_watch(struct conn *c, uint32_t events, int op)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	return epoll_ctl(w.epoll_fd, op, c->fd, &ev);
}

/* Write what the socket takes: 1 all out, 0 more to go, -1 the client left. */
static int
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->sent < c->out.len) {
		n = write(c->fd, c->out.data + c->sent, c->out.len - c->sent);
		if (n > 0)
			c->sent += (size_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else
			return -1;
	}
	return 1;
}

/* The room ended a request: its answer goes out (wait_done_fn). */
static void
on_done(void *owner, struct exchange *ex, void *arg)
{
	struct conn *c = owner;
	int rc;

	(void)arg;
	c->entry = NULL;
	record_answer(&c->out, c->fcgi_id, ex);
	if ((rc = conn_flush(c)) != 0) {
		conn_close(c);
		return;
	}
	c->writing = 1;
	w.writing++;
	if (conn_watch(c, EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_MOD) == -1)
		conn_close(c);
}

/* The web server sent more, or closed: 1 while the connection lives. */
static int
conn_readable(struct conn *c)
{
	char scratch[4096];
	ssize_t n;

	for (;;) {
		n = read(c->fd, scratch, sizeof(scratch));
		if (n > 0)
			continue;	/* the end of the request's stream: nothing to do */
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		return 0;
	}
}

static void
conn_event(struct conn *c, uint32_t events)
{
	int rc;

	if (c->entry == NULL) {
		/* Answered: only the rest of the answer is left to write. */
		if ((rc = conn_flush(c)) != 0)
			conn_close(c);
		return;
	}
	if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
	    (!conn_readable(c) || (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))) {
		wait_room_leave(w.room, c->entry);
		c->entry = NULL;
		conn_close(c);
	}
}

static void
take(const struct handoff *msg, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct wait_entry *entry;
	int flags;

	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->fcgi_id = msg->fcgi_id;
	/* It was the responder's, blocking; one read must never hold the loop. */
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		log_warn("connection: %s; dropping a waiting request", strerror(errno));
		free(c);
		close(fd);
		return;
	}
	buf_init(&c->out);
	c->next = w.conns;
	if (w.conns != NULL)
		w.conns->prev = c;
	w.conns = c;
	if (conn_watch(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD) == -1) {
		log_warn("epoll: %s; dropping a waiting request", strerror(errno));
		conn_close(c);
		return;
	}
	/* NULL: refused, answered already, and c may be gone. */
	if ((entry = wait_room_add(w.room, &msg->wait, c)) != NULL)
		c->entry = entry;
}

static void
receive(void)
{
	static struct handoff msg;
	int i, fd, rc;

	for (i = 0; i < RECEIVE_BATCH; i++) {
		if ((rc = handoff_receive(w.sock, &msg, &fd)) == 0)
			return;
		if (rc == -1) {
			log_error("waiting socket: %s", strerror(errno));
			return;
		}
		take(&msg, fd);
	}
}

/* -- the loop */

/* Remove the socket, unless another waiting process has bound the path since. */
static void
unlink_own_socket(const char *path)
{
	struct stat on_disk;

	if (stat(path, &on_disk) == 0 && on_disk.st_ino == w.bound.st_ino &&
	    on_disk.st_dev == w.bound.st_dev)
		unlink(path);
}

/* server.wait_socket changed: the responders send there from now on. */
static void
rebind(const char *old_path)
{
	struct epoll_event ev;
	char err[512];
	int sock;

	if ((sock = handoff_listen(conf.server.wait_socket, err, sizeof(err))) == -1) {
		log_error("%s; still on %s", err, old_path);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(w.epoll_fd, EPOLL_CTL_ADD, sock, &ev) == -1) {
		log_error("epoll: %s; still on %s", strerror(errno), old_path);
		close(sock);
		return;
	}
	unlink_own_socket(old_path);
	close(w.sock);		/* and out of the epoll set with it */
	w.sock = sock;
	if (stat(conf.server.wait_socket, &w.bound) == -1)
		memset(&w.bound, 0, sizeof(w.bound));
	log_info("waiting requests come to %s now", conf.server.wait_socket);
}

static void
reload(const char *config_path)
{
	char err[512], old_path[sizeof(conf.server.wait_socket)];
	struct conf fresh;

	if (config_path != NULL) {
		if (conf_load(&fresh, config_path, err, sizeof(err)) == -1) {
			log_error("reload failed, keeping the running configuration: %s",
			    err);
		} else {
			memcpy(old_path, conf.server.wait_socket, sizeof(old_path));
			conf = fresh;
			log_open(&conf);
			wait_room_set_cap(w.room, waiting_cap());
			if (strcmp(old_path, conf.server.wait_socket) != 0)
				rebind(old_path);
			log_info("configuration reloaded");
		}
	}
	/* Waiting clients watch again, and find the new configuration. */
	wait_room_close(w.room);
}

static void
handle_signals(const char *config_path)
{
	if (reopen_requested) {
		reopen_requested = 0;
		log_reopen();
	}
	if (reload_requested) {
		reload_requested = 0;
		reload(config_path);
	}
}

static int
serve(const sigset_t *waiting_mask, const char *config_path)
{
	struct epoll_event events[64];
	int n, i, timeout = -1;

	while (!stop_requested) {
		n = epoll_pwait(w.epoll_fd, events, (int)ARRAY_SIZE(events), timeout,
		    waiting_mask);
		if (n == -1 && errno != EINTR) {
			log_error("epoll: %s", strerror(errno));
			return 1;
		}
		handle_signals(config_path);
		for (i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				receive();
			else
				conn_event(events[i].data.ptr, events[i].events);
		}
		timeout = wait_room_run(w.room);
		if (timeout == -1 && w.writing > 0)
			timeout = 100;
	}
	return 0;
}

/* Stopping: everything waiting is answered; give the answers time to go out. */
static void
drain(void)
{
	struct epoll_event events[64];
	int64_t until = clock_monotonic_us() + DRAIN_MS * 1000;
	int n, i;

	wait_room_close(w.room);
	while (w.writing > 0 && clock_monotonic_us() < until) {
		n = epoll_wait(w.epoll_fd, events, (int)ARRAY_SIZE(events), 100);
		for (i = 0; i < n; i++)
			if (events[i].data.ptr != NULL)
				conn_event(events[i].data.ptr, events[i].events);
	}
	while (w.conns != NULL)
		conn_close(w.conns);
}

static int
start(void)
{
	struct epoll_event ev;
	char err[512];
	int cap;

	if ((w.sock = handoff_listen(conf.server.wait_socket, err, sizeof(err))) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (stat(conf.server.wait_socket, &w.bound) == -1)
		memset(&w.bound, 0, sizeof(w.bound));
	if ((w.epoll_fd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_error("epoll: %s", strerror(errno));
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(w.epoll_fd, EPOLL_CTL_ADD, w.sock, &ev) == -1) {
		log_error("epoll: %s", strerror(errno));
		return -1;
	}
	if ((w.room = wait_room_new(cap = waiting_cap(), on_done, NULL)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	log_info("waiting requests come to %s; at most %d wait at once",
	    conf.server.wait_socket, cap);
	return 0;
}

int
waiter_run(const char *config_path)
{
	sigset_t waiting_mask;
	int rc = 1;

	install_signals(&waiting_mask);
	if (start() == 0) {
		rc = serve(&waiting_mask, config_path);
		drain();
	}
	if (w.sock != -1) {
		unlink_own_socket(conf.server.wait_socket);
		close(w.sock);
	}
	if (w.epoll_fd != -1)
		close(w.epoll_fd);
	wait_room_free(w.room);
	log_flush();
	return rc;
}
