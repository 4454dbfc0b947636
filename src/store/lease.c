/*
 * Leases over the store's etcd client; see lease.h for the contract.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "etcd/etcd.h"
#include "store/lease.h"
#include "store/store_impl.h"

static void
lease_fill(struct store_lease *lease, int64_t id, int64_t ttl, int64_t asked_at)
{
	lease->id = id;
	lease->ttl = ttl;
	lease->expires_us = asked_at + ttl * 1000000;
}

/* A lease etcd does not know is gone; anything else is the store's failure. */
static enum store_result
lease_failure(const struct etcd_error *error, const char *what)
{
	if (error->status == ETCD_NOT_FOUND)
		return STORE_NOT_FOUND;
	return store_etcd_failure(error, what);
}

enum store_result
store_lease_grant(struct store_ctx *ctx, int64_t ttl, struct store_lease *lease)
{
	struct etcd_client *etcd = store_etcd_for(ctx);
	struct etcd_error error;
	int64_t asked_at = clock_realtime_us(), id, granted;
	enum store_result rc;

	memset(lease, 0, sizeof(*lease));
	if (etcd == NULL)
		return STORE_FAILED;
	if (etcd_lease_grant(etcd, ttl, &id, &granted, &error) != ETCD_OK) {
		rc = store_etcd_failure(&error, "lease grant");
		/* No key can be on a lease whose grant we never heard of. */
		return rc == STORE_OUTCOME_UNKNOWN ? STORE_UNAVAILABLE : rc;
	}
	lease_fill(lease, id, granted > 0 ? granted : ttl, asked_at);
	return STORE_OK;
}

enum store_result
store_lease_keepalive(struct store_ctx *ctx, int64_t id, struct store_lease *lease)
{
	struct etcd_client *etcd = store_etcd_for(ctx);
	struct etcd_error error;
	int64_t asked_at = clock_realtime_us(), ttl;

	memset(lease, 0, sizeof(*lease));
	if (etcd == NULL)
		return STORE_FAILED;
	if (etcd_lease_keepalive(etcd, id, &ttl, &error) != ETCD_OK)
		return lease_failure(&error, "lease keep-alive");
	lease_fill(lease, id, ttl, asked_at);
	return STORE_OK;
}

enum store_result
store_lease_revoke(struct store_ctx *ctx, int64_t id)
{
	struct etcd_client *etcd = store_etcd_for(ctx);
	struct etcd_error error;

	if (etcd == NULL)
		return STORE_FAILED;
	if (etcd_lease_revoke(etcd, id, &error) != ETCD_OK)
		return lease_failure(&error, "lease revoke");
	return STORE_OK;
}

enum store_result
store_lease_ttl(struct store_ctx *ctx, int64_t id, struct store_lease *lease)
{
	struct etcd_client *etcd = store_etcd_for(ctx);
	struct etcd_error error;
	int64_t asked_at = clock_realtime_us(), ttl, granted;

	memset(lease, 0, sizeof(*lease));
	if (etcd == NULL)
		return STORE_FAILED;
	if (etcd_lease_timetolive(etcd, id, &ttl, &granted, &error) != ETCD_OK)
		return lease_failure(&error, "lease time-to-live");
	if (ttl < 0)
		return STORE_NOT_FOUND;
	lease_fill(lease, id, ttl, asked_at);
	return STORE_OK;
}

void
store_lease_hex(int64_t id, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)id);
}

int64_t
store_lease_parse_hex(const char *text)
{
	uint64_t id = 0;
	size_t i;
	int d;

	for (i = 0; text[i] != '\0'; i++) {
		if (i == 16 || (d = hex_digit((unsigned char)text[i])) == -1 ||
		    (text[i] >= 'A' && text[i] <= 'F'))
			return 0;
		id = id << 4 | (uint64_t)d;
	}
	/* etcd's lease ids are positive int64s; the text is exactly ours. */
	return i == 16 && id > 0 && id <= INT64_MAX ? (int64_t)id : 0;
}
