/*
 * etcd client tests: transactions, leases (each claim of etcd.h's lease
 * contract) and member status against a real etcd.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "check_etcd.h"

static struct etcd_compare
cmp_number(const char *key, enum etcd_compare_target target,
    enum etcd_compare_result result, int64_t number)
{
	struct etcd_compare cmp;

	memset(&cmp, 0, sizeof(cmp));
	cmp.key = key;
	cmp.key_len = strlen(key);
	cmp.target = target;
	cmp.result = result;
	cmp.number = number;
	return cmp;
}

static struct etcd_op
op_of(enum etcd_op_type type, const char *key, const char *value)
{
	struct etcd_op op;

	memset(&op, 0, sizeof(op));
	op.type = type;
	op.key = key;
	op.key_len = strlen(key);
	op.value = value;
	op.value_len = value != NULL ? strlen(value) : 0;
	op.prev_kv = type != ETCD_OP_RANGE;
	return op;
}

static int
run_txn(struct etcd_client *c, const struct etcd_compare *cmp, size_t ncmp,
    const struct etcd_op *ok, size_t nok, const struct etcd_op *ko, size_t nko,
    struct etcd_txn_result *r)
{
	struct etcd_txn txn = { cmp, ncmp, ok, nok, ko, nko };
	struct etcd_error err;
	enum etcd_status rc;

	rc = etcd_txn(c, &txn, r, &err);
	ck_assert_msg(rc == ETCD_OK, "txn: %s", err.message);
	return r->succeeded;
}

START_TEST(txn_version_branches)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_txn_result r;
	struct etcd_compare cmp;
	struct etcd_op ok[2], ko[1];
	char key[256];

	test_key(key, "txn/version");
	cmp = cmp_number(key, ETCD_CMP_VERSION, ETCD_CMP_EQUAL, 0);
	ok[0] = op_of(ETCD_OP_PUT, key, "created");
	ok[1] = op_of(ETCD_OP_RANGE, key, NULL);
	ko[0] = op_of(ETCD_OP_RANGE, key, NULL);
	/* Absent key: version 0, the success branch. */
	ck_assert_int_eq(run_txn(c, &cmp, 1, ok, 2, ko, 1, &r), 1);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_int_eq(r.results[0].type, ETCD_OP_PUT);
	ck_assert_uint_eq(r.results[0].range.count, 0);	/* no previous kv */
	ck_assert_int_eq(r.results[1].type, ETCD_OP_RANGE);
	ck_assert_uint_eq(r.results[1].range.count, 1);
	ck_assert_str_eq(r.results[1].range.kvs[0].value, "created");
	ck_assert_int_eq(r.results[1].range.kvs[0].mod_revision, r.revision);
	etcd_txn_result_free(&r);
	/* Now it exists: the failure branch ("succeeded" left out). */
	ck_assert_int_eq(run_txn(c, &cmp, 1, ok, 2, ko, 1, &r), 0);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_int_eq(r.results[0].type, ETCD_OP_RANGE);
	ck_assert_str_eq(r.results[0].range.kvs[0].value, "created");
	etcd_txn_result_free(&r);
	etcd_client_free(c);
}
END_TEST

