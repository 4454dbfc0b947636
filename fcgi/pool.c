/*
 * The pool master; see pool.h.
 *
 * Responders come in groups, one per listening socket: the read group on
 * server.listen and, when server.write_listen is set, the write group on
 * it. The web server sends writes to the write group, so requests waiting
 * on etcd (a leader election can hold them for seconds) never keep a read
 * from a free responder.
 *
 * Each slot holds one responder of the current generation. A reload starts a
 * new generation: new responders are forked with the new configuration
 * before the old ones are asked to finish, and the sockets stay open in the
 * master throughout, so no connection is ever refused.
 *
 * Besides the responders the master runs two children of its own: the
 * watcher, which keeps the replica current, and the waiting process, which
 * holds every request that waits (long-poll watches) so that no responder
 * ever does. Both are replaced when they die, backed off like responders
 * when they keep dying. A reload replaces the watcher (it may need new
 * etcd settings) and tells the waiting process to reread the configuration
 * and answer what waits: its socket and its clients stay.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"
#include "http/metrics.h"
#include "pool.h"
#include "responder.h"
#include "store/watcher.h"
#include "waiter.h"

#define MAX_RESPONDERS 256
#define QUICK_DEATH_US 1000000		/* dying sooner than this counts as a crash loop */
#define BACKOFF_FIRST_US 100000
#define BACKOFF_MAX_US 10000000
#define TERM_REPEAT_US 200000
/*
 * The longest the master sleeps when nothing is due; also how stale the
 * copy of the pool's state that dynconfctl status reads may be.
 */
#define IDLE_POLL_US 250000

struct responder {
	pid_t	 pid;		/* 0: empty slot */
	unsigned generation;
	int64_t	 started_us;
	int64_t	 respawn_at_us;	/* when an empty slot may be filled */
	int	 quick_deaths;	/* consecutive deaths right after start */
};

enum group_kind { GROUP_READ, GROUP_WRITE, GROUP_COUNT };

struct group {
	const char		*name;		/* in log lines */
	int			 fd;		/* -1: this group is not run */
	int			 size;		/* configured responders */
	int64_t			 forced_at_us;	/* last spawn despite back-off */
	struct responder	 slots[MAX_RESPONDERS];
};

struct pool {
	const char		*config_path;
	unsigned		 generation;
	struct group		 groups[GROUP_COUNT];
	struct responder	 watcher;	/* keeps the replica current */
	struct responder	 waiter;	/* holds the waiting requests */
	/* Responders of older generations, finishing their last request. */
	pid_t			 retiring[MAX_RESPONDERS * 4];
	size_t			 nretiring;
	int64_t			 retire_deadline_us;
	int			 stopping;
	int64_t			 stop_deadline_us;
	int64_t			 last_term_us;
};

static int signal_pipe[2] = { -1, -1 };

/* The signals the master handles; blocked across fork, see spawn(). */
static const int handled_signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

static void
on_signal(int signo)
{
	int saved = errno;
	unsigned char byte = (unsigned char)signo;

	(void)write(signal_pipe[1], &byte, 1);
	errno = saved;
}

static int
install_signals(void)
{
	struct sigaction sa;
	size_t i;

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < ARRAY_SIZE(handled_signals); i++)
		sigaction(handled_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Close every listening socket but keep's (-1: all of them). */
static void
close_listeners(struct pool *pool, int keep)
{
	int g;

	for (g = 0; g < GROUP_COUNT; g++)
		if (pool->groups[g].fd != -1 && pool->groups[g].fd != keep)
			close(pool->groups[g].fd);
}

/* In the child: serve. */
static void
become_responder(struct pool *pool, struct group *group)
{
	close_listeners(pool, group->fd);
	log_set_role(group->name);
	_exit(responder_run(group->fd, conf.server.max_requests, NULL));
}

/* In the child: the replica's watcher, or the waiting process. */
static void
become_helper(struct pool *pool, struct responder *slot)
{
	close_listeners(pool, -1);
	if (slot == &pool->waiter) {
		log_set_role("waiter");
		_exit(waiter_run(pool->config_path));
	}
	_exit(watcher_run());
}

/* Fork a child into slot: a responder of group, or (group NULL) a helper. */
static void
spawn(struct pool *pool, struct group *group, struct responder *slot)
{
	sigset_t handled, saved;
	size_t i;
	pid_t pid;

	/*
	 * Until the child has dropped the master's handlers, a signal sent to
	 * it would land in the master's self-pipe (a TERM there stops the
	 * whole pool): keep them blocked across fork, reset, then unblock.
	 */
	sigemptyset(&handled);
	for (i = 0; i < ARRAY_SIZE(handled_signals); i++)
		sigaddset(&handled, handled_signals[i]);
	sigprocmask(SIG_BLOCK, &handled, &saved);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < ARRAY_SIZE(handled_signals); i++)
			signal(handled_signals[i], SIG_DFL);
		close(signal_pipe[0]);
		close(signal_pipe[1]);
		sigprocmask(SIG_SETMASK, &saved, NULL);
		if (group == NULL)
			become_helper(pool, slot);
		become_responder(pool, group);
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (pid == -1) {
		log_error("fork: %s", strerror(errno));
		slot->respawn_at_us = clock_monotonic_us() + BACKOFF_FIRST_US;
		return;
	}
	slot->pid = pid;
	slot->generation = pool->generation;
	slot->started_us = clock_monotonic_us();
	slot->respawn_at_us = 0;
}

