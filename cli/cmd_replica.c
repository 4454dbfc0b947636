/*
 * dynconfctl replica verify|rebuild: this node's SQLite replica against
 * etcd.
 *
 * verify reads the replica's rows and its applied revision A in one read
 * transaction, and etcd's keys at that same revision A: two views of one
 * moment, whatever the watcher does meanwhile. Every key that differs
 * (missing from the replica, extra in it, or another value or revision) is
 * then looked at again, in the replica and in etcd's latest revision, so
 * that a change the watcher has not applied yet, or a write-through ahead
 * of it, is not taken for damage: what still differs, where the replica
 * should have it, is reported.
 *
 * rebuild loads every key from etcd at one revision and swaps it in as one
 * transaction, as the watcher's own snapshot does, refusing to go back
 * below what the replica has applied (unless --force). It then has the
 * pool drop its cached reads of the old rows (tell_pool).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/shared.h"
#include "base/util.h"
#include "ctl.h"
#include "store/replica.h"

#define REBUILD_PAGE 1000
#define REBUILD_TRIES 3

/* One key as either side holds it (strings malloc'd). */
struct entry {
	char		*key;
	char		*value;
	size_t		 value_len;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 lease;
};

struct entries {
	struct entry	*items;
	size_t		 count;
	size_t		 cap;
};

static void
entries_add(struct entries *e, const char *key, const char *value,
    size_t value_len, int64_t create, int64_t mod, int64_t version, int64_t lease)
{
	struct entry *x;

	if (e->count == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 1024;
		e->items = xrealloc(e->items, e->cap * sizeof(*e->items));
	}
	x = &e->items[e->count++];
	x->key = xstrdup(key);
	x->value = xmalloc(value_len + 1);
	memcpy(x->value, value, value_len);
	x->value[value_len] = '\0';
	x->value_len = value_len;
	x->create_revision = create;
	x->mod_revision = mod;
	x->version = version;
	x->lease = lease;
}

static void
entries_free(struct entries *e)
{
	size_t i;

	for (i = 0; i < e->count; i++) {
		free(e->items[i].key);
		free(e->items[i].value);
	}
	free(e->items);
	memset(e, 0, sizeof(*e));
}

static int
add_row(void *arg, const struct replica_row *row)
{
	entries_add(arg, row->key, row->value, row->value_len, row->create_revision,
	    row->mod_revision, row->version, row->lease);
	return 0;
}

static int
add_kv(void *arg, const char *key, const struct etcd_kv *kv)
{
	/* The audit trail's records: the replica keeps their rows, not them. */
	if (strncmp(key, "audit/", 6) == 0)
		return 0;
	entries_add(arg, key, kv->value, kv->value_len, kv->create_revision,
	    kv->mod_revision, kv->version, kv->lease);
	return 0;
}

/* What differs between two entries of one key: "" when nothing does. */
static const char *
difference(const struct entry *e, const struct entry *r)
{
	if (e->value_len != r->value_len || memcmp(e->value, r->value, e->value_len) != 0)
		return "value";
	if (e->mod_revision != r->mod_revision)
		return "mod_revision";
	if (e->create_revision != r->create_revision)
		return "create_revision";
	if (e->version != r->version)
		return "version";
	if (e->lease != r->lease)
		return "lease";
	return "";
}

struct verify {
	struct replica		*replica;
	struct etcd_client	*etcd;
	long			 differences;
	int			 failed;
};

/*
 * A key that differed at the common revision, looked at again: 1 if it
 * still differs where the replica should already be in step with etcd.
 */