START_TEST(txn_create_mod_revisions)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_txn_result r;
	struct etcd_compare cmp[2];
	struct etcd_op ok[1], ko[1];
	char key[256];
	int64_t rev;

	test_key(key, "txn/revs");
	rev = put_str(c, key, "v");
	cmp[0] = cmp_number(key, ETCD_CMP_CREATE, ETCD_CMP_EQUAL, rev);
	cmp[1] = cmp_number(key, ETCD_CMP_MOD, ETCD_CMP_EQUAL, rev);
	ok[0] = op_of(ETCD_OP_DELETE, key, NULL);
	ko[0] = op_of(ETCD_OP_PUT, key, "again");
	ck_assert_int_eq(run_txn(c, cmp, 2, ok, 1, ko, 1, &r), 1);
	ck_assert_int_eq(r.results[0].type, ETCD_OP_DELETE);
	ck_assert_int_eq(r.results[0].deleted, 1);
	ck_assert_uint_eq(r.results[0].range.count, 1);
	ck_assert_str_eq(r.results[0].range.kvs[0].value, "v");
	etcd_txn_result_free(&r);
	/* Gone: mod_revision 0 is not greater than 0, so the put runs. */
	cmp[0] = cmp_number(key, ETCD_CMP_MOD, ETCD_CMP_GREATER, 0);
	ck_assert_int_eq(run_txn(c, cmp, 1, ok, 1, ko, 1, &r), 0);
	ck_assert_int_eq(r.results[0].type, ETCD_OP_PUT);
	ck_assert_int_eq(r.results[0].range.revision, r.revision);
	rev = r.revision;
	etcd_txn_result_free(&r);
	/* Created by that put: create_revision < rev + 1. */
	cmp[0] = cmp_number(key, ETCD_CMP_CREATE, ETCD_CMP_LESS, rev + 1);
	ck_assert_int_eq(run_txn(c, cmp, 1, NULL, 0, NULL, 0, &r), 1);
	ck_assert_uint_eq(r.count, 0);
	etcd_txn_result_free(&r);
	etcd_client_free(c);
}
END_TEST

START_TEST(txn_value)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_txn_result r;
	struct etcd_compare cmp;
	struct etcd_op ok[1], ko[1];
	char key[256];

	test_key(key, "txn/value");
	put_str(c, key, "x");
	memset(&cmp, 0, sizeof(cmp));
	cmp.key = key;
	cmp.key_len = strlen(key);
	cmp.target = ETCD_CMP_VALUE;
	cmp.result = ETCD_CMP_EQUAL;
	cmp.value = "x";
	cmp.value_len = 1;
	ok[0] = op_of(ETCD_OP_PUT, key, "y");
	ko[0] = op_of(ETCD_OP_DELETE, key, NULL);
	ck_assert_int_eq(run_txn(c, &cmp, 1, ok, 1, ko, 1, &r), 1);
	/* prev_kv of the put: the old value. */
	ck_assert_uint_eq(r.results[0].range.count, 1);
	ck_assert_str_eq(r.results[0].range.kvs[0].value, "x");
	etcd_txn_result_free(&r);
	cmp.result = ETCD_CMP_NOT_EQUAL;
	cmp.value = "y";
	ck_assert_int_eq(run_txn(c, &cmp, 1, ok, 1, ko, 1, &r), 0);
	ck_assert_int_eq(r.results[0].type, ETCD_OP_DELETE);
	ck_assert_int_eq(r.results[0].deleted, 1);
	etcd_txn_result_free(&r);
	etcd_client_free(c);
}
END_TEST

START_TEST(txn_lease)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_txn_result r;
	struct etcd_compare cmp;
	struct etcd_error err;
	struct etcd_op op;
	char key[256];
	int64_t lease;

	test_key(key, "txn/lease");
	ck_assert_int_eq(etcd_lease_grant(c, 30, &lease, NULL, &err), ETCD_OK);
	ck_assert_int_eq(etcd_put(c, key, strlen(key), "l", 1, lease, NULL, &err),
	    ETCD_OK);
	cmp = cmp_number(key, ETCD_CMP_LEASE, ETCD_CMP_EQUAL, lease);
	op = op_of(ETCD_OP_RANGE, key, NULL);
	ck_assert_int_eq(run_txn(c, &cmp, 1, &op, 1, NULL, 0, &r), 1);
	ck_assert_int_eq(r.results[0].range.kvs[0].lease, lease);
	etcd_txn_result_free(&r);
	cmp.number = 0;
	ck_assert_int_eq(run_txn(c, &cmp, 1, &op, 1, NULL, 0, &r), 0);
	etcd_txn_result_free(&r);
	ck_assert_int_eq(etcd_lease_revoke(c, lease, &err), ETCD_OK);
	etcd_client_free(c);
}
END_TEST

