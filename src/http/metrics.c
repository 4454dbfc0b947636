/*
 * Pool-wide metrics in shared memory; see metrics.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/wait.h"

/* The statuses counted apart; anything else falls into the last slot. */
static const int counted_statuses[] = {
	200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 410, 412, 413, 415,
	429, 500, 502, 503, 504, 0
};
#define STATUS_SLOTS ARRAY_SIZE(counted_statuses)
#define METHOD_SLOTS SHARED_METHOD_SLOTS

/* Upper bounds of the latency histogram, in microseconds. */
static const int64_t latency_bounds_us[] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000, 10000000
};
#define LATENCY_BUCKETS (ARRAY_SIZE(latency_bounds_us) + 1)

_Static_assert(ARRAY_SIZE(counted_statuses) <= SHARED_STATUS_SLOTS,
    "status slots");
_Static_assert(ARRAY_SIZE(latency_bounds_us) + 1 <= SHARED_LATENCY_BUCKETS,
    "latency buckets");

int
metrics_attach(const char *path)
{
	if (route_count > METRICS_MAX_ROUTES) {
		log_error("%zu routes, metrics hold %d", route_count, METRICS_MAX_ROUTES);
		return -1;
	}
	return shared_attach(path);
}

static size_t
status_slot(int status)
{
	size_t i;

	for (i = 0; i < STATUS_SLOTS - 1; i++)
		if (counted_statuses[i] == status)
			return i;
	return STATUS_SLOTS - 1;
}

static size_t
method_slot(enum http_method method)
{
	size_t slot = 0;
	unsigned bits = (unsigned)method;

	while (bits > 1 && slot < METHOD_SLOTS - 1) {
		bits >>= 1;
		slot++;
	}
	return slot;
}