static int
still_differs(struct verify *v, const char *key, const char **what,
    int64_t *etcd_rev, int64_t *replica_rev)
{
	struct etcd_range_options options;
	struct etcd_range_result now;
	struct etcd_error error;
	struct replica_row row;
	struct entry e, r;
	struct arena arena;
	char *full = xmalloc(strlen(conf.etcd.prefix) + strlen(key) + 1);
	int64_t applied = 0;
	int in_replica, in_etcd, result = 0;

	sprintf(full, "%s%s", conf.etcd.prefix, key);
	memset(&error, 0, sizeof(error));
	memset(&options, 0, sizeof(options));
	memset(&now, 0, sizeof(now));
	arena_init(&arena);
	if (etcd_range(v->etcd, full, strlen(full), &options, &now, &error) != ETCD_OK ||
	    (in_replica = replica_get(v->replica, key, &arena, &row)) == -1 ||
	    replica_applied_revision(v->replica, &applied) == -1) {
		ctl_error("%s: cannot look again: %s", key, error.message);
		v->failed = 1;
		goto done;
	}
	in_etcd = now.count > 0;
	memset(&e, 0, sizeof(e));
	memset(&r, 0, sizeof(r));
	if (in_etcd)
		e = (struct entry){ NULL, now.kvs[0].value, now.kvs[0].value_len,
		    now.kvs[0].create_revision, now.kvs[0].mod_revision,
		    now.kvs[0].version, now.kvs[0].lease };
	if (in_replica)
		r = (struct entry){ NULL, (char *)row.value, row.value_len,
		    row.create_revision, row.mod_revision, row.version, row.lease };
	*etcd_rev = e.mod_revision;
	*replica_rev = r.mod_revision;
	/* Newer in etcd than the replica has applied: still on its way. */
	if ((in_etcd ? e.mod_revision : now.revision) > applied)
		goto done;
	*what = !in_replica ? (in_etcd ? "missing" : "") : !in_etcd ? "extra" :
	    difference(&e, &r);
	result = (*what)[0] != '\0';
done:
	etcd_range_result_free(&now);
	arena_free(&arena);
	free(full);
	return result;
}

static void
report(struct verify *v, const char *key)
{
	const char *what = "";
	int64_t etcd_rev = 0, replica_rev = 0;

	if (!still_differs(v, key, &what, &etcd_rev, &replica_rev))
		return;
	v->differences++;
	if (strcmp(what, "missing") == 0)
		printf("missing\t%s\tetcd revision %lld, not in the replica\n", key,
		    (long long)etcd_rev);
	else if (strcmp(what, "extra") == 0)
		printf("extra\t%s\treplica revision %lld, not in etcd\n", key,
		    (long long)replica_rev);
	else
		printf("differs\t%s\t%s (etcd revision %lld, replica revision %lld)\n",
		    key, what, (long long)etcd_rev, (long long)replica_rev);
}

/* Walk both key-ordered lists together; look again at every mismatch. */
static void
compare(struct verify *v, const struct entries *etcd, const struct entries *rep)
{
	size_t i = 0, j = 0;

	while (i < etcd->count || j < rep->count) {
		int order = i == etcd->count ? 1 : j == rep->count ? -1 :
		    strcmp(etcd->items[i].key, rep->items[j].key);

		if (order < 0)
			report(v, etcd->items[i++].key);
		else if (order > 0)
			report(v, rep->items[j++].key);
		else {
			if (difference(&etcd->items[i], &rep->items[j])[0] != '\0')
				report(v, etcd->items[i].key);
			i++;
			j++;
		}
	}
}

/* etcd at the replica's revision, or at the latest if that one is compacted. */
static int
read_etcd(struct verify *v, int64_t applied, struct entries *etcd, int64_t *at)
{
	struct etcd_error error;
	int rc;

	*at = applied;
	rc = ctl_scan(v->etcd, "", at, add_kv, etcd, &error);
	if (rc == ETCD_COMPACTED) {
		entries_free(etcd);
		*at = 0;
		rc = ctl_scan(v->etcd, "", at, add_kv, etcd, &error);
	}
	return rc == ETCD_OK ? 0 : ctl_etcd_failed(&error);
}

int
cmd_replica_verify(int argc, char **argv)
{
	struct entries etcd = { 0 }, rep = { 0 };
	struct verify v;
	int64_t applied = 0, at;
	int rc = CTL_FAILED;

	if (ctl_getopt(argc, argv, ":", NULL) != -1 ||
	    ctl_operands(argc, argv, 0, 0, "") != 0)
		return CTL_USAGE;
	memset(&v, 0, sizeof(v));
	if ((v.etcd = ctl_etcd()) == NULL || (v.replica = ctl_open_replica(1)) == NULL)
		goto done;
	if (!replica_snapshot_complete(v.replica)) {
		ctl_error("the replica at %s holds no snapshot yet: nothing to verify",
		    conf.replica.path);
		goto done;
	}
	if (replica_scan(v.replica, &applied, add_row, &rep) == -1) {
		ctl_error("cannot read the replica at %s", conf.replica.path);
		goto done;
	}
	if (read_etcd(&v, applied, &etcd, &at) != 0)
		goto done;
	compare(&v, &etcd, &rep);
	if (!v.failed) {
		fprintf(stderr, "dynconfctl: replica verify: %zu keys in etcd, %zu in "
		    "the replica at revision %lld: %ld difference%s\n", etcd.count,
		    rep.count, (long long)applied, v.differences,
		    v.differences == 1 ? "" : "s");
		rc = v.differences > 0 ? CTL_DIFFERENT : CTL_OK;
	}
done:
	entries_free(&etcd);
	entries_free(&rep);
	replica_close(v.replica);
	if (v.etcd != NULL)
		etcd_client_free(v.etcd);
	return rc;
}