/* One of two racing writers: 1 if its compare-and-set won. */
static int
racing_writer(const char *key, int64_t rev, int barrier, const char *value)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_txn_result r;
	struct etcd_compare cmp;
	struct etcd_error err;
	struct etcd_txn txn;
	struct etcd_op op;
	char byte;
	int won;

	cmp = cmp_number(key, ETCD_CMP_MOD, ETCD_CMP_EQUAL, rev);
	op = op_of(ETCD_OP_PUT, key, value);
	txn = (struct etcd_txn){ &cmp, 1, &op, 1, NULL, 0 };
	while (read(barrier, &byte, 1) > 0)
		continue;
	if (etcd_txn(c, &txn, &r, &err) != ETCD_OK)
		return 2;
	won = r.succeeded;
	etcd_txn_result_free(&r);
	etcd_client_free(c);
	return won;
}

/* No compare, one op: sent as a plain put or delete, answered as a txn. */
START_TEST(txn_single_op_without_compare)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_txn_result r;
	struct etcd_op op;
	char key[256];
	int64_t first;

	test_key(key, "txn/single");
	op = op_of(ETCD_OP_PUT, key, "one");
	ck_assert_int_eq(run_txn(c, NULL, 0, &op, 1, NULL, 0, &r), 1);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_int_eq(r.results[0].type, ETCD_OP_PUT);
	ck_assert_uint_eq(r.results[0].range.count, 0);	/* nothing before */
	first = r.revision;
	ck_assert_int_gt(first, 0);
	etcd_txn_result_free(&r);
	op = op_of(ETCD_OP_PUT, key, "two");
	ck_assert_int_eq(run_txn(c, NULL, 0, &op, 1, NULL, 0, &r), 1);
	ck_assert_int_gt(r.revision, first);
	ck_assert_uint_eq(r.results[0].range.count, 1);
	ck_assert_str_eq(r.results[0].range.kvs[0].value, "one");
	ck_assert_int_eq(r.results[0].range.kvs[0].mod_revision, first);
	ck_assert_int_eq(r.results[0].range.kvs[0].version, 1);
	etcd_txn_result_free(&r);
	op = op_of(ETCD_OP_DELETE, key, NULL);
	ck_assert_int_eq(run_txn(c, NULL, 0, &op, 1, NULL, 0, &r), 1);
	ck_assert_int_eq(r.results[0].type, ETCD_OP_DELETE);
	ck_assert_int_eq(r.results[0].deleted, 1);
	ck_assert_uint_eq(r.results[0].range.count, 1);
	ck_assert_str_eq(r.results[0].range.kvs[0].value, "two");
	etcd_txn_result_free(&r);
	ck_assert_int_eq(run_txn(c, NULL, 0, &op, 1, NULL, 0, &r), 1);
	ck_assert_int_eq(r.results[0].deleted, 0);
	etcd_txn_result_free(&r);
	etcd_client_free(c);
}
END_TEST

START_TEST(txn_conflict)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_result rr;
	struct etcd_error err;
	int fds[2], status, wins = 0, i;
	char key[256], value[2] = "0";
	pid_t pids[2];
	int64_t rev;

	test_key(key, "txn/conflict");
	rev = put_str(c, key, "start");
	ck_assert_int_eq(pipe(fds), 0);
	for (i = 0; i < 2; i++) {
		value[0] = (char)('1' + i);
		if ((pids[i] = fork()) == 0) {
			close(fds[1]);
			_exit(racing_writer(key, rev, fds[0], value));
		}
	}
	close(fds[0]);
	close(fds[1]);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) <= 1);
		wins += WEXITSTATUS(status);
	}
	ck_assert_int_eq(wins, 1);
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &rr, &err), ETCD_OK);
	ck_assert(strcmp(rr.kvs[0].value, "1") == 0 ||
	    strcmp(rr.kvs[0].value, "2") == 0);
	ck_assert_int_eq(rr.kvs[0].version, 2);
	etcd_range_result_free(&rr);
	etcd_client_free(c);
}
END_TEST

