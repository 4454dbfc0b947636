/*
 * The pool-wide circuit breaker in front of etcd; see breaker.h.
 *
 * The state lives in shared memory (shared()->breaker) and every process of
 * the pool reads and writes it without a lock, through __atomic builtins.
 * The one decision that must be exclusive is who becomes the probe once the
 * cool-down is over: that is a compare-and-swap on opened_at_us, so exactly
 * one caller wins it even when many see the cool-down expire at once.
 *
 * opened_at_us means "when the breaker last opened" in the open state and
 * "when the probe started" in the half-open state. A probe whose process
 * died (a recycled responder) would otherwise hold the breaker half open
 * for ever: after BREAKER_PROBE_STALE_US another caller takes the slot.
 */
#include "config.h"

#include "breaker.h"
#include "shared.h"
#include "util.h"

/* A probe that has not reported after this long is presumed dead. */
#define BREAKER_PROBE_STALE_US (10 * (int64_t)BREAKER_COOLDOWN_US)

static struct shared_breaker *
breaker(void)
{
	return &shared()->breaker;
}

static int32_t
load_state(void)
{
	return __atomic_load_n(&breaker()->state, __ATOMIC_ACQUIRE);
}

static void
store_state(int32_t state)
{
	__atomic_store_n(&breaker()->state, state, __ATOMIC_RELEASE);
}

/*
 * Claim the timestamp: whoever moves opened_at_us from the value it saw to
 * now owns the transition. Losers see a fresh timestamp and back off.
 */
static int
claim(int64_t seen, int64_t now)
{
	return __atomic_compare_exchange_n(&breaker()->opened_at_us, &seen, now,
	    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Open: after the cool-down, the one caller that claims it is the probe. */
static int
allow_open(void)
{
	int64_t now, opened;
	int32_t expect = BREAKER_OPEN;

	now = clock_monotonic_us();
	opened = __atomic_load_n(&breaker()->opened_at_us, __ATOMIC_ACQUIRE);
	if (now - opened < BREAKER_COOLDOWN_US || !claim(opened, now))
		return 0;
	/* Only a breaker still open turns half open: a success may have closed it. */
	__atomic_compare_exchange_n(&breaker()->state, &expect, BREAKER_HALF_OPEN,
	    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	return 1;
}

/* Half open: the probe is out; take its slot only if it never came back. */
static int
allow_half_open(void)
{
	int64_t now, opened;

	now = clock_monotonic_us();
	opened = __atomic_load_n(&breaker()->opened_at_us, __ATOMIC_ACQUIRE);
	return now - opened >= BREAKER_PROBE_STALE_US && claim(opened, now);
}

int
breaker_allow(void)
{
	switch (load_state()) {
	case BREAKER_OPEN:
		return allow_open();
	case BREAKER_HALF_OPEN:
		return allow_half_open();
	default:
		/* Closed (or a corrupt segment: rather not lock etcd out). */
		return 1;
	}
}

void
breaker_success(void)
{
	__atomic_store_n(&breaker()->consecutive_failures, 0, __ATOMIC_RELEASE);
	if (load_state() != BREAKER_CLOSED)
		store_state(BREAKER_CLOSED);
}

static void
trip(void)
{
	/* The timestamp first, so nobody sees "open" with a stale cool-down. */
	__atomic_store_n(&breaker()->opened_at_us, clock_monotonic_us(),
	    __ATOMIC_RELEASE);
	store_state(BREAKER_OPEN);
	__atomic_add_fetch(&breaker()->opened_total, 1, __ATOMIC_RELAXED);
}

void
breaker_failure(void)
{
	uint32_t failures;
	int32_t expect = BREAKER_CLOSED;

	failures = __atomic_add_fetch(&breaker()->consecutive_failures, 1,
	    __ATOMIC_ACQ_REL);
	switch (load_state()) {
	case BREAKER_HALF_OPEN:
		/* The probe failed: another full cool-down. */
		trip();
		break;
	case BREAKER_CLOSED:
		if (failures < BREAKER_THRESHOLD)
			break;
		/* One of the racing callers opens it; the others see it open. */
		__atomic_store_n(&breaker()->opened_at_us, clock_monotonic_us(),
		    __ATOMIC_RELEASE);
		if (__atomic_compare_exchange_n(&breaker()->state, &expect,
		    BREAKER_OPEN, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			__atomic_add_fetch(&breaker()->opened_total, 1,
			    __ATOMIC_RELAXED);
		break;
	default:
		/* Already open: a late failure of a call that started earlier. */
		break;
	}
}

enum breaker_state
breaker_state(void)
{
	int32_t state = load_state();

	if (state < BREAKER_CLOSED || state > BREAKER_HALF_OPEN)
		return BREAKER_CLOSED;
	return (enum breaker_state)state;
}

const char *
breaker_state_name(enum breaker_state state)
{
	switch (state) {
	case BREAKER_CLOSED:
		return "closed";
	case BREAKER_OPEN:
		return "open";
	case BREAKER_HALF_OPEN:
		return "half_open";
	}
	return "unknown";
}
