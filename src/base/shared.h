/*
 * Pool-wide shared memory: the one segment every process of the pool maps
 * (anonymous and inherited from the master in standalone mode; a file that
 * sibling processes map under spawn-fcgi). It holds what must be seen the
 * same from every responder: the metrics counters, the etcd circuit breaker,
 * the replica's state as the watcher last reported it and the waiting
 * process's counts. Fields are only touched with __atomic builtins.
 */
#ifndef DYNCONF_SHARED_H
#define DYNCONF_SHARED_H

#include <stdint.h>

/* More routes than this is caught by the unit tests. */
#define SHARED_MAX_ROUTES 128
#define SHARED_STATUS_SLOTS 20
#define SHARED_METHOD_SLOTS 8
#define SHARED_LATENCY_BUCKETS 16

struct shared_metrics {
	uint64_t	requests[SHARED_MAX_ROUTES + 1][SHARED_METHOD_SLOTS]
			    [SHARED_STATUS_SLOTS];
	uint64_t	latency[SHARED_LATENCY_BUCKETS];
	uint64_t	latency_sum_us;
	uint64_t	latency_count;
	int64_t		responders;
	uint64_t	cache_hit;
	uint64_t	cache_stale;
	uint64_t	cache_bypass;
	uint64_t	etcd_calls;
	uint64_t	etcd_failures;
	uint64_t	etcd_retries;
};

struct shared_breaker {
	int32_t		state;			/* enum breaker_state */
	uint32_t	consecutive_failures;
	int64_t		opened_at_us;		/* monotonic */
	uint64_t	opened_total;
	uint32_t	probes;			/* since it last opened from closed */
};

struct shared_replica {
	int64_t		revision;		/* applied by the watcher */
	int64_t		current_at_us;		/* monotonic: last known in step with etcd */
	int64_t		heard_at_us;		/* monotonic: last answer from etcd */
	int32_t		etcd_up;
	int32_t		snapshot_loaded;
	uint64_t	resyncs;
	uint64_t	events_applied;
	uint64_t	local_writes;		/* write-throughs by responders */
};

/*
 * Requests handed to the node's waiting process (fcgi/waiter.c): how many
 * wait now, by kind (set by that process), and what became of the others.
 */
#define SHARED_WAIT_KINDS 4

struct shared_waiting {
	int64_t		waiting[SHARED_WAIT_KINDS];	/* by enum wait_kind_id */
	uint64_t	handoffs;		/* received from responders */
	uint64_t	handoff_failures;	/* responders found no waiting process */
	uint64_t	refused[SHARED_WAIT_KINDS];	/* answered 429: the room was full */
	uint64_t	disconnects;		/* clients that left while waiting */
};

/*
 * Flag evaluations that SDKs report (Flagsmith's analytics, API.md §11),
 * by environment and flag: open addressing, a slot claimed once and kept.
 * Beyond the slots, reports count in other.
 */
#define SHARED_USAGE_SLOTS 512
#define SHARED_USAGE_NAME 129	/* a name (128 bytes) and its NUL */

struct shared_usage_slot {
	uint32_t	state;		/* 0 free, 1 being claimed, 2 ready */
	char		environment[SHARED_USAGE_NAME];
	char		flag[SHARED_USAGE_NAME];
	uint64_t	count;
};

struct shared_usage {
	struct shared_usage_slot slot[SHARED_USAGE_SLOTS];
	uint64_t	other;
};

/*
 * The JWKS document of auth.jwks_url as last fetched, for every process
 * (http/jwks.c): written under a sequence lock (seq odd while writing), by
 * whichever process claimed the fetch.
 */
#define SHARED_JWKS_MAX 65536

struct shared_jwks {
	uint64_t	seq;
	uint32_t	writing;	/* 0 or 1: one writer at a time */
	uint32_t	len;
	int64_t		fetched_at_us;	/* monotonic: last good fetch, 0 never */
	int64_t		claimed_at_us;	/* monotonic: last attempt */
	uint64_t	fetches;	/* attempts, for the metrics */
	uint64_t	failures;
	char		doc[SHARED_JWKS_MAX];
};

/* Who runs the pool, for dynconfctl status (which maps the file read-only). */
struct shared_pool {
	int32_t		master_pid;		/* 0: no master (spawn-fcgi) */
	int32_t		watcher_pid;
	int64_t		started_at;		/* unix seconds */
};

/*
 * The lease the node's audit records are put on (store/audit.c): one for
 * the whole pool, granted by whichever process found it due and used for
 * a while (and a number of records) by all, so that etcd holds a few
 * leases per node, not one per write or per process. A writer zeroes granted_at_us, then sets the
 * lease and ttl, then granted_at_us; a reader that finds the same non-zero
 * granted_at_us before and after reading the others has a matching set.
 */
struct shared_audit {
	int64_t		lease;			/* 0: none yet */
	int64_t		ttl;			/* asked for it */
	int64_t		granted_at_us;		/* monotonic */
	uint64_t	keys;			/* records put on it, about */
};

struct shared_state {
	uint64_t		magic;
	uint64_t		layout;
	struct shared_pool	pool;
	struct shared_metrics	metrics;
	struct shared_usage	usage;
	struct shared_jwks	jwks;
	struct shared_breaker	breaker;
	struct shared_replica	replica;
	struct shared_waiting	waiting;
	struct shared_audit	audit;
};

/*
 * Map the segment: path NULL for an anonymous mapping that children
 * inherit, else a file shared by unrelated processes. Until then (and if it
 * fails) a process-local segment is used. Returns 0 or -1.
 */
int	shared_attach(const char *path);
/*
 * The standalone master's window for dynconfctl status: path made afresh
 * with the segment's layout, into which shared_mirror() copies the pool's
 * state (the processes, the breaker, the replica) from the anonymous
 * segment. The pool's own counters stay in anonymous memory: no request
 * ever writes to a file mapping. 0, or -1 (logged at info) when path
 * cannot be made.
 */
int	shared_mirror_open(const char *path);
void	shared_mirror(void);
/*
 * The segment a pool keeps in path, mapped read-only, or NULL (errno set)
 * when it cannot be read or is not one. Never creates or changes it.
 */
const struct shared_state *shared_peek(const char *path);

/* The segment; never NULL. */
struct shared_state *shared(void);

#endif