START_TEST(txn_invalid_compare)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_txn_result r;
	struct etcd_compare cmp;
	struct etcd_error err;
	struct etcd_txn txn;

	cmp = cmp_number("k", (enum etcd_compare_target)99, ETCD_CMP_EQUAL, 0);
	txn = (struct etcd_txn){ &cmp, 1, NULL, 0, NULL, 0 };
	ck_assert_int_eq(etcd_txn(c, &txn, &r, &err), ETCD_ERROR);
	ck_assert_uint_eq(r.count, 0);
	etcd_client_free(c);
}
END_TEST

START_TEST(lease_lifecycle)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_result r;
	struct etcd_error err;
	int64_t id, ttl, granted, rev;
	char key[256], key2[256];

	ck_assert_int_eq(etcd_lease_grant(c, 30, &id, &granted, &err), ETCD_OK);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(granted, 30);
	ck_assert_int_eq(etcd_lease_timetolive(c, id, &ttl, &granted, &err),
	    ETCD_OK);
	ck_assert(ttl > 0 && ttl <= 30);
	ck_assert_int_eq(granted, 30);
	ck_assert_int_eq(etcd_lease_keepalive(c, id, &ttl, &err), ETCD_OK);
	ck_assert_int_eq(ttl, 30);
	test_key(key, "lease/on");
	ck_assert_int_eq(etcd_put(c, key, strlen(key), "x", 1, id, NULL, &err),
	    ETCD_OK);
	test_key(key2, "lease/on2");
	ck_assert_int_eq(etcd_put(c, key2, strlen(key2), "y", 1, id, &rev, &err),
	    ETCD_OK);
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err), ETCD_OK);
	ck_assert_int_eq(r.kvs[0].lease, id);
	etcd_range_result_free(&r);
	ck_assert_int_eq(etcd_lease_revoke(c, id, &err), ETCD_OK);
	/* Revoking deletes the keys on the lease, both in one revision. */
	ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err), ETCD_OK);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_int_eq(r.revision, rev + 1);
	etcd_range_result_free(&r);
	ck_assert_int_eq(etcd_range(c, key2, strlen(key2), NULL, &r, &err), ETCD_OK);
	ck_assert_uint_eq(r.count, 0);
	etcd_range_result_free(&r);
	/* Gone: time-to-live says so with -1, not with a status. */
	ck_assert_int_eq(etcd_lease_timetolive(c, id, &ttl, &granted, &err),
	    ETCD_OK);
	ck_assert_int_eq(ttl, -1);
	ck_assert_int_eq(granted, 0);
	ttl = 99;
	ck_assert_int_eq(etcd_lease_keepalive(c, id, &ttl, &err), ETCD_NOT_FOUND);
	ck_assert_int_eq(err.code, 5);
	ck_assert_int_eq(ttl, 0);
	ck_assert_int_eq(etcd_lease_revoke(c, id, &err), ETCD_NOT_FOUND);
	ck_assert_int_eq(err.code, 5);
	/* A put on a lease that is gone: an error answer. */
	ck_assert_int_eq(etcd_put(c, key, strlen(key), "x", 1, id, NULL, &err),
	    ETCD_NOT_FOUND);
	etcd_client_free(c);
}
END_TEST