static int
live_in_group(const struct group *group)
{
	int i, n = 0;

	for (i = 0; i < group->size; i++)
		if (group->slots[i].pid != 0)
			n++;
	return n;
}

static int
live_responders(const struct pool *pool)
{
	int g, n = 0;

	for (g = 0; g < GROUP_COUNT; g++)
		n += live_in_group(&pool->groups[g]);
	return n;
}

static int
live_children(const struct pool *pool)
{
	return live_responders(pool) + (pool->watcher.pid != 0) +
	    (pool->waiter.pid != 0);
}

/*
 * Back-off must never leave a group with no responder at all: then the
 * slot due soonest is filled anyway, at most once per BACKOFF_FIRST_US.
 */
static void
keep_one_alive(struct pool *pool, struct group *group, int64_t now)
{
	struct responder *soonest = NULL;
	int i;

	if (live_in_group(group) > 0 || now - group->forced_at_us < BACKOFF_FIRST_US)
		return;
	for (i = 0; i < group->size; i++)
		if (group->slots[i].pid == 0 && (soonest == NULL ||
		    group->slots[i].respawn_at_us < soonest->respawn_at_us))
			soonest = &group->slots[i];
	if (soonest == NULL)
		return;
	log_warn("every %s is backing off after crashes; starting one anyway",
	    group->name);
	group->forced_at_us = now;
	spawn(pool, group, soonest);
}

/* A helper child (watcher, waiting process) that is due back. */
static void
fill_helper(struct pool *pool, struct responder *slot, int64_t now)
{
	if (slot->pid == 0 && slot->respawn_at_us <= now)
		spawn(pool, NULL, slot);
}

static void
fill_slots(struct pool *pool)
{
	int64_t now = clock_monotonic_us();
	int g, i;

	if (pool->stopping)
		return;
	/* The waiting process first: responders hand it requests from the start. */
	fill_helper(pool, &pool->waiter, now);
	fill_helper(pool, &pool->watcher, now);
	for (g = 0; g < GROUP_COUNT; g++) {
		struct group *group = &pool->groups[g];

		if (group->fd == -1)
			continue;
		for (i = 0; i < group->size; i++)
			if (group->slots[i].pid == 0 &&
			    group->slots[i].respawn_at_us <= now)
				spawn(pool, group, &group->slots[i]);
		keep_one_alive(pool, group, now);
	}
	metrics_set_responders(live_responders(pool));
}

/* A child of the current generation died: decide when to replace it. */
static void
slot_died(struct responder *slot, const char *what, int status, int64_t now)
{
	int crashed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	int64_t lived = now - slot->started_us, delay;

	slot->pid = 0;
	if (!crashed) {
		slot->quick_deaths = 0;
		slot->respawn_at_us = now;
		return;
	}
	if (lived >= QUICK_DEATH_US) {
		if (slot->quick_deaths > 0)
			log_info("%s recovered", what);
		slot->quick_deaths = 0;
		slot->respawn_at_us = now;
		if (WIFSIGNALED(status))
			log_warn("%s killed by signal %d; replacing it", what,
			    WTERMSIG(status));
		else
			log_warn("%s exited with status %d; replacing it", what,
			    WEXITSTATUS(status));
		return;
	}
	/* Crash loop: back off, and say so once per burst. */
	if (slot->quick_deaths++ == 0)
		log_error("%s died %.3f s after it started; backing off its "
		    "restarts", what, lived / 1e6);
	delay = BACKOFF_FIRST_US << (slot->quick_deaths > 7 ? 7 : slot->quick_deaths - 1);
	slot->respawn_at_us = now + (delay > BACKOFF_MAX_US ? BACKOFF_MAX_US : delay);
}