void
metrics_record_request(size_t route, enum http_method method, int status,
    int64_t micros)
{
	struct shared_metrics *m = &shared()->metrics;

	size_t bucket = 0;

	if (route > METRICS_MAX_ROUTES)
		route = METRICS_MAX_ROUTES;
	while (bucket < LATENCY_BUCKETS - 1 && micros > latency_bounds_us[bucket])
		bucket++;
	__atomic_fetch_add(&m->requests[route][method_slot(method)]
	    [status_slot(status)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->latency[bucket], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->latency_sum_us, (uint64_t)(micros < 0 ? 0 : micros),
	    __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->latency_count, 1, __ATOMIC_RELAXED);
}

/* The slot of (environment, flag), claimed when new; NULL when full. */
static struct shared_usage_slot *
usage_slot(const char *environment, const char *flag)
{
	struct shared_usage *u = &shared()->usage;
	uint64_t h = string_hash(environment) * 31 + string_hash(flag);
	size_t probe, spins;

	for (probe = 0; probe < SHARED_USAGE_SLOTS; probe++) {
		struct shared_usage_slot *s = &u->slot[(h + probe) % SHARED_USAGE_SLOTS];
		uint32_t state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		uint32_t free_state = 0;

		if (state == 0 && __atomic_compare_exchange_n(&s->state,
		    &free_state, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			snprintf(s->environment, sizeof(s->environment), "%s",
			    environment);
			snprintf(s->flag, sizeof(s->flag), "%s", flag);
			__atomic_store_n(&s->state, 2, __ATOMIC_RELEASE);
			return s;
		}
		/* One being claimed may be ours: wait the few stores it takes. */
		for (spins = 0; (state = __atomic_load_n(&s->state,
		    __ATOMIC_ACQUIRE)) == 1 && spins < 1000000; spins++)
			;	/* bounded: a claimer killed midway never finishes */
		if (state == 2 &&
		    strcmp(s->environment, environment) == 0 &&
		    strcmp(s->flag, flag) == 0)
			return s;
	}
	return NULL;
}

void
metrics_record_flag_usage(const char *environment, const char *flag,
    uint64_t count)
{
	struct shared_usage_slot *s = usage_slot(environment, flag);

	__atomic_fetch_add(s != NULL ? &s->count : &shared()->usage.other, count,
	    __ATOMIC_RELAXED);
}

static void
render_usage(struct buf *out)
{
	struct shared_usage *u = &shared()->usage;
	size_t i;

	buf_puts(out, "# HELP dynconf_flag_evaluations_reported_total Flag "
	    "evaluations SDKs reported (POST /api/v1/analytics/flags/), by "
	    "environment and flag; beyond the table's slots, flag=\"\".\n"
	    "# TYPE dynconf_flag_evaluations_reported_total counter\n");
	for (i = 0; i < SHARED_USAGE_SLOTS; i++) {
		struct shared_usage_slot *s = &u->slot[i];

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != 2)
			continue;
		buf_printf(out, "dynconf_flag_evaluations_reported_total{"
		    "environment=\"%s\",flag=\"%s\"} %llu\n", s->environment,
		    s->flag, (unsigned long long)__atomic_load_n(&s->count,
		    __ATOMIC_RELAXED));
	}
	buf_printf(out, "dynconf_flag_evaluations_reported_total{environment=\"\","
	    "flag=\"\"} %llu\n", (unsigned long long)__atomic_load_n(&u->other,
	    __ATOMIC_RELAXED));
}

void
metrics_set_responders(int count)
{
	struct shared_metrics *m = &shared()->metrics;

	__atomic_store_n(&m->responders, count, __ATOMIC_RELAXED);
}

static void
render_requests(struct buf *out)
{
	struct shared_metrics *m = &shared()->metrics;
	size_t r, method, s;

	buf_puts(out, "# HELP dynconf_http_requests_total Requests answered, "
	    "by route, method and status.\n"
	    "# TYPE dynconf_http_requests_total counter\n");
	for (r = 0; r <= route_count; r++)
		for (method = 0; method < METHOD_SLOTS; method++)
			for (s = 0; s < STATUS_SLOTS; s++) {
				uint64_t n = __atomic_load_n(&m->requests[r][method][s],
				    __ATOMIC_RELAXED);
				char status[8];

				if (n == 0)
					continue;
				if (counted_statuses[s] == 0)
					snprintf(status, sizeof(status), "other");
				else
					snprintf(status, sizeof(status), "%d",
					    counted_statuses[s]);
				buf_printf(out, "dynconf_http_requests_total{route=\"%s\","
				    "method=\"%s\",status=\"%s\"} %llu\n",
				    r < route_count ? route_table[r].pattern : "unmatched",
				    http_method_name((enum http_method)(1u << method)), status,
				    (unsigned long long)n);
			}
}

static void
render_latency(struct buf *out)
{
	struct shared_metrics *m = &shared()->metrics;

	uint64_t cumulative = 0;
	size_t b;

	buf_puts(out, "# HELP dynconf_http_request_duration_seconds Time from "
	    "request to response, inside the responder.\n"
	    "# TYPE dynconf_http_request_duration_seconds histogram\n");
	for (b = 0; b < LATENCY_BUCKETS; b++) {
		cumulative += __atomic_load_n(&m->latency[b], __ATOMIC_RELAXED);
		if (b < LATENCY_BUCKETS - 1)
			buf_printf(out, "dynconf_http_request_duration_seconds_bucket"
			    "{le=\"%g\"} %llu\n", latency_bounds_us[b] / 1e6,
			    (unsigned long long)cumulative);
		else
			buf_printf(out, "dynconf_http_request_duration_seconds_bucket"
			    "{le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
	}
	buf_printf(out, "dynconf_http_request_duration_seconds_sum %.6f\n"
	    "dynconf_http_request_duration_seconds_count %llu\n",
	    __atomic_load_n(&m->latency_sum_us, __ATOMIC_RELAXED) / 1e6,
	    (unsigned long long)__atomic_load_n(&m->latency_count,
	    __ATOMIC_RELAXED));
}

static void
render_counter(struct buf *out, const char *name, const char *help,
    const char *labels, uint64_t value)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s%s %llu\n", name, help,
	    name, name, labels, (unsigned long long)value);
}

