/*
 * Shared pieces of the etcd client tests (check_etcd*.c): the suites, and
 * helpers to reach the etcd under test. The tests run against a real etcd
 * named by DYNCONF_TEST_ETCD (DYNCONF_TEST_ETCD_AUTH for the auth tests,
 * DYNCONF_TEST_ETCD_TLS for the TLS ones); every key they write lives
 * under a prefix unique to the run.
 */
#ifndef CHECK_ETCD_H
#define CHECK_ETCD_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "base/buf.h"
#include "etcd/etcd.h"

extern const char *test_endpoint;	/* NULL: no etcd, offline suites only */
extern const char *test_auth_endpoint;
extern const char *test_auth_password;
extern const char *test_tls_endpoint;	/* https, --client-cert-auth */
extern const char *test_tls_dir;	/* ca.pem, client.pem, client-key.pem */
extern char test_prefix[64];		/* "/dynconf-test/<run>/" */

/* A client for endpoints (test_endpoint if NULL) with a 3 s timeout. */
struct etcd_client *test_client(const char *endpoints, int use_breaker);
/* test_prefix + name, in a static buffer of the caller (out, 256 bytes). */
const char *test_key(char *out, const char *name);
/* POST body to endpoint+path with libcurl alone; the HTTP status, answer in out. */
long	raw_post(const char *endpoint, const char *path, const char *body,
	    const char *token, struct buf *out);
/* The current revision of the etcd under test. */
int64_t	current_revision(void);
/* A loopback port with nothing listening (connections are refused). */
int	dead_port(void);
/* A loopback listener that never accepts; *port is its port. Returns the fd. */
int	blackhole(int *port);
/* Put a string key to a string value, asserting success; returns the revision. */
int64_t	put_str(struct etcd_client *c, const char *key, const char *value);
void	sleep_ms(int ms);

Suite	*suite_offline(void);
Suite	*suite_outcome(void);
Suite	*suite_kv(void);
Suite	*suite_txn_lease(void);
Suite	*suite_watch(void);
Suite	*suite_net(void);
Suite	*suite_auth(void);
Suite	*suite_tls(void);

#endif
