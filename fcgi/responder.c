/*
 * The FastCGI responder loop; see responder.h.
 *
 * Signals: SIGTERM and SIGINT set a flag. They are blocked everywhere but
 * in the epoll_pwait(2) that waits for a connection, which unblocks them
 * atomically: a signal can neither slip in between the flag check and the
 * wait, nor interrupt libfcgi half-way through reading a request's header
 * (FCGX_Accept_r reads it, and a read failing with EINTR drops that
 * request: a 502 at the web server on every reload or stop under load).
 * The listening socket is registered EPOLLEXCLUSIVE, so a connection wakes
 * one idle responder rather than all of them (poll(2) woke the whole pool,
 * and all but one went back to sleep: three wasted wake-ups per request
 * with four responders). Exclusive wake-up may still wake more than one,
 * so the socket stays non-blocking and a loser goes back to waiting.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"
#include "base/shared.h"
#include "http/api.h"
#include "http/http.h"
#include "http/jwks.h"
#include "http/wait.h"
#include "handoff.h"
#include "record.h"
#include "responder.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reopen_requested;
static volatile sig_atomic_t reload_requested;

static void
on_signal(int signo)
{
	if (signo == SIGUSR1)
		reopen_requested = 1;
	else if (signo == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static void
install_signals(sigset_t *served_mask)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept(2) must return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(served_mask);
	sigaddset(served_mask, SIGTERM);
	sigaddset(served_mask, SIGINT);
	sigaddset(served_mask, SIGUSR1);
	sigaddset(served_mask, SIGHUP);
}

static long
read_fcgi_body(void *ctx, char *dst, size_t len)
{
	FCGX_Stream *in = ctx;
	int n = FCGX_GetStr(dst, (int)(len > 65536 ? 65536 : len), in);

	if (n < 0 || FCGX_GetError(in) != 0)
		return -1;
	return n;
}

/* The CGI parameters a request reads. */
enum param {
	PARAM_REQUEST_URI,
	PARAM_SCRIPT_NAME,
	PARAM_PATH_INFO,
	PARAM_REQUEST_METHOD,
	PARAM_QUERY_STRING,
	PARAM_CONTENT_TYPE,
	PARAM_CONTENT_LENGTH,
	PARAM_AUTHORIZATION,
	PARAM_ENVIRONMENT_KEY,
	PARAM_API_KEY,
	PARAM_IF_MATCH,
	PARAM_IF_NONE_MATCH,
	PARAM_REQUEST_ID,
	PARAM_LOCK_TOKEN,
	PARAM_REMOTE_ADDR,
	PARAM_COUNT
};

static const struct {
	const char	*name;
	size_t		 len;
} param_names[PARAM_COUNT] = {
#define PARAM_NAME(s) { s, sizeof(s) - 1 }
	[PARAM_REQUEST_URI] = PARAM_NAME("REQUEST_URI"),
	[PARAM_SCRIPT_NAME] = PARAM_NAME("SCRIPT_NAME"),
	[PARAM_PATH_INFO] = PARAM_NAME("PATH_INFO"),
	[PARAM_REQUEST_METHOD] = PARAM_NAME("REQUEST_METHOD"),
	[PARAM_QUERY_STRING] = PARAM_NAME("QUERY_STRING"),
	[PARAM_CONTENT_TYPE] = PARAM_NAME("CONTENT_TYPE"),
	[PARAM_CONTENT_LENGTH] = PARAM_NAME("CONTENT_LENGTH"),
	[PARAM_AUTHORIZATION] = PARAM_NAME("HTTP_AUTHORIZATION"),
	[PARAM_ENVIRONMENT_KEY] = PARAM_NAME("HTTP_X_ENVIRONMENT_KEY"),
	[PARAM_API_KEY] = PARAM_NAME("HTTP_X_API_KEY"),
	[PARAM_IF_MATCH] = PARAM_NAME("HTTP_IF_MATCH"),
	[PARAM_IF_NONE_MATCH] = PARAM_NAME("HTTP_IF_NONE_MATCH"),
	[PARAM_REQUEST_ID] = PARAM_NAME("HTTP_X_REQUEST_ID"),
	[PARAM_LOCK_TOKEN] = PARAM_NAME("HTTP_X_LOCK_TOKEN"),
	[PARAM_REMOTE_ADDR] = PARAM_NAME("REMOTE_ADDR"),
#undef PARAM_NAME
};

