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
 *
 * Every change of state is one compare-and-swap on state, and only the
 * caller whose swap succeeded logs it: one line per transition for the
 * whole pool, however many processes race for it.
 */
#include "config.h"

#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "etcd/breaker.h"

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

static const char *
state_name(int32_t state)
{
	return breaker_state_name((enum breaker_state)state);
}

/* Swap the state from from to to; 1 for the one caller that made the change. */
static int
swap_state(int32_t from, int32_t to)
{
	return __atomic_compare_exchange_n(&breaker()->state, &from, to, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Probes of one outage are logged at 1, 2, 4, 8...: a long outage stays readable. */
static int
probe_logged(uint32_t probe)
{
	return probe != 0 && (probe & (probe - 1)) == 0;
}

/* Open: after the cool-down, the one caller that claims it is the probe. */
static enum breaker_verdict
allow_open(void)
{
	int64_t now, opened;
	uint32_t probe;

	now = clock_monotonic_us();
	opened = __atomic_load_n(&breaker()->opened_at_us, __ATOMIC_ACQUIRE);
	if (now - opened < BREAKER_COOLDOWN_US || !claim(opened, now))
		return BREAKER_REFUSE;
	/* Only a breaker still open turns half open: a success may have closed it. */
	if (!swap_state(BREAKER_OPEN, BREAKER_HALF_OPEN))
		return BREAKER_PASS;
	probe = __atomic_add_fetch(&breaker()->probes, 1, __ATOMIC_RELAXED);
	if (probe_logged(probe))
		log_info("etcd circuit breaker open -> half_open: probe %u of this "
		    "outage", probe);
	return BREAKER_PROBE;
}

/* Half open: the probe is out; take its slot only if it never came back. */
static enum breaker_verdict
allow_half_open(void)
{
	int64_t now, opened;

	now = clock_monotonic_us();
	opened = __atomic_load_n(&breaker()->opened_at_us, __ATOMIC_ACQUIRE);
	if (now - opened < BREAKER_PROBE_STALE_US || !claim(opened, now))
		return BREAKER_REFUSE;
	log_debug("etcd circuit breaker: the probe never reported; probing again");
	return BREAKER_PROBE;
}

enum breaker_verdict
breaker_allow(void)
{
	switch (load_state()) {
	case BREAKER_OPEN:
		return allow_open();
	case BREAKER_HALF_OPEN:
		return allow_half_open();
	default:
		/* Closed (or a corrupt segment: rather not lock etcd out). */
		return BREAKER_PASS;
	}
}

void
breaker_success(void)
{
	int32_t state = load_state();

	__atomic_store_n(&breaker()->consecutive_failures, 0, __ATOMIC_RELEASE);
	while (state != BREAKER_CLOSED) {
		/* A failed swap reloads state: someone else may have closed it. */
		if (swap_state(state, BREAKER_CLOSED)) {
			log_info("etcd circuit breaker %s -> closed: etcd answered "
			    "after %u probes", state_name(state),
			    __atomic_load_n(&breaker()->probes, __ATOMIC_RELAXED));
			break;
		}
		state = load_state();
	}
}

/* The probe (or a call that started earlier) failed: another cool-down. */
static void
reopen(const char *why)
{
	uint32_t probe;

	/* The timestamp first, so nobody sees "open" with a stale cool-down. */
	__atomic_store_n(&breaker()->opened_at_us, clock_monotonic_us(),
	    __ATOMIC_RELEASE);
	if (!swap_state(BREAKER_HALF_OPEN, BREAKER_OPEN))
		return;
	__atomic_add_fetch(&breaker()->opened_total, 1, __ATOMIC_RELAXED);
	probe = __atomic_load_n(&breaker()->probes, __ATOMIC_RELAXED);
	if (probe_logged(probe))
		log_warn("etcd circuit breaker half_open -> open: probe %u failed: "
		    "%s", probe, why);
}

static void
open_closed(uint32_t failures, const char *why)
{
	/* One of the racing callers opens it; the others see it open. */
	__atomic_store_n(&breaker()->opened_at_us, clock_monotonic_us(),
	    __ATOMIC_RELEASE);
	if (!swap_state(BREAKER_CLOSED, BREAKER_OPEN))
		return;
	__atomic_store_n(&breaker()->probes, 0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&breaker()->opened_total, 1, __ATOMIC_RELAXED);
	log_warn("etcd circuit breaker closed -> open after %u consecutive "
	    "failures, the last: %s; calls to etcd fail at once, one probe per "
	    "%d ms", failures, why, BREAKER_COOLDOWN_US / 1000);
}

void
breaker_failure(const char *why)
{
	uint32_t failures;

	if (why == NULL || *why == '\0')
		why = "unknown error";
	failures = __atomic_add_fetch(&breaker()->consecutive_failures, 1,
	    __ATOMIC_ACQ_REL);
	switch (load_state()) {
	case BREAKER_HALF_OPEN:
		reopen(why);
		break;
	case BREAKER_CLOSED:
		if (failures >= BREAKER_THRESHOLD)
			open_closed(failures, why);
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