static void
render_storage(struct buf *out)
{
	struct shared_state *st = shared();
	struct shared_metrics *m = &st->metrics;
	int64_t current = __atomic_load_n(&st->replica.current_at_us, __ATOMIC_RELAXED);

	buf_printf(out, "# HELP dynconf_cache_reads_total Reads by how they were "
	    "served (replica hit, stale replica, bypass to etcd).\n"
	    "# TYPE dynconf_cache_reads_total counter\n"
	    "dynconf_cache_reads_total{result=\"hit\"} %llu\n"
	    "dynconf_cache_reads_total{result=\"stale\"} %llu\n"
	    "dynconf_cache_reads_total{result=\"bypass\"} %llu\n",
	    (unsigned long long)__atomic_load_n(&m->cache_hit, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&m->cache_stale, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&m->cache_bypass, __ATOMIC_RELAXED));
	render_counter(out, "dynconf_etcd_calls_total", "Calls made to etcd.", "",
	    __atomic_load_n(&m->etcd_calls, __ATOMIC_RELAXED));
	render_counter(out, "dynconf_etcd_failures_total",
	    "Calls to etcd that failed to get an answer.", "",
	    __atomic_load_n(&m->etcd_failures, __ATOMIC_RELAXED));
	render_counter(out, "dynconf_etcd_retries_total",
	    "Idempotent etcd calls retried.", "",
	    __atomic_load_n(&m->etcd_retries, __ATOMIC_RELAXED));
	buf_printf(out, "# HELP dynconf_circuit_breaker_state etcd circuit breaker: "
	    "0 closed, 1 open, 2 half open.\n"
	    "# TYPE dynconf_circuit_breaker_state gauge\n"
	    "dynconf_circuit_breaker_state %d\n",
	    (int)__atomic_load_n(&st->breaker.state, __ATOMIC_RELAXED));
	render_counter(out, "dynconf_circuit_breaker_opened_total",
	    "Times the etcd circuit breaker opened.", "",
	    __atomic_load_n(&st->breaker.opened_total, __ATOMIC_RELAXED));
	buf_printf(out, "# HELP dynconf_replica_revision etcd revision the replica "
	    "has applied.\n# TYPE dynconf_replica_revision gauge\n"
	    "dynconf_replica_revision %lld\n"
	    "# HELP dynconf_replica_lag_seconds Time since the replica was last "
	    "known to be in step with etcd.\n"
	    "# TYPE dynconf_replica_lag_seconds gauge\n"
	    "dynconf_replica_lag_seconds %.3f\n",
	    (long long)__atomic_load_n(&st->replica.revision, __ATOMIC_RELAXED),
	    current == 0 ? 0.0 : (clock_monotonic_us() - current) / 1e6);
	render_counter(out, "dynconf_replica_resyncs_total",
	    "Full snapshot reloads after compaction or a lost watch.", "",
	    __atomic_load_n(&st->replica.resyncs, __ATOMIC_RELAXED));
	render_counter(out, "dynconf_replica_events_total",
	    "etcd events applied to the replica.", "",
	    __atomic_load_n(&st->replica.events_applied, __ATOMIC_RELAXED));
}

/* The waiting process (http/wait_room.h): who waits, and what became of the rest. */
static void
render_waiting(struct buf *out)
{
	struct shared_waiting *w = &shared()->waiting;

	buf_printf(out, "# HELP dynconf_watches_waiting Watches (GET /v1/watch) "
	    "waiting for a change in the waiting process.\n"
	    "# TYPE dynconf_watches_waiting gauge\n"
	    "dynconf_watches_waiting %lld\n",
	    (long long)__atomic_load_n(&w->waiting[WAIT_WATCH], __ATOMIC_RELAXED));
	render_counter(out, "dynconf_watches_refused_total",
	    "Watches refused (429) because server.max_watches were waiting.", "",
	    __atomic_load_n(&w->refused[WAIT_WATCH], __ATOMIC_RELAXED));
	buf_printf(out, "# HELP dynconf_lock_waits_waiting Lock acquisitions "
	    "(POST /v1/locks/{name} with wait) waiting for their lock.\n"
	    "# TYPE dynconf_lock_waits_waiting gauge\n"
	    "dynconf_lock_waits_waiting %lld\n",
	    (long long)__atomic_load_n(&w->waiting[WAIT_LOCK], __ATOMIC_RELAXED));
	render_counter(out, "dynconf_lock_waits_refused_total",
	    "Lock waits refused (429) because server.max_watches requests were "
	    "waiting.", "", __atomic_load_n(&w->refused[WAIT_LOCK], __ATOMIC_RELAXED));
	render_counter(out, "dynconf_wait_handoffs_total",
	    "Waiting requests responders handed to the waiting process.", "",
	    __atomic_load_n(&w->handoffs, __ATOMIC_RELAXED));
	render_counter(out, "dynconf_wait_handoff_failures_total",
	    "Waiting requests answered 503 because no waiting process took them.",
	    "", __atomic_load_n(&w->handoff_failures, __ATOMIC_RELAXED));
	render_counter(out, "dynconf_wait_disconnects_total",
	    "Waiting requests whose client left before the answer.", "",
	    __atomic_load_n(&w->disconnects, __ATOMIC_RELAXED));
}

void
metrics_render(struct buf *out)
{
	struct shared_metrics *m = &shared()->metrics;

	render_requests(out);
	render_latency(out);
	buf_printf(out, "# HELP dynconf_responders Responder processes the "
	    "master keeps running, readers and writers (0 under spawn-fcgi).\n"
	    "# TYPE dynconf_responders gauge\n"
	    "dynconf_responders %lld\n",
	    (long long)__atomic_load_n(&m->responders, __ATOMIC_RELAXED));
	render_storage(out);
	render_waiting(out);
	render_usage(out);
}