START_TEST(lease_expiry)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_range_result r;
	struct etcd_error err;
	int64_t id, ttl, granted, started;
	char key[256];
	int gone = 0;

	ck_assert_int_eq(etcd_lease_grant(c, 2, &id, &granted, &err), ETCD_OK);
	ck_assert_int_eq(granted, 2);
	test_key(key, "lease/expiring");
	ck_assert_int_eq(etcd_put(c, key, strlen(key), "x", 1, id, NULL, &err),
	    ETCD_OK);
	started = clock_monotonic_us();
	sleep_ms(2500);
	/* etcd checks expiry every 500 ms: allow ~3 s, then some slack. */
	while (!gone && clock_monotonic_us() - started < 6000000) {
		ck_assert_int_eq(etcd_range(c, key, strlen(key), NULL, &r, &err),
		    ETCD_OK);
		gone = r.count == 0;
		etcd_range_result_free(&r);
		if (!gone)
			sleep_ms(100);
	}
	ck_assert_msg(gone, "key still there 6 s after a 2 s lease");
	ck_assert_int_eq(etcd_lease_timetolive(c, id, &ttl, &granted, &err),
	    ETCD_OK);
	ck_assert_int_eq(ttl, -1);
	ck_assert_int_eq(granted, 0);
	/* Expired is not found: never renewed, nothing to revoke. */
	ck_assert_int_eq(etcd_lease_keepalive(c, id, &ttl, &err), ETCD_NOT_FOUND);
	ck_assert_int_eq(ttl, 0);
	ck_assert_int_eq(etcd_lease_revoke(c, id, &err), ETCD_NOT_FOUND);
	ck_assert_int_eq(etcd_put(c, key, strlen(key), "x", 1, id, NULL, &err),
	    ETCD_NOT_FOUND);
	etcd_client_free(c);
}
END_TEST

/* etcd raises a short ttl to its minimum, and refuses one too long. */
START_TEST(lease_grant_bounds)
{
	static const int64_t short_ttls[] = { 1, 0, -5 };
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_error err;
	int64_t id, granted, minimum = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(short_ttls); i++) {
		ck_assert_int_eq(etcd_lease_grant(c, short_ttls[i], &id, &granted,
		    &err), ETCD_OK);
		ck_assert_int_gt(id, 0);
		if (i == 0)
			minimum = granted;
		/* 2 s with etcd's default election timeout. */
		ck_assert_msg(granted == minimum && granted >= 2,
		    "ttl %lld granted %lld", (long long)short_ttls[i],
		    (long long)granted);
		ck_assert_int_eq(etcd_lease_revoke(c, id, NULL), ETCD_OK);
	}
	id = granted = 7;
	ck_assert_int_eq(etcd_lease_grant(c, 9000000001LL, &id, &granted, &err),
	    ETCD_ERROR);
	ck_assert_int_eq(err.code, 11);
	ck_assert_msg(strstr(err.message, "too large lease TTL") != NULL, "%s",
	    err.message);
	ck_assert_int_eq(id, 0);
	ck_assert_int_eq(granted, 0);
	/* granted_ttl and error may be NULL. */
	ck_assert_int_eq(etcd_lease_grant(c, 9000000000LL, &id, NULL, NULL),
	    ETCD_OK);
	ck_assert_int_eq(etcd_lease_revoke(c, id, NULL), ETCD_OK);
	etcd_client_free(c);
}
END_TEST

/* A keep-alive restarts the full TTL; time-to-live counts it down. */
START_TEST(lease_keepalive_renews)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_error err;
	int64_t id, ttl, granted;

	ck_assert_int_eq(etcd_lease_grant(c, 5, &id, &granted, &err), ETCD_OK);
	ck_assert_int_eq(granted, 5);
	sleep_ms(1200);
	ck_assert_int_eq(etcd_lease_timetolive(c, id, &ttl, NULL, &err), ETCD_OK);
	ck_assert_msg(ttl >= 2 && ttl <= 3, "%lld s left of 5 after 1.2 s",
	    (long long)ttl);
	ck_assert_int_eq(etcd_lease_keepalive(c, id, &ttl, &err), ETCD_OK);
	ck_assert_int_eq(ttl, 5);
	ck_assert_int_eq(etcd_lease_timetolive(c, id, &ttl, &granted, &err),
	    ETCD_OK);
	ck_assert_msg(ttl >= 4 && ttl <= 5, "%lld s left just after a keep-alive",
	    (long long)ttl);
	ck_assert_int_eq(granted, 5);
	/* A keep-alive with no TTL wanted, and no error. */
	ck_assert_int_eq(etcd_lease_keepalive(c, id, NULL, NULL), ETCD_OK);
	ck_assert_int_eq(etcd_lease_revoke(c, id, &err), ETCD_OK);
	etcd_client_free(c);
}
END_TEST

