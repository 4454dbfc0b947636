/*
 * The circuit breaker in front of etcd, shared by every process of the pool
 * (it lives in shared memory, see shared.h). After breaker_threshold
 * consecutive failures it opens: calls fail at once instead of each waiting
 * out its timeout. After a cool-down one caller is let through as a probe;
 * its success closes the breaker, its failure opens it again.
 *
 * Each change of state is logged once for the whole pool, by the process
 * that made it. While etcd stays down the breaker probes it once per
 * cool-down: those open/half_open lines are logged for the 1st, 2nd, 4th,
 * 8th... probe of an outage only, each with its number.
 */
#ifndef DYNCONF_BREAKER_H
#define DYNCONF_BREAKER_H

#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

#define BREAKER_THRESHOLD 5
#define BREAKER_COOLDOWN_US 1000000

/* What breaker_allow() lets a caller do. */
enum breaker_verdict {
	BREAKER_REFUSE,		/* fail at once */
	BREAKER_PASS,		/* closed: go ahead */
	BREAKER_PROBE,		/* the one probe of a half open breaker: go, once */
};

/* May this caller go to etcd now? (Takes the probe slot when half open.) */
enum breaker_verdict breaker_allow(void);
void	breaker_success(void);
/* A call found etcd unavailable; why (no secrets) goes into the log line. */
void	breaker_failure(const char *why);
enum breaker_state breaker_state(void);
const char *breaker_state_name(enum breaker_state state);

#endif
