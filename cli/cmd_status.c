/*
 * dynconfctl status: what an operator looks at first. etcd's members, each
 * asked for its own status (health, leader, version, revision); this
 * node's replica (its applied revision against etcd's); and the pool, from
 * the state its master keeps in server.metrics_file (shared.h): the master
 * and watcher processes, the responders, the circuit breaker and how far
 * the watcher is behind. No HTTP: a pool that no longer answers is seen too.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/shared.h"
#include "base/util.h"
#include "ctl.h"
#include "etcd/breaker.h"
#include "store/replica.h"

/* The watcher in step with etcd this recently counts as no lag (as /v1/health). */
#define IN_STEP_US 500000

static int
alive(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* One member, asked on its own first client URL. 0 healthy, -1 not. */
static int
member_status(const struct etcd_member *m, int64_t *revision)
{
	struct etcd_status_result st;
	struct etcd_options options;
	struct etcd_client *client;
	struct etcd_error error;
	char password[256], url[256];
	int rc;

	snprintf(url, sizeof(url), "%s", m->client_urls);
	url[strcspn(url, ",")] = '\0';
	printf("  member %llx %s %s: ", (unsigned long long)m->id,
	    m->name[0] ? m->name : "(unstarted)", url[0] ? url : "(no client URL)");
	store_etcd_options(&options, password, sizeof(password));
	options.use_breaker = 0;
	options.endpoints = url;
	client = url[0] ? etcd_client_new(&options) : NULL;
	explicit_bzero(password, sizeof(password));
	if (client == NULL) {
		printf("unreachable\n");
		return -1;
	}
	rc = etcd_status(client, &st, &error);
	etcd_client_free(client);
	if (rc != ETCD_OK) {
		printf("unhealthy: %s\n", error.message);
		return -1;
	}
	printf("healthy%s%s, etcd %s, revision %lld, raft term %lld, db %lld kB\n",
	    st.leader == m->id ? ", leader" : "", m->is_learner ? ", learner" : "",
	    st.version, (long long)st.revision, (long long)st.raft_term,
	    (long long)(st.db_size / 1024));
	if (st.revision > *revision)
		*revision = st.revision;
	return 0;
}

/* etcd's members and their health; -1 when etcd could not be reached. */
static int
etcd_part(int64_t *revision)
{
	struct etcd_client *client;
	struct etcd_member *members;
	struct etcd_error error;
	size_t count, i;
	int rc = 0;

	printf("etcd: %s, prefix %s\n", conf.etcd.endpoints, conf.etcd.prefix);
	if ((client = ctl_etcd()) == NULL)
		return -1;
	if (etcd_member_list(client, &members, &count, &error) != ETCD_OK) {
		printf("  unreachable: %s\n", error.message);
		etcd_client_free(client);
		return -1;
	}
	etcd_client_free(client);
	for (i = 0; i < count; i++)
		if (member_status(&members[i], revision) == -1)
			rc = -1;
	free(members);
	return rc;
}

static void
replica_part(int64_t etcd_revision)
{
	struct replica *r;
	int64_t applied = 0;

	printf("replica: %s\n", conf.replica.path);
	if (access(conf.replica.path, F_OK) == -1) {
		printf("  none: %s\n", strerror(errno));
		return;
	}
	if ((r = ctl_open_replica(1)) == NULL)
		return;
	replica_applied_revision(r, &applied);
	printf("  revision %lld, %s", (long long)applied,
	    replica_snapshot_complete(r) ? "snapshot loaded" : "no snapshot yet");
	if (etcd_revision > 0)
		printf(", %lld revisions behind etcd", (long long)(etcd_revision > applied ?
		    etcd_revision - applied : 0));
	printf("\n");
	replica_close(r);
}

static void
pool_part(const struct shared_state *s)
{
	const struct shared_replica *sr = &s->replica;
	int64_t current = __atomic_load_n(&sr->current_at_us, __ATOMIC_RELAXED);
	int64_t lag = clock_monotonic_us() - current;
	int32_t master = s->pool.master_pid, watcher = s->pool.watcher_pid;
	char since[32];

	format_rfc3339(s->pool.started_at, since, sizeof(since));
	if (master != 0)
		printf("  master %ld %s", (long)master, alive(master) ?
		    "running" : "not running");
	else
		printf("  no master (spawn-fcgi)");
	if (master != 0 && alive(master))
		printf(" since %s, %lld responders", since, (long long)
		    __atomic_load_n(&s->metrics.responders, __ATOMIC_RELAXED));
	printf("\n  watcher %ld %s, etcd %s, breaker %s\n", (long)watcher,
	    alive(watcher) ? "running" : "not running",
	    sr->etcd_up ? "up" : "down",
	    breaker_state_name((enum breaker_state)s->breaker.state));
	if (current == 0)
		printf("  replica lag unknown (never in step)\n");
	else
		printf("  replica revision %lld, lag %lld ms, %llu resyncs\n",
		    (long long)sr->revision, (long long)(lag <= IN_STEP_US ? 0 :
		    lag / 1000), (unsigned long long)sr->resyncs);
}

int
cmd_status(int argc, char **argv)
{
	const struct shared_state *state;
	int64_t revision = 0;
	int healthy, peek_errno;

	if (ctl_getopt(argc, argv, ":", NULL) != -1 ||
	    ctl_operands(argc, argv, 0, 0, "") != 0)
		return CTL_USAGE;
	/* Mapped first: the replica may be opened as another user. */
	state = shared_peek(conf.server.metrics_file);
	peek_errno = errno;
	healthy = etcd_part(&revision) == 0;
	printf("pool: state in %s\n", conf.server.metrics_file);
	if (state == NULL)
		printf("  not seen: %s\n", peek_errno == EINVAL ?
		    "not a pool's state" : strerror(peek_errno));
	else
		pool_part(state);
	replica_part(revision);
	return healthy ? CTL_OK : CTL_FAILED;
}