struct load {
	struct replica		*replica;
	struct replica_row	 rows[REBUILD_PAGE];
	struct arena		 arena;
	size_t			 count;
	size_t			 total;
	int			 failed;
};

static int
load_flush(struct load *l)
{
	if (l->count > 0 && replica_snapshot_add(l->replica, l->rows, l->count) == -1)
		l->failed = 1;
	l->total += l->count;
	l->count = 0;
	arena_free(&l->arena);
	arena_init(&l->arena);
	return l->failed;
}

static int
load_kv(void *arg, const char *key, const struct etcd_kv *kv)
{
	struct load *l = arg;
	struct replica_row *row = &l->rows[l->count++];

	memset(row, 0, sizeof(*row));
	row->key = arena_strdup(&l->arena, key);
	row->value = arena_strndup(&l->arena, kv->value, kv->value_len);
	row->value_len = kv->value_len;
	row->create_revision = kv->create_revision;
	row->mod_revision = kv->mod_revision;
	row->version = kv->version;
	row->lease = kv->lease;
	row->updated_at = clock_realtime_us();
	return l->count == REBUILD_PAGE ? load_flush(l) : 0;
}

/*
 * Retire every responder's cached reads of the old rows. A standalone pool
 * (its master named in the state file) reloads on SIGHUP: its responders
 * start afresh. Under spawn-fcgi the file is the pool's own segment: its
 * replica generation moves.
 */
static void
tell_pool(void)
{
	const struct shared_state *seen = shared_peek(conf.server.metrics_file);
	int32_t master = seen != NULL ? seen->pool.master_pid : -1;

	if (master > 0) {
		if (kill(master, SIGHUP) == 0)
			fprintf(stderr, "dynconfctl: replica rebuild: the pool (master %ld) "
			    "reloads, so that no responder keeps a cached read\n",
			    (long)master);
	} else if (master == 0 && shared_attach(conf.server.metrics_file) == 0) {
		__atomic_fetch_add(&shared()->replica.local_writes, 1, __ATOMIC_RELEASE);
	}
}

/* One attempt: 0 done, -2 the replica is ahead of etcd's read, -1 failed. */
static int
rebuild_once(struct load *l, struct etcd_client *etcd, int force, int64_t *at)
{
	struct etcd_error error;
	int rc;

	*at = 0;
	l->count = l->total = 0;
	l->failed = 0;
	arena_init(&l->arena);
	if (replica_snapshot_begin(l->replica) == -1)
		return -1;
	rc = ctl_scan(etcd, "", at, load_kv, l, &error);
	load_flush(l);
	arena_free(&l->arena);
	if (rc != ETCD_OK) {
		ctl_etcd_failed(&error);
		return -1;
	}
	if (l->failed)
		return -1;
	return replica_snapshot_replace(l->replica, *at, force);
}

static const struct option rebuild_options[] = {
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_replica_rebuild(int argc, char **argv)
{
	static struct load l;
	struct etcd_client *etcd;
	int64_t at = 0, applied = 0;
	int ch, force = 0, tries, rc = -2;

	while ((ch = ctl_getopt(argc, argv, ":f", rebuild_options)) != -1) {
		if (ch != 'f')
			return CTL_USAGE;
		force = 1;
	}
	if (ctl_operands(argc, argv, 0, 0, "") != 0)
		return CTL_USAGE;
	if ((etcd = ctl_etcd()) == NULL)
		return CTL_FAILED;
	if ((l.replica = ctl_open_replica(0)) != NULL) {
		/* The watcher may move past etcd's read meanwhile: read again. */
		for (tries = 0; tries < REBUILD_TRIES && rc == -2; tries++)
			rc = rebuild_once(&l, etcd, force, &at);
		replica_applied_revision(l.replica, &applied);
	}
	etcd_client_free(etcd);
	if (rc == -2)
		ctl_error("the replica has applied revision %lld, etcd is at %lld: "
		    "was etcd replaced? stop the pool, then rebuild with --force",
		    (long long)applied, (long long)at);
	else if (rc == 0) {
		ctl_become_root();
		tell_pool();
		fprintf(stderr, "dynconfctl: replica rebuilt: %zu keys at revision "
		    "%lld\n", l.total, (long long)at);
	}
	replica_close(l.replica);
	return rc == 0 ? CTL_OK : CTL_FAILED;
}
