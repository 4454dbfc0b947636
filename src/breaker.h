/*
 * The circuit breaker in front of etcd, shared by every process of the pool
 * (it lives in shared memory, see shared.h). After breaker_threshold
 * consecutive failures it opens: calls fail at once instead of each waiting
 * out its timeout. After a cool-down one caller is let through as a probe;
 * its success closes the breaker, its failure opens it again.
 */
#ifndef DYNCONF_BREAKER_H
#define DYNCONF_BREAKER_H

#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

#define BREAKER_THRESHOLD 5
#define BREAKER_COOLDOWN_US 1000000

/* May this caller go to etcd now? (Takes the probe slot when half open.) */
int	breaker_allow(void);
void	breaker_success(void);
void	breaker_failure(void);
enum breaker_state breaker_state(void);
const char *breaker_state_name(enum breaker_state state);

#endif