/* An id etcd never granted (ids are large: 12345 is none of them). */
START_TEST(lease_unknown)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_error err;
	int64_t ttl = 99, granted = 99;
	const int64_t ids[] = { 12345, 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		ttl = 99;
		ck_assert_int_eq(etcd_lease_keepalive(c, ids[i], &ttl, &err),
		    ETCD_NOT_FOUND);
		ck_assert_int_eq(err.code, 5);
		ck_assert_int_eq(ttl, 0);
		ck_assert_int_eq(etcd_lease_revoke(c, ids[i], &err), ETCD_NOT_FOUND);
		ck_assert_int_eq(err.code, 5);
		ttl = granted = 99;
		ck_assert_int_eq(etcd_lease_timetolive(c, ids[i], &ttl, &granted,
		    &err), ETCD_OK);
		ck_assert_int_eq(ttl, -1);
		ck_assert_int_eq(granted, 0);
	}
	etcd_client_free(c);
}
END_TEST

/* No etcd: every call is ETCD_UNAVAILABLE with its outputs as documented. */
START_TEST(lease_unreachable)
{
	char endpoint[64];
	struct etcd_client *c;
	struct etcd_error err;
	int64_t id = 7, ttl = 7, granted = 7;

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", dead_port());
	c = test_client(endpoint, 0);
	ck_assert_int_eq(etcd_lease_grant(c, 30, &id, &granted, &err),
	    ETCD_UNAVAILABLE);
	ck_assert_int_eq(id, 0);
	ck_assert_int_eq(granted, 0);
	ck_assert_int_eq(etcd_lease_keepalive(c, 12345, &ttl, &err),
	    ETCD_UNAVAILABLE);
	ck_assert_int_eq(ttl, 0);
	granted = 7;
	ck_assert_int_eq(etcd_lease_timetolive(c, 12345, &ttl, &granted, &err),
	    ETCD_UNAVAILABLE);
	ck_assert_int_eq(ttl, -1);
	ck_assert_int_eq(granted, 0);
	ck_assert_int_eq(etcd_lease_revoke(c, 12345, &err), ETCD_UNAVAILABLE);
	ck_assert_int_eq(etcd_lease_revoke(c, 12345, NULL), ETCD_UNAVAILABLE);
	etcd_client_free(c);
}
END_TEST

START_TEST(member_status)
{
	struct etcd_client *c = test_client(NULL, 0);
	struct etcd_status_result st;
	struct etcd_error err;

	ck_assert_int_eq(etcd_status(c, &st, &err), ETCD_OK);
	ck_assert_int_eq(strncmp(st.version, "3.", 2), 0);
	ck_assert_int_gt(st.revision, 0);
	ck_assert_int_ne(st.leader, 0);
	ck_assert_int_ne(st.member_id, 0);
	/* A single member leads itself. */
	ck_assert_int_eq(st.leader, st.member_id);
	ck_assert_int_gt(st.raft_term, 0);
	ck_assert_int_gt(st.db_size, 0);
	etcd_client_free(c);
}
END_TEST

Suite *
suite_txn_lease(void)
{
	Suite *s = suite_create("etcd txn lease status");
	TCase *tc = tcase_create("txn");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, txn_version_branches);
	tcase_add_test(tc, txn_create_mod_revisions);
	tcase_add_test(tc, txn_value);
	tcase_add_test(tc, txn_lease);
	tcase_add_test(tc, txn_conflict);
	tcase_add_test(tc, txn_single_op_without_compare);
	tcase_add_test(tc, txn_invalid_compare);
	suite_add_tcase(s, tc);
	tc = tcase_create("lease");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, lease_lifecycle);
	tcase_add_test(tc, lease_expiry);
	tcase_add_test(tc, lease_grant_bounds);
	tcase_add_test(tc, lease_keepalive_renews);
	tcase_add_test(tc, lease_unknown);
	tcase_add_test(tc, lease_unreachable);
	tcase_add_test(tc, member_status);
	suite_add_tcase(s, tc);
	return s;
}
