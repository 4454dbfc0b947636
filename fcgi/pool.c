/*
 * The pool master; see pool.h.
 *
 * Each slot holds one responder of the current generation. A reload starts a
 * new generation: new responders are forked with the new configuration
 * before the old ones are asked to finish, and the socket stays open in the
 * master throughout, so no connection is ever refused.
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

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "responder.h"
#include "util.h"
#include "watcher.h"

#define MAX_RESPONDERS 256
#define QUICK_DEATH_US 1000000		/* dying sooner than this counts as a crash loop */
#define BACKOFF_FIRST_US 100000
#define BACKOFF_MAX_US 10000000
#define TERM_REPEAT_US 200000

struct responder {
	pid_t	 pid;		/* 0: empty slot */
	unsigned generation;
	int64_t	 started_us;
	int64_t	 respawn_at_us;	/* when an empty slot may be filled */
	int	 quick_deaths;	/* consecutive deaths right after start */
};

struct pool {
	int			 listen_fd;
	const char		*config_path;
	unsigned		 generation;
	int			 size;
	struct responder	 slots[MAX_RESPONDERS];
	struct responder	 watcher;	/* keeps the replica current */
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

/* In the child: forget the master's signal handling and serve. */
static void
become_responder(struct pool *pool)
{
	log_set_role("responder");
	_exit(responder_run(pool->listen_fd, conf.server.max_requests, NULL));
}

/* In the child: the replica's watcher. */
static void
become_watcher(struct pool *pool)
{
	close(pool->listen_fd);
	_exit(watcher_run());
}

static void
spawn(struct pool *pool, struct responder *slot)
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
		if (slot == &pool->watcher)
			become_watcher(pool);
		become_responder(pool);
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
live_responders(const struct pool *pool)
{
	int i, n = 0;

	for (i = 0; i < pool->size; i++)
		if (pool->slots[i].pid != 0)
			n++;
	return n;
}

static int
live_children(const struct pool *pool)
{
	return live_responders(pool) + (pool->watcher.pid != 0);
}

static void
fill_slots(struct pool *pool)
{
	int64_t now = clock_monotonic_us();
	int i;

	if (pool->stopping)
		return;
	if (pool->watcher.pid == 0 && pool->watcher.respawn_at_us <= now)
		spawn(pool, &pool->watcher);
	for (i = 0; i < pool->size; i++)
		if (pool->slots[i].pid == 0 && pool->slots[i].respawn_at_us <= now)
			spawn(pool, &pool->slots[i]);
	metrics_set_responders(live_responders(pool));
}

/* A responder of the current generation died: decide when to replace it. */
static void
slot_died(struct responder *slot, int index, int status, int64_t now)
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
			log_info("slot %d recovered", index);
		slot->quick_deaths = 0;
		slot->respawn_at_us = now;
		if (WIFSIGNALED(status))
			log_warn("responder killed by signal %d; replacing it",
			    WTERMSIG(status));
		else
			log_warn("responder exited with status %d; replacing it",
			    WEXITSTATUS(status));
		return;
	}
	/* Crash loop: back off, and say so once per burst. */
	if (slot->quick_deaths++ == 0)
		log_error("slot %d (-1: watcher) died %.3f s after start; backing "
		    "off restarts", index, lived / 1e6);
	delay = BACKOFF_FIRST_US << (slot->quick_deaths > 7 ? 7 : slot->quick_deaths - 1);
	slot->respawn_at_us = now + (delay > BACKOFF_MAX_US ? BACKOFF_MAX_US : delay);
}

static void
reap(struct pool *pool)
{
	int64_t now = clock_monotonic_us();
	pid_t pid;
	int status, i;
	size_t r;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == pool->watcher.pid) {
			if (pool->stopping)
				pool->watcher.pid = 0;
			else
				slot_died(&pool->watcher, -1, status, now);
			continue;
		}
		for (i = 0; i < pool->size; i++)
			if (pool->slots[i].pid == pid) {
				if (pool->stopping)
					pool->slots[i].pid = 0;
				else
					slot_died(&pool->slots[i], i, status, now);
				break;
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
	int i;

	if (pool->watcher.pid != 0)
		kill(pool->watcher.pid, signo);
	for (i = 0; i < pool->size; i++)
		if (pool->slots[i].pid != 0)
			kill(pool->slots[i].pid, signo);
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

static void
reload(struct pool *pool)
{
	struct conf fresh;
	char err[512];
	int i, old_size = pool->size;

	if (conf_load(&fresh, pool->config_path, err, sizeof(err)) == -1) {
		log_error("reload failed, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(fresh.server.listen, conf.server.listen) != 0)
		log_warn("server.listen changed; it takes effect at the next restart");
	conf = fresh;
	log_open(&conf);
	if (conf.auth.mode == AUTH_MODE_OFF)
		log_warn("auth.mode = off: every endpoint is open; for development only");
	pool->generation++;
	pool->size = conf.server.processes;
	/* The new generation first, then the old one is asked to finish. */
	for (i = 0; i < MAX_RESPONDERS; i++) {
		struct responder *slot = &pool->slots[i];
		pid_t old = slot->pid;

		slot->pid = 0;
		slot->quick_deaths = 0;
		slot->respawn_at_us = 0;
		if (i < pool->size)
			spawn(pool, slot);
		if (old != 0)
			retire(pool, old);
	}
	/* The watcher may need new etcd settings: it is replaced too. */
	if (pool->watcher.pid != 0) {
		retire(pool, pool->watcher.pid);
		pool->watcher.pid = 0;
		pool->watcher.respawn_at_us = 0;
		spawn(pool, &pool->watcher);
	}
	pool->retire_deadline_us = clock_monotonic_us() +
	    (int64_t)conf.server.shutdown_timeout * 1000000;
	log_info("configuration reloaded: %d responders (were %d)", pool->size,
	    old_size);
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
	int64_t now = clock_monotonic_us(), next = now + 1000000;
	int i;

	if (pool->stopping || pool->nretiring > 0)
		next = now + TERM_REPEAT_US;
	if (pool->watcher.pid == 0 && pool->watcher.respawn_at_us < next)
		next = pool->watcher.respawn_at_us;
	for (i = 0; i < pool->size; i++)
		if (pool->slots[i].pid == 0 && pool->slots[i].respawn_at_us < next)
			next = pool->slots[i].respawn_at_us;
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

int
pool_run(int listen_fd, const char *config_path)
{
	static struct pool pool;
	struct pollfd pfd;

	pool.listen_fd = listen_fd;
	pool.config_path = config_path;
	pool.size = conf.server.processes;
	if (install_signals() == -1) {
		log_error("signal pipe: %s", strerror(errno));
		return 1;
	}
	log_set_role("master");
	log_info("dynconf %s: %d responders", PACKAGE_VERSION, pool.size);
	fill_slots(&pool);
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
	}
	metrics_set_responders(0);
	log_info("stopped");
	return 0;
}
