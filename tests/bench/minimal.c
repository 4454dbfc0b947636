/*
 * The benchmark's ceiling: the least a libfcgi responder can do per request.
 * It accepts a request, answers {"status":"ok"} as application/json and
 * goes back to FCGX_Accept_r; no routing, no JSON library, no logging, no
 * metrics. Whatever dynconf-fcgi serves slower than this, over the same web
 * server and socket, is dynconf's own cost.
 *
 * Started the way spawn-fcgi starts a responder: the listening socket on
 * fd 0 (spawn-fcgi -n -s SOCK -- minimal -n 4). With -n N it forks N
 * responders on that socket and waits; SIGTERM or SIGINT to it stops them
 * all. Built by tests/bench/run with cc -O2 ... -lfcgi; not part of the
 * installed program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

#define MAX_CHILDREN 256

static const char body[] = "{\"status\":\"ok\"}";

static int
serve(void)
{
	FCGX_Request req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		fprintf(stderr, "minimal: cannot initialise libfcgi\n");
		return 1;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutS("Status: 200 OK\r\n"
		    "Content-Type: application/json\r\n", req.out);
		FCGX_FPrintF(req.out, "Content-Length: %d\r\n\r\n",
		    (int)sizeof(body) - 1);
		FCGX_PutStr(body, (int)sizeof(body) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}

static volatile sig_atomic_t stopping;

static void
on_signal(int signo)
{
	(void)signo;
	stopping = 1;
}

int
main(int argc, char **argv)
{
	pid_t children[MAX_CHILDREN];
	struct sigaction sa;
	int ch, n = 1, i, forked = 0, live;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		switch (ch) {
		case 'n':
			n = atoi(optarg);
			if (n < 1 || n > MAX_CHILDREN) {
				fprintf(stderr, "minimal: -n takes 1..%d\n",
				    MAX_CHILDREN);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: minimal [-n processes]\n");
			return 2;
		}
	}
	if (n == 1)
		return serve();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == -1) {
			perror("minimal: fork");
			break;
		}
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			/* Never outlive the parent, even if it is killed. */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1)
				_exit(0);
			_exit(serve());
		}
		children[forked++] = pid;
	}
	live = forked;
	while (!stopping && live > 0) {
		if (wait(NULL) > 0)
			live--;
		else if (errno != EINTR)
			break;
	}
	for (i = 0; i < forked; i++)
		kill(children[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}