/* The slot of a responder of the current generation, or NULL. */
static struct responder *
find_slot(struct pool *pool, pid_t pid, char *what, size_t whatlen)
{
	int g, i;

	for (g = 0; g < GROUP_COUNT; g++)
		for (i = 0; i < pool->groups[g].size; i++)
			if (pool->groups[g].slots[i].pid == pid) {
				snprintf(what, whatlen, "%s %d (pid %ld)",
				    pool->groups[g].name, i, (long)pid);
				return &pool->groups[g].slots[i];
			}
	return NULL;
}

static void
reap(struct pool *pool)
{
	int64_t now = clock_monotonic_us();
	struct responder *slot;
	char what[64];
	pid_t pid;
	int status;
	size_t r;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == pool->watcher.pid) {
			snprintf(what, sizeof(what), "the watcher (pid %ld)", (long)pid);
			slot = &pool->watcher;
		} else if (pid == pool->waiter.pid) {
			snprintf(what, sizeof(what), "the waiting process (pid %ld)",
			    (long)pid);
			slot = &pool->waiter;
		} else {
			slot = find_slot(pool, pid, what, sizeof(what));
		}
		if (slot != NULL) {
			if (pool->stopping)
				slot->pid = 0;
			else
				slot_died(slot, what, status, now);
			continue;
		}
		for (r = 0; r < pool->nretiring; r++)
			if (pool->retiring[r] == pid) {
				pool->retiring[r] = pool->retiring[--pool->nretiring];
				break;
			}
	}
}

static void
signal_all(struct pool *pool, int signo)
{
	size_t r;
	int g, i;

	if (pool->watcher.pid != 0)
		kill(pool->watcher.pid, signo);
	if (pool->waiter.pid != 0)
		kill(pool->waiter.pid, signo);
	for (g = 0; g < GROUP_COUNT; g++)
		for (i = 0; i < pool->groups[g].size; i++)
			if (pool->groups[g].slots[i].pid != 0)
				kill(pool->groups[g].slots[i].pid, signo);
	for (r = 0; r < pool->nretiring; r++)
		kill(pool->retiring[r], signo);
}

static void
retire(struct pool *pool, pid_t pid)
{
	if (pool->nretiring == ARRAY_SIZE(pool->retiring)) {
		kill(pid, SIGKILL);
		return;
	}
	pool->retiring[pool->nretiring++] = pid;
	kill(pid, SIGTERM);
}

/* The new generation of group: fresh slots first, then the old ones retire. */
static void
renew_group(struct pool *pool, struct group *group, int size)
{
	int i, old_size = group->size;

	group->size = group->fd == -1 ? 0 : size;
	for (i = 0; i < MAX_RESPONDERS; i++) {
		struct responder *slot = &group->slots[i];
		pid_t old = slot->pid;

		slot->pid = 0;
		slot->quick_deaths = 0;
		slot->respawn_at_us = 0;
		if (i < group->size)
			spawn(pool, group, slot);
		if (old != 0)
			retire(pool, old);
		else if (i >= old_size && i >= group->size)
			break;
	}
}

static void
reload(struct pool *pool)
{
	struct conf fresh;
	char err[512];
	int old_size = pool->groups[GROUP_READ].size;

	if (conf_load(&fresh, pool->config_path, err, sizeof(err)) == -1) {
		log_error("reload failed, keeping the running configuration: %s", err);
		return;
	}
	/* The sockets, the user and the shared files stay as they are. */
	conf_keep_restart_only(&fresh, &conf);
	conf = fresh;
	log_open(&conf);
	if (conf.auth.mode == AUTH_MODE_OFF)
		log_warn("auth.mode = off: every endpoint is open; for development only");
	pool->generation++;
	renew_group(pool, &pool->groups[GROUP_READ], conf.server.processes);
	renew_group(pool, &pool->groups[GROUP_WRITE], conf.server.write_processes);
	/* The watcher may need new etcd settings: it is replaced too. */
	if (pool->watcher.pid != 0) {
		retire(pool, pool->watcher.pid);
		pool->watcher.pid = 0;
		pool->watcher.respawn_at_us = 0;
		spawn(pool, NULL, &pool->watcher);
	}
	/* The waiting process rereads it and answers what waits. */
	if (pool->waiter.pid != 0)
		kill(pool->waiter.pid, SIGHUP);
	pool->retire_deadline_us = clock_monotonic_us() +
	    (int64_t)conf.server.shutdown_timeout * 1000000;
	log_info("configuration reloaded: %d responders (were %d), %d writers",
	    pool->groups[GROUP_READ].size, old_size,
	    pool->groups[GROUP_WRITE].size);
}