/*
 * All the parameters in one pass over the environment (FCGX_GetParam
 * scans it once per name). The first of a repeated name counts, as with
 * FCGX_GetParam.
 */
static void
read_params(char **envp, const char *value[PARAM_COUNT])
{
	const char *eq;
	size_t len;
	int i;

	memset(value, 0, PARAM_COUNT * sizeof(value[0]));
	for (; envp != NULL && *envp != NULL; envp++) {
		if ((eq = strchr(*envp, '=')) == NULL)
			continue;
		len = (size_t)(eq - *envp);
		for (i = 0; i < PARAM_COUNT; i++)
			if (param_names[i].len == len && value[i] == NULL &&
			    memcmp(param_names[i].name, *envp, len) == 0) {
				value[i] = eq + 1;
				break;
			}
	}
}

/*
 * nginx sends REQUEST_URI (raw path and query); Apache's mod_proxy_fcgi
 * sends it too, but when a deployment strips it, SCRIPT_NAME + PATH_INFO
 * still name the path.
 */
static const char *
request_path(const char *const value[PARAM_COUNT], struct arena *arena)
{
	const char *uri = value[PARAM_REQUEST_URI];
	const char *script = value[PARAM_SCRIPT_NAME];
	const char *info = value[PARAM_PATH_INFO];

	if (uri != NULL && uri[0] == '/')
		return arena_strndup(arena, uri, strcspn(uri, "?"));
	return arena_concat(arena, script ? script : "", info ? info : "",
	    (char *)NULL);
}

static void
fill_request(struct exchange *ex, FCGX_Request *fr)
{
	struct request *req = &ex->req;
	const char *value[PARAM_COUNT];
	const char *length, *errstr = NULL;

	read_params(fr->envp, value);
	/* Copied: the log line is written after FCGX_Finish_r frees the params. */
	req->method = arena_strdup(&ex->arena, value[PARAM_REQUEST_METHOD] ?
	    value[PARAM_REQUEST_METHOD] : "");
	req->path = request_path(value, &ex->arena);
	req->query = value[PARAM_QUERY_STRING];
	req->content_type = value[PARAM_CONTENT_TYPE];
	req->content_length = -1;
	if ((length = value[PARAM_CONTENT_LENGTH]) != NULL && *length != '\0') {
		req->content_length = strtonum(length, 0, INT64_MAX, &errstr);
		if (errstr != NULL)
			req->content_length = -1;
	}
	req->authorization = value[PARAM_AUTHORIZATION];
	req->environment_key = value[PARAM_ENVIRONMENT_KEY];
	req->api_key = value[PARAM_API_KEY];
	req->if_match = value[PARAM_IF_MATCH];
	req->if_none_match = value[PARAM_IF_NONE_MATCH];
	req->request_id = value[PARAM_REQUEST_ID];
	req->lock_token = value[PARAM_LOCK_TOKEN];
	req->remote_addr = value[PARAM_REMOTE_ADDR];
	req->read_body = read_fcgi_body;
	req->body_ctx = fr->in;
}

/*
 * The header block is built in one buffer and handed to libfcgi at once
 * (its printf showed in profiles); the buffer is kept for the next response.
 */
static void
write_response(struct exchange *ex, FCGX_Request *fr)
{
	static struct buf head;
	const struct response *res = &ex->res;

	buf_reset(&head);
	record_cgi_head(&head, res);
	FCGX_PutStr(head.data, (int)head.len, fr->out);
	if (res->content_type != NULL && ex->method != HTTP_HEAD && res->body.len > 0)
		FCGX_PutStr(res->body.data, (int)res->body.len, fr->out);
}

/*
 * The request waits (http/wait.h): hand its connection to the waiting
 * process, which answers it. libfcgi must then neither answer it (no
 * END_REQUEST: FCGX_Finish_r is not called) nor shut the socket down
 * (FCGX_Detach): it only frees the request and closes its copy of the
 * descriptor. -1 when no waiting process took it: answer here.
 */
static int
hand_off(struct exchange *ex, FCGX_Request *fr)
{
	static int64_t warned_us;

	if (handoff_send(fr->ipcFd, (unsigned)fr->requestId, ex->wait) == -1) {
		/* Once a second at most: a node without one fails every watch. */
		if (clock_monotonic_us() - warned_us >= 1000000) {
			log_warn("request id=%s: the waiting process did not take it "
			    "(%s): answered 503", ex->request_id, strerror(errno));
			warned_us = clock_monotonic_us();
		}
		__atomic_fetch_add(&shared()->waiting.handoff_failures, 1,
		    __ATOMIC_RELAXED);
		return -1;
	}
	FCGX_Detach(fr);
	FCGX_Free(fr, 1);
	return 0;
}

static void
serve_one(FCGX_Request *fr)
{
	struct exchange ex;

	exchange_init(&ex);
	fill_request(&ex, fr);
	api_handle(&ex);
	if (ex.wait != NULL) {
		if (hand_off(&ex, fr) == 0) {
			/* Logged and counted by the waiting process when it ends. */
			exchange_free(&ex);
			return;
		}
		respond_wait_unavailable(&ex);
	}
	write_response(&ex, fr);
	FCGX_Finish_r(fr);
	api_finish(&ex);
	exchange_free(&ex);
}

static void
reload_config(const char *config_path)
{
	struct conf fresh;
	char err[512];

	if (config_path == NULL)
		return;
	if (conf_load(&fresh, config_path, err, sizeof(err)) == -1) {
		log_error("reload failed, keeping the running configuration: %s", err);
		return;
	}
	conf_keep_restart_only(&fresh, &conf);
	conf = fresh;
	log_open(&conf);
	api_reload();
	log_info("configuration reloaded from %s", config_path);
}

/*
 * Wait until a connection may be accepted; the served signals are
 * deliverable only in here. 1: readable, 0: a signal came, -1: error.
 */
static int
wait_for_connection(int epoll_fd, const sigset_t *waiting_mask)
{
	struct epoll_event ev;
	int n;

	/* Out of work: the held request lines go out before the wait. */
	if ((n = epoll_pwait(epoll_fd, &ev, 1, 0, waiting_mask)) == 0) {
		log_flush();
		n = epoll_pwait(epoll_fd, &ev, 1, -1, waiting_mask);
	}
	if (n == -1)
		return errno == EINTR ? 0 : -1;
	return 1;
}

static int
watch_listener(int listen_fd)
{
	struct epoll_event ev;
	int epoll_fd, flags, rc;

	if ((flags = fcntl(listen_fd, F_GETFL)) == -1 ||
	    fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return -1;
	if ((epoll_fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = listen_fd;
	rc = epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
	if (rc == -1 && errno == EINVAL) {
		/* Kernels before 4.5 know no EPOLLEXCLUSIVE: every responder wakes. */
		ev.events = EPOLLIN;
		rc = epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
	}
	if (rc == -1) {
		close(epoll_fd);
		return -1;
	}
	return epoll_fd;
}

int
responder_run(int listen_fd, long long max_requests, const char *config_path)
{
	FCGX_Request fr;
	sigset_t served_mask, waiting_mask;
	long long served = 0;
	int epoll_fd, failed = 0;

	install_signals(&served_mask);
	sigprocmask(SIG_BLOCK, &served_mask, &waiting_mask);
	sigdelset(&waiting_mask, SIGTERM);
	sigdelset(&waiting_mask, SIGINT);
	sigdelset(&waiting_mask, SIGUSR1);
	sigdelset(&waiting_mask, SIGHUP);
	if ((epoll_fd = watch_listener(listen_fd)) == -1) {
		log_error("listening socket: %s", strerror(errno));
		return 1;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
		log_error("cannot initialise libfcgi");
		close(epoll_fd);
		return 1;
	}
	/* The identity provider's keys, before the first token needs them. */
	jwks_prefetch();
	while (!stop_requested && (max_requests == 0 || served < max_requests)) {
		int ready, rc;

		ready = wait_for_connection(epoll_fd, &waiting_mask);
		if (reopen_requested) {
			reopen_requested = 0;
			log_reopen();
		}
		if (reload_requested) {
			reload_requested = 0;
			reload_config(config_path);
		}
		if (ready == -1) {
			log_error("waiting for connections: %s", strerror(errno));
			failed = 1;
			break;
		}
		if (ready == 0 || stop_requested)
			continue;
		if ((rc = FCGX_Accept_r(&fr)) < 0) {
			/* Another responder took it, or the client left. */
			if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR ||
			    rc == -ECONNABORTED)
				continue;
			log_error("accept failed: %s", rc > -4096 ?
			    strerror(-rc) : "libfcgi error");
			failed = 1;
			break;
		}
		serve_one(&fr);
		served++;
	}
	FCGX_Free(&fr, 1);
	close(epoll_fd);
	log_flush();
	return failed;
}