static void
begin_stop(struct pool *pool)
{
	if (pool->stopping)
		return;
	pool->stopping = 1;
	pool->stop_deadline_us = clock_monotonic_us() +
	    (int64_t)conf.server.shutdown_timeout * 1000000;
	pool->last_term_us = clock_monotonic_us();
	log_info("stopping: waiting up to %d s for requests in flight",
	    conf.server.shutdown_timeout);
	signal_all(pool, SIGTERM);
}

static void
handle_signals(struct pool *pool)
{
	unsigned char byte;

	while (read(signal_pipe[0], &byte, 1) == 1) {
		switch (byte) {
		case SIGCHLD:
			reap(pool);
			break;
		case SIGTERM:
		case SIGINT:
			begin_stop(pool);
			break;
		case SIGHUP:
			if (!pool->stopping)
				reload(pool);
			break;
		case SIGUSR1:
			log_reopen();
			signal_all(pool, SIGUSR1);
			break;
		}
	}
}

/* How long poll may sleep before something is due. */
static int
poll_timeout_ms(const struct pool *pool)
{
	int64_t now = clock_monotonic_us(), next = now + IDLE_POLL_US;
	int g, i;

	if (pool->stopping || pool->nretiring > 0)
		next = now + TERM_REPEAT_US;
	if (pool->watcher.pid == 0 && pool->watcher.respawn_at_us < next)
		next = pool->watcher.respawn_at_us;
	if (pool->waiter.pid == 0 && pool->waiter.respawn_at_us < next)
		next = pool->waiter.respawn_at_us;
	for (g = 0; g < GROUP_COUNT; g++)
		for (i = 0; i < pool->groups[g].size; i++)
			if (pool->groups[g].slots[i].pid == 0 &&
			    pool->groups[g].slots[i].respawn_at_us < next)
				next = pool->groups[g].slots[i].respawn_at_us;
	return next <= now ? 0 : (int)((next - now + 999) / 1000);
}

/* Repeat SIGTERM (it may land just before accept) and enforce deadlines. */
static void
press_leavers(struct pool *pool)
{
	int64_t now = clock_monotonic_us();
	size_t r;

	if (pool->stopping) {
		if (now >= pool->stop_deadline_us) {
			log_warn("shutdown timeout: killing remaining responders");
			signal_all(pool, SIGKILL);
		} else if (now - pool->last_term_us >= TERM_REPEAT_US) {
			signal_all(pool, SIGTERM);
			pool->last_term_us = now;
		}
		return;
	}
	for (r = 0; r < pool->nretiring; r++)
		kill(pool->retiring[r], now >= pool->retire_deadline_us ?
		    SIGKILL : SIGTERM);
}

static void
init_group(struct group *group, const char *name, int fd, int size)
{
	group->name = name;
	group->fd = fd;
	group->size = fd == -1 ? 0 : size;
}

int
pool_run(int read_fd, int write_fd, const char *config_path)
{
	static struct pool pool;
	struct pollfd pfd;

	pool.config_path = config_path;
	init_group(&pool.groups[GROUP_READ], "responder", read_fd,
	    conf.server.processes);
	init_group(&pool.groups[GROUP_WRITE], "writer", write_fd,
	    conf.server.write_processes);
	if (install_signals() == -1) {
		log_error("signal pipe: %s", strerror(errno));
		return 1;
	}
	log_set_role("master");
	shared()->pool.master_pid = (int32_t)getpid();
	shared()->pool.started_at = clock_realtime_us() / 1000000;
	log_info("dynconf %s: %d responders, %d writers", PACKAGE_VERSION,
	    pool.groups[GROUP_READ].size, pool.groups[GROUP_WRITE].size);
	fill_slots(&pool);
	shared_mirror();
	while (!pool.stopping || live_children(&pool) > 0 || pool.nretiring > 0) {
		pfd.fd = signal_pipe[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, poll_timeout_ms(&pool)) == -1 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		handle_signals(&pool);
		reap(&pool);
		press_leavers(&pool);
		fill_slots(&pool);
		shared_mirror();
	}
	metrics_set_responders(0);
	shared_mirror();
	log_info("stopped");
	return 0;
}
